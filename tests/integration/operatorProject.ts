// The project as an operator runs it: the `pulumi` CLI on index.ts through the Node
// language host, in a temporary copy of the project with its own file:// backend and
// PULUMI_HOME, so that no stack file, state or workspace setting lands in the repository
// or in the engine cache other runs share.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { projectName } from "../../components/stackConfig";
import { run, RunResult } from "../../testbed/shell";

const repository = path.resolve(__dirname, "..", "..");
/** What `pulumi up` needs of the project: the program, its templates, and how to compile it. */
const programFiles = ["index.ts", "config", "components", "machinery", "templates", "package.json", "tsconfig.json", "Pulumi.yaml"];

export interface OperatorProject {
    /** The copy of the project the CLI runs in. */
    dir: string;
    /** `Pulumi.<stack>.yaml` in that copy. */
    stackFile: string;
    /** `pulumi <args> --stack <stack>` in the copy; never throws, the caller checks the code. */
    pulumi(args: string[], input?: string): Promise<RunResult>;
    /** Like pulumi(), but a non-zero exit is an error carrying everything the CLI printed. */
    pulumiOk(args: string[], input?: string): Promise<RunResult>;
    /** `npm run review` for the stack, as an operator runs it: the repository's script with this project's pulumi environment, no test harness. */
    review(): Promise<RunResult>;
    /** Sets keys of this project in the stack file, as an operator edits it; other keys, secrets and the salt stay. */
    setConfig(values: Record<string, unknown>): void;
    /** Removes the copy, its state and its PULUMI_HOME. */
    remove(): void;
}

/** Copies the program into a temporary folder (node_modules linked) with a file:// backend beside it. */
export function openOperatorProject(stack: string): OperatorProject {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-operator-"));
    const dir = path.join(root, "project");
    const state = path.join(root, "state");
    const home = path.join(root, "pulumi-home");
    for (const folder of [dir, state, home]) fs.mkdirSync(folder);
    for (const name of programFiles) {
        // Unit tests travel along unread: the language host loads index.ts and what it imports.
        fs.cpSync(path.join(repository, name), path.join(dir, name), { recursive: true });
    }
    fs.symlinkSync(path.join(repository, "node_modules"), path.join(dir, "node_modules"));

    // Nothing of the caller's Pulumi setup may leak in (another backend, a passphrase file, a selected stack).
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PULUMI_")));
    const env: NodeJS.ProcessEnv = {
        ...inherited,
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: "operator-cli-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        // The language host's ts-node honours this (@pulumi/pulumi cmd/run/run.js): type
        // checking every CLI call costs seconds, and `npm test` type-checks the program already.
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    };
    // Every stack command names the stack: nothing depends on which one is selected. (`version` takes no --stack.)
    const pulumi = (args: string[], input?: string): Promise<RunResult> =>
        run("pulumi", ["--cwd", dir, ...args, ...(args[0] === "version" ? [] : ["--stack", stack]), "--non-interactive"], { env, input });
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    return {
        dir,
        stackFile,
        pulumi,
        async pulumiOk(args, input) {
            const result = await pulumi(args, input);
            if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
            return result;
        },
        review: () => run("npm", ["--prefix", repository, "run", "--silent", "review", "--", "--stack", stack, "--cwd", dir], { env }),
        setConfig(values) {
            const file = fs.existsSync(stackFile) ? ((yaml.load(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> }) : {};
            const config = { ...file.config };
            for (const [key, value] of Object.entries(values)) config[`${projectName}:${key}`] = value;
            // Structured values stay YAML maps and lists: the CLI hands them to the program as JSON text.
            fs.writeFileSync(stackFile, yaml.dump({ ...file, config }, { lineWidth: -1 }));
        },
        remove() {
            fs.rmSync(root, { recursive: true, force: true });
        },
    };
}

/**
 * One resource's part of `pulumi preview --diff` text: from its header line (before its
 * `[id=...]` and `[urn=...]` lines) to the next resource's header. `nameSuffix` ends the
 * resource's name.
 */
export function resourceBlock(preview: string, nameSuffix: string): string {
    const lines = preview.split("\n");
    const isUrn = (line: string) => line.includes("[urn=urn:pulumi:");
    const headerOf = (urnLine: number) => {
        let index = urnLine - 1;
        while (index > 0 && lines[index].trim().startsWith("[")) index--;
        return index;
    };
    const urn = lines.findIndex((line) => isUrn(line) && line.trimEnd().endsWith(`${nameSuffix}]`));
    if (urn === -1) throw new Error(`no resource named *${nameSuffix} in the preview:\n${preview}`);
    const next = lines.findIndex((line, index) => index > urn && (isUrn(line) || /^\S/.test(line) || line.includes("--outputs:--")));
    const end = next === -1 ? lines.length : isUrn(lines[next]) ? headerOf(next) : next;
    return lines.slice(headerOf(urn), end).join("\n");
}
