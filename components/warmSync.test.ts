import { strict as assert } from "assert";
import { defaultDataFolders } from "./config";
import { MigrationKey } from "./migrationKey";
import { WarmSync } from "./warmSync";
import { build, fakeMachines, machines, promiseOf, scriptOf, transportFor } from "../tests/unit/harness";

for (const executor of ["command", "openssh"] as const) {
    describe(`WarmSync (${executor} executor)`, () => {
        const make = (round: number) =>
            build((opts) => {
                const transport = transportFor(executor);
                const { source, dest } = machines();
                const key = new MigrationKey(
                    "key",
                    { holder: dest, granter: source, dataFolders: defaultDataFolders, purpose: "pull", migrationId: "unit", transport },
                    opts,
                );
                return new WarmSync("warm", { dest, dataFolders: defaultDataFolders, round, pullAccess: key.access, transport }, opts);
            }, fakeMachines);

        it("declares one rsync per data folder, on dest, re-run when the round changes", async () => {
            const { resources } = await make(2);
            const rounds = [...resources.values()].filter((resource) => resource.parent === "warm");
            assert.deepEqual(
                rounds.map((resource) => resource.name),
                defaultDataFolders.map((folder) => `warm-${folder.replace(/\//g, "-")}`),
            );
            for (const resource of rounds) {
                assert.equal((resource.inputs.connection as { host: string }).host, "dest.example.com");
                assert.deepEqual(resource.inputs.triggers, [2]);
                assert.equal(resource.inputs.delete, undefined);
            }
            assert.equal(resources.get("warm")?.type, "pryv:migration:WarmSync");
        });

        it("pulls from source through the folder's own key, keeping numeric owners, links, hard links and sparse files", async () => {
            const { resources } = await make(1);
            const script = scriptOf(resources.get("warm-core-mongodb-data")!.inputs.create);
            assert.match(script, /^key_file="\$key_folder"\/'core_mongodb_data'$/m);
            assert.match(script, /^key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-pull'$/m);
            assert.match(script, /^target='\/srv\/pryv\/core\/mongodb\/data'$/m);
            assert.match(script, /^remote='root'@'10\.0\.0\.11':\.\/$/m);
            assert.match(script, /^alias='pryv-migration-source'$/m);
            assert.match(script, /^port='22'$/m);
            assert.match(
                script,
                /rsync --archive --hard-links --sparse --numeric-ids --compress --stats --no-human-readable \$delete -e "\$rsh" "\$remote" "\$target\/"/,
            );
            assert.doesNotMatch(script, /copy-links|--verbose/);
            assert.match(script, /StrictHostKeyChecking=yes/);
            assert.match(script, /'\/srv\/pryv'\/\*\) ;;/);
        });

        it("reports what each folder's round moved", async () => {
            const { component } = await make(1);
            const stats = await promiseOf(component.stats);
            assert.deepEqual(
                stats.map((s) => [s.folder, s.bytesReceived]),
                defaultDataFolders.map((folder) => [folder, 10]),
            );
        });
    });
}
