import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Machine } from "../config";
import { OpensshCommand } from "./openssh/opensshCommand";
import { render } from "./templates";

/** How the program reaches machines, from the stack config `executor`, `operatorPrivateKey`, `useSshAgent`. */
export interface Transport {
    executor: "command" | "openssh";
    operatorPrivateKey?: pulumi.Output<string>;
    useSshAgent: boolean;
    /** Told of each step as it is declared: the machine it runs on and what it does, in words. */
    onStep?: (name: string, machine: string, description: pulumi.Output<string>) => void;
    /** A machine declared lost (config destLost): its steps leave the stack without running anything there. */
    lostMachine?: string;
    /** Names the folder on each machine where steps keep what they printed (`~/.pryv-migration/<migrationId>/outputs/`). */
    migrationId: string;
}

/** One step of the procedure on one machine, defined once whatever the executor. */
export interface StepDefinition {
    machine: Machine;
    /** bash scripts rendered from templates/; each opens with comment lines that say what it does. */
    create: pulumi.Input<string>;
    delete?: pulumi.Input<string>;
    /**
     * A step runs once: a later change to its script (a newer template, a changed setting)
     * is recorded, not run, since running a cutover step again under a serving dest could
     * undo what users did since. Steps that converge a machine to their inputs (a file's
     * content) set this to run again on every change.
     */
    rerun?: boolean;
    /** A change to any of these runs the step again (replacement). */
    triggers?: pulumi.Input<unknown>[];
    /** What the create or update script reads on its standard input: a file's content, reviewed as such. */
    stdin?: pulumi.Input<string>;
    /** The step prints something that must stay out of logs and state in clear. */
    secretOutput?: boolean;
    /** stdin holds secrets (a register's dns.json: admin keys, passwords): kept encrypted in the state, shown as [secret]. */
    secretStdin?: boolean;
}

/**
 * An undo recorded in the state before the step it undoes acts: created, it runs nothing
 * but an echo of what its undo will do; deleted (on rollback), it runs `undo`. So the
 * undo runs whatever a crash interrupts, and whether or not its step ran.
 */
export function undoRecord(machine: Machine, record: { why: string; message: pulumi.Input<string>; undo: pulumi.Input<string> }): StepDefinition {
    return {
        machine,
        create: pulumi.output(record.message).apply((message) => render("step-marker.sh", { comment: `Does nothing now: ${record.why}`, message })),
        delete: record.undo,
    };
}

export interface RemoteStep {
    resource: pulumi.CustomResource;
    stdout: pulumi.Output<string>;
}

const scriptEnd = "PRYV_MIGRATION_SCRIPT_END";

/**
 * Scripts run under bash whatever the user's login shell is, and stop at the first
 * error. The script travels verbatim in a quoted here-document, so the preview shows it
 * as written; `$(cat ...)` reads it whole first, so a command that reads its standard
 * input cannot swallow the rest of the script. --norc: a bash started by sshd reads
 * /etc/bash.bashrc and ~/.bashrc (Debian builds it so), where a banner would corrupt
 * the JSON a step prints and `set -u` makes Debian's own bashrc fail on PS1.
 */
export function wrapForBash(script: string, machine: StepMachine): string {
    if (script.split("\n").includes(scriptEnd)) throw new Error(`a script may not contain the line ${scriptEnd}`);
    return `${machineLine(machine)}\nbash --norc -euo pipefail -c "$(cat <<'${scriptEnd}'\n${script}\n${scriptEnd}\n)"`;
}

export function asBashCommand(script: pulumi.Input<string>, machine: StepMachine): pulumi.Output<string> {
    return pulumi.output(script).apply((text) => wrapForBash(text, machine));
}

function optionalCommand(script: pulumi.Input<string> | undefined, machine: StepMachine): pulumi.Output<string> | undefined {
    return script === undefined ? undefined : asBashCommand(script, machine);
}

/** What names a step's machine: its role and how it is reached. */
export type StepMachine = Pick<Machine, "role" | "user" | "host" | "port">;

/**
 * Every command opens with a comment naming its machine, which its login shell skips: the
 * command executor keeps the whole connection secret (it holds the operator key), so the
 * preview's inputs name no host, and the review reads the machine from this line instead.
 */
const machineLine = (machine: StepMachine): string => `# machine: ${machine.role} ${machine.user}@${machine.host}:${machine.port}`;
const machineLinePattern = /^# machine: (\S+) (\S+)@(\S+):(\d+)\n/;

/** The machine a step's command names in its first line (undefined: a command without one, as versions before it wrote). */
export function commandMachine(command: string): StepMachine | undefined {
    const line = machineLinePattern.exec(command);
    return line === null ? undefined : { role: line[1], user: line[2], host: line[3], port: Number(line[4]) };
}

/**
 * Both executors run `update` (when set) instead of `create` on a change: for a step that
 * runs once, it runs nothing and prints what the step printed when it ran, kept on its
 * machine, so that every output computed from it keeps its value.
 */
const ranOnce = (step: string, migrationId: string): string =>
    render("step-ran-once.sh", { step, migrationId, missing: `${step}: its kept output is gone from this machine; outputs computed from it are left out` });

/** The script of a step that runs once, made to keep what it prints on its machine; its opening comment stays first. */
export function keepingOutput(script: string, step: string, migrationId: string): string {
    const lines = script.split("\n");
    const split = openingLines(lines);
    return render("step-output-kept.sh", { opening: lines.slice(0, split).join("\n"), body: lines.slice(split).join("\n"), step, migrationId });
}

// Without the machine line or --norc: as versions before them wrapped the steps a live stack's state still holds.
const bashWrapper = /^(?:# machine: .*\n)?bash (?:--norc )?-euo pipefail -c "\$\(cat <<'PRYV_MIGRATION_SCRIPT_END'\n([\s\S]*)\nPRYV_MIGRATION_SCRIPT_END\n\)"$/;
const keptOutputWrapper = /^((?:#.*\n)*)\n?kept_output=.*\n[\s\S]*?\n\(\n {2}set -e\n([\s\S]*)\n\) >"\$kept_output\.partial"\n[\s\S]*$/;

/** The script of a step as its component wrote it, from the command an executor runs (undefined: not a step's command). */
export function stepScript(command: string): string | undefined {
    const wrapped = bashWrapper.exec(command);
    if (wrapped === null) return undefined;
    const kept = keptOutputWrapper.exec(wrapped[1]);
    return kept === null ? wrapped[1] : `${kept[1]}${kept[2]}`;
}

/** How many lines open a script as comments: what it does, in words. */
function openingLines(lines: string[]): number {
    const firstCommand = lines.findIndex((line) => !line.startsWith("#"));
    return firstCommand === -1 ? lines.length : firstCommand;
}

/**
 * A script that stops, starts or restarts a machine's services says so in an opening line
 * of its own, `# services: <what>`, which the review lists per machine before anything else.
 */
const servicesLinePattern = /^# services: (.+)$/m;

/** What a script does to its machine's services, in words (undefined: nothing). */
export function scriptServices(script: string): string | undefined {
    return servicesLinePattern.exec(script)?.[1];
}

/** The opening comment lines of a script: what it does, in words (its services line aside). */
export function describeScript(script: string): string {
    const lines = script.split("\n");
    const opening = lines.slice(0, openingLines(lines)).filter((line) => !servicesLinePattern.test(line));
    return opening
        .map((line) => line.replace(/^#\s?/, ""))
        .join(" ")
        .trim();
}

export function declareStep(name: string, step: StepDefinition, transport: Transport, opts: pulumi.CustomResourceOptions): RemoteStep {
    const { machine } = step;
    transport.onStep?.(name, machine.role, pulumi.output(step.create).apply(describeScript));
    const runsOnce = step.rerun !== true;
    const scripts = {
        create: runsOnce
            ? asBashCommand(
                  pulumi.output(step.create).apply((script) => keepingOutput(script, name, transport.migrationId)),
                  machine,
              )
            : asBashCommand(step.create, machine),
        update: runsOnce ? asBashCommand(ranOnce(name, transport.migrationId), machine) : undefined,
        delete: optionalCommand(step.delete, machine),
    };
    // The engine forgets the steps of a lost machine without calling the provider: nothing can reach it.
    const options = { ...opts, retainOnDelete: opts.retainOnDelete ?? (machine.role === transport.lostMachine ? true : undefined) };
    const secretOutputs = [...(step.secretOutput ? ["stdout", "stderr"] : []), ...(step.secretStdin ? ["stdin"] : [])];
    const stdin = step.secretStdin && step.stdin !== undefined ? pulumi.secret(step.stdin) : step.stdin;
    // Standard error shows live on the step (a round's progress); a secret step's shows nothing.
    const liveStderr = step.secretOutput !== true;
    if (transport.executor === "command") {
        const resource = new command.remote.Command(
            name,
            {
                connection: {
                    host: machine.host,
                    port: machine.port,
                    user: machine.user,
                    hostKey: machine.hostKey,
                    privateKey: transport.operatorPrivateKey,
                    agentSocketPath: transport.useSshAgent ? process.env.SSH_AUTH_SOCK : undefined,
                },
                ...scripts,
                stdin,
                triggers: step.triggers,
                logging: liveStderr ? command.types.enums.remote.Logging.Stderr : command.types.enums.remote.Logging.None,
                // On by default, it sends PULUMI_COMMAND_STDOUT/STDERR as environment, which a stock sshd refuses with a warning.
                addPreviousOutputInEnv: false,
            },
            { ...options, additionalSecretOutputs: secretOutputs },
        );
        return { resource, stdout: resource.stdout };
    }
    const resource = new OpensshCommand(
        name,
        {
            connection: { host: machine.host, port: machine.port, user: machine.user, hostKey: machine.hostKey, privateKey: transport.operatorPrivateKey },
            ...scripts,
            stdin,
            triggers: step.triggers,
            logging: liveStderr ? "stderr" : "none",
        },
        { ...options, additionalSecretOutputs: [...secretOutputs, ...(transport.operatorPrivateKey ? ["connection"] : [])] },
    );
    return { resource, stdout: resource.stdout };
}

/** Steps print one JSON object per line; the program reads them back into outputs. */
export function jsonLines<T>(stdout: string): T[] {
    return stdout
        .split("\n")
        .filter((line) => line.trim().startsWith("{"))
        .map((line) => JSON.parse(line) as T);
}
