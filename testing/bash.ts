// Scripts run for real by the unit tests: bash on a temporary folder, fake commands,
// a fake ssh client first on PATH.
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Every piece is in `text`, each after the one before. */
export function assertInOrder(text: string, pieces: string[]): void {
    let from = 0;
    for (const piece of pieces) {
        const at = text.indexOf(piece, from);
        if (at < 0) throw new Error(`${JSON.stringify(piece)} is missing after offset ${from} in:\n${text}`);
        from = at + piece.length;
    }
}

/** A private folder for a test, removed with `remove`. */
export function temporaryFolder(prefix: string): { folder: string; remove: () => void } {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    return { folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/** Runs a rendered script as the step would (bash -euo pipefail), with `stdin` and extra environment. */
export function runBash(script: string, options: { stdin?: string | Buffer; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
    return spawnSync("bash", ["-euo", "pipefail", "-c", script], { input: options.stdin ?? "", encoding: "utf8", env: { ...process.env, ...options.env } });
}

/** An executable stand-in for a machine's command: a bash body, written to `folder/name`; returns its path. */
export function fakeCommand(folder: string, name: string, body: string): string {
    const file = path.join(folder, name);
    fs.writeFileSync(file, `#!/bin/bash\nset -eu\n${body}\n`, { mode: 0o755 });
    return file;
}

/** What one run of the fake ssh client was given. */
export interface SshCall {
    args: string[];
    stdin: string;
}

/**
 * Puts a fake `ssh` first on PATH: it records its arguments and standard input, then runs
 * the command (its last argument) here with sh, as the remote login shell would.
 */
export function installFakeSsh(): { calls: () => SshCall[]; restore: () => void } {
    const { folder, remove } = temporaryFolder("fake-ssh");
    const bin = path.join(folder, "bin");
    const log = path.join(folder, "calls");
    fs.mkdirSync(bin);
    fs.mkdirSync(log);
    fakeCommand(
        bin,
        "ssh",
        [
            `call=${log}/$(printf '%04d' "$(find ${log} -mindepth 1 -maxdepth 1 | wc -l)")`,
            'mkdir "$call"',
            'printf \'%s\\0\' "$@" > "$call/args"',
            'cat > "$call/stdin"',
            'exec sh -c "${@: -1}" < "$call/stdin"',
        ].join("\n"),
    );
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}:${pathBefore ?? ""}`;
    return {
        calls: () =>
            fs
                .readdirSync(log)
                .sort()
                .map((call) => ({
                    args: fs
                        .readFileSync(path.join(log, call, "args"), "utf8")
                        .split("\0")
                        .slice(0, -1),
                    stdin: fs.readFileSync(path.join(log, call, "stdin"), "utf8"),
                })),
        restore: () => {
            process.env.PATH = pathBefore;
            remove();
        },
    };
}
