// Process helpers shared by the test hosts module. Teardown has to run from
// process 'exit' handlers, where only synchronous work happens, hence the *Sync twins.
import { spawn, spawnSync } from "child_process";

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    input?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        if (opts.timeoutMs) timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", reject);
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer);
            resolve({
                code: code ?? (signal ? 128 : 1),
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
            });
        });
        child.stdin.on("error", () => undefined); // a command that ignores stdin closes it early
        child.stdin.end(opts.input ?? "");
    });
}

/** Like run, but a non-zero exit is an error that carries the command's stderr. */
export async function check(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
    const r = await run(cmd, args, opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
}

export function runSync(cmd: string, args: string[]): RunResult {
    const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Blocks the thread: teardown in an 'exit' handler cannot await a timer. */
export function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Single-quotes a value for bash. */
export function shq(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
