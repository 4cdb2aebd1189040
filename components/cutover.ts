import * as pulumi from "@pulumi/pulumi";
import { Machine } from "./config";
import { folderResourceName, pullScript, SyncStats } from "../machinery/folderSync";
import { PeerAccess } from "./migrationKey";
import { declareStep, jsonLines, RemoteStep, Transport } from "../machinery/remoteStep";
import { ServiceCheck, startServicesScript, stopServicesScript } from "../machinery/services";
import { render } from "../machinery/templates";

export interface CutoverArgs {
    source: Machine;
    dest: Machine;
    dataFolders: string[];
    check: ServiceCheck;
    /** dest reads source's data folders. */
    pullAccess: PeerAccess;
    /** source reads dest's data folders, on rollback. */
    carryBackAccess: PeerAccess;
    transport: Transport;
}

export interface FolderManifest {
    folder: string;
    entries?: number;
    bytes?: number;
    digest?: string;
    missing?: boolean;
}

/**
 * The cold part of "Transfer user data" (steps 5 and 6), then dest started. Created in
 * procedure order; deleted in reverse, which is the rollback: dest stopped, the writes
 * dest took carried back to source (through source's own narrow key), source started.
 */
export class Cutover extends pulumi.ComponentResource {
    public readonly coldSync: pulumi.Output<SyncStats[]>;
    public readonly verified: pulumi.Output<FolderManifest[]>;
    public readonly coldSyncSeconds: pulumi.Output<number>;
    public readonly downtimeSeconds: pulumi.Output<number>;

    constructor(name: string, args: CutoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:Cutover", name, {}, opts);
        const { source, dest, dataFolders, check, pullAccess, carryBackAccess, transport } = args;
        const step = (suffix: string, definition: Parameters<typeof declareStep>[1], dependsOn: RemoteStep[]): RemoteStep =>
            declareStep(`${name}-${suffix}`, definition, transport, { parent: this, dependsOn: dependsOn.map((s) => s.resource) });

        const stopSource = step(
            "stop-source",
            { machine: source, create: stopServicesScript(source), delete: startServicesScript(source, check, { stopAfterwards: false }) },
            [],
        );
        const finalSyncs = dataFolders.map((folder) =>
            step(`final-sync-${folderResourceName(folder)}`, { machine: dest, create: pullScript(dest, pullAccess, folder, "cold") }, [stopSource]),
        );
        const manifest = (machine: Machine, expected: string | false): string =>
            render("data-manifest.sh", { confRoot: machine.confRoot, folders: dataFolders, expected });
        const sourceManifest = step("source-manifest", { machine: source, create: manifest(source, false) }, finalSyncs);
        const verify = step("verify", { machine: dest, create: sourceManifest.stdout.apply((expected) => manifest(dest, expected.trimEnd())) }, [
            sourceManifest,
        ]);
        const carryBacks = dataFolders.map((folder) =>
            step(
                `carry-back-${folderResourceName(folder)}`,
                {
                    machine: source,
                    create: render("step-marker.sh", { message: `on rollback, ${folder} is carried back from dest` }),
                    delete: pullScript(source, carryBackAccess, folder, "carry-back"),
                },
                [verify],
            ),
        );
        const startDest = step(
            "start-dest",
            { machine: dest, create: startServicesScript(dest, check, { stopAfterwards: false }), delete: stopServicesScript(dest) },
            carryBacks,
        );

        this.coldSync = pulumi.all(finalSyncs.map((sync) => sync.stdout.apply((stdout) => jsonLines<SyncStats>(stdout)[0])));
        this.verified = verify.stdout.apply((stdout) => jsonLines<FolderManifest>(stdout));
        this.coldSyncSeconds = this.coldSync.apply((stats) =>
            seconds(Math.max(...stats.map((s) => s.finishedAt)) - Math.min(...stats.map((s) => s.startedAt))),
        );
        this.downtimeSeconds = pulumi
            .all([stopSource.stdout, startDest.stdout])
            .apply(([stopped, started]) =>
                seconds(jsonLines<{ healthyAt: number }>(started)[0].healthyAt - jsonLines<{ stoppedAt: number }>(stopped)[0].stoppedAt),
            );
        this.registerOutputs({
            coldSync: this.coldSync,
            verified: this.verified,
            coldSyncSeconds: this.coldSyncSeconds,
            downtimeSeconds: this.downtimeSeconds,
        });
    }
}

const seconds = (value: number): number => Math.round(value * 100) / 100;
