// The program on the real engine (Automation API, openssh executor) against the docker
// test hosts: Pryv.io's 2019 core shape in containers, real databases (FerretDB on
// SQLite, InfluxDB 1.6.7), and the program's own defaults for everything such an install
// has (realStackConfig.ts). A live workload writes to source through its address from
// before the first warm round to after the rollback, and retries what fails like a
// prober; every check is made from outside the program.
import { strict as assert } from "assert";
import { SyncStats } from "../../machinery/folderSync";
import * as fs from "fs";
import * as path from "path";
import { UpResult } from "@pulumi/pulumi/automation";
import {
    AUDIT_TRAIL,
    CORE_SERVICES,
    databasePoints,
    databasesIntact,
    docker,
    readEvents,
    runningServices,
    sshArgs,
    startTestHosts,
    TestHost,
    TestHosts,
    waitForCore,
    waitForTsmFiles,
} from "../../testbed";
import { treeManifest } from "../../testbed/checks";
import { run, sleep } from "../../testbed/shell";
import { MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { dataFolderOn, eventIdsHeld, registerAnswers, servedBy, websocketReaches } from "../../testbed/migration/observe";
import { realDataFolders, realStackConfig } from "../../testbed/migration/realStackConfig";
import { seedSeriesProblems, writeSeedSeries } from "../../testbed/migration/seedSeries";
import { LIVE_SERIES, USERS, Workload } from "../../testbed/migration/workload";

const ALL_CORE_SERVICES = [...CORE_SERVICES].sort();

describe("migration on the docker test hosts: the program's defaults on Pryv's 2019 core shape, under a live workload", function () {
    this.timeout(600_000);
    let th: TestHosts;
    let migration: MigrationStack;
    let source: TestHost;
    let dest: TestHost;
    let registers: TestHost[];
    let workload: Workload;
    const log: string[] = [];

    const up = async (phase: Parameters<MigrationStack["up"]>[0], extra: Record<string, unknown> = {}): Promise<UpResult["outputs"]> => {
        const t0 = Date.now();
        const result = await migration.up(phase, extra, (text) => log.push(text));
        assert.equal(result.summary.result, "succeeded");
        console.log(`      up ${phase}${typeof extra.warmSyncRound === "number" ? ` (round ${extra.warmSyncRound})` : ""}: ${Date.now() - t0} ms`);
        return result.outputs;
    };
    const ssh = async (host: TestHost, command: string): Promise<string> => {
        const r = await run("ssh", [...sshArgs(th, host), command], { timeoutMs: 120000 });
        assert.equal(r.code, 0, `${host.name}: ${command}: ${r.stderr}${r.stdout}`);
        return r.stdout;
    };
    /** State.StartedAt and State.FinishedAt of each of the host's compose services' containers, in ms. */
    const containerTimes = async (host: TestHost): Promise<Map<string, { started: number; finished: number; running: boolean }>> => {
        const daemon = { dockerHost: host.dockerHost ?? "" };
        const ids = (await docker(daemon, ["ps", "-a", "-q"])).stdout.split("\n").filter(Boolean);
        const r = await docker(daemon, [
            "inspect",
            "--format",
            '{{index .Config.Labels "com.docker.compose.service"}} {{.State.StartedAt}} {{.State.FinishedAt}} {{.State.Running}}',
            ...ids,
        ]);
        assert.equal(r.code, 0, r.stderr);
        return new Map(
            r.stdout
                .split("\n")
                .filter(Boolean)
                .map((line) => {
                    const [service, started, finished, running] = line.split(" ");
                    return [service, { started: Date.parse(started), finished: Date.parse(finished), running: running === "true" }];
                }),
        );
    };
    /** A manifest of a folder whose files may vanish while it is read (a serving dest): read again until one walk completes. */
    /** A data folder of the host, from this machine's side: in its confRoot, or the audit trail's own copy. */
    const manifestOf = async (host: TestHost, folder: string): Promise<Map<string, string>> => {
        for (let attempt = 0; ; attempt++) {
            try {
                const text = await treeManifest(host, dataFolderOn(host, folder));
                return new Map(
                    text
                        .split("\n")
                        .filter(Boolean)
                        .map((line) => [line.split("\t")[0], line]),
                );
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 10) throw e;
            }
        }
    };
    /** ctime in ms of a path on a host, or of its closest existing parent. */
    const changedAt = (host: TestHost, folder: string, rel: string): number => {
        for (let p = rel; ; p = path.dirname(p)) {
            const full = p === "." ? dataFolderOn(host, folder) : `${dataFolderOn(host, folder)}/${p}`;
            try {
                return fs.lstatSync(full).ctimeMs;
            } catch {
                if (p === ".") throw new Error(`${full} is gone`);
            }
        }
    };
    /** Every acknowledged event and point of the snapshot is in the host's databases (read past nginx and the core). */
    const assertDatabasesHold = async (host: TestHost, acked: ReturnType<Workload["acknowledged"]>): Promise<void> => {
        for (const user of USERS) {
            const ids = await eventIdsHeld(host, user);
            const missing = acked.events.filter((e) => e.user === user && !ids.has(e.id));
            assert.deepEqual(
                missing.map((e) => `${e.id} (acknowledged by ${e.by})`),
                [],
                `${user}'s acknowledged events missing from ${host.name}'s FerretDB`,
            );
            const held = new Set((await databasePoints(host, user, `${user}-${LIVE_SERIES}`)).points.map((p) => JSON.stringify(p)));
            const lost = acked.points.filter((p) => p.user === user && !held.has(JSON.stringify(p.point)));
            assert.deepEqual(
                lost.map((p) => `${JSON.stringify(p.point)} (acknowledged by ${p.by})`),
                [],
                `${user}'s acknowledged points missing from ${host.name}'s InfluxDB`,
            );
        }
        assert.deepEqual(await seedSeriesProblems(host, USERS), []);
        for (const a of acked.attachments) {
            const file = `${host.confRoot}/core/core/data/${a.user}/attachments/${a.eventId}/${a.name}`;
            assert.equal(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(missing)", a.content, `${file} (acknowledged by ${a.by})`);
        }
    };

    before(async function () {
        this.timeout(900_000); // a fresh machine builds the image first
        const t0 = Date.now();
        th = await startTestHosts({ hosts: ["source", "dest", "reg-master", "reg-slave"], engine: "docker", sampleSizeMiB: 4 });
        console.log(`      test hosts started in ${Date.now() - t0} ms`);
        ({ source, dest } = th.hosts);
        registers = [th.hosts["reg-master"], th.hosts["reg-slave"]];
        migration = await openMigrationStack(th, "realtest", realStackConfig);
        // A series written before the migration, in InfluxDB's TSM files by the time the
        // copies run: what influx_inspect verify checks on each side at the end.
        await writeSeedSeries(th, source, USERS);
        // A new machine with Pryv.io installed, not running: prepare's check starts it.
        await ssh(dest, `${dest.confRoot}/stop-containers`);
        workload = new Workload(th, source);
    });

    after(async function () {
        this.timeout(300_000);
        const failed = this.test?.parent?.tests.some((t) => t.state === "failed");
        await workload?.stop().catch((e: Error) => console.log(`      ${e.message}`));
        if (failed && th) {
            for (const host of [source, dest]) {
                const logs = await host.exec(`docker ps -a; for c in $(docker ps -a -q); do echo "== $c"; docker logs --tail 10 $c 2>&1; done`);
                console.log(`--- ${host.name}\n${logs.stdout}${logs.stderr}`);
            }
        }
        try {
            if (migration !== undefined) await migration.destroyAndRemove();
        } finally {
            if (th !== undefined) await th.stop();
        }
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(log.join("").split("\n").slice(-120).join("\n"));
        log.length = 0;
        if (workload)
            console.log(
                `      workload so far: ${workload.events.length} events, ${workload.points.length} points, ${workload.attachments.length} attachments acknowledged; ` +
                    `failed answers ${JSON.stringify(Object.fromEntries(workload.failures))}; files ${JSON.stringify(workload.churned)}`,
            );
    });

    it("prepare: dest's check starts its containers, its core answers through its nginx, and it stops them again", async () => {
        // site-443.conf's access log (testbed/nginx-conf.ts), in nginx's combined format.
        const accessLog = `${dest.confRoot}/core/nginx/log/core.access.log`;
        const statusAnswers = () =>
            (fs.existsSync(accessLog) ? fs.readFileSync(accessLog, "utf8") : "").split("\n").filter((l) => / "GET \/status HTTP\/[0-9.]+" 200 /.test(l)).length;
        const answeredBefore = statusAnswers();
        assert.deepEqual(await runningServices(dest), []);
        const t0 = Date.now();
        const outputs = await up("prepare");
        assert.ok((outputs.destHealthySeconds.value as number) > 0);
        assert.deepEqual(await runningServices(dest), []);
        const times = await containerTimes(dest);
        assert.deepEqual([...times.keys()].sort(), ALL_CORE_SERVICES);
        for (const [service, t] of times) {
            assert.ok(t.started >= t0 - 1000 && t.finished >= t.started && !t.running, `${service} on dest: ${JSON.stringify(t)}`);
        }
        // The program's default health check (GET /status through dest's own nginx) reached dest's core.
        assert.ok(statusAnswers() > answeredBefore, "no GET /status answered by dest's core in its nginx's access log");
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.equal(await servedBy(th, source), "source");
    });

    it("warm-sync, twice, while users write to source and its attachment files change under the copy", async () => {
        workload.start();
        workload.churn = true;
        await sleep(3000);
        const first = await up("warm-sync", { warmSyncRound: 1 });
        const second = await up("warm-sync", { warmSyncRound: 2 });
        workload.churn = false;
        workload.assertHealthy();
        for (const [outputs, round] of [
            [first, "warm-1"],
            [second, "warm-2"],
        ] as const) {
            const stats = outputs.warmSync.value as { folder: string; round: string; vanished: number; files: number }[];
            assert.deepEqual(
                stats.map((s) => [s.folder, s.round]),
                realDataFolders.map((folder) => [folder, round]),
            );
            for (const s of stats) assert.ok(Number.isInteger(s.vanished) && s.vanished >= 0, JSON.stringify(s));
            console.log(`      ${round}: vanished ${stats.map((s) => `${s.folder} ${s.vanished}`).join(", ")}`);
        }
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.deepEqual(await runningServices(dest), []);
        assert.equal(await servedBy(th, source), "source");
        assert.ok(workload.churned.deleted > 0 && workload.churned.renamed > 0, JSON.stringify(workload.churned));
        assert.ok(workload.events.length > 0 && workload.events.every((e) => e.by === "source"), "every write acknowledged by source while it serves");
    });

    it("cutover with nginx started as `up -d reverse_proxy` (no --no-deps): refused after the stop, before any folder is verified, naming mongodb; dest never starts; the rollback has source serve again", async () => {
        // The seed's way of starting nginx alone: compose's links bring the whole core back,
        // databases included. This test's value is that mistake; the next test runs the default.
        const compose = ["docker-compose", "-f", `${source.confRoot}/core.yml`];
        const commandsBefore = source.commands().length;
        await assert.rejects(
            migration.up("cutover", { proxy: { startCommand: [...compose, "up", "-d", "reverse_proxy"] } }, (text) => log.push(text)),
            (error: Error) => {
                assert.match(error.message, /source: still running after the stop and the start of reverse_proxy alone: [a-z_ ]*\bmongodb\b/);
                assert.match(error.message, /unless --no-deps/);
                return true;
            },
        );
        // The check ran in source's description, beside the final rounds: no verification ran, so
        // no dest-may-serve mark was written on source, and dest never started.
        const ranOnSource = source.commands().slice(commandsBefore);
        assert.ok(
            ranOnSource.some((command) => command.includes("still running after the stop")),
            ranOnSource.join("\n---\n"),
        );
        assert.ok(!ranOnSource.some((command) => command.includes("# Records on source, dest's copy verified and dest about to start")), "dest-may-serve ran");
        assert.deepEqual(await runningServices(dest), []);
        assert.ok((await runningServices(source)).includes("mongodb"), "the mistake this test makes did restart source's database");

        await up("warm-sync", { proxy: {} });
        workload.assertHealthy();
        assert.equal(await servedBy(th, source), "source");
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.deepEqual(await runningServices(dest), []);
    });

    it("cutover: users retrying through source's address are served by dest; source runs nginx alone; dest holds every acknowledged write; the trees match", async () => {
        const failuresBefore = new Map(workload.failures);
        const outputs = await up("cutover");
        workload.assertHealthy();
        assert.ok((workload.failures.get(503) ?? 0) > (failuresBefore.get(503) ?? 0), "no 503 through source's address during the cold window");
        assert.ok(workload.retryAfterOn503 > 0, "no Retry-After on the cold window's 503s");
        // HTTPS and a websocket through source's address reach dest.
        assert.equal(await servedBy(th, source), "dest");
        assert.equal(await servedBy(th, source, "carol"), "dest");
        assert.equal(await websocketReaches(th, source), "dest");
        assert.equal(await servedBy(th, dest), "dest");
        assert.deepEqual(await runningServices(source), ["reverse_proxy"]);
        assert.deepEqual(await runningServices(dest), ALL_CORE_SERVICES);
        // Wait for a write acknowledged by dest, so that the snapshot spans the cutover.
        for (let i = 0; i < 100 && !workload.events.some((e) => e.by === "dest"); i++) await sleep(100);
        const acked = workload.acknowledged();
        assert.ok(
            acked.events.some((e) => e.by === "dest"),
            "no write acknowledged by dest through source's address",
        );
        await assertDatabasesHold(dest, acked);
        assert.deepEqual(
            (outputs.contentVerified.value as { folder: string }[]).map((f) => f.folder),
            realDataFolders,
        );
        // The refused cutover's stop ended warm round 2's change journal: every final round here
        // walks, and compares by their blocks the files changed from 70 s before that round began,
        // the whole sample (written as the hosts started). Each described dest's copy from dest's
        // description before the stop and the paths it touched, not by a walk inside the outage,
        // but core/core/data: it holds the sample's two names for one attachment, and a touched
        // file with other links is described by a walk. The trees below are compared independently.
        assert.deepEqual(
            (outputs.coldSync.value as SyncStats[]).filter((round) => !round.walk).map((round) => round.folder),
            [],
        );
        assert.deepEqual(
            (outputs.destDescribed.value as { folder: string; describedBy: string }[]).map((f) => [f.folder, f.describedBy]),
            realDataFolders.map((folder) => [folder, folder === "core/core/data" ? "walk" : "patch"]),
        );

        // Identical trees, but for what dest changed since it started (its databases'
        // files, the attachments users wrote through the proxy): those entries, or for one
        // dest removed, their folder, changed on dest after its first container started.
        const destStarted = Math.min(...[...(await containerTimes(dest)).values()].map((t) => t.started));
        for (const folder of realDataFolders) {
            const [onSource, onDest] = [await manifestOf(source, folder), await manifestOf(dest, folder)];
            const differing = [...new Set([...onSource.keys(), ...onDest.keys()])].filter((rel) => onSource.get(rel) !== onDest.get(rel));
            const unexplained = differing.filter((rel) => changedAt(dest, folder, rel) < destStarted);
            assert.deepEqual(
                unexplained.map((rel) => `source: ${onSource.get(rel) ?? "(none)"} / dest: ${onDest.get(rel) ?? "(none)"}`),
                [],
                `${folder}: entries that differ on dest without dest having changed them`,
            );
            console.log(`      ${folder}: ${onSource.size} entries on source, ${differing.length} changed by dest since it started`);
        }
        assert.ok(fs.existsSync(`${dest.confRoot}/core/core/data/churnuser/attachments`));
        // The audit trail, outside confRoot, is on dest where it was on source, as rsyslog left it.
        const auditLog = (host: TestHost) => fs.readFileSync(path.join(host.pathOnHost(AUDIT_TRAIL), "churnuser", "audit.log"), "utf8");
        assert.equal(auditLog(dest), auditLog(source));
        assert.match(auditLog(dest), /churnuser events\.create ok \d+\n$/);
    });

    it("dns: every register answers dest's IP", async () => {
        await up("dns");
        assert.deepEqual(await registerAnswers(th, registers, dest.ip), [[dest.ip], [dest.ip]]);
        workload.assertHealthy();
        assert.equal(await servedBy(th, source), "dest");
    });

    it("rollback to cutover: the registers answer source's IP again", async () => {
        await up("cutover");
        assert.deepEqual(await registerAnswers(th, registers, source.ip), [[source.ip], [source.ip]]);
        workload.assertHealthy();
    });

    it("rollback to warm-sync: source serves again with every write dest acknowledged; dest stopped; both machines' databases pass their own checks", async () => {
        await up("warm-sync");
        workload.assertHealthy();
        assert.equal(await servedBy(th, source), "source");
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.deepEqual(await runningServices(dest), []);
        for (let i = 0; i < 100 && workload.events.at(-1)?.by !== "source"; i++) await sleep(100);
        await workload.stop();
        const acked = workload.acknowledged();
        const byDest = acked.events.filter((e) => e.by === "dest").length;
        assert.ok(byDest > 0, "no write acknowledged by dest");
        assert.equal(acked.events.at(-1)?.by, "source");
        console.log(
            `      acknowledged: ${acked.events.length} events (${byDest} by dest), ${acked.points.length} points, ${acked.attachments.length} attachments`,
        );
        await assertDatabasesHold(source, acked);
        for (const user of USERS) {
            const served = new Set((await readEvents(th, source, user)).map((e) => e.id));
            assert.deepEqual(
                acked.events.filter((e) => e.user === user && !served.has(e.id)).map((e) => e.id),
                [],
                `${user}'s events served by source`,
            );
        }

        // Their own checks run on stopped databases: source's stopped for them, then started again.
        await waitForTsmFiles(
            source,
            USERS.map((u) => `user.${u}`),
        );
        await ssh(source, `${source.confRoot}/stop-containers`);
        assert.deepEqual(await runningServices(source), []);
        for (const host of [source, dest]) {
            const intact = await databasesIntact(host);
            assert.ok(intact.ok, `${host.name}: ${intact.output}`);
            assert.match(intact.output, /pryv-node\.sqlite: ok/);
            console.log(`      ${host.name}: ${intact.output}`);
        }
        await ssh(source, `${source.confRoot}/run-core`);
        await waitForCore(th, source);
        assert.equal(await servedBy(th, source), "source");
        assert.deepEqual(await runningServices(source), ALL_CORE_SERVICES);
        assert.deepEqual(await runningServices(dest), []);
        for (const user of USERS) assert.ok((await readEvents(th, source, user)).some((e) => e.id === acked.events.filter((a) => a.user === user).at(-1)?.id));
    });
});
