import { strict as assert } from "assert";
import { defaultDataFolders } from "./config";
import { Cutover } from "./cutover";
import { peerAccess } from "./migrationKey";
import { folderKey, pullScript } from "../machinery/folderSync";
import { proxyServingScript, startServicesScript, stopServicesScript, stopSourceScript } from "../machinery/services";
import { shellQuote } from "../machinery/templates";
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
    machines,
    metadataDigestOf,
    promiseOf,
    scriptOf,
    scriptsOf,
    StandIn,
    stepType,
    testConfig,
    transportFor,
} from "../tests/unit/harness";

const { source, dest } = machines();
const keys = defaultDataFolders.map(folderKey);
const keepAside = "/var/pryv/pryv-migration-kept/unit";
const sync = { compress: "none", maxDeletions: 1000 } as const;
const pullAccess = peerAccess(source, "pull", "unit");
const carryBackAccess = peerAccess(dest, "carry-back", "unit");

const ranOnce = "# This step ran once already: a change to its script is recorded, not run (roll back past it and forward again to run it anew).\ntrue\n";

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
                migrationId: "unit",
                proxyStartCommand: testConfig().proxy.startCommand,
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
    ["cut-stop-source", "source", ["proxy-source-back", "proxy-site-file"]],
    ["cut-source-description", "source", ["cut-stop-source"]],
    ...keys.flatMap((key): [string, "source" | "dest", string[]][] => [
        [`cut-final-sync-${key}`, "dest", ["cut-stop-source"]],
        [`cut-verify-${key}`, "dest", [`cut-final-sync-${key}`, "cut-source-description"]],
    ]),
    ...carryBacks.map((name): [string, "source" | "dest", string[]] => [name, "source", verifies]),
    ["cut-dest-back", "dest", carryBacks],
    ["cut-start-dest", "dest", ["cut-dest-back"]],
    ["cut-proxy-serving", "source", ["cut-start-dest"]],
    ...perFolder("verify-content").map((name): [string, "source" | "dest", string[]] => [name, "dest", ["cut-proxy-serving"]]),
];
const hosts = { source: "10.0.0.11", dest: "dest.example.com" };
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
                    [stepType[executor], undefined, undefined, ranOnce, false, [], false],
                    step.name,
                );
            }
        });

        it("records an undo only on the steps recorded for it: the carry-backs and dest-back", async () => {
            const { resources } = await make(executor);
            const withUndo = childrenOf(resources, "cut")
                .filter((step) => step.inputs.delete !== undefined)
                .map((step) => step.name);
            assert.deepEqual(withUndo, [...carryBacks, "cut-dest-back"]);
        });

        it("stops source, then starts its nginx alone on the proxy file; source's description is made while dest copies", async () => {
            const { resources } = await make(executor);
            assert.equal(scriptsOf(resources, "cut-stop-source").create, stopSourceScript(source, ["/var/pryv/run-core", "reverse_proxy"], "unit"));
            const description = scriptsOf(resources, "cut-source-description").create;
            assert.ok(description.startsWith("# Describes each data folder on source as a copy must preserve it"), description);
            for (const [index, folder] of defaultDataFolders.entries()) {
                assertInOrder(description, [`path='/var/pryv'/'${folder}'`, `manifest="$marker_folder"/manifest-'${keys[index]}'.'source'`]);
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
                    `changed="$marker_folder"/'cold-${key}.changed'`,
                ]);
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
                    "\n'/var/pryv/stop-containers' >/dev/null\n",
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
                    `target='/srv/pryv/${folder}'`,
                    'itemized=$(rsync --dry-run --checksum --itemize-changes --stats "${copy_options[@]}" -e "$rsh" "$remote" "$target/")',
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
        for (const name of ["proxy-source-back", "proxy-site-file", "cut-stop-source", "cut-source-description", ...verifies, ...carryBacks, "cut-dest-back"]) {
            assert.ok(startDest.has(name), name);
        }
        for (const name of perFolder("verify-content")) assert.ok(before(name).has("cut-proxy-serving"), name);
    });
});
