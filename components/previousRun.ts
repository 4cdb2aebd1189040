import { Phase, phases, planFor, PreviousRun, refuse } from "../config";

export type { PreviousRun } from "../config";

/** The stack outputs this module reads; an output of another shape counts as none (an older version of the program wrote it). */
export function previousRunFromOutputs(outputs: Record<string, unknown>): PreviousRun {
    const { phase, warmSyncRound, dataFolders } = outputs;
    return {
        phase: phases.find((candidate) => candidate === phase),
        warmSyncRound: typeof warmSyncRound === "number" ? warmSyncRound : undefined,
        dataFolders: Array.isArray(dataFolders) && dataFolders.every((folder) => typeof folder === "string") ? dataFolders : undefined,
    };
}

/**
 * From a cutover on, dest may hold users' writes, until a run before the cutover has
 * completed (a rollback's carry-backs ran). The stack's history says so, not the phase
 * asked for: a rollback asks for an earlier phase while dest still holds the writes.
 */
export function destMayHoldWrites(previous: PreviousRun): boolean {
    return previous.phase !== undefined && planFor(previous.phase).cutover;
}

/**
 * What stops dest or overwrites it (a warm round, the dest check's start-and-stop) never
 * runs again over a dest that may hold writes: from the cutover on, and on the way back
 * until the carry-back.
 */
export function destStepsFrozen(previous: PreviousRun, phase: Phase): boolean {
    return planFor(phase).cutover || destMayHoldWrites(previous);
}

/** What the operator is told when a changed warmSyncRound waits for the next `pulumi up`; nothing when it does not. */
export function deferredRoundNotice(previous: PreviousRun, phase: Phase, warmSyncRound: number): string | undefined {
    if (planFor(phase).cutover || !destMayHoldWrites(previous) || previous.warmSyncRound === warmSyncRound) return undefined;
    return (
        `warmSyncRound: ${warmSyncRound} is recorded, but no warm round runs in this update: dest may hold users' writes since the cutover ` +
        `(last run at phase ${previous.phase}, round ${previous.warmSyncRound ?? "unknown"}), and this rollback carries them back to source first. ` +
        `Round ${warmSyncRound} runs at the next pulumi up.`
    );
}

const describe = (value: unknown): string => JSON.stringify(value);

/**
 * A finished migration protects what would undo it, and the engine only finds that out
 * after it has started changing files: from finalize the way back goes through dns,
 * which lifts the protection first.
 */
export function phaseChangeProblems(previous: Phase | undefined, phase: Phase): string[] {
    if (previous !== "finalize" || phase === "finalize" || phase === "dns") return [];
    return [
        `phase: expected dns or finalize after a run at finalize (a finished migration is protected; rolling back goes through dns, which lifts the protection); got ${describe(phase)}: set phase to dns first`,
    ];
}

/** A data folder added while dest may hold writes would get a warm round that stops dest and overwrites it; one removed would never be carried back. */
export function dataFoldersChangeProblems(previous: PreviousRun, dataFolders: string[]): string[] {
    if (!destMayHoldWrites(previous) || previous.dataFolders === undefined || describe(previous.dataFolders) === describe(dataFolders)) return [];
    return [
        `dataFolders: expected ${describe(previous.dataFolders)}, as at the stack's last run (phase ${previous.phase}), until a rollback has carried dest's data back to source; got ${describe(dataFolders)}: a folder added now would get a warm round over the dest that serves, a folder removed would not be carried back`,
    ];
}

/** Refuses, before anything runs, what the stack cannot do from where its last run left it. */
export function checkAgainstPreviousRun(previous: PreviousRun, config: { phase: Phase; dataFolders: string[] }): void {
    const problems = [...phaseChangeProblems(previous.phase, config.phase), ...dataFoldersChangeProblems(previous, config.dataFolders)];
    if (problems.length > 0) refuse(problems);
}
