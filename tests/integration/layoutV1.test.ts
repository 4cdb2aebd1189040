// Layout pryv-v1 on the real engine: docker test hosts laid out as Pryv.io v1.6-1.9
// (testbed/docker/v1.ts: pryv/pryv.yml, run-pryv, a config follower on every machine,
// the config leader on reg-master reading platform.yml), the program's defaults for that
// layout. Checked from outside: which machine answers through each address, each
// register's DNS answer, platform.yml and the site file byte for byte, which containers
// run; and a reboot of source's Docker engine after the cutover.
import { strict as assert } from "assert";
import * as fs from "fs";
import { docker, startTestHosts, TestHost, TestHosts } from "../../testbed";
import { platformYml, v1Site443 } from "../../testbed/docker/v1";
import { restartDockerEngine } from "../../testbed/faults";
import { MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { registerAnswers, servedBy } from "../../testbed/migration/observe";
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
        await up("warm-sync");
        assert.equal(await servedBy(th, source), "source");
        assert.ok((await containers(source)).includes("pryvio_config_follower"));
        assert.deepEqual(await registerAnswers(th, registers, source.ip), [[source.ip], [source.ip]]);
    });

    it("cutover: source's follower is gone and source proxies to dest, even after a reboot of source's Docker engine", async () => {
        await up("cutover");
        assert.equal(await servedBy(th, dest), "dest");
        assert.equal(await servedBy(th, source), "dest");
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
    });
});
