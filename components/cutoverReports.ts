// What the cutover's steps print and read, as pure data: folder descriptions, the change
// journal's lists, the room dest needs, and where the users' outage went.
import { SyncStats } from "../machinery/folderSync";
import { FolderWork } from "./outageEstimate";

/** A folder as the verification described it on one machine. */
export interface FolderDescription {
    folder: string;
    entries?: number;
    bytes?: number;
    metadataDigest?: string;
    missing?: boolean;
}

/** What changed under one folder since the last warm round began, from source's change journal. */
export interface FolderChanges {
    folder: string;
    journal: boolean;
    paths?: number;
    /** NUL-separated paths relative to the folder, in base64. */
    list?: string;
    reason?: string;
    /** For a walk: files whose mtime is later than this (epoch seconds, source's clock) are compared by their blocks; 0: every file. */
    since?: number;
}

/**
 * Past this many changed paths in a folder, its final round walks every file instead. Each
 * listed path is carried four times in the stack's state (changes-before-stop's output,
 * dest-room's input, source's stop's output, the final round's input): about 420 bytes at
 * the bench's path lengths, 21 MB at this bound. Below it a list is far cheaper than a walk
 * inside the outage: at 1,000,000 attachments, 22,542 changed paths listed against a walk
 * of every file that took 55 s (bench/levers.md).
 */
export const maxJournalPaths = 50000;

/**
 * Whether a step of the window takes the CPUs it shares with the others as they come (`lead`:
 * the work the estimate expects to end last, whose every second users wait for) or leaves them
 * to that one first (`yield`).
 */
export type Priority = "lead" | "yield";

/**
 * The final round's standard input: the journal's paths, or a full walk from when its files are
 * compared by their blocks (every file when the stop did not say), and its priority.
 */
export function finalRoundInput(changes: FolderChanges | undefined, priority: Priority): string {
    return changes?.journal === true && changes.list !== undefined ? `journal ${priority}\n${changes.list}\n` : `walk ${priority} ${changes?.since ?? 0}\n`;
}

/** What source's journal says the final round will do in one folder, counted before source stops. */
export interface ChangesBeforeStop {
    folder: string;
    journal: boolean;
    deleted?: number;
    /** Bytes of the listed paths source still has (a listed directory whole). */
    bytes?: number;
    /** NUL-separated paths source still has, relative to the folder, in base64. */
    list?: string;
}

/** dest's room check reads one line per folder the journal covers: folder, bytes, the paths' list. */
export function destRoomInput(changes: ChangesBeforeStop[]): string {
    return changes
        .filter((entry) => entry.journal)
        .map((entry) => `${entry.folder}\t${entry.bytes ?? 0}\t${entry.list ?? ""}\n`)
        .join("");
}

/** Where the users' outage went: each span measured on the machine that ran it. */
export interface Outage {
    /** Source stopped -> a request through source's nginx reaches dest, both on source's clock. */
    seconds: number;
    steps: { sourceProxyStarted: number; coldSync: number; verify: number; destStart: number; betweenSteps: number };
}

const seconds = (value: number): number => Math.round(value * 100) / 100;

/** From the first round's start to the last one's end, in seconds: rounds run at once. */
export const spanOf = (rounds: { startedAt: number; finishedAt: number }[]): number =>
    seconds(Math.max(...rounds.map((round) => round.finishedAt)) - Math.min(...rounds.map((round) => round.startedAt)));

/** What the steps between source's stop and dest serving through it printed, each on its own machine's clock. */
export interface OutageReports {
    stop: { stoppedAt: number; proxyStartedAt: number };
    destStart: { startedAt: number; healthyAt: number };
    serving: { servingAt: number };
    cold: { startedAt: number; finishedAt: number }[];
    verifiedAt: number[];
}

/** Where the users' outage went; what the engine and the links add between steps is the rest. */
export function outageOf(reports: OutageReports): Outage {
    const { stop, destStart, serving, cold, verifiedAt } = reports;
    const coldFinished = Math.max(...cold.map((round) => round.finishedAt));
    const steps = {
        sourceProxyStarted: seconds(stop.proxyStartedAt - stop.stoppedAt),
        coldSync: spanOf(cold),
        verify: seconds(Math.max(...verifiedAt) - coldFinished),
        destStart: seconds(destStart.healthyAt - destStart.startedAt),
    };
    const total = seconds(serving.servingAt - stop.stoppedAt);
    const measured = Object.values(steps).reduce((sum, value) => sum + value, 0);
    return { seconds: total, steps: { ...steps, betweenSteps: seconds(Math.max(0, total - measured)) } };
}

/** What dest's room check prints per folder the journal covers. */
export interface DestRoom {
    folder: string;
    /** Bytes the listed paths hold on source beyond what dest already holds under them. */
    needed: number;
    available: number;
}

/** How many paths a base64 NUL-separated list holds. */
export const pathsIn = (list: string | undefined): number =>
    list === undefined || list === ""
        ? 0
        : Buffer.from(list, "base64")
              .toString("utf8")
              .split("\0")
              .filter((path) => path !== "").length;

/** Each folder's final round and verification, as known before source stops: source's journal, dest's room check, the last warm round. */
export function folderWorkOf(changes: ChangesBeforeStop[], room: DestRoom[], warm: SyncStats[]): FolderWork[] {
    return warm.map((round) => {
        const listed = changes.find((entry) => entry.folder === round.folder);
        const paths = pathsIn(listed?.list) + (listed?.deleted ?? 0);
        const bytes = listed?.bytes ?? 0;
        const newBytes = Math.min(bytes, Math.max(0, room.find((entry) => entry.folder === round.folder)?.needed ?? bytes));
        return {
            folder: round.folder,
            // Past maxJournalPaths, source's stop hands the final round a walk, as it does without a journal.
            journal: listed?.journal === true && paths <= maxJournalPaths,
            paths,
            heldBytes: bytes - newBytes,
            newBytes,
            entries: round.files,
            warmSeconds: round.finishedAt - round.startedAt,
        };
    });
}
