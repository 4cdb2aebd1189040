// What the fault tests look at after a fault and the recovery, from outside the program,
// on the docker test hosts: who serves through each address, which databases run, what
// they hold and whether their files pass their own checks, the trees, the migration's
// keys and markers. Each check returns the problems it found as sentences, so that a
// loop over many faults can report all of them at the end.
import * as fs from "fs";
import { defaultDataFolders, LayoutName } from "../../config";
import { databasesIntact, HostName, runningServices, serviceStartedAt, startTestHosts, TestHost, TestHosts } from "../../testbed";
import { treeManifest } from "../../testbed/checks";
import { site443 } from "../../testbed/nginx-conf";
import { authorizedKeys, eventIdsHeld, servedBy, websocketReaches, writeEvent } from "../../testbed/migration/observe";
import { seedSeriesProblems, writeSeedSeries } from "../../testbed/migration/seedSeries";

/** The folders the databases rewrite as soon as they run: checked through the databases, not byte for byte. */
export const databaseFolders = ["core/mongodb/data", "core/influxdb/data"];
/** Folders nothing rewrites on its own: compared byte for byte between machines. */
export const quietFolders = defaultDataFolders.filter((folder) => !databaseFolders.includes(folder));

export const siteFile = (source: TestHost): string => `${source.confRoot}/core/nginx/conf/site-443.conf`;
export const markerFolder = (host: TestHost, migrationId: string): string => `${host.dir}/home/root/.pryv-migration/${migrationId}`;

/** Whether either database runs on the host. */
export const databaseRuns = async (host: TestHost): Promise<boolean> =>
    (await runningServices(host)).some((service) => service === "mongodb" || service === "influxdb");

/** Lines of the host's authorized_keys that belong to this migration. */
export const migrationKeys = (host: TestHost, migrationId: string): number =>
    authorizedKeys(host)
        .split("\n")
        .filter((line) => line.includes(`pryv-migration:${migrationId}:`)).length;

export async function manifests(host: TestHost, folders: string[]): Promise<Record<string, string>> {
    const entries = await Promise.all(folders.map(async (folder) => [folder, await treeManifest(host, `${host.confRoot}/${folder}`)] as const));
    return Object.fromEntries(entries);
}

/** The user every fault test writes through source before its fault. */
export const faultUser = "alice";

/**
 * The docker test hosts of a fault test, source's databases holding the user's seed
 * series: TSM blocks for `influx_inspect verify` to check on whichever side is stopped.
 */
export async function startFaultHosts(names: HostName[], sampleSizeMiB = 2, layout: LayoutName = "pryv-2019"): Promise<TestHosts> {
    const hosts = await startTestHosts({ hosts: names, engine: "docker", sampleSizeMiB, layout });
    try {
        await writeSeedSeries(hosts, hosts.hosts.source, [faultUser]);
    } catch (error) {
        await hosts.stop();
        throw error;
    }
    return hosts;
}

/** When a fault's cycle began, and what users had written by then. */
export interface Mark {
    at: number;
    /** The write made through source just before: it must survive whatever follows. */
    write: { user: string; id: string };
    /** Every event of the user the serving database held then, the write included: each must survive. */
    events: string[];
    /** source's quiet folders as they were. */
    sourceTrees: Record<string, string>;
}

/** Writes through source's address; `heldBy` is the machine serving then (dest, once it serves through source's nginx). */
export async function mark(hosts: TestHosts, id: string, heldBy: TestHost = hosts.hosts.source): Promise<Mark> {
    const { source } = hosts.hosts;
    const at = Date.now();
    const write = { user: faultUser, id };
    await writeEvent(hosts, source, write.user, write.id);
    const [events, sourceTrees] = await Promise.all([eventIdsHeld(heldBy, write.user), manifests(source, quietFolders)]);
    return { at, write, events: [...events].sort(), sourceTrees };
}

/** Whether the host's database was started after the mark (its container's start time). */
export async function databaseStartedSince(host: TestHost, since: Mark): Promise<boolean> {
    const started = await serviceStartedAt(host, "mongodb");
    return started !== undefined && started >= since.at;
}

/** The events of the mark, and the seed series, the serving host's databases do not return. */
export async function eventsMissing(host: TestHost, since: Mark): Promise<string[]> {
    const held = await eventIdsHeld(host, since.write.user);
    return [
        ...since.events.filter((id) => !held.has(id)).map((id) => `the event ${id} held at the mark is missing on ${host.name}`),
        ...(await seedSeriesProblems(host, [since.write.user])),
    ];
}

/** The stopped host's database files, checked by the databases' own tools. */
export async function intactProblems(host: TestHost, when: string): Promise<string[]> {
    const intact = await databasesIntact(host);
    return intact.ok ? [] : [`${host.name}'s databases ${when} fail their own checks: ${intact.output}`];
}

async function sameQuietTrees(from: TestHost, to: TestHost): Promise<string[]> {
    const [a, b] = await Promise.all([manifests(from, quietFolders), manifests(to, quietFolders)]);
    return quietFolders.filter((folder) => a[folder] !== b[folder]).map((folder) => `${folder} differs between ${from.name} and ${to.name}`);
}

function expect(problems: string[], what: string, actual: unknown, expected: unknown): void {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/**
 * Dest serves, through its own address and through source's nginx, from a copy of
 * source's final data: every event source held, its quiet trees byte for byte, and
 * source's stopped databases whole (what the final round read).
 */
export async function destServesProblems(hosts: TestHosts, since: Mark, migrationId: string): Promise<string[]> {
    const { source, dest } = hosts.hosts;
    const problems: string[] = [];
    expect(problems, "through source's address", await servedBy(hosts, source), "dest");
    expect(problems, "through dest's address", await servedBy(hosts, dest), "dest");
    expect(problems, "websocket through source's address", await websocketReaches(hosts, source), "dest");
    expect(problems, "services running on source", await runningServices(source), ["reverse_proxy"]);
    expect(problems, "database running on dest", await databaseRuns(dest), true);
    problems.push(...(await intactProblems(source, "stopped")));
    problems.push(...(await eventsMissing(dest, since)));
    problems.push(...(await sameQuietTrees(source, dest)));
    expect(problems, "migration keys on source, dest", [migrationKeys(source, migrationId), migrationKeys(dest, migrationId)], [4, 4]);
    if (fs.readFileSync(siteFile(source), "utf8") === site443(hosts.domain, source.confRoot)) problems.push("source's site-443.conf is still the original");
    return problems;
}

/**
 * Source serves again and dest answers nobody; nothing users wrote is lost: if dest had
 * started, its data was carried back (dest's quiet trees on source, its stopped databases
 * whole), else source's own quiet trees are as they were. Every event source held at the
 * mark is served by source. `destServedBefore`: dest already served when the cycle began
 * (a rollback's cycle).
 */
export async function sourceServesProblems(hosts: TestHosts, since: Mark, migrationId: string, destServedBefore = false): Promise<string[]> {
    const { source, dest } = hosts.hosts;
    const problems: string[] = [];
    expect(problems, "through source's address", await servedBy(hosts, source), "source");
    expect(problems, "through dest's address", await servedBy(hosts, dest), "nobody");
    expect(problems, "database running on source", await databaseRuns(source), true);
    expect(problems, "services running on dest", await runningServices(dest), []);
    if (fs.readFileSync(siteFile(source), "utf8") !== site443(hosts.domain, source.confRoot)) problems.push("source's site-443.conf is not the original");
    if (fs.existsSync(`${siteFile(source)}.pryv-migration-original`)) problems.push("source's site-443.conf.pryv-migration-original is left over");
    if (fs.existsSync(`${markerFolder(source, migrationId)}/source-stopped`)) problems.push("source's source-stopped marker is left over");
    if (destServedBefore || (await databaseStartedSince(dest, since))) {
        // dest ran: what it holds now is what users last wrote, carried back onto source.
        problems.push(...(await intactProblems(dest, "stopped after serving")));
        problems.push(...(await sameQuietTrees(dest, source)));
    } else {
        const now = await manifests(source, quietFolders);
        problems.push(...quietFolders.filter((folder) => now[folder] !== since.sourceTrees[folder]).map((folder) => `${folder} on source changed`));
    }
    problems.push(...(await eventsMissing(source, since)));
    expect(problems, "migration keys on source, dest", [migrationKeys(source, migrationId), migrationKeys(dest, migrationId)], [4, 4]);
    return problems;
}
