import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { UpResult } from "@pulumi/pulumi/automation";
import { runningServices, TestHost, TestHosts, TestHostsOptions } from "../../testbed";
import { MigrationStack, migrationOnTestHosts } from "../../testbed/migration/migrationStack";
import { databaseFilesHold, holdsEvent, servedBy, writeEvent } from "../../testbed/migration/observe";
import { realDataFolders, realStackConfig } from "../../testbed/migration/realStackConfig";

interface RoundStats {
    folder: string;
    round: string;
    startedAt: number;
    finishedAt: number;
}

/** The hosts these tests migrate between: the docker test hosts (Pryv's 2019 core shape), with the program's defaults. */
const dockerHosts = (sampleSizeMiB: number): TestHostsOptions => ({ hosts: ["source", "dest", "reg-master", "reg-slave"], engine: "docker", sampleSizeMiB });

/**
 * What operators do with a stack file between phases, on the real engine and the docker
 * test hosts (issue 13): change a setting before the cutover, then roll back by
 * reverting the stack file to the commit before the cutover, which also takes
 * warmSyncRound back.
 */
describe("operator habits on the test hosts (real engine)", function () {
    this.timeout(600_000);
    const session = migrationOnTestHosts(dockerHosts(8), "habits", realStackConfig);
    const { log, up } = session;
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let warmRoundTwo: RoundStats[];

    before(async () => {
        hosts = session.hosts;
        ({ source, dest } = hosts.hosts);
        await up("prepare");
        await up("warm-sync", { warmSyncRound: 1 });
        warmRoundTwo = (await up("warm-sync", { warmSyncRound: 2 })).outputs.warmSync.value as RoundStats[];
    });

    it("more deletions since the warm round than sync.maxDeletions: the cutover is refused before source stops, naming the count", async () => {
        const removed = await source.exec(
            `cd ${source.confRoot}/core/core/data && find . -type f -path '*/history-of-deletions/*' | sort | head -n 30 | xargs -r rm -v | wc -l`,
        );
        assert.equal(removed.stdout.trim(), "30", removed.stderr);
        const refused = await session.migration
            .up("cutover", { sync: { maxDeletions: 20 } }, (text) => log.push(text))
            .then(
                () => assert.fail("the cutover was not refused"),
                (error: Error) => error.message,
            );
        assert.match(refused, /core\/core\/data: 30 entries deleted on source since the last warm round began, more than sync\.maxDeletions \(20\)/);
        assert.match(refused, /The cutover stops here, source still serving/);
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await servedBy(hosts, dest), "nobody");
    });

    it("a setting changed between warm-sync and cutover (sync.maxDeletions): the cutover succeeds, the warm rounds keep their outputs", async () => {
        const { outputs } = await up("cutover", { sync: { maxDeletions: 5000 } });
        assert.equal(await servedBy(hosts, source), "dest");
        // The warm rounds ran their no-op update (a changed script is recorded, not run): what they printed then is what they print now.
        assert.deepEqual(outputs.warmSync.value, warmRoundTwo);
        const estimate = outputs.cutoverEstimate.value as { seconds: number };
        assert.ok(estimate.seconds > 0, JSON.stringify(estimate));
        assert.ok((outputs.downtimeSeconds.value as number) > 0);
    });

    it("a rollback by reverting the stack file (phase warm-sync, warmSyncRound 1): every write made on dest is back on source", async () => {
        await writeEvent(hosts, source, "dora", "written-on-dest-then-rolled-back");
        assert.ok(await holdsEvent(dest, "dora", "written-on-dest-then-rolled-back"));
        // What the commit before the cutover holds: warmSyncRound 1 and the setting as it was.
        const result = await up("warm-sync", { warmSyncRound: 1, sync: {} });
        assert.match(log.join(""), /warmSyncRound: 1 is recorded, but no warm round runs in this update: dest may hold users' writes since the cutover/);
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await servedBy(hosts, dest), "nobody");
        assert.deepEqual(await runningServices(dest), []);
        assert.ok(await holdsEvent(source, "dora", "written-on-dest-then-rolled-back"));
        // No warm round ran: their outputs are still those of round 2.
        assert.deepEqual(result.outputs.warmSync.value, warmRoundTwo);
    });

    it("the next up runs the round the stack file asks for, from source that holds dest's writes again", async () => {
        const { outputs } = await up("warm-sync", { warmSyncRound: 1, sync: {} });
        const stats = outputs.warmSync.value as RoundStats[];
        assert.deepEqual(
            stats.map((s) => [s.folder, s.round]),
            realDataFolders.map((folder) => [folder, "warm-1"]),
        );
        assert.ok(stats.every((s, index) => s.startedAt > warmRoundTwo[index].finishedAt));
        assert.equal(await servedBy(hosts, source), "source");
        assert.ok(await holdsEvent(source, "dora", "written-on-dest-then-rolled-back"));
        // dest, stopped, has it in the database files the round copied (FerretDB's SQLite stores the text as is).
        assert.deepEqual(await runningServices(dest), []);
        assert.ok(await databaseFilesHold(dest, `${dest.confRoot}/core/mongodb/data`, "written-on-dest-then-rolled-back"));
    });
});

/** Source's confRoot given through a symlink, as many installs have it (/var/pryv -> /data/pryv): the carry-back is where it used to fail. */
describe("a symlinked confRoot on source (real engine)", function () {
    this.timeout(600_000);
    const session = migrationOnTestHosts(dockerHosts(4), "linked", realStackConfig);
    let hosts: TestHosts;
    let source: TestHost;
    let linked: Record<string, unknown>;
    const up = (phase: Parameters<MigrationStack["up"]>[0]): Promise<UpResult> => session.up(phase, linked);

    before(() => {
        hosts = session.hosts;
        source = hosts.hosts.source;
        const link = path.join(source.dir, "pryv-link");
        fs.symlinkSync(source.confRoot, link);
        // Every setting that names source's confRoot names it through the link, as the operator's stack file would.
        // (The program's proxy commands follow from it: docker-compose -f <link>/core.yml.)
        const config = realStackConfig(hosts);
        linked = JSON.parse(JSON.stringify({ source: config.source }).split(source.confRoot).join(link)) as Record<string, unknown>;
    });

    it("migrates, then rolls back with dest's writes carried into the folders the link points to, source serving", async () => {
        const prepared = await up("prepare");
        const sourceSteps = (prepared.outputs.steps.value as Record<string, Record<string, string>>).source;
        assert.ok("pryv-live-core-guard-source-paths" in sourceSteps, Object.keys(sourceSteps).join(", "));
        await up("warm-sync");
        await up("cutover");
        assert.equal(await servedBy(hosts, source), "dest");
        await writeEvent(hosts, source, "erin", "written-on-dest-behind-a-linked-conf-root");
        await up("warm-sync");
        assert.equal(await servedBy(hosts, source), "source");
        assert.ok(await holdsEvent(source, "erin", "written-on-dest-behind-a-linked-conf-root"));
    });
});
