// The phase model: the table of MIGRATION.md, in procedure order.
/**
 * The phases of MIGRATION.md, in procedure order: each adds resources to the one before.
 * There is no proxy phase: source's nginx starts proxying to dest inside the cutover.
 */
export const phases = ["prepare", "warm-sync", "cutover", "dns", "finalize"] as const;
export type Phase = (typeof phases)[number];

export function phaseReached(current: Phase, wanted: Phase): boolean {
    return phases.indexOf(current) >= phases.indexOf(wanted);
}
