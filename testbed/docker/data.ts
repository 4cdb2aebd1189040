// What tests look at on docker test hosts, from outside the migration program: the
// compose services running, events and series points written and read back through
// the host's nginx (core stores them in FerretDB, hfs in InfluxDB), and the databases'
// own integrity checks on their files.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { httpsRequest } from "../checks";
import type { TestHost } from "../index";
import { run, sleep } from "../shell";
import { CONTAINER_NODE } from "./compose";
import { docker } from "./daemon";

const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pryv-core-migration");
export const INFLUX_INSPECT = path.join(CACHE, "influx_inspect-v1.8.3", "influx_inspect");

/** What the helpers need of the run: the domain for Host headers. */
export interface Site {
    domain: string;
}

export interface PryvEvent {
    id: string;
    streamId?: string;
    type?: string;
    content?: unknown;
}

export interface SeriesPoints {
    /** "timestamp" first (seconds), then the value fields. */
    fields: string[];
    points: number[][];
}

function dockerOf(host: TestHost): { dockerHost: string } {
    if (!host.dockerHost) throw new Error(`${host.name} is not a docker test host (startTestHosts({ engine: "docker" }))`);
    return { dockerHost: host.dockerHost };
}

/** Compose services of the host's containers that run, sorted ("core", "mongodb", ...). */
export async function runningServices(host: TestHost): Promise<string[]> {
    const r = await docker(dockerOf(host), ["ps", "--format", '{{.Label "com.docker.compose.service"}}']);
    if (r.code !== 0) throw new Error(`docker ps on ${host.name}: ${r.stderr.trim()}`);
    return [...new Set(r.stdout.split("\n").filter(Boolean))].sort();
}

/** Every container of the host, running or not: "<service> <state>" lines, sorted. */
export async function containerStates(host: TestHost): Promise<string[]> {
    const r = await docker(dockerOf(host), ["ps", "-a", "--format", '{{.Label "com.docker.compose.service"}} {{.State}}']);
    if (r.code !== 0) throw new Error(`docker ps -a on ${host.name}: ${r.stderr.trim()}`);
    return r.stdout.split("\n").filter(Boolean).sort();
}

/**
 * When the container of a compose service on the host last started (ms since the epoch,
 * docker's clock: this machine's), or undefined if the host has no such container.
 */
export async function serviceStartedAt(host: TestHost, service: string): Promise<number | undefined> {
    const d = dockerOf(host);
    const ids = await docker(d, ["ps", "-a", "-q", "--filter", `label=com.docker.compose.service=${service}`]);
    const id = ids.stdout.split("\n").find(Boolean);
    if (ids.code !== 0 || id === undefined) return undefined;
    const r = await docker(d, ["inspect", "-f", "{{.State.StartedAt}}", id]);
    if (r.code !== 0) throw new Error(`docker inspect on ${host.name}: ${r.stderr.trim()}`);
    // RFC 3339 with nanoseconds: milliseconds are what Date reads.
    const started = Date.parse(r.stdout.trim().replace(/(\.\d{3})\d*/, "$1"));
    return Number.isNaN(started) || started <= 0 ? undefined : started;
}

async function api(
    site: Site,
    host: TestHost,
    user: string,
    urlPath: string,
    method = "GET",
    body?: string,
): Promise<{ status: number; json: Record<string, unknown>; raw: string }> {
    const r = await httpsRequest("root", host.ip, `${user}.${site.domain}`, urlPath, method, body);
    let json: Record<string, unknown> = {};
    try {
        json = JSON.parse(r.body) as Record<string, unknown>;
    } catch {
        /* not JSON: an nginx page or no answer; raw says which */
    }
    return { status: r.status, json, raw: r.error ?? r.body };
}

/** The core's answer to GET /status through the host's nginx: its meta.apiVersion, or undefined. */
export async function coreApiVersion(site: Site, host: TestHost, user = "status"): Promise<string | undefined> {
    const r = await api(site, host, user, "/status");
    const meta = r.json.meta as { apiVersion?: unknown } | undefined;
    return r.status === 200 && typeof meta?.apiVersion === "string" ? meta.apiVersion : undefined;
}

/**
 * Waits until the host's core answers through nginx and reaches its databases (an
 * events read and a series read both succeed): containers start in seconds, the
 * databases a little later.
 */
export async function waitForCore(site: Site, host: TestHost, timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
        const events = await api(site, host, "readiness", "/events");
        const series = await api(site, host, "readiness", "/events/readiness/series");
        if (events.status === 200 && series.status === 200) return;
        last = `events ${events.status} ${events.raw.slice(0, 200)}; series ${series.status} ${series.raw.slice(0, 200)}`;
        if (Date.now() > deadline) throw new Error(`core of ${host.name} not ready within ${timeoutMs} ms: ${last}`);
        await sleep(250);
    }
}

/** Creates events through the host's nginx; each must be acknowledged (201). */
export async function writeEvents(site: Site, host: TestHost, user: string, events: PryvEvent[]): Promise<void> {
    for (const event of events) {
        const r = await api(site, host, user, "/events", "POST", JSON.stringify(event));
        if (r.status !== 201) throw new Error(`event ${event.id} through ${host.name}: ${r.status} ${r.raw}`);
    }
}

/** The user's events as the host's core reads them from its database, in write order. */
export async function readEvents(site: Site, host: TestHost, user: string): Promise<PryvEvent[]> {
    const r = await api(site, host, user, "/events");
    if (r.status !== 200) throw new Error(`events of ${user} through ${host.name}: ${r.status} ${r.raw}`);
    return r.json.events as PryvEvent[];
}

/** Adds points to an event's series through the host's nginx (hfs writes them to InfluxDB). */
export async function writePoints(site: Site, host: TestHost, user: string, eventId: string, series: SeriesPoints): Promise<void> {
    const r = await api(site, host, user, `/events/${eventId}/series`, "POST", JSON.stringify(series));
    if (r.status !== 201) throw new Error(`series of ${eventId} through ${host.name}: ${r.status} ${r.raw}`);
}

/** An event's points as the host's hfs reads them from InfluxDB, by time. */
export async function readPoints(site: Site, host: TestHost, user: string, eventId: string): Promise<SeriesPoints> {
    const r = await api(site, host, user, `/events/${eventId}/series`);
    if (r.status !== 200) throw new Error(`series of ${eventId} through ${host.name}: ${r.status} ${r.raw}`);
    return { fields: r.json.fields as string[], points: r.json.points as number[][] };
}

/**
 * Runs a Node script in a one-off container on the core's backend network (where
 * compose's names mongodb and influxdb resolve), bypassing nginx and the core: what
 * the host's databases hold, or (the benchmark's dataset) what is loaded into them.
 * They must be running (e.g. `up -d --no-deps mongodb influxdb`).
 */
export async function inBackend(host: TestHost, script: string, timeoutMs = 60000): Promise<string> {
    const d = dockerOf(host);
    const tags = await docker(d, ["image", "ls", "pryvmig/core", "--format", "{{.Tag}}"]);
    const tag = tags.stdout.split("\n").filter(Boolean)[0];
    if (!tag) throw new Error(`no pryvmig/core image on ${host.name}`);
    const nodeModules = path.dirname(path.dirname(require.resolve("mongodb/package.json")));
    const network = host.backendNetwork;
    const r = await docker(
        d,
        [
            "run",
            "--rm",
            "--network",
            network,
            "--user",
            "9999:9999",
            "-v",
            `${process.execPath}:${CONTAINER_NODE}:ro`,
            "-v",
            `${nodeModules}:/app/node_modules:ro`,
            "-e",
            "NODE_PATH=/app/node_modules",
            `pryvmig/core:${tag}`,
            "node",
            "-e",
            script,
        ],
        { timeoutMs },
    );
    if (r.code !== 0) throw new Error(`a script on the databases of ${host.name} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
}

/** The user's events as FerretDB holds them (database pryv-node, collection events), in write order. */
export async function databaseEvents(host: TestHost, user: string): Promise<PryvEvent[]> {
    const out = await inBackend(
        host,
        `const { MongoClient } = require("mongodb");
        const client = new MongoClient("mongodb://mongodb:27017/pryv-node", { serverSelectionTimeoutMS: 20000 });
        client.db().collection("events").find({ user: ${JSON.stringify(user)} }, { projection: { _id: 0 } }).sort({ created: 1, id: 1 }).toArray()
            .then((events) => { console.log(JSON.stringify(events)); return client.close(); })
            .catch((e) => { console.error(String(e)); process.exit(1); });`,
    );
    return JSON.parse(out) as PryvEvent[];
}

/** An event's points as InfluxDB holds them (database user.<user>, measurement event.<id>), by time. */
export async function databasePoints(host: TestHost, user: string, eventId: string): Promise<SeriesPoints> {
    const q = `SELECT * FROM "event.${eventId}" ORDER BY time`;
    const url = `http://influxdb:8086/query?db=${encodeURIComponent(`user.${user}`)}&epoch=ms&q=${encodeURIComponent(q)}`;
    const out = await inBackend(
        host,
        `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => console.log(t))
            .catch((e) => { console.error(String(e)); process.exit(1); });`,
    );
    const result = JSON.parse(out) as { results?: { series?: { columns: string[]; values: number[][] }[]; error?: string }[] };
    const first = result.results?.[0];
    if (first?.error) throw new Error(`InfluxDB of ${host.name}: ${first.error}`);
    const series = first?.series?.[0];
    if (!series) return { fields: ["timestamp"], points: [] };
    return { fields: ["timestamp", ...series.columns.slice(1)], points: series.values.map(([t, ...values]) => [t / 1000, ...values]) };
}

/** Files under a folder whose name ends with `suffix`, relative paths, sorted. */
function filesEndingWith(folder: string, suffix: string): string[] {
    if (!fs.existsSync(folder)) return [];
    return (fs.readdirSync(folder, { recursive: true }) as string[]).filter((f) => f.endsWith(suffix)).sort();
}

/** InfluxDB's TSM files on the host (the cache is written to them once a shard is cold). */
export const influxTsmFiles = (host: TestHost): string[] => filesEndingWith(`${host.servicesFolder}/influxdb/data/data`, ".tsm");

/**
 * Waits until InfluxDB has written its cache to TSM files (the compose file sets a 2 s
 * cold duration), in each of `databases` ("user.<name>") or, without, in any.
 */
export async function waitForTsmFiles(host: TestHost, databases: string[] = [], timeoutMs = 30000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const files = influxTsmFiles(host);
        const missing = databases.filter((db) => !files.some((f) => f.startsWith(`${db}/`)));
        if (files.length > 0 && missing.length === 0) return files;
        if (Date.now() > deadline) {
            throw new Error(
                `no TSM file under ${host.servicesFolder}/influxdb/data/data${missing.length ? ` for ${missing.join(", ")}` : ""} within ${timeoutMs} ms`,
            );
        }
        await sleep(250);
    }
}

export interface CheckResult {
    ok: boolean;
    output: string;
}

/**
 * `influx_inspect verify` on the host's InfluxDB files (run it with InfluxDB stopped):
 * every TSM block's checksum. ok when it exits 0 and reports no broken block.
 */
export async function influxVerify(host: TestHost): Promise<CheckResult> {
    const r = await run(INFLUX_INSPECT, ["verify", "-dir", `${host.servicesFolder}/influxdb/data`]);
    const output = `${r.stdout}${r.stderr}`.trim();
    return { ok: r.code === 0 && /Broken Blocks: 0 \/ [1-9]/.test(output), output };
}

/**
 * Runs SQL on a copy of a SQLite file and its -wal, as the first process to open it after
 * a stop would (without the -shm, which SQLite rebuilds from the WAL). Not in place:
 * opening the file there would leave a -shm owned by root beside it, which the service
 * (FerretDB as uid 999, core as 9999) could not open afterwards.
 */
async function onSqliteCopy(file: string, sql: string): Promise<{ code: number; output: string }> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-sqlite-"));
    try {
        for (const suffix of ["", "-wal"]) {
            if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, path.join(scratch, path.basename(file) + suffix));
        }
        const r = await run("sqlite3", ["-batch", path.join(scratch, path.basename(file)), sql]);
        return { code: r.code, output: `${r.stdout}${r.stderr}`.trim() };
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Core's per-user SQLite files of Pryv.io 1.7+ (the v1 test hosts): users/<c>/<b>/<a>/<user>/audit.sqlite under core's data, relative to it. */
const userSqliteFiles = (host: TestHost): string[] =>
    filesEndingWith(`${host.servicesFolder}/core/data`, "/audit.sqlite").filter((file) => file.startsWith("users/"));

/**
 * SQLite's `PRAGMA integrity_check` on each of FerretDB's database files and, on v1 hosts,
 * on each of core's per-user files (run it with their services stopped). `files` are their
 * paths under the services' folder.
 */
export async function sqliteIntegrity(host: TestHost): Promise<CheckResult & { files: string[] }> {
    const files = [
        ...filesEndingWith(`${host.servicesFolder}/mongodb/data`, ".sqlite").map((file) => `mongodb/data/${file}`),
        ...userSqliteFiles(host).map((file) => `core/data/${file}`),
    ];
    const lines: string[] = [];
    let ok = files.length > 0;
    for (const file of files) {
        const r = await onSqliteCopy(`${host.servicesFolder}/${file}`, "PRAGMA integrity_check;");
        lines.push(`${file}: ${r.output}`);
        if (r.code !== 0 || r.output !== "ok") ok = false;
    }
    return { ok, output: lines.join("\n") || `no .sqlite file under ${host.servicesFolder}/mongodb/data`, files };
}

/** The ids of the user's events in core's per-user audit.sqlite (Pryv.io 1.7+, the v1 test hosts), read from a copy of the file. */
export async function userSqliteEventIds(host: TestHost, user: string): Promise<Set<string>> {
    const file = `${host.servicesFolder}/core/data/users/${user.at(-1)}/${user.at(-2)}/${user.at(-3)}/${user}/audit.sqlite`;
    if (!fs.existsSync(file)) return new Set();
    const r = await onSqliteCopy(file, "SELECT id FROM audit;");
    if (r.code !== 0) throw new Error(`${host.name}'s audit.sqlite of ${user}: ${r.output}`);
    return new Set(r.output.split("\n").filter(Boolean));
}

/**
 * Both databases' own checks on the host's files (run them with its containers
 * stopped): ok when InfluxDB's TSM blocks and every FerretDB file pass. The output
 * gives each check's last words.
 */
export async function databasesIntact(host: TestHost): Promise<CheckResult> {
    const influx = await influxVerify(host);
    const sqlite = await sqliteIntegrity(host);
    return {
        ok: influx.ok && sqlite.ok,
        output: `influx_inspect verify: ${influx.output.split("\n").at(-1)}; integrity_check: ${sqlite.output.replace(/\n/g, ", ")}`,
    };
}
