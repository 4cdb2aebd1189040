import { strict as assert } from "assert";
import * as fs from "fs";
import { startTestHosts, TestHost, TestHosts } from "../../testbed";
import { httpsRequest, isDatabaseRunning } from "../../testbed/checks";
import { filesystemSeenBySshd, mountSmallFilesystem, unmount } from "../../testbed/faults";
import { run } from "../../testbed/shell";
import { servedBy } from "../../testbed/migration/observe";
import { FaultStack, openFaultStack } from "./engine";
import { databaseDigest, databaseFolder, Mark, mark, markerFolder, sourceServesProblems, writesUnderRunningDatabase } from "./view";

const migrationId = "faults";

/**
 * dest's disk cannot hold a data folder: a tmpfs smaller than source's copy of the
 * database folder is mounted over dest's after the warm round, so the final round finds
 * it empty. With source's change journal, the cutover counts that before source stops
 * and refuses with source serving. Without it (its recorder gone), the final round runs
 * out of space: the cutover must stop there, dest never started, and a rollback must give
 * users source back exactly as it was.
 */
describe("dest's disk full during the final round (real engine, test hosts)", function () {
    this.timeout(300_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let migration: FaultStack;
    let mounted = false;
    let beforeCutover: Mark;
    let sourceFrozen: string;
    const destFolder = () => `${dest.confRoot}/${databaseFolder}`;

    before(async () => {
        hosts = await startTestHosts({ hosts: ["source", "dest"], sampleSizeMiB: 2 });
        ({ source, dest } = hosts.hosts);
        migration = await openFaultStack(hosts, migrationId);
        await migration.up("prepare");
        await migration.up("warm-sync");
    });

    after(async () => {
        try {
            if (mounted) await unmount(dest, destFolder());
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("a filesystem smaller than the folder, mounted over dest's copy, is what the commands sshd runs on dest see", async () => {
        const sourceKiB = Number((await run("du", ["-sk", "--apparent-size", `${source.confRoot}/${databaseFolder}`])).stdout.split("\t")[0]);
        const sizeKiB = Math.floor(sourceKiB / 2);
        assert.ok(sizeKiB > 64, `source's ${databaseFolder} is only ${sourceKiB} KiB`);
        await mountSmallFilesystem(dest, destFolder(), sizeKiB);
        mounted = true;
        assert.equal(await filesystemSeenBySshd(dest, destFolder()), "tmpfs");
    });

    it("the cutover is refused before source stops: dest has less room than the journal says the final round may write", async () => {
        await assert.rejects(migration.up("cutover"), (error: Error) => {
            assert.match(error.message, /pryv-cutover-dest-room/);
            assert.match(error.message, /core\/mongodb\/data: the final round may write \d+ bytes more than dest holds there, and \S+ has \d+ bytes free/);
            assert.match(error.message, /The cutover stops here, source still serving: free space on dest first\./);
            return true;
        });
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(await isDatabaseRunning(dest), false);
    });

    it("without source's change journal (its recorder gone), the cutover fails at the final round of that folder saying the disk is full; dest never starts, source answers 503", async () => {
        // Back to warm-sync first: the refused cutover's steps leave the stack, so the next one counts again.
        assert.equal((await migration.up("warm-sync")).summary.result, "succeeded");
        assert.equal(await servedBy(hosts, source), "source");
        const recorder = `${markerFolder(source, migrationId)}/change-journal-1.pid`;
        const killed = await source.exec(`kill "$(cat '${recorder}')"`);
        assert.equal(killed.code, 0, killed.stderr);
        beforeCutover = await mark(hosts, "before-the-full-disk");
        await assert.rejects(migration.up("cutover"), (error: Error) => {
            assert.match(error.message, /pryv-cutover-final-sync-core-mongodb-data/);
            assert.match(error.message, /No space left on device/);
            assert.match(error.message, /core\/mongodb\/data: rsync from source \(10\.213\.7\.11\) to dest failed with exit code \d+/);
            return true;
        });
        assert.equal(await isDatabaseRunning(dest), false);
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(fs.existsSync(`${dest.dir}/run/core.pid`), false, "a service started on dest");
        const viaSource = await httpsRequest("root", source.ip, `${hosts.subdomain}.${hosts.domain}`, "/reg/service/info");
        assert.equal(viaSource.status, 503);
        assert.equal(await isDatabaseRunning(source), false);
        assert.deepEqual(writesUnderRunningDatabase(hosts, beforeCutover), []);
        // source is stopped: its database files are frozen, and must be what its database opens again after the rollback.
        sourceFrozen = databaseDigest(source);
    });

    it("a rollback to warm-sync starts source with nothing lost: its folders byte-identical to before, its database on the files it left", async () => {
        const result = await migration.up("warm-sync");
        assert.equal(result.summary.result, "succeeded");
        assert.deepEqual(await sourceServesProblems(hosts, beforeCutover, migrationId, sourceFrozen), []);
    });
});
