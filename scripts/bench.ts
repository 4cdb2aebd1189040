// Measures what a migration costs on the test hosts: warm-sync time, cold-sync time
// and downtime for a few data sizes over a rate-limited link (tc tbf on source's side),
// with the database stand-in rewriting its files during the warm sync as a live one
// would. Writes the figures to bench/results.json and bench/results.md.
import * as fs from "fs";
import * as path from "path";
import { startTestHosts } from "../tests/hosts";
import { openMigrationStack } from "../tests/integration/migrationStack";
import { writeEvent } from "../tests/integration/observe";

interface Figures {
    sampleMiB: number;
    rate: string;
    warmSyncSeconds: number;
    warmBytesReceived: number;
    cutoverSeconds: number;
    coldSyncSeconds: number;
    coldBytesReceived: number;
    downtimeSeconds: number;
}

const bytesReceived = (value: unknown): number => (value as { bytesReceived: number }[]).reduce((sum, stats) => sum + stats.bytesReceived, 0);

async function measure(sampleMiB: number, rate: string): Promise<Figures> {
    const hosts = await startTestHosts({ hosts: ["source", "dest"], sampleSizeMiB: sampleMiB });
    const migration = await openMigrationStack(hosts, "bench");
    try {
        // Shapes what leaves source (what dest pulls) in source's namespace.
        const shaped = await hosts.hosts.source.exec(
            `tc qdisc replace dev "$(ip -o link show | awk -F': ' '/pryvmig-e/ {print $2}' | cut -d@ -f1)" root tbf rate ${rate} burst 256kb latency 100ms`,
        );
        if (shaped.code !== 0) throw new Error(`tc failed: ${shaped.stderr}`);
        await migration.up("prepare");
        const warmStarted = Date.now();
        const warm = await migration.up("warm-sync");
        const warmSyncSeconds = (Date.now() - warmStarted) / 1000;
        for (let i = 0; i < 20; i++) await writeEvent(hosts, hosts.hosts.source, `user${i % 5}`, `bench-${i}`);
        const cutoverStarted = Date.now();
        const cutover = await migration.up("cutover");
        return {
            sampleMiB,
            rate,
            warmSyncSeconds,
            warmBytesReceived: bytesReceived(warm.outputs.warmSync.value),
            cutoverSeconds: (Date.now() - cutoverStarted) / 1000,
            coldSyncSeconds: cutover.outputs.coldSyncSeconds.value as number,
            coldBytesReceived: bytesReceived(cutover.outputs.coldSync.value),
            downtimeSeconds: cutover.outputs.downtimeSeconds.value as number,
        };
    } finally {
        await migration.destroyAndRemove();
        await hosts.stop();
    }
}

async function main(): Promise<void> {
    const sizes = (process.env.BENCH_SIZES_MIB ?? "40,160").split(",").map(Number);
    const rate = process.env.BENCH_RATE ?? "400mbit";
    const results: Figures[] = [];
    for (const size of sizes) {
        console.log(`bench: ${size} MiB over ${rate}`);
        results.push(await measure(size, rate));
        console.log(JSON.stringify(results.at(-1)));
    }
    const folder = path.join(__dirname, "..", "bench");
    fs.writeFileSync(path.join(folder, "results.json"), `${JSON.stringify({ measuredAt: new Date().toISOString(), results }, null, 2)}\n`);
    const header =
        "| sample (MiB) | link | warm sync (s) | warm bytes | cutover (s) | cold sync (s) | cold bytes | downtime (s) |\n|---|---|---|---|---|---|---|---|\n";
    const rows = results.map(
        (r) =>
            `| ${r.sampleMiB} | ${r.rate} | ${r.warmSyncSeconds} | ${r.warmBytesReceived} | ${r.cutoverSeconds} | ${r.coldSyncSeconds} | ${r.coldBytesReceived} | ${r.downtimeSeconds} |`,
    );
    fs.writeFileSync(path.join(folder, "results.md"), `${header}${rows.join("\n")}\n`);
    console.log(`bench: figures written to bench/results.json and bench/results.md`);
}

main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
