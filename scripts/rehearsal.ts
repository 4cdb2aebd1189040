// Rehearses a migration on local test hosts with the real engine: every phase forward,
// a check from outside after each, the rollback to the start, and a short report.
import { Phase } from "../components/config";
import { startTestHosts, TestHost } from "../tests/hosts";
import { httpsRequest } from "../tests/hosts/checks";
import { openMigrationStack } from "../tests/integration/migrationStack";

interface ReportLine {
    step: string;
    seconds: number;
    serving: string;
}

async function servedBy(host: TestHost, name: string): Promise<string> {
    const response = await httpsRequest("root", host.ip, name, "/reg/service/info");
    return response.status === 200 ? (JSON.parse(response.body) as { machine: string }).machine : "nobody";
}

async function main(): Promise<void> {
    const sampleSizeMiB = Number(process.env.REHEARSAL_SAMPLE_MIB ?? 40);
    console.log(`rehearsal: starting test hosts source and dest (${sampleSizeMiB} MiB of sample data)`);
    const hosts = await startTestHosts({ hosts: ["source", "dest"], sampleSizeMiB });
    const { source, dest } = hosts.hosts;
    const coreName = `${hosts.subdomain}.${hosts.domain}`;
    const migration = await openMigrationStack(hosts);
    const report: ReportLine[] = [];
    let outputs: Record<string, { value: unknown }> = {};
    const run = async (step: string, phase: Phase, extra: Record<string, unknown> = {}) => {
        console.log(`\n=== rehearsal: ${step} (phase ${phase}) ===`);
        const started = Date.now();
        const result = await migration.up(phase, extra, (text) => process.stdout.write(text));
        outputs = result.outputs;
        const serving = `${source.name}:${await servedBy(source, coreName)} ${dest.name}:${await servedBy(dest, coreName)}`;
        report.push({ step, seconds: (Date.now() - started) / 1000, serving });
        console.log(`rehearsal: after ${step}, ${coreName} is served by ${serving}`);
    };
    try {
        await run("prepare", "prepare");
        await run("warm sync, round 1", "warm-sync", { warmSyncRound: 1 });
        await run("warm sync, round 2", "warm-sync", { warmSyncRound: 2 });
        await run("cutover", "cutover");
        const cutover = outputs;
        await run("rollback to warm-sync", "warm-sync");
        await run("rollback to prepare", "prepare");

        const bytes = (name: string) => ((cutover[name]?.value as { bytesReceived: number }[]) ?? []).reduce((sum, s) => sum + s.bytesReceived, 0);
        console.log("\n=== rehearsal report ===");
        for (const line of report) console.log(`${line.step.padEnd(24)} ${line.seconds.toFixed(1).padStart(6)} s   served by ${line.serving}`);
        console.log(`warm sync bytes received (last round): ${bytes("warmSync")}`);
        console.log(`cold sync bytes received:             ${bytes("coldSync")}`);
        console.log(`cold sync duration:                   ${String(cutover.coldSyncSeconds?.value)} s`);
        console.log(`downtime (source stopped -> dest healthy): ${String(cutover.downtimeSeconds?.value)} s`);
        console.log(`verification: ${JSON.stringify(cutover.verifiedFolders?.value)}`);
        console.log(`history: ${(await migration.stack.history()).length} updates`);
    } finally {
        await migration.destroyAndRemove();
        await hosts.stop();
    }
}

main().catch((error: unknown) => {
    console.error(`rehearsal failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
