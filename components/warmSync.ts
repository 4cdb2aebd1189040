import * as pulumi from "@pulumi/pulumi";
import { folderKey, Machine, SyncSettings } from "../config";
import { PeerAccess, pullScript, SyncStats } from "../machinery/folderSync";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { render } from "../machinery/templates";
import { estimateOutage, OutageEstimate, repeatedRoundWork, sendRate } from "./outageEstimate";

export interface WarmSyncArgs {
    /** Records the changes from the start of each round (the change journal). */
    source: Machine;
    dest: Machine;
    dataFolders: string[];
    /** Changing it runs every folder's rsync again. */
    round: number;
    pullAccess: PeerAccess;
    sync: SyncSettings;
    /** dest may hold users' writes (from the cutover on, and on the way back until the carry-back): a changed round must not sync (and stop) it. */
    frozen: boolean;
    /** The last measured start of dest's services (prepare's check), for the estimate. */
    destStartSeconds: pulumi.Output<number>;
    transport: Transport;
}

/** Whether source records its changes for the final round, and why not. */
export interface ChangeJournal {
    journal: boolean;
    reason?: string;
}

/**
 * "Transfer user data" while source still serves: one rsync per data folder, repeated
 * when the round counter changes. Its copies of live database files are only a head
 * start: the cold sync of the cutover supersedes them. Nothing to undo.
 */
export class WarmSync extends pulumi.ComponentResource {
    public readonly stats: pulumi.Output<SyncStats[]>;
    /** What the cutover would cost users right after this round (outageEstimate.ts). */
    public readonly cutoverEstimate: pulumi.Output<OutageEstimate>;
    public readonly journal: pulumi.Output<ChangeJournal>;

    constructor(name: string, args: WarmSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:WarmSync", name, {}, opts);
        const { source, dest, dataFolders, round, pullAccess, sync, transport } = args;
        const { migrationId } = transport;
        // Started before the round copies anything, so that every change the round may miss is in the journal.
        const journal = declareStep(
            `${name}-change-journal`,
            {
                machine: source,
                create: render("change-journal-start.sh", { migrationId, round, confRoot: source.confRoot, folders: dataFolders }),
                delete: render("change-journal-stop.sh", { migrationId, round }),
                triggers: [round],
            },
            transport,
            { parent: this, ignoreChanges: args.frozen ? ["triggers"] : [] },
        );
        this.journal = journal.stdout.apply((stdout) => jsonLines<ChangeJournal>(stdout)[0]);
        const rounds = dataFolders.map((folder) =>
            declareStep(
                `${name}-${folderKey(folder)}`,
                {
                    machine: dest,
                    create: pullScript({ receiver: dest, peerRole: "source", access: pullAccess, folder, migrationId, sync, round: { kind: "warm", round } }),
                    triggers: [round],
                },
                transport,
                { parent: this, dependsOn: [journal.resource], ignoreChanges: args.frozen ? ["triggers"] : [] },
            ).stdout.apply((stdout) => jsonLines<SyncStats>(stdout)[0]),
        );
        this.stats = pulumi.all(rounds);
        this.cutoverEstimate = pulumi
            .all([this.stats, this.journal, args.destStartSeconds])
            .apply(([stats, changeJournal, destStartSeconds]) =>
                estimateOutage(
                    `made after warm round ${round}, as if the cutover followed at once and users changed as much as during it (after a first round, which copied everything, an upper bound; the cutover makes its own before source stops)`,
                    repeatedRoundWork(stats, changeJournal.journal),
                    destStartSeconds,
                    sendRate(stats),
                ),
            );
        this.registerOutputs({ stats: this.stats, cutoverEstimate: this.cutoverEstimate });
    }
}
