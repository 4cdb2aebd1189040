// The users' outage the cutover will cost, computed from what is known before source stops:
// the paths source's change journal lists and the bytes under them (changes-before-stop),
// how much of those bytes dest already holds (dest-room), each folder's last warm round, and
// dest's start measured in prepare. Pure, so that the model is tested on its own.
import { SyncStats } from "../machinery/folderSync";
import { maxJournalPaths, Outage, Priority } from "./cutoverReports";

/** What one folder's final round and verification will do, as known before source stops. */
export interface FolderWork {
    folder: string;
    /** The final round copies the journal's list; without it, it walks every file as the last warm round did. */
    journal: boolean;
    /** Paths the final round handles: listed (a listed directory as itself) and deleted. */
    paths: number;
    /** Bytes under the listed paths that dest already holds: rsync compares them block by block, reading them on both ends. */
    heldBytes: number;
    /** Bytes dest does not hold yet: sent whole. */
    newBytes: number;
    /** The folder's entries (from the last warm round): source's description walks them, dest's after the round patches its description of them. */
    entries: number;
    /** The folder's last warm round, in seconds: what a round that walks every file takes. */
    warmSeconds: number;
}

/**
 * The costs the estimate counts, each measured on the bench (2 cores,
 * both machines and every round sharing them; `bench/levers.md`): a faster machine or
 * a folder with fewer entries makes the figure an upper bound.
 */
export interface OutageModel {
    /** Source's services stopped and its nginx alone serving the proxy file. */
    sourceProxyStartedSeconds: number;
    /** A final round that has nothing to copy: ssh, rsync's handshake, its logs. */
    roundSetupSeconds: number;
    /** Each path a round is handed: rsync's list, a file created or a deletion. */
    perPathSeconds: number;
    /** Bytes a round compares block by block per second, while the other rounds and the walks share the CPUs. */
    heldBytesPerSecond: number;
    /** A description of an empty folder: source's walk of every folder, a final round's patch of dest's. */
    walkSetupSeconds: number;
    /** Each entry source's description walks (at nice 10, while the rounds run). */
    perEntryWalkedSeconds: number;
    /** Each entry of dest's description before the stop that a final round's patch reads and writes again. */
    perEntryPatchedSeconds: number;
    /** Dest's start with its data, against its start on an empty dest in prepare. */
    destStartFactor: number;
    /** The engine, ssh and the steps' own bookkeeping between source's stop and dest serving. */
    betweenStepsSeconds: number;
}

/**
 * Fitted to the default profile's runs of 2026-12-07 04:30 and 04:58, step by step, and
 * the cost of a walk per entry to the large profile's run of 09:21 (1.5 million entries:
 * source's description 21.7 s, dest's verification of them 24.8 s), which the default's
 * 120,000 entries priced a third too high (`bench/levers.md`). A final round's patch of
 * dest's description: 1.0 s for 1,010,000 entries with 11,000 paths touched, measured on
 * its own (the same patch and walk in `patch-description.hbs`; the walk took 36 s).
 */
export const measuredModel: OutageModel = {
    sourceProxyStartedSeconds: 0.75,
    roundSetupSeconds: 0.8,
    perPathSeconds: 0.0002,
    heldBytesPerSecond: 210e6,
    walkSetupSeconds: 0.5,
    perEntryWalkedSeconds: 0.000015,
    perEntryPatchedSeconds: 0.000001,
    destStartFactor: 1.35,
    betweenStepsSeconds: 1.95,
};

/** The estimate, in the shape of the outage the cutover then reports, so that the two read side by side. */
export interface OutageEstimate extends Outage {
    /** What each folder's final round and verification were expected to do, and to take. */
    folders: (FolderWork & { round: number; verify: number })[];
    /** Source's description of every folder, from source's stop: the other side of every verification. */
    sourceDescription: number;
    /** What is expected to end last (`leadingWork`): it takes the CPUs as they come, the rest of the window yields to it. */
    leading?: string;
    basis: string;
}

const tenth = (value: number): number => Math.round(value * 10) / 10;

/**
 * Folders are copied all at once while source describes every folder; each round then
 * describes dest's copy (patching dest's description made before the stop), each folder is verified once both descriptions are done (their
 * comparison costs nothing the hops between steps do not count), and dest starts after
 * the last verification. `madeFrom` says what the figures are (the basis's first words);
 * `newBytesPerSecond` is the fastest warm round's rate: the link and rsync as they ran on
 * these machines.
 */
export function estimateOutage(
    madeFrom: string,
    folders: FolderWork[],
    destStartSeconds: number,
    newBytesPerSecond: number,
    model: OutageModel = measuredModel,
): OutageEstimate {
    const perFolder = folders.map((work) => ({
        ...work,
        round: tenth(
            work.journal
                ? model.roundSetupSeconds + work.paths * model.perPathSeconds + work.heldBytes / model.heldBytesPerSecond + work.newBytes / newBytesPerSecond
                : work.warmSeconds,
        ),
        verify: tenth(model.walkSetupSeconds + work.entries * model.perEntryPatchedSeconds),
    }));
    const described = model.walkSetupSeconds + folders.reduce((n, work) => n + work.entries, 0) * model.perEntryWalkedSeconds;
    const coldSync = Math.max(0, ...perFolder.map((work) => work.round));
    const verified = Math.max(0, ...perFolder.map((work) => Math.max(work.round + work.verify, described)));
    const steps = {
        sourceProxyStarted: model.sourceProxyStartedSeconds,
        coldSync,
        verify: tenth(verified - coldSync),
        destStart: tenth(destStartSeconds * model.destStartFactor),
        betweenSteps: model.betweenStepsSeconds,
    };
    const walked = folders.filter((work) => !work.journal).map((work) => work.folder);
    const sourceDescription = tenth(described);
    return {
        seconds: tenth(Object.values(steps).reduce((sum, value) => sum + value, 0)),
        steps,
        folders: perFolder,
        sourceDescription,
        leading: leadingWork(perFolder, sourceDescription),
        basis:
            `${madeFrom}: ${folders.reduce((n, w) => n + w.paths, 0)} paths, ` +
            `${folders.reduce((n, w) => n + w.heldBytes, 0)} bytes dest holds compared block by block, ${folders.reduce((n, w) => n + w.newBytes, 0)} sent whole` +
            (walked.length > 0 ? `; the last warm round's time for ${walked.join(", ")} (no journal: walked)` : "") +
            `; dest's start in prepare (${destStartSeconds} s) times ${model.destStartFactor}; costs measured on the bench's default and large profiles`,
    };
}

/** Source's description of every folder, as `leadingWork` names it beside the folders. */
export const sourceDescriptionWork = "source's description";

/**
 * What the estimate expects to end last of the work that shares the CPUs from source's stop: a
 * folder (its final round with dest's side of its verification) or source's description of
 * every folder. A tie goes to the first folder, then to the rounds.
 */
export function leadingWork(folders: { folder: string; round: number; verify: number }[], sourceDescription: number): string | undefined {
    let leading: (typeof folders)[number] | undefined;
    for (const work of folders) if (leading === undefined || work.round + work.verify > leading.round + leading.verify) leading = work;
    if (leading === undefined) return undefined;
    return sourceDescription > leading.round + leading.verify ? sourceDescriptionWork : leading.folder;
}

/** The priority of a folder's final round, or of source's description (`sourceDescriptionWork`): only what is expected to end last leads. */
export const priorityOf = (estimate: OutageEstimate, work: string): Priority => (estimate.leading === work ? "lead" : "yield");

/** The fastest warm round's rate, in bytes received per second: the link and rsync as they ran on these machines. */
export const sendRate = (rounds: SyncStats[]): number =>
    Math.max(1, ...rounds.map((round) => round.bytesReceived / Math.max(0.001, round.finishedAt - round.startedAt)));

/**
 * A final round right after this warm round, if users change about what they changed
 * during it: the files the round wrote, what it received of them sent whole and the rest of
 * their bytes compared block by block. After a first round, which copied everything, an
 * upper bound; the cutover makes its own estimate from the journal before source stops.
 */
export function repeatedRoundWork(rounds: SyncStats[], journal: boolean): FolderWork[] {
    return rounds.map((round) => ({
        folder: round.folder,
        journal: journal && round.changedFiles <= maxJournalPaths,
        paths: round.changedFiles,
        heldBytes: Math.max(0, round.bytesTransferred - round.bytesReceived),
        newBytes: Math.min(round.bytesReceived, round.bytesTransferred),
        entries: round.files,
        warmSeconds: round.finishedAt - round.startedAt,
    }));
}
