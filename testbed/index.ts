// Test hosts: source, dest and the two registers as network namespaces of this
// machine, each with its own sshd, /etc, PRYV_CONF_ROOT and (for cores) nginx and
// fixture processes in place of Pryv.io's containers. The migration program reaches
// them over SSH exactly as it would reach real machines; tests look behind its back
// with exec(), which does not go through sshd and so is not counted.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { LayoutName } from "../config";
import { composeContext, emptyDatabaseFolders, ensureImage, prepareDockerHost, DockerImage } from "./docker/layout";
import { convertToV1, v1LeaderStart, v1Start, v1StopServices } from "./docker/v1";
import { layOutHost } from "./layout";
import { acquireTestHosts, releaseTestHosts } from "./lock";
import { createBridge, createNamespace, HOST_OCTETS, HostName, hostIp, leftoverRunFolders, namespaceOf, PREFIX, RUN_MARKER, teardownSync } from "./network";
import { isRegister, REGISTER_RESERVED_LABELS } from "./register";
import { AUDIT_TRAIL, generateAuditTrail, generateSampleData } from "./sample-data";
import { check, run, RunResult, shq, sleep } from "./shell";
import { clearActiveCertificate, makeCertificate } from "./tls";

export type { HostName } from "./network";
export { registerDnsJson, REGISTER_STATIC_IPS } from "./register";
export { AUDIT_TRAIL } from "./sample-data";
export type { RegisterName } from "./register";
export * from "./docker";

/**
 * What runs Pryv.io's services on the hosts. "processes" (the default): fixture
 * processes started by the fixture's run-core. "docker": each host runs its own Docker
 * engine, and core.yml, reg-*.yml and Pryv's scripts run real containers with real
 * databases (testbed/docker).
 */
export type TestHostEngine = "processes" | "docker";

export interface TestHostsOptions {
    hosts: HostName[];
    sampleSizeMiB?: number;
    /** false: source starts with empty data folders (the benchmark writes its own dataset). */
    sampleData?: boolean;
    domain?: string;
    subdomain?: string;
    /** "processes" unless set; see TestHostEngine. */
    engine?: TestHostEngine;
    /** How the docker hosts are laid out: Pryv's 2019 shape (the default), or Pryv.io v1's (docker/v1.ts). */
    layout?: LayoutName;
}

export interface TestHost {
    name: HostName;
    ip: string;
    sshPort: number;
    user: "root";
    /** The host's public ed25519 key, "ssh-ed25519 AAAA..." without comment. */
    hostKey: string;
    /** This host's PRYV_CONF_ROOT. */
    confRoot: string;
    /** How the host is laid out: Pryv's 2019 shape unless startTestHosts was given another. */
    layout: LayoutName;
    /** Where the services' folders are: <confRoot>/core (Pryv's 2019 layout), <confRoot>/pryv (v1). */
    servicesFolder: string;
    /** The Docker network where the databases' compose names resolve: the compose project's (the compose file's folder), or the one Pryv v1's files name. */
    backendNetwork: string;
    /** Shell text that stops every service of the core, as the layout's stop command does (dest before prepare). */
    stopServicesCommand: string;
    /** The host's private folder: logs, pids, root's home. */
    dir: string;
    engine: TestHostEngine;
    /** Docker hosts: unix://<dir>/docker.sock, the DOCKER_HOST of the host's sessions and of exec(). */
    dockerHost?: string;
    exec(script: string): Promise<RunResult>;
    /** Where an absolute path of the host lies from this machine's side: itself, or for HOST_PRIVATE_PATHS the host's own copy. */
    pathOnHost(absolute: string): string;
    /**
     * Commands sshd ran on this host since startTestHosts resolved; a forced command
     * reads "<forced> (requested: <what the client sent>)".
     */
    commandCount(): number;
    commands(): string[];
}

export interface TestHosts {
    hosts: Record<HostName, TestHost>;
    domain: string;
    subdomain: string;
    operatorKeyPath: string;
    operatorPrivateKey: string;
    /** known_hosts lines "<ip> ssh-ed25519 AAAA..." of every host, for StrictHostKeyChecking=yes. */
    knownHostsPath: string;
    certificatePem: string;
    /** The run folder under os.tmpdir(), removed by stop(). */
    runDir: string;
    stop(): Promise<void>;
}

const SSH_READY_TIMEOUT_MS = 15000;

/**
 * Absolute paths outside confRoot that each host has of its own: the audit trail's
 * (/var/log/pryv/audit, written by a core host's rsyslog). Each is bind-mounted from
 * `<dir>/root<path>` in the mount namespace of the host's sshd and of exec(), so that
 * the same path names two machines' folders; from this machine's side it is
 * host.pathOnHost(path). The mount point is made, empty, on this machine.
 */
export const HOST_PRIVATE_PATHS = ["/var/log/pryv"];

const privateRoot = (dir: string): string => `${dir}/root`;

/** Where `absolute` of the host lies from this machine's side. */
function pathOnHost(dir: string, absolute: string): string {
    const owned = HOST_PRIVATE_PATHS.find((p) => absolute === p || absolute.startsWith(`${p}/`));
    return owned === undefined ? absolute : `${privateRoot(dir)}${absolute}`;
}

/** The shell lines that give a new mount namespace the host's private paths. */
function privateMounts(dir: string): string {
    for (const p of HOST_PRIVATE_PATHS) {
        fs.mkdirSync(p, { recursive: true });
        fs.mkdirSync(`${privateRoot(dir)}${p}`, { recursive: true });
    }
    return HOST_PRIVATE_PATHS.map((p) => `mount --bind ${shq(`${privateRoot(dir)}${p}`)} ${shq(p)} || exit 1\n`).join("");
}
const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Tears down whatever a killed earlier run left: namespaces, processes, links, /etc/netns, run folders. */
export async function removeLeftoverTestHosts(): Promise<void> {
    teardownSync(leftoverRunFolders());
}

function execIn(name: HostName, dir: string, extraEnv: Record<string, string> = {}): (script: string) => Promise<RunResult> {
    const env = { PATH: HOST_PATH, HOME: `${dir}/home/root`, USER: "root", LOGNAME: "root", SHELL: "/bin/bash", LANG: "C.UTF-8", ...extraEnv };
    const mounts = privateMounts(dir);
    return (script) => run("ip", ["netns", "exec", namespaceOf(name), "bash", "-c", `${mounts}${script}`], { env });
}

/**
 * Each log line: time, base64 of the NUL-separated arguments, base64 of the command
 * the client asked for when a forced command ran instead, a readable copy.
 */
function readCommands(dir: string): string[] {
    const lines = fs.readFileSync(`${dir}/commands.log`, "utf8").split("\n").filter(Boolean);
    const decode = (field: string | undefined): string => Buffer.from(field ?? "", "base64").toString("utf8");
    return lines.map((line) => {
        const fields = line.split("\t");
        const args = decode(fields[1]).split("\0");
        if (args[args.length - 1] === "") args.pop();
        const command = args[0] === "-c" ? args.slice(1).join(" ") : args.join(" ");
        return fields[2] ? `${command} (requested: ${decode(fields[2])})` : command;
    });
}

export function sshArgs(hosts: Pick<TestHosts, "operatorKeyPath" | "knownHostsPath">, host: TestHost): string[] {
    return [
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${hosts.knownHostsPath}`,
        "-o",
        "ConnectTimeout=5",
        "-i",
        hosts.operatorKeyPath,
        "-p",
        String(host.sshPort),
        `root@${host.ip}`,
    ];
}

async function waitForSsh(hosts: Pick<TestHosts, "operatorKeyPath" | "knownHostsPath">, host: TestHost): Promise<void> {
    const deadline = Date.now() + SSH_READY_TIMEOUT_MS;
    for (;;) {
        const r = await run("ssh", [...sshArgs(hosts, host), "true"], { timeoutMs: 10000 });
        if (r.code === 0) return;
        if (Date.now() > deadline) throw new Error(`sshd of ${host.name} not ready: ${r.stderr.trim()}`);
        await sleep(100);
    }
}

async function startHost(
    name: HostName,
    runDir: string,
    domain: string,
    subdomain: string,
    operatorPublicKey: string,
    certificate: Awaited<ReturnType<typeof makeCertificate>>,
    dockerImage?: DockerImage,
): Promise<TestHost> {
    const ip = hostIp(name);
    await createNamespace(name);
    const { dir, confRoot } = layOutHost(name, ip, { runDir, domain, subdomain, certificate, operatorPublicKey });
    await check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", `${dir}/ssh_host_ed25519_key`]);
    const hostKey = fs.readFileSync(`${dir}/ssh_host_ed25519_key.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    const daemon = dockerImage
        ? await prepareDockerHost({ name, namespace: namespaceOf(name), octet: HOST_OCTETS[name], ip, dir, confRoot, domain, image: dockerImage })
        : undefined;
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation chroot
    // `ip netns exec` gives sshd a mount namespace of its own (for /etc/netns): the host's private paths are mounted in it.
    await check("ip", [
        "netns",
        "exec",
        namespaceOf(name),
        "sh",
        "-c",
        `${privateMounts(dir)}exec /usr/sbin/sshd -f ${shq(`${dir}/sshd_config`)} -E ${shq(`${dir}/sshd.log`)}`,
    ]);
    return {
        name,
        ip,
        sshPort: 22,
        user: "root",
        hostKey,
        confRoot,
        layout: "pryv-2019",
        servicesFolder: `${confRoot}/core`,
        backendNetwork: `${path.basename(confRoot)}_backend`,
        stopServicesCommand: `${confRoot}/stop-containers`,
        dir,
        engine: daemon ? "docker" : "processes",
        dockerHost: daemon?.dockerHost,
        exec: execIn(name, dir, daemon ? { DOCKER_HOST: daemon.dockerHost } : {}),
        pathOnHost: (absolute) => pathOnHost(dir, absolute),
        commandCount: () => readCommands(dir).length,
        commands: () => readCommands(dir),
    };
}

function registerExitHandlers(runDir: string): () => void {
    const onExit = (): void => {
        teardownSync([runDir]);
        releaseTestHosts();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
        onExit();
        process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("exit", onExit);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    return () => {
        process.removeListener("exit", onExit);
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
    };
}

export async function startTestHosts(opts: TestHostsOptions): Promise<TestHosts> {
    const domain = opts.domain ?? "pryv.test";
    const subdomain = opts.subdomain ?? "co1";
    const names = [...new Set(opts.hosts)];
    if (!/^[a-z0-9.-]+$/.test(domain) || !/^[a-z0-9-]+$/.test(subdomain)) {
        throw new Error(`domain and subdomain must be DNS names, got ${domain} and ${subdomain}`);
    }
    if (REGISTER_RESERVED_LABELS.includes(subdomain)) throw new Error(`subdomain ${subdomain} is taken by a register entry`);
    if (opts.layout === "pryv-v1" && opts.engine !== "docker") throw new Error("layout pryv-v1 needs engine docker");
    // Built (minutes, once per machine) or found before taking the hosts: others may use them meanwhile.
    const dockerImage = opts.engine === "docker" ? ensureImage() : undefined;
    await acquireTestHosts();
    await removeLeftoverTestHosts();
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
    fs.writeFileSync(path.join(runDir, RUN_MARKER), `${process.pid}\n`);
    // Registered before anything exists, so that a failure half-way still cleans up.
    const unregister = registerExitHandlers(runDir);
    const stop = async (): Promise<void> => {
        unregister();
        clearActiveCertificate();
        teardownSync([runDir]);
        releaseTestHosts();
    };
    try {
        const operatorKeyPath = path.join(runDir, "operator", "id_ed25519");
        fs.mkdirSync(path.dirname(operatorKeyPath), { mode: 0o700 });
        await check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pryvmig-operator", "-f", operatorKeyPath]);
        const certificate = await makeCertificate(path.join(runDir, "tls"), domain);
        await createBridge();
        const operatorPublicKey = fs.readFileSync(`${operatorKeyPath}.pub`, "utf8");
        const started = await Promise.all(names.map((n) => startHost(n, runDir, domain, subdomain, operatorPublicKey, certificate, dockerImage)));
        const knownHostsPath = path.join(runDir, "operator", "known_hosts");
        fs.writeFileSync(knownHostsPath, started.map((h) => `${h.ip} ${h.hostKey}\n`).join(""));
        const access = { operatorKeyPath, knownHostsPath };
        await Promise.all(started.map((h) => waitForSsh(access, h)));
        // Counting starts now: the readiness probes are not the program's commands.
        for (const h of started) fs.writeFileSync(`${h.dir}/commands.log`, "");

        const hosts = Object.fromEntries(started.map((h) => [h.name, h])) as Record<HostName, TestHost>;
        if (hosts.source && opts.sampleData !== false) {
            const { users } = generateSampleData(hosts.source.confRoot, opts.sampleSizeMiB ?? 40);
            generateAuditTrail(hosts.source.pathOnHost(AUDIT_TRAIL), users);
            if (dockerImage) emptyDatabaseFolders(hosts.source.confRoot);
        }
        const mustRun = async (h: TestHost, script: string): Promise<void> => {
            const r = await h.exec(script);
            if (r.code !== 0) throw new Error(`${script} on ${h.name} failed: ${r.stderr.trim()}`);
        };
        if (opts.layout === "pryv-v1") {
            for (const h of started) {
                convertToV1(h.name, composeContext(h, dockerImage!), { domain, subdomain });
                h.layout = "pryv-v1";
                h.servicesFolder = `${h.confRoot}/pryv`;
                h.backendNetwork = "pryv_backend";
                h.stopServicesCommand = v1StopServices(h.confRoot);
            }
            if (hosts["reg-master"]) await mustRun(hosts["reg-master"], v1LeaderStart(hosts["reg-master"].confRoot));
            await Promise.all(started.map((h) => mustRun(h, v1Start(h.confRoot))));
        } else {
            await Promise.all(started.map((h) => mustRun(h, `${h.confRoot}/${isRegister(h.name) ? `run-${h.name}` : "run-core"}`)));
        }
        return {
            hosts,
            domain,
            subdomain,
            operatorKeyPath,
            knownHostsPath,
            runDir,
            operatorPrivateKey: fs.readFileSync(operatorKeyPath, "utf8"),
            certificatePem: certificate.certPem,
            stop,
        };
    } catch (e) {
        await stop();
        throw e;
    }
}
