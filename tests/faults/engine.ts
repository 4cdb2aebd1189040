// The engine as the fault tests drive it: the migration stack of tests/integration with
// the engine's events, `pulumi cancel` run as an operator runs it, the state's pending
// operations, and the engine killed with SIGKILL while a chosen step runs on its machine.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, EngineEvent, LocalWorkspace, StepEventMetadata, UpResult } from "@pulumi/pulumi/automation";
import { Phase } from "../../components/config";
import { projectName } from "../../components/stackConfig";
import { TestHost, TestHosts } from "../hosts";
import { commandLog, commandsSince, logSize } from "../hosts/faults";
import { sleep } from "../hosts/shell";
import { MigrationStack, openMigrationStack } from "../integration/migrationStack";
import { testHostsConfig } from "../integration/stackConfig";

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

/** How the engine died while a step ran. */
export interface Kill {
    step: string;
    /** The machine where the step's command was seen running when the engine was killed; undefined if it was killed without seeing it. */
    commandRunningOn?: string;
    /** From the step's announcement to the kill. */
    afterMs: number;
    /** The up finished before the step was announced (nothing was killed). */
    notReached: boolean;
    /** What the engine's processes left running (the dynamic provider and its ssh) and how long they went on. */
    leftRunning: string[];
    leftRunningMs: number;
}

interface ProcessInfo {
    pid: number;
    ppid: number;
    startTime: string;
    argv: string[];
}

function processes(): ProcessInfo[] {
    return fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .flatMap((entry) => {
            try {
                const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
                const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                if (fields[0] === "Z") return [];
                const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
                return [{ pid: Number(entry), ppid: Number(fields[1]), startTime: fields[19], argv }];
            } catch {
                return []; // ended meanwhile
            }
        });
}

function descendants(all: ProcessInfo[], roots: number[]): ProcessInfo[] {
    const found: ProcessInfo[] = [];
    const queue = [...roots];
    while (queue.length > 0) {
        const parent = queue.shift();
        for (const child of all.filter((p) => p.ppid === parent)) {
            found.push(child);
            queue.push(child.pid);
        }
    }
    return found;
}

const alive = (p: ProcessInfo): boolean => processes().some((q) => q.pid === p.pid && q.startTime === p.startTime);
/** An ssh client still carrying a command; the multiplexing master (ControlPersist) is shared with later runs and left alone. */
const carriesCommand = (p: ProcessInfo): boolean => path.basename(p.argv[0] ?? "") === "ssh" && !p.argv.join(" ").includes("[mux]");

/** The `pulumi` CLI this process started for `up` (the Automation API runs it as a child). */
function engineProcess(): ProcessInfo | undefined {
    return processes().find((p) => p.ppid === process.pid && path.basename(p.argv[0] ?? "") === "pulumi" && p.argv.includes("up"));
}

/** The lines of a step's script that name it: its opening comment and first command, after the here-document header. */
function scriptNeedle(metadata: StepEventMetadata): string | undefined {
    const create: unknown = metadata.new?.inputs?.create;
    if (typeof create !== "string") return undefined;
    return create.split("\n").slice(1, 3).join("\n");
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

export async function openFaultStack(hosts: TestHosts, stackName: string): Promise<FaultStack> {
    const migration = await openMigrationStack(hosts, stackName);
    const { stack, backendFolder } = migration;
    const workspace = stack.workspace as LocalWorkspace;
    const output: string[] = [];
    let settings: Record<string, unknown> = {};
    const configure = async (phase: Phase, extra: Record<string, unknown>): Promise<void> => {
        settings = { ...settings, ...extra };
        const values: Record<string, unknown> = { phase, ...testHostsConfig(hosts), ...settings };
        const config: ConfigMap = Object.fromEntries(
            Object.entries(values).map(([key, value]) => [key, { value: typeof value === "string" ? value : JSON.stringify(value) }]),
        );
        config.operatorPrivateKey = { value: hosts.operatorPrivateKey, secret: true };
        await stack.setAllConfig(config);
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
    const watched: TestHost[] = Object.values(hosts.hosts);
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
            let announced: Promise<Kill> | undefined;
            const killWhenRunning = async (metadata: StepEventMetadata): Promise<Kill> => {
                const started = Date.now();
                const offsets = new Map(watched.map((host) => [host, logSize(commandLog(host))]));
                const needle = scriptNeedle(metadata);
                let runningOn: string | undefined;
                // The step's command is on its machine once that machine's sshd has logged it; give up waiting after a while and kill anyway.
                while (needle !== undefined && runningOn === undefined && Date.now() - started < 10_000) {
                    runningOn = watched.find((host) => commandsSince(host, offsets.get(host) ?? 0).some((command) => command.includes(needle)))?.name;
                    if (runningOn === undefined) await sleep(5);
                }
                const engine = engineProcess();
                if (engine === undefined) throw new Error(`${step}: no pulumi process to kill`);
                const left = descendants(processes(), [engine.pid]);
                process.kill(engine.pid, "SIGKILL");
                const afterMs = Date.now() - started;
                // The dynamic provider outlives the engine and finishes the commands it had started: wait for them, as an operator would notice the crash only afterwards.
                const waitStart = Date.now();
                const providers = () => left.filter((p) => !carriesCommand(p) && alive(p));
                while (Date.now() - waitStart < 120_000 && descendants(processes(), [...providers().map((p) => p.pid), engine.pid]).some(carriesCommand)) {
                    await sleep(50);
                }
                const leftRunningMs = Date.now() - waitStart;
                for (const p of providers()) process.kill(p.pid, "SIGKILL");
                return {
                    step,
                    commandRunningOn: runningOn,
                    afterMs,
                    notReached: false,
                    leftRunning: left.map((p) => p.argv.slice(0, 2).join(" ")),
                    leftRunningMs,
                };
            };
            await configure(phase, {});
            const finished = await stack
                .up({
                    color: "never",
                    onOutput: (text) => output.push(text),
                    onEvent: (event) => {
                        const metadata = event.resourcePreEvent?.metadata;
                        if (metadata === undefined || announced !== undefined || !metadata.urn.endsWith(`::${step}`)) return;
                        announced = killWhenRunning(metadata);
                    },
                })
                .then(
                    () => true,
                    () => false,
                );
            if (announced === undefined) {
                return { step, afterMs: 0, notReached: true, leftRunning: [], leftRunningMs: 0 };
            }
            const kill = await announced;
            if (finished) throw new Error(`${step}: the engine finished its update although it was killed`);
            return kill;
        },
        cancel: () => cli(["cancel", "--yes"]),
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
