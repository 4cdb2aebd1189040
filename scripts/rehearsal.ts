// Rehearses a migration on local test hosts with the real engine: Pryv.io's 2019 core
// shape in containers with real databases (the docker test hosts), or Pryv.io v1's with
// REHEARSAL_LAYOUT=pryv-v1 (config followers, the config leader's platform.yml), the
// program's own defaults for that layout, every phase forward with the engine's own
// progress display, a check from outside after each, the rollback to the start, a short
// report, and everything torn down.
import { AckedWrite, missingWrites, Outage, Prober } from "../bench/prober";
import { Phase } from "../config";
import { databasesIntact, runningServices, startTestHosts, TestHost, TestHosts } from "../testbed";
import { dnsQuery } from "../testbed/checks";
import { openMigrationStack } from "../testbed/migration/migrationStack";
import { eventIdsHeld, servedBy, websocketReaches } from "../testbed/migration/observe";
import { realStackConfig, v1StackConfig } from "../testbed/migration/realStackConfig";
import { seedSeriesProblems, writeSeedSeries } from "../testbed/migration/seedSeries";

type Outputs = Record<string, { value: unknown }>;

/** Who users reach at each address, and which machine the registers' DNS names. */
interface UsersView {
    viaSource: string;
    websocketViaSource: string;
    viaDest: string;
    dns: string;
}

interface Step {
    title: string;
    phase: Phase;
    extra?: Record<string, unknown>;
    expected: UsersView;
    /** After the step, the databases of `serving` hold every acknowledged write; the other machine's are stopped and pass their checks. */
    databasesServedBy?: "source" | "dest";
}

const served = (viaSource: string, viaDest: string, dns: string): UsersView => ({ viaSource, websocketViaSource: viaSource, viaDest, dns });
const steps: Step[] = [
    { title: "prepare", phase: "prepare", expected: served("source", "nobody", "source") },
    { title: "warm sync, round 1", phase: "warm-sync", extra: { warmSyncRound: 1 }, expected: served("source", "nobody", "source") },
    { title: "warm sync, round 2", phase: "warm-sync", extra: { warmSyncRound: 2 }, expected: served("source", "nobody", "source") },
    { title: "cutover", phase: "cutover", expected: served("dest", "dest", "source"), databasesServedBy: "dest" },
    { title: "dns", phase: "dns", expected: served("dest", "dest", "dest") },
    { title: "finalize", phase: "finalize", expected: served("dest", "dest", "dest") },
    { title: "rollback to dns", phase: "dns", expected: served("dest", "dest", "dest") },
    { title: "rollback to cutover", phase: "cutover", expected: served("dest", "dest", "source") },
    { title: "rollback to warm-sync", phase: "warm-sync", expected: served("source", "nobody", "source"), databasesServedBy: "source" },
    { title: "rollback to prepare", phase: "prepare", expected: served("source", "nobody", "source") },
];

async function usersView(hosts: TestHosts): Promise<UsersView> {
    const { source, dest } = hosts.hosts;
    const machineAt = (ip: string) => Object.values(hosts.hosts).find((host) => host.ip === ip)?.name ?? ip;
    const answers = await Promise.all(
        [hosts.hosts["reg-master"], hosts.hosts["reg-slave"]].map(
            async (r) => (await dnsQuery(r.ip, `${hosts.subdomain}.${hosts.domain}`)).map(machineAt).join(",") || "none",
        ),
    );
    return {
        viaSource: await servedBy(hosts, source),
        websocketViaSource: (await websocketReaches(hosts, source)).replace(/^refused.*/, "nobody"),
        viaDest: await servedBy(hosts, dest),
        dns: [...new Set(answers)].join(" / "),
    };
}

const describeView = (view: UsersView): string =>
    `via source: ${view.viaSource} (websocket: ${view.websocketViaSource}); via dest: ${view.viaDest}; DNS names ${view.dns}`;

const USERS = ["testuser01", "testuser02"];
/**
 * What the databases prove after a step, read past nginx and the core: the serving
 * machine's hold every write users had acknowledged and the seed series; the other
 * machine runs no database, and its files pass the databases' own checks.
 */
async function checkDatabases(serving: TestHost, stopped: TestHost, acknowledged: AckedWrite[]): Promise<string> {
    const missing = await missingWrites(acknowledged, (user) => eventIdsHeld(serving, user));
    if (missing.length > 0)
        throw new Error(`acknowledged writes missing from ${serving.name}'s database: ${missing.map((w) => `${w.user}/${w.id}`).join(", ")}`);
    const seed = await seedSeriesProblems(serving, USERS);
    if (seed.length > 0) throw new Error(seed.join("; "));
    const running = (await runningServices(stopped)).filter((service) => service === "mongodb" || service === "influxdb");
    if (running.length > 0) throw new Error(`${stopped.name} still runs ${running.join(", ")}`);
    const intact = await databasesIntact(stopped);
    if (!intact.ok) throw new Error(`${stopped.name}'s databases fail their own checks: ${intact.output}`);
    return `${serving.name}'s databases hold the ${acknowledged.length} acknowledged writes and the seed series; ${stopped.name}'s, stopped: ${intact.output}`;
}

/** What users saw during the cutover, from outside: a probe every 100 ms through source's address, a write every second. */
interface UsersOutage {
    outage: Outage;
    acknowledged: AckedWrite[];
}

function report(lines: [string, number, string][], cutover: Outputs, finalize: Outputs, users: UsersOutage, databases: string[]): void {
    const sum = (name: string) => ((cutover[name]?.value as { bytesReceived: number }[] | undefined) ?? []).reduce((total, s) => total + s.bytesReceived, 0);
    const verified = (cutover.verifiedFolders?.value as { folder: string; entries: number; bytes: number }[] | undefined) ?? [];
    console.log("\n=== rehearsal report ===");
    for (const [title, seconds, view] of lines) console.log(`${title.padEnd(22)} ${seconds.toFixed(1).padStart(6)} s   ${view}`);
    console.log(`bytes received, last warm round: ${sum("warmSync")}; cold sync: ${sum("coldSync")}`);
    console.log(
        `cold sync: ${String(cutover.coldSyncSeconds?.value)} s; the program's outage (source stopped -> source's nginx reaches dest): ${JSON.stringify(cutover.outage?.value)}`,
    );
    console.log(
        `users' outage, measured from outside: ${users.outage.seconds.toFixed(2)} s (${users.outage.failedProbes} of ${users.outage.probes} probes failed; ` +
            `answers: ${JSON.stringify(users.outage.servedBy)}); ${users.acknowledged.length} writes acknowledged`,
    );
    console.log(
        `verification before dest served (metadata of every entry, content of what the final round wrote): ${verified.map((f) => `${f.folder} (${f.entries} entries, ${f.bytes} bytes)`).join(", ")}; ` +
            `after: ${JSON.stringify(cutover.contentVerified?.value)}`,
    );
    console.log(`DNS answers at finalize: ${JSON.stringify(finalize.dnsAnswers?.value)}`);
    for (const line of databases) console.log(`databases: ${line}`);
}

const layouts = {
    "pryv-2019": { install: "Pryv.io's 2019 core", config: realStackConfig },
    "pryv-v1": { install: "Pryv.io v1 with its config leader and followers", config: v1StackConfig },
};

async function main(): Promise<void> {
    const sampleSizeMiB = Number(process.env.REHEARSAL_SAMPLE_MIB ?? 40);
    const layout = process.env.REHEARSAL_LAYOUT ?? "pryv-2019";
    if (layout !== "pryv-2019" && layout !== "pryv-v1") throw new Error(`REHEARSAL_LAYOUT: expected pryv-2019 or pryv-v1; got ${layout}`);
    console.log(
        `rehearsal: starting test hosts source, dest, reg-master, reg-slave (${layouts[layout].install} in containers, ${sampleSizeMiB} MiB of sample data; ` +
            `a fresh machine builds the image first)`,
    );
    const hosts = await startTestHosts({ hosts: ["source", "dest", "reg-master", "reg-slave"], engine: "docker", sampleSizeMiB, layout });
    const { source, dest } = hosts.hosts;
    const migration = await openMigrationStack(hosts, "rehearsal", layouts[layout].config);
    const lines: [string, number, string][] = [];
    const outputsAt: Record<string, Outputs> = {};
    const databases: string[] = [];
    let usersOutage: UsersOutage | undefined;
    try {
        await writeSeedSeries(hosts, source, USERS);
        // A new machine with Pryv.io installed, not running: prepare's check starts it.
        await dest.exec(dest.stopServicesCommand);
        for (const step of steps) {
            console.log(`\n=== rehearsal: ${step.title} (pulumi up with phase ${step.phase}) ===`);
            const started = Date.now();
            const prober =
                step.title === "cutover"
                    ? new Prober({ ip: source.ip, domain: hosts.domain, subdomain: hosts.subdomain, ca: hosts.certificatePem }, USERS, "rehearsal")
                    : undefined;
            prober?.start();
            const result = await migration.up(step.phase, step.extra, (text) => process.stdout.write(text)).finally(() => prober?.stop());
            if (prober !== undefined) usersOutage = { outage: prober.outage(), acknowledged: prober.writes };
            outputsAt[step.title] = result.outputs;
            const view = await usersView(hosts);
            lines.push([step.title, (Date.now() - started) / 1000, describeView(view)]);
            console.log(`rehearsal: after ${step.title}: ${describeView(view)}`);
            if (JSON.stringify(view) !== JSON.stringify(step.expected)) {
                throw new Error(`after ${step.title}, expected ${describeView(step.expected)}`);
            }
            if (step.databasesServedBy !== undefined) {
                const [serving, stopped] = step.databasesServedBy === "dest" ? [dest, source] : [source, dest];
                const checked = await checkDatabases(serving, stopped, usersOutage?.acknowledged ?? []);
                databases.push(`after ${step.title}: ${checked}`);
                console.log(`rehearsal: ${checked}`);
            }
        }
        if (usersOutage === undefined) throw new Error("the cutover ran without the prober");
        // The serving machine's own databases, checked as the others were: stopped.
        const stopped = await source.exec(source.stopServicesCommand);
        if (stopped.code !== 0) throw new Error(`${source.stopServicesCommand} on source: ${stopped.stderr}`);
        const intact = await databasesIntact(source);
        if (!intact.ok) throw new Error(`source's databases fail their own checks at the end: ${intact.output}`);
        databases.push(`at the end, source's, stopped: ${intact.output}`);
        report(lines, outputsAt.cutover, outputsAt.finalize, usersOutage, databases);
        console.log(`audit trail: ${(await migration.stack.history(1000)).length} updates in pulumi stack history`);
    } finally {
        await migration.destroyAndRemove();
        await hosts.stop();
    }
}

main().catch((error: unknown) => {
    console.error(`rehearsal failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
