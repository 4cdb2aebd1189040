// Network namespaces, veths and the bridge behind the test hosts, and the teardown
// that removes them. Everything is named with PREFIX so that a run killed with -9
// can be cleaned up by the next one without knowing what it had created.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { check, runSync, sleepSync } from "./shell";
import { teardownDockerSync } from "./docker/daemon";

export const PREFIX = "pryvmig-";
export const BRIDGE = `${PREFIX}br`;
export const BRIDGE_IP = "10.213.7.1";
export const RUN_MARKER = ".pryvmig-test-hosts";

export type HostName = "source" | "dest" | "reg-master" | "reg-slave";
export const HOST_OCTETS: Record<HostName, number> = { source: 11, dest: 12, "reg-master": 13, "reg-slave": 14 };

export const hostIp = (h: HostName): string => `10.213.7.${HOST_OCTETS[h]}`;
export const namespaceOf = (h: HostName): string => `${PREFIX}${h}`;
// Interface names are limited to 15 characters: "pryvmig-reg-master" does not fit.
const outerVeth = (h: HostName): string => `${PREFIX}v${HOST_OCTETS[h]}`;
const innerVeth = (h: HostName): string => `${PREFIX}e${HOST_OCTETS[h]}`;

export async function createBridge(): Promise<void> {
    await check("ip", ["link", "add", BRIDGE, "type", "bridge"]);
    await check("ip", ["addr", "add", `${BRIDGE_IP}/24`, "dev", BRIDGE]);
    await check("ip", ["link", "set", BRIDGE, "up"]);
}

/** No default route inside: hosts reach each other and the root namespace, nothing else. */
export async function createNamespace(h: HostName): Promise<void> {
    const ns = namespaceOf(h);
    await check("ip", ["netns", "add", ns]);
    await check("ip", ["link", "add", outerVeth(h), "type", "veth", "peer", "name", innerVeth(h), "netns", ns]);
    await check("ip", ["link", "set", outerVeth(h), "master", BRIDGE, "up"]);
    const inNs = (args: string[]): Promise<string> => check("ip", ["netns", "exec", ns, "ip", ...args]);
    await inNs(["link", "set", "lo", "up"]);
    await inNs(["addr", "add", `${hostIp(h)}/24`, "dev", innerVeth(h)]);
    await inNs(["link", "set", innerVeth(h), "up"]);
}

/** Alive and not a zombie: processes reparented to a PID 1 that does not reap linger as Z. */
export function processAlive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z" && state !== "X";
    } catch {
        return false;
    }
}

function namespacePids(ns: string): number[] {
    const r = runSync("ip", ["netns", "pids", ns]);
    return r.stdout
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((p) => p !== process.pid && processAlive(p));
}

function killAll(pids: () => number[], graceMs: number): void {
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        let left = pids();
        for (const pid of left) {
            try {
                process.kill(pid, signal);
            } catch {
                /* already gone */
            }
        }
        const deadline = Date.now() + graceMs;
        while (left.length > 0 && Date.now() < deadline) {
            sleepSync(50);
            left = pids();
        }
        if (left.length === 0) return;
    }
}

/** Processes of the root namespace that refer to one of our run folders (ssh masters, tails). */
function rootProcessesUsing(folders: string[]): number[] {
    if (folders.length === 0) return [];
    const ancestors = new Set<number>([process.pid, process.ppid]);
    const found: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        const pid = Number(entry);
        if (!Number.isInteger(pid) || ancestors.has(pid)) continue;
        let cmdline = "";
        try {
            cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        } catch {
            continue;
        }
        if (folders.some((f) => cmdline.includes(f)) && processAlive(pid)) found.push(pid);
    }
    return found;
}

export function ourNamespaces(): string[] {
    const out = runSync("ip", ["netns", "list"]).stdout;
    return out
        .split("\n")
        .map((l) => l.split(" ")[0])
        .filter((n) => n.startsWith(PREFIX));
}

function ourLinks(): string[] {
    const out = runSync("ip", ["-o", "link", "show"]).stdout;
    return out
        .split("\n")
        .map((l) => (l.split(": ")[1] ?? "").split("@")[0])
        .filter((n) => n.startsWith(PREFIX));
}

export function leftoverRunFolders(): string[] {
    const tmp = os.tmpdir();
    return fs
        .readdirSync(tmp)
        .filter((n) => n.startsWith(PREFIX))
        .map((n) => path.join(tmp, n))
        .filter((p) => fs.existsSync(path.join(p, RUN_MARKER)));
}

/**
 * Removes every trace of test hosts: docker hosts' engines and containers, processes in our namespaces (TERM, then KILL),
 * the namespaces, links, /etc/netns entries and the given run folders.
 * Synchronous so that it can run from a process 'exit' handler.
 */
export function teardownSync(runFolders: string[]): void {
    // Docker hosts' engines first: their containers live outside our namespaces, and
    // their mounts would keep the run folders from being removed.
    teardownDockerSync(runFolders);
    const namespaces = ourNamespaces();
    killAll(() => namespaces.flatMap(namespacePids), 3000);
    killAll(() => rootProcessesUsing(runFolders), 2000);
    for (const ns of namespaces) runSync("ip", ["netns", "delete", ns]);
    // Deleting a namespace deletes its end of a veth, and with it the pair; what is
    // left in the root namespace is the bridge and any veth whose namespace is gone.
    for (const link of ourLinks()) runSync("ip", ["link", "delete", link]);
    if (fs.existsSync("/etc/netns")) {
        for (const n of fs.readdirSync("/etc/netns")) {
            if (n.startsWith(PREFIX)) fs.rmSync(path.join("/etc/netns", n), { recursive: true, force: true });
        }
    }
    for (const folder of runFolders) fs.rmSync(folder, { recursive: true, force: true });
}
