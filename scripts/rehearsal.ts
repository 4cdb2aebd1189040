// Rehearses a migration on local test hosts with the real engine: every phase forward
// with the engine's own progress display, a check from outside after each, the
// rollback to the start, a short report, and everything torn down.
import { missingWrites, Outage, Prober } from "../bench/prober";
import { Phase } from "../components/config";
import { startTestHosts, TestHosts } from "../tests/hosts";
import { dnsQuery } from "../tests/hosts/checks";
import { openMigrationStack } from "../tests/integration/migrationStack";
import { servedBy, websocketReaches, writesOf } from "../tests/integration/observe";

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
}

const served = (viaSource: string, viaDest: string, dns: string): UsersView => ({ viaSource, websocketViaSource: viaSource, viaDest, dns });
const steps: Step[] = [
    { title: "prepare", phase: "prepare", expected: served("source", "nobody", "source") },
    { title: "warm sync, round 1", phase: "warm-sync", extra: { warmSyncRound: 1 }, expected: served("source", "nobody", "source") },
    { title: "warm sync, round 2", phase: "warm-sync", extra: { warmSyncRound: 2 }, expected: served("source", "nobody", "source") },
    { title: "cutover", phase: "cutover", expected: served("dest", "dest", "source") },
    { title: "dns", phase: "dns", expected: served("dest", "dest", "dest") },
    { title: "finalize", phase: "finalize", expected: served("dest", "dest", "dest") },
    { title: "rollback to dns", phase: "dns", expected: served("dest", "dest", "dest") },
    { title: "rollback to cutover", phase: "cutover", expected: served("dest", "dest", "source") },
    { title: "rollback to warm-sync", phase: "warm-sync", expected: served("source", "nobody", "source") },
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

/** What users saw during the cutover, from outside: a probe every 100 ms through source's address, a write every second. */
interface UsersOutage {
    outage: Outage;
    acknowledgedWrites: number;
    missingWrites: string[];
}

function report(lines: [string, number, string][], cutover: Outputs, finalize: Outputs, users: UsersOutage): void {
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
            `answers: ${JSON.stringify(users.outage.servedBy)}); ${users.acknowledgedWrites} writes acknowledged, ${users.missingWrites.length} missing afterwards`,
    );
    console.log(
        `verification before dest served (metadata of every entry, content of what the final round wrote): ${verified.map((f) => `${f.folder} (${f.entries} entries, ${f.bytes} bytes)`).join(", ")}; ` +
            `after: ${JSON.stringify(cutover.contentVerified?.value)}`,
    );
    console.log(`DNS answers at finalize: ${JSON.stringify(finalize.dnsAnswers?.value)}`);
}

async function main(): Promise<void> {
    const sampleSizeMiB = Number(process.env.REHEARSAL_SAMPLE_MIB ?? 40);
    console.log(`rehearsal: starting test hosts source, dest, reg-master, reg-slave (${sampleSizeMiB} MiB of sample data)`);
    const hosts = await startTestHosts({ hosts: ["source", "dest", "reg-master", "reg-slave"], sampleSizeMiB });
    const migration = await openMigrationStack(hosts);
    const lines: [string, number, string][] = [];
    const outputsAt: Record<string, Outputs> = {};
    let usersOutage: UsersOutage | undefined;
    try {
        for (const step of steps) {
            console.log(`\n=== rehearsal: ${step.title} (pulumi up with phase ${step.phase}) ===`);
            const started = Date.now();
            const prober =
                step.title === "cutover"
                    ? new Prober(
                          { ip: hosts.hosts.source.ip, domain: hosts.domain, subdomain: hosts.subdomain, ca: hosts.certificatePem },
                          ["testuser01", "testuser02"],
                          "rehearsal",
                      )
                    : undefined;
            prober?.start();
            const result = await migration.up(step.phase, step.extra, (text) => process.stdout.write(text)).finally(() => prober?.stop());
            if (prober !== undefined) {
                usersOutage = {
                    outage: prober.outage(),
                    acknowledgedWrites: prober.writes.length,
                    missingWrites: missingWrites(prober.writes, (user) => writesOf(hosts.hosts.dest, user)).map((w) => `${w.user}/${w.id}`),
                };
                if (usersOutage.missingWrites.length > 0)
                    throw new Error(`acknowledged writes missing on dest after the cutover: ${usersOutage.missingWrites.join(", ")}`);
            }
            outputsAt[step.title] = result.outputs;
            const view = await usersView(hosts);
            lines.push([step.title, (Date.now() - started) / 1000, describeView(view)]);
            console.log(`rehearsal: after ${step.title}: ${describeView(view)}`);
            if (JSON.stringify(view) !== JSON.stringify(step.expected)) {
                throw new Error(`after ${step.title}, expected ${describeView(step.expected)}`);
            }
        }
        if (usersOutage === undefined) throw new Error("the cutover ran without the prober");
        report(lines, outputsAt.cutover, outputsAt.finalize, usersOutage);
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
