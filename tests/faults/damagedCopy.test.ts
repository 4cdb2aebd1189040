import { strict as assert } from "assert";
import * as fs from "fs";
import { TestHost, TestHosts } from "../../testbed";
import { MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { servedBy } from "../../testbed/migration/observe";
import { realStackConfigWithDefaultFolders } from "../../testbed/migration/realStackConfig";
import { databaseRuns, startFaultHosts } from "./view";

/**
 * A copy on dest whose bytes differ from source's while its size and mtime match: what a
 * damaged disk on dest leaves behind. Source's change journal does not list it (source did
 * not change it) and rsync's quick check skips it, so the metadata comparison before dest
 * serves cannot see it; the content comparison right after dest serves must, and must say
 * which file. (A file rewritten on source with its time kept is listed by the journal and
 * copied by its blocks: folderSyncRsync.test.ts.)
 */
describe("a damaged copy on dest (real engine, test hosts)", function () {
    this.timeout(600_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let migration: MigrationStack;
    const attachment = "core/core/data/testuser05/attachments/rewritten-with-its-time-kept";

    before(async () => {
        hosts = await startFaultHosts(["source", "dest"], 8);
        ({ source, dest } = hosts.hosts);
        migration = await openMigrationStack(hosts, "damaged", realStackConfigWithDefaultFolders);
    });

    after(async () => {
        try {
            if (migration !== undefined) await migration.destroyAndRemove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("the content comparison after dest serves fails loudly, naming the file; the rollback serves source's own bytes again", async () => {
        const onSource = `${source.confRoot}/${attachment}`;
        await source.exec(`printf 'first version\\n' > ${onSource} && chown 9999:9999 ${onSource} && touch -d '2020-01-01 00:00:00' ${onSource}`);
        await migration.up("prepare");
        await migration.up("warm-sync");
        const onDest = `${dest.confRoot}/${attachment}`;
        assert.equal(fs.readFileSync(onDest, "utf8"), "first version\n");
        // The same size, its time kept: only its bytes changed, on dest's disk.
        await dest.exec(`printf 'other version\\n' > ${onDest} && touch -d '2020-01-01 00:00:00' ${onDest}`);

        await assert.rejects(
            migration.up("cutover"),
            /core\/core\/data: CONTENT DIFFERS between source and dest for files dest has not written since it started\. Roll back \(phase: warm-sync\)[^\n]*\n[^\n]*>fc\.\.[^\n]* testuser05\/attachments\/rewritten-with-its-time-kept/,
        );
        // Users are served (by dest, through source) while the operator decides: nothing hangs.
        assert.equal(await servedBy(hosts, source), "dest");

        await migration.up("warm-sync");
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(await databaseRuns(dest), false);
        assert.equal(fs.readFileSync(onSource, "utf8"), "first version\n");
    });
});
