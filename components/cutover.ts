import * as pulumi from "@pulumi/pulumi";
import { folderKey, Machine, SyncSettings } from "../config";
import { CopyDescription, PeerAccess, peerRsyncValues, pullLogName, pullScript, SyncStats } from "../machinery/folderSync";
import { declareStep, jsonLines, RemoteStep, StepDefinition, Transport, undoRecord } from "../machinery/remoteStep";
import { NginxAlone, proxyServingScript, ServiceCheck, startServicesScript, stopServicesScript, stopSourceScript } from "../machinery/services";
import { render } from "../machinery/templates";
import {
    ChangesBeforeStop,
    DestRoom,
    destRoomInput,
    FolderChanges,
    FolderDescription,
    finalRoundInput,
    folderWorkOf,
    maxJournalPaths,
    Outage,
    outageOf,
    spanOf,
} from "./cutoverReports";
import { estimateOutage, OutageEstimate, priorityOf, sendRate, sourceDescriptionWork } from "./outageEstimate";

export interface CutoverArgs {
    source: Machine;
    dest: Machine;
    dataFolders: string[];
    check: ServiceCheck;
    /** dest reads source's data folders. */
    pullAccess: PeerAccess;
    /** source reads dest's data folders, on rollback. */
    carryBackAccess: PeerAccess;
    sync: SyncSettings;
    /** The last warm round: its change journal lists what the final round copies. */
    warmSyncRound: number;
    /** Each folder's last warm round, and dest's start measured in prepare: the outage estimate made before source stops. */
    warmRounds: pulumi.Input<SyncStats[]>;
    destStartSeconds: pulumi.Input<number>;
    /** Starts source's nginx alone, on the proxy file, and lists what runs on source then. */
    nginxAlone: NginxAlone;
    /** Source's proxy file in place and source's undo recorded (SourceProxy). */
    sourceSwitched: pulumi.Resource[];
    /** Where, on source, a carry-back keeps what it replaces or deletes. */
    keepAside: string;
    /** The operator declared dest lost (config destLost): undos give up what only dest holds. */
    destLost: boolean;
    transport: Transport;
}

/**
 * The cold part of "Transfer user data", dest started, and source proxying to it, in one
 * `pulumi up`. Every undo is in the state before the step it undoes acts, and runs
 * safely whether that step ran, ran partly or never ran. Deleted in reverse, which is
 * the rollback: dest stopped, the writes dest took carried back to source (what they
 * replace kept aside), source's original nginx file back, source started.
 */
export class Cutover extends pulumi.ComponentResource {
    public readonly coldSync: pulumi.Output<SyncStats[]>;
    public readonly verified: pulumi.Output<FolderDescription[]>;
    public readonly destDescribed: pulumi.Output<CopyDescription[]>;
    public readonly contentVerified: pulumi.Output<{ folder: string; filesCompared: number }[]>;
    public readonly coldSyncSeconds: pulumi.Output<number>;
    public readonly outage: pulumi.Output<Outage>;
    public readonly outageEstimate: pulumi.Output<OutageEstimate>;

    constructor(name: string, args: CutoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:Cutover", name, {}, opts);
        const { source, dest, dataFolders, check, pullAccess, carryBackAccess, sync, transport } = args;
        const { migrationId } = transport;
        const step = (suffix: string, definition: StepDefinition, dependsOn: (RemoteStep | pulumi.Resource)[]): RemoteStep =>
            declareStep(`${name}-${suffix}`, definition, transport, {
                parent: this,
                dependsOn: dependsOn.map((s) => ("resource" in s ? s.resource : s)),
            });

        // Dest described before source stops, while users are still served: each final round
        // then describes its copy from this and what it touched, not by walking every entry.
        // Before dest is marked taken over: found marked, it stops and describes nothing (a
        // stack upgraded during its cutover, whose dest may serve already).
        const destDescription = step(
            "dest-description",
            {
                machine: dest,
                create: render("dest-description.sh", {
                    migrationId,
                    stopCommand: dest.stopCommand,
                    confRoot: dest.confRoot,
                    folders: dataFolders.map((folder) => ({ folder, key: folderKey(folder) })),
                }),
            },
            args.sourceSwitched,
        );
        // Before the final rounds write anything on dest: no warm round overwrites dest until the carry-backs (deleted before it) ran.
        const destTakenOver = step(
            "dest-taken-over",
            { machine: dest, create: render("cutover-began.sh", { migrationId }), delete: render("cutover-carried-back.sh", { migrationId }) },
            [...args.sourceSwitched, destDescription],
        );
        // Source still serving: what would stop the final round with users locked out refuses the cutover here instead.
        const changesBeforeStop = step(
            "changes-before-stop",
            {
                machine: source,
                create: render("changes-before-stop.sh", {
                    migrationId,
                    round: args.warmSyncRound,
                    confRoot: source.confRoot,
                    folders: dataFolders,
                    maxDeletions: sync.maxDeletions,
                }),
            },
            args.sourceSwitched,
        );
        const destRoom = step(
            "dest-room",
            {
                machine: dest,
                create: render("dest-room.sh", { confRoot: dest.confRoot }),
                stdin: changesBeforeStop.stdout.apply((stdout) => destRoomInput(jsonLines<ChangesBeforeStop>(stdout))),
            },
            [changesBeforeStop],
        );
        this.outageEstimate = pulumi
            .all([changesBeforeStop.stdout, destRoom.stdout, args.warmRounds, args.destStartSeconds])
            .apply(([changes, room, warm, destStartSeconds]) =>
                estimateOutage(
                    "made before source stopped, from its change journal",
                    folderWorkOf(jsonLines<ChangesBeforeStop>(changes), jsonLines<DestRoom>(room), warm),
                    destStartSeconds,
                    sendRate(warm),
                ),
            );
        const destReachable = step(
            "dest-reachable",
            {
                machine: source,
                create: render("carry-back-reachable.sh", {
                    folders: dataFolders.map((folder) => ({ folder, ...peerRsyncValues(source, carryBackAccess, folder) })),
                    peerAddress: carryBackAccess.peerAddress,
                    count: dataFolders.length,
                }),
            },
            args.sourceSwitched,
        );
        // Recorded before source stops, so that users do not wait for them: on rollback dest is
        // stopped first, then its writes are carried back, each carry-back only once dest may
        // have served (dest-may-serve, on source, just before dest's start).
        const carryBacks = dataFolders.map((folder) =>
            declareStep(
                `${name}-carry-back-${folderKey(folder)}`,
                undoRecord(source, {
                    why: "recorded before source stops, so that a rollback carries dest's writes back even after a crash; it carries nothing unless dest was started.",
                    message: `on rollback, ${folder} is carried back from dest if dest was started`,
                    undo: pullScript({
                        receiver: source,
                        peerRole: "dest",
                        access: carryBackAccess,
                        folder,
                        migrationId,
                        sync,
                        round: { kind: "carry-back", keepAside: args.keepAside },
                    }),
                }),
                transport,
                // With dest lost there is nothing to carry back: the step leaves the stack without running.
                { parent: this, dependsOn: [destTakenOver.resource], retainOnDelete: args.destLost ? true : undefined },
            ),
        );
        const destBack = step(
            "dest-back",
            undoRecord(dest, {
                why: "recorded before source stops, so that a rollback stops dest even after a crash.",
                message: "on rollback, dest is stopped",
                undo: stopServicesScript(dest),
            }),
            carryBacks,
        );
        const stopSource = step(
            "stop-source",
            {
                machine: source,
                create: stopSourceScript(source, args.nginxAlone, migrationId, { round: args.warmSyncRound, dataFolders, maxPaths: maxJournalPaths }),
            },
            [...args.sourceSwitched, destRoom, destReachable, destBack],
        );
        // Source is frozen from here on: its description is made while dest copies, with the check that nothing but nginx runs there.
        const sourceDescription = step(
            "source-description",
            {
                machine: source,
                create: render("data-manifest.sh", {
                    runningCommand: args.nginxAlone.runningCommand,
                    service: args.nginxAlone.service,
                    confRoot: source.confRoot,
                    migrationId,
                    folders: dataFolders.map((folder) => ({ folder, key: folderKey(folder) })),
                }),
                stdin: this.outageEstimate.apply((estimate) => `${priorityOf(estimate, sourceDescriptionWork)}\n`),
            },
            [stopSource],
        );
        const expectedDigests = sourceDescription.stdout.apply((stdout) => jsonLines<FolderDescription>(stdout));
        // After the stop's own line, what the change journal says of each folder.
        const changed = stopSource.stdout.apply((stdout) =>
            jsonLines<Partial<FolderChanges>>(stdout).filter((line): line is FolderChanges => line.folder !== undefined),
        );
        const destCopyOf = (finalStdout: string): CopyDescription | undefined => jsonLines<CopyDescription>(finalStdout)[1];
        const perFolder = dataFolders.map((folder) => {
            const finalSync = step(
                `final-sync-${folderKey(folder)}`,
                {
                    machine: dest,
                    create: pullScript({ receiver: dest, peerRole: "source", access: pullAccess, folder, migrationId, sync, round: { kind: "cold" } }),
                    stdin: pulumi.all([changed, this.outageEstimate]).apply(([all, estimate]) =>
                        finalRoundInput(
                            all.find((entry) => entry.folder === folder),
                            priorityOf(estimate, folder),
                        ),
                    ),
                },
                [stopSource, destTakenOver],
            );
            const verify = step(
                `verify-${folderKey(folder)}`,
                {
                    machine: dest,
                    create: pulumi.all([expectedDigests, finalSync.stdout]).apply(([sourceFolders, finalStdout]) => {
                        const expected = sourceFolders.find((entry) => entry.folder === folder);
                        if (expected?.metadataDigest === undefined) throw new pulumi.ResourceError(`${folder} is missing on source`, this);
                        // The final round's second line; a round without one (run by an older version of
                        // this program) compares as different, and the folder is copied and described again.
                        const destCopy = destCopyOf(finalStdout);
                        return render("verify-copy.sh", {
                            ...peerRsyncValues(dest, pullAccess, folder),
                            migrationId,
                            folder,
                            key: folderKey(folder),
                            expected: expected.metadataDigest,
                            described: destCopy?.metadataDigest ?? "",
                            contentChecked: destCopy?.contentChecked ?? 0,
                            maxDeletions: sync.maxDeletions,
                            refilledList: `${pullLogName({ kind: "cold" }, folder)}.refilled`,
                        });
                    }),
                },
                [finalSync, sourceDescription],
            );
            return { folder, finalSync, verify };
        });
        const verifies = perFolder.map((entry) => entry.verify);
        // The last mark before dest may take a user's write: from here on a rollback carries dest's data back.
        const destMayServe = step("dest-may-serve", { machine: source, create: render("dest-may-serve.sh", { migrationId }) }, verifies);
        const startDest = step("start-dest", { machine: dest, create: startServicesScript(dest, check, { stopAfterwards: false }) }, [destMayServe]);
        const proxyServing = step("proxy-serving", { machine: source, create: proxyServingScript(check) }, [startDest]);
        const contentChecks = dataFolders.map((folder) =>
            step(
                `verify-content-${folderKey(folder)}`,
                {
                    machine: dest,
                    create: render("verify-content.sh", {
                        ...peerRsyncValues(dest, pullAccess, folder),
                        migrationId,
                        folder,
                        key: folderKey(folder),
                        coldLog: pullLogName({ kind: "cold" }, folder),
                    }),
                },
                [proxyServing],
            ),
        );

        const firstLine = <T>(stdout: string): T => jsonLines<T>(stdout)[0];
        this.coldSync = pulumi.all(perFolder.map((entry) => entry.finalSync.stdout.apply((stdout) => firstLine<SyncStats>(stdout))));
        this.verified = expectedDigests;
        this.destDescribed = pulumi
            .all(perFolder.map((entry) => entry.finalSync.stdout.apply(destCopyOf)))
            .apply((described) => described.filter((line): line is CopyDescription => line !== undefined));
        this.contentVerified = pulumi.all(
            contentChecks.map((check) => check.stdout.apply((stdout) => firstLine<{ folder: string; filesCompared: number }>(stdout))),
        );
        this.coldSyncSeconds = this.coldSync.apply(spanOf);
        const verifyTimes = pulumi.all(verifies.map((verify) => verify.stdout.apply((stdout) => firstLine<{ verifiedAt: number }>(stdout).verifiedAt)));
        this.outage = pulumi
            .all([stopSource.stdout, startDest.stdout, proxyServing.stdout, this.coldSync, verifyTimes])
            .apply(([stopped, started, serving, cold, verifiedAt]) =>
                outageOf({
                    stop: firstLine(stopped),
                    destStart: firstLine(started),
                    serving: firstLine(serving),
                    cold,
                    verifiedAt,
                }),
            );
        this.registerOutputs({
            coldSync: this.coldSync,
            verified: this.verified,
            destDescribed: this.destDescribed,
            contentVerified: this.contentVerified,
            outage: this.outage,
            outageEstimate: this.outageEstimate,
        });
    }
}
