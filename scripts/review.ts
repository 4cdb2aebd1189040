// npm run review -- [--stack <name>] [--out <file>] [--cwd <project dir>]
// Writes the Markdown review of the stack's next `pulumi up` (see review/reviewDocument.ts)
// for the pull request that changes Pulumi.<stack>.yaml. Runs pulumi with the caller's
// environment (backend, passphrase, PATH), so it previews exactly what `pulumi up` would do.
import { execFile } from "child_process";
import { writeFileSync } from "fs";
import { resolve } from "path";
import { ConfigEntry, PreviewJson, renderReview, stackNameFromPreview } from "../review/reviewDocument";

interface Options {
    stack?: string;
    out?: string;
    cwd: string;
}

class PulumiError extends Error {
    constructor(
        message: string,
        readonly stderr: string,
    ) {
        super(message);
    }
}

const usage = "usage: npm run review -- [--stack <name>] [--out <file>] [--cwd <project dir>]";

function parseOptions(args: string[]): Options {
    const options: Options = { cwd: process.cwd() };
    for (let index = 0; index < args.length; index += 2) {
        const [flag, value] = [args[index], args[index + 1]];
        if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${usage}`);
        if (flag === "--stack") options.stack = value;
        else if (flag === "--out") options.out = resolve(value);
        else if (flag === "--cwd") options.cwd = resolve(value);
        else throw new Error(`unknown option ${flag}\n${usage}`);
    }
    return options;
}

/** stdout of `pulumi <args>`; a failure carries pulumi's stderr (and, for --json, the errors it printed on stdout). */
function pulumi(args: string[], options: Options): Promise<string> {
    const stackArgs = options.stack === undefined ? [] : ["--stack", options.stack];
    return new Promise((done, fail) => {
        // Previews of real stacks print every script and file in full: far beyond the default 1 MiB.
        execFile(
            "pulumi",
            [...args, ...stackArgs, "--non-interactive"],
            { cwd: options.cwd, env: process.env, maxBuffer: 512 * 1024 * 1024 },
            (error, stdout, stderr) => {
                if (error === null) return done(stdout);
                const diagnostics = jsonErrors(stdout);
                fail(
                    new PulumiError(
                        `pulumi ${args.join(" ")} failed (exit code ${error.code ?? error.message})`,
                        [stderr.trim(), ...diagnostics].filter(Boolean).join("\n"),
                    ),
                );
            },
        );
    });
}

/** With --json, the program's own error (a refused config value...) is in stdout's diagnostics, not on stderr. */
function jsonErrors(stdout: string): string[] {
    try {
        const parsed = JSON.parse(stdout) as PreviewJson;
        return (parsed.diagnostics ?? []).filter((diagnostic) => diagnostic.severity === "error").map((diagnostic) => diagnostic.message.trim());
    } catch {
        return [];
    }
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const preview = JSON.parse(await pulumi(["preview", "--json"], options)) as PreviewJson;
    const config = JSON.parse(await pulumi(["config", "--json"], options)) as Record<string, ConfigEntry>;
    const outputs = JSON.parse(await pulumi(["stack", "output", "--json"], options)) as Record<string, unknown>;
    const stack = options.stack ?? stackNameFromPreview(preview) ?? "(selected stack)";
    const review = renderReview({ stack, preview, config, outputs });
    if (options.out === undefined) process.stdout.write(review);
    else writeFileSync(options.out, review);
}

main().catch((error: unknown) => {
    process.stderr.write(`review: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof PulumiError && error.stderr !== "") process.stderr.write(`${error.stderr}\n`);
    process.exitCode = 1;
});
