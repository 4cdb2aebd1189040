// What a cutover costs users, measured on the docker test hosts (Pryv.io's 2019 core.yml,
// real databases) over a shaped link, with the program's defaults: a Pryv-shaped
// dataset, a warm round (the program, and raw tar for comparison), the churn of a live
// core, then the cutover three ways from identical copies of that state: (a) the 2019
// procedure as written, (b) this program, (c) the floor, each BENCH_RUNS times in turn
// (the program's stack state put back with the machines). The outage is what a prober
// outside sees; each method's figure is the median of its runs. Figures go to
// bench/results.{json,md}.
//   BENCH_PROFILE=smoke|default|large  BENCH_RATE=1gbit  BENCH_FILES=<attachments>  BENCH_BYTES=<total>  BENCH_RUNS=3
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChurnRecord, churn } from "../bench/churn";
import { Dataset, generateDataset } from "../bench/dataset";
import { FloorFigures, floorCutover } from "../bench/floor";
import { rateBits, shapeLink, unshapeLink } from "../bench/link";
import { measureCutover } from "../bench/measure";
import { ProberTarget } from "../bench/prober";
import { selectProfile, selectRuns } from "../bench/profile";
import { announcedEstimate, PhaseRun, programCutover, stepsDuring, upOrFail } from "../bench/program";
import { rawTarCopy } from "../bench/rawTar";
import { machine, MethodFigures, overRuns, RunFigures, writeResults } from "../bench/report";
import { ChangeJournal, restoreSnapshot, stopServices, takeSnapshot } from "../bench/snapshot";
import { since } from "../bench/ssh";
import { writtenProcedureCutover } from "../bench/writtenProcedure";
import { startTestHosts, TestHosts } from "../testbed";
import { MigrationStack, openMigrationStack } from "../testbed/migration/migrationStack";
import { realStackConfigWithDefaultFolders } from "../testbed/migration/realStackConfig";

const say = (line: string): void => console.log(`bench: ${line}`);

/** The warm round's number, which names source's change journal; the program's default. */
const WARM_ROUND = 1;

/**
 * The program's defaults but one: between the warm round and the cutover, InfluxDB's
 * compactions in the default profile's 500 databases delete about 3,600 files (old TSM
 * generations, WAL segments), and the default sync.maxDeletions (1000) refuses such a
 * cutover before source stops, as it should refuse an unexplained mass deletion.
 */
const benchStackConfig = (hosts: TestHosts): Record<string, unknown> => ({
    ...realStackConfigWithDefaultFolders(hosts),
    warmSyncRound: WARM_ROUND,
    sync: { maxDeletions: 50_000 },
});

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

const INOTIFY_WATCHES = "/proc/sys/fs/inotify/max_user_watches";
const inotifyWatches = (): number => Number(fs.readFileSync(INOTIFY_WATCHES, "utf8"));

/**
 * What an operator does when prepare refuses a source whose directories outnumber the
 * kernel's inotify watches (source-data.sh names the sysctl): raised for the dataset, with
 * a quarter to spare for the churn's new folders. The test hosts share this kernel: main
 * puts the machine's own limit back at the end.
 */
function raiseInotifyWatches(directories: number): void {
    const own = inotifyWatches();
    const wanted = Math.ceil(directories * 1.25);
    if (own >= wanted) return;
    fs.writeFileSync(INOTIFY_WATCHES, String(wanted));
    say(`fs.inotify.max_user_watches raised from ${own} to ${wanted} for ${directories} directories`);
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

    raiseInotifyWatches(dataset.directories);
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
    const journal: ChangeJournal = { migrationId: migration.stack.name, round: WARM_ROUND };
    started = Date.now();
    await takeSnapshot(hosts, journal);
    say(`snapshot of source and dest: ${since(started)} s`);
    const beforeCutover = await migration.stack.exportStack();

    const target: ProberTarget = { ip: source.ip, domain: hosts.domain, subdomain: hosts.subdomain, ca: hosts.certificatePem };
    const writers = dataset.databaseUsers.slice(1, 4);
    const runs = selectRuns(process.env);
    const seed: MethodFigures<unknown>[] = [];
    const floor: MethodFigures<FloorFigures>[] = [];
    const program: MethodFigures<PhaseRun[]>[] = [];
    // In turn, so that the machine's drift over the runs falls on every method alike.
    for (let run = 1; run <= runs; run++) {
        const of = `run ${run} of ${runs}`;
        await restoreSnapshot(hosts, journal);
        seed.push(await measureCutover("seed", hosts, target, writers, () => writtenProcedureCutover(hosts)));
        say(describe(`(a) written procedure, ${of}`, seed[seed.length - 1]));
        await restoreSnapshot(hosts, journal);
        floor.push(await measureCutover("floor", hosts, target, writers, () => floorCutover(hosts, target)));
        say(describe(`(c) floor, probed, ${of}`, floor[floor.length - 1]));
        await restoreSnapshot(hosts, journal);
        await migration.stack.importStack(beforeCutover);
        const measured = await measureCutover(
            "program",
            hosts,
            target,
            writers,
            () => programCutover(migration, engineLog),
            (cutoverRuns) => cutoverRuns.find((cutoverRun) => cutoverRun.error !== undefined)?.error,
        );
        program.push(measured);
        say(describe(`(b) program, ${of}`, measured));
        const { startedAt, endedAt } = measured.outage;
        if (measured.detail && startedAt !== undefined && endedAt !== undefined) {
            for (const line of stepsDuring(measured.detail, startedAt, endedAt)) say(`    ${line}`);
        }
    }

    return {
        profile: profile.name,
        measuredAt: new Date().toISOString(),
        rate,
        files: dataset.files,
        bytes: dataset.bytes,
        diskBytes: dataset.diskBytes,
        churn: record,
        generateSeconds,
        ...overRuns({ seed, floor, program }),
        warmEstimateSeconds: announcedEstimate(warm, "cutoverEstimate"),
        warmRoundSeconds: { program: warm.seconds, rawTar },
        warmRoundProgress: { lines: warm.progress.length, last: warm.progress.at(-1) },
        programSteps: [prepare, warm, ...program.flatMap((m) => m.detail ?? [])],
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

    const ownWatches = inotifyWatches();
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
        fs.writeFileSync(INOTIFY_WATCHES, String(ownWatches));
    }
    writeResults(figures);
    say(
        `${figures.profile}: ${figures.files} files, ${figures.bytes} bytes, changed ${figures.changedBytes} bytes, link ${figures.rate}; ` +
            `warm round program ${figures.warmRoundSeconds.program} s / raw tar ${figures.warmRoundSeconds.rawTar} s; ` +
            `downtime written procedure ${figures.seedDowntimeSeconds} s, program ${figures.programDowntimeSeconds} s, floor ${figures.floorSeconds} s; ` +
            `missing writes ${JSON.stringify(figures.missingWrites)}; ${figures.totalSeconds} s in all`,
    );
    say("figures written to bench/results.json and bench/results.md");
    const failures = (name: keyof RunFigures["methods"]): string[] =>
        figures.methods[name].flatMap((m, index) => {
            const problem = m.error ?? (m.missingWrites.length > 0 ? `${m.missingWrites.length} writes missing` : undefined);
            return problem === undefined ? [] : [`${name} in run ${index + 1} (${problem})`];
        });
    for (const failure of failures("seed")) say(`the written procedure, as written, failed: ${failure}`);
    // The written procedure is the yardstick, defects included (MIGRATION.md); the program and the floor must succeed.
    const failed = [...failures("program"), ...failures("floor")];
    if (failed.length > 0) throw new Error(`failed: ${failed.join(", ")}`);
}

main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
