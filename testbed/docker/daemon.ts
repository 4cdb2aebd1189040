// One Docker engine per test host: Debian's dockerd (docker.io 20.10) started inside the
// host's network namespace with nsenter (`ip netns exec` remounts /sys and hides the
// cgroup mounts dockerd needs), its own data root in the host's folder, a short exec
// root (unix socket paths are limited to 108 bytes) and its own cgroup parent, so a
// killed run's containers can be found and removed by the next one
// (teardownDockerSync, called by network.ts's teardownSync).
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { run, RunResult, sleep, sleepSync } from "../shell";
import { SERVICE_IMAGES } from "./compose";

export const DOCKERD = "/usr/sbin/dockerd";
/** Debian's client, the daemon's version; /usr/local/bin/docker may be another one. */
export const DOCKER = "/usr/bin/docker";
export const DOCKER_COMPOSE = "/usr/bin/docker-compose";
const EXEC_ROOT_PREFIX = "/run/pryvmig-d-";
const CGROUP_PREFIX = "pryvmig-d-";
const CGROUP_ROOT = "/sys/fs/cgroup";
const READY_TIMEOUT_MS = 30000;

export interface DockerDaemon {
    /** unix://<host dir>/docker.sock, the DOCKER_HOST of the host's sessions. */
    dockerHost: string;
    socket: string;
    pidFile: string;
    execRoot: string;
}

export function daemonPaths(dir: string, octet: number): DockerDaemon {
    const socket = `${dir}/docker.sock`;
    return { dockerHost: `unix://${socket}`, socket, pidFile: `${dir}/run/dockerd.pid`, execRoot: `${EXEC_ROOT_PREFIX}${octet}` };
}

/** The docker CLI against one host's daemon, from the root namespace (the socket is a file). */
export function docker(daemon: Pick<DockerDaemon, "dockerHost">, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(DOCKER, args, { ...opts, env: { ...process.env, DOCKER_HOST: daemon.dockerHost } });
}

export async function startDockerDaemon(namespace: string, dir: string, octet: number): Promise<DockerDaemon> {
    const d = daemonPaths(dir, octet);
    fs.mkdirSync(`${dir}/docker`, { recursive: true, mode: 0o710 });
    const log = fs.openSync(`${dir}/logs/dockerd.log`, "a");
    const child = spawn(
        "nsenter",
        [
            `--net=/run/netns/${namespace}`,
            DOCKERD,
            "--data-root",
            `${dir}/docker`,
            "--exec-root",
            d.execRoot,
            "-H",
            d.dockerHost,
            "-p",
            d.pidFile,
            "--cgroup-parent",
            `/${CGROUP_PREFIX}${octet}`,
            "--log-level",
            "warn",
        ],
        { detached: true, stdio: ["ignore", log, log] },
    );
    child.unref();
    fs.closeSync(log);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
        const r = await docker(d, ["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5000 });
        if (r.code === 0) return d;
        if (child.exitCode !== null || Date.now() > deadline) {
            const tail = fs.readFileSync(`${dir}/logs/dockerd.log`, "utf8").split("\n").slice(-5).join("\n");
            throw new Error(`dockerd of ${namespace} did not start: ${r.stderr.trim()}\n${tail}`);
        }
        await sleep(200);
    }
}

/** Imports the image tar (build-image.sh) into one daemon and tags it once per service. */
export async function loadImage(daemon: DockerDaemon, tar: string, tag: string): Promise<void> {
    const base = `pryvmig/base:${tag}`;
    const present = await docker(daemon, ["image", "inspect", "--format", "{{.Id}}", base]);
    if (present.code !== 0) {
        const r = await docker(daemon, ["import", "--change", "WORKDIR /", tar, base], { timeoutMs: 300000 });
        if (r.code !== 0) throw new Error(`docker import ${tar}: ${r.stderr.trim()}`);
    }
    for (const name of SERVICE_IMAGES) {
        const r = await docker(daemon, ["tag", base, `pryvmig/${name}:${tag}`]);
        if (r.code !== 0) throw new Error(`docker tag ${name}: ${r.stderr.trim()}`);
    }
}

// ---- teardown (synchronous: it runs from process 'exit' handlers too) ----

function cmdlineOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
        return "";
    }
}

function alive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z" && state !== "X";
    } catch {
        return false;
    }
}

const DAEMON_PROGRAMS = ["dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2"];

/** dockerd, its containerd and the shims: those programs when they name one of our exec roots. */
function daemonProcesses(): number[] {
    return fs
        .readdirSync("/proc")
        .map(Number)
        .filter((pid) => {
            if (!Number.isInteger(pid) || pid === process.pid) return false;
            const args = cmdlineOf(pid).split("\0");
            return DAEMON_PROGRAMS.includes(path.basename(args[0])) && args.some((a) => a.includes(EXEC_ROOT_PREFIX)) && alive(pid);
        });
}

function ourCgroups(): string[] {
    if (!fs.existsSync(CGROUP_ROOT)) return [];
    // cgroup v1: <root>/<controller>/pryvmig-d-N; v2 (unified): <root>/pryvmig-d-N.
    const found = fs
        .readdirSync(CGROUP_ROOT)
        .filter((e) => e.startsWith(CGROUP_PREFIX))
        .map((e) => path.join(CGROUP_ROOT, e));
    const controllers = fs.readdirSync(CGROUP_ROOT).map((c) => path.join(CGROUP_ROOT, c));
    for (const controller of controllers) {
        let entries: string[] = [];
        try {
            entries = fs.readdirSync(controller);
        } catch {
            continue;
        }
        for (const e of entries) if (e.startsWith(CGROUP_PREFIX)) found.push(path.join(controller, e));
    }
    return found;
}

/** Every process of our containers: the pids listed under our cgroup parents. */
function containerProcesses(cgroups: string[]): number[] {
    const pids = new Set<number>();
    const walk = (dir: string): void => {
        let entries: fs.Dirent[] = [];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            if (e.isDirectory()) walk(path.join(dir, e.name));
            else if (e.name === "cgroup.procs") {
                try {
                    for (const p of fs.readFileSync(path.join(dir, e.name), "utf8").split("\n").filter(Boolean)) pids.add(Number(p));
                } catch {
                    /* removed meanwhile */
                }
            }
        }
    };
    for (const c of cgroups) walk(c);
    return [...pids].filter((p) => p !== process.pid && alive(p));
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
    for (const pid of pids) {
        try {
            process.kill(pid, signal);
        } catch {
            /* already gone */
        }
    }
}

function waitGone(pids: () => number[], ms: number): boolean {
    const deadline = Date.now() + ms;
    while (pids().length > 0) {
        if (Date.now() > deadline) return false;
        sleepSync(50);
    }
    return true;
}

/** Mount points under our exec roots or under the given folders, deepest first. */
function ourMounts(folders: string[]): string[] {
    const prefixes = [EXEC_ROOT_PREFIX, ...folders.map((f) => (f.endsWith("/") ? f : `${f}/`))];
    const points = fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" ")[4].replace(/\\040/g, " "))
        .filter((p) => prefixes.some((prefix) => p.startsWith(prefix)));
    return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function removeCgroups(dirs: string[]): void {
    const rmdirDeep = (dir: string): void => {
        let entries: fs.Dirent[] = [];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) if (e.isDirectory()) rmdirDeep(path.join(dir, e.name));
        try {
            fs.rmdirSync(dir);
        } catch {
            /* busy: a process survived; the next teardown tries again */
        }
    };
    for (const d of dirs) rmdirDeep(d);
}

/**
 * Removes every Docker engine of test hosts, whoever started it: their containers
 * (SIGKILL, they hold nothing a test still needs), the daemons (SIGKILL too),
 * containerd shims, the mounts under their data roots (inside `folders`) and exec
 * roots, their cgroups and exec roots. Nothing here asks a daemon: a killed run's
 * daemon may be gone while its containers still run.
 */
export function teardownDockerSync(folders: string[]): void {
    const cgroups = ourCgroups();
    for (let round = 0; round < 3; round++) {
        const pids = containerProcesses(cgroups);
        if (pids.length === 0) break;
        signalAll(pids, "SIGKILL");
        waitGone(() => containerProcesses(cgroups), 2000);
    }
    // A daemon that is asked to stop takes seconds tidying up what is removed right after.
    for (let round = 0; round < 3 && daemonProcesses().length > 0; round++) {
        signalAll(daemonProcesses(), "SIGKILL");
        waitGone(daemonProcesses, 2000);
    }
    for (const mount of ourMounts(folders)) spawnSync("umount", ["-l", mount], { stdio: "ignore" });
    removeCgroups(cgroups);
    for (const entry of fs.readdirSync("/run")) {
        const full = path.join("/run", entry);
        if (full.startsWith(EXEC_ROOT_PREFIX)) fs.rmSync(full, { recursive: true, force: true });
    }
}
