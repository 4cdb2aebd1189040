import { strict as assert } from "assert";
import { Phase, phases } from "./config";
import { CoreMigration } from "./coreMigration";
import { build, fakeMachines, promiseOf, testConfig } from "../tests/unit/harness";

const make = (phase: Phase) => build((opts) => new CoreMigration("pryv", testConfig({ phase }), opts), fakeMachines);

const components = (resources: Map<string, { type: string; name: string; parent?: string; dependsOn: string[] }>) =>
    [...resources.values()].filter((resource) => resource.parent === "pryv").map((resource) => [resource.type, resource.name, resource.dependsOn]);

describe("CoreMigration phases", () => {
    it("prepare: the two migration keys and the dest check", async () => {
        const { resources, component } = await make("prepare");
        assert.deepEqual(components(resources), [
            ["pryv:migration:MigrationKey", "pryv-pull-key", []],
            ["pryv:migration:MigrationKey", "pryv-carry-back-key", []],
            ["pryv:migration:DestDeploymentCheck", "pryv-dest-check", []],
        ]);
        assert.equal(resources.size, 1 + 3 + 2 + 2 + 1);
        assert.deepEqual(Object.keys(component.outputs), ["phase", "destHealthySeconds"]);
    });

    it("warm-sync: adds the warm sync after everything prepare made", async () => {
        const { resources, component } = await make("warm-sync");
        assert.deepEqual(components(resources).slice(3), [["pryv:migration:WarmSync", "pryv-warm-sync", ["pryv-pull-key", "pryv-carry-back-key", "pryv-dest-check"]]]);
        assert.equal(resources.size, 9 + 1 + 4);
        assert.equal((await promiseOf(component.outputs.warmSync as never as import("@pulumi/pulumi").Output<unknown[]>)).length, 4);
    });

    it("cutover: adds the cutover after the warm sync", async () => {
        const { resources, component } = await make("cutover");
        assert.deepEqual(components(resources).slice(4), [["pryv:migration:Cutover", "pryv-cutover", ["pryv-warm-sync"]]]);
        assert.equal(resources.size, 14 + 1 + 1 + 4 + 1 + 1 + 4 + 1);
        assert.deepEqual(Object.keys(component.outputs), ["phase", "destHealthySeconds", "warmSync", "coldSync", "verifiedFolders", "coldSyncSeconds", "downtimeSeconds"]);
    });

    it("knows the phases in procedure order", () => {
        assert.deepEqual([...phases], ["prepare", "warm-sync", "cutover", "proxy", "dns", "finalize"]);
    });
});
