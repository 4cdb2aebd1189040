// bench/results.json (every profile's last run, newest machine description) and the
// short table of bench/results.md.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChurnRecord } from "./churn";
import { Outage } from "./prober";
import { PhaseRun } from "./program";

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
    seedDowntimeSeconds: number;
    programDowntimeSeconds: number;
    /** The outage the program announced before source stopped (the cutover's `outageEstimate`); absent from runs of an earlier bench. */
    estimateSeconds?: number;
    /** The outage the warm round announced (`cutoverEstimate`), an upper bound; absent from runs of an earlier bench. */
    warmEstimateSeconds?: number;
    floorSeconds: number;
    warmRoundSeconds: { program: number; rawTar: number };
    /** How often the engine showed the program's warm round's progress while it ran, and the last it showed. */
    warmRoundProgress: { lines: number; last?: string };
    programSteps: PhaseRun[];
    missingWrites: { seed: number; program: number; floor: number };
    methods: { seed: MethodFigures<unknown>; program: MethodFigures<unknown>; floor: MethodFigures<unknown> };
    totalSeconds: number;
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
        // Runs of earlier benchmarks (sample sizes, or the process test hosts) do not compare with these.
        return (parsed.results ?? []).filter((r) => typeof (r as Partial<RunFigures>).changedBytes === "number");
    } catch {
        return [];
    }
}

const MiB = 1024 * 1024;
const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "failed");

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
        "| profile | files | GiB (on disk) | changed MiB | link | warm round: program (s) | warm round: raw tar (s) | written procedure downtime (s) | program downtime (s) | program's estimate before source stopped (s) | warm round's estimate (s) | floor (s) | floor, probed, with its comparison and source's stop (s) | missing writes (procedure / program / floor) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...file.results
            .map((r) =>
                [
                    r.profile,
                    r.files,
                    `${(r.bytes / 1024 / MiB).toFixed(2)} (${(r.diskBytes / 1024 / MiB).toFixed(2)})`,
                    (r.changedBytes / MiB).toFixed(1),
                    r.rate,
                    fmt(r.warmRoundSeconds.program),
                    fmt(r.warmRoundSeconds.rawTar),
                    fmt(r.seedDowntimeSeconds),
                    fmt(r.programDowntimeSeconds),
                    r.estimateSeconds === undefined ? "not recorded" : fmt(r.estimateSeconds),
                    r.warmEstimateSeconds === undefined ? "not recorded" : fmt(r.warmEstimateSeconds),
                    fmt(r.floorSeconds),
                    fmt(r.methods.floor.downtimeSeconds),
                    `${r.missingWrites.seed} / ${r.missingWrites.program} / ${r.missingWrites.floor}`,
                ].join(" | "),
            )
            .map((row) => `| ${row} |`),
        "",
        ...file.results.flatMap((r) =>
            Object.entries(r.methods)
                .filter(([, m]) => m.error !== undefined)
                .map(([name, m]) => `- ${r.profile}, ${METHOD_NAMES[name as keyof RunFigures["methods"]]} failed: ${m.error}`),
        ),
        ...file.results.map((r) =>
            // Runs of an earlier bench did not count it.
            (r.warmRoundProgress as RunFigures["warmRoundProgress"] | undefined) === undefined
                ? `- ${r.profile}, the program's warm round: its progress shown in the engine's output was not counted by that run`
                : `- ${r.profile}, the program's warm round: its progress shown ${r.warmRoundProgress.lines} times in the engine's output while it ran${r.warmRoundProgress.last === undefined ? "" : `, the last: \`${r.warmRoundProgress.last}\``}`,
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
