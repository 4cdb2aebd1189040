// Faults injected into the test hosts from outside the migration program: a host's sshd
// stopped and started again, its link to the others cut or slowed, a process in it killed,
// a small filesystem mounted over one of its folders. Also what the fault tests read back
// from a host since a given moment (the commands sshd ran).
import * as fs from "fs";
import { startDockerDaemon } from "./docker/daemon";
import type { TestHost } from "./index";
import { HOST_OCTETS, namespaceOf, processAlive } from "./network";
import { check, run, shq, sleep } from "./shell";

/** Where a host's sshd writes its pid (testbed/host-files.ts, sshdConfig). */
const sshdPidFile = (host: TestHost): string => `${host.dir}/run/sshd.pid`;

function sshdPid(host: TestHost): number | undefined {
    try {
        const pid = Number(fs.readFileSync(sshdPidFile(host), "utf8").trim());
        return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The machine stops accepting ssh: its sshd is killed, with the connections it holds, so
 * that a multiplexed connection the operator's ssh keeps open (ControlPersist) goes too.
 */
export async function stopSshd(host: TestHost): Promise<void> {
    const pids = await killIn(host, ["sshd"]);
    for (let i = 0; i < 100 && pids.some(processAlive); i++) await sleep(20);
    fs.rmSync(sshdPidFile(host), { force: true });
}

/** The machine is reachable again: sshd started the way startTestHosts starts it, same host key and config. */
export async function startSshd(host: TestHost): Promise<void> {
    if (sshdPid(host) !== undefined) return;
    await check("ip", ["netns", "exec", namespaceOf(host.name), "/usr/sbin/sshd", "-f", `${host.dir}/sshd_config`, "-E", `${host.dir}/sshd.log`]);
    for (let i = 0; i < 100; i++) {
        const probe = await host.exec(`exec 3<>/dev/tcp/${host.ip}/22`);
        if (probe.code === 0) return;
        await sleep(50);
    }
    throw new Error(`sshd of ${host.name} did not come back`);
}

/**
 * The host's Docker engine stopped and started again, as at a reboot: its containers
 * stop with it, and those with restart: always that nobody stopped start again.
 */
export async function restartDockerEngine(host: TestHost): Promise<void> {
    const pidFile = `${host.dir}/run/dockerd.pid`;
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 600 && processAlive(pid); i++) await sleep(50);
    if (processAlive(pid)) throw new Error(`dockerd of ${host.name} did not stop`);
    await startDockerDaemon(namespaceOf(host.name), host.dir, HOST_OCTETS[host.name]);
}

/** Every service of the host stopped, as its own stop-containers does, without going through sshd. */
export async function stopServices(host: TestHost): Promise<void> {
    const r = await host.exec(`${host.confRoot}/stop-containers`);
    if (r.code !== 0) throw new Error(`stop-containers on ${host.name}: ${r.stderr}`);
}

/** The host's end of its link in the root namespace: the veth whose peer holds the host's address. */
async function outerLink(host: TestHost): Promise<string> {
    const inner = (await host.exec(`ip -o -4 addr show | awk -v ip=${shq(host.ip)} 'index($4, ip "/") == 1 { print $2 }'`)).stdout.trim();
    if (inner === "") throw new Error(`${host.name}: no interface holds ${host.ip}`);
    const peerIndex = (await host.exec(`cat /sys/class/net/${shq(inner)}/iflink`)).stdout.trim();
    const links = await check("ip", ["-o", "link", "show"]);
    const line = links.split("\n").find((l) => l.startsWith(`${peerIndex}: `));
    if (line === undefined) throw new Error(`${host.name}: no link with index ${peerIndex} in the root namespace`);
    return line.split(": ")[1].split("@")[0];
}

/** Cuts the host off the others (its veth down in the root namespace) until linkUp. */
export async function linkDown(host: TestHost): Promise<void> {
    await check("ip", ["link", "set", await outerLink(host), "down"]);
}

export async function linkUp(host: TestHost): Promise<void> {
    await check("ip", ["link", "set", await outerLink(host), "up"]);
}

/** Limits what reaches the host to `rate` (tc syntax, e.g. "40mbit"), so that a copy into it lasts long enough to be cut. */
export async function slowLinkInto(host: TestHost, rate: string): Promise<void> {
    await check("tc", ["qdisc", "replace", "dev", await outerLink(host), "root", "tbf", "rate", rate, "burst", "64kb", "latency", "400ms"]);
}

export async function unslowLink(host: TestHost): Promise<void> {
    await run("tc", ["qdisc", "del", "dev", await outerLink(host), "root"]);
}

/** Pids of the processes in the host's namespace whose command line contains every one of `words` (and that work in `cwd`, if given). */
export async function processesIn(host: TestHost, words: string[], cwd?: string): Promise<number[]> {
    const r = await run("ip", ["netns", "pids", namespaceOf(host.name)]);
    return r.stdout
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .filter((pid) => {
            try {
                const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
                return processAlive(pid) && words.every((word) => argv.includes(word)) && (cwd === undefined || fs.readlinkSync(`/proc/${pid}/cwd`) === cwd);
            } catch {
                return false;
            }
        });
}

/** Kills (SIGKILL) the host's processes whose command line contains every one of `words` (in `cwd`, if given); returns their pids. */
export async function killIn(host: TestHost, words: string[], cwd?: string): Promise<number[]> {
    const pids = await processesIn(host, words, cwd);
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            /* ended meanwhile */
        }
    }
    return pids;
}

/**
 * sshd runs in the mount namespace `ip netns exec` gave it when the host started, and this
 * machine's root mount is private: a mount made in the root namespace afterwards does not
 * reach the commands sshd runs. So the mount is made inside sshd's namespace, where every
 * session it starts sees it.
 */
async function inSshdMounts(host: TestHost, args: string[]): Promise<string> {
    const pid = sshdPid(host);
    if (pid === undefined) throw new Error(`${host.name}: sshd is not running`);
    return check("nsenter", ["-t", String(pid), "-m", "--", ...args]);
}

/**
 * A tmpfs of `sizeKiB` over `folder` (absolute), owned like the folder it hides, seen by
 * every command sshd runs on the host, and holding a copy of what the folder held (sparse
 * files kept sparse): the same files on a smaller disk.
 */
export async function mountSmallFilesystem(host: TestHost, folder: string, sizeKiB: number): Promise<void> {
    const st = fs.statSync(folder);
    const mode = (st.mode & 0o7777).toString(8);
    const stash = fs.mkdtempSync(`${host.dir}/small-filesystem-`);
    try {
        await check("cp", ["-a", "--sparse=always", `${folder}/.`, stash]);
        await inSshdMounts(host, ["mount", "-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=${mode},uid=${st.uid},gid=${st.gid}`, "pryvmig-small", folder]);
        await inSshdMounts(host, ["cp", "-a", "--sparse=always", `${stash}/.`, folder]);
    } finally {
        fs.rmSync(stash, { recursive: true, force: true });
    }
}

/** Kibibytes the files under `folder` take on disk as the commands sshd runs on the host see it (a sparse file's holes take none). */
export async function diskUsageSeenBySshd(host: TestHost, folder: string): Promise<number> {
    return Number((await inSshdMounts(host, ["du", "-sk", folder])).split("\t")[0]);
}

/** The filesystem type of `folder` as the commands sshd runs on the host see it. */
export async function filesystemSeenBySshd(host: TestHost, folder: string): Promise<string> {
    return (await inSshdMounts(host, ["stat", "-f", "-c", "%T", folder])).trim();
}

export async function unmount(host: TestHost, folder: string): Promise<void> {
    await inSshdMounts(host, ["umount", folder]);
}

/** A host's log files grow only: what they hold now is an offset, what came after is read from it. */
export function logSize(file: string): number {
    return fs.existsSync(file) ? fs.statSync(file).size : 0;
}

export function readFrom(file: string, offset: number): string {
    if (!fs.existsSync(file)) return "";
    const fd = fs.openSync(file, "r");
    try {
        const size = fs.fstatSync(fd).size;
        const buffer = Buffer.alloc(Math.max(0, size - offset));
        fs.readSync(fd, buffer, 0, buffer.length, offset);
        return buffer.toString("utf8");
    } finally {
        fs.closeSync(fd);
    }
}

export const commandLog = (host: TestHost): string => `${host.dir}/commands.log`;

/**
 * The commands sshd ran after `offset` in a host's command log (commandLog), as the
 * client sent them. The log's format is the counting login shell's
 * (testbed/host-files.ts): time, then the shell's arguments base64-encoded and
 * NUL-separated. Takes the file, not the host, so that a process without the test
 * hosts' handle (the killed engine's runner) can read it.
 */
export function commandsSince(logFile: string, offset: number): string[] {
    return readFrom(logFile, offset)
        .split("\n")
        .filter((line) => line.split("\t").length >= 3)
        .map((line) => {
            const args = Buffer.from(line.split("\t")[1] ?? "", "base64")
                .toString("utf8")
                .split("\0");
            return args[0] === "-c" ? args.slice(1).join(" ") : args.join(" ");
        });
}
