// The engine as the fault tests drive it: the migration stack of tests/integration with
// the engine's events, `pulumi cancel` run as an operator runs it, the state's pending
// operations, and the engine killed with SIGKILL while a chosen step runs on its machine.
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineEvent, LocalWorkspace, UpResult } from "@pulumi/pulumi/automation";
import { Phase } from "../../config";
import { projectName } from "../../components/stackConfig";
import { TestHosts } from "../../testbed";
import { commandLog } from "../../testbed/faults";
import { HostsConfig, migrationConfig, MigrationStack, openMigrationStack } from "../../testbed/migration/migrationStack";
import { realStackConfigWithDefaultFolders } from "../../testbed/migration/realStackConfig";
import type { Kill, KilledUpJob } from "./killedUp";

export type { Kill } from "./killedUp";

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** A step of a phase as the engine announces it: what it will do to which resource. */
export interface PlannedStep {
    op: string;
    urn: string;
    /** The resource's name: the last part of its URN. */
    name: string;
}

/** The parts of the engine's stored deployment the tests read. */
interface DeploymentState {
    resources?: { urn: string; retainOnDelete?: boolean; protect?: boolean }[];
    pending_operations?: { type: string; resource: { urn: string } }[];
}

const nameOf = (urn: string): string => urn.split("::").pop() ?? urn;

export interface FaultStack extends Pick<MigrationStack, "stack" | "backendFolder"> {
    /** Sets the phase (and keys kept for later calls, as in a stack file) and runs `pulumi up`. */
    up(phase: Phase, extra?: Record<string, unknown>, onEvent?: (event: EngineEvent) => void): Promise<UpResult>;
    /** What `up` would do at this phase: the steps the engine announces, and the preview's text (with --diff). */
    preview(phase: Phase, extra?: Record<string, unknown>): Promise<{ steps: PlannedStep[]; stdout: string }>;
    /** `up` killed (SIGKILL) once the step named `step` runs on its machine: see Kill. */
    upKilledAt(phase: Phase, step: string): Promise<Kill>;
    /** `pulumi cancel --yes`, as an operator runs it after a crash. */
    cancel(): Promise<CliResult>;
    /** The lock a kill left released as the README says: the empty sidecars removed first, then `pulumi cancel`, which must succeed. */
    cancelAfterKill(): Promise<void>;
    /** Any other `pulumi` command on the stack, as an operator types it (`--stack`, `--non-interactive`, `--color never` added). */
    cli(args: string[]): Promise<CliResult>;
    /** The operations the state says were started and not seen to finish. */
    pendingOperations(): Promise<{ type: string; name: string }[]>;
    /** The resources as the backend's file holds them: name and the options the engine records. */
    resources(): { name: string; retainOnDelete?: boolean; protect?: boolean }[];
    /** The backend's sidecar files (`*.attrs`) left empty: the stack cannot be read until they are removed. */
    emptySidecars(): string[];
    /** What `up` printed, all runs, in order. */
    output: string[];
    /** Removes the stack's state and backend, without running the undos: the test hosts go anyway. */
    remove(): Promise<void>;
}

/** The fault tests' stack on `hosts`, configured as `base` configures the test hosts (the 2019 layout's defaults unless given). */
export async function openFaultStack(hosts: TestHosts, stackName: string, base: HostsConfig = realStackConfigWithDefaultFolders): Promise<FaultStack> {
    const migration = await openMigrationStack(hosts, stackName, base);
    const { stack, backendFolder } = migration;
    const workspace = stack.workspace as LocalWorkspace;
    const output: string[] = [];
    let settings: Record<string, unknown> = {};
    const configure = async (phase: Phase, extra: Record<string, unknown>): Promise<void> => {
        settings = { ...settings, ...extra };
        await stack.setAllConfig(migrationConfig(hosts, phase, settings, base));
    };
    const cli = (args: string[]): Promise<CliResult> =>
        new Promise((resolve, reject) => {
            const child = spawn("pulumi", [...args, "--stack", stackName, "--non-interactive", "--color", "never"], {
                cwd: workspace.workDir,
                env: { ...process.env, ...workspace.envVars },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
            child.on("error", reject);
            child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        });
    /** A runner for the next killed up (killedUp.ts), started ahead: it loads its modules while the tests do something else, then waits for its job on stdin. */
    let standby: { child: ChildProcessWithoutNullStreams; done: Promise<CliResult> } | undefined;
    const startRunner = () => {
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "killedUp.ts")]);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
        const done = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr })));
        return { child, done };
    };
    // Read from the backend's file rather than through `pulumi stack export`: one engine start less per cycle.
    const readState = (): DeploymentState => {
        const file = path.join(backendFolder, ".pulumi", "stacks", projectName, `${stackName}.json`);
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { checkpoint: { latest?: DeploymentState } }).checkpoint.latest ?? {};
    };

    const self: FaultStack = {
        stack,
        backendFolder,
        output,
        async up(phase, extra = {}, onEvent) {
            await configure(phase, extra);
            return stack.up({ color: "never", onOutput: (text) => output.push(text), onEvent });
        },
        async preview(phase, extra = {}) {
            await configure(phase, extra);
            const steps: PlannedStep[] = [];
            const result = await stack.preview({
                color: "never",
                diff: true,
                onEvent: (event) => {
                    const metadata = event.resourcePreEvent?.metadata;
                    if (metadata === undefined || metadata.op === "same") return;
                    steps.push({ op: metadata.op, urn: metadata.urn, name: metadata.urn.split("::").pop() ?? metadata.urn });
                },
            });
            return { steps, stdout: result.stdout };
        },
        async upKilledAt(phase, step) {
            await configure(phase, {});
            const job: KilledUpJob = {
                workDir: workspace.workDir,
                stackName,
                envVars: workspace.envVars,
                step,
                machines: Object.values(hosts.hosts).map((host) => ({ name: host.name, commandLog: commandLog(host) })),
            };
            // Its own process, as an operator's `pulumi up` would be: see killedUp.ts. One waits ready, its modules loaded.
            const runner = standby ?? startRunner();
            standby = startRunner();
            runner.child.stdin.end(JSON.stringify(job));
            const { code, stdout, stderr } = await runner.done;
            output.push(stderr);
            const report = stdout.trim().split("\n").pop() ?? "";
            if (code !== 0 || !report.startsWith("{")) throw new Error(`the killed up's runner failed (exit ${code}):\n${stderr.slice(-4000)}`);
            return JSON.parse(report) as Kill;
        },
        cancel: () => cli(["cancel", "--yes"]),
        async cancelAfterKill() {
            for (const file of self.emptySidecars()) fs.rmSync(file);
            const cancel = await self.cancel();
            if (cancel.code !== 0) throw new Error(`pulumi cancel failed (exit ${cancel.code}): ${cancel.stderr}`);
        },
        cli,
        async pendingOperations() {
            return (readState().pending_operations ?? []).map((operation) => ({ type: operation.type, name: nameOf(operation.resource.urn) }));
        },
        resources() {
            return (readState().resources ?? []).map((resource) => ({
                name: nameOf(resource.urn),
                retainOnDelete: resource.retainOnDelete,
                protect: resource.protect,
            }));
        },
        emptySidecars() {
            const walk = (folder: string): string[] =>
                fs
                    .readdirSync(folder, { withFileTypes: true })
                    .flatMap((entry) => (entry.isDirectory() ? walk(path.join(folder, entry.name)) : [path.join(folder, entry.name)]));
            return walk(path.join(backendFolder, ".pulumi")).filter((file) => file.endsWith(".attrs") && fs.statSync(file).size === 0);
        },
        async remove() {
            standby?.child.kill("SIGKILL");
            try {
                await workspace.removeStack(stackName, { force: true }).catch(() => undefined);
            } finally {
                fs.rmSync(backendFolder, { recursive: true, force: true });
            }
        },
    };
    return self;
}

/** The engine's error lines from a failed run's message (the Automation API's error carries the whole output), indented for the test log. */
export function diagnostics(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const lines = text.split("\n");
    const start = lines.findIndex((line) => line.startsWith("Diagnostics:"));
    const end = lines.findIndex((line, index) => index > start && /^(Outputs|Resources):/.test(line));
    const block = start === -1 ? lines.filter((line) => line.includes("error")) : lines.slice(start + 1, end === -1 ? undefined : end);
    return block
        .filter((line) => line.trim() !== "")
        .map((line) => `      | ${line}`)
        .join("\n");
}
