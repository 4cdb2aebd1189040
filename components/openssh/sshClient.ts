// Runs one command on a machine with the system OpenSSH client. Loaded inside the dynamic
// provider's process too, so it depends on Node's built-in modules only.
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface SshConnection {
    host: string;
    port: number;
    user: string;
    /** Pinned public host key, '<type> <base64>'. */
    hostKey: string;
    /** Operator key; without it ssh uses the agent and the operator's ssh_config. */
    privateKey?: string;
}

export interface SshFiles {
    knownHosts: string;
    controlPath: string;
    identity?: string;
}

export interface CommandResult {
    stdout: string;
    stderr: string;
}

/** Known hosts are looked up under this alias, so an ssh_config HostName or ProxyJump does not change what is pinned. */
export function hostKeyAlias(connection: SshConnection): string {
    return `pryv-migration-${connection.host}-${connection.port}`;
}

export function knownHostsLine(connection: SshConnection): string {
    return `${hostKeyAlias(connection)} ${connection.hostKey}\n`;
}

/**
 * The client's arguments: strict checking against the pinned key only, no prompt, one
 * multiplexed connection per machine; everything else comes from the operator's ssh_config.
 */
export function sshArguments(connection: SshConnection, files: SshFiles, command: string): string[] {
    const options: Record<string, string> = {
        BatchMode: "yes",
        StrictHostKeyChecking: "yes",
        UserKnownHostsFile: files.knownHosts,
        GlobalKnownHostsFile: "/dev/null",
        HostKeyAlias: hostKeyAlias(connection),
        UpdateHostKeys: "no",
        ControlMaster: "auto",
        ControlPath: files.controlPath,
        ControlPersist: "30",
        ServerAliveInterval: "15",
        LogLevel: "ERROR",
    };
    if (files.identity !== undefined) options.IdentitiesOnly = "yes";
    const args = Object.entries(options).flatMap(([key, value]) => ["-o", `${key}=${value}`]);
    if (files.identity !== undefined) args.push("-i", files.identity);
    args.push("-p", String(connection.port), "-l", connection.user, "--", connection.host, command);
    return args;
}

/** A private folder per connection: the pinned key, the operator key if given, the control socket. */
function prepareFiles(connection: SshConnection): SshFiles {
    const digest = createHash("sha256").update(JSON.stringify(connection)).digest("hex").slice(0, 16);
    // Control sockets need a short path (108 bytes at most).
    const folder = path.join(os.tmpdir(), `pryvssh-${process.getuid?.() ?? 0}-${digest}`);
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    fs.chmodSync(folder, 0o700);
    const knownHosts = path.join(folder, "known_hosts");
    fs.writeFileSync(knownHosts, knownHostsLine(connection), { mode: 0o600 });
    const files: SshFiles = { knownHosts, controlPath: path.join(folder, "c") };
    if (connection.privateKey !== undefined) {
        files.identity = path.join(folder, "id");
        const key = connection.privateKey.endsWith("\n") ? connection.privateKey : `${connection.privateKey}\n`;
        fs.writeFileSync(files.identity, key, { mode: 0o600 });
    }
    return files;
}

export function runOverSsh(connection: SshConnection, command: string): Promise<CommandResult> {
    const files = prepareFiles(connection);
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", sshArguments(connection, files, command), { stdio: ["ignore", "pipe", "pipe"] });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            const result = { stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") };
            if (code === 0) {
                resolve(result);
            } else {
                const where = `${connection.user}@${connection.host}:${connection.port}`;
                reject(new Error(`command on ${where} failed with exit code ${code}:\n${result.stderr.trim() || result.stdout.trim()}`));
            }
        });
    });
}
