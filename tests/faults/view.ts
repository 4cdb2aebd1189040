// What the fault tests look at after a fault and the recovery, from outside the program:
// who serves through each address, which databases run and whether anything wrote under
// them, the trees, the migration's keys and markers. Each check returns the problems it
// found as sentences, so that a loop over many faults can report all of them at the end.
import * as fs from "fs";
import { defaultDataFolders } from "../../config";
import { TestHost, TestHosts } from "../../testbed";
import { databaseFilesDigest, isDatabaseRunning, lastDatabaseStartDigest, treeManifest } from "../../testbed/checks";
import { databaseLogFile, logSize, readFrom } from "../../testbed/faults";
import { site443 } from "../../testbed/nginx-conf";
import { authorizedKeys, servedBy, websocketReaches, writeEvent, writesOf } from "../../testbed/migration/observe";

export const databaseFolder = "core/mongodb/data";
/** Folders nothing rewrites on its own: compared byte for byte between machines. */
export const quietFolders = defaultDataFolders.filter((folder) => folder !== databaseFolder);

export const siteFile = (source: TestHost): string => `${source.confRoot}/core/nginx/conf/site-443.conf`;
export const markerFolder = (host: TestHost, migrationId: string): string => `${host.dir}/home/root/.pryv-migration/${migrationId}`;

/** Lines of the host's authorized_keys that belong to this migration. */
export const migrationKeys = (host: TestHost, migrationId: string): number =>
    authorizedKeys(host)
        .split("\n")
        .filter((line) => line.includes(`pryv-migration:${migrationId}:`)).length;

export async function manifests(host: TestHost, folders: string[]): Promise<Record<string, string>> {
    const entries = await Promise.all(folders.map(async (folder) => [folder, await treeManifest(host, `${host.confRoot}/${folder}`)] as const));
    return Object.fromEntries(entries);
}

/** Where the hosts' logs stood, and what users had written, when a fault's cycle began. */
export interface Mark {
    databaseLog: Map<TestHost, number>;
    /** The write made through source just before: it must survive whatever follows. */
    write: { user: string; id: string };
    /** source's quiet folders as they were. */
    sourceTrees: Record<string, string>;
}

export async function mark(hosts: TestHosts, id: string): Promise<Mark> {
    const { source } = hosts.hosts;
    const write = { user: "alice", id };
    await writeEvent(hosts, source, write.user, write.id);
    return {
        databaseLog: new Map(Object.values(hosts.hosts).map((host) => [host, logSize(databaseLogFile(host))])),
        write,
        sourceTrees: await manifests(source, quietFolders),
    };
}

const databaseLines = (host: TestHost, since: Mark): string[] => readFrom(databaseLogFile(host), since.databaseLog.get(host) ?? 0).split("\n");

/** The database stand-in logs `external-write <file>` for each file written under it while it runs. */
export function writesUnderRunningDatabase(hosts: TestHosts, since: Mark): string[] {
    return Object.values(hosts.hosts).flatMap((host) =>
        databaseLines(host, since)
            .filter((line) => line.startsWith("external-write"))
            .map((line) => `${host.name}: ${line}`),
    );
}

export const databaseStartedSince = (host: TestHost, since: Mark): boolean => databaseLines(host, since).some((line) => line.startsWith("start "));

/** The digest of the database files as they lie now (meaningful while the database is stopped: then they are frozen). */
export const databaseDigest = (host: TestHost): string => databaseFilesDigest(`${host.confRoot}/${databaseFolder}`);

async function sameQuietTrees(from: TestHost, to: TestHost): Promise<string[]> {
    const [a, b] = await Promise.all([manifests(from, quietFolders), manifests(to, quietFolders)]);
    return quietFolders.filter((folder) => a[folder] !== b[folder]).map((folder) => `${folder} differs between ${from.name} and ${to.name}`);
}

function expect(problems: string[], what: string, actual: unknown, expected: unknown): void {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

/** Dest serves, through its own address and through source's nginx, from a copy of source's final data. */
export async function destServesProblems(hosts: TestHosts, since: Mark, migrationId: string): Promise<string[]> {
    const { source, dest } = hosts.hosts;
    const problems: string[] = [];
    expect(problems, "through source's address", await servedBy(hosts, source), "dest");
    expect(problems, "through dest's address", await servedBy(hosts, dest), "dest");
    expect(problems, "websocket through source's address", await websocketReaches(hosts, source), "dest");
    expect(problems, "database running on source", await isDatabaseRunning(source), false);
    expect(problems, "database running on dest", await isDatabaseRunning(dest), true);
    problems.push(...writesUnderRunningDatabase(hosts, since).map((line) => `written under a running database: ${line}`));
    // source is stopped, so frozen: dest's database must have opened exactly source's final files.
    expect(problems, "files dest's database opened at its last start", lastDatabaseStartDigest(dest), databaseDigest(source));
    problems.push(...(await sameQuietTrees(source, dest)));
    if (!writesOf(dest, since.write.user).includes(since.write.id))
        problems.push(`the write ${since.write.id} made through source before the fault is missing on dest`);
    expect(problems, "migration keys on source, dest", [migrationKeys(source, migrationId), migrationKeys(dest, migrationId)], [4, 4]);
    if (fs.readFileSync(siteFile(source), "utf8") === site443(hosts.domain, source.confRoot)) problems.push("source's site-443.conf is still the original");
    return problems;
}

/**
 * Source serves again and dest answers nobody; nothing users wrote is lost: if dest had
 * started, its data was carried back, else source's own data is as it was.
 * `sourceFrozenDigest`: source's database files while it was stopped by the cycle, if it was;
 * `destServedBefore`: dest already served when the cycle began (a rollback's cycle).
 */
export async function sourceServesProblems(
    hosts: TestHosts,
    since: Mark,
    migrationId: string,
    sourceFrozenDigest: string | undefined,
    destServedBefore = false,
): Promise<string[]> {
    const { source, dest } = hosts.hosts;
    const problems: string[] = [];
    expect(problems, "through source's address", await servedBy(hosts, source), "source");
    expect(problems, "through dest's address", await servedBy(hosts, dest), "nobody");
    expect(problems, "database running on source", await isDatabaseRunning(source), true);
    expect(problems, "database running on dest", await isDatabaseRunning(dest), false);
    problems.push(...writesUnderRunningDatabase(hosts, since).map((line) => `written under a running database: ${line}`));
    if (fs.readFileSync(siteFile(source), "utf8") !== site443(hosts.domain, source.confRoot)) problems.push("source's site-443.conf is not the original");
    if (fs.existsSync(`${siteFile(source)}.pryv-migration-original`)) problems.push("source's site-443.conf.pryv-migration-original is left over");
    if (fs.existsSync(`${markerFolder(source, migrationId)}/source-stopped`)) problems.push("source's source-stopped marker is left over");
    if (destServedBefore || databaseStartedSince(dest, since)) {
        // dest ran: what it holds now is what users last wrote, carried back onto source.
        expect(problems, "files source's database opened at its restart (dest had started)", lastDatabaseStartDigest(source), databaseDigest(dest));
        problems.push(...(await sameQuietTrees(dest, source)));
    } else {
        const now = await manifests(source, quietFolders);
        problems.push(...quietFolders.filter((folder) => now[folder] !== since.sourceTrees[folder]).map((folder) => `${folder} on source changed`));
        if (sourceFrozenDigest !== undefined) {
            expect(problems, "files source's database opened at its restart", lastDatabaseStartDigest(source), sourceFrozenDigest);
        }
    }
    if (!writesOf(source, since.write.user).includes(since.write.id))
        problems.push(`the write ${since.write.id} made through source before the fault is missing on source`);
    expect(problems, "migration keys on source, dest", [migrationKeys(source, migrationId), migrationKeys(dest, migrationId)], [4, 4]);
    return problems;
}
