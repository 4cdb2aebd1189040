// The pull scripts run by bash on this machine with the real rsync: a final round from the
// journal or walking, and the carry-backs of every folder at once.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { folderKey } from "../config";
import { peerAccess, pullScript } from "./folderSync";
import { jsonLines } from "./remoteStep";
import { ServiceCheck, startServicesScript } from "./services";
import { fakeCommand, machines, PrintedStats, pullFromSource, runBash, temporaryFolder } from "../testing";

const { source, dest } = machines();

/** An ssh that does what the peer's sshd with rrsync -ro would: the remote rsync runs in the one folder the key reaches, under peerRoot. */
const fakePeerSsh = (bin: string): string =>
    fakeCommand(
        bin,
        "ssh",
        [
            'key=""',
            'while [ $# -gt 0 ]; do case "$1" in -i) key=$2; shift 2 ;; -o | -p | -l) shift 2 ;; -*) shift ;; *) shift; break ;; esac; done',
            'cd "$FAKE_PEER/$(basename "$key" | tr _ /)"',
            'exec "$@"',
        ].join("\n"),
    );

describe("a final round from the change journal or walking, with the real rsync", () => {
    let root: string;
    let remove: () => void;
    beforeEach(() => ({ folder: root, remove } = temporaryFolder("journal-round")));
    afterEach(() => remove());

    /** The final round of `folder` (root/source's onto root/dest's), handed `listed` as the journal's paths, or told to walk. */
    function finalRoundOf(folder: string, listed: string[] | { walkBlocksSince: number }) {
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        fakePeerSsh(bin);
        const stop = fakeCommand(bin, "stop-containers", "true");
        return runBash(
            pullScript(pullFromSource({ kind: "cold" }, { receiver: { ...dest, confRoot: path.join(root, "dest"), stopCommand: [stop] }, folder })),
            {
                env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: path.join(root, "home"), FAKE_PEER: path.join(root, "source") },
                stdin: Array.isArray(listed) ? `journal\n${Buffer.from(listed.join("\0")).toString("base64")}\n` : `walk lead ${listed.walkBlocksSince}\n`,
            },
        );
    }

    it("copies each listed entry as itself: a listed directory brings neither its unlisted files nor its subtree", () => {
        const folder = "core/influxdb/data";
        const [sourceCopy, destCopy] = [path.join(root, "source", folder), path.join(root, "dest", folder)];
        const old = new Date("2020-01-01");
        for (const [copy, content] of [
            [sourceCopy, "source's"],
            [destCopy, "dest's "],
        ] as const) {
            for (const file of ["db/listed", "db/unlisted", "db/shard/unlisted"]) {
                fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
                fs.writeFileSync(path.join(copy, file), `${content} ${file}\n`);
                fs.utimesSync(path.join(copy, file), old, new Date(old.getTime() + (content === "dest's " ? 1000 : 0)));
            }
        }
        fs.mkdirSync(path.join(sourceCopy, "new"), { recursive: true });
        fs.writeFileSync(path.join(sourceCopy, "new", "file"), "new\n");
        // The list source-stop.sh reads from the journal of ATTRIB on db and db/shard, a write to db/listed and a new directory.
        const result = finalRoundOf(folder, ["db", "db/listed", "db/shard", "new", "new/file"]);
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        const read = (file: string) => fs.readFileSync(path.join(destCopy, file), "utf8");
        assert.deepEqual(["db/listed", "db/unlisted", "db/shard/unlisted", "new/file"].map(read), [
            "source's db/listed\n",
            "dest's  db/unlisted\n",
            "dest's  db/shard/unlisted\n",
            "new\n",
        ]);
        const stats = jsonLines<PrintedStats>(result.stdout)[0];
        assert.deepEqual([stats.walk, stats.changedFiles], [false, 2]);
        // What rsync itemized: the listed entries and the folders it implies, nothing under a listed directory.
        const itemized = fs
            .readFileSync(path.join(root, "home", ".pryv-migration", "unit", `cold-${folderKey(folder)}.log`), "utf8")
            .split(/[\r\n]/)
            .flatMap((line) => /^[<>ch.][fdL][ .+a-z]{9} (.+)$/.exec(line)?.[1] ?? []);
        assert.deepEqual(itemized, ["db/", "db/listed", "db/shard/", "new/", "new/file"]);
    });

    it("copies a listed file whose size and mtime are dest's copy's and its bytes are not, as a write through a memory map leaves it (SQLite's -shm)", () => {
        const folder = "core/core/data";
        const shm = "users/e/c/i/alice/audit.sqlite-shm";
        const warmRoundAt = new Date("2026-12-07T21:20:39.768Z");
        for (const [copy, content] of [
            [path.join(root, "source", folder), "index after the warm round"],
            [path.join(root, "dest", folder), "index when the warm round "],
        ] as const) {
            fs.mkdirSync(path.dirname(path.join(copy, shm)), { recursive: true });
            fs.writeFileSync(path.join(copy, shm), content);
            fs.utimesSync(path.join(copy, shm), warmRoundAt, warmRoundAt);
        }
        const result = finalRoundOf(folder, [shm]);
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.equal(fs.readFileSync(path.join(root, "dest", folder, shm), "utf8"), "index after the warm round");
        assert.equal(jsonLines<PrintedStats>(result.stdout)[0].changedFiles, 1);
    });

    it("walking, compares by their blocks the files whose mtime is later than source's stop says, same size and mtime as dest's copies; the older ones by size and mtime; every file given 0", () => {
        const folder = "core/core/data";
        const since = Date.parse("2026-12-07T21:19:29Z") / 1000;
        // A recent file that changed, an older one that changed, a recent one that did not.
        const files = {
            "users/e/c/i/alice/audit.sqlite-shm": since + 70,
            "users/e/c/i/bob/audit.sqlite": since - 3600,
            "users/e/c/i/alice/audit.sqlite": since + 60,
        };
        const unchanged = "users/e/c/i/alice/audit.sqlite";
        const write = () => {
            for (const [copy, content] of [
                [path.join(root, "source", folder), "source's"],
                [path.join(root, "dest", folder), "dest's  "],
            ] as const) {
                for (const [file, mtime] of Object.entries(files)) {
                    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
                    fs.writeFileSync(path.join(copy, file), file === unchanged ? "source's" : content);
                    fs.utimesSync(path.join(copy, file), mtime, mtime);
                }
            }
        };
        const destHolds = () =>
            Object.keys(files).map((file) => {
                const copy = path.join(root, "dest", folder, file);
                return [fs.readFileSync(copy, "utf8"), fs.statSync(copy).mtimeMs / 1000];
            });
        write();
        const recentOnly = finalRoundOf(folder, { walkBlocksSince: since });
        assert.deepEqual([recentOnly.status, recentOnly.stderr], [0, ""]);
        // The older file keeps dest's bytes: the quick check compares it, as every walk did before. The unchanged one gets its mtime back.
        assert.deepEqual(destHolds(), [
            ["source's", since + 70],
            ["dest's  ", since - 3600],
            ["source's", since + 60],
        ]);
        // Both recent files went through rsync's delta (the unchanged one sent no literal data), and are compared in content with source's afterwards.
        assert.deepEqual([jsonLines<PrintedStats>(recentOnly.stdout)[0].walk, jsonLines<PrintedStats>(recentOnly.stdout)[0].changedFiles], [true, 2]);
        fs.rmSync(path.join(root, "bin"), { recursive: true });
        write();
        const everyFile = finalRoundOf(folder, { walkBlocksSince: 0 });
        assert.deepEqual([everyFile.status, everyFile.stderr], [0, ""]);
        assert.deepEqual(destHolds(), [
            ["source's", since + 70],
            ["source's", since - 3600],
            ["source's", since + 60],
        ]);
    });
});

describe("a warm round after dest's trial run, with the real rsync", () => {
    let root: string;
    let remove: () => void;
    beforeEach(() => ({ folder: root, remove } = temporaryFolder("trial-then-warm")));
    afterEach(() => remove());

    /**
     * Two InfluxDBs started together write their first meta.db in the same tick of the
     * filesystem's clock: the same size and mtime to the nanosecond, other bytes.
     */
    const sameTick = new Date("2026-12-06T21:23:10.001Z");
    const metaDb = "meta/meta.db";

    const warmRoundAfter = (markOwnFiles: boolean): string => {
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        fakePeerSsh(bin);
        const folder = "core/influxdb/data";
        const [sourceCopy, destCopy] = [path.join(root, "source", folder), path.join(root, "dest", folder)];
        const running = path.join(root, "running");
        const receiver = {
            ...dest,
            confRoot: path.join(root, "dest"),
            startCommand: [fakeCommand(bin, "run-core", `touch '${running}'`)],
            stopCommand: [fakeCommand(bin, "stop-containers", `rm -f '${running}'`)],
        };
        const check: ServiceCheck = { command: ["test", "-e", running], healthy: "exit-status", timeoutSeconds: 1 };
        const env = { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: path.join(root, "home"), FAKE_PEER: path.join(root, "source") };
        const ownFiles = markOwnFiles ? { dataFolders: [folder], migrationId: "unit" } : undefined;
        for (const [copy, clusterId] of [
            [sourceCopy, "source: cluster 1"],
            [destCopy, "dest:   cluster 2"],
        ] as const) {
            fs.mkdirSync(path.join(copy, "meta"), { recursive: true });
            fs.writeFileSync(path.join(copy, metaDb), clusterId);
        }
        const trial = runBash(startServicesScript(receiver, check, { stopAfterwards: true, ownFiles }), { env });
        assert.deepEqual([trial.status, trial.stderr], [0, ""]);
        for (const copy of markOwnFiles ? [sourceCopy] : [sourceCopy, destCopy]) fs.utimesSync(path.join(copy, metaDb), sameTick, sameTick);
        const round = runBash(pullScript(pullFromSource({ kind: "warm", round: 1 }, { receiver, folder })), { env });
        assert.deepEqual([round.status, round.stderr], [0, ""]);
        return fs.readFileSync(path.join(destCopy, metaDb), "utf8");
    };

    it("copies a file dest's trial run wrote with the size and nanosecond mtime of source's", () => {
        assert.equal(warmRoundAfter(true), "source: cluster 1");
    });

    it("without the trial run's marks, the quick check keeps dest's own file (what the marks are for)", () => {
        assert.equal(warmRoundAfter(false), "dest:   cluster 2");
    });
});

describe("carry-backs of every folder at once, with the real rsync", () => {
    let root: string;
    let remove: () => void;
    beforeEach(() => ({ folder: root, remove } = temporaryFolder("carry-backs")));
    afterEach(() => remove());

    /** A bash script run as a step runs it, without waiting: the engine runs the folders' carry-backs in parallel. */
    const runAsync = (script: string, env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> =>
        new Promise((resolve) => {
            const child = spawn("bash", ["-euo", "pipefail", "-c", script], { env: { ...process.env, ...env } });
            let [stdout, stderr] = ["", ""];
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
        });

    /**
     * The carry-backs of `folders` from root/dest onto root/source, run at once as the engine
     * runs them, source's stop command `stop`; dest marked as having served, so that they act.
     */
    const carryBacksAtOnce = (folders: string[], stop: string, keepAside: string) => {
        fs.mkdirSync(path.join(root, "home", ".pryv-migration", "unit"), { recursive: true });
        fs.writeFileSync(path.join(root, "home", ".pryv-migration", "unit", "dest-may-serve"), "");
        const receiver = { ...source, confRoot: path.join(root, "source"), stopCommand: [stop] };
        const env = { PATH: `${path.join(root, "bin")}:${process.env.PATH ?? ""}`, HOME: path.join(root, "home"), FAKE_PEER: path.join(root, "dest") };
        return Promise.all(
            folders.map((folder) =>
                runAsync(
                    pullScript(
                        pullFromSource(
                            { kind: "carry-back", keepAside },
                            { receiver, peerRole: "dest", access: peerAccess(dest, "carry-back", "unit"), folder },
                        ),
                    ),
                    env,
                ),
            ),
        );
    };

    it("each keeps what it replaces aside, every time: rsync 3.5 fails one now and then (code 11) when it makes the shared backup folders itself", async () => {
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        fakePeerSsh(bin);
        const stop = fakeCommand(bin, "stop-containers", "true");
        const confRoot = path.join(root, "source");
        const peer = path.join(root, "dest");
        const folders = ["core/mongodb/data", "core/core/data", "core/influxdb/data", "core/hfs/data"];
        const failures: string[] = [];
        for (let round = 0; round < 40; round++) {
            const keepAside = path.join(confRoot, "kept", String(round));
            for (const folder of folders) {
                for (const [side, content, time] of [
                    [confRoot, "source's", new Date("2020-01-01")],
                    [peer, "dest's", new Date()],
                ] as const) {
                    fs.mkdirSync(path.join(side, folder, "sub"), { recursive: true });
                    fs.writeFileSync(path.join(side, folder, "sub", "file"), `${content} ${folder}\n`);
                    fs.utimesSync(path.join(side, folder, "sub", "file"), time, time);
                }
            }
            const results = await carryBacksAtOnce(folders, stop, keepAside);
            results.forEach((result, index) => {
                const folder = folders[index];
                const kept = jsonLines<{ keptAside?: string }>(result.stdout).find((line) => line.keptAside !== undefined)?.keptAside;
                const keptFile = kept === undefined ? undefined : path.join(kept, "sub", "file");
                const carried = fs.readFileSync(path.join(confRoot, folder, "sub", "file"), "utf8") === `dest's ${folder}\n`;
                if (result.status !== 0 || !carried || keptFile === undefined || fs.readFileSync(keptFile, "utf8") !== `source's ${folder}\n`) {
                    failures.push(
                        `round ${round}, ${folder}: exit ${result.status}, carried back ${carried}, kept ${kept}: ${result.stderr.trim().split("\n").slice(-2).join(" | ")}`,
                    );
                }
            });
        }
        assert.deepEqual(failures, []);
    });

    /**
     * Carry-backs of `folders` run at once onto source, whose stop command is `stopScript`
     * (a fake writing a line to `stops` each time it runs): what each round returned, and
     * how many stops ran.
     */
    async function carryBacksStopping(folders: string[], stopScript: (stops: string) => string) {
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin);
        fakePeerSsh(bin);
        const stops = path.join(root, "stops");
        const stop = fakeCommand(bin, "stop-containers", `echo stop >> '${stops}'; ${stopScript(stops)}`);
        for (const folder of folders) fs.mkdirSync(path.join(root, "dest", folder), { recursive: true });
        const results = await carryBacksAtOnce(folders, stop, path.join(root, "source", "kept"));
        return { results, stopCount: fs.readFileSync(stops, "utf8").split("\n").filter(Boolean).length };
    }

    it("stop the services here once for the rounds that come together, never two stops at once (pryv-v1's compose `rm --stop` racing another: No such container)", async () => {
        const stopping = path.join(root, "stopping");
        const folders = ["core/mongodb/data", "core/core/data", "core/influxdb/data", "core/hfs/data"];
        const { results, stopCount } = await carryBacksStopping(
            folders,
            () => `mkdir '${stopping}' 2>/dev/null || { echo "No such container" >&2; exit 1; }; sleep 0.3; rmdir '${stopping}'`,
        );
        assert.deepEqual(
            results.map((result) => [result.status, result.stderr]),
            folders.map(() => [0, ""]),
        );
        // Each stop adds its start-up to the outage when the rounds are final ones: the rounds that waited did not stop again.
        assert.ok(stopCount >= 1 && stopCount < folders.length, `${stopCount} stops for ${folders.length} rounds`);
    });

    it("a round that waited for another's stop stops the services itself when that stop failed", async () => {
        // The first stop fails after a while (the docker daemon gone, say); the ones after it succeed.
        const { results, stopCount } = await carryBacksStopping(
            ["core/mongodb/data", "core/core/data"],
            (stops) => `[ "$(wc -l < '${stops}')" -gt 1 ] || { sleep 0.3; echo "cannot stop" >&2; exit 1; }`,
        );
        assert.deepEqual(results.map((result) => result.status).sort(), [0, 1], results.map((result) => result.stderr).join("\n"));
        assert.equal(stopCount, 2);
    });
});
