// The cutover's change-journal scripts (source's stop reading it, changes-before-stop, dest-room) run
// by bash on this machine, on journals written as inotifywait writes them, in temporary folders.
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ChangesBeforeStop, destRoomInput, FolderChanges, finalRoundInput } from "./cutoverReports";
import { jsonLines } from "../machinery/remoteStep";
import { render } from "../machinery/templates";
import { fakeCommand, machines, runBash, temporaryFolder } from "../testing";
import { stopSourceScript } from "../machinery/services";

/** Source's stop (source-stop.sh, its services and nginx stand-ins) run by bash on this machine, on a journal written as inotifywait writes it, with a stand-in recorder. */
describe("the change journal read by source's stop, run by bash on a fake change journal", () => {
    const folders = ["core/mongodb/data", "core/core/data", "core/hfs/data"];
    let remove: () => void;
    let confRoot: string;
    let home: string;
    let markers: string;
    let recorders: ChildProcess[];

    beforeEach(() => {
        const temporary = temporaryFolder("changes");
        remove = temporary.remove;
        confRoot = fs.realpathSync(temporary.folder);
        home = path.join(confRoot, "home");
        markers = path.join(home, ".pryv-migration", "unit");
        fs.mkdirSync(markers, { recursive: true });
        recorders = [];
    });
    afterEach(() => {
        for (const recorder of recorders) recorder.kill("SIGKILL");
        remove();
    });

    /** A process standing in for inotifywait, named so (the scripts stop nothing else): its pid in round 3's pid file. */
    const startRecorder = (): ChildProcess => {
        const standIn = path.join(confRoot, "inotifywait");
        fs.copyFileSync("/bin/sleep", standIn);
        fs.chmodSync(standIn, 0o755);
        const recorder = spawn(standIn, ["60"], { stdio: "ignore" });
        recorders.push(recorder);
        fs.writeFileSync(path.join(markers, "change-journal-3.pid"), `${recorder.pid}\n`);
        return recorder;
    };
    /** How the recorder ended, or "running" if it still runs after a second. */
    const ending = (recorder: ChildProcess): Promise<string> =>
        recorder.exitCode !== null || recorder.signalCode !== null
            ? Promise.resolve(String(recorder.signalCode ?? recorder.exitCode))
            : Promise.race([
                  new Promise<string>((resolve) => recorder.once("exit", (code, signal) => resolve(String(signal ?? code)))),
                  new Promise<string>((resolve) => setTimeout(() => resolve("running"), 1000)),
              ]);
    /** inotifywait's lines, `--format '%e %w%f'`. */
    const writeJournal = (events: [string, string][]) =>
        fs.writeFileSync(path.join(markers, "change-journal-3"), events.map(([event, at]) => `${event} ${confRoot}/${at}\n`).join(""));
    const run = (maxPaths = 20000) => {
        const machine = { ...machines().source, confRoot, stopCommand: ["true"] };
        const nginx = { startCommand: ["true"], runningCommand: ["echo", "reverse_proxy"], service: "reverse_proxy" };
        const script = stopSourceScript(machine, nginx, "unit", { round: 3, dataFolders: folders, maxPaths });
        const result = runBash(script, { env: { HOME: home } });
        const [stopped, ...changes] = jsonLines<FolderChanges>(result.stdout);
        assert.deepEqual(Object.keys(stopped), ["stoppedAt", "proxyStartedAt"]);
        return { result, changes };
    };
    const list = (paths: string[]) => Buffer.from(paths.join("\0")).toString("base64");

    const events: [string, string][] = [
        ["CREATE", "core/mongodb/data/collection-1.wt"],
        ["MODIFY", "core/mongodb/data/collection-1.wt"],
        ["CLOSE_WRITE,CLOSE", "core/mongodb/data/collection-1.wt"],
        ["CREATE,ISDIR", "core/mongodb/data/journal"],
        ["CREATE", "core/mongodb/data/journal/WiredTigerLog 1"],
        // The watched folder itself, as inotifywait writes it (a trailing slash): not a path to copy.
        ["ATTRIB,ISDIR", "core/mongodb/data/"],
        ["DELETE", "core/mongodb/data/old.wt"],
        ["MOVED_FROM", "core/core/data/a"],
        ["MOVED_TO", "core/core/data/b"],
        ["MODIFY", "core/core/data/b"],
        // A sibling whose name starts like a folder's, and a folder not asked for.
        ["MODIFY", "core/core/data-old/c"],
        ["MODIFY", "core/influxdb/data/d"],
    ];
    const mongodbPaths = ["collection-1.wt", "journal", "journal/WiredTigerLog 1", "old.wt"];

    it("a reliable journal: each folder's paths relative to it, once each, sorted, NUL-separated in base64; the recorder stopped", async () => {
        const recorder = startRecorder();
        writeJournal(events);
        const { result, changes } = run();
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(changes, [
            { folder: "core/mongodb/data", journal: true, paths: 4, list: list(mongodbPaths) },
            { folder: "core/core/data", journal: true, paths: 2, list: list(["a", "b"]) },
            { folder: "core/hfs/data", journal: true, paths: 0, list: "" },
        ]);
        assert.equal(await ending(recorder), "SIGTERM");
        // What the final round reads: the list decodes back to the paths; an unchanged folder copies nothing.
        const [mode, encoded] = finalRoundInput(changes[0], "lead").split("\n");
        assert.deepEqual([mode, Buffer.from(encoded, "base64").toString().split("\0")], ["journal lead", mongodbPaths]);
        assert.equal(finalRoundInput(changes[2], "yield"), "journal yield\n\n");
    });

    it("waits until the recorder wrote the event of a file it touched in the flush folder: a write whose event comes late is listed; the flush file is not", async () => {
        // A recorder slower than any fixed wait: the event of the last write before the stop comes half a second after the flush file appears, then the flush file's own.
        const flush = path.join(markers, "change-journal-flush");
        fs.mkdirSync(flush);
        const journal = path.join(markers, "change-journal-3");
        const standIn = path.join(confRoot, "inotifywait");
        fs.copyFileSync("/bin/bash", standIn);
        const recorder = spawn(
            standIn,
            [
                "-c",
                'until [ -n "$(ls "$1")" ]; do sleep 0.01; done; sleep 0.5; echo "MODIFY $2/core/core/data/late" >> "$3"; echo "CREATE $1/$(ls "$1")" >> "$3"; sleep 60 & wait',
                "recorder",
                flush,
                confRoot,
                journal,
            ],
            { stdio: "ignore" },
        );
        recorders.push(recorder);
        fs.writeFileSync(path.join(markers, "change-journal-3.pid"), `${recorder.pid}\n`);
        writeJournal([["MODIFY", "core/core/data/a"]]);
        const { result, changes } = run();
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(changes, [
            { folder: "core/mongodb/data", journal: true, paths: 0, list: "" },
            { folder: "core/core/data", journal: true, paths: 2, list: list(["a", "late"]) },
            { folder: "core/hfs/data", journal: true, paths: 0, list: "" },
        ]);
        assert.equal(await ending(recorder), "SIGTERM");
        assert.deepEqual(fs.readdirSync(flush), [], "the flush file is removed");
    });

    it("with the real inotifywait: change-journal-start.sh records the folders and its flush folder; every write made just before is listed, the flush file in no folder", async () => {
        for (const folder of folders) fs.mkdirSync(path.join(confRoot, folder), { recursive: true });
        const started = runBash(render("change-journal-start.sh", { migrationId: "unit", round: 3, confRoot, folders }), { env: { HOME: home } });
        assert.deepEqual([started.status, jsonLines(started.stdout)], [0, [{ journal: true }]], started.stderr);
        const recorderPid = Number(fs.readFileSync(path.join(markers, "change-journal-3.pid"), "utf8"));
        try {
            const written = Array.from({ length: 200 }, (_, index) => `file-${String(index).padStart(3, "0")}`);
            for (const name of written) fs.writeFileSync(path.join(confRoot, "core/core/data", name), name);
            const { result, changes } = run();
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.deepEqual(changes, [
                { folder: "core/mongodb/data", journal: true, paths: 0, list: "" },
                { folder: "core/core/data", journal: true, paths: 200, list: list(written) },
                { folder: "core/hfs/data", journal: true, paths: 0, list: "" },
            ]);
            assert.match(fs.readFileSync(path.join(markers, "change-journal-3"), "utf8"), /^CREATE .*\/change-journal-flush\/\d+$/m);
            assert.deepEqual(fs.readdirSync(path.join(markers, "change-journal-flush")), []);
            assert.equal(fs.existsSync(path.join(markers, "change-journal-3.pid")), false, "the recorder is stopped");
        } finally {
            try {
                process.kill(recorderPid, "SIGKILL");
            } catch {
                // stopped by the script, as it should be
            }
        }
    });

    it("changes-before-stop: counts, the recorder still running, each folder's deletions and bytes to write; refuses over sync.maxDeletions", async () => {
        const recorder = startRecorder();
        writeJournal(events);
        const write = (at: string, bytes: number) => {
            fs.mkdirSync(path.dirname(path.join(confRoot, at)), { recursive: true });
            fs.writeFileSync(path.join(confRoot, at), "x".repeat(bytes));
        };
        // Bytes on disk, in 4 KiB blocks: holes do not count.
        write("core/mongodb/data/collection-1.wt", 3 * 4096);
        write("core/mongodb/data/journal/WiredTigerLog 1", 4096);
        write("core/core/data/b", 4096);
        fs.truncateSync(path.join(confRoot, "core/core/data/b"), 2 ** 20);
        const nulTerminated = (paths: string[]) => Buffer.from(paths.map((at) => `${at}\0`).join("")).toString("base64");
        const check = (maxDeletions: number) =>
            runBash(render("changes-before-stop.sh", { migrationId: "unit", round: 3, confRoot, folders, maxDeletions }), { env: { HOME: home } });
        const passed = check(1);
        assert.deepEqual([passed.status, passed.stderr], [0, ""]);
        const counted = jsonLines<ChangesBeforeStop>(passed.stdout);
        assert.deepEqual(
            counted.map(({ folder, journal, deleted, list: paths }) => [folder, journal, deleted, paths]),
            [
                ["core/mongodb/data", true, 1, nulTerminated(["collection-1.wt", "journal", "journal/WiredTigerLog 1"])],
                ["core/core/data", true, 1, nulTerminated(["b"])],
                ["core/hfs/data", true, 0, ""],
            ],
        );
        // Regular files only: the listed directory `journal` is copied as itself, its file counted where it is listed.
        assert.deepEqual(
            counted.map(({ bytes }) => bytes),
            [4 * 4096, 4096, 0],
        );
        assert.equal(await ending(recorder), "running");

        const refused = check(0);
        assert.equal(refused.status, 1);
        assert.equal(
            refused.stderr,
            "core/mongodb/data: 1 entries deleted on source since the last warm round began, more than sync.maxDeletions (0)\n" +
                "core/core/data: 1 entries deleted on source since the last warm round began, more than sync.maxDeletions (0)\n" +
                "The cutover stops here, source still serving: the final round would stop deleting at that bound with users locked out. Raise sync.maxDeletions if these deletions are expected, or run another warm round first.\n",
        );

        // dest: room for what source would write, less what dest already holds under the same paths.
        const destRoot = path.join(confRoot, "dest");
        const room = (changes: ChangesBeforeStop[]) => runBash(render("dest-room.sh", { confRoot: destRoot }), { stdin: destRoomInput(changes) });
        // dest already holds one block of collection-1.wt, and a directory `journal` full of files the list does not name.
        fs.mkdirSync(path.join(destRoot, "core/mongodb/data/journal"), { recursive: true });
        fs.writeFileSync(path.join(destRoot, "core/mongodb/data/collection-1.wt"), "y".repeat(4096));
        fs.writeFileSync(path.join(destRoot, "core/mongodb/data/journal/WiredTigerPreplog 1"), "z".repeat(5000));
        const enough = room(counted);
        assert.deepEqual([enough.status, enough.stderr], [0, ""]);
        assert.deepEqual(
            jsonLines<{ folder: string; needed: number }>(enough.stdout).map(({ folder, needed }) => [folder, needed]),
            [
                ["core/mongodb/data", 3 * 4096],
                ["core/core/data", 4096],
                ["core/hfs/data", 0],
            ],
        );
        const short = room([{ ...counted[1], bytes: 1e18 }]);
        assert.equal(short.status, 1);
        assert.match(
            short.stderr,
            /^core\/core\/data: the final round may write 1000000000000000000 bytes more than dest holds there, and .*\/dest\/core\/core\/data has \d+ bytes free\nThe cutover stops here, source still serving: free space on dest first\.\n$/,
        );
    });

    it("dest-room: sums past 2^31 bytes (mawk's printf %d stops there)", () => {
        const bin = path.join(confRoot, "bin");
        fs.mkdirSync(bin);
        // Every listed path a regular file of 4 GiB on disk.
        fakeCommand(bin, "stat", `for path in "\${@:4}"; do printf 'regular file\\t8388608\\t512\\n'; done`);
        fs.mkdirSync(path.join(confRoot, "dest/core/core/data"), { recursive: true });
        const result = runBash(render("dest-room.sh", { confRoot: path.join(confRoot, "dest") }), {
            stdin: destRoomInput([{ folder: "core/core/data", journal: true, bytes: 5e9, list: Buffer.from("a\0").toString("base64") }]),
            env: { PATH: `${bin}:${process.env.PATH}` },
        });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.equal(jsonLines<{ needed: number }>(result.stdout)[0].needed, 5e9 - 2 ** 32);
    });

    it("a directory created or moved in since lists everything it holds at the stop; one whose attributes changed lists itself alone", async () => {
        startRecorder();
        for (const at of ["new/old-enough", "new/inner/deep", "moved in/a", "attrib only/unchanged", "gone dir"]) {
            fs.mkdirSync(path.dirname(path.join(confRoot, "core/core/data", at)), { recursive: true });
            if (at !== "gone dir") fs.writeFileSync(path.join(confRoot, "core/core/data", at), "x");
        }
        // A link made a directory's name by an event: never followed.
        fs.symlinkSync(path.join(confRoot, "core/core/data/attrib only"), path.join(confRoot, "core/core/data/link"));
        writeJournal([
            // Its files were written before inotifywait set the new directory's watch: no event of theirs.
            ["CREATE,ISDIR", "core/core/data/new"],
            ["MOVED_TO,ISDIR", "core/core/data/moved in"],
            // chown -R, a container's entrypoint: every directory's attributes, none of its content.
            ["ATTRIB,ISDIR", "core/core/data/attrib only"],
            ["CREATE,ISDIR", "core/core/data/link"],
            ["CREATE,ISDIR", "core/core/data/gone dir/x"],
        ]);
        const { result, changes } = run();
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(changes[1], {
            folder: "core/core/data",
            journal: true,
            paths: 9,
            list: list(["attrib only", "gone dir/x", "link", "moved in", "moved in/a", "new", "new/inner", "new/inner/deep", "new/old-enough"]),
        });
    });

    it("changes-before-stop: without a live recorder, says so and refuses nothing (the final round's own bound applies)", () => {
        const result = runBash(render("changes-before-stop.sh", { migrationId: "unit", round: 3, confRoot, folders, maxDeletions: 0 }), {
            env: { HOME: home },
        });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            jsonLines<ChangesBeforeStop>(result.stdout),
            folders.map((folder) => ({ folder, journal: false })),
        );
    });

    it("more paths than maxPaths in a folder: that folder walks, the others keep their lists", async () => {
        startRecorder();
        writeJournal(events);
        const { result, changes } = run(2);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(changes, [
            { folder: "core/mongodb/data", journal: false, reason: "4 paths changed, more than 2", since: 0 },
            { folder: "core/core/data", journal: true, paths: 2, list: list(["a", "b"]) },
            { folder: "core/hfs/data", journal: true, paths: 0, list: "" },
        ]);
        assert.deepEqual(
            changes.map((entry) => finalRoundInput(entry, "yield")),
            ["walk yield 0\n", `journal yield\n${list(["a", "b"])}\n`, "journal yield\n\n"],
        );
    });

    it("the kernel's queue overflowed: every folder walks, saying why", async () => {
        const recorder = startRecorder();
        writeJournal(events.slice(0, 3));
        fs.appendFileSync(path.join(markers, "change-journal-3"), "Q_OVERFLOW \n");
        const { result, changes } = run();
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(
            changes,
            folders.map((folder) => ({ folder, journal: false, reason: "the kernel dropped change events (queue overflow)", since: 0 })),
        );
        assert.equal(await ending(recorder), "SIGTERM");
    });

    it("a recorder that died, or none at all: every folder walks, saying why", async () => {
        const dead = startRecorder();
        dead.kill("SIGKILL");
        assert.equal(await ending(dead), "SIGKILL");
        writeJournal(events);
        const walks = folders.map((folder) => ({ folder, journal: false, reason: "no change journal was recording since warm round 3 began", since: 0 }));
        const afterDeath = run();
        assert.deepEqual([afterDeath.result.status, afterDeath.changes], [0, walks], afterDeath.result.stderr);
        fs.rmSync(path.join(markers, "change-journal-3.pid"), { force: true });
        const never = run();
        assert.deepEqual([never.result.status, never.changes], [0, walks], never.result.stderr);
    });

    it("a walk compares by their blocks the files changed from twice the kernel's writeback delay before the warm round began (its start as change-journal-start.sh wrote it); every file when that start is unknown", () => {
        const began = 1_765_150_000;
        fs.writeFileSync(path.join(markers, "change-journal-3.began"), `${began}\n`);
        const centiseconds = (name: string) => Number(fs.readFileSync(`/proc/sys/vm/${name}`, "utf8"));
        const delay = Math.floor((2 * (centiseconds("dirty_expire_centisecs") + centiseconds("dirty_writeback_centisecs"))) / 100);
        const { result, changes } = run();
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(
            changes.map((entry) => [entry.since, finalRoundInput(entry, "lead")]),
            folders.map(() => [began - delay - 1, `walk lead ${began - delay - 1}\n`]),
        );
        // The start as change-journal-start.sh writes it; change-journal-stop.sh removes it with the journal.
        const start = render("change-journal-start.sh", { migrationId: "unit", round: 3, confRoot, folders });
        const before = Math.floor(Date.now() / 1000);
        runBash(start, { env: { HOME: home, PATH: "/usr/bin:/bin" } });
        const written = Number(fs.readFileSync(path.join(markers, "change-journal-3.began"), "utf8"));
        assert.ok(written >= before && written <= Date.now() / 1000, `began ${written}, test started at ${before}`);
        runBash(render("change-journal-stop.sh", { migrationId: "unit", round: 3 }), { env: { HOME: home } });
        assert.equal(fs.existsSync(path.join(markers, "change-journal-3.began")), false);
    });
});
