// bench/results.json (every profile's last run, newest machine description) and the
// short table of bench/results.md.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChurnRecord } from "./churn";
import { Outage } from "./prober";
import { FloorFigures } from "./floor";
import { announcedEstimate, PhaseRun } from "./program";

export interface Machine {
    cpus: number;
    cpuModel: string;
    memory: number;
    kernel: string;
}

export interface MethodFigures<T> {
    /** The prober's outage: first failed request to the first success after it. */
    downtimeSeconds: number;
    outage: Outage;
    ackedWrites: number;
    missingWrites: string[];
    detail?: T;
    error?: string;
}

export interface RunFigures {
    profile: string;
    measuredAt: string;
    rate: string;
    files: number;
    bytes: number;
    diskBytes: number;
    /** What the churn (and the prober's writes) changed on source's disk, as the floor copied it: 4 KiB blocks. */
    changedBytes: number;
    churn: ChurnRecord;
    generateSeconds: number;
    /** Medians over the runs (each run from the same snapshot): `runs` has each one's figure. */
    seedDowntimeSeconds: number;
    programDowntimeSeconds: number;
    /** The outage the program announced before source stopped (the cutover's `outageEstimate`), when every run announced one. */
    estimateSeconds?: number;
    /** The outage the warm round announced (`cutoverEstimate`), an upper bound. */
    warmEstimateSeconds?: number;
    floorSeconds: number;
    runs: RunSeries;
    warmRoundSeconds: { program: number; rawTar: number };
    /** How often the engine showed the program's warm round's progress while it ran, and the last it showed. */
    warmRoundProgress: { lines: number; last?: string };
    /** Prepare, the warm round, then each run's cutover. */
    programSteps: PhaseRun[];
    /** Over every run. */
    missingWrites: { seed: number; program: number; floor: number };
    methods: { seed: MethodFigures<unknown>[]; program: MethodFigures<unknown>[]; floor: MethodFigures<unknown>[] };
    totalSeconds: number;
}

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "failed");
const percent = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${(n * 100).toFixed(1)} %` : "none");

/** Each run's figure, in the order measured. */
export interface RunSeries {
    seed: number[];
    program: number[];
    /** The floor's probed outage, and the floor as the sum of its parts. */
    floorProbed: number[];
    floor: number[];
    /** The program's estimate against the outage the prober then measured: (estimate - outage) / outage. */
    estimateError: number[];
}

export interface Spread {
    median: number;
    min: number;
    max: number;
}

/** Median and range; a failed run (not a finite figure) counts as the longest. */
export function spread(values: number[]): Spread {
    const sorted = values.map((v) => (Number.isFinite(v) ? v : Number.POSITIVE_INFINITY)).sort((a, b) => a - b);
    if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** "13.84 (13.04 to 14.44)": the median, then the range when there are several runs. */
export function formatSpread(values: number[], format: (n: number) => string = fmt): string {
    const { median, min, max } = spread(values);
    return values.length > 1 ? `${format(median)} (${format(min)} to ${format(max)})` : format(median);
}

/** Each method's runs, in the order measured. */
export interface MethodRuns {
    seed: MethodFigures<unknown>[];
    floor: MethodFigures<FloorFigures>[];
    program: MethodFigures<PhaseRun[]>[];
}

/**
 * What the runs come to: each method's median and every run's figure, the writes missing
 * over all runs; the program's estimate only when every run announced one. Figures are
 * what users lived through, also when a method then reported a failure (methods.*.error).
 */
export function overRuns({
    seed,
    floor,
    program,
}: MethodRuns): Pick<
    RunFigures,
    "changedBytes" | "seedDowntimeSeconds" | "programDowntimeSeconds" | "estimateSeconds" | "floorSeconds" | "runs" | "missingWrites" | "methods"
> {
    const downtimes = (figures: MethodFigures<unknown>[]): number[] => figures.map((m) => m.downtimeSeconds);
    const missing = (figures: MethodFigures<unknown>[]): number => figures.reduce((sum, m) => sum + m.missingWrites.length, 0);
    const estimates = program.map((m) => announcedEstimate(m.detail?.[0], "outageEstimate"));
    const announced = estimates.filter((e): e is number => e !== undefined);
    const floorSeconds = floor.map((m) => m.detail?.floorSeconds ?? Number.NaN);
    return {
        changedBytes: floor[0]?.detail?.copiedBytes ?? Number.NaN,
        seedDowntimeSeconds: spread(downtimes(seed)).median,
        programDowntimeSeconds: spread(downtimes(program)).median,
        estimateSeconds: announced.length > 0 && announced.length === estimates.length ? spread(announced).median : undefined,
        floorSeconds: spread(floorSeconds).median,
        runs: {
            seed: downtimes(seed),
            program: downtimes(program),
            floorProbed: downtimes(floor),
            floor: floorSeconds,
            estimateError: program.map((m, i) => ((estimates[i] ?? Number.NaN) - m.downtimeSeconds) / m.downtimeSeconds),
        },
        missingWrites: { seed: missing(seed), program: missing(program), floor: missing(floor) },
        // The program's steps are kept once, in programSteps.
        methods: { seed, program: program.map((m) => ({ ...m, detail: undefined })), floor },
    };
}

interface ResultsFile {
    measuredAt: string;
    machine: Machine;
    results: RunFigures[];
}

export function machine(): Machine {
    return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", memory: os.totalmem(), kernel: os.release() };
}

const FOLDER = path.join(__dirname);

function previous(file: string): RunFigures[] {
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<ResultsFile>;
        // Runs of earlier benchmarks (one run per method, sample sizes, the process test hosts) do not compare with these.
        return (parsed.results ?? []).filter((r) => typeof (r as Partial<RunFigures>).runs === "object");
    } catch {
        return [];
    }
}

const MiB = 1024 * 1024;

const METHOD_NAMES: Record<keyof RunFigures["methods"], string> = { seed: "the written procedure", program: "the program", floor: "the floor" };

function table(file: ResultsFile): string {
    const m = file.machine;
    const lines = [
        "# Cutover benchmark",
        "",
        `Measured ${file.measuredAt} on ${m.cpus} × ${m.cpuModel}, ${Math.round(m.memory / 1024 / MiB)} GiB, Linux ${m.kernel}; test hosts (network namespaces) over a veth link shaped with tc tbf. ` +
            "Downtimes are measured from outside by a prober (HTTPS GET every 100 ms through source's address, a write every second); " +
            "the floor is source's stop, the changed bytes alone in one stream, dest's start to healthy and the nginx switch. " +
            "The test hosts run Pryv.io's 2019 core.yml in Docker, with FerretDB (SQLite) and InfluxDB 1.6 holding the events and series. Written by `npm run bench`.",
        "",
        "Each method's downtime is the median of the runs, each from the same snapshot, with the range in brackets; the program's estimate is compared with the outage measured in the same run.",
        "",
        "| profile | files | GiB (on disk) | changed MiB | link | runs | warm round: program (s) | warm round: raw tar (s) | written procedure downtime (s) | program downtime (s) | program's estimate before source stopped (s) | estimate's error | warm round's estimate (s) | floor (s) | floor, probed, with its comparison and source's stop (s) | missing writes (procedure / program / floor) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...file.results
            .map((r) =>
                [
                    r.profile,
                    r.files,
                    `${(r.bytes / 1024 / MiB).toFixed(2)} (${(r.diskBytes / 1024 / MiB).toFixed(2)})`,
                    (r.changedBytes / MiB).toFixed(1),
                    r.rate,
                    r.runs.program.length,
                    fmt(r.warmRoundSeconds.program),
                    fmt(r.warmRoundSeconds.rawTar),
                    formatSpread(r.runs.seed),
                    formatSpread(r.runs.program),
                    r.estimateSeconds === undefined ? "not announced" : fmt(r.estimateSeconds),
                    formatSpread(r.runs.estimateError, percent),
                    r.warmEstimateSeconds === undefined ? "not announced" : fmt(r.warmEstimateSeconds),
                    formatSpread(r.runs.floor),
                    formatSpread(r.runs.floorProbed),
                    `${r.missingWrites.seed} / ${r.missingWrites.program} / ${r.missingWrites.floor}`,
                ].join(" | "),
            )
            .map((row) => `| ${row} |`),
        "",
        ...file.results.flatMap((r) =>
            Object.entries(r.methods).flatMap(([name, runs]) =>
                runs.flatMap((m, index) =>
                    m.error === undefined
                        ? []
                        : [`- ${r.profile}, ${METHOD_NAMES[name as keyof RunFigures["methods"]]} failed in run ${index + 1}: ${m.error}`],
                ),
            ),
        ),
        ...file.results.map(
            (r) =>
                `- ${r.profile}, the program's warm round: its progress shown ${r.warmRoundProgress.lines} times in the engine's output while it ran${r.warmRoundProgress.last === undefined ? "" : `, the last: \`${r.warmRoundProgress.last}\``}`,
        ),
        "",
        "What was tried on the program's cutover, kept or not, with its figures: [levers.md](levers.md) (by hand).",
        "",
    ];
    return lines.join("\n");
}

/** Replaces this profile's previous run, keeps the others. */
export function writeResults(run: RunFigures): void {
    const jsonFile = path.join(FOLDER, "results.json");
    const results = [...previous(jsonFile).filter((r) => r.profile !== run.profile), run];
    const file: ResultsFile = { measuredAt: run.measuredAt, machine: machine(), results };
    fs.writeFileSync(jsonFile, `${JSON.stringify(file, null, 2)}\n`);
    fs.writeFileSync(path.join(FOLDER, "results.md"), table(file));
}
