import { strict as assert } from "assert";
import { defaultDataFolders, folderKey } from "../config";
import { Cutover } from "./cutover";
import { estimateOutage, FolderWork } from "./outageEstimate";
import { peerAccess, peerRsyncValues, pullScript, SyncStats } from "../machinery/folderSync";
import { proxyServingScript, startServicesScript, stopServicesScript, stopSourceScript } from "../machinery/services";
import { render, shellQuote } from "../machinery/templates";
import {
    assertInOrder,
    build,
    checkFor,
    childrenOf,
    cutoverClock,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    journalPaths,
    walkBlocksSince,
    machines,
    metadataDigestOf,
    promiseOf,
    scriptOf,
    scriptsOf,
    StandIn,
    stepType,
    testConfig,
    transportFor,
    ranOnce,
} from "../testing";

const { source, dest } = machines();
const keys = defaultDataFolders.map(folderKey);
const keepAside = "/var/pryv/pryv-migration-kept/unit";
const sync = { compress: "none", maxDeletions: 1000 } as const;
const pullAccess = peerAccess(source, "pull", "unit");
const carryBackAccess = peerAccess(dest, "carry-back", "unit");

// Folder i: its last warm round took 1 + i seconds for 10 MB, and holds 10,000 (i + 1) entries.
const warmRounds: SyncStats[] = defaultDataFolders.map((folder, index) => ({
    folder,
    round: "warm-2",
    walk: true,
    bytesReceived: 10_000_000,
    bytesTransferred: 10_000_000,
    totalSize: 2 ** 30,
    files: 10_000 * (index + 1),
    changedFiles: 100,
    vanished: 0,
    startedAt: 1,
    finishedAt: 2 + index,
    delete: true,
}));

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
                warmRounds,
                destStartSeconds: 2.5,
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
    ["cut-dest-description", "dest", ["proxy-source-back", "proxy-site-file"]],
    ["cut-dest-taken-over", "dest", ["proxy-source-back", "proxy-site-file", "cut-dest-description"]],
    ["cut-changes-before-stop", "source", ["proxy-source-back", "proxy-site-file"]],
    ["cut-dest-room", "dest", ["cut-changes-before-stop"]],
    ["cut-dest-reachable", "source", ["proxy-source-back", "proxy-site-file"]],
    ...carryBacks.map((name): [string, "source" | "dest", string[]] => [name, "source", ["cut-dest-taken-over"]]),
    ["cut-dest-back", "dest", carryBacks],
    ["cut-stop-source", "source", ["proxy-source-back", "proxy-site-file", "cut-dest-room", "cut-dest-reachable", "cut-dest-back"]],
    ["cut-source-description", "source", ["cut-stop-source"]],
    ...keys.flatMap((key): [string, "source" | "dest", string[]][] => [
        [`cut-final-sync-${key}`, "dest", ["cut-stop-source", "cut-dest-taken-over"]],
        [`cut-verify-${key}`, "dest", [`cut-final-sync-${key}`, "cut-source-description"]],
    ]),
    ["cut-dest-may-serve", "source", verifies],
    ["cut-start-dest", "dest", ["cut-dest-may-serve"]],
    ["cut-proxy-serving", "source", ["cut-start-dest"]],
    ...perFolder("verify-content").map((name): [string, "source" | "dest", string[]] => [name, "dest", ["cut-proxy-serving"]]),
];
const hosts = { source: "10.0.0.11", dest: "dest.example.com" };
/**
 * What each final round reads on its standard input, as written out from the fake journal: its
 * paths, or a full walk, then its priority (and for a walk, from when it compares files by their blocks). The folder the journal does not cover leads: its walk
 * is priced at its last warm round (3 s), each list at well under a second.
 */
const priorityOf = (folder: string): string => (folder === "core/influxdb/data" ? "lead" : "yield");
const finalRoundStdin = (folder: string): string => {
    const paths = journalPaths(folder);
    return paths === null
        ? `walk ${priorityOf(folder)} ${walkBlocksSince}\n`
        : `journal ${priorityOf(folder)}\n${Buffer.from(paths.join("\0")).toString("base64")}\n`;
};
/** dest's room check gets a line per folder the journal covers, from the fake journal so far. */
const destRoomStdin = defaultDataFolders
    .filter((folder) => folder !== "core/influxdb/data")
    .map((folder) => `${folder}\t4096\t${Buffer.from("collection-0.wt\0").toString("base64")}\n`)
    .join("");
const stdinOf = (name: string): string | undefined => {
    if (name === "cut-dest-room") return destRoomStdin;
    // 0.5 + 100,000 entries at 1.5e-5 s: 2 s, before the walked folder's round (3 s).
    if (name === "cut-source-description") return "yield\n";
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
marker_folder="$HOME"/.pryv-migration/'unit'
# Markers are written before a step acts, so that its undo knows what to undo even after a crash (a comment after the first command: it is not what the step does).
mkdir -p "$marker_folder"
touch "$marker_folder"/cutover-began
`,
            );
            assert.match(
                scriptOf(takenOver.inputs.delete),
                /^# dest's data has been carried back to source \(this undo runs after every carry-back\): warm rounds may overwrite dest again\.\n[\s\S]*\nrm -f "\$marker_folder"\/cutover-began\n$/,
            );
            // Deleted in reverse: the final rounds and the carry-backs wait on the mark.
            for (const key of keys) assert.ok(resources.get(`cut-final-sync-${key}`)!.dependsOn.includes("cut-dest-taken-over"), key);
            for (const name of carryBacks) assert.deepEqual(resources.get(name)!.dependsOn, ["cut-dest-taken-over"], name);
        });

        it("checks, before source stops, that source reads each of dest's folders with the carry-back key (carry-back-reachable.sh, run in cutoverScripts.test.ts)", async () => {
            const { resources } = await make(executor);
            assert.equal(
                scriptsOf(resources, "cut-dest-reachable").create,
                render("carry-back-reachable.sh", {
                    folders: defaultDataFolders.map((folder) => ({ folder, ...peerRsyncValues(source, carryBackAccess, folder) })),
                    peerAddress: "10.0.0.12",
                    count: 4,
                }),
            );
        });

        it("describes dest's copy of every folder before source stops, dest's services stopped first: what each final round patches", async () => {
            const { resources } = await make(executor);
            const description = scriptsOf(resources, "cut-dest-description").create;
            assert.ok(description.startsWith("# Describes dest's copy of each data folder before source stops"), description);
            assertInOrder(description, [
                '\n  find "$@" \\( -type f -links +1',
                `\n${dest.stopCommand.map((word) => `'${word}'`).join(" ")} >/dev/null </dev/null\n`,
                ...defaultDataFolders.flatMap((folder, index) => [
                    `path=$(folder_path '${dest.confRoot}' '${folder}')`,
                    `manifest="$marker_folder"/manifest-'${keys[index]}'.'dest-before-stop'`,
                    'describe_folder "$path" > "$manifest"',
                ]),
            ]);
            assert.doesNotMatch(description, /running=|renice/);
        });

        it("stops source, then starts its nginx alone on the proxy file; source's description, made while dest copies, checks nothing else runs", async () => {
            const { resources } = await make(executor);
            const stop = scriptsOf(resources, "cut-stop-source").create;
            assertInOrder(stop, [
                "# Stops every service on source, then starts its nginx alone",
                `date +%s.%N > "$marker_folder/source-stopped"\n'/var/pryv/stop-containers'\n`,
                "\n'/var/pryv/run-core' 'reverse_proxy'\n",
            ]);
            assert.ok(!stop.includes("running="), "the final rounds do not wait for the running check");
            const description = scriptsOf(resources, "cut-source-description").create;
            assert.ok(description.startsWith("# Checks that nothing but nginx runs on source, then describes each data folder there"), description);
            assertInOrder(description, [
                "\n  running=$('docker-compose' '-f' '/var/pryv/core.yml' 'ps' '--services' '--filter' 'status=running')\n",
                "grep -v -x -F -e 'reverse_proxy' -e ''",
                '\n) 2> "$alone_check" &\n',
                "describe_folder",
                'if ! wait "$checker"; then',
            ]);
            // The walk yields the CPU to the final rounds running meanwhile as its standard input says (stdinOf); each verify on dest always does.
            assertInOrder(description, [
                "\nyield_cpu() { renice -n 10 -p $$ >/dev/null 2>&1 || true; }\n",
                '\nread -r priority || true\nif [ "${priority:-lead}" = yield ]; then yield_cpu; fi\n',
                "describe_folder",
            ]);
            for (const key of keys) assert.match(scriptsOf(resources, `cut-verify-${key}`).create, /^yield_cpu$/m, key);
            for (const [index, folder] of defaultDataFolders.entries()) {
                assertInOrder(description, [`path=$(folder_path '/var/pryv' '${folder}')`, `manifest="$marker_folder"/manifest-'${keys[index]}'.'source'`]);
            }
        });

        it("copies each folder from the stopped source in a cold round that describes dest's copy, then checks that description against source's", async () => {
            const { resources } = await make(executor);
            for (const folder of defaultDataFolders) {
                const key = folderKey(folder);
                const finalSync = scriptsOf(resources, `cut-final-sync-${key}`).create;
                assert.equal(
                    finalSync,
                    pullScript({ receiver: dest, peerRole: "source", access: pullAccess, folder, migrationId: "unit", sync, round: { kind: "cold" } }),
                );
                assertInOrder(finalSync, [
                    "options+=(--inplace)",
                    // dest's side of the verification, as soon as its copy is done
                    `manifest="$marker_folder"/manifest-'${key}'.dest`,
                    'describe_folder "$target" > "$manifest"',
                    'check_written_content "$written"',
                ]);
                const verify = scriptsOf(resources, `cut-verify-${key}`).create;
                assertInOrder(verify, [
                    `# Checks, before dest serves, that its copy of ${folder} is source's:`,
                    "key_folder=\"$HOME\"/.ssh/'pryv-migration-unit-pull'",
                    `target='/srv/pryv/${folder}'`,
                    "remote='root'@'10.0.0.11':./",
                    `expected='${metadataDigestOf(folder)}'`,
                    // dest's own description, the final round's second line
                    `actual='${metadataDigestOf(folder)}'`,
                    "content_checked='2'",
                    'if [ "$actual" != "$expected" ]; then',
                    "full_walk=true",
                    "delete=(--delete --max-delete='1000')",
                    'refill=$(rsync "${copy_options[@]}" --inplace "${delete[@]}" --out-format=\'%i %n\' -e "$rsh" "$remote" "$target/")',
                    `refilled="$marker_folder"/'cold-${key}.refilled'`,
                    `manifest="$marker_folder"/manifest-'${key}'.dest`,
                    'describe_folder "$target" > "$manifest"',
                    'check_written_content "$refilled"',
                ]);
            }
        });

        it("reads, source stopped and while its nginx starts, what changed since the last warm round began; each final round copies its folder's journal paths, or walks", async () => {
            const { resources } = await make(executor);
            const stop = scriptsOf(resources, "cut-stop-source").create;
            assert.equal(stop, stopSourceScript(source, testConfig().proxy, "unit", { round: 2, dataFolders: defaultDataFolders, maxPaths: 50000 }));
            assertInOrder(stop, [
                "Meanwhile reads from the change journal what changed under each data folder since warm round 2 began",
                "marker_folder=\"$HOME\"/.pryv-migration/'unit'",
                "# died, more than 50000 paths; a queue overflow if the recorder ever reports one) means a",
                "  journal=\"$marker_folder\"/change-journal-'2'",
                "  max_paths='50000'",
                `  for folder in ${defaultDataFolders.map((folder) => `'${folder}' `).join("")}; do`,
                '    prefix="$(folder_path \'/var/pryv\' "$folder")"/',
                "\n'/var/pryv/stop-containers'\nstopped_at=$(date +%s.%N)\n",
                'folder_changes > "$changes" 2> "$changes.err" &',
                "\n'/var/pryv/run-core' 'reverse_proxy'\n",
                'if ! wait "$reader"; then',
                'cat "$changes"',
            ]);
            for (const folder of defaultDataFolders) {
                const stdin = String(resources.get(`cut-final-sync-${folderKey(folder)}`)!.inputs.stdin);
                const paths = journalPaths(folder);
                if (paths === null) {
                    assert.equal(stdin, `walk ${priorityOf(folder)} ${walkBlocksSince}\n`, folder);
                } else {
                    const [mode, list, end] = stdin.split("\n");
                    assert.deepEqual([mode, Buffer.from(list, "base64").toString().split("\0"), end], [`journal ${priorityOf(folder)}`, paths, ""], folder);
                }
            }
        });

        it("before source stops, records the carry-back of each folder (kept aside on source, only once dest may serve) and dest's stop", async () => {
            const { resources } = await make(executor);
            for (const folder of defaultDataFolders) {
                const { create, delete: undo } = scriptsOf(resources, `cut-carry-back-${folderKey(folder)}`);
                assert.equal(
                    create,
                    marker(
                        "Does nothing now: recorded before source stops, so that a rollback carries dest's writes back even after a crash; it carries nothing unless dest was started.",
                        `on rollback, ${folder} is carried back from dest if dest was started`,
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
                    'if [ ! -e "$marker_folder"/dest-may-serve ]; then',
                    "\n  '/var/pryv/stop-containers' >/dev/null </dev/null\n",
                    `kept='${keepAside}'/`,
                    'options+=(--backup --backup-dir="$kept")',
                ]);
            }
            const destBack = scriptsOf(resources, "cut-dest-back");
            assert.equal(
                destBack.create,
                marker("Does nothing now: recorded before source stops, so that a rollback stops dest even after a crash.", "on rollback, dest is stopped"),
            );
            assert.equal(destBack.delete, stopServicesScript(dest));
            assert.match(destBack.delete, /^'\/srv\/pryv\/stop-containers'$/m);
        });

        it("marks on source, once every folder is verified and before dest starts, that dest may serve: the carry-backs act from then on", async () => {
            const { resources } = await make(executor);
            const mark = resources.get("cut-dest-may-serve")!;
            assert.equal(hostOf(mark), hosts.source);
            assert.equal(
                scriptOf(mark.inputs.create),
                `# Records on source, dest's copy verified and dest about to start, that dest may take users' writes from now on: a rollback carries dest's data back to source only after this mark (the carry-backs were recorded before source stopped).
marker_folder="$HOME"/.pryv-migration/'unit'
# Markers are written before a step acts, so that its undo knows what to undo even after a crash (a comment after the first command: it is not what the step does).
mkdir -p "$marker_folder"
touch "$marker_folder"/dest-may-serve
`,
            );
            assert.equal(mark.inputs.delete, undefined);
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
            // Dest's copy as each final round described it (its second line).
            assert.deepEqual(
                (await promiseOf(component.destDescribed)).map(({ folder, metadataDigest, describedBy, touched }) => [
                    folder,
                    metadataDigest,
                    describedBy,
                    touched,
                ]),
                defaultDataFolders.map((folder) => [folder, metadataDigestOf(folder), "patch", 3]),
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

describe("Cutover's outage estimate", () => {
    it("is made from source's journal so far, what dest holds of it and the last warm rounds, before source stops", async () => {
        const { component } = await make("command");
        // changes-before-stop lists one path and one deletion in every folder but influxdb's (no journal: a walk);
        // dest-room finds 3072 of the 4096 listed bytes missing on dest. The fastest warm round: 10 MB in 1 s.
        const journaled = (folder: string, index: number): FolderWork => ({
            folder,
            journal: true,
            paths: 2,
            heldBytes: 1024,
            newBytes: 3072,
            entries: 10_000 * (index + 1),
            warmSeconds: 1 + index,
        });
        assert.deepEqual(
            await promiseOf(component.outageEstimate),
            estimateOutage(
                "made before source stopped, from its change journal",
                defaultDataFolders.map((folder, index) =>
                    folder === "core/influxdb/data"
                        ? { ...journaled(folder, index), journal: false, paths: 0, heldBytes: 0, newBytes: 0 }
                        : journaled(folder, index),
                ),
                2.5,
                10_000_000,
            ),
        );
    });
});

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
        const steps = ["proxy-source-back", "proxy-site-file", "cut-stop-source", "cut-source-description", ...perFolder("final-sync")];
        for (const name of [...steps, ...verifies, ...carryBacks, "cut-dest-back", "cut-dest-may-serve"]) {
            assert.ok(startDest.has(name), name);
        }
        for (const name of perFolder("verify-content")) assert.ok(before(name).has("cut-proxy-serving"), name);
        // Recorded while source still serves: users do not wait for them.
        const stopSource = before("cut-stop-source");
        for (const name of [...carryBacks, "cut-dest-back", "cut-dest-description"]) assert.ok(stopSource.has(name), name);
        assert.ok(!stopSource.has("cut-dest-may-serve"));
    });
});
