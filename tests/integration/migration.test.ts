import { strict as assert } from "assert";
import * as fs from "fs";
import { defaultDataFolders } from "../../components/config";
import { startTestHosts, TestHost, TestHosts } from "../hosts";
import { databaseFilesDigest, httpsRequest, isDatabaseRunning, lastDatabaseStartDigest, treeManifest } from "../hosts/checks";
import { MigrationStack, openMigrationStack } from "./migrationStack";

/**
 * The program on the real engine (Automation API, openssh executor) against the test
 * hosts, every check made from outside the program: over the hosts' own shells, files
 * and nginx. The phases run in order, so each `it` builds on the one before.
 */
describe("migration on the test hosts (real engine)", function () {
    this.timeout(600_000);
    let hosts: TestHosts;
    let migration: MigrationStack;
    let source: TestHost;
    let dest: TestHost;
    const log: string[] = [];
    const onOutput = (text: string) => log.push(text);

    before(async () => {
        hosts = await startTestHosts({ hosts: ["source", "dest"], sampleSizeMiB: 24 });
        ({ source, dest } = hosts.hosts);
        migration = await openMigrationStack(hosts, "itest");
    });

    after(async () => {
        try {
            if (migration !== undefined) await migration.destroyAndRemove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(log.join("").split("\n").slice(-80).join("\n"));
        log.length = 0;
    });

    const servedBy = async (host: TestHost) => {
        const response = await httpsRequest("root", host.ip, `${hosts.subdomain}.${hosts.domain}`, "/reg/service/info");
        return response.status === 200 ? (JSON.parse(response.body) as { machine: string }).machine : `no answer (${response.error ?? response.status})`;
    };
    const write = async (host: TestHost, user: string, event: object) => {
        const response = await httpsRequest("root", host.ip, `${user}.${hosts.domain}`, `/${user}/events`, "POST", JSON.stringify(event));
        assert.equal(response.status, 201, `write through ${host.name}: ${response.error ?? response.body}`);
    };
    const writesOf = (host: TestHost, user: string) => {
        const file = `${host.confRoot}/core/core/data/${user}/fixture-writes.jsonl`;
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    };
    const databaseLog = (host: TestHost) => fs.readFileSync(`${host.dir}/database-standin.log`, "utf8");
    const keyFolder = "$HOME/.ssh/pryv-migration-itest-pull";
    const withKey = (folder: string, rsyncArguments: string) =>
        dest.exec(
            `rsync -e "ssh -i ${keyFolder}/${folder.replace(/\//g, "_")} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes ` +
                `-o UserKnownHostsFile=${keyFolder}/known_hosts -o HostKeyAlias=pryv-migration-source" ${rsyncArguments}`,
        );

    it("prepare: checks dest (started, healthy, stopped again) and sets up keys that can only read", async () => {
        const result = await migration.up("prepare", {}, onOutput);
        assert.equal(result.summary.result, "succeeded");
        assert.ok((result.outputs.destHealthySeconds.value as number) >= 0);
        assert.equal(await isDatabaseRunning(dest), false);
        assert.match(await servedBy(dest), /^no answer/);
        assert.match(databaseLog(dest), /start .*\n[\s\S]*stop /);

        const authorized = fs.readFileSync(`${source.dir}/home/root/.ssh/authorized_keys`, "utf8");
        assert.equal(authorized.split("\n").filter((line) => line.includes("pryv-migration:itest:pull")).length, defaultDataFolders.length);
        for (const folder of defaultDataFolders) {
            const listing = await withKey(folder, `--list-only root@${source.ip}:./`);
            assert.equal(listing.code, 0, `${folder}: ${listing.stderr}`);
        }
        const shell = await dest.exec(`ssh -i ${keyFolder}/core_core_data -o BatchMode=yes -o IdentitiesOnly=yes -o UserKnownHostsFile=${keyFolder}/known_hosts -o HostKeyAlias=pryv-migration-source root@${source.ip} cat /etc/passwd`);
        assert.notEqual(shell.code, 0, "the key ran a command that is not rsync");
        assert.doesNotMatch(shell.stdout, /root:/);
        const outside = await withKey("core/core/data", `--list-only root@${source.ip}:../../nginx/conf/`);
        assert.ok(outside.code !== 0 || !/site-443\.conf/.test(outside.stdout), `the key listed outside its folder: ${outside.stdout}`);
        const pushed = await dest.exec(`echo intruder > /tmp/pryvmig-intruder.txt`).then(() => withKey("core/core/data", `/tmp/pryvmig-intruder.txt root@${source.ip}:./`));
        assert.notEqual(pushed.code, 0, "the key could write on source");
        assert.equal(fs.existsSync(`${source.confRoot}/core/core/data/pryvmig-intruder.txt`), false);
    });

    it("warm-sync: copies every folder from live source, and again when the round changes", async () => {
        const first = await migration.up("warm-sync", { warmSyncRound: 1 }, onOutput);
        const stats = first.outputs.warmSync.value as { folder: string; bytesReceived: number; round: string }[];
        assert.deepEqual(stats.map((s) => s.folder), defaultDataFolders);
        assert.ok(stats.every((s) => s.round === "warm-1"));
        assert.ok(stats.find((s) => s.folder === "core/mongodb/data")!.bytesReceived > 1_000_000);
        assert.equal(await servedBy(source), "source");
        assert.equal(await treeManifest(dest, `${dest.confRoot}/core/influxdb/data`), await treeManifest(source, `${source.confRoot}/core/influxdb/data`));

        await write(source, "alice", { id: "warm-write" });
        const second = await migration.up("warm-sync", { warmSyncRound: 2 }, onOutput);
        assert.ok((second.outputs.warmSync.value as { round: string }[]).every((s) => s.round === "warm-2"));
        assert.match(writesOf(dest, "alice"), /warm-write/);
    });

    it("cutover: stops source, copies the rest, and dest serves the same bytes with the same numeric owners", async () => {
        await write(source, "bob", { id: "last-write-before-cutover" });
        const result = await migration.up("cutover", {}, onOutput);
        assert.equal(result.summary.result, "succeeded");

        assert.match(await servedBy(source), /^no answer/);
        assert.equal(await isDatabaseRunning(source), false);
        assert.equal(await servedBy(dest), "dest");
        // dest's database now rewrites its files: what it opened at start must be source's final files.
        assert.equal(lastDatabaseStartDigest(dest), databaseFilesDigest(`${source.confRoot}/core/mongodb/data`));
        for (const folder of defaultDataFolders.filter((name) => name !== "core/mongodb/data")) {
            assert.equal(await treeManifest(dest, `${dest.confRoot}/${folder}`), await treeManifest(source, `${source.confRoot}/${folder}`), folder);
        }
        assert.match(writesOf(dest, "bob"), /last-write-before-cutover/);
        const owners = await dest.exec(`stat -c '%u:%g' ${dest.confRoot}/core/mongodb/data/* ${dest.confRoot}/core/core/data/alice | sort -u`);
        assert.deepEqual(owners.stdout.trim().split("\n").sort(), ["9999:9999", "999:999"]);
        assert.doesNotMatch((await dest.exec("getent passwd 9999 || true")).stdout, /9999/);
        assert.doesNotMatch(databaseLog(dest), /external-write/);

        const outputs = result.outputs;
        assert.ok((outputs.downtimeSeconds.value as number) > 0);
        assert.ok((outputs.coldSyncSeconds.value as number) >= 0);
        assert.deepEqual((outputs.verifiedFolders.value as { folder: string }[]).map((f) => f.folder), defaultDataFolders);
    });

    it("a second up on the converged stack changes nothing and runs no command on any host", async () => {
        const before = [source.commandCount(), dest.commandCount()];
        const result = await migration.up("cutover", {}, onOutput);
        assert.deepEqual(result.summary.resourceChanges, { same: result.summary.resourceChanges?.same });
        assert.deepEqual([source.commandCount(), dest.commandCount()], before);
    });

    it("rollback to warm-sync: dest stopped, its writes carried back, source serving again", async () => {
        await write(dest, "carol", { id: "written-on-dest-after-cutover" });
        const result = await migration.up("warm-sync", {}, onOutput);
        assert.equal(result.summary.result, "succeeded");
        assert.match(await servedBy(dest), /^no answer/);
        assert.equal(await isDatabaseRunning(dest), false);
        assert.equal(await servedBy(source), "source");
        assert.match(writesOf(source, "carol"), /written-on-dest-after-cutover/);
        assert.equal(lastDatabaseStartDigest(source), databaseFilesDigest(`${dest.confRoot}/core/mongodb/data`));
        for (const folder of defaultDataFolders.filter((name) => name !== "core/mongodb/data")) {
            assert.equal(await treeManifest(source, `${source.confRoot}/${folder}`), await treeManifest(dest, `${dest.confRoot}/${folder}`), folder);
        }
        const history = await migration.stack.history();
        assert.ok(history.length >= 5);
    });

    it("destroy: the migration keys leave both machines", async () => {
        await migration.stack.destroy({ onOutput, color: "never" });
        for (const host of [source, dest]) {
            const authorized = fs.readFileSync(`${host.dir}/home/root/.ssh/authorized_keys`, "utf8");
            assert.doesNotMatch(authorized, /pryv-migration:itest/);
            assert.equal(fs.existsSync(`${host.dir}/home/root/.ssh/pryv-migration-itest-pull`), false);
            assert.equal(fs.existsSync(`${host.dir}/home/root/.ssh/pryv-migration-itest-carry-back`), false);
        }
    });
});
