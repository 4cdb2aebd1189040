import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders, folderKey } from "../config";
import { Cutover } from "./cutover";
import { ChangesBeforeStop, destRoomInput, FolderChanges, FolderDescription, finalRoundInput } from "./cutoverReports";
import { peerAccess, peerRsyncValues, pullScript } from "../machinery/folderSync";
import { jsonLines } from "../machinery/remoteStep";
import { proxyServingScript, startServicesScript, stopServicesScript } from "../machinery/services";
import { render, shellQuote } from "../machinery/templates";
import {
    assertInOrder,
    build,
    checkFor,
    childrenOf,
    cutoverClock,
    Executor,
    executors,
    fakeCommand,
    fakeMachines,
    folderChangesOf,
    hostOf,
    journalPaths,
    machines,
    metadataDigestOf,
    promiseOf,
    runBash,
    scriptOf,
    scriptsOf,
    StandIn,
    stepType,
    temporaryFolder,
    testConfig,
    transportFor,
    ranOnce,
} from "../tests/unit/harness";

const { source, dest } = machines();
const keys = defaultDataFolders.map(folderKey);
const keepAside = "/var/pryv/pryv-migration-kept/unit";
const sync = { compress: "none", maxDeletions: 1000 } as const;
const pullAccess = peerAccess(source, "pull", "unit");
const carryBackAccess = peerAccess(dest, "carry-back", "unit");

const make = (executor: Executor, destLost = false) =>
    build((opts) => {
        const sourceSwitched = [new StandIn("proxy-source-back", opts), new StandIn("proxy-site-file", opts)];
        return new Cutover(
            "cut",
            {
                source,
                dest,
                dataFolders: defaultDataFolders,
                check: checkFor(),
                pullAccess,
                carryBackAccess,
                sync,
                warmSyncRound: 2,
                nginxAlone: testConfig().proxy,
                sourceSwitched,
                keepAside,
                destLost,
                transport: transportFor(executor, destLost ? "dest" : undefined),
            },
            opts,
        );
    }, fakeMachines);

const perFolder = (prefix: string) => keys.map((key) => `cut-${prefix}-${key}`);
const verifies = perFolder("verify");
const carryBacks = perFolder("carry-back");

/** The procedure, in the order the steps are declared: each step's machine and what it waits for. */
const procedure: [string, "source" | "dest", string[]][] = [
    ["cut-dest-taken-over", "dest", ["proxy-source-back", "proxy-site-file"]],
    ["cut-changes-before-stop", "source", ["proxy-source-back", "proxy-site-file"]],
    ["cut-dest-room", "dest", ["cut-changes-before-stop"]],
    ["cut-dest-reachable", "source", ["proxy-source-back", "proxy-site-file"]],
    ["cut-stop-source", "source", ["proxy-source-back", "proxy-site-file", "cut-dest-room", "cut-dest-reachable"]],
    ["cut-source-description", "source", ["cut-stop-source"]],
    ["cut-changes", "source", ["cut-stop-source"]],
    ...keys.flatMap((key): [string, "source" | "dest", string[]][] => [
        [`cut-final-sync-${key}`, "dest", ["cut-changes", "cut-dest-taken-over"]],
        [`cut-verify-${key}`, "dest", [`cut-final-sync-${key}`, "cut-source-description"]],
    ]),
    ...carryBacks.map((name): [string, "source" | "dest", string[]] => [name, "source", verifies]),
    ["cut-dest-back", "dest", carryBacks],
    ["cut-start-dest", "dest", ["cut-dest-back"]],
    ["cut-proxy-serving", "source", ["cut-start-dest"]],
    ...perFolder("verify-content").map((name): [string, "source" | "dest", string[]] => [name, "dest", ["cut-proxy-serving"]]),
];
const hosts = { source: "10.0.0.11", dest: "dest.example.com" };
/** What each final round reads on its standard input, as written out from the fake journal: its paths, or a full walk. */
const finalRoundStdin = (folder: string): string => {
    const paths = journalPaths(folder);
    return paths === null ? "walk\n" : `journal\n${Buffer.from(paths.join("\0")).toString("base64")}\n`;
};
/** dest's room check gets a line per folder the journal covers, from the fake journal so far. */
const destRoomStdin = defaultDataFolders
    .filter((folder) => folder !== "core/influxdb/data")
    .map((folder) => `${folder}\t4096\t${Buffer.from("collection-0.wt\0").toString("base64")}\n`)
    .join("");
const stdinOf = (name: string): string | undefined => {
    if (name === "cut-dest-room") return destRoomStdin;
    const index = keys.findIndex((key) => name === `cut-final-sync-${key}`);
    return index === -1 ? undefined : finalRoundStdin(defaultDataFolders[index]);
};
const marker = (comment: string, message: string) => `# ${comment}\necho ${shellQuote(message)}\n`;

for (const executor of executors) {
    describe(`Cutover (${executor} executor)`, () => {
        it("declares the procedure's steps in order, each on its machine, after the steps it needs", async () => {
            const { resources } = await make(executor);
            assert.equal(resources.get("cut")!.type, "pryv:migration:Cutover");
            const steps = childrenOf(resources, "cut");
            assert.deepEqual(
                steps.map((step) => [step.name, hostOf(step), step.dependsOn]),
                procedure.map(([name, machine, after]) => [name, hosts[machine], after]),
            );
            for (const step of steps) {
                assert.deepEqual(
                    [step.type, step.inputs.stdin, step.inputs.triggers, scriptOf(step.inputs.update), step.protect, step.ignoreChanges, step.retainOnDelete],
                    [stepType[executor], stdinOf(step.name), undefined, ranOnce(step.name), false, [], false],
                    step.name,
                );
            }
        });

        it("records an undo only on the steps recorded for it: dest taken over, the carry-backs and dest-back", async () => {
            const { resources } = await make(executor);
            const withUndo = childrenOf(resources, "cut")
                .filter((step) => step.inputs.delete !== undefined)
                .map((step) => step.name);
            assert.deepEqual(withUndo, ["cut-dest-taken-over", ...carryBacks, "cut-dest-back"]);
        });

        it("marks dest taken over before the final rounds write there; the mark goes only after every carry-back (deleted before it)", async () => {
            const { resources } = await make(executor);
            const takenOver = resources.get("cut-dest-taken-over")!;
            assert.equal(hostOf(takenOver), hosts.dest);
            assert.equal(
                scriptOf(takenOver.inputs.create),
                `# Marks dest as holding the newest copy from the cutover on: no warm round overwrites it until a rollback has carried its data back to source.
# Markers are written before a step acts, so that its undo knows what to undo even after a crash.
marker_folder="$HOME"/.pryv-migration/'unit'
mkdir -p "$marker_folder"
touch "$marker_folder"/cutover-began
`,
            );
            assert.match(
                scriptOf(takenOver.inputs.delete),
                /^# dest's data has been carried back to source \(this undo runs after every carry-back\): warm rounds may overwrite dest again\.\n[\s\S]*\nrm -f "\$marker_folder"\/cutover-began\n$/,
            );
            // Deleted in reverse: a carry-back waits on the verifies, which wait on the final rounds, which wait on the mark.
            for (const key of keys) assert.ok(resources.get(`cut-final-sync-${key}`)!.dependsOn.includes("cut-dest-taken-over"), key);
            for (const name of carryBacks) assert.deepEqual(resources.get(name)!.dependsOn, verifies, name);
        });

        it("stops source, then starts its nginx alone on the proxy file; source's description is made while dest copies", async () => {
            const { resources } = await make(executor);
            assertInOrder(scriptsOf(resources, "cut-stop-source").create, [
                "# Stops every service on source, then starts its nginx alone",
                `date +%s.%N > "$marker_folder/source-stopped"\n'/var/pryv/stop-containers'\n`,
                "\n'/var/pryv/run-core' 'reverse_proxy'\n",
                "\nrunning=$('docker-compose' '-f' '/var/pryv/core.yml' 'ps' '--services' '--filter' 'status=running')\n",
                "grep -v -x -F -e 'reverse_proxy' -e ''",
            ]);
            const description = scriptsOf(resources, "cut-source-description").create;
            assert.ok(description.startsWith("# Describes each data folder on source as a copy must preserve it"), description);
            for (const [index, folder] of defaultDataFolders.entries()) {
                assertInOrder(description, [`path=$(folder_path '/var/pryv' '${folder}')`, `manifest="$marker_folder"/manifest-'${keys[index]}'.'source'`]);
            }
        });

        it("copies each folder from the stopped source in a cold round, then checks it against source's description", async () => {
            const { resources } = await make(executor);
            for (const folder of defaultDataFolders) {
                const key = folderKey(folder);
                const finalSync = scriptsOf(resources, `cut-final-sync-${key}`).create;
                assert.equal(
                    finalSync,
                    pullScript({ receiver: dest, peerRole: "source", access: pullAccess, folder, migrationId: "unit", sync, round: { kind: "cold" } }),
                );
                assert.match(finalSync, /^options\+=\(--inplace\)$/m);
                const verify = scriptsOf(resources, `cut-verify-${key}`).create;
                assertInOrder(verify, [
                    `# Checks, before dest serves, that its copy of ${folder} is source's:`,
                    "key_folder=\"$HOME\"/.ssh/'pryv-migration-unit-pull'",
                    `target='/srv/pryv/${folder}'`,
                    "remote='root'@'10.0.0.11':./",
                    `expected='${metadataDigestOf(folder)}'`,
                    `manifest="$marker_folder"/manifest-'${key}'.dest`,
                    'if [ "$actual" != "$expected" ]; then',
                    "full_walk=true",
                    "delete=(--delete --max-delete='1000')",
                    'refill=$(rsync "${copy_options[@]}" --inplace "${delete[@]}" --out-format=\'%i %n\' -e "$rsh" "$remote" "$target/")',
                    `>> "$marker_folder"/'cold-${key}.changed'`,
                    'describe_folder "$target" > "$manifest"',
                    `changed="$marker_folder"/'cold-${key}.changed'`,
                ]);
            }
        });

        it("reads on stopped source what changed since the last warm round began; each final round copies its folder's journal paths, or walks", async () => {
            const { resources } = await make(executor);
            const changes = scriptsOf(resources, "cut-changes").create;
            assert.equal(
                changes,
                render("changes-since-warm.sh", { migrationId: "unit", round: 2, confRoot: "/var/pryv", folders: defaultDataFolders, maxPaths: 20000 }),
            );
            assertInOrder(changes, [
                "# Reads, source being stopped, what changed under each data folder since the last warm round began, from the change journal",
                "more than 20000 paths; a queue overflow if the recorder ever reports one) means a full walk of that folder.",
                "marker_folder=\"$HOME\"/.pryv-migration/'unit'",
                "journal=\"$marker_folder\"/change-journal-'2'",
                "max_paths='20000'",
                `for folder in ${defaultDataFolders.map((folder) => `'${folder}' `).join("")}; do`,
                'prefix="$(folder_path \'/var/pryv\' "$folder")"/',
            ]);
            for (const folder of defaultDataFolders) {
                const stdin = String(resources.get(`cut-final-sync-${folderKey(folder)}`)!.inputs.stdin);
                const paths = journalPaths(folder);
                if (paths === null) {
                    assert.equal(stdin, "walk\n", folder);
                } else {
                    const [mode, list, end] = stdin.split("\n");
                    assert.deepEqual([mode, Buffer.from(list, "base64").toString().split("\0"), end], ["journal", paths, ""], folder);
                }
            }
        });

        it("before dest starts, records the carry-back of each folder (kept aside on source) and dest's stop", async () => {
            const { resources } = await make(executor);
            for (const folder of defaultDataFolders) {
                const { create, delete: undo } = scriptsOf(resources, `cut-carry-back-${folderKey(folder)}`);
                assert.equal(
                    create,
                    marker(
                        "Does nothing now: recorded before dest starts, so that a rollback carries dest's writes back even after a crash.",
                        `on rollback, ${folder} is carried back from dest`,
                    ),
                );
                assert.equal(
                    undo,
                    pullScript({
                        receiver: source,
                        peerRole: "dest",
                        access: carryBackAccess,
                        folder,
                        migrationId: "unit",
                        sync,
                        round: { kind: "carry-back", keepAside },
                    }),
                );
                assertInOrder(undo, [
                    "key_folder=\"$HOME\"/.ssh/'pryv-migration-unit-carry-back'",
                    `target='/var/pryv/${folder}'`,
                    "remote='pryv'@'10.0.0.12':./",
                    "\n'/var/pryv/stop-containers' >/dev/null </dev/null\n",
                    `kept='${keepAside}'/`,
                    'options+=(--backup --backup-dir="$kept")',
                ]);
            }
            const destBack = scriptsOf(resources, "cut-dest-back");
            assert.equal(
                destBack.create,
                marker("Does nothing now: recorded before dest starts, so that a rollback stops dest even after a crash.", "on rollback, dest is stopped"),
            );
            assert.equal(destBack.delete, stopServicesScript(dest));
            assert.match(destBack.delete, /^'\/srv\/pryv\/stop-containers'$/m);
        });

        it("starts dest and waits until it serves, then until source's nginx reaches it, then compares every file's content", async () => {
            const { resources } = await make(executor);
            assert.equal(scriptsOf(resources, "cut-start-dest").create, startServicesScript(dest, checkFor(), { stopAfterwards: false }));
            assert.doesNotMatch(scriptsOf(resources, "cut-start-dest").create, /stop-containers/);
            assert.equal(scriptsOf(resources, "cut-proxy-serving").create, proxyServingScript(checkFor()));
            for (const folder of defaultDataFolders) {
                assertInOrder(scriptsOf(resources, `cut-verify-content-${folderKey(folder)}`).create, [
                    `# Compares, once dest serves, the content of every file of ${folder} with source's`,
                    "marker_folder=\"$HOME\"/.pryv-migration/'unit'",
                    `target='/srv/pryv/${folder}'`,
                    `described="$marker_folder"/manifest-'${folderKey(folder)}'.dest`,
                    'itemized=$(rsync --dry-run --checksum --itemize-changes --stats "${copy_options[@]}" -e "$rsh" "$remote" "$target/")',
                    "done < <(printf '%s\\n' \"$itemized\" | grep -a '^>fc\\.\\.' || true)",
                ]);
            }
        });

        it("with dest declared lost: the carry-backs and every step on dest leave the stack without running; their scripts stay as they were", async () => {
            const lost = await make(executor, true);
            const kept = await make(executor);
            assert.deepEqual(
                childrenOf(lost.resources, "cut").map((step) => [step.name, step.dependsOn]),
                procedure.map(([name, , after]) => [name, after]),
            );
            assert.deepEqual(
                childrenOf(lost.resources, "cut")
                    .filter((step) => step.retainOnDelete)
                    .map((step) => step.name),
                procedure.filter(([name, machine]) => machine === "dest" || name.startsWith("cut-carry-back-")).map(([name]) => name),
            );
            for (const step of childrenOf(lost.resources, "cut")) assert.deepEqual(step.inputs, kept.resources.get(step.name)!.inputs, step.name);
        });

        it("reports the copies, the verification and where the users' outage went, from the machines' clocks", async () => {
            const { component } = await make(executor);
            assert.deepEqual(
                (await promiseOf(component.coldSync)).map((stats) => [stats.folder, stats.round, stats.startedAt, stats.finishedAt]),
                defaultDataFolders.map((folder, index) => [folder, "cold", cutoverClock.coldStartedAt, cutoverClock.coldFinishedAt(index)]),
            );
            assert.deepEqual(
                await promiseOf(component.verified),
                defaultDataFolders.map((folder) => ({ folder, entries: 3, bytes: 1024, metadataDigest: metadataDigestOf(folder) })),
            );
            assert.deepEqual(
                await promiseOf(component.contentVerified),
                defaultDataFolders.map((folder) => ({ folder, filesCompared: 4, startedAt: 114, finishedAt: 115 })),
            );
            // Folders copied from 101 to 105 (the last one), verified by 106.75; dest started 108 -> 112.5; served at 113.
            assert.equal(await promiseOf(component.coldSyncSeconds), 4);
            assert.deepEqual(await promiseOf(component.outage), {
                seconds: 13,
                steps: { sourceProxyStarted: 0.5, coldSync: 4, verify: 1.75, destStart: 4.5, betweenSteps: 2.25 },
            });
        });
    });
}

/** Every step depends, directly or through others, on every step before it that it must follow. */
describe("Cutover order, transitively", () => {
    it("nothing on dest starts before every copy is verified and every undo recorded; nothing is served before dest serves", async () => {
        const { resources } = await make("command");
        const before = (name: string, seen = new Set<string>()): Set<string> => {
            for (const dependency of resources.get(name)?.dependsOn ?? []) {
                if (!seen.has(dependency)) {
                    seen.add(dependency);
                    before(dependency, seen);
                }
            }
            return seen;
        };
        const startDest = before("cut-start-dest");
        const steps = ["proxy-source-back", "proxy-site-file", "cut-stop-source", "cut-source-description", "cut-changes", ...perFolder("final-sync")];
        for (const name of [...steps, ...verifies, ...carryBacks, "cut-dest-back"]) {
            assert.ok(startDest.has(name), name);
        }
        for (const name of perFolder("verify-content")) assert.ok(before(name).has("cut-proxy-serving"), name);
    });
});

describe("finalRoundInput", () => {
    it("hands the final round the journal's list when the journal is reliable for its folder, and a full walk otherwise", () => {
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 2, list: "YQBi" }), "journal\nYQBi\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 0, list: "" }), "journal\n\n");
        assert.equal(finalRoundInput(folderChangesOf("core/influxdb/data")), "walk\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: false, reason: "no change journal was recording" }), "walk\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true }), "walk\n");
        assert.equal(finalRoundInput(undefined), "walk\n");
    });
});

/** changes-since-warm.sh run by bash on this machine, on a journal written as inotifywait writes it, with a stand-in recorder. */
describe("changes-since-warm.sh, run by bash on a fake change journal", () => {
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
        const result = runBash(render("changes-since-warm.sh", { migrationId: "unit", round: 3, confRoot, folders, maxPaths }), { env: { HOME: home } });
        return { result, changes: jsonLines<FolderChanges>(result.stdout) };
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
        const [mode, encoded] = finalRoundInput(changes[0]).split("\n");
        assert.deepEqual([mode, Buffer.from(encoded, "base64").toString().split("\0")], ["journal", mongodbPaths]);
        assert.equal(finalRoundInput(changes[2]), "journal\n\n");
    });

    it("changes-before-stop: counts, the recorder still running, each folder's deletions and bytes to write; refuses over sync.maxDeletions", async () => {
        const recorder = startRecorder();
        writeJournal(events);
        const write = (at: string, bytes: number) => {
            fs.mkdirSync(path.dirname(path.join(confRoot, at)), { recursive: true });
            fs.writeFileSync(path.join(confRoot, at), "x".repeat(bytes));
        };
        write("core/mongodb/data/collection-1.wt", 100);
        write("core/mongodb/data/journal/WiredTigerLog 1", 50);
        write("core/core/data/b", 10);
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
        assert.ok(counted[0].bytes! >= 150 && counted[1].bytes === 10 && counted[2].bytes === 0, JSON.stringify(counted));
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
        const enough = room(counted);
        assert.deepEqual([enough.status, enough.stderr], [0, ""]);
        assert.equal(jsonLines<{ needed: number }>(enough.stdout)[1].needed, 10);
        const short = room([{ ...counted[1], bytes: 1e18 }]);
        assert.equal(short.status, 1);
        assert.match(
            short.stderr,
            /^core\/core\/data: the final round may write 1000000000000000000 bytes more than dest holds there, and .*\/dest\/core\/core\/data has \d+ bytes free\nThe cutover stops here, source still serving: free space on dest first\.\n$/,
        );
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
            { folder: "core/mongodb/data", journal: false, reason: "4 paths changed, more than 2" },
            { folder: "core/core/data", journal: true, paths: 2, list: list(["a", "b"]) },
            { folder: "core/hfs/data", journal: true, paths: 0, list: "" },
        ]);
        assert.deepEqual(changes.map(finalRoundInput), ["walk\n", `journal\n${list(["a", "b"])}\n`, "journal\n\n"]);
    });

    it("the kernel's queue overflowed: every folder walks, saying why", async () => {
        const recorder = startRecorder();
        writeJournal(events.slice(0, 3));
        fs.appendFileSync(path.join(markers, "change-journal-3"), "Q_OVERFLOW \n");
        const { result, changes } = run();
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(
            changes,
            folders.map((folder) => ({ folder, journal: false, reason: "the kernel dropped change events (queue overflow)" })),
        );
        assert.equal(await ending(recorder), "SIGTERM");
    });

    it("a recorder that died, or none at all: every folder walks, saying why", async () => {
        const dead = startRecorder();
        dead.kill("SIGKILL");
        assert.equal(await ending(dead), "SIGKILL");
        writeJournal(events);
        const walks = folders.map((folder) => ({ folder, journal: false, reason: "no change journal was recording since warm round 3 began" }));
        const afterDeath = run();
        assert.deepEqual([afterDeath.result.status, afterDeath.changes], [0, walks], afterDeath.result.stderr);
        fs.rmSync(path.join(markers, "change-journal-3.pid"), { force: true });
        const never = run();
        assert.deepEqual([never.result.status, never.changes], [0, walks], never.result.stderr);
    });
});

/**
 * The verifications on dest, run by bash on this machine with a fake rsync: source's copy is
 * a local folder, dest's description is the one data-manifest.sh (describe-folder) writes.
 */
describe("carry-back-reachable.sh, run by bash with a fake rsync", () => {
    it("lists each folder on dest with the carry-back key before source stops; a folder it cannot read refuses the cutover, naming it", async () => {
        const { resources } = await make("openssh");
        const script = scriptsOf(resources, "cut-dest-reachable").create;
        assertInOrder(
            script,
            keys.map((key) => `key_file="$key_folder"/'${key.replace(/-/g, "_")}'`),
        );
        assert.match(script, /key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-carry-back'/);
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

    const rsyncValues = () => ({ ...peerRsyncValues({ ...dest, confRoot: path.join(root, "dest") }, pullAccess, folder), migrationId: "unit", folder, key });
    /** source's digest of its folder, as its description step prints it. */
    const sourceDigest = (): string => {
        const described = runBash(
            render("data-manifest.sh", { role: "source", confRoot: path.join(root, "source"), migrationId: "unit", folders: [{ folder, key }] }),
            { env },
        );
        assert.equal(described.status, 0, described.stderr);
        return jsonLines<FolderDescription>(described.stdout)[0].metadataDigest!;
    };
    const calls = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : []);
    const markers = () => path.join(root, "home", ".pryv-migration", "unit");
    const verifyCopy = (extra: Record<string, string> = {}) => {
        const script = render("verify-copy.sh", { ...rsyncValues(), expected: sourceDigest(), maxDeletions: 7, changedList: `cold-${key}.changed` });
        fs.mkdirSync(markers(), { recursive: true });
        fs.writeFileSync(path.join(markers(), `cold-${key}.changed`), "same 1.wt\n");
        const result = runBash(script, { env: { ...env, ...extra } });
        return { result, verified: jsonLines<{ metadataDigest: string; contentChecked: number; fullWalk: boolean }>(result.stdout) };
    };
    const verifyContent = (items: string) => {
        const result = runBash(render("verify-content.sh", rsyncValues()), { env: { ...env, FAKE_ITEMS: items } });
        return { result, compared: jsonLines<{ folder: string; filesCompared: number }>(result.stdout) };
    };

    it("verify-copy: a copy with source's metadata is content-checked on what the final round wrote, without a second copy", () => {
        const { result, verified } = verifyCopy();
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            verified.map(({ metadataDigest, contentChecked, fullWalk }) => [metadataDigest, contentChecked, fullWalk]),
            [[sourceDigest(), 1, false]],
        );
        assert.deepEqual(
            calls().map((call) => call.replace(/ -e .*/, "")),
            [
                `rsync --dry-run --checksum --itemize-changes --archive --hard-links --sparse --numeric-ids --modify-window=-1 --files-from=${markers()}/cold-${key}.changed`,
            ],
        );
    });

    it("verify-copy: fails when the content comparison cannot run (source's sshd gone after the final round): no comparison is no proof", () => {
        const { result } = verifyCopy({ FAKE_DRY_RUN_STATUS: "255" });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "core/core/data: the content of the files the final round wrote could not be compared with source's (rsync failed, see above): dest is not started on an unverified copy. Run pulumi up again once source is reachable.\n",
        );
    });

    it("verify-copy: on a metadata mismatch, copies the folder again with a full walk (deletions bounded), then compares again", () => {
        fs.rmSync(path.join(target, "same 1.wt"));
        const { result, verified } = verifyCopy({ FAKE_COPIED: "same 1.wt" });
        assert.deepEqual([result.status, result.stderr], [0, ""]);
        assert.deepEqual(
            verified.map(({ metadataDigest, contentChecked, fullWalk }) => [metadataDigest, contentChecked, fullWalk]),
            [[sourceDigest(), 2, true]],
        );
        assert.deepEqual(
            calls().map((call) => call.replace(/ -e .*/, "")),
            [
                "rsync --list-only",
                "rsync --archive --hard-links --sparse --numeric-ids --modify-window=-1 --inplace --delete --max-delete=7 --out-format=%i %n",
                `rsync --dry-run --checksum --itemize-changes --archive --hard-links --sparse --numeric-ids --modify-window=-1 --files-from=${markers()}/cold-${key}.changed`,
            ],
        );
        // What the full walk wrote is content-checked too.
        assert.equal(fs.readFileSync(path.join(markers(), `cold-${key}.changed`), "utf8"), "same 1.wt\nsame 1.wt\n");
    });

    it("verify-copy: fails, saying what differs, when the copy still differs after the full walk", () => {
        fs.chmodSync(path.join(sourceCopy, "same 1.wt"), 0o600);
        const expected = sourceDigest();
        fs.chmodSync(path.join(sourceCopy, "same 1.wt"), 0o644);
        const script = render("verify-copy.sh", { ...rsyncValues(), expected, maxDeletions: 7, changedList: `cold-${key}.changed` });
        const result = runBash(script, { env: { ...env, FAKE_ITEMS: ".f...p..... same 1.wt\n" } });
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            `${folder}: dest's copy differs from source's in metadata. What differs, as rsync itemizes it (> content or metadata to update, + missing on dest, *deleting only on dest; s size, t mtime, p mode, o owner, g group, L link target):\n.f...p..... same 1.wt\n`,
        );
        assert.equal(calls().filter((call) => call.includes("--max-delete=7")).length, 1);
    });

    it("verify-content: reports a file whose content differs while its size and mtime are still those dest had before it started", () => {
        assert.equal(verifyCopy().result.status, 0);
        const { result, compared } = verifyContent(">fc........ same 1.wt\n>fc........ journal/rewritten.log\n");
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            `${folder}: CONTENT DIFFERS between source and dest for files dest has not written since it started. Roll back (phase: warm-sync) to serve from source again:\n>fc........ same 1.wt\n>fc........ journal/rewritten.log\n`,
        );
        assert.deepEqual(compared, []);
    });

    it("verify-content: ignores a file dest rewrote since it started (mtime changed), one it removed, and metadata differences", () => {
        assert.equal(verifyCopy().result.status, 0);
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
