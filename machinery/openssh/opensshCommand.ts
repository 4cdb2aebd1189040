import * as pulumi from "@pulumi/pulumi";
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
    stdout: string;
    stderr: string;
}

type CommandInputs = Omit<CommandState, "stdout" | "stderr">;

const same = (left: unknown, right: unknown): boolean => JSON.stringify(left ?? null) === JSON.stringify(right ?? null);

// remote.Command's semantics: a changed trigger replaces (create the new, then delete the
// old); a changed create/update script or stdin runs `update`, or `create` when there is
// none; a changed connection or delete script is recorded without running anything.
export const opensshCommandProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: CommandState, news: CommandInputs): Promise<pulumi.dynamic.DiffResult> {
        const replaces = same(olds.triggers, news.triggers) ? [] : ["triggers"];
        const changed = (["connection", "create", "update", "delete", "triggers", "stdin"] as const).filter((key) => !same(olds[key], news[key]));
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
    },
    async create(inputs: CommandInputs): Promise<pulumi.dynamic.CreateResult> {
        const result = await runOverSsh(inputs.connection, inputs.create, inputs.stdin);
        const id = `${inputs.connection.host}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
        return { id, outs: { ...inputs, ...result } };
    },
    async update(_id: string, olds: CommandState, news: CommandInputs): Promise<pulumi.dynamic.UpdateResult> {
        const scriptChanged = !same(olds.create, news.create) || !same(olds.update, news.update) || !same(olds.stdin, news.stdin);
        const result = scriptChanged ? await runOverSsh(news.connection, news.update ?? news.create, news.stdin) : { stdout: olds.stdout, stderr: olds.stderr };
        return { outs: { ...news, ...result } };
    },
    async delete(_id: string, olds: CommandState): Promise<void> {
        if (olds.delete !== undefined) await runOverSsh(olds.connection, olds.delete);
    },
};

export interface OpensshCommandArgs {
    connection: pulumi.Input<{ host: string; port: number; user: string; hostKey: string; privateKey?: pulumi.Input<string> }>;
    create: pulumi.Input<string>;
    update?: pulumi.Input<string>;
    delete?: pulumi.Input<string>;
    triggers?: pulumi.Input<pulumi.Input<unknown>[]>;
    stdin?: pulumi.Input<string>;
}

/** A command run over the system OpenSSH client: the `openssh` executor's counterpart of remote.Command. */
export class OpensshCommand extends pulumi.dynamic.Resource {
    public readonly stdout!: pulumi.Output<string>;
    public readonly stderr!: pulumi.Output<string>;

    constructor(name: string, args: OpensshCommandArgs, opts?: pulumi.CustomResourceOptions) {
        super(opensshCommandProvider, name, { ...args, stdout: undefined, stderr: undefined }, opts, "pryv-migration", "OpensshCommand");
    }
}
