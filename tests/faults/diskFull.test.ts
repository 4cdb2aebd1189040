import { strict as assert } from "assert";
import { runningServices, TestHost, TestHosts } from "../../testbed";
import { httpsRequest } from "../../testbed/checks";
import { diskUsageSeenBySshd, filesystemSeenBySshd, mountSmallFilesystem, unmount } from "../../testbed/faults";
import { run } from "../../testbed/shell";
import { servedBy } from "../../testbed/migration/observe";
import { FaultStack, openFaultStack } from "./engine";
import { databaseRuns, intactProblems, mark, Mark, markerFolder, sourceServesProblems, startFaultHosts } from "./view";

const migrationId = "faults";
const folder = "core/core/data";
/** What dest's disk has free once its copy is moved onto the small filesystem, and what source takes meanwhile: more than that. */
const freeKiB = 1024;
const lateUploadMiB = 4;

/**
 * dest's disk fills up: after the warm round, dest's copy of the attachments is moved
 * onto a filesystem with 1 MiB free, and a user uploads a 4 MiB attachment to source.
 * With source's change journal, the cutover counts that before source stops and refuses
 * with source serving. Without it (its recorder gone), the final round runs out of
 * space: the cutover must stop there, dest never started, and a rollback must give users
 * source back exactly as it was.
 */
describe("dest's disk full during the final round (real engine, test hosts)", function () {
    this.timeout(300_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let migration: FaultStack;
    let mounted = false;
    let beforeCutover: Mark;
    const destFolder = () => `${dest.confRoot}/${folder}`;

    before(async () => {
        hosts = await startFaultHosts(["source", "dest"]);
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

    it("dest's copy on a filesystem with 1 MiB free, as the commands sshd runs on dest see it; a 4 MiB upload on source", async () => {
        const usedKiB = Number((await run("du", ["-sk", destFolder()])).stdout.split("\t")[0]);
        await mountSmallFilesystem(dest, destFolder(), usedKiB + freeKiB);
        mounted = true;
        assert.equal(await filesystemSeenBySshd(dest, destFolder()), "tmpfs");
        assert.ok((await diskUsageSeenBySshd(dest, destFolder())) <= usedKiB, "the copy on the small filesystem takes more room than before");
        const upload = `${source.confRoot}/${folder}/testuser01/attachments/late-upload.bin`;
        const r = await source.exec(`head -c ${lateUploadMiB}M /dev/urandom > ${upload} && chown 9999:9999 ${upload}`);
        assert.equal(r.code, 0, r.stderr);
    });

    it("the cutover is refused before source stops: dest has less room than the journal says the final round may write", async () => {
        await assert.rejects(migration.up("cutover"), (error: Error) => {
            assert.match(error.message, /pryv-cutover-dest-room/);
            assert.match(error.message, /core\/core\/data: the final round may write \d+ bytes more than dest holds there, and \S+ has \d+ bytes free/);
            assert.match(error.message, /The cutover stops here, source still serving: free space on dest first\./);
            return true;
        });
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(await databaseRuns(dest), false);
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
            assert.match(error.message, /pryv-cutover-final-sync-core-core-data/);
            assert.match(error.message, /No space left on device/);
            assert.match(error.message, /core\/core\/data: rsync from source \(10\.213\.7\.11\) to dest failed with exit code \d+/);
            return true;
        });
        assert.deepEqual(await runningServices(dest), [], "a service started on dest");
        assert.equal(await servedBy(hosts, dest), "nobody");
        const viaSource = await httpsRequest("root", source.ip, `${hosts.subdomain}.${hosts.domain}`, "/reg/service/info");
        assert.equal(viaSource.status, 503);
        assert.deepEqual(await runningServices(source), ["reverse_proxy"]);
        // source is stopped: its database files are what it opens again after the rollback, and must be whole.
        assert.deepEqual(await intactProblems(source, "stopped by the failed cutover"), []);
    });

    it("a rollback to warm-sync starts source with nothing lost: its folders byte-identical to before, every event it held served", async () => {
        const result = await migration.up("warm-sync");
        assert.equal(result.summary.result, "succeeded");
        assert.deepEqual(await sourceServesProblems(hosts, beforeCutover, migrationId), []);
    });
});
