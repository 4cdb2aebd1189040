import * as pulumi from "@pulumi/pulumi";
import { folderKey, Machine, SyncSettings } from "../config";
import { PeerAccess, pullScript, SyncStats } from "../machinery/folderSync";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { render } from "../machinery/templates";

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
    /** Steps that are not folders' copies and run while users wait, each about this long. */
    stepOverheadSeconds?: number;
    transport: Transport;
}

/** Whether source records its changes for the final round, and why not. */
export interface ChangeJournal {
    journal: boolean;
    reason?: string;
}

/** What the cutover would cost users now, from the last warm round. */
export interface CutoverEstimate {
    seconds: number;
    coldSyncSeconds: number;
    destStartSeconds: number;
    basis: string;
}

// Steps run one after the other while users wait: stop source, copy, verify, start dest, proxy reaches dest.
const sequentialSteps = 5;

/**
 * "Transfer user data" while source still serves: one rsync per data folder, repeated
 * when the round counter changes. Its copies of live database files are only a head
 * start: the cold sync of the cutover supersedes them. Nothing to undo.
 */
export class WarmSync extends pulumi.ComponentResource {
    public readonly stats: pulumi.Output<SyncStats[]>;
    public readonly cutoverEstimate: pulumi.Output<CutoverEstimate>;
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
        const overhead = args.stepOverheadSeconds ?? 0.5;
        this.cutoverEstimate = pulumi.all([this.stats, args.destStartSeconds]).apply(([stats, destStartSeconds]) => {
            // Folders are copied in parallel; a round that repeats the last one's changes takes about as long.
            const coldSyncSeconds = Math.max(...stats.map((s) => s.finishedAt - s.startedAt));
            const seconds = coldSyncSeconds + destStartSeconds + sequentialSteps * overhead;
            return {
                seconds: Math.round(seconds * 10) / 10,
                coldSyncSeconds: Math.round(coldSyncSeconds * 10) / 10,
                destStartSeconds,
                basis:
                    `an upper bound: the slowest folder's last warm round (${stats.reduce((n, s) => n + s.changedFiles, 0)} files, ` +
                    `${stats.reduce((n, s) => n + s.bytesReceived, 0)} bytes received), which compared every file, while a final round ` +
                    `that has source's change journal copies only what changed since; dest's start measured in prepare; ` +
                    `${sequentialSteps} steps at ${overhead}s. Run another warm round just before the cutover to bring it down`,
            };
        });
        this.registerOutputs({ stats: this.stats, cutoverEstimate: this.cutoverEstimate });
    }
}
