// Method (b) and the program's warm round, through the Automation API (the same engine
// and program as `pulumi up`). The per-step breakdown comes from what the engine prints
// (each resource's "created (Ns)", stamped with when the line arrived) and from the
// stack outputs the program exports about its own timings, whichever exist.
import { phases } from "../config";
import { MigrationStack } from "../testbed/migration/migrationStack";
import { since } from "./ssh";

export interface EngineStep {
    resource: string;
    operation: string;
    /** doneAt - startedAt: the engine's own figure is rounded to whole seconds above 1 s. */
    seconds: number;
    /** When the engine reported it started and done, in ms since the epoch (the prober's clock). */
    startedAt?: number;
    doneAt: number;
}

export interface PhaseRun {
    phase: string;
    seconds: number;
    steps: EngineStep[];
    /** Outputs that describe timings or amounts (outage, downtimeSeconds, coldSyncSeconds, ...), as exported. */
    outputs: Record<string, unknown>;
    /** The engine's diagnostics when the update failed. */
    error?: string;
    /** What the engine showed of the rounds' progress while their steps ran (`progress: ...` on a step's line), in order. */
    progress: string[];
}

/**
 * The progress a round reports, as the engine shows it on its step's line while it runs
 * (`creating (5s) progress: warm-1 of ...`, after a diff summary on a replacement: `... [diff: ~triggers]; progress: ...`)
 * and again on its last line (`created (21s) progress: ...`).
 */
export function progressShown(line: string): string | undefined {
    return /\(\d+s\)(?: \[[^\]]*\];)? progress: (.+)$/.exec(line)?.[1];
}

/** Outputs worth keeping in the results: timings and sync figures, not files or keys. */
const TIMING_OUTPUTS = /outage|downtime|seconds|estimate|coldsync|warmsync/i;

/** Lines like ` +  pulumi-nodejs:dynamic/pryv-migration:OpensshCommand pryv-cutover-stop-source created (0.29s)`. */
const STEP_LINE =
    /^\s*[-+~]*\s+(\S+)\s+(\S+)\s+(creating|created|updating|updated|deleting|deleted|replacing|replaced|reading|read)(?: replacement| original)?\s+\((\d+(?:\.\d+)?)s\)/;
/** ` +  <type> <name> **creating failed** error: ...` */
const FAILED_LINE = /^\s*[-+~]*\s+(\S+)\s+(\S+)\s+\*\*(\w+) failed\*\*/;

/** What the engine says went wrong (its Diagnostics section), not the whole update's output. */
export function diagnostics(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const match = /Diagnostics:\n([\s\S]*?)\n(?:Outputs:|Resources:)/.exec(text);
    return (match?.[1] ?? text.slice(0, 2000)).trim();
}

/** `pulumi up` of a phase; a failed update comes back with its steps so far and `error`, not as an exception. */
export async function upTimed(migration: MigrationStack, phase: string, log: (line: string) => void): Promise<PhaseRun> {
    const steps: EngineStep[] = [];
    const progress: string[] = [];
    const startedAt = new Map<string, number>();
    const started = Date.now();
    const known = phases.find((p) => (p as string) === phase);
    if (known === undefined) throw new Error(`the program has no phase ${phase} (phases: ${phases.join(", ")})`);
    const onOutput = (text: string): void => {
        for (const line of text.split("\n")) {
            if (line.trim() === "") continue;
            log(line);
            const shown = progressShown(line);
            // Each report once: the engine shows a step's last status again on its done line.
            if (shown !== undefined && progress.at(-1) !== shown && !progress.includes(shown)) progress.push(shown);
            const failed = FAILED_LINE.exec(line);
            if (failed !== null)
                steps.push({
                    resource: failed[2],
                    operation: `${failed[3]} failed`,
                    seconds: Number.NaN,
                    startedAt: startedAt.get(failed[2]),
                    doneAt: Date.now(),
                });
            const match = STEP_LINE.exec(line);
            if (match === null || match[1] === "pulumi:pulumi:Stack") continue;
            const [, , resource, operation, engineSeconds] = match;
            if (operation.endsWith("ing")) {
                if (!startedAt.has(resource)) startedAt.set(resource, Date.now());
                continue;
            }
            const doneAt = Date.now();
            const from = startedAt.get(resource);
            const seconds = from === undefined ? Number(engineSeconds) : (doneAt - from) / 1000;
            steps.push({ resource, operation, seconds, startedAt: from, doneAt });
        }
    };
    try {
        const result = await migration.up(known, {}, onOutput);
        const outputs = Object.fromEntries(
            Object.entries(result.outputs)
                .filter(([name]) => TIMING_OUTPUTS.test(name))
                .map(([name, output]) => [name, output.value as unknown]),
        );
        return { phase, seconds: since(started), steps, outputs, progress };
    } catch (error) {
        return { phase, seconds: since(started), steps, outputs: {}, error: diagnostics(error), progress };
    }
}

/**
 * An outage the program announced: the warm round's `cutoverEstimate` (made when the round
 * ended), or the cutover's `outageEstimate` (made before source stopped); undefined when
 * the run gave none.
 */
export function announcedEstimate(run: PhaseRun | undefined, output: "cutoverEstimate" | "outageEstimate"): number | undefined {
    const estimate = run?.outputs[output];
    const seconds = typeof estimate === "object" && estimate !== null ? (estimate as { seconds?: unknown }).seconds : undefined;
    return typeof seconds === "number" ? seconds : undefined;
}

/** For the phases the benchmark cannot go on without. */
export async function upOrFail(migration: MigrationStack, phase: string, log: (line: string) => void): Promise<PhaseRun> {
    const run = await upTimed(migration, phase, log);
    if (run.error !== undefined) throw new Error(`${phase} failed: ${run.error}`);
    return run;
}

/** The program's cutover: `cutover`, then `proxy` while the program still has that phase. */
export async function programCutover(migration: MigrationStack, log: (line: string) => void): Promise<PhaseRun[]> {
    const runs = [await upTimed(migration, "cutover", log)];
    if (runs[0].error === undefined && (phases as readonly string[]).includes("proxy")) runs.push(await upTimed(migration, "proxy", log));
    return runs;
}

/**
 * The steps that ran during the outage (and the second before it, when users may
 * already be turned away), as "start..end s  resource" from the outage's start.
 */
export function stepsDuring(runs: PhaseRun[], from: number, to: number): string[] {
    return runs
        .flatMap((run) => run.steps)
        .filter((step) => step.doneAt >= from - 1000 && (step.startedAt ?? step.doneAt) <= to)
        .sort((a, b) => (a.startedAt ?? a.doneAt) - (b.startedAt ?? b.doneAt))
        .map((step) => {
            const at = (ms: number | undefined): string => (ms === undefined ? "?" : `${ms >= from ? "+" : ""}${((ms - from) / 1000).toFixed(2)}`);
            return `${at(step.startedAt)}..${at(step.doneAt)} s  ${step.resource} ${step.operation}`;
        });
}
