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

/** Writes `content` so that a concurrent reader sees the old file or the new one, never a partial one. */
function writeAtomically(file: string, content: string): void {
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(temporary, content, { mode: 0o600 });
    fs.renameSync(temporary, file);
}

/**
 * A private folder per connection for the pinned key and the control socket, shared by
 * the commands running at once; the operator key gets a file of its own per command,
 * removed when the command ends.
 */
/** Alive, for the purpose of owning a key file: signal 0 reaches it, or it exists under another user. */
function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * A provider process killed in the middle of a command (a killed engine) cannot remove its
 * copy of the operator key: whoever runs next removes the copies of processes that are gone.
 */
function removeOrphanedKeys(): void {
    const mine = `pryvssh-${process.getuid?.() ?? 0}-`;
    for (const folder of fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(mine))) {
        let files: string[];
        try {
            files = fs.readdirSync(path.join(os.tmpdir(), folder));
        } catch {
            continue;
        }
        for (const file of files) {
            const owner = /^id-(\d+)-/.exec(file);
            if (owner !== null && !processAlive(Number(owner[1]))) fs.rmSync(path.join(os.tmpdir(), folder, file), { force: true });
        }
    }
}

function prepareFiles(connection: SshConnection): SshFiles {
    removeOrphanedKeys();
    const { privateKey, ...endpoint } = connection;
    const digest = createHash("sha256").update(JSON.stringify(endpoint)).digest("hex").slice(0, 16);
    // Control sockets need a short path (108 bytes at most).
    const folder = path.join(os.tmpdir(), `pryvssh-${process.getuid?.() ?? 0}-${digest}`);
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    fs.chmodSync(folder, 0o700);
    const knownHosts = path.join(folder, "known_hosts");
    writeAtomically(knownHosts, knownHostsLine(connection));
    const files: SshFiles = { knownHosts, controlPath: path.join(folder, "c") };
    if (privateKey !== undefined) {
        files.identity = path.join(folder, `id-${process.pid}-${Math.random().toString(36).slice(2)}`);
        fs.writeFileSync(files.identity, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    }
    return files;
}

/** Calls `onLine` with each complete line of a stream, as it arrives. */
function eachLine(onLine: (line: string) => void): (chunk: Buffer) => void {
    let pending = "";
    return (chunk) => {
        const lines = (pending + chunk.toString("utf8")).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) onLine(line);
    };
}

/**
 * Runs `command`; `stdin`, when given, is what the command reads on its standard input;
 * `onStderrLine`, when given, sees each line of its standard error as it is printed.
 */
export function runOverSsh(connection: SshConnection, command: string, stdin?: string, onStderrLine?: (line: string) => void): Promise<CommandResult> {
    const files = prepareFiles(connection);
    return new Promise((resolve, reject) => {
        const child = spawn("ssh", sshArguments(connection, files, command), { stdio: ["pipe", "pipe", "pipe"] });
        // A command that does not read its input may close it early.
        child.stdin.on("error", () => undefined);
        child.stdin.end(stdin ?? "");
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        if (onStderrLine !== undefined) child.stderr.on("data", eachLine(onStderrLine));
        const forgetKey = () => files.identity !== undefined && fs.rmSync(files.identity, { force: true });
        child.on("error", (error) => {
            forgetKey();
            reject(error);
        });
        child.on("close", (code) => {
            forgetKey();
            const result = { stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") };
            if (code === 0) {
                resolve(result);
            } else {
                const where = `${connection.user}@${connection.host}:${connection.port}`;
                // ssh itself exits 255 when it cannot reach or log in to the machine.
                const what =
                    code === 255
                        ? `cannot run the step on ${where} (machine unreachable or login refused)`
                        : `command on ${where} failed with exit code ${code}`;
                reject(new Error(`${what}:\n${result.stderr.trim() || result.stdout.trim()}`));
            }
        });
    });
}
