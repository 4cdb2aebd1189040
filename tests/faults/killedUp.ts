// Runs `pulumi up` on the fault tests' stack and kills the engine (SIGKILL) once a given
// step's command runs on its machine; prints what it saw as JSON on its last line.
//
// A process of its own, as an operator's: the Automation API runs an inline program in
// the process that calls `up`, and a program whose engine was killed never finishes. Left
// in the test process, it would stay attached to the Pulumi runtime's process-wide
// settings while the next run's program uses them. Here it dies with this process.
//
// Input (stdin, JSON, read to its end): KilledUpJob. The stack's config is already set in workDir.
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, StepEventMetadata } from "@pulumi/pulumi/automation";
import { CoreMigration } from "../../components/coreMigration";
import { projectName, readStackConfig } from "../../components/stackConfig";
import { commandsSince, logSize } from "../../testbed/faults";

export interface KilledUpJob {
    /** The workspace folder of the stack the tests drive (its project and stack settings, its config). */
    workDir: string;
    stackName: string;
    envVars: Record<string, string>;
    /** The step to kill the engine at: a resource name, the last part of its URN. */
    step: string;
    /** The machines whose sshd logs the commands it runs (testbed command logs). */
    machines: { name: string; commandLog: string }[];
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
    /** What the engine left running (the dynamic provider and its ssh) and how long it went on. */
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
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The lines of the script a step runs that name it: its opening comment and first command,
 * after the here-document header. A rollback deletes: then the script is the undo.
 */
function scriptNeedle(metadata: StepEventMetadata): string | undefined {
    const deleting = metadata.op === "delete" || metadata.op === "delete-replaced";
    const script: unknown = deleting ? metadata.old?.inputs?.delete : metadata.new?.inputs?.create;
    if (typeof script !== "string") return undefined;
    return script.split("\n").slice(1, 3).join("\n");
}

async function killWhenRunning(job: KilledUpJob, metadata: StepEventMetadata): Promise<Kill> {
    const started = Date.now();
    const offsets = new Map(job.machines.map((machine) => [machine.name, logSize(machine.commandLog)]));
    const needle = scriptNeedle(metadata);
    let runningOn: string | undefined;
    // The step's command is on its machine once that machine's sshd has logged it; after a while, kill anyway.
    while (needle !== undefined && runningOn === undefined && Date.now() - started < 10_000) {
        runningOn = job.machines.find((machine) => commandsSince(machine.commandLog, offsets.get(machine.name) ?? 0).some((c) => c.includes(needle)))?.name;
        if (runningOn === undefined) await sleep(5);
    }
    const engine = processes().find((p) => p.ppid === process.pid && path.basename(p.argv[0] ?? "") === "pulumi" && p.argv.includes("up"));
    if (engine === undefined) throw new Error(`${job.step}: no pulumi process to kill`);
    const left = descendants(processes(), [engine.pid]);
    process.kill(engine.pid, "SIGKILL");
    const afterMs = Date.now() - started;
    // The dynamic provider outlives the engine and finishes the commands it had started: wait for them, as an operator notices the crash only afterwards.
    const waitStart = Date.now();
    const providers = () => left.filter((p) => !carriesCommand(p) && alive(p));
    while (Date.now() - waitStart < 120_000 && descendants(processes(), [...providers().map((p) => p.pid), engine.pid]).some(carriesCommand)) {
        await sleep(50);
    }
    const leftRunningMs = Date.now() - waitStart;
    for (const p of providers()) process.kill(p.pid, "SIGKILL");
    return {
        step: job.step,
        commandRunningOn: runningOn,
        afterMs,
        notReached: false,
        leftRunning: left.map((p) => p.argv.slice(0, 2).join(" ")),
        leftRunningMs,
    };
}

async function main(): Promise<void> {
    // Started ahead of its job: stdin is a pipe that stays empty until the tests write the job and close it.
    const input = await new Promise<string>((resolve, reject) => {
        let text = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (chunk: string) => (text += chunk));
        process.stdin.on("end", () => resolve(text));
        process.stdin.on("error", reject);
    });
    const job = JSON.parse(input) as KilledUpJob;
    const stack = await LocalWorkspace.selectStack(
        { stackName: job.stackName, projectName, program: async () => new CoreMigration("pryv", readStackConfig()).outputs },
        { workDir: job.workDir, envVars: job.envVars },
    );
    let announced: Promise<Kill> | undefined;
    const finished = await stack
        .up({
            color: "never",
            onOutput: (text) => process.stderr.write(text),
            onEvent: (event) => {
                const metadata = event.resourcePreEvent?.metadata;
                if (metadata === undefined || announced !== undefined || !metadata.urn.endsWith(`::${job.step}`)) return;
                announced = killWhenRunning(job, metadata);
            },
        })
        .then(
            () => true,
            () => false,
        );
    const kill: Kill = announced === undefined ? { step: job.step, afterMs: 0, notReached: true, leftRunning: [], leftRunningMs: 0 } : await announced;
    if (finished && !kill.notReached) throw new Error(`${job.step}: the engine finished its update although it was killed`);
    process.stdout.write(`\n${JSON.stringify(kill)}\n`);
    // The program of the killed update never finishes: it goes with this process.
    process.exit(0);
}

main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
});
