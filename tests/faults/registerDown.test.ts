import { strict as assert } from "assert";
import * as fs from "fs";
import { registerDnsJson, TestHost, TestHosts } from "../../testbed";
import { dnsQuery, registerDnsJsonPath } from "../../testbed/checks";
import { startSshd, stopSshd } from "../../testbed/faults";
import { servedBy } from "../../testbed/migration/observe";
import { diagnostics, FaultStack, openFaultStack } from "./engine";
import { markerFolder, startFaultHosts } from "./view";

const migrationId = "faults";

/**
 * One register out of reach while the dns phase changes both: its sshd stopped (with
 * the connections it held), its DNS server still answering with the old address. The
 * phase must fail naming it, keep the other register's change, and complete once the
 * register is back.
 */
describe("a register unreachable during dns (real engine, test hosts)", function () {
    this.timeout(300_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let master: TestHost;
    let slave: TestHost;
    let migration: FaultStack;
    const coreName = () => `${hosts.subdomain}.${hosts.domain}`;

    before(async () => {
        hosts = await startFaultHosts(["source", "dest", "reg-master", "reg-slave"]);
        ({ source, dest } = hosts.hosts);
        master = hosts.hosts["reg-master"];
        slave = hosts.hosts["reg-slave"];
        migration = await openFaultStack(hosts, migrationId);
        await migration.up("prepare");
        await migration.up("warm-sync");
        await migration.up("cutover");
    });

    after(async () => {
        try {
            if (slave !== undefined) await startSshd(slave);
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("dns with reg-slave unreachable: the phase fails naming it; reg-master is left whole (its file the original or the edit, its answer what its server last read), users reach dest either way", async () => {
        await stopSshd(slave);
        const printedBefore = migration.output.length;
        await assert.rejects(migration.up("dns"), (error: Error) => {
            console.log(diagnostics(error));
            assert.match(
                error.message,
                /\(pryv-register-dns-reg-slave-[a-z-]+\):\n\s+error: cannot run the step on root@10\.213\.7\.14:22 \(machine unreachable or login refused\)/,
            );
            assert.doesNotMatch(error.message, /\(pryv-register-dns-reg-master-[a-z-]+\):\n\s+error/);
            return true;
        });
        // The engine stops scheduling at the first failure: reg-master's edit may or may not have been reached, but what it did stays, whole.
        const masterAnswer = await dnsQuery(master.ip, coreName());
        const masterSteps = migration.output
            .slice(printedBefore)
            .join("")
            .split("\n")
            .filter((line) => /pryv-register-dns-reg-master-(back|dns-json|restart) (created|updated)/.test(line))
            .map((line) => line.trim());
        console.log(`      reg-master answers ${masterAnswer.join(",")}; its steps that ran: ${masterSteps.join("; ") || "none"}`);
        assert.ok([source.ip, dest.ip].includes(masterAnswer[0]) && masterAnswer.length === 1, JSON.stringify(masterAnswer));
        // The file is one of the two, whole: the original or the one-value edit.
        const masterFile = fs.readFileSync(registerDnsJsonPath(master), "utf8");
        const fileNames = [source.ip, dest.ip].find((ip) => masterFile === registerDnsJson({ domain: hosts.domain, subdomain: hosts.subdomain, coreIp: ip }));
        assert.ok(fileNames !== undefined, `reg-master's dns.json is neither the original nor the edit:\n${masterFile}`);
        // Its DNS server answers what it read at its last start: once the restart ran (its marker first), that is the file;
        // if the engine stopped before it, still source, and the re-run below restarts it.
        const restarted = fs.existsSync(`${markerFolder(master, migrationId)}/reg-master-dns-restarted`);
        assert.equal(masterAnswer[0], restarted ? fileNames : source.ip, `restarted: ${restarted}, the file names ${fileNames}`);
        assert.deepEqual(await dnsQuery(slave.ip, coreName()), [source.ip]);
        // Whichever register a resolver asks, the address it gets serves dest's core: source proxies to it.
        assert.equal(await servedBy(hosts, source), "dest");
        assert.equal(await servedBy(hosts, dest), "dest");
    });

    it("once reg-slave is back, a re-run completes the phase: both registers answer dest, dns.json changed in that one value", async () => {
        await startSshd(slave);
        const result = await migration.up("dns");
        assert.equal(result.summary.result, "succeeded");
        for (const register of [master, slave]) {
            assert.deepEqual(await dnsQuery(register.ip, coreName()), [dest.ip], register.name);
            assert.equal(
                fs.readFileSync(registerDnsJsonPath(register), "utf8"),
                registerDnsJson({ domain: hosts.domain, subdomain: hosts.subdomain, coreIp: dest.ip }),
                register.name,
            );
        }
    });
});
