// The cutover's verifications run by bash on this machine, against a fake rsync and temporary
// folders: what each does with what it finds, and the check that source reaches dest's folders
// for a carry-back (the component tests check the wiring; the journal
// scripts are in cutoverJournalScripts.test.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders, folderKey } from "../config";
import { FolderDescription } from "./cutoverReports";
import { peerAccess, peerRsyncValues } from "../machinery/folderSync";
import { jsonLines } from "../machinery/remoteStep";
import { render } from "../machinery/templates";
import { assertInOrder, fakeCommand, machines, runBash, temporaryFolder } from "../testing";

const { source, dest } = machines();
const pullAccess = peerAccess(source, "pull", "unit");
const carryBackAccess = peerAccess(dest, "carry-back", "unit");

/**
 * The verifications on dest, run by bash on this machine with a fake rsync: source's copy is
 * a local folder, dest's description is the one data-manifest.sh (describe-folder) writes.
 */
describe("verify-copy.sh and verify-content.sh, run by bash with a fake rsync", () => {
    const folder = "core/core/data";
    const key = folderKey(folder);
    let remove: () => void;
    let root: string;
    let env: Record<string, string>;
    let log: string;
    let sourceCopy: string;
    let target: string;

    beforeEach(() => {
        const temporary = temporaryFolder("verify");
        remove = temporary.remove;
        root = fs.realpathSync(temporary.folder);
        const bin = path.join(root, "bin");
        log = path.join(root, "calls.log");
        sourceCopy = path.join(root, "source", folder);
        target = path.join(root, "dest", folder);
        fs.mkdirSync(bin);
        for (const copy of [sourceCopy, target]) {
            fs.mkdirSync(path.join(copy, "journal"), { recursive: true });
            fs.writeFileSync(path.join(copy, "same 1.wt"), "source bytes");
            fs.writeFileSync(path.join(copy, "journal", "rewritten.log"), "log");
            for (const file of ["same 1.wt", "journal/rewritten.log"]) fs.utimesSync(path.join(copy, file), 1_600_000_000, 1_600_000_000);
        }
        fakeCommand(
            bin,
            "rsync",
            [
                `echo "rsync $*" >> '${log}'`,
                'case " $* " in',
                '  *" --list-only "*) echo "drwxr-xr-x 4096 2019/06/04 10:00:00 ."; echo "-rw-r--r-- 12 2019/06/04 10:00:00 same 1.wt" ;;',
                // The content comparisons: what differs, as rsync itemizes it.
                '  *" --dry-run "*) printf \'%b\' "${FAKE_ITEMS:-}"; case " $* " in *" --stats "*) echo \'Number of files: 4 (reg: 2, dir: 2)\' ;; esac; exit "${FAKE_DRY_RUN_STATUS:-0}" ;;',
                // A copy: source's folder onto the target, as rsync --archive would leave it.
                `  *) cp -a '${sourceCopy}'/. "\${@: -1}"; [ -z "\${FAKE_COPIED:-}" ] || printf '>f+++++++++ %s\\n' "$FAKE_COPIED" ;;`,
                "esac",
            ].join("\n"),
        );
        env = { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: path.join(root, "home") };
    });
    afterEach(() => remove());

    /** Source's description step, with what its running check lists besides nginx. */
    const describeSource = (startedAlongside: string[] = [], stdin = "") =>
        runBash(
            render("data-manifest.sh", {
                confRoot: path.join(root, "source"),
                migrationId: "unit",
                folders: [{ folder, key }],
                runningCommand: [
                    fakeCommand(root, "list-running", `echo "running $*" >> '${root}/running.log'\nprintf '%s\\n' reverse_proxy ${startedAlongside.join(" ")}`),
                    "ps",
                ],
                service: "reverse_proxy",
            }),
            { env, stdin },
        );
    const rsyncValues = () => ({ ...peerRsyncValues({ ...dest, confRoot: path.join(root, "dest") }, pullAccess, folder), migrationId: "unit", folder, key });
    /** source's digest of its folder, as its description step prints it. */
    const sourceDigest = (): string => {
        const described = describeSource();
        assert.equal(described.status, 0, described.stderr);
        return jsonLines<FolderDescription>(described.stdout)[0].metadataDigest!;
    };
    const calls = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : []);
    const markers = () => path.join(root, "home", ".pryv-migration", "unit");
    /** verify-copy given dest's description as its final round printed it: its digest, and the 3 files whose content it compared. */
    const verifyCopy = (described: string, extra: Record<string, string> = {}, expected = sourceDigest()) => {
        const script = render("verify-copy.sh", {
            ...rsyncValues(),
            expected,
            described,
            contentChecked: 3,
            maxDeletions: 7,
            refilledList: `cold-${key}.refilled`,
        });
        const result = runBash(script, { env: { ...env, ...extra } });
        return { result, verified: jsonLines<{ metadataDigest: string; contentChecked: number; fullWalk: boolean }>(result.stdout) };
    };
    /** dest's description of its copy before dest starts: made before source stopped, and the final round's own after it touched nothing. */
    const describeDest = () => {
        const described = runBash(
            render("dest-description.sh", { migrationId: "unit", stopCommand: ["true"], confRoot: path.join(root, "dest"), folders: [{ folder, key }] }),
            { env },
        );
        assert.deepEqual([described.status, described.stderr], [0, ""]);
        fs.copyFileSync(path.join(markers(), `manifest-${key}.dest-before-stop`), path.join(markers(), `manifest-${key}.dest`));
    };
    const verifyContent = (items: string) => {
        const result = runBash(render("verify-content.sh", { ...rsyncValues(), coldLog: `cold-${key}` }), { env: { ...env, FAKE_ITEMS: items, TZ: "UTC" } });
        return { result, compared: jsonLines<{ folder: string; filesCompared: number }>(result.stdout) };
    };

    it("data-manifest: one walk in as many streams as the machine has cores, up to 4, giving the same sorted description, hard-link groups across streams and names that start with - included; its lists in the migration's folder, not in /tmp", () => {
        for (const user of ["u1", "u2", "u3"]) fs.mkdirSync(path.join(sourceCopy, user, "attachments"), { recursive: true });
        // A name find would take for an option if handed as it is.
        fs.mkdirSync(path.join(sourceCopy, "-dash"));
        fs.writeFileSync(path.join(sourceCopy, "-dash", "-f"), "x");
        fs.utimesSync(path.join(sourceCopy, "-dash", "-f"), 1_600_000_000, 1_600_000_000);
        fs.writeFileSync(path.join(sourceCopy, "u1", "attachments", "shared"), "12345");
        fs.linkSync(path.join(sourceCopy, "u1", "attachments", "shared"), path.join(sourceCopy, "u3", "attachments", "shared too"));
        fs.symlinkSync("../../u1/attachments/shared", path.join(sourceCopy, "u2", "attachments", "latest"));
        for (const file of ["u1/attachments/shared", "u3/attachments/shared too"]) fs.utimesSync(path.join(sourceCopy, file), 1_600_000_000, 1_600_000_000);
        const { uid, gid } = fs.statSync(sourceCopy);
        const owner = `${uid}:${gid}`;
        const expected = [
            ...["-dash", "journal", "u1", "u1/attachments", "u2", "u2/attachments", "u3", "u3/attachments"].map((dir) => `d\t${dir}\t${owner}\t755`),
            `f\t-dash/-f\t${owner}\t644\t1\t1600000000`,
            `f\tjournal/rewritten.log\t${owner}\t644\t3\t1600000000`,
            `f\tsame 1.wt\t${owner}\t644\t12\t1600000000`,
            `f\tu1/attachments/shared\t${owner}\t644\t5\t1600000000`,
            `f\tu3/attachments/shared too\t${owner}\t644\t5\t1600000000`,
            "h\tu3/attachments/shared too\tsame file as u1/attachments/shared",
            `l\tu2/attachments/latest\t${owner}\t../../u1/attachments/shared`,
        ];
        // A machine whose /tmp cannot take the walk's lists.
        env = { ...env, TMPDIR: path.join(root, "no such tmp") };
        for (const cores of ["1", "2", "3", "16"]) {
            fakeCommand(path.join(root, "bin"), "nproc", `echo ${cores}`);
            fs.rmSync(markers(), { recursive: true, force: true });
            const described = describeSource();
            assert.deepEqual([described.status, described.stderr], [0, ""], cores);
            const manifest = fs.readFileSync(path.join(markers(), `manifest-${key}.source`), "utf8");
            assert.deepEqual(manifest.trimEnd().split("\n"), expected, cores);
            assert.deepEqual(fs.readdirSync(markers()), [`manifest-${key}.source`], cores);
        }
    });

    it("data-manifest: yields the CPU to the final rounds when its standard input says so, and only then", () => {
        fakeCommand(path.join(root, "bin"), "renice", `echo "renice $*" >> '${log}'`);
        for (const [stdin, reniced] of [
            ["yield\n", true],
            ["lead\n", false],
            ["", false],
        ] as const) {
            fs.rmSync(log, { force: true });
            const described = describeSource([], stdin);
            assert.deepEqual([described.status, described.stderr], [0, ""], stdin);
            assert.deepEqual(
                calls().map((call) => call.replace(/\d+$/, "<pid>")),
                reniced ? ["renice -n 10 -p <pid>"] : [],
                stdin,
            );
        }
    });

    it("data-manifest: a folder's bytes past 2^31 exactly (a sparse file: its size, not its blocks)", () => {
        fs.writeFileSync(path.join(sourceCopy, "big.wt"), "");
        fs.truncateSync(path.join(sourceCopy, "big.wt"), 5 * 2 ** 30 + 1);
        const described = describeSource();
        assert.equal(described.status, 0, described.stderr);
        const [description] = jsonLines<{ entries: number; bytes: number }>(described.stdout);
        assert.deepEqual([description.entries, description.bytes], [4, 5 * 2 ** 30 + 1 + "source bytes".length + "log".length]);
    });

    it("data-manifest: checks that nothing but nginx runs on source, beside its walks", () => {
        const described = describeSource();
        assert.deepEqual([described.status, described.stderr], [0, ""]);
        assert.equal(fs.readFileSync(path.join(root, "running.log"), "utf8"), "running ps\n");
        assert.deepEqual(
            jsonLines<FolderDescription>(described.stdout).map((line) => line.folder),
            [folder],
        );
    });

    it("data-manifest: fails naming what runs besides nginx (compose started the linked databases again): no folder is verified, dest never starts", () => {
        const described = describeSource(["core", "mongodb"]);
        assert.deepEqual(
            [described.status, described.stderr],
            [
                1,
                "source: still running after the stop and the start of reverse_proxy alone: core mongodb. Dest must not start on a copy of a running database: check proxy.startCommand (docker-compose up starts the services a service links to, unless --no-deps).\n",
            ],
        );
        assert.deepEqual(
            fs.readdirSync(markers()).filter((name) => name.endsWith(".err")),
            [],
            "the check's own file is removed",
        );
    });

    it("verify-copy: a copy described as source's is verified as it stands: no copy, no walk, no rsync", () => {
        const { result, verified } = verifyCopy(sourceDigest());
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            verified.map(({ metadataDigest, contentChecked, fullWalk }) => [metadataDigest, contentChecked, fullWalk]),
            [[sourceDigest(), 3, false]],
        );
        assert.deepEqual(calls(), []);
    });

    it("verify-copy: on a metadata mismatch, copies the folder again with a full walk (deletions bounded), describes it again and compares in content what that copy wrote", () => {
        fs.rmSync(path.join(target, "same 1.wt"));
        const { result, verified } = verifyCopy("digest of the copy missing a file", { FAKE_COPIED: "same 1.wt" });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            verified.map(({ metadataDigest, contentChecked, fullWalk }) => [metadataDigest, contentChecked, fullWalk]),
            [[sourceDigest(), 4, true]],
        );
        assert.deepEqual(
            calls().map((call) => call.replace(/ -e .*/, "")),
            [
                "rsync --list-only",
                "rsync --archive --hard-links --sparse --numeric-ids --modify-window=-1 --inplace --delete --max-delete=7 --out-format=%i %n",
                `rsync --dry-run --checksum --itemize-changes --archive --hard-links --sparse --numeric-ids --modify-window=-1 --files-from=${markers()}/cold-${key}.refilled`,
            ],
        );
        assert.equal(fs.readFileSync(path.join(markers(), `cold-${key}.refilled`), "utf8"), "same 1.wt\n");
        // What verify-content later reads as dest's description before it started: the folder as it now is.
        assert.equal(
            fs.readFileSync(path.join(markers(), `manifest-${key}.dest`), "utf8"),
            fs.readFileSync(path.join(markers(), `manifest-${key}.source`), "utf8"),
        );
    });

    it("verify-copy: fails when what the full walk wrote cannot be compared in content with source's", () => {
        fs.rmSync(path.join(target, "same 1.wt"));
        const { result } = verifyCopy("digest of the copy missing a file", { FAKE_COPIED: "same 1.wt", FAKE_DRY_RUN_STATUS: "255" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "core/core/data: the content of the files the final round wrote could not be compared with source's (rsync failed, see above): dest is not started on an unverified copy. Run pulumi up again once source is reachable.\n",
        );
    });

    it("verify-copy: fails, saying what differs, when the copy still differs after the full walk", () => {
        fs.chmodSync(path.join(sourceCopy, "same 1.wt"), 0o600);
        const expected = sourceDigest();
        fs.chmodSync(path.join(sourceCopy, "same 1.wt"), 0o644);
        const { result } = verifyCopy("digest of dest's copy", { FAKE_ITEMS: ".f...p..... same 1.wt\n" }, expected);
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            `${folder}: dest's copy differs from source's in metadata. What differs, as rsync itemizes it (> content or metadata to update, + missing on dest, *deleting only on dest; s size, t mtime, p mode, o owner, g group, L link target):\n.f...p..... same 1.wt\n`,
        );
        assert.equal(calls().filter((call) => call.includes("--max-delete=7")).length, 1);
    });

    it("verify-content: reports a file whose content differs while its size and mtime are still those dest had before it started, with what the final round did with it", () => {
        describeDest();
        // The final round's log (progress and itemized lines) and the journal it copied from: "same 1.wt" listed; the log
        // not, though its directory is (a listed directory names itself only, not what it holds).
        fs.writeFileSync(path.join(markers(), `cold-${key}.log`), "  0 0% 0.00kB/s\r.d          journal/\n.f          same 1.wt\n");
        fs.writeFileSync(path.join(markers(), `cold-${key}.journal`), "journal\0same 1.wt\0");
        const { result, compared } = verifyContent(">fc........ same 1.wt\n>fc........ journal/rewritten.log\n");
        assert.equal(result.status, 1);
        const stamp = "12 bytes, mtime 2020-09-13 12:26:40.000000000 +0000";
        assert.equal(
            result.stderr,
            `${folder}: CONTENT DIFFERS between source and dest for files dest has not written since it started. Roll back (phase: warm-sync) to serve from source again:\n` +
                `>fc........ same 1.wt (dest: ${stamp}; final round: .f          same 1.wt, listed by the journal)\n` +
                `>fc........ journal/rewritten.log (dest: ${stamp.replace("12 bytes", "3 bytes")}; final round: no line for it, not listed by the journal)\n`,
        );
        assert.deepEqual(compared, []);
    });

    it("verify-content: ignores a file dest rewrote at the same size within the second its description keeps (InfluxDB's meta.db as dest starts)", () => {
        describeDest();
        // dest started after its description was written, then rewrote the file, its whole-second mtime unchanged
        // (a wait longer than the kernel's clock tick between the two).
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        fs.writeFileSync(path.join(target, "journal", "rewritten.log"), "new");
        fs.utimesSync(path.join(target, "journal", "rewritten.log"), 1_600_000_000.4, 1_600_000_000.4);
        const { result } = verifyContent(">fc........ journal/rewritten.log\n>fc........ same 1.wt\n");
        // Only the file untouched since the description counts.
        assert.equal(result.status, 1);
        assert.match(result.stderr, /\n>fc\.{8} same 1\.wt \(dest: /);
        assert.doesNotMatch(result.stderr, /rewritten\.log/);
    });

    it("verify-content: ignores a file dest rewrote since it started (mtime changed), one it removed, and metadata differences", () => {
        describeDest();
        // dest's services rewrote the log while rsync read it: same size and mtime as source's when rsync compared, not now.
        fs.utimesSync(path.join(target, "journal", "rewritten.log"), 1_600_000_100, 1_600_000_100);
        fs.rmSync(path.join(target, "same 1.wt"));
        const { result, compared } = verifyContent(">fc........ journal/rewritten.log\n>fc........ same 1.wt\n>fcst...... other.wt\n");
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            compared.map(({ folder, filesCompared }) => [folder, filesCompared]),
            [[folder, 4]],
        );
        assert.match(
            calls().at(-1)!,
            /^rsync --dry-run --checksum --itemize-changes --stats --archive --hard-links --sparse --numeric-ids --modify-window=-1 -e /,
        );
    });
});

describe("carry-back-reachable.sh, run by bash with a fake rsync", () => {
    const script = render("carry-back-reachable.sh", {
        folders: defaultDataFolders.map((folder) => ({ folder, ...peerRsyncValues(source, carryBackAccess, folder) })),
        peerAddress: carryBackAccess.peerAddress,
        count: defaultDataFolders.length,
    });

    it("lists each folder on dest with the carry-back key, each with its own key file", () => {
        assertInOrder(
            script,
            defaultDataFolders.map((folder) => `key_file="$key_folder"/'${folderKey(folder).replace(/-/g, "_")}'`),
        );
        assert.match(script, /key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-carry-back'/);
    });

    it("reports the folders it read; a folder it cannot read refuses the cutover, naming it and what to check", () => {
        const { folder, remove } = temporaryFolder("reachable");
        try {
            const rsync = fakeCommand(folder, "rsync", `case "$*" in *core_hfs_data*) echo "@ERROR: access denied" >&2; exit 5 ;; esac`);
            const run = (failing: boolean) =>
                runBash(failing ? script : script.replace(/core_hfs_data/g, "core_hfs_ok"), {
                    env: { PATH: `${path.dirname(rsync)}:${process.env.PATH ?? ""}` },
                });
            const reachable = run(false);
            assert.deepEqual([reachable.status, reachable.stdout, reachable.stderr], [0, '{"carryBackReachable":4}\n', ""]);
            const refused = run(true);
            assert.equal(refused.status, 1);
            assert.equal(
                refused.stderr,
                "carry-back from dest (10.0.0.12) not possible for core/hfs/data: @ERROR: access denied \n" +
                    "The cutover stops here, source still serving: a rollback could not bring dest's writes back. Check that source reaches dest over ssh (the carry-back key, dest's host key).\n",
            );
        } finally {
            remove();
        }
    });
});
