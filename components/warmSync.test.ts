import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { defaultDataFolders, folderKey } from "../config";
import { estimateOutage } from "./outageEstimate";
import { WarmSync, WarmSyncArgs } from "./warmSync";
import { peerAccess, pullScript } from "../machinery/folderSync";
import { render } from "../machinery/templates";
import {
    assertInOrder,
    build,
    childrenOf,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    machines,
    promiseOf,
    scriptOf,
    scriptsOf,
    stepType,
    transportFor,
    warmClock,
    ranOnce,
} from "../testing";

const { source, dest } = machines();
const journalStop = render("change-journal-stop.sh", { migrationId: "unit", round: 2 });
const sync = { compress: "none", maxDeletions: 1000 } as const;
const make = (executor: Executor, overrides: Partial<WarmSyncArgs> = {}) =>
    build(
        (opts) =>
            new WarmSync(
                "warm",
                {
                    source,
                    dest,
                    dataFolders: defaultDataFolders,
                    round: 2,
                    pullAccess: peerAccess(source, "pull", "unit"),
                    sync,
                    frozen: false,
                    destStartSeconds: pulumi.output(warmClock.destStartSeconds),
                    transport: transportFor(executor),
                    ...overrides,
                },
                opts,
            ),
        fakeMachines,
    );

for (const executor of executors) {
    describe(`WarmSync (${executor} executor)`, () => {
        it("starts source's change journal, then one warm rsync per data folder on dest after it; both again when the round changes, once otherwise", async () => {
            const { resources } = await make(executor);
            assert.equal(resources.get("warm")!.type, "pryv:migration:WarmSync");
            assert.deepEqual(
                childrenOf(resources, "warm").map((step) => [
                    step.name,
                    step.type,
                    hostOf(step),
                    step.dependsOn,
                    step.inputs.triggers,
                    step.inputs.delete === undefined ? undefined : scriptOf(step.inputs.delete),
                    step.inputs.stdin,
                    scriptOf(step.inputs.update),
                    step.ignoreChanges,
                    step.retainOnDelete,
                ]),
                [
                    ["warm-change-journal", stepType[executor], "10.0.0.11", [], [2], journalStop, undefined, ranOnce("warm-change-journal"), [], false],
                    ...defaultDataFolders.map((folder) => [
                        `warm-${folderKey(folder)}`,
                        stepType[executor],
                        "dest.example.com",
                        ["warm-change-journal"],
                        [2],
                        undefined,
                        undefined,
                        ranOnce(`warm-${folderKey(folder)}`),
                        [],
                        false,
                    ]),
                ],
            );
        });

        it("records on source every change under the data folders from before the round copies, and stops recording on delete", async () => {
            const { resources, component } = await make(executor);
            const { create, delete: undo } = scriptsOf(resources, "warm-change-journal");
            assert.equal(create, render("change-journal-start.sh", { migrationId: "unit", round: 2, confRoot: "/var/pryv", folders: defaultDataFolders }));
            assertInOrder(create, [
                "# Starts recording, on source, every change under the data folders from now on (inotify), before this warm round copies them",
                "marker_folder=\"$HOME\"/.pryv-migration/'unit'",
                "journal=\"$marker_folder\"/change-journal-'2'",
                'flush="$marker_folder"/change-journal-flush\nmkdir -p "$flush"\n',
                "setsid inotifywait -m -r -e modify,attrib,close_write,create,delete,moved_from,moved_to --format '%e %w%f' -o \"$journal\" \\\n",
                `  ${defaultDataFolders.map((folder) => `"$(folder_path '/var/pryv' '${folder}')" `).join("")}"$flush" </dev/null`,
            ]);
            assert.equal(undo, journalStop);
            assert.deepEqual(await promiseOf(component.journal), { journal: true });
        });

        it("pulls each folder from source through its key, as a warm round of that number", async () => {
            const { resources } = await make(executor, { sync: { compress: "zstd", maxDeletions: 12 } });
            for (const folder of defaultDataFolders) {
                assert.equal(
                    scriptOf(resources.get(`warm-${folderKey(folder)}`)!.inputs.create),
                    pullScript({
                        receiver: dest,
                        peerRole: "source",
                        access: peerAccess(source, "pull", "unit"),
                        folder,
                        migrationId: "unit",
                        sync: { compress: "zstd", maxDeletions: 12 },
                        round: { kind: "warm", round: 2 },
                    }),
                    folder,
                );
            }
            const script = scriptOf(resources.get("warm-core-mongodb-data")!.inputs.create);
            assert.match(script, /^printf .* \\\n {2}'core\/mongodb\/data' 'warm-2' /m);
            assert.match(script, /^options\+=\(--partial-dir=\.pryv-migration-partial\)$/m);
        });

        it("from the cutover on (frozen), ignores a changed round: dest serves and must not be synced again, nor the journal restarted", async () => {
            const { resources } = await make(executor, { frozen: true, round: 3 });
            const steps = childrenOf(resources, "warm");
            assert.deepEqual(
                steps.map((step) => step.name),
                ["warm-change-journal", ...defaultDataFolders.map((folder) => `warm-${folderKey(folder)}`)],
            );
            // A changed script runs the step's no-op update: the steps run once.
            for (const step of steps) assert.deepEqual([step.ignoreChanges, scriptOf(step.inputs.update)], [["triggers"], ranOnce(step.name)], step.name);
        });

        it("with dest declared lost: the rounds on dest leave the stack without running; the journal on source does not", async () => {
            const { resources } = await make(executor, { transport: transportFor(executor, "dest") });
            assert.deepEqual(
                childrenOf(resources, "warm").map((step) => [step.name, step.retainOnDelete]),
                [["warm-change-journal", false], ...defaultDataFolders.map((folder) => [`warm-${folderKey(folder)}`, true])],
            );
        });

        it("reports each folder's round, and estimates the cutover as if it followed at once, users changing as much as during the round", async () => {
            const { component } = await make(executor);
            const stats = await promiseOf(component.stats);
            assert.deepEqual(
                stats.map((s) => [s.folder, s.round, s.changedFiles, s.bytesReceived]),
                defaultDataFolders.map((folder) => [folder, "warm-1", warmClock.changedFiles, warmClock.bytesReceived]),
            );
            // Folder i's round wrote 2 files of 20 bytes, receiving 10 of them, from 1 to 2 + i/2 s: 10 bytes a second at most.
            assert.deepEqual(
                await promiseOf(component.cutoverEstimate),
                estimateOutage(
                    "made after warm round 2, as if the cutover followed at once and users changed as much as during it (after a first round, which copied everything, an upper bound; the cutover makes its own before source stops)",
                    defaultDataFolders.map((folder, index) => ({
                        folder,
                        journal: true,
                        paths: 2,
                        heldBytes: 10,
                        newBytes: 10,
                        entries: 4,
                        warmSeconds: 1 + index / 2,
                    })),
                    warmClock.destStartSeconds,
                    10,
                ),
            );
        });
    });
}
