// The phase model: MIGRATION.md's table, in procedure order, and what each phase's stack holds.

/**
 * The phases of MIGRATION.md, in procedure order: each adds resources to the one before.
 * There is no proxy phase: source's nginx starts proxying to dest inside the cutover.
 */
export const phases = ["prepare", "warm-sync", "cutover", "dns", "finalize"] as const;
export type Phase = (typeof phases)[number];

export function phaseReached(current: Phase, wanted: Phase): boolean {
    return phases.indexOf(current) >= phases.indexOf(wanted);
}

/**
 * What the stack holds at a phase, beyond what every phase has (the live-core guard, the
 * dest check, source's site-443.conf and each register's dns.json read as they are):
 * MIGRATION.md's table, one field per row. Setting the phase back drops what the later
 * rows added, and their deletes are the rollback.
 */
export interface PhasePlan {
    /** prepare: the migration keys and the kept-aside folder, until finalize takes them out of the stack. */
    migrationKeys: boolean;
    /** warm-sync: a round of rsync per data folder from live source. */
    warmRounds: boolean;
    /** cutover: source's site-443.conf is the proxy file; source stopped, the final rounds, the copy verified, dest started. */
    cutover: boolean;
    /** dns: each register's dns.json names dest. */
    registersNameDest: boolean;
    /** finalize: the registers' answers checked, and everything that would undo the migration protected. */
    finalized: boolean;
}

export function planFor(phase: Phase): PhasePlan {
    return {
        migrationKeys: !phaseReached(phase, "finalize"),
        warmRounds: phaseReached(phase, "warm-sync"),
        cutover: phaseReached(phase, "cutover"),
        registersNameDest: phaseReached(phase, "dns"),
        finalized: phaseReached(phase, "finalize"),
    };
}
