// The pull scripts run by bash on this machine with a fake rsync that records every call.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { CopyDescription, pullScript, RoundKind } from "./folderSync";
import { jsonLines } from "./remoteStep";
import { render } from "./templates";
import { fakeCommand, machines, PrintedStats, pullFromSource, runBash, temporaryFolder } from "../testing";

const { dest } = machines();

/**
 * The pull run by bash on this machine, with a fake rsync on PATH: it lists the peer's
 * folder (empty or not), counts deletions on a dry run, and prints stats on a real run;
 * every call and the receiver's stop are written, in order, to one log.
 */
describe("pullScript, run by bash with a fake rsync", () => {
    let folder: string;
    let remove: () => void;
    let confRoot: string;
    let log: string;
    let bin: string;

    beforeEach(() => {
        ({ folder, remove } = temporaryFolder("pull"));
        confRoot = fs.realpathSync(folder);
        log = path.join(confRoot, "calls.log");
        bin = path.join(confRoot, "bin");
        fs.mkdirSync(bin);
        fakeCommand(
            bin,
            "rsync",
            [
                `echo "rsync $*" >> '${log}'`,
                // Whether the backup dir was made before rsync ran (rsync's own mkdir of it races: rsync-pull.sh), then what a real run would keep aside.
                'for word in "$@"; do case "$word" in --backup-dir=*) dir="${word#--backup-dir=}"; [ -d "$dir" ] && echo "backup dir ready" >> \'' +
                    log +
                    '\'; [ -n "${FAKE_NOTHING_KEPT:-}" ] || { mkdir -p "$dir" && echo replaced > "$dir/b"; } ;; esac; done',
                // The paths a journal round was handed, as rsync reads them (not those of the content comparison after it).
                `case " $* " in *" --dry-run "*) ;; *) for word in "$@"; do case "$word" in --files-from=*) cp "\${word#--files-from=}" '${confRoot}/files-from' ;; esac; done ;; esac`,
                'case " $* " in',
                '  *" --list-only "*) echo "drwxr-xr-x 4,096 2019/06/04 10:00:00 ."; [ -n "${FAKE_EMPTY:-}" ] || echo "-rw-r--r-- 30 2019/06/04 10:00:00 WiredTiger" ;;',
                // A warm round's count of deletions, or a final round's content comparison of what it wrote.
                '  *" --dry-run "*) for _ in $(seq "${FAKE_DELETIONS:-0}"); do echo "*deleting old"; done; printf \'%b\' "${FAKE_CHECKSUM_ITEMS:-}"; exit "${FAKE_DRY_RUN_STATUS:-0}" ;;',
                // A round that takes a while: rsync's progress figures in the log, then the wait.
                // What the copy writes on the receiver (run in its target), then what it itemizes.
                '  *) printf \'%b\' "${FAKE_PROGRESS:-}"; sleep "${FAKE_SECONDS:-0}"; (cd "${@: -1}" && eval "${FAKE_WRITES:-}")',
                "     printf '%b' \"${FAKE_ITEMS->f+++++++++ a\\n>f.st...... b c\\n.d..t...... ./\\n}\"",
                "     printf '%b' \"${FAKE_STATS-Number of files: 4 (reg: 3, dir: 1)\\nTotal file size: 30 bytes\\nTotal transferred file size: 20 bytes\\nTotal bytes received: 10\\n}\"",
                // As rsync reports files the live source deleted while it read them.
                '     for name in ${FAKE_VANISHED:-}; do echo "file has vanished: \\"/var/pryv/core/mongodb/data/$name\\"" >&2; done',
                '     exit "${FAKE_STATUS:-0}" ;;',
                "esac",
            ].join("\n"),
        );
    });
    afterEach(() => remove());

    const run = (round: RoundKind, env: Record<string, string> = {}, stdin = "", receiverConfRoot = confRoot, folder = "core/mongodb/data") => {
        fs.rmSync(log, { force: true });
        // A carry-back acts once dest may serve (source's mark just before dest's start), unless a test says otherwise.
        const destMayServe = path.join(confRoot, "home", ".pryv-migration", "unit", "dest-may-serve");
        fs.mkdirSync(path.dirname(destMayServe), { recursive: true });
        if (env.DEST_NEVER_STARTED === undefined) fs.writeFileSync(destMayServe, "");
        else fs.rmSync(destMayServe, { force: true });
        const stop = fakeCommand(bin, "stop-containers", `echo stop >> '${log}'`);
        const receiver = { ...dest, confRoot: receiverConfRoot, stopCommand: [stop] };
        const result = runBash(pullScript(pullFromSource(round, { receiver, folder, sync: { compress: "none", maxDeletions: 5 } })), {
            env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: path.join(confRoot, "home"), ...env },
            stdin,
        });
        const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : [];
        const lines = jsonLines<PrintedStats | CopyDescription>(result.stdout);
        return {
            result,
            calls,
            stats: lines.filter((line): line is PrintedStats => "round" in line),
            described: lines.filter((line): line is CopyDescription => "metadataDigest" in line),
        };
    };
    const callKinds = (calls: string[]) =>
        calls.map((call) => call.split(" ")[0] + (/--list-only/.test(call) ? " list" : /--dry-run/.test(call) ? " dry-run" : ""));
    const realRun = (calls: string[]) => calls.filter((call) => call.startsWith("rsync ") && !/--list-only|--dry-run/.test(call));

    it("warm: stops dest, counts deletions, then copies resumably with --delete bounded, and reports the round", () => {
        const { result, calls, stats } = run({ kind: "warm", round: 3 }, { FAKE_DELETIONS: "5" });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            calls.map((call) => call.split(" ")[0] + (/--list-only/.test(call) ? " list" : /--dry-run/.test(call) ? " dry-run" : "")),
            ["stop", "rsync list", "rsync dry-run", "rsync"],
        );
        const [copy] = realRun(calls);
        assert.match(copy, / --partial-dir=\.pryv-migration-partial /);
        assert.match(copy, / --delete --max-delete=5 -e /);
        assert.doesNotMatch(copy, /--inplace|--backup|--compress/);
        assert.equal(stats.length, 1);
        const [{ startedAt, finishedAt, ...rest }] = stats;
        assert.ok(finishedAt >= startedAt && startedAt > 1.5e9, `${startedAt} ${finishedAt}`);
        assert.deepEqual(rest, {
            folder: "core/mongodb/data",
            round: "warm-3",
            walk: true,
            bytesReceived: 10,
            bytesTransferred: 20,
            totalSize: 30,
            files: 4,
            changedFiles: 2,
            vanished: 0,
            delete: true,
        });
        assert.equal(fs.readFileSync(path.join(confRoot, "home", ".pryv-migration", "unit", "warm-3-core-mongodb-data.changed"), "utf8"), "a\nb c\n");
    });

    for (const [round, name] of [
        [{ kind: "warm", round: 2 }, "warm-2"],
        [{ kind: "cold" }, "cold"],
    ] as const) {
        it(`${name}: a round that runs more than 5 s reports rsync's figures on standard error, and ends when rsync does`, () => {
            const began = Date.now();
            const { result, stats } = run(round, {
                FAKE_PROGRESS:
                    ">f+++++++++ a\\n    6291456   7%   26.89MB/s    0:00:03 (xfr#3, to-chk=37/41)\\r  53575680  17%   49.58MB/s    0:00:05  \\r  1086",
                FAKE_SECONDS: "6",
            });
            const seconds = (Date.now() - began) / 1000;
            assert.equal(result.status, 0, result.stderr);
            assert.match(
                result.stderr,
                new RegExp(`^progress: ${name} of core/mongodb/data on dest, 0:00:0[56] in: 51\\.1 MiB copied \\(17%\\), 49\\.58MB/s, about 0:00:05 left\\n$`),
            );
            assert.equal(stats.length, 1);
            // A reporter left running (or its sleep holding standard error) keeps the step open for up to 30 s more.
            assert.ok(seconds < 15, `the step ended ${seconds} s after it began`);
        });
    }

    it("reports sizes past 2^31 exactly (mawk prints them as 1.6867e+10, or 2147483647 with %d)", () => {
        const stats =
            "Number of files: 13031 (reg: 13000, dir: 31)\\nTotal file size: 17014412345 bytes\\nTotal transferred file size: 16862312345 bytes\\nTotal bytes received: 16867012345\\n";
        const [round] = run({ kind: "warm", round: 1 }, { FAKE_STATS: stats }).stats;
        assert.deepEqual([round.files, round.totalSize, round.bytesTransferred, round.bytesReceived], [13031, 17014412345, 16862312345, 16867012345]);
    });

    it("warm: files source deleted while the round read them (rsync's code 24) are a live core's normal state: counted, not a failure", () => {
        const { result, stats } = run({ kind: "warm", round: 3 }, { FAKE_STATUS: "24", FAKE_VANISHED: "f1193 f1194" });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.equal(stats[0].vanished, 2);
    });

    it("warm: fails on any other rsync error, with rsync's own words", () => {
        const { result } = run({ kind: "warm", round: 3 }, { FAKE_STATUS: "23", FAKE_VANISHED: "f1" });
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^file has vanished: "\/var\/pryv\/core\/mongodb\/data\/f1"\ncore\/mongodb\/data: rsync from source .* failed with exit code 23 /,
        );
    });

    it("warm: refuses, deleting nothing, when the round would delete more than sync.maxDeletions", () => {
        const { result, calls } = run({ kind: "warm", round: 1 }, { FAKE_DELETIONS: "6" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "core/mongodb/data on dest: this round would delete 6 entries, more than sync.maxDeletions (5); nothing was deleted. Is dest really the new machine? Raise sync.maxDeletions if these deletions are expected.\n",
        );
        assert.deepEqual(realRun(calls), []);
    });

    it("warm: the round's log says what it does from its start: never an earlier run's 100% while it counts deletions", () => {
        const logFile = path.join(confRoot, "home", ".pryv-migration", "unit", "warm-2-core-mongodb-data.log");
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        fs.writeFileSync(logFile, "  1,073,741,824 100%  112.00MB/s    0:00:09 (xfr#1, to-chk=0/4)\n");
        // Refused after its dry run: what the log holds is what a reader saw while it ran.
        const { result } = run({ kind: "warm", round: 2 }, { FAKE_DELETIONS: "6" });
        assert.equal(result.status, 1);
        assert.equal(
            fs.readFileSync(logFile, "utf8"),
            "warm-2 of core/mongodb/data: counting what it would delete here (a dry run over both machines); the copy starts next\n",
        );
    });

    it("warm: refuses before anything stops or copies once a cutover began on this machine, until its rollback removed the marker", () => {
        const markers = path.join(confRoot, "home", ".pryv-migration", "unit");
        fs.mkdirSync(markers, { recursive: true });
        fs.writeFileSync(path.join(markers, "cutover-began"), "");
        const refused = run({ kind: "warm", round: 2 });
        assert.deepEqual(
            [refused.result.status, refused.result.stderr, refused.calls],
            [
                1,
                "core/mongodb/data: refusing a warm round on dest: a cutover began here and no rollback has carried its data back to source yet, so this round would overwrite what users wrote on dest. Set warmSyncRound back to its value at the cutover and run pulumi up to complete the rollback; change warmSyncRound in the next up.\n",
                [],
            ],
        );
        // The cutover's own final round runs under the marker.
        assert.equal(run({ kind: "cold" }, {}, "walk\n").result.status, 0);
        fs.rmSync(path.join(markers, "cutover-began"));
        assert.equal(run({ kind: "warm", round: 2 }).result.status, 0);
    });

    it("never deletes from a peer folder that is empty", () => {
        const { result, calls, stats } = run({ kind: "cold" }, { FAKE_EMPTY: "1", FAKE_DELETIONS: "100" });
        assert.equal(result.status, 0, result.stderr);
        const [copy] = realRun(calls);
        assert.doesNotMatch(copy, /--delete|--max-delete/);
        // Nothing on its standard input: a walk that compares every file by its blocks.
        assert.match(copy, / --inplace --ignore-times --block-size=4096 -e /);
        assert.equal(stats[0].delete, false);
        // No dry run before the copy; the one after it compares what it wrote.
        assert.deepEqual(callKinds(calls), ["stop", "rsync list", "rsync", "rsync dry-run"]);
    });

    it("says which setting stopped rsync when it hit the deletion limit (exit 25)", () => {
        const { result } = run({ kind: "cold" }, { FAKE_STATUS: "25" });
        assert.equal(result.status, 1);
        assert.match(
            result.stderr,
            /^core\/mongodb\/data on dest: rsync stopped deleting at sync\.maxDeletions \(5\) entries; .*Check why so much is gone on source before raising the setting\.\n$/,
        );
    });

    /** What the cutover's changes step hands a final round whose journal is reliable: the paths, NUL-separated, in base64. */
    const journal = (paths: string[]) => `journal\n${Buffer.from(paths.join("\0")).toString("base64")}\n`;
    const target = (...at: string[]) => path.join(confRoot, "core", "mongodb", "data", ...at);
    const markers = (...at: string[]) => path.join(confRoot, "home", ".pryv-migration", "unit", ...at);
    const put = (file: string) => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, "on dest");
    };
    /** Every entry under the target, relative to it, sorted. */
    const onDest = (): string[] => (fs.readdirSync(target(), { recursive: true }) as string[]).sort();

    it("cold, journal: copies the listed paths only, then deletes here the listed paths source no longer has, and reports no walk", () => {
        for (const file of ["a", "dir/b c", "gone file", "gone-dir/inner", "kept"]) put(target(file));
        put(path.join(confRoot, "core", "mongodb", "outside"));
        const paths = ["a", "dir/b c", "gone file", "gone-dir", "never here", "new-dir", "../outside"];
        // What rsync -ii itemizes: every listed item source still has, changed or not.
        const items = ">f.st...... a\\n.f          dir/b c\\ncd+++++++++ new-dir/\\n>f+++++++++ new-dir/n\\n";
        const { result, calls, stats } = run({ kind: "cold" }, { FAKE_ITEMS: items }, journal(paths));
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(callKinds(calls), ["stop", "rsync list", "rsync", "rsync dry-run"]);
        const [copy] = realRun(calls);
        assert.ok(
            copy.includes(
                ` --inplace --from0 --files-from=${markers("cold-core-mongodb-data.journal")} --ignore-missing-args -ii --trust-sender --ignore-times --block-size=4096 --delete --max-delete=5 -e `,
            ),
            copy,
        );
        // rrsync -ro refuses --delete-missing-args: the script deletes what is gone itself.
        assert.doesNotMatch(copy, /--delete-missing-args/);
        assert.equal(fs.readFileSync(path.join(confRoot, "files-from"), "utf8"), paths.join("\0"));
        assert.deepEqual(onDest(), ["a", "dir", "dir/b c", "kept"]);
        assert.ok(fs.existsSync(path.join(confRoot, "core", "mongodb", "outside")), "a listed path outside the folder is never deleted");
        assert.equal(fs.readFileSync(markers("cold-core-mongodb-data.changed"), "utf8"), "a\nnew-dir/n\n");
        assert.deepEqual(
            stats.map(({ round, walk, changedFiles, delete: deletes }) => [round, walk, changedFiles, deletes]),
            [["cold", false, 2, true]],
        );
    });

    it("cold, journal: never deletes through a symlink on dest that stands where source had a directory", () => {
        const outside = path.join(confRoot, "outside-the-folder");
        put(path.join(outside, "x"));
        fs.mkdirSync(target(), { recursive: true });
        fs.symlinkSync(outside, target("a"));
        put(target("gone file"));
        const { result } = run({ kind: "cold" }, { FAKE_ITEMS: "" }, journal(["a/x", "gone file"]));
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.ok(fs.existsSync(path.join(outside, "x")), "a file behind the link was deleted");
        // What is gone from source in the folder itself is deleted; the link stays for rsync to replace.
        assert.deepEqual(onDest(), ["a", "a/x"]);
        assert.ok(fs.lstatSync(target("a")).isSymbolicLink());
    });

    it("cold, journal: refuses, deleting nothing, when more listed paths than sync.maxDeletions are gone from source", () => {
        const gone = ["g1", "g2", "g3", "g4", "g5", "g6"];
        for (const file of gone) put(target(file));
        const { result } = run({ kind: "cold" }, { FAKE_ITEMS: "" }, journal(gone));
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "core/mongodb/data on dest: 6 entries are gone from source since the last warm round, more than sync.maxDeletions (5); nothing was deleted. Raise sync.maxDeletions if these deletions are expected.\n",
        );
        assert.deepEqual(onDest(), gone);
        // As many as the bound allows are deleted.
        const within = run({ kind: "cold" }, { FAKE_ITEMS: "" }, journal(gone.slice(0, 5)));
        assert.deepEqual([within.result.status, within.result.stderr, onDest()], [0, "", ["g6"]]);
    });

    it("cold, journal: deletes nothing when source's folder is empty", () => {
        put(target("gone file"));
        const { result, calls, stats } = run({ kind: "cold" }, { FAKE_EMPTY: "1", FAKE_ITEMS: "" }, journal(["gone file"]));
        assert.equal(result.status, 0, result.stderr);
        assert.doesNotMatch(realRun(calls)[0], /--delete|--max-delete/);
        assert.deepEqual(onDest(), ["gone file"]);
        assert.equal(stats[0].delete, false);
    });

    it("cold, walk: compares every file, without a list, and reports a walk; every file by its blocks when source's stop gave no time from which to, or nothing came on its standard input", () => {
        for (const [stdin, blocks] of [
            ["walk lead 1765150000\n", ""],
            ["walk\n", "--ignore-times "],
            ["", "--ignore-times "],
        ]) {
            const { result, calls, stats } = run({ kind: "cold" }, {}, stdin);
            assert.deepEqual([result.status, result.stderr], [0, ""], JSON.stringify(stdin));
            const [copy] = realRun(calls);
            assert.ok(copy.includes(` --info=progress2 --inplace ${blocks}--block-size=4096 --delete --max-delete=5 -e `), `${JSON.stringify(stdin)}: ${copy}`);
            assert.doesNotMatch(copy, /--files-from|--from0|--recursive|--ignore-missing-args| -ii /);
            assert.deepEqual(
                stats.map(({ round, walk, changedFiles }) => [round, walk, changedFiles]),
                [["cold", true, 2]],
            );
            assert.ok(!fs.existsSync(markers("cold-core-mongodb-data.journal")));
        }
    });

    it("cold: blocks of a database page (4 KiB), larger only past 2^21 blocks in the largest file the round compares here, in either mode", () => {
        // Source still has both: neither is deleted here after a journal round.
        const items = ".f          small\\n.f          big/8 GiB\\n";
        const blockSize = (stdin: string) => / --block-size=(\d+) /.exec(realRun(run({ kind: "cold" }, { FAKE_ITEMS: items }, stdin).calls)[0])?.[1];
        put(target("small"));
        fs.mkdirSync(target("big"));
        // Sparse: sizes without the bytes. 8 GiB is 2^21 blocks of 4 KiB exactly; one more byte needs 8 KiB.
        fs.writeFileSync(target("big", "8 GiB"), "");
        fs.truncateSync(target("big", "8 GiB"), 8 * 2 ** 30);
        assert.deepEqual([blockSize(journal(["small", "big/8 GiB", "gone"])), blockSize("walk\n")], ["4096", "4096"]);
        fs.truncateSync(target("big", "8 GiB"), 8 * 2 ** 30 + 1);
        assert.deepEqual([blockSize(journal(["small"])), blockSize(journal(["big/8 GiB"])), blockSize("walk\n")], ["4096", "8192", "8192"]);
        fs.truncateSync(target("big", "8 GiB"), 2 ** 43);
        assert.equal(blockSize("walk\n"), "131072");
    });

    it("cold: a round that yields lowers the priority of its whole step (what it runs next inherits it) before it stops anything; the leading round does not", () => {
        fakeCommand(bin, "renice", `echo "renice $*" >> '${log}'`);
        const reniced = (stdin: string) => {
            const { result, calls } = run({ kind: "cold" }, { FAKE_ITEMS: ">f+++++++++ a\\n" }, stdin);
            assert.deepEqual([result.status, result.stderr], [0, ""], stdin);
            for (const call of calls.filter((call) => call.startsWith("renice"))) assert.match(call, /^renice -n 10 -p \d+$/);
            return callKinds(calls);
        };
        assert.deepEqual(reniced("walk yield\n"), ["renice", "stop", "rsync list", "rsync", "rsync dry-run"]);
        assert.deepEqual(reniced(`${journal(["a"]).replace("journal", "journal yield")}`), ["renice", "stop", "rsync list", "rsync", "rsync dry-run"]);
        assert.deepEqual(reniced("walk lead\n"), ["stop", "rsync list", "rsync", "rsync dry-run"]);
        assert.deepEqual(reniced("walk\n"), ["stop", "rsync list", "rsync", "rsync dry-run"]);
    });

    it("cold: fails on any other rsync error in either mode, vanished files (24) included: source is stopped", () => {
        put(target("gone file"));
        for (const stdin of [journal(["gone file"]), "walk\n"]) {
            const { result } = run({ kind: "cold" }, { FAKE_STATUS: "24", FAKE_ITEMS: "", FAKE_VANISHED: "x" }, stdin);
            assert.equal(result.status, 1);
            assert.equal(
                result.stderr,
                `file has vanished: "/var/pryv/core/mongodb/data/x"\ncore/mongodb/data: rsync from source (10.0.0.11) to dest failed with exit code 24 (see ${markers("cold-core-mongodb-data.log")}); run the step again once the cause is fixed: it resumes\n`,
            );
        }
        assert.deepEqual(onDest(), ["gone file"]);
    });

    /** The final round's own side of the verification: dest's copy described (walked, or dest-description's patched) and what it wrote compared in content. */
    describe("cold: dest's copy described, what the round wrote compared", () => {
        it("cold: describes dest's copy once written (what verify-copy compares with source's) and compares in content every file it wrote", () => {
            put(target("a"));
            const { result, calls, described } = run({ kind: "cold" }, { FAKE_ITEMS: ">f+++++++++ a\\n" }, "walk\n");
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            const manifest = fs.readFileSync(markers("manifest-core-mongodb-data.dest"), "utf8");
            const { uid, gid, mtime } = fs.statSync(target("a"));
            assert.equal(manifest, `f\ta\t${uid}:${gid}\t644\t7\t${Math.floor(mtime.getTime() / 1000)}\n`);
            assert.deepEqual(
                described.map(({ folder, metadataDigest, contentChecked }) => [folder, metadataDigest, contentChecked]),
                [["core/mongodb/data", createHash("sha256").update(manifest).digest("hex"), 1]],
            );
            assert.match(
                calls.at(-1)!,
                new RegExp(
                    `^rsync --dry-run --checksum --itemize-changes --archive --hard-links --sparse --numeric-ids --modify-window=-1 --files-from=${markers("cold-core-mongodb-data.changed")} -e `,
                ),
            );
        });

        it("cold: fails when what it wrote differs in content from source's, naming the files, or when that comparison cannot run (no comparison is no proof)", () => {
            const differing = run({ kind: "cold" }, { FAKE_ITEMS: ">f+++++++++ a\\n", FAKE_CHECKSUM_ITEMS: ">fc........ a\\n" }, "walk\n");
            assert.deepEqual(
                [differing.result.status, differing.result.stderr, differing.described],
                [1, "core/mongodb/data: these files, written by the final round, differ in content from source's:\n>fc........ a\n", []],
            );
            const unreachable = run({ kind: "cold" }, { FAKE_ITEMS: ">f+++++++++ a\\n", FAKE_DRY_RUN_STATUS: "255" }, "walk\n");
            assert.deepEqual(
                [unreachable.result.status, unreachable.result.stderr, unreachable.described],
                [
                    1,
                    "core/mongodb/data: the content of the files the final round wrote could not be compared with source's (rsync failed, see above): dest is not started on an unverified copy. Run pulumi up again once source is reachable.\n",
                    [],
                ],
            );
            // A round that wrote nothing has nothing to compare.
            const nothing = run({ kind: "cold" }, { FAKE_ITEMS: "", FAKE_DRY_RUN_STATUS: "255" }, "walk\n");
            assert.deepEqual([nothing.result.status, nothing.result.stderr, nothing.described.map((line) => line.contentChecked)], [0, "", [0]]);
            assert.ok(!nothing.calls.some((call) => call.includes("--dry-run")));
        });

        /** dest-description.sh on the receiver, its services stopped by the fake stop. */
        const runDestDescription = () => {
            const stop = fakeCommand(bin, "stop-containers", `echo stop >> '${log}'`);
            return runBash(
                render("dest-description.sh", {
                    migrationId: "unit",
                    stopCommand: [stop],
                    confRoot,
                    folders: [{ folder: "core/mongodb/data", key: "core-mongodb-data" }],
                }),
                { env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: path.join(confRoot, "home") } },
            );
        };
        /** The digest of a walk of every entry (dest-description), and the description a final round patches. */
        const describeBeforeStop = (): string => {
            const described = runDestDescription();
            assert.deepEqual([described.status, described.stderr], [0, ""]);
            return jsonLines<{ metadataDigest: string }>(described.stdout)[0].metadataDigest;
        };
        /** The folder before the round: files, a directory the round empties and removes, one it replaces by a file, a link. */
        const beforeTheRound = () => {
            for (const file of ["a", "dir/b c", "gone-dir/inner/x", "turned/y", "kept/z"]) put(target(file));
            fs.symlinkSync("kept/z", target("link"));
            describeBeforeStop();
        };

        it("dest-description: on a dest a cutover already marked (a stack upgraded during its cutover), stops nothing and leaves no description to patch", () => {
            put(target("a"));
            describeBeforeStop();
            fs.rmSync(log);
            fs.writeFileSync(markers("cutover-began"), "");
            const described = runDestDescription();
            assert.deepEqual(
                [described.status, described.stderr, described.stdout],
                [0, "", '{"described":false,"reason":"a cutover began on dest before this step ran"}\n'],
            );
            assert.ok(!fs.existsSync(log), "something was stopped");
            assert.ok(!fs.existsSync(markers("manifest-core-mongodb-data.dest-before-stop")));
            // A final round yet to run then walks.
            fs.rmSync(markers("cutover-began"));
            const { described: round } = run({ kind: "cold" }, { FAKE_ITEMS: "" }, "walk\n");
            assert.deepEqual(
                round.map((line) => line.describedBy),
                ["walk"],
            );
        });

        it("cold, journal: describes dest's copy from its description before the stop and the paths the round touched, as a walk finds it", () => {
            beforeTheRound();
            const writes = "echo changed >> a; mkdir -p new-dir; echo n > new-dir/n; rm -r turned; echo file > turned; chmod 600 'dir/b c'";
            const items = ">f.st...... a\\n.f...p..... dir/b c\\ncd+++++++++ new-dir/\\n>f+++++++++ new-dir/n\\n>f+++++++++ turned\\n";
            const listed = ["a", "dir/b c", "gone-dir", "new-dir", "new-dir/n", "turned"];
            const { result, described } = run({ kind: "cold" }, { FAKE_ITEMS: items, FAKE_WRITES: writes }, journal(listed));
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.deepEqual(onDest(), ["a", "dir", "dir/b c", "kept", "kept/z", "link", "new-dir", "new-dir/n", "turned"]);
            assert.deepEqual(
                described.map(({ describedBy, touched, metadataDigest }) => [describedBy, touched, metadataDigest]),
                [["patch", listed.length, describeBeforeStop()]],
            );
        });

        it("cold, walk: patches dest's description from what rsync itemized, deletions included, as a walk finds it", () => {
            beforeTheRound();
            const writes = "rm -r gone-dir; echo changed >> a; mkdir new-dir; echo n > new-dir/n";
            const items =
                "*deleting   gone-dir/inner/x\\n*deleting   gone-dir/inner/\\n*deleting   gone-dir/\\n>f.st...... a\\ncd+++++++++ new-dir/\\n>f+++++++++ new-dir/n\\n.d..t...... ./\\n";
            const { result, described } = run({ kind: "cold" }, { FAKE_ITEMS: items, FAKE_WRITES: writes }, "walk\n");
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.deepEqual(
                described.map(({ describedBy, touched, metadataDigest }) => [describedBy, touched, metadataDigest]),
                [["patch", 6, describeBeforeStop()]],
            );
        });

        it("cold: walks every entry instead without a description before the stop, after a round that could not delete, or when it touched a hard-linked file", () => {
            const described = (file: string, env: Record<string, string> = {}) => {
                const { result, described } = run(
                    { kind: "cold" },
                    { FAKE_ITEMS: `>f.st...... ${file}\\n`, FAKE_WRITES: `echo changed >> ${file}`, ...env },
                    "walk\n",
                );
                assert.deepEqual([result.status, result.stderr], [0, ""]);
                return described.map(({ describedBy, metadataDigest }) => [describedBy, metadataDigest]);
            };
            for (const file of ["a", "b"]) put(target(file));
            assert.deepEqual(described("a"), [["walk", describeBeforeStop()]]);
            // Source's folder empty: nothing deleted here, so what only dest holds is not itemized.
            assert.deepEqual(described("a", { FAKE_EMPTY: "1" }), [["walk", describeBeforeStop()]]);
            fs.linkSync(target("a"), target("a-too"));
            describeBeforeStop();
            assert.deepEqual(described("a"), [["walk", describeBeforeStop()]]);
            // The patch's own lists are gone with it, and no walk left its lists behind.
            assert.deepEqual(
                fs.readdirSync(markers()).filter((name) => /\.(fresh|kept)$|^walk-/.test(name)),
                [],
            );
            // A hard-linked pair the round did not touch is described as it was.
            assert.deepEqual(described("b"), [["patch", describeBeforeStop()]]);
            assert.match(fs.readFileSync(markers("manifest-core-mongodb-data.dest"), "utf8"), /^h\ta-too\tsame file as a$/m);
        });
    });

    it("carry-back: keeps what it replaces aside under keepAside/<time>/<folder> and says where", () => {
        const keepAside = path.join(confRoot, "kept");
        const { result, calls } = run({ kind: "carry-back", keepAside });
        assert.equal(result.status, 0, result.stderr);
        const [copy] = realRun(calls);
        const kept = new RegExp(` --backup --backup-dir=(${keepAside}/\\d{8}T\\d{6}Z/core/mongodb/data) `).exec(copy)?.[1];
        assert.ok(kept !== undefined, copy);
        const [stats, keptAside] = jsonLines<Record<string, unknown>>(result.stdout);
        assert.equal(stats.round, "carry-back");
        assert.deepEqual(keptAside, { keptAside: kept });
        // Made by the script before rsync ran: rsync 3.5's own mkdir of it fails when another carry-back made a parent a moment before.
        assert.ok(calls.includes("backup dir ready"), calls.join("\n"));
    });

    it("carry-back before dest was ever started (no dest-may-serve mark on source): stops nothing, reads nothing, changes nothing", () => {
        const keepAside = path.join(confRoot, "kept");
        const { result, calls } = run({ kind: "carry-back", keepAside }, { DEST_NEVER_STARTED: "1" });
        assert.deepEqual(
            [result.status, result.stdout, result.stderr, calls],
            [0, "core/mongodb/data: not carried back: dest was never started, so it holds no write that source lacks\n", "", []],
        );
        assert.ok(!fs.existsSync(keepAside));
    });

    it("carry-back that replaced nothing: says nothing of keeping, and leaves no empty folder under keepAside", () => {
        const keepAside = path.join(confRoot, "kept");
        fs.mkdirSync(keepAside);
        const { result, calls } = run({ kind: "carry-back", keepAside }, { FAKE_NOTHING_KEPT: "1" });
        assert.equal(result.status, 0, result.stderr);
        assert.ok(calls.includes("backup dir ready"), calls.join("\n"));
        assert.deepEqual(
            jsonLines<Record<string, unknown>>(result.stdout).map((line) => Object.keys(line).includes("keptAside")),
            [false],
        );
        assert.deepEqual(fs.readdirSync(keepAside), []);
    });

    it("refuses a target that resolves outside confRoot", () => {
        const outside = temporaryFolder("outside");
        try {
            fs.mkdirSync(path.join(confRoot, "core"));
            fs.symlinkSync(outside.folder, path.join(confRoot, "core", "mongodb"));
            const { result, calls } = run({ kind: "cold" });
            assert.equal(result.status, 1);
            assert.equal(
                result.stderr,
                `refusing to sync into ${confRoot}/core/mongodb/data: it resolves to ${fs.realpathSync(outside.folder)}/data, outside PRYV_CONF_ROOT (${confRoot}, which resolves to ${confRoot})\n`,
            );
            assert.deepEqual(calls, ["stop"]);
        } finally {
            outside.remove();
        }
    });

    it("syncs a folder named by its absolute path (the audit trail) into that path, and refuses it where it is a link", () => {
        const audit = `${confRoot}-audit`;
        try {
            const { result, calls } = run({ kind: "warm", round: 1 }, {}, "", confRoot, audit);
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.match(realRun(calls)[0], new RegExp(` ${audit}/$`));
            assert.ok(fs.statSync(audit).isDirectory());
            fs.rmSync(audit, { recursive: true });
            fs.symlinkSync(confRoot, audit);
            const linked = run({ kind: "cold" }, {}, "", confRoot, audit);
            assert.deepEqual(
                [linked.result.status, linked.result.stderr],
                [1, `refusing to sync into ${audit}: it resolves to ${fs.realpathSync(confRoot)}\n`],
            );
            assert.deepEqual(linked.calls, ["stop"]);
        } finally {
            fs.rmSync(audit, { recursive: true, force: true });
        }
    });

    it("syncs into a confRoot given through a symlink (/var/pryv -> /data/pryv), the carry-back included", () => {
        const link = `${confRoot}-link`;
        fs.symlinkSync(confRoot, link);
        try {
            for (const round of [
                { kind: "carry-back", keepAside: path.join(link, "kept") },
                { kind: "warm", round: 1 },
            ] as const) {
                const { result, calls } = run(round, {}, "", link);
                assert.equal(result.status, 0, result.stderr);
                assert.ok(realRun(calls)[0].includes(` ${link}/core/mongodb/data/`), round.kind);
            }
        } finally {
            fs.rmSync(link);
        }
    });
});
