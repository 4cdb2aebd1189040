import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { defaultDataFolders } from "./config";
import { peerAccess } from "./migrationKey";
import { WarmSync, WarmSyncArgs } from "./warmSync";
import { folderKey, pullScript } from "../machinery/folderSync";
import {
    build,
    childrenOf,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    machines,
    promiseOf,
    scriptOf,
    stepType,
    transportFor,
    warmClock,
} from "../tests/unit/harness";

const { source, dest } = machines();
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
                    migrationId: "unit",
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
        it("declares one warm rsync per data folder, on dest, re-run when the round changes, nothing to undo", async () => {
            const { resources } = await make(executor);
            assert.equal(resources.get("warm")!.type, "pryv:migration:WarmSync");
            assert.deepEqual(
                childrenOf(resources, "warm").map((step) => [
                    step.name,
                    step.type,
                    hostOf(step),
                    step.dependsOn,
                    step.inputs.triggers,
                    step.inputs.delete,
                    step.inputs.stdin,
                    step.ignoreChanges,
                ]),
                defaultDataFolders.map((folder) => [`warm-${folderKey(folder)}`, stepType[executor], "dest.example.com", [], [2], undefined, undefined, []]),
            );
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

        it("from the cutover on (frozen), ignores a changed round or script: dest serves and must not be synced again", async () => {
            const { resources } = await make(executor, { frozen: true, round: 3 });
            for (const step of childrenOf(resources, "warm")) assert.deepEqual(step.ignoreChanges, ["create", "triggers"], step.name);
        });

        it("reports each folder's round, and estimates the cutover from the slowest folder and dest's start", async () => {
            const { component } = await make(executor);
            const stats = await promiseOf(component.stats);
            assert.deepEqual(
                stats.map((s) => [s.folder, s.round, s.changedFiles, s.bytesReceived]),
                defaultDataFolders.map((folder) => [folder, "warm-1", warmClock.changedFiles, warmClock.bytesReceived]),
            );
            // The slowest folder (the fourth) took 2 + 3/2 - 1 = 2.5s; dest started in 2.5s; 5 steps at 0.5s.
            assert.deepEqual(await promiseOf(component.cutoverEstimate), {
                seconds: 7.5,
                coldSyncSeconds: 2.5,
                destStartSeconds: 2.5,
                basis: "the slowest folder's last warm round (8 files, 40 bytes received), dest's start measured in prepare, 5 steps at 0.5s: run another warm round just before the cutover to bring it down",
            });
        });

        it("counts each step's overhead as configured", async () => {
            const { component } = await make(executor, { stepOverheadSeconds: 2 });
            const estimate = await promiseOf(component.cutoverEstimate);
            assert.deepEqual([estimate.seconds, estimate.coldSyncSeconds], [15, 2.5]);
            assert.match(estimate.basis, /, 5 steps at 2s:/);
        });
    });
}
