// What a cutover costs users, measured on the docker test hosts (Pryv.io's 2019 core.yml,
// real databases) over a shaped link, with the program's defaults: a Pryv-shaped
// dataset, a warm round (the program, and raw tar for comparison), the churn of a live
// core, then the cutover three ways from identical copies of that state: (a) the 2019
// procedure as written, (b) this program, (c) the floor. The outage is what a prober
// outside sees. Figures go to bench/results.{json,md}.
//   BENCH_PROFILE=smoke|default|large  BENCH_RATE=1gbit  BENCH_FILES=<attachments>  BENCH_BYTES=<total>
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChurnRecord, churn } from "../bench/churn";
import { Dataset, generateDataset } from "../bench/dataset";
import { floorCutover } from "../bench/floor";
import { rateBits, shapeLink, unshapeLink } from "../bench/link";
import { measureCutover } from "../bench/measure";
import { ProberTarget } from "../bench/prober";
import { selectProfile } from "../bench/profile";
import { announcedEstimate, programCutover, stepsDuring, upOrFail } from "../bench/program";
import { rawTarCopy } from "../bench/rawTar";
import { machine, MethodFigures, RunFigures, writeResults } from "../bench/report";
import { restoreSnapshot, stopServices, takeSnapshot } from "../bench/snapshot";
import { since } from "../bench/ssh";
import { writtenProcedureCutover } from "../bench/writtenProcedure";
import { startTestHosts, TestHosts } from "../testbed";
import { MigrationStack, openMigrationStack } from "../testbed/migration/migrationStack";
import { realStackConfigWithDefaultFolders } from "../testbed/migration/realStackConfig";

const say = (line: string): void => console.log(`bench: ${line}`);

/**
 * The program's defaults but one: between the warm round and the cutover, InfluxDB's
 * compactions in the default profile's 500 databases delete about 3,600 files (old TSM
 * generations, WAL segments), and the default sync.maxDeletions (1000) refuses such a
 * cutover before source stops, as it should refuse an unexplained mass deletion.
 */
const benchStackConfig = (hosts: TestHosts): Record<string, unknown> => ({ ...realStackConfigWithDefaultFolders(hosts), sync: { maxDeletions: 50_000 } });

function describe(name: string, m: MethodFigures<unknown>): string {
    const windows = m.outage.windows.length > 1 ? ` (${m.outage.windows.length} failure windows)` : "";
    const problem = m.error ? `, FAILED: ${m.error}` : "";
    return `${name}: downtime ${m.downtimeSeconds.toFixed(2)} s${windows}, ${m.ackedWrites} writes acknowledged, ${m.missingWrites.length} missing on dest${problem}`;
}

/** The stack goes with the test hosts: its resources live on them, so a destroy (rollbacks over the shaped link) would be wasted time. */
async function removeStack(migration: MigrationStack): Promise<void> {
    try {
        await migration.stack.workspace.removeStack(migration.stack.name, { force: true });
    } finally {
        fs.rmSync(migration.backendFolder, { recursive: true, force: true });
    }
}

async function measure(hosts: TestHosts, migration: MigrationStack, rate: string, engineLog: (line: string) => void): Promise<RunFigures> {
    const profile = selectProfile(process.env);
    const benchStarted = Date.now();
    const { source } = hosts.hosts;

    let started = Date.now();
    const dataset: Dataset = await generateDataset(source, hosts, profile);
    const generateSeconds = since(started);
    say(
        `dataset: ${dataset.files} files, ${(dataset.bytes / 2 ** 20).toFixed(0)} MiB (${(dataset.diskBytes / 2 ** 20).toFixed(0)} MiB on disk) in ${generateSeconds} s`,
    );

    await shapeLink(hosts, rate);
    const prepare = await upOrFail(migration, "prepare", engineLog);
    say(`prepare: ${prepare.seconds} s`);
    const warm = await upOrFail(migration, "warm-sync", engineLog);
    say(
        `warm round, program: ${warm.seconds} s; its progress shown ${warm.progress.length} times${warm.progress.length > 0 ? `, the last: ${warm.progress.at(-1)}` : ""}`,
    );
    const rawTar = await rawTarCopy(hosts);
    say(`warm round, raw tar: ${rawTar} s`);

    started = Date.now();
    const record: ChurnRecord = await churn(source, dataset, profile);
    say(`churn in ${since(started)} s: ${JSON.stringify(record)}`);
    started = Date.now();
    await takeSnapshot(hosts);
    say(`snapshot of source and dest: ${since(started)} s`);

    const target: ProberTarget = { ip: source.ip, domain: hosts.domain, subdomain: hosts.subdomain, ca: hosts.certificatePem };
    const writers = dataset.users.slice(1, 4);
    const seed = await measureCutover("seed", hosts, target, writers, () => writtenProcedureCutover(hosts));
    say(describe("(a) written procedure", seed));
    await restoreSnapshot(hosts);
    const floor = await measureCutover("floor", hosts, target, writers, () => floorCutover(hosts, target));
    say(describe("(c) floor, probed", floor));
    await restoreSnapshot(hosts);
    // Last: it moves the stack on, and the restores do not move it back.
    const program = await measureCutover(
        "program",
        hosts,
        target,
        writers,
        () => programCutover(migration, engineLog),
        (runs) => runs.find((run) => run.error !== undefined)?.error,
    );
    say(describe("(b) program", program));
    const { startedAt, endedAt } = program.outage;
    if (program.detail && startedAt !== undefined && endedAt !== undefined) {
        for (const line of stepsDuring(program.detail, startedAt, endedAt)) say(`    ${line}`);
    }

    const floorSeconds = floor.detail?.floorSeconds ?? Number.NaN;
    return {
        profile: profile.name,
        measuredAt: new Date().toISOString(),
        rate,
        files: dataset.files,
        bytes: dataset.bytes,
        diskBytes: dataset.diskBytes,
        changedBytes: floor.detail?.copiedBytes ?? Number.NaN,
        churn: record,
        generateSeconds,
        // What users lived through, also when a method then reported a failure (see methods.*.error).
        seedDowntimeSeconds: seed.downtimeSeconds,
        programDowntimeSeconds: program.downtimeSeconds,
        estimateSeconds: announcedEstimate(program.detail?.[0], "outageEstimate"),
        warmEstimateSeconds: announcedEstimate(warm, "cutoverEstimate"),
        floorSeconds,
        warmRoundSeconds: { program: warm.seconds, rawTar },
        warmRoundProgress: { lines: warm.progress.length, last: warm.progress.at(-1) },
        programSteps: [prepare, warm, ...(program.detail ?? [])],
        missingWrites: { seed: seed.missingWrites.length, program: program.missingWrites.length, floor: floor.missingWrites.length },
        methods: { seed, program: { ...program, detail: undefined }, floor },
        totalSeconds: since(benchStarted),
    };
}

async function main(): Promise<void> {
    const profile = selectProfile(process.env);
    const rate = process.env.BENCH_RATE ?? "1gbit";
    rateBits(rate); // refuses a bad rate before the hosts start
    const logFile = path.join(os.tmpdir(), `pryv-bench-${profile.name}-engine.log`);
    fs.writeFileSync(logFile, "");
    const engineLog = (line: string): void => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    say(`profile ${profile.name} over ${rate}; engine output in ${logFile}; machine ${JSON.stringify(machine())}`);

    const hosts = await startTestHosts({ hosts: ["source", "dest"], engine: "docker", sampleData: false });
    let figures: RunFigures | undefined;
    try {
        // A new machine with Pryv.io installed, not running: prepare's check starts it.
        await stopServices(hosts.hosts.dest);
        const migration = await openMigrationStack(hosts, "bench", benchStackConfig);
        try {
            figures = await measure(hosts, migration, rate, engineLog);
        } finally {
            await unshapeLink(hosts);
            await removeStack(migration);
        }
    } finally {
        await hosts.stop();
    }
    writeResults(figures);
    say(
        `${figures.profile}: ${figures.files} files, ${figures.bytes} bytes, changed ${figures.changedBytes} bytes, link ${figures.rate}; ` +
            `warm round program ${figures.warmRoundSeconds.program} s / raw tar ${figures.warmRoundSeconds.rawTar} s; ` +
            `downtime written procedure ${figures.seedDowntimeSeconds} s, program ${figures.programDowntimeSeconds} s, floor ${figures.floorSeconds} s; ` +
            `missing writes ${JSON.stringify(figures.missingWrites)}; ${figures.totalSeconds} s in all`,
    );
    say("figures written to bench/results.json and bench/results.md");
    if (figures.methods.seed.error !== undefined) say(`the written procedure, as written, failed: ${figures.methods.seed.error}`);
    // The written procedure is the yardstick, defects included (MIGRATION.md); the program and the floor must succeed.
    const failed = (["program", "floor"] as const).filter(
        (name) => figures.methods[name].error !== undefined || figures.methods[name].missingWrites.length > 0,
    );
    if (failed.length > 0)
        throw new Error(
            `failed: ${failed.map((name) => `${name} (${figures.methods[name].error ?? `${figures.methods[name].missingWrites.length} writes missing`})`).join(", ")}`,
        );
}

main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
