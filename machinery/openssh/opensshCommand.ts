import * as pulumi from "@pulumi/pulumi";
import { logOnResource } from "./engineLog";
import { runOverSsh, SshConnection } from "./sshClient";

/** What the provider stores: the inputs, plus what the last create or update printed. */
interface CommandState {
    connection: SshConnection;
    create: string;
    update?: string;
    delete?: string;
    triggers?: unknown[];
    /** What the create or update script reads on its standard input (a file's content). */
    stdin?: string;
    /** The step's URN, on which its standard error shows live; absent for a step whose output is secret. */
    logUrn?: string;
    stdout: string;
    stderr: string;
}

type CommandInputs = Omit<CommandState, "stdout" | "stderr">;

/** What a run shows of the command's standard error while it runs, and where. */
const liveStderr = (inputs: CommandInputs): ((line: string) => void) | undefined => {
    const urn = inputs.logUrn;
    return urn === undefined ? undefined : (line) => logOnResource(urn, line);
};

const same = (left: unknown, right: unknown): boolean => JSON.stringify(left ?? null) === JSON.stringify(right ?? null);

// remote.Command's semantics: a changed trigger replaces (create the new, then delete the
// old); a changed create/update script or stdin runs `update`, or `create` when there is
// none; a changed connection or delete script is recorded without running anything (nor is
// a changed logUrn: where the output shows is no reason to run a step again).
export const opensshCommandProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: CommandState, news: CommandInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = same(olds.triggers, news.triggers) ? [] : ["triggers"];
        const changed = (["connection", "create", "update", "delete", "triggers", "stdin"] as const).filter((key) => !same(olds[key], news[key]));
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
    },
    async create(inputs: CommandInputs): Promise<pulumi.dynamic.CreateResult> {
        const result = await runOverSsh(inputs.connection, inputs.create, inputs.stdin, liveStderr(inputs));
        const id = `${inputs.connection.host}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        return { id, outs: { ...inputs, ...result } };
    },
    async update(_id: string, olds: CommandState, news: CommandInputs): Promise<pulumi.dynamic.UpdateResult> {
        const scriptChanged = !same(olds.create, news.create) || !same(olds.update, news.update) || !same(olds.stdin, news.stdin);
        const result = scriptChanged
            ? await runOverSsh(news.connection, news.update ?? news.create, news.stdin, liveStderr(news))
            : { stdout: olds.stdout, stderr: olds.stderr };
        return { outs: { ...news, ...result } };
    },
    async delete(_id: string, olds: CommandState): Promise<void> {
        if (olds.delete !== undefined) await runOverSsh(olds.connection, olds.delete, undefined, liveStderr(olds));
    },
};

export interface OpensshCommandArgs {
    connection: pulumi.Input<{ host: string; port: number; user: string; hostKey: string; privateKey?: pulumi.Input<string> }>;
    create: pulumi.Input<string>;
    update?: pulumi.Input<string>;
    delete?: pulumi.Input<string>;
    triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
    stdin?: pulumi.Input<string>;
    /** As remote.Command's: `stderr` shows the command's standard error live on the step. */
    logging?: "stderr" | "none";
}

const opensshCommandModule = "pryv-migration";
const opensshCommandType = "OpensshCommand";

/** A command run over the system OpenSSH client: the `openssh` executor's counterpart of remote.Command. */
export class OpensshCommand extends pulumi.dynamic.Resource {
    public readonly stdout!: pulumi.Output<string>;
    public readonly stderr!: pulumi.Output<string>;

    constructor(name: string, args: OpensshCommandArgs, opts?: pulumi.CustomResourceOptions) {
        const { logging, ...inputs } = args;
        // The provider is handed its resource's URN, which pulumi.dynamic gives it no other way;
        // as its value only: an Output of the parent's URN would make the step depend on its
        // own parent, whose dependents wait for its children, this step among them (a deadlock).
        const urn = pulumi.createUrn(name, `pulumi-nodejs:dynamic/${opensshCommandModule}:${opensshCommandType}`, opts?.parent);
        const logUrn = logging === "stderr" ? new Promise<string>((resolve) => urn.apply(resolve)) : undefined;
        super(opensshCommandProvider, name, { ...inputs, logUrn, stdout: undefined, stderr: undefined }, opts, opensshCommandModule, opensshCommandType);
    }
}
