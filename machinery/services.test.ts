import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { jsonLines } from "./remoteStep";
import { proxyServingScript, serviceCheck, ServiceCheck, sourceBackScript, startServicesScript, stopServicesScript, stopSourceScript } from "./services";
import { fakeCommand, machines, runBash, temporaryFolder } from "../testing";

describe("serviceCheck", () => {
    it("by default asks the machine's own nginx for the core's name over https, on 127.0.0.1, printing the answer and its status", () => {
        assert.deepEqual(serviceCheck({ path: "/status", timeoutSeconds: 180 }, "pryv.example.com", "co1"), {
            command: [
                "curl",
                "--silent",
                "--show-error",
                "--insecure",
                "--max-time",
                "10",
                "--resolve",
                "co1.pryv.example.com:443:127.0.0.1",
                "--write-out",
                "\\n%{http_code}",
                "https://co1.pryv.example.com/status",
            ],
            healthy: "core-answer",
            timeoutSeconds: 180,
        });
    });

    it("runs the configured command instead when there is one, healthy when it exits 0", () => {
        assert.deepEqual(serviceCheck({ command: ["/usr/local/bin/pryv-health"], path: "/", timeoutSeconds: 5 }, "pryv.example.com", "co1"), {
            command: ["/usr/local/bin/pryv-health"],
            healthy: "exit-status",
            timeoutSeconds: 5,
        });
    });
});

/** The default check's answer, as curl prints it (body, then the status on a line of its own), judged by the wait. */
describe("the default health check, run by bash against answers a machine may give", () => {
    let folder: string;
    let remove: () => void;
    beforeEach(() => ({ folder, remove } = temporaryFolder("health")));
    afterEach(() => remove());
    const healthyWith = (answer: string, exitCode = 0): { status: number | null; stderr: string } => {
        fs.writeFileSync(path.join(folder, "answer"), answer);
        const curl = fakeCommand(folder, "curl", `cat '${path.join(folder, "answer")}'\nexit ${exitCode}`);
        const check: ServiceCheck = { ...serviceCheck({ path: "/status", timeoutSeconds: 1 }, "pryv.example.com", "co1"), timeoutSeconds: 1 };
        return runBash(proxyServingScript({ ...check, command: [curl, ...check.command.slice(1)] }));
    };
    const apiAnswer = (status: number) => `{"meta":{"apiVersion":"1.3.51","serverTime":1559000000},"error":{"id":"unknown-resource"}}\n${status}`;

    it("is healthy on any answer of the core, an API error included (a 2019 core has no /status route)", () => {
        for (const status of [200, 401, 404]) assert.equal(healthyWith(apiAnswer(status)).status, 0, String(status));
    });

    it("waits on nginx's own pages, the cold window's 503, a 5xx of the core, and no answer at all", () => {
        for (const answer of [
            "<html><head><title>502 Bad Gateway</title></head></html>\n502",
            "<html><body>Pryv.io is moving to a new machine</body></html>\n503",
            apiAnswer(500),
            "<html><body>Welcome to nginx!</body></html>\n200",
        ]) {
            const result = healthyWith(answer);
            assert.equal(result.status, 1, answer);
            assert.match(result.stderr, /^not healthy after 1s: /, answer);
        }
        assert.match(healthyWith("curl: (7) Failed to connect\n000", 7).stderr, /^not healthy after 1s: curl: \(7\) Failed to connect\n000\n$/);
    });
});

/**
 * A machine on this one: its services are a file that exists while they run; start, stop,
 * the proxy's start and the health check are fake commands that log what they do, in order.
 */
describe("service scripts, run by bash on a fake machine", () => {
    let folder: string;
    let remove: () => void;
    let log: string;
    let running: string;
    let machine: ReturnType<typeof machines>["source"];
    let check: ServiceCheck;
    const home = () => path.join(folder, "home");
    const marker = () => path.join(home(), ".pryv-migration", "unit", "source-stopped");
    const logged = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : []);
    const run = (script: string) => runBash(script, { env: { HOME: home() } });

    beforeEach(() => {
        ({ folder, remove } = temporaryFolder("services"));
        log = path.join(folder, "log");
        running = path.join(folder, "running");
        const record = (what: string) => `echo "${what}" >> '${log}'`;
        const markerState = `$([ -e '${path.join(folder, "home", ".pryv-migration", "unit", "source-stopped")}' ] && echo marked || echo unmarked)`;
        machine = {
            ...machines().source,
            confRoot: folder,
            startCommand: [fakeCommand(folder, "run-core", `${record("start")}\ntouch '${running}'`)],
            stopCommand: [fakeCommand(folder, "stop-containers", `${record(`stop (${markerState})`)}\nrm -f '${running}'`)],
        };
        check = { command: [fakeCommand(folder, "health", `test -e '${running}'`)], healthy: "exit-status", timeoutSeconds: 1 };
    });
    afterEach(() => remove());

    it("start: starts, waits until healthy, then stops again when asked, printing when", () => {
        const result = run(startServicesScript(machine, check, { stopAfterwards: true }));
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(logged(), ["start", "stop (unmarked)"]);
        const [times, stopped] = jsonLines<Record<string, number>>(result.stdout);
        assert.deepEqual(Object.keys(times), ["startedAt", "healthyAt"]);
        assert.ok(times.healthyAt >= times.startedAt && stopped.stoppedAt >= times.healthyAt);
        assert.equal(fs.existsSync(running), false);
    });

    it("start: leaves the services running when not asked to stop", () => {
        const result = run(startServicesScript(machine, check, { stopAfterwards: false }));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(logged(), ["start"]);
        assert.equal(jsonLines(result.stdout).length, 1);
        assert.ok(fs.existsSync(running));
    });

    it("a trial run marks what was in its data folders, then only what it writes, as the machine's own: the epoch as mtime", () => {
        const influx = path.join(folder, "core", "influxdb", "data");
        const audit = path.join(folder, "audit");
        const ownFiles = { dataFolders: ["core/influxdb/data", audit, "core/never-made"], migrationId: "unit" };
        fs.mkdirSync(path.join(influx, "meta"), { recursive: true });
        fs.mkdirSync(audit);
        const mtime = (file: string) => Math.round(fs.statSync(file).mtimeMs);
        const copiedAt = new Date("2026-01-01T00:00:00.123Z");
        const leftByTrial = path.join(audit, "left-by-an-earlier-trial");
        fs.writeFileSync(leftByTrial, "dest's own");
        fs.utimesSync(leftByTrial, copiedAt, copiedAt);
        // The core writes meta.db, as InfluxDB does when it starts.
        const metaDb = path.join(influx, "meta", "meta.db");
        const trial = { ...machine, startCommand: [fakeCommand(folder, "run-core-writing", `touch '${running}'\necho run >> '${metaDb}'`)] };

        const first = run(startServicesScript(trial, check, { stopAfterwards: true, ownFiles }));
        assert.deepEqual([first.status, first.stderr], [0, ""]);
        assert.deepEqual([mtime(metaDb), mtime(leftByTrial)], [0, 0], "before any round, everything there is dest's own");

        // A round's copy, written (ctime) a moment before the next trial run starts.
        const copied = path.join(influx, "copied-by-a-round");
        fs.writeFileSync(copied, "source's");
        fs.utimesSync(copied, copiedAt, copiedAt);
        fs.utimesSync(metaDb, copiedAt, copiedAt);
        spawnSync("sleep", ["0.3"]);
        const again = run(startServicesScript(trial, check, { stopAfterwards: true, ownFiles }));
        assert.deepEqual([again.status, again.stderr], [0, ""]);
        assert.deepEqual([mtime(copied), mtime(metaDb)], [copiedAt.getTime(), 0], "a round's copy keeps its time; what the core rewrote loses it");
        assert.equal(fs.readFileSync(copied, "utf8"), "source's");
    });

    it("start: marks nothing when the services keep running (the cutover's start of dest)", () => {
        const result = run(startServicesScript(machine, check, { stopAfterwards: false, ownFiles: { dataFolders: ["."], migrationId: "unit" } }));
        assert.equal(result.status, 0, result.stderr);
        assert.equal(fs.existsSync(path.join(home(), ".pryv-migration", "unit", "trial-run")), false);
        assert.notEqual(fs.statSync(log).mtimeMs, 0);
    });

    it("start: fails with the health check's words when the machine does not become healthy in time", () => {
        const broken: ServiceCheck = { command: ["sh", "-c", "echo 'connection refused' >&2; exit 7"], healthy: "exit-status", timeoutSeconds: 1 };
        const result = run(startServicesScript(machine, broken, { stopAfterwards: true }));
        assert.equal(result.status, 1);
        assert.equal(result.stderr, "not healthy after 1s: connection refused\n");
        assert.deepEqual(logged(), ["start"], "nothing else runs");
    });

    it("stop: stops every service and prints when", () => {
        fs.writeFileSync(running, "");
        const result = run(stopServicesScript(machine));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(logged(), ["stop (unmarked)"]);
        assert.deepEqual(Object.keys(jsonLines<object>(result.stdout)[0]), ["stoppedAt"]);
    });

    const nginxAlone = () => ({
        startCommand: [fakeCommand(folder, "start-proxy", `echo "proxy $*" >> '${log}'`), "reverse_proxy"],
        runningCommand: [fakeCommand(folder, "list-running", `echo "running" >> '${log}'\nprintf '%s\\n' reverse_proxy`)],
        service: "reverse_proxy",
    });

    const journal = { round: 2, dataFolders: ["core/core/data"], maxPaths: 10 };

    it("stop source: writes the source-stopped marker before it stops anything, then starts nginx alone; prints what the journal says of each folder", () => {
        const result = run(stopSourceScript(machine, nginxAlone(), "unit", journal));
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        // What runs besides nginx is checked by source's description (cutoverScripts.test.ts), beside the final rounds.
        assert.deepEqual(logged(), ["stop (marked)", "proxy reverse_proxy"]);
        assert.ok(fs.existsSync(marker()));
        const [stopped, ...folders] = jsonLines<{ stoppedAt: number; proxyStartedAt: number }>(result.stdout);
        assert.ok(stopped.proxyStartedAt >= stopped.stoppedAt);
        // No recorder ran here: the folder walks (the journal's own cases: cutoverJournalScripts.test.ts).
        assert.deepEqual(folders, [{ folder: "core/core/data", journal: false, reason: "no change journal was recording since warm round 2 began", since: 0 }]);
    });

    describe("source back", () => {
        let siteFile: string;
        const original = "server { listen 443 ssl; }\n";
        beforeEach(() => {
            siteFile = path.join(folder, "site-443.conf");
            fs.writeFileSync(siteFile, "# proxy to dest\n");
            fs.writeFileSync(`${siteFile}.pryv-migration-original`, original);
        });
        const sourceBack = () => sourceBackScript(machine, siteFile, check, "unit");

        it("puts the original nginx file back and restarts nothing when the cutover never stopped source", () => {
            const result = run(sourceBack());
            assert.deepEqual([result.status, result.stdout, result.stderr], [0, "", ""]);
            assert.equal(fs.readFileSync(siteFile, "utf8"), original);
            assert.equal(fs.existsSync(`${siteFile}.pryv-migration-original`), false);
            assert.deepEqual(logged(), []);
        });

        it("puts the original file back, then restarts source and waits until it serves, when the cutover had stopped it", () => {
            fs.mkdirSync(path.dirname(marker()), { recursive: true });
            fs.writeFileSync(marker(), "100.0\n");
            const destMayServe = path.join(path.dirname(marker()), "dest-may-serve");
            fs.writeFileSync(destMayServe, "");
            const result = run(sourceBack());
            // Last, after the carry-backs that read it: the next cutover's carry-backs wait for their own dest's start.
            assert.equal(fs.existsSync(destMayServe), false);
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.equal(fs.readFileSync(siteFile, "utf8"), original);
            assert.deepEqual(logged(), ["stop (marked)", "start"]);
            assert.ok(fs.existsSync(running));
            assert.equal(fs.existsSync(marker()), false, "the marker is removed once source serves");
            assert.deepEqual(Object.keys(jsonLines<object>(result.stdout)[0]), ["sourceServingAt"]);
        });

        it("runs again safely: the file already back and the marker gone, it does nothing", () => {
            fs.mkdirSync(path.dirname(marker()), { recursive: true });
            fs.writeFileSync(marker(), "100.0\n");
            assert.equal(run(sourceBack()).status, 0);
            const again = run(sourceBack());
            assert.deepEqual([again.status, again.stdout, again.stderr], [0, "", ""]);
            assert.equal(fs.readFileSync(siteFile, "utf8"), original);
            assert.deepEqual(logged(), ["stop (marked)", "start"]);
        });

        it("keeps the marker when source does not come back healthy, so that running it again restarts source again", () => {
            fs.mkdirSync(path.dirname(marker()), { recursive: true });
            fs.writeFileSync(marker(), "100.0\n");
            const result = runBash(sourceBackScript(machine, siteFile, { command: ["false"], healthy: "exit-status", timeoutSeconds: 1 }, "unit"), {
                env: { HOME: home() },
            });
            assert.equal(result.status, 1);
            assert.match(result.stderr, /^not healthy after 1s: /);
            assert.ok(fs.existsSync(marker()));
        });
    });

    it("proxy serving: waits until the health check through source's nginx passes, and prints when", () => {
        fs.writeFileSync(running, "");
        const result = run(proxyServingScript(check));
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(Object.keys(jsonLines<object>(result.stdout)[0]), ["servingAt"]);
        fs.rmSync(running);
        const waiting = run(proxyServingScript(check));
        assert.equal(waiting.status, 1);
        assert.equal(waiting.stderr, "not healthy after 1s: \n");
    });
});
