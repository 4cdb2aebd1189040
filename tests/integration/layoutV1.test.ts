// Layout pryv-v1 on the real engine: docker test hosts laid out as Pryv.io v1.6-1.9
// (testbed/docker/v1.ts: pryv/pryv.yml, run-pryv, a config follower on every machine,
// the config leader on reg-master reading platform.yml), the program's defaults for that
// layout. Checked from outside: which machine answers through each address, each
// register's DNS answer, platform.yml and the site file byte for byte, which containers
// run; core's per-user SQLite files (Pryv.io 1.7+) and FerretDB's checked by SQLite on the
// stopped side, every event written held on the serving side; and a reboot of source's
// Docker engine after the cutover.
import { strict as assert } from "assert";
import * as fs from "fs";
import { docker, sqliteIntegrity, startTestHosts, TestHost, TestHosts } from "../../testbed";
import { platformYml, v1Site443 } from "../../testbed/docker/v1";
import { httpsRequest, treeManifest } from "../../testbed/checks";
import { restartDockerEngine } from "../../testbed/faults";
import { MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { holdsEvent, registerAnswers, servedBy, writeEvent } from "../../testbed/migration/observe";
import { v1StackConfig } from "../../testbed/migration/realStackConfig";
import { sleep } from "../../testbed/shell";

describe("layout pryv-v1 on the docker test hosts: config followers, the config leader's platform.yml", function () {
    this.timeout(600_000);
    let th: TestHosts;
    let migration: MigrationStack;
    let source: TestHost;
    let dest: TestHost;
    let registers: TestHost[];
    const platformFile = () => `${th.hosts["reg-master"].confRoot}/config-leader/conf/platform.yml`;
    const siteFile = () => `${source.confRoot}/pryv/nginx/conf/site-443.conf`;
    const platformNaming = (coreIp: string) => platformYml({ domain: th.domain, subdomain: th.subdomain, coreIp });
    const containers = async (host: TestHost): Promise<string[]> =>
        (await docker({ dockerHost: host.dockerHost ?? "" }, ["ps", "--format", "{{.Names}}"])).stdout.split("\n").filter(Boolean).sort();
    /**
     * A stopped machine's SQLite files (FerretDB's and core's per-user ones) pass
     * `PRAGMA integrity_check`, core's left as a stopped core leaves them: with their
     * -wal, which the other machine's copy had to carry.
     */
    const stoppedSqliteIntact = async (host: TestHost): Promise<void> => {
        const sqlite = await sqliteIntegrity(host);
        assert.ok(sqlite.ok, sqlite.output);
        const userFiles = sqlite.files.filter((file) => file.startsWith("core/data/users/"));
        assert.ok(userFiles.length > 0, sqlite.output);
        assert.ok(
            userFiles.some((file) => fs.existsSync(`${host.servicesFolder}/${file}-wal`)),
            `no -wal beside ${userFiles.join(", ")}`,
        );
    };
    /** Who answers a login through `via`'s nginx, and at which path: Pryv v1's site file sends /auth/login to the mfa service's /login. */
    const loginAnswer = async (via: TestHost): Promise<string> => {
        const response = await httpsRequest("root", via.ip, `${th.subdomain}.${th.domain}`, "/auth/login", "POST", "{}");
        if (response.status !== 200) return `status ${response.status}`;
        const { machine, service, path } = JSON.parse(response.body) as { machine: string; service: string; path: string };
        return `${machine} ${service} ${path}`;
    };
    const up = async (phase: Parameters<MigrationStack["up"]>[0]): Promise<void> => {
        const log: string[] = [];
        const result = await migration.up(phase, {}, (text) => log.push(text));
        assert.equal(result.summary.result, "succeeded", log.join(""));
    };

    before(async function () {
        this.timeout(900_000);
        th = await startTestHosts({ hosts: ["source", "dest", "reg-master", "reg-slave"], engine: "docker", layout: "pryv-v1", sampleSizeMiB: 4 });
        ({ source, dest } = th.hosts);
        registers = [th.hosts["reg-master"], th.hosts["reg-slave"]];
        migration = await openMigrationStack(th, "layoutv1", v1StackConfig);
        // A new machine with Pryv.io installed, its services not running; its follower runs, as on every v1 machine.
        const stopped = await dest.exec(`env PRYV_CONF_ROOT=${dest.confRoot} docker-compose -f ${dest.confRoot}/pryv/pryv.yml rm --stop --force`);
        assert.equal(stopped.code, 0, stopped.stderr);
    });

    after(async function () {
        this.timeout(300_000);
        try {
            if (migration !== undefined) await migration.destroyAndRemove();
        } finally {
            if (th !== undefined) await th.stop();
        }
    });

    it("prepare and warm-sync: source serves, its follower runs, the registers answer source", async () => {
        await up("prepare");
        // Core's per-user files exist before the warm round copies them; the writes after it change their -wal by write(2), their -shm through a memory map only.
        for (const user of ["alice", "bob"]) await writeEvent(th, source, user, `${user}-before-the-warm-round`);
        await up("warm-sync");
        assert.equal(await servedBy(th, source), "source");
        assert.ok((await containers(source)).includes("pryvio_config_follower"));
        assert.deepEqual(await registerAnswers(th, registers, source.ip), [[source.ip], [source.ip]]);
        assert.equal(await loginAnswer(source), "source mfa /login");
        for (const user of ["alice", "bob"]) await writeEvent(th, source, user, `${user}-before-the-cutover`);
    });

    it("cutover: source's follower is gone and source proxies to dest, even after a reboot of source's Docker engine", async () => {
        await up("cutover");
        assert.equal(await servedBy(th, dest), "dest");
        assert.equal(await servedBy(th, source), "dest");
        // Every upstream of v1's site file proxied: the login reaches dest's mfa service, rewritten by dest's own nginx.
        assert.equal(await loginAnswer(source), "dest mfa /login");
        for (const user of ["alice", "bob"]) {
            for (const id of [`${user}-before-the-warm-round`, `${user}-before-the-cutover`]) assert.ok(await holdsEvent(dest, user, id), id);
        }
        await stoppedSqliteIntact(source);
        // Byte for byte, -shm included, which SQLite changes through a memory map (no change event). The final
        // round's --sparse may write a run of zeros as a hole where source wrote it: the same bytes.
        const usersTree = async (host: TestHost) => (await treeManifest(host, `${host.servicesFolder}/core/data/users`)).replace(/\tsparse$/gm, "");
        assert.equal(await usersTree(dest), await usersTree(source));
        await writeEvent(th, source, "carol", "written-on-dest");
        const proxyFile = fs.readFileSync(siteFile(), "utf8");
        assert.notEqual(proxyFile, v1Site443(th.domain));

        // A reboot: a follower left running would start again with the engine and write the original file back.
        await restartDockerEngine(source);
        let served = "nobody";
        for (let i = 0; i < 100 && served !== "dest"; i++, await sleep(300)) served = await servedBy(th, source);
        await sleep(2000);
        assert.equal(fs.readFileSync(siteFile(), "utf8"), proxyFile);
        assert.equal(served, "dest");
        assert.deepEqual(await containers(source), ["pryvio_nginx"], "nginx back (restart: always), the follower not");
    });

    it("dns: platform.yml changes in the core's address and nothing else; every register's follower rewrites its dns.json, and both answer dest", async () => {
        await up("dns");
        assert.equal(fs.readFileSync(platformFile(), "utf8"), platformNaming(dest.ip));
        for (const register of registers) {
            const dnsJson = JSON.parse(fs.readFileSync(`${register.confRoot}/pryv/dns/conf/dns.json`, "utf8")) as {
                net: { hostings: Record<string, Record<string, { ip: string }>> };
            };
            assert.equal(dnsJson.net.hostings.hosting1[th.subdomain].ip, dest.ip, register.name);
        }
        assert.deepEqual(await registerAnswers(th, registers, dest.ip), [[dest.ip], [dest.ip]]);
        assert.equal(await servedBy(th, source), "dest");
    });

    it("rollback to prepare: platform.yml and source's site file back byte for byte, source's follower running again, source serving, the registers answering source", async () => {
        await up("prepare");
        assert.equal(fs.readFileSync(platformFile(), "utf8"), platformNaming(source.ip));
        assert.equal(fs.readFileSync(siteFile(), "utf8"), v1Site443(th.domain));
        assert.equal(await servedBy(th, source), "source");
        assert.ok((await containers(source)).includes("pryvio_config_follower"));
        assert.deepEqual(await registerAnswers(th, registers, source.ip), [[source.ip], [source.ip]]);
        assert.ok(await holdsEvent(source, "carol", "written-on-dest"));
        await stoppedSqliteIntact(dest);
    });
});
