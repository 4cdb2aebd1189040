import { strict as assert } from "assert";
import * as fs from "fs";
import { TestHost, TestHosts } from "../../testbed";
import { httpsRequest, treeManifest } from "../../testbed/checks";
import { killIn, linkDown, linkUp, processesIn, slowLinkInto, unslowLink } from "../../testbed/faults";
import { sleep } from "../../testbed/shell";
import { servedBy } from "../../testbed/migration/observe";
import { FaultStack, openFaultStack } from "./engine";
import { databaseRuns, destServesProblems, intactProblems, mark, Mark, startFaultHosts } from "./view";

const migrationId = "faults";
const folder = "core/hfs/data";

/**
 * The link between source and dest cut while dest pulls a folder from source. Enough new
 * data since the last round, and the link into dest slowed, that the copy lasts a few
 * seconds; the cut is made from outside: dest's veth down in the root namespace, or the
 * peer's end of the copy (the rsync sender on source) killed as a dying connection would.
 */
describe("link between source and dest cut during a sync (real engine, test hosts)", function () {
    this.timeout(300_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let migration: FaultStack;
    let beforeCutover: Mark;

    /** A large attachment-like file written on source while it serves: what the next round has to carry. */
    const lateUpload = async (name: string) => {
        const file = `${source.confRoot}/${folder}/series-cache/${name}`;
        const r = await source.exec(`head -c 48M /dev/urandom > ${file} && chown 9999:9999 ${file}`);
        assert.equal(r.code, 0, r.stderr);
    };
    /** The copy of `name` is under way: part of it has reached dest (rsync's temporary file, or the file itself in place). */
    const waitForCopy = async (name: string) => {
        const target = `${dest.confRoot}/${folder}/series-cache`;
        const received = () =>
            fs
                .readdirSync(target)
                .filter((entry) => entry.includes(name))
                .reduce((total, entry) => total + fs.statSync(`${target}/${entry}`).size, 0);
        for (let i = 0; i < 800 && received() < 2 * 1024 * 1024; i++) await sleep(25);
        assert.ok(received() >= 2 * 1024 * 1024, `the copy of ${name} did not start`);
        assert.notDeepEqual(await processesIn(source, ["rsync", "--server", "--sender"], `${source.confRoot}/${folder}`), [], "no rsync sending on source");
    };

    before(async () => {
        hosts = await startFaultHosts(["source", "dest"]);
        ({ source, dest } = hosts.hosts);
        migration = await openFaultStack(hosts, migrationId);
        await migration.up("prepare");
        await migration.up("warm-sync", { warmSyncRound: 1 });
        await slowLinkInto(dest, "80mbit");
    });

    after(async () => {
        try {
            if (dest !== undefined) await linkUp(dest).then(() => unslowLink(dest));
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("warm round, dest's link down for 3 s in the middle: the copy waits it out and completes, the trees identical", async () => {
        await lateUpload("late-upload-1.bin");
        const round = migration.up("warm-sync", { warmSyncRound: 2 });
        await waitForCopy("late-upload-1.bin");
        await linkDown(dest);
        await sleep(3000);
        await linkUp(dest);
        const result = await round;
        assert.equal(result.summary.result, "succeeded");
        assert.equal(await treeManifest(dest, `${dest.confRoot}/${folder}`), await treeManifest(source, `${source.confRoot}/${folder}`));
        assert.equal(await servedBy(hosts, source), "source");
    });

    it("final round, link down and the peer's rsync killed: the cutover fails naming both machines; source answers 503, no database runs, source's whole", async () => {
        await lateUpload("late-upload-2.bin");
        beforeCutover = await mark(hosts, "before-the-cut-cutover");
        const cutover = migration.up("cutover");
        await waitForCopy("late-upload-2.bin");
        await linkDown(dest);
        const killed = await killIn(source, ["rsync", "--server", "--sender"], `${source.confRoot}/${folder}`);
        assert.notDeepEqual(killed, []);
        await sleep(2000);
        await linkUp(dest);
        await assert.rejects(cutover, (error: Error) => {
            assert.match(error.message, /pryv-cutover-final-sync-core-hfs-data/);
            assert.match(
                error.message,
                /core\/hfs\/data: rsync from source \(10\.213\.7\.11\) to dest failed with exit code \d+ \(see [^)]*\); run the step again/,
            );
            return true;
        });
        const viaSource = await httpsRequest("root", source.ip, `${hosts.subdomain}.${hosts.domain}`, "/reg/service/info");
        assert.equal(viaSource.status, 503);
        assert.equal(viaSource.headers["retry-after"], "5");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.equal(await databaseRuns(source), false);
        assert.equal(await databaseRuns(dest), false);
        assert.deepEqual(await intactProblems(source, "stopped by the failed cutover"), []);
    });

    it("a re-run once the link is back completes the cutover: dest serves source's data, nothing lost", async () => {
        await unslowLink(dest);
        const result = await migration.up("cutover");
        assert.equal(result.summary.result, "succeeded");
        assert.deepEqual(await destServesProblems(hosts, beforeCutover, migrationId), []);
    });
});
