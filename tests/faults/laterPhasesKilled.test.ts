import { strict as assert } from "assert";
import { TestHost, TestHosts } from "../../testbed";
import { dnsQuery } from "../../testbed/checks";
import { servedBy } from "../../testbed/migration/observe";
import { diagnostics, FaultStack, openFaultStack } from "./engine";
import { databaseRuns, mark, migrationKeys, sourceServesProblems, startFaultHosts } from "./view";

const migrationId = "later-faults";

/**
 * "A crash is a pause, not a fork" past the cutover's own steps (issue 13): the `pulumi`
 * process killed (SIGKILL) while a rollback's undos run (a carry-back, dest stopped, dest's
 * mark removed, source started again), while `dns` writes a register's file or restarts
 * it, and while `finalize` removes the migration keys. After `pulumi cancel`, the same
 * `up` again converges: one core serves, every write dest acknowledged is on source after
 * the rollback, nothing kept aside is lost.
 */
describe("engine killed during a rollback, dns and finalize (real engine, test hosts)", function () {
    this.timeout(1_800_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let registers: TestHost[];
    let migration: FaultStack;
    let keptAside = "";
    let counter = 0;

    /** What the carry-backs kept aside on source so far, one line per file. */
    const keptFiles = async (): Promise<string[]> =>
        (await source.exec(`[ -d '${keptAside}' ] && find '${keptAside}' -type f | sort || true`)).stdout.split("\n").filter(Boolean);

    const coreName = () => `${hosts.subdomain}.${hosts.domain}`;
    const answers = () => Promise.all(registers.map((register) => dnsQuery(register.ip, coreName())));

    /** Never two cores: after a kill users reach one of them, or get 503 from source's nginx. */
    async function oneCoreProblems(): Promise<string[]> {
        const [viaSource, viaDest, sourceRuns, destRuns] = await Promise.all([
            servedBy(hosts, source),
            servedBy(hosts, dest),
            databaseRuns(source),
            databaseRuns(dest),
        ]);
        return [
            ...(viaSource === "source" && viaDest === "dest" ? ["after the kill, source and dest both serve"] : []),
            ...(sourceRuns && destRuns ? ["after the kill, both databases run"] : []),
        ];
    }

    before(async () => {
        hosts = await startFaultHosts(["source", "dest", "reg-master", "reg-slave"]);
        ({ source, dest } = hosts.hosts);
        registers = [hosts.hosts["reg-master"], hosts.hosts["reg-slave"]];
        migration = await openFaultStack(hosts, migrationId);
        await migration.up("prepare");
        const warm = await migration.up("warm-sync");
        keptAside = String(warm.outputs.keptAside.value);
    });

    after(async () => {
        try {
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    const rollbackSteps = [
        "pryv-cutover-dest-back",
        "pryv-cutover-carry-back-core-mongodb-data",
        "pryv-cutover-carry-back-core-core-data",
        "pryv-cutover-dest-taken-over",
        "pryv-source-proxy-source-back",
    ];
    for (const step of rollbackSteps) {
        it(`rollback killed at ${step}, pulumi cancel, the rollback again: source serves with every write dest took, nothing kept aside lost`, async () => {
            await migration.up("cutover");
            assert.equal(await servedBy(hosts, source), "dest");
            // Written through source's address while dest serves: acknowledged by dest, to be carried back.
            const since = await mark(hosts, `on-dest-before-a-killed-rollback-${++counter}`, dest);
            const keptBefore = await keptFiles();
            const kill = await migration.upKilledAt("warm-sync", step);
            assert.equal(kill.notReached, false, `${step} was not reached:\n${migration.output.slice(-1).join("").slice(-3000)}`);
            assert.notEqual(kill.commandRunningOn, undefined, `${step}: its command was not seen on any machine before the kill`);
            const problems = await oneCoreProblems();
            await migration.cancelAfterKill();
            try {
                await migration.up("warm-sync");
            } catch (error) {
                assert.fail(`the rollback after the kill failed:\n${diagnostics(error)}`);
            }
            problems.push(...(await sourceServesProblems(hosts, since, migrationId, true)));
            const keptAfter = new Set(await keptFiles());
            problems.push(...keptBefore.filter((file) => !keptAfter.has(file)).map((file) => `kept aside before the kill, gone after: ${file}`));
            console.log(
                `      ${step}: killed ${kill.afterMs} ms after its start (running on ${kill.commandRunningOn}); ${problems.length === 0 ? "ok" : "PROBLEMS"}`,
            );
            assert.deepEqual(problems, []);
        });
    }

    for (const step of ["pryv-register-dns-reg-master-dns-json", "pryv-register-dns-reg-master-restart"]) {
        it(`dns killed at ${step}, pulumi cancel, dns again: every register answers dest, dest serves through both addresses`, async () => {
            await migration.up("cutover");
            const kill = await migration.upKilledAt("dns", step);
            assert.equal(kill.notReached, false, `${step} was not reached`);
            const problems = await oneCoreProblems();
            await migration.cancelAfterKill();
            await migration.up("dns");
            assert.deepEqual(problems, []);
            assert.deepEqual(
                await answers(),
                registers.map(() => [dest.ip]),
            );
            assert.deepEqual([await servedBy(hosts, source), await servedBy(hosts, dest)], ["dest", "dest"]);
            // Back to where the next cycle starts: the registers name source again.
            await migration.up("cutover");
            assert.deepEqual(
                await answers(),
                registers.map(() => [source.ip]),
            );
        });
    }

    it("finalize killed while the migration keys leave the machines, pulumi cancel, finalize again: the keys are gone, dest serves, DNS names dest", async () => {
        await migration.up("dns");
        const kill = await migration.upKilledAt("finalize", "pryv-pull-key-grant");
        assert.equal(kill.notReached, false, "the pull key's removal was not reached");
        const problems = await oneCoreProblems();
        await migration.cancelAfterKill();
        await migration.up("finalize");
        assert.deepEqual(problems, []);
        assert.deepEqual([migrationKeys(source, migrationId), migrationKeys(dest, migrationId)], [0, 0]);
        assert.deepEqual(
            await answers(),
            registers.map(() => [dest.ip]),
        );
        assert.deepEqual([await servedBy(hosts, source), await servedBy(hosts, dest)], ["dest", "dest"]);
    });
});
