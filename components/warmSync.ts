import * as pulumi from "@pulumi/pulumi";
import { Machine } from "./config";
import { folderResourceName, pullScript, SyncStats } from "../machinery/folderSync";
import { PeerAccess } from "./migrationKey";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";

export interface WarmSyncArgs {
    dest: Machine;
    dataFolders: string[];
    /** Changing it runs every folder's rsync again. */
    round: number;
    pullAccess: PeerAccess;
    transport: Transport;
}

/**
 * "Transfer user data" while source still serves: one rsync per data folder, repeated
 * when the round counter changes. Its copies of live database files are only a head
 * start: the cold sync of the cutover supersedes them. Nothing to undo.
 */
export class WarmSync extends pulumi.ComponentResource {
    public readonly stats: pulumi.Output<SyncStats[]>;

    constructor(name: string, args: WarmSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:WarmSync", name, {}, opts);
        const { dest, dataFolders, round, pullAccess, transport } = args;
        const rounds = dataFolders.map((folder) =>
            declareStep(
                `${name}-${folderResourceName(folder)}`,
                { machine: dest, create: pullScript(dest, pullAccess, folder, `warm-${round}`), triggers: [round] },
                transport,
                { parent: this },
            ).stdout.apply((stdout) => jsonLines<SyncStats>(stdout)[0]),
        );
        this.stats = pulumi.all(rounds);
        this.registerOutputs({ stats: this.stats });
    }
}
