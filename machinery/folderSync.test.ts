import { strict as assert } from "assert";
import { folderKey } from "../config";
import { peerAccess, peerRsyncValues, pullLogName, pullScript } from "./folderSync";
import { assertInOrder, carryBack, machines, pullFromSource, rounds, runBash, temporaryFolder } from "../testing";

const { source, dest } = machines();

function runBashSyntaxCheck(script: string): void {
    const result = runBash(`bash -n <<'SCRIPT_END'\n${script}\nSCRIPT_END`);
    assert.equal(result.status, 0, result.stderr);
}

describe("folderSync names and values", () => {
    it("names a folder's resources and logs after the folder", () => {
        assert.equal(folderKey("core/mongodb/data"), "core-mongodb-data");
        assert.equal(pullLogName({ kind: "cold" }, "core/mongodb/data"), "cold-core-mongodb-data");
        assert.equal(pullLogName({ kind: "carry-back", keepAside: "/kept" }, "core/mongodb/data"), "carry-back-core-mongodb-data");
        // A round's log is its own: an operator tailing it never reads the previous round's 100%.
        assert.equal(pullLogName({ kind: "warm", round: 3 }, "core/core/data"), "warm-3-core-core-data");
    });

    it("reaches the peer through the migration key of the folder, into the receiver's copy", () => {
        assert.deepEqual(peerRsyncValues(dest, peerAccess(source, "pull", "unit"), "core/core/data"), {
            keyFolderName: "pryv-migration-unit-pull",
            keyFile: "core_core_data",
            hostKeyAlias: "pryv-migration-source",
            peerUser: "root",
            peerAddress: "10.0.0.11",
            peerPort: 22,
            target: "/srv/pryv/core/core/data",
        });
    });
});

describe("pullScript, as written", () => {
    for (const [kind, pull] of rounds) {
        it(`${kind}: stops the receiver's services first, bounds deletions, keeps owners as numbers and links as links, and parses`, () => {
            const script = pullScript(pull);
            const receiver = pull.receiver;
            assert.equal(script.split("\n")[0].startsWith(`# Pulls ${pull.folder} from ${pull.peerRole} into this machine's copy (`), true, script);
            assertInOrder(script, [
                `marker_folder="$HOME"/.pryv-migration/'unit'`,
                `key_folder="$HOME"/.ssh/'${pull.access.keyFolderName}'`,
                `target='${receiver.confRoot}/${pull.folder}'`,
                `remote='${pull.access.peerUser}'@'${pull.access.peerAddress}':./`,
                "copy_options=(--archive --hard-links --sparse --numeric-ids --modify-window=-1)",
                `\nif flock -n 9; then\n  rm -f "$stop_lock.ok"\n  '${receiver.stopCommand[0]}' >/dev/null </dev/null\n`,
                `conf_root_given='${receiver.confRoot}'\nconf_root=$(cd "$conf_root_given" && pwd -P)\n`,
                '  "$conf_root"/*) ;;',
                "rsync --list-only",
                'delete=(--delete --max-delete="$max_deletions")',
                `log="$marker_folder"/'${pullLogName(pull.round, pull.folder)}'.log`,
                'rsync "${options[@]}" "${delete[@]}" -e "$rsh" "$remote" "$target/"',
            ]);
            assert.doesNotMatch(commands(script), /copy-links|--compress/);
            runBashSyntaxCheck(script);
        });
    }

    it("warm: resumable, and deletions counted on a dry run against sync.maxDeletions before any is made", () => {
        const script = pullScript(pullFromSource({ kind: "warm", round: 3 }, { sync: { compress: "none", maxDeletions: 7 } }));
        assert.match(
            script,
            /^# Pulls core\/mongodb\/data from source into this machine's copy \(a warm round while source serves\), .* at most 7 deletions\.$/m,
        );
        assert.match(script, /^max_deletions='7'$/m);
        assertInOrder(script, [
            "options+=(--partial-dir=.pryv-migration-partial)",
            'would_delete=$(rsync --dry-run "${options[@]}" --delete -e "$rsh" "$remote" "$target/" |',
            "grep -c '^\\*deleting'",
            'if [ "$would_delete" -gt "$max_deletions" ]; then',
            "more than sync.maxDeletions ($max_deletions); nothing was deleted.",
            "exit 1",
            'rsync "${options[@]}" "${delete[@]}"',
        ]);
        assert.doesNotMatch(script, /--inplace|--backup/);
    });

    it("cold: writes only the blocks that changed, in place; no dry run before it; copies the journal's paths when its standard input lists them", () => {
        const script = pullScript(pullFromSource({ kind: "cold" }));
        assert.match(script, /^options\+=\(--inplace\)$/m);
        assert.doesNotMatch(script, /--partial-dir|--backup/);
        // The one dry run compares what the round wrote, checksum against checksum, after it.
        assert.deepEqual(
            script.split("\n").filter((line) => line.includes("--dry-run")),
            ['  if ! compared=$(rsync --dry-run --checksum --itemize-changes "${copy_options[@]}" --files-from="$1" -e "$rsh" "$remote" "$target/"); then'],
        );
        assertInOrder(script, [
            "read -r journal_mode priority blocks_since || journal_mode=walk\n",
            'if [ "${priority:-lead}" = yield ]; then yield_cpu; fi\n',
            "\n  '/srv/pryv/stop-containers' >/dev/null </dev/null\n",
            `changed_paths="$marker_folder"/'cold-core-mongodb-data'.journal\n`,
            'rm -f "$changed_paths"\n',
            'if [ "$journal_mode" = journal ]; then\n',
            '  base64 -d > "$changed_paths"\n',
            '  options+=(--from0 --files-from="$changed_paths" --ignore-missing-args -ii --trust-sender --ignore-times)\n',
            'rsync "${options[@]}" "${delete[@]}" -e "$rsh" "$remote" "$target/"',
        ]);
        assert.doesNotMatch(commands(script), /--delete-missing-args/);
    });

    it("cold: then describes dest's copy (patching dest's description before the stop, or walking it) and compares in content what it wrote", () => {
        assertInOrder(pullScript(pullFromSource({ kind: "cold" })), [
            'rsync "${options[@]}" "${delete[@]}" -e "$rsh" "$remote" "$target/"',
            `manifest="$marker_folder"/manifest-'core-mongodb-data'.dest\n`,
            `before="$marker_folder"/manifest-'core-mongodb-data'.dest-before-stop\n`,
            'if [ -s "$before" ] && [ ${#delete[@]} -gt 0 ] && patch_description "$before" "$touched" "$manifest"; then\n',
            '  describe_folder "$target" > "$manifest"\n',
            `written="$marker_folder"/'cold-core-mongodb-data'.changed\n`,
            'check_written_content "$written"\n',
            `printf '{"folder":"%s","metadataDigest":"%s","describedBy":"%s","touched":%s,"contentChecked":%s,"describedAt":%s}\\n' 'core/mongodb/data'`,
        ]);
    });

    it("warm and carry-back: read nothing on their standard input and always walk; describe nothing", () => {
        for (const pull of [pullFromSource({ kind: "warm", round: 3 }), carryBack("/var/pryv/pryv-migration-kept/unit")]) {
            const script = pullScript(pull);
            assert.doesNotMatch(script, /journal_mode|--files-from|describe_folder|yield_cpu|--checksum/, pull.round.kind);
            assert.match(script, /^ {2}'core\/[a-z]+\/data' '(warm-3|carry-back)' true "\$\(stat_value 'Total bytes received'\)"/m, pull.round.kind);
        }
    });

    it("carry-back: keeps what it replaces or deletes on source aside, under the migration's kept folder", () => {
        const script = pullScript(carryBack("/var/pryv/pryv-migration-kept/unit"));
        assert.match(script, /carrying dest's data back on rollback/);
        assertInOrder(script, [
            "key_folder=\"$HOME\"/.ssh/'pryv-migration-unit-carry-back'",
            "target='/var/pryv/core/core/data'",
            "remote='pryv'@'10.0.0.12':./",
            "\n  '/var/pryv/stop-containers' >/dev/null </dev/null\n",
            `kept_in="$(date -u +%Y%m%dT%H%M%SZ)"/'core/core/data'\nkept='/var/pryv/pryv-migration-kept/unit'/"$kept_in"`,
            'mkdir -p "$kept"\noptions+=(--backup --backup-dir="$kept")',
        ]);
        assert.match(script, /HostKeyAlias='pryv-migration-dest' -o ConnectTimeout=20 -o ServerAliveInterval=10 -p '2222'/);
        assert.doesNotMatch(script, /--inplace|--partial-dir|--dry-run/);
    });

    it("compresses with the configured choice only when compress is not none", () => {
        for (const compress of ["zstd", "lz4", "zlib"] as const) {
            assert.match(
                pullScript(pullFromSource({ kind: "cold" }, { sync: { compress, maxDeletions: 1000 } })),
                new RegExp(`^options\\+=\\(--compress --compress-choice='${compress}'\\)$`, "m"),
            );
        }
    });
});

/** The script without its comment lines. */
const commands = (script: string): string =>
    script
        .split("\n")
        .filter((line) => !line.trimStart().startsWith("#"))
        .join("\n");

describe("the copy options, with the real rsync", () => {
    it("see a file rewritten at the same size within the same second (mtimes to the nanosecond), which rsync's default quick check skips", () => {
        const { folder, remove } = temporaryFolder("quick-check");
        try {
            const copyOptions = /^copy_options=\((.*)\)$/m.exec(pullScript(pullFromSource({ kind: "cold" })))![1];
            const script = (options: string) =>
                [
                    `cd '${folder}' && rm -rf source dest && mkdir source dest`,
                    "printf aaaa > source/f && touch -d @1600000000.100000000 source/f",
                    `rsync ${options} source/ dest/`,
                    "printf bbbb > source/f && touch -d @1600000000.200000000 source/f",
                    `rsync ${options} source/ dest/`,
                    "cat dest/f",
                ].join("\n");
            assert.equal(runBash(script("--archive")).stdout, "aaaa", "rsync's default: skipped");
            assert.equal(runBash(script(copyOptions)).stdout, "bbbb");
        } finally {
            remove();
        }
    });
});
