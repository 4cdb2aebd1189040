import { strict as assert } from "assert";
import { defaultDataFolders } from "./config";
import { Cutover } from "./cutover";
import { MigrationKey } from "./migrationKey";
import { serviceCheck } from "../machinery/services";
import { build, fakeMachines, machines, promiseOf, scriptOf, testConfig, transportFor } from "../tests/unit/harness";

const slugs = defaultDataFolders.map((folder) => folder.replace(/\//g, "-"));

for (const executor of ["command", "openssh"] as const) {
    describe(`Cutover (${executor} executor)`, () => {
        const make = () =>
            build((opts) => {
                const transport = transportFor(executor);
                const { source, dest } = machines();
                const key = (purpose: "pull" | "carry-back", holder = purpose === "pull" ? dest : source, granter = purpose === "pull" ? source : dest) =>
                    new MigrationKey(`key-${purpose}`, { holder, granter, dataFolders: defaultDataFolders, purpose, migrationId: "unit", transport }, opts);
                const check = serviceCheck(testConfig().healthCheck, "pryv.example.com", "co1");
                return new Cutover(
                    "cut",
                    {
                        source,
                        dest,
                        dataFolders: defaultDataFolders,
                        check,
                        pullAccess: key("pull").access,
                        carryBackAccess: key("carry-back").access,
                        transport,
                    },
                    opts,
                );
            }, fakeMachines);

        it("orders the steps as the procedure: stop source, final sync, verify, arm the carry-back, start dest", async () => {
            const { resources } = await make();
            const children = [...resources.values()].filter((resource) => resource.parent === "cut");
            const dependencies = Object.fromEntries(children.map((resource) => [resource.name, resource.dependsOn]));
            const hosts = Object.fromEntries(children.map((resource) => [resource.name, (resource.inputs.connection as { host: string }).host]));
            assert.deepEqual(dependencies, {
                "cut-stop-source": [],
                ...Object.fromEntries(slugs.map((slug) => [`cut-final-sync-${slug}`, ["cut-stop-source"]])),
                "cut-source-manifest": slugs.map((slug) => `cut-final-sync-${slug}`),
                "cut-verify": ["cut-source-manifest"],
                ...Object.fromEntries(slugs.map((slug) => [`cut-carry-back-${slug}`, ["cut-verify"]])),
                "cut-start-dest": slugs.map((slug) => `cut-carry-back-${slug}`),
            });
            assert.deepEqual(hosts, {
                "cut-stop-source": "10.0.0.11",
                ...Object.fromEntries(slugs.map((slug) => [`cut-final-sync-${slug}`, "dest.example.com"])),
                "cut-source-manifest": "10.0.0.11",
                "cut-verify": "dest.example.com",
                ...Object.fromEntries(slugs.map((slug) => [`cut-carry-back-${slug}`, "10.0.0.11"])),
                "cut-start-dest": "dest.example.com",
            });
        });

        it("undoes in reverse: dest stopped, dest's data carried back to source with source's own key, source started", async () => {
            const { resources } = await make();
            const script = (name: string, which: "create" | "delete") => scriptOf(resources.get(name)!.inputs[which]);
            assert.match(script("cut-stop-source", "create"), /^'\/var\/pryv\/stop-containers'$/m);
            assert.match(script("cut-stop-source", "delete"), /^'\/var\/pryv\/run-core'$/m);
            assert.match(script("cut-stop-source", "delete"), /^until output=\$\('curl'/m);
            assert.match(script("cut-start-dest", "create"), /^'\/srv\/pryv\/run-core'$/m);
            assert.match(script("cut-start-dest", "delete"), /^'\/srv\/pryv\/stop-containers'$/m);
            const carryBack = script("cut-carry-back-core-core-data", "delete");
            assert.match(carryBack, /^key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-carry-back'$/m);
            assert.match(carryBack, /^remote='pryv'@'10\.0\.0\.12':\.\/$/m);
            assert.match(carryBack, /^port='2222'$/m);
            assert.match(carryBack, /^alias='pryv-migration-dest'$/m);
            assert.match(carryBack, /^target='\/var\/pryv\/core\/core\/data'$/m);
            assert.equal(resources.get("cut-final-sync-core-core-data")!.inputs.delete, undefined);
        });

        it("verifies dest against the digest source computed, independently of rsync", async () => {
            const { resources, component } = await make();
            const sourceManifest = scriptOf(resources.get("cut-source-manifest")!.inputs.create);
            assert.match(sourceManifest, /for folder in 'core\/mongodb\/data' 'core\/core\/data' 'core\/influxdb\/data' 'core\/hfs\/data' ; do/);
            assert.match(sourceManifest, /path='\/var\/pryv'\/"\$folder"/);
            const verify = scriptOf(resources.get("cut-verify")!.inputs.create);
            assert.match(verify, /path='\/srv\/pryv'\/"\$folder"/);
            assert.ok(
                verify.includes(`diff <(printf '%s\\n' '{"folder":"core/core/data","entries":3,"bytes":1024,"digest":"ab12"}') <(printf '%s\\n' "$actual")`),
                verify,
            );
            assert.deepEqual(await promiseOf(component.verified), [{ folder: "core/core/data", entries: 3, bytes: 1024, digest: "ab12" }]);
        });

        it("measures the cold sync and the downtime from the machines' clocks", async () => {
            const { component } = await make();
            assert.equal(await promiseOf(component.coldSyncSeconds), 3);
            assert.equal(await promiseOf(component.downtimeSeconds), 12.5);
            assert.deepEqual(
                (await promiseOf(component.coldSync)).map((stats) => stats.round),
                ["cold", "cold", "cold", "cold"],
            );
        });
    });
}
