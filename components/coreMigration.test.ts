import { strict as assert } from "assert";
import { Phase, phases } from "./config";
import { CoreMigration } from "./coreMigration";
import { build, fakeMachines, promiseOf, Recorded, testConfig } from "../tests/unit/harness";

const make = (phase: Phase) => build((opts) => new CoreMigration("pryv", testConfig({ phase }), opts), fakeMachines);

const components = (resources: Map<string, Recorded>) =>
    [...resources.values()].filter((resource) => resource.parent === "pryv").map((resource) => `${resource.name} <- [${resource.dependsOn.join(", ")}]`);
const childrenOf = (resources: Map<string, Recorded>, parent: string) =>
    [...resources.values()].filter((resource) => resource.parent === parent).map((resource) => `${resource.name} <- [${resource.dependsOn.join(", ")}]`);

const prepared = ["pryv-pull-key <- []", "pryv-carry-back-key <- []", "pryv-dest-check <- []"];
const readers = ["pryv-source-proxy <- []", "pryv-register-dns <- []"];

describe("CoreMigration phases", () => {
    it("prepare: the migration keys, the dest check, and the files later phases change, read only", async () => {
        const { resources, component } = await make("prepare");
        assert.deepEqual(components(resources), [...prepared, ...readers]);
        assert.deepEqual(childrenOf(resources, "pryv-source-proxy"), ["pryv-source-proxy-original <- []"]);
        assert.deepEqual(childrenOf(resources, "pryv-register-dns"), [
            "pryv-register-dns-reg-master-original <- []",
            "pryv-register-dns-reg-slave-original <- []",
        ]);
        assert.equal(resources.size, 14);
        assert.deepEqual(Object.keys(component.outputs), ["phase", "destHealthySeconds", "proxyFile", "proxyReplaces", "dnsChanges", "steps"]);
        assert.deepEqual(await promiseOf(component.outputs.steps), [
            "dest: pryv-pull-key-keypair",
            "source: pryv-pull-key-grant",
            "source: pryv-carry-back-key-keypair",
            "dest: pryv-carry-back-key-grant",
            "dest: pryv-dest-check-services",
            "source: pryv-source-proxy-original",
            "reg-master: pryv-register-dns-reg-master-original",
            "reg-slave: pryv-register-dns-reg-slave-original",
        ]);
    });

    it("warm-sync: adds the warm sync after everything prepare made", async () => {
        const { resources } = await make("warm-sync");
        assert.deepEqual(components(resources), [...prepared, "pryv-warm-sync <- [pryv-pull-key, pryv-carry-back-key, pryv-dest-check]", ...readers]);
        assert.equal(resources.size, 19);
    });

    it("cutover: adds the cutover after the warm sync", async () => {
        const { resources, component } = await make("cutover");
        assert.deepEqual(components(resources).slice(3, 5), [
            "pryv-warm-sync <- [pryv-pull-key, pryv-carry-back-key, pryv-dest-check]",
            "pryv-cutover <- [pryv-warm-sync]",
        ]);
        assert.equal(resources.size, 32);
        assert.deepEqual(Object.keys(component.outputs).slice(2, 7), ["warmSync", "coldSync", "verifiedFolders", "coldSyncSeconds", "downtimeSeconds"]);
    });

    it("proxy: replaces source's site file after the cutover", async () => {
        const { resources, component } = await make("proxy");
        assert.deepEqual(childrenOf(resources, "pryv-source-proxy"), ["pryv-source-proxy-original <- []", "pryv-source-proxy-site <- [pryv-cutover]"]);
        assert.equal(resources.size, 33);
        assert.ok("proxyFileSha256" in component.outputs);
    });

    it("dns: edits each register's dns.json after the proxy", async () => {
        const { resources } = await make("dns");
        assert.deepEqual(childrenOf(resources, "pryv-register-dns"), [
            "pryv-register-dns-reg-master-original <- []",
            "pryv-register-dns-reg-master <- [pryv-source-proxy]",
            "pryv-register-dns-reg-slave-original <- []",
            "pryv-register-dns-reg-slave <- [pryv-source-proxy]",
        ]);
        assert.equal(resources.size, 35);
    });

    it("finalize: checks each register's answer; the migration keys leave the stack", async () => {
        const { resources, component } = await make("finalize");
        const names = components(resources);
        assert.ok(!names.some((name) => name.includes("-key")), names.join("\n"));
        assert.deepEqual(names.slice(0, 2), ["pryv-dest-check <- []", "pryv-warm-sync <- [pryv-dest-check]"]);
        assert.deepEqual(names.at(-1), "pryv-finalize <- [pryv-register-dns]");
        assert.deepEqual(childrenOf(resources, "pryv-finalize"), ["pryv-finalize-reg-master-answers <- []", "pryv-finalize-reg-slave-answers <- []"]);
        assert.equal(resources.size, 32);
        assert.ok("dnsAnswers" in component.outputs);
    });

    it("knows the phases in procedure order", () => {
        assert.deepEqual([...phases], ["prepare", "warm-sync", "cutover", "proxy", "dns", "finalize"]);
    });
});
