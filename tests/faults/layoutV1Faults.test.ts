import { strict as assert } from "assert";
import * as fs from "fs";
import { docker, sqliteIntegrity, TestHost, TestHosts } from "../../testbed";
import { treeManifest } from "../../testbed/checks";
import { platformYml } from "../../testbed/docker/v1";
import { startSshd, stopSshd } from "../../testbed/faults";
import { holdsEvent, registerAnswers, servedBy, writeEvent } from "../../testbed/migration/observe";
import { v1StackConfig } from "../../testbed/migration/realStackConfig";
import { SyncStats } from "../../machinery/folderSync";
import { diagnostics, FaultStack, openFaultStack } from "./engine";
import { markerFolder, startFaultHosts } from "./view";

const migrationId = "v1-dns-faults";
/** Users whose per-user SQLite files (Pryv.io 1.7+) the cutover carries. */
const users = ["alice", "bob"];
/** A user's folder under core's data, as Pryv.io 1.7+ lays it out. */
const userFolder = (user: string) => `users/${user.at(-1)}/${user.at(-2)}/${user.at(-3)}/${user}`;

/**
 * Layout pryv-v1's own steps under faults. The cutover stops source's config follower
 * (which would rewrite the proxy file) before the proxy file is written: the engine killed
 * (SIGKILL) while it stops, then `pulumi cancel` and the cutover again, which walks, source's
 * change journal having been killed: every per-user SQLite file, whose -shm changes through a
 * memory map, must reach dest as source left it. The dns phase edits
 * the config leader's platform.yml on reg-master, then on every register restarts its
 * follower until it has rewritten the register's dns.json, then its services: the engine
 * killed while a register restarts, and a register out of reach. After `pulumi cancel`
 * or once the register is back, `dns` again converges (every register answers dest,
 * platform.yml the one-value edit) and a rollback gives platform.yml back byte for byte.
 * Meanwhile platform.yml is always whole and users reach dest through either address.
 */
describe("layout pryv-v1: the engine killed during the cutover and dns, a register unreachable during dns (real engine, test hosts)", function () {
    this.timeout(1_200_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let registers: TestHost[];
    let slave: TestHost;
    let migration: FaultStack;

    const platformFile = () => `${hosts.hosts["reg-master"].confRoot}/config-leader/conf/platform.yml`;
    const platformNaming = (coreIp: string) => platformYml({ domain: hosts.domain, subdomain: hosts.subdomain, coreIp });

    /** What must hold whatever the fault left: platform.yml whole (naming source or dest), users reaching dest through both addresses. */
    async function wholeAfterFault(): Promise<string[]> {
        const file = fs.readFileSync(platformFile(), "utf8");
        const names = [source.ip, dest.ip].find((ip) => file === platformNaming(ip));
        const served = [await servedBy(hosts, source), await servedBy(hosts, dest)];
        return [
            ...(names === undefined ? [`platform.yml is neither the original nor the one-value edit:\n${file}`] : []),
            ...(served.join() === "dest,dest" ? [] : [`served through source and dest by ${served.join(" and ")}`]),
        ];
    }

    /** `dns` completed: every register answers dest, platform.yml the one-value edit; then back to cutover, where the next case starts. */
    async function convergesThenRollsBack(): Promise<void> {
        try {
            await migration.up("dns");
        } catch (error) {
            assert.fail(`dns after the fault failed:\n${diagnostics(error)}`);
        }
        assert.deepEqual(await registerAnswers(hosts, registers, dest.ip), [[dest.ip], [dest.ip]]);
        assert.equal(fs.readFileSync(platformFile(), "utf8"), platformNaming(dest.ip));
        await migration.up("cutover");
        assert.equal(fs.readFileSync(platformFile(), "utf8"), platformNaming(source.ip));
        assert.deepEqual(await registerAnswers(hosts, registers, source.ip), [[source.ip], [source.ip]]);
    }

    before(async () => {
        hosts = await startFaultHosts(["source", "dest", "reg-master", "reg-slave"], 2, "pryv-v1");
        ({ source, dest } = hosts.hosts);
        slave = hosts.hosts["reg-slave"];
        registers = [hosts.hosts["reg-master"], slave];
        // A new machine with Pryv.io installed, its services not running; its follower runs, as on every v1 machine.
        const stopped = await dest.exec(dest.stopServicesCommand);
        assert.equal(stopped.code, 0, stopped.stderr);
        migration = await openFaultStack(hosts, migrationId, v1StackConfig);
        await migration.up("prepare");
        // Core's per-user SQLite files exist before the warm round copies them (their -shm changes through a memory map).
        for (const user of users) await writeEvent(hosts, source, user, `${user}-before-the-warm-round`);
        await migration.up("warm-sync");
    });

    after(async () => {
        try {
            if (slave !== undefined) await startSshd(slave);
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("source's change journal killed, then the cutover killed while source's config follower stops, pulumi cancel: never two cores; the cutover again walks: source proxies to dest, its follower gone, dest's users' files source's byte for byte", async () => {
        for (const user of users) await writeEvent(hosts, source, user, `${user}-after-the-warm-round`);
        const recorder = `${markerFolder(source, migrationId)}/change-journal-1.pid`;
        const killed = await source.exec(`kill "$(cat '${recorder}')"`);
        assert.equal(killed.code, 0, killed.stderr);
        const kill = await migration.upKilledAt("cutover", "pryv-source-proxy-config-follower-stopped");
        assert.equal(kill.notReached, false, `the follower's stop was not reached:\n${migration.output.slice(-1).join("").slice(-3000)}`);
        assert.notEqual(kill.commandRunningOn, undefined, "the follower's stop was not seen on source before the kill");
        const served = [await servedBy(hosts, source), await servedBy(hosts, dest)];
        console.log(`      killed ${kill.afterMs} ms after the follower's stop began; served through source and dest by ${served.join(" and ")}`);
        assert.deepEqual(served, ["source", "nobody"], "source's services run until the proxy file is written, after the follower's stop");
        await migration.cancelAfterKill();
        // What the walking final round must compare by its bytes: a -shm whose size and mtime are those of dest's copy.
        const shmKeptItsTime = users.filter((user) => {
            const [before, copy] = [source, dest].map((host) =>
                fs.statSync(`${host.servicesFolder}/core/data/${userFolder(user)}/audit.sqlite-shm`, { bigint: true }),
            );
            return before.size === copy.size && before.mtimeNs === copy.mtimeNs;
        });
        let coldSync: SyncStats[];
        try {
            coldSync = (await migration.up("cutover")).outputs.coldSync.value as SyncStats[];
        } catch (error) {
            assert.fail(`the cutover after the kill failed:\n${diagnostics(error)}`);
        }
        console.log(`      users whose -shm had the size and mtime (to the nanosecond) of dest's copy before the stop: ${shmKeptItsTime.join(", ") || "none"}`);
        assert.deepEqual(
            coldSync.filter((round) => !round.walk).map((round) => round.folder),
            [],
            "every final round walks: the journal's recorder was gone",
        );
        assert.deepEqual([await servedBy(hosts, source), await servedBy(hosts, dest)], ["dest", "dest"]);
        const running = (await docker({ dockerHost: source.dockerHost ?? "" }, ["ps", "--format", "{{.Names}}"])).stdout;
        assert.doesNotMatch(running, /pryvio_config_follower/);
        for (const user of users) {
            for (const id of [`${user}-before-the-warm-round`, `${user}-after-the-warm-round`]) assert.ok(await holdsEvent(dest, user, id), id);
        }
        // The final round's --sparse may write a run of zeros as a hole where source wrote it: the same bytes.
        const usersTree = async (host: TestHost) => (await treeManifest(host, `${host.servicesFolder}/core/data/users`)).replace(/\tsparse$/gm, "");
        assert.equal(await usersTree(dest), await usersTree(source));
        const sqlite = await sqliteIntegrity(source);
        assert.ok(sqlite.ok, sqlite.output);
    });

    // Not killed at the leader's file write: that is manageFile's, killed in the 2019 layout's dns (laterPhasesKilled).
    for (const step of ["pryv-register-platform-reg-slave-restart"]) {
        it(`killed at ${step}, pulumi cancel: platform.yml whole, users reach dest; dns again converges, the rollback gives platform.yml back`, async () => {
            const kill = await migration.upKilledAt("dns", step);
            assert.equal(kill.notReached, false, `${step} was not reached:\n${migration.output.slice(-1).join("").slice(-3000)}`);
            assert.notEqual(kill.commandRunningOn, undefined, `${step}: its command was not seen on any machine before the kill`);
            const problems = await wholeAfterFault();
            console.log(
                `      ${step}: killed ${kill.afterMs} ms after its start (running on ${kill.commandRunningOn}); ${problems.length === 0 ? "ok" : "PROBLEMS"}`,
            );
            assert.deepEqual(problems, []);
            await migration.cancelAfterKill();
            await convergesThenRollsBack();
        });
    }

    it("reg-slave unreachable: dns fails naming it before platform.yml changes (its restart's undo is recorded first), users reach dest; once reg-slave is back dns converges, the rollback gives platform.yml back", async () => {
        await stopSshd(slave);
        await assert.rejects(migration.up("dns"), (error: Error) => {
            assert.match(
                error.message,
                /\(pryv-register-platform-reg-slave-[a-z-]+\):\n\s+error: cannot run the step on root@10\.213\.7\.14:22 \(machine unreachable or login refused\)/,
                diagnostics(error),
            );
            return true;
        });
        assert.deepEqual(await wholeAfterFault(), []);
        assert.equal(fs.readFileSync(platformFile(), "utf8"), platformNaming(source.ip));
        await startSshd(slave);
        await convergesThenRollsBack();
    });
});
