import { strict as assert } from "assert";
import * as fs from "fs";
import { CORE_SERVICES, serviceStartedAt, TestHost, TestHosts } from "../../testbed";
import { treeManifest } from "../../testbed/checks";
import { MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { authorizedKeys, servedBy } from "../../testbed/migration/observe";
import { realStackConfigWithDefaultFolders } from "../../testbed/migration/realStackConfig";
import { databaseRuns, manifests, quietFolders, startFaultHosts } from "./view";

// The live databases rewrite their own files: whether anything stopped them is read from their containers' start times.
const dataTrees = (host: TestHost) => manifests(host, quietFolders);
const startTimes = (host: TestHost) => Promise.all(CORE_SERVICES.map((service) => serviceStartedAt(host, service)));
const sshFolder = (host: TestHost) => fs.readdirSync(`${host.dir}/home/root/.ssh`).sort();

/**
 * Plausible mistakes, made on the test hosts as an operator would make them: the program
 * must refuse before it writes or stops anything, and say why.
 */
describe("wrong machines (real engine, test hosts)", function () {
    this.timeout(600_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;

    before(async () => {
        hosts = await startFaultHosts(["source", "dest", "reg-master", "reg-slave"], 8);
        ({ source, dest } = hosts.hosts);
    });

    after(async () => {
        if (hosts !== undefined) await hosts.stop();
    });

    it("source and dest swapped in the config: prepare refuses before writing or stopping anything on any machine", async () => {
        const swapped = await openMigrationStack(hosts, "swapped", realStackConfigWithDefaultFolders);
        const before = {
            trees: await dataTrees(source),
            started: await startTimes(source),
            keys: authorizedKeys(source),
            ssh: [sshFolder(source), sshFolder(dest)],
        };
        try {
            // The live core named dest and the new machine named source: the easy slip.
            const machine = (host: TestHost) => ({ host: host.ip, port: host.sshPort, user: host.user, hostKey: host.hostKey, confRoot: host.confRoot });
            const failure = await swapped.up("prepare", { source: machine(dest), dest: machine(source), destCoreIp: source.ip }).then(
                () => "accepted",
                (error: Error) => error.message,
            );
            // Dest's check and both registers' refuse; the engine stops starting steps at the first
            // refusal, so which of them it reports depends on the order they start and finish
            // (dest's check had not started once, in a clean-clone CI run): the one reported names
            // the swap in full. Dest's own refusal is also run by bash in liveCoreGuard.test.ts.
            const refusals = [
                /dest \(10\.213\.7\.11\) already holds user data: more than 500 files in its data folders\. Are source and dest swapped\?/,
                /reg-(master|slave) answers co1\.pryv\.test with 10\.213\.7\.11, which is dest: dest looks like the live core\. Are source and dest swapped in the stack config\?/,
            ];
            assert.ok(
                refusals.some((refusal) => refusal.test(failure)),
                `no refusal naming the swap:\n${failure}`,
            );
        } finally {
            await swapped.destroyAndRemove();
        }
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await databaseRuns(source), true);
        assert.deepEqual(await dataTrees(source), before.trees);
        assert.deepEqual(await startTimes(source), before.started, "a container of source was restarted");
        assert.equal(authorizedKeys(source), before.keys);
        assert.deepEqual([sshFolder(source), sshFolder(dest)], before.ssh);
    });

    describe("a warm round that would delete more than sync.maxDeletions", () => {
        let migration: MigrationStack;
        before(async () => {
            migration = await openMigrationStack(hosts, "deletions", realStackConfigWithDefaultFolders);
        });
        after(async () => {
            if (migration !== undefined) await migration.destroyAndRemove();
        });

        it("stops before deleting anything and names the count and the setting", async () => {
            await migration.up("prepare", { sync: { compress: "none", maxDeletions: 5 } });
            await migration.up("warm-sync", { warmSyncRound: 1 });
            const attachments = `${source.confRoot}/core/core/data/testuser04/attachments/history-of-deletions`;
            const gone = fs.readdirSync(attachments).slice(0, 12);
            for (const name of gone) fs.rmSync(`${attachments}/${name}`);
            const destBefore = await treeManifest(dest, `${dest.confRoot}/core/core/data`);
            await assert.rejects(
                migration.up("warm-sync", { warmSyncRound: 2 }),
                /core\/core\/data on dest: this round would delete 12 entries, more than sync\.maxDeletions \(5\); nothing was deleted/,
            );
            assert.equal(await treeManifest(dest, `${dest.confRoot}/core/core/data`), destBefore);
            assert.equal(await servedBy(hosts, source), "source");
        });
    });
});
