import { strict as assert } from "assert";
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    asBashCommand,
    commandMachine,
    declareStep,
    describeScript,
    scriptServices,
    jsonLines,
    keepingOutput,
    RemoteStep,
    StepDefinition,
    stepScript,
    Transport,
    undoRecord,
    wrapForBash,
} from "./remoteStep";
import { render } from "./templates";
import { build, executors, machines, operatorKey, promiseOf, ranOnce, Recorded, scriptOf, sourceHostKey, StandIn, stepType, transportFor } from "../testing";

class Holder extends pulumi.ComponentResource {
    public step: RemoteStep;
    constructor(make: (parent: pulumi.Resource) => RemoteStep, opts: pulumi.ComponentResourceOptions) {
        super("test:unit:Holder", "holder", {}, opts);
        this.step = make(this);
        this.registerOutputs({});
    }
}

/** Declares one step under a component and returns what the engine got, and the step's stdout. */
async function declareOne(step: StepDefinition, transport: Transport): Promise<{ resource: Recorded; stdout: string }> {
    const { component, resources } = await build(
        (opts) => new Holder((parent) => declareStep("holder-step", step, transport, { parent }), opts),
        (name) => (name === "holder-step" ? { stdout: '{"done":1}\n' } : {}),
    );
    return { resource: resources.get("holder-step")!, stdout: await promiseOf(component.step.stdout) };
}

const describedScript =
    "# Stops every service on this machine\n# (nothing runs under the files a sync writes).\n#\n'stop-containers'\n# not the opening any more\n";

describe("undoRecord", () => {
    it("runs nothing but an echo when created, says so first, and holds the undo as its delete", async () => {
        const {
            machine,
            create,
            delete: undo,
        } = undoRecord(machines().source, {
            why: "recorded before dest starts.",
            message: pulumi.output("on rollback, dest is stopped"),
            undo: "'/var/pryv/stop-containers'",
        });
        assert.equal(machine.role, "source");
        assert.equal(await promiseOf(pulumi.output(create)), "# Does nothing now: recorded before dest starts.\necho 'on rollback, dest is stopped'\n");
        assert.equal(undo, "'/var/pryv/stop-containers'");
    });
});

const onSource = machines().source;

describe("wrapForBash", () => {
    it("wraps every script, verbatim, for bash with errexit, nounset and pipefail, whatever the login shell", async () => {
        const script = `echo "$0 'hi'" "$(cat)"\nfalse\necho never`;
        const command = await promiseOf(asBashCommand(script, onSource));
        assert.equal(
            command,
            `# machine: source root@10.0.0.11:22\nbash --norc -euo pipefail -c "$(cat <<'PRYV_MIGRATION_SCRIPT_END'\n${script}\nPRYV_MIGRATION_SCRIPT_END\n)"`,
        );
        for (const loginShell of ["sh", "bash"]) {
            const ran: SpawnSyncReturns<string> = spawnSync(loginShell, ["-c", command], { input: "from stdin", encoding: "utf8" });
            assert.deepEqual([ran.status, ran.stdout, ran.stderr], [1, "bash 'hi' from stdin\n", ""], loginShell);
        }
    });

    it("names the step's machine in a first line the review reads back, an IPv6 address included", () => {
        assert.deepEqual(commandMachine(wrapForBash("echo", onSource)), { role: "source", user: "root", host: "10.0.0.11", port: 22 });
        const register = { role: "reg-master", user: "pryv", host: "fd00::7", port: 2222 };
        assert.deepEqual(commandMachine(wrapForBash("echo", register)), register);
        // As versions before the line wrapped the steps a live stack's state holds.
        assert.equal(commandMachine(wrapForBash("echo", onSource).replace(/^.*\n/, "")), undefined);
    });

    it("reads no bashrc under the login shell sshd starts (Debian's bash reads /etc/bash.bashrc there, which fails on PS1 under set -u)", async () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "pryvmig-bashrc-"));
        try {
            const command = await promiseOf(asBashCommand("printf '{\"ok\":true}\\n'", onSource));
            // As sshd runs a command: the login shell's `bash -c`, SSH_CLIENT set, at the top level.
            const login = (wrapped: string) =>
                spawnSync("bash", ["-c", wrapped], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: home, SSH_CLIENT: "10.0.0.1 50000 22" } });
            const run = login(command);
            assert.deepEqual([run.status, run.stdout, run.stderr], [0, '{"ok":true}\n', ""]);
            // What the flag prevents, on Debian: the same script without it.
            assert.match(login(command.replace("bash --norc ", "bash ")).stderr, /bash\.bashrc: line \d+: PS1: unbound variable/);
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });

    it("refuses a script holding the here-document's end line", () => {
        assert.throws(() => wrapForBash("a\nPRYV_MIGRATION_SCRIPT_END\nb", onSource), /may not contain the line PRYV_MIGRATION_SCRIPT_END/);
    });
});

describe("describeScript", () => {
    it("joins the opening comment lines, without their '#', up to the first command", () => {
        assert.equal(describeScript(describedScript), "Stops every service on this machine (nothing runs under the files a sync writes).");
    });

    it("leaves out the line that says what the script does to the machine's services, which scriptServices reads", () => {
        const script = "# Stops every service.\n# services: stops every service\n'/srv/pryv/stop-containers'";
        assert.equal(describeScript(script), "Stops every service.");
        assert.equal(scriptServices(wrapForBash(script, onSource)), "stops every service");
        assert.equal(scriptServices(wrapForBash("# Reads a file.\ncat f", onSource)), undefined);
    });

    it("reads a '#' without a space, a script that is only comments, and a script without any", () => {
        assert.equal(describeScript("#Reads a file.\necho"), "Reads a file.");
        assert.equal(describeScript("# Does nothing now.\n# Really."), "Does nothing now. Really.");
        assert.equal(describeScript("echo\n# later"), "");
        assert.equal(describeScript(""), "");
    });
});

describe("a step that runs once, on a machine", () => {
    let home: string;
    beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), "pryv-step-"))));
    afterEach(() => fs.rmSync(home, { recursive: true, force: true }));
    const runScript = (script: string, input = "") =>
        spawnSync("sh", ["-c", wrapForBash(script, onSource)], { input, encoding: "utf8", env: { ...process.env, HOME: home } });
    const kept = () => fs.readFileSync(path.join(home, ".pryv-migration", "m1", "outputs", "s1"), "utf8");

    it("prints what its script prints, keeps it, and its no-op update prints it again", () => {
        const first = runScript(keepingOutput('# Prints a record.\necho "{\\"n\\":$(cat)}"\nexit 0\necho never', "s1", "m1"), "7");
        assert.deepEqual([first.status, first.stdout], [0, '{"n":7}\n']);
        assert.equal(kept(), '{"n":7}\n');
        const again = runScript(render("step-ran-once.sh", { step: "s1", migrationId: "m1", missing: "gone" }));
        assert.deepEqual([again.status, again.stdout, again.stderr], [0, '{"n":7}\n', ""]);
    });

    it("fails as its script fails, at the failing command, with what it printed, and keeps nothing", () => {
        const failed = runScript(keepingOutput("echo partial\nfalse\necho never", "s1", "m1"));
        assert.deepEqual([failed.status, failed.stdout], [1, "partial\n"]);
        assert.throws(kept, /ENOENT/);
        const again = runScript(render("step-ran-once.sh", { step: "s1", migrationId: "m1", missing: "s1: gone" }));
        assert.deepEqual([again.status, again.stdout, again.stderr], [0, "", "s1: gone\n"]);
    });

    it("keeps nounset and pipefail inside, and a here-document of the script intact", () => {
        assert.equal(runScript(keepingOutput("echo $undefined_variable", "s1", "m1")).status, 1);
        assert.equal(runScript(keepingOutput("false | true\necho never", "s1", "m1")).stdout, "");
        assert.equal(runScript(keepingOutput("cat <<'END'\n  a\nEND", "s1", "m1")).stdout, "  a\n");
    });

    it("gives back the script as written from the command an executor runs", () => {
        for (const script of ["# Opens.\n# Twice.\necho a\n", "echo a", "# Only comments.\n", '(\n  set -e\n) >"$kept_output.partial"\n']) {
            assert.equal(stepScript(wrapForBash(keepingOutput(script, "s1", "m1"), onSource)), script);
            assert.equal(stepScript(wrapForBash(script, onSource)), script);
            assert.equal(stepScript(wrapForBash(script, onSource).replace(/^.*\n/, "")), script);
        }
        assert.equal(stepScript("echo as is"), undefined);
    });
});

describe("jsonLines", () => {
    it("reads the lines that are JSON objects and skips the others", () => {
        assert.deepEqual(jsonLines('rsync: noise\n{"a":1}\n  {"b":[2]}\n\n'), [{ a: 1 }, { b: [2] }]);
    });
});

for (const executor of executors) {
    describe(`declareStep (${executor} executor)`, () => {
        it("declares the step with the machine's pinned host key and the secret operator key", async () => {
            const { resource } = await declareOne({ machine: machines().source, create: "a" }, transportFor(executor));
            assert.equal(resource.type, stepType[executor]);
            assert.equal(resource.parent, "holder");
            assert.deepEqual(
                resource.inputs.connection,
                executor === "command"
                    ? { host: "10.0.0.11", port: 22, user: "root", hostKey: sourceHostKey, privateKey: operatorKey, dialErrorLimit: 10, perDialTimeout: 15 }
                    : { host: "10.0.0.11", port: 22, user: "root", hostKey: sourceHostKey, privateKey: operatorKey },
            );
            assert.deepEqual(resource.secretInputs, ["connection"]);
            assert.deepEqual(resource.additionalSecretOutputs, ["connection"]);
        });

        it("passes every script wrapped for bash, the triggers and stdin", async () => {
            const { resource, stdout } = await declareOne(
                { machine: machines().dest, create: "a", delete: "c", triggers: [3, "x"], stdin: "file content\nwith 'quotes' $(not run)\n", rerun: true },
                transportFor(executor),
            );
            assert.deepEqual([scriptOf(resource.inputs.create), resource.inputs.update, scriptOf(resource.inputs.delete)], ["a", undefined, "c"]);
            assert.deepEqual(resource.inputs.triggers, [3, "x"]);
            assert.equal(resource.inputs.stdin, "file content\nwith 'quotes' $(not run)\n");
            assert.equal(stdout, '{"done":1}\n');
        });

        it("leaves out what the step does not have: no delete, triggers or stdin", async () => {
            const { resource } = await declareOne({ machine: machines().dest, create: "a" }, transportFor(executor));
            for (const key of ["delete", "triggers", "stdin"]) assert.equal(resource.inputs[key], undefined, key);
        });

        it("runs a step once: its create keeps what it prints on its machine, its update runs nothing and prints that again", async () => {
            const { resource } = await declareOne({ machine: machines().dest, create: "# Prints.\necho hi" }, transportFor(executor));
            const create = String(resource.inputs.create);
            assert.equal(scriptOf(create), "# Prints.\necho hi");
            assert.match(stepScript(create) === undefined ? "" : create, /kept_output="\$HOME"\/\.pryv-migration\/'unit'\/outputs\/'holder-step'\n/);
            assert.equal(scriptOf(resource.inputs.update), ranOnce("holder-step"));
            assert.equal(resource.retainOnDelete, false);
        });

        it("runs a step that converges on every change with its script as it is, and no update", async () => {
            const { resource } = await declareOne({ machine: machines().dest, create: "# Writes.\ncat > f", rerun: true }, transportFor(executor));
            assert.equal(resource.inputs.create, wrapForBash("# Writes.\ncat > f", machines().dest));
            assert.equal(resource.inputs.update, undefined);
        });

        it("leaves the steps of a machine declared lost to the engine to forget, without running their undo", async () => {
            const lost = await declareOne({ machine: machines().dest, create: "a", delete: "b" }, transportFor(executor, "dest"));
            assert.equal(lost.resource.retainOnDelete, true);
            const other = await declareOne({ machine: machines().source, create: "a", delete: "b" }, transportFor(executor, "dest"));
            assert.equal(other.resource.retainOnDelete, false);
        });

        it("keeps the component's options: parent, dependencies, protect, ignoreChanges", async () => {
            const { resources } = await build(
                (opts) => {
                    const earlier = new StandIn("earlier", opts);
                    return new Holder(
                        (parent) =>
                            declareStep("holder-step", { machine: machines().dest, create: "a" }, transportFor(executor), {
                                parent,
                                dependsOn: [earlier],
                                protect: true,
                                ignoreChanges: ["create"],
                            }),
                        opts,
                    );
                },
                () => ({}),
            );
            const resource = resources.get("holder-step")!;
            assert.deepEqual(
                { parent: resource.parent, dependsOn: resource.dependsOn, protect: resource.protect, ignoreChanges: resource.ignoreChanges },
                { parent: "holder", dependsOn: ["earlier"], protect: true, ignoreChanges: ["create"] },
            );
        });

        it("keeps stdout and stderr secret when the step prints a secret", async () => {
            const { resource } = await declareOne({ machine: machines().dest, create: "a", secretOutput: true }, transportFor(executor));
            assert.deepEqual(resource.additionalSecretOutputs, ["stdout", "stderr", "connection"]);
        });

        it("tells onStep the step's name, its machine and what its script says it does", async () => {
            const told: { name: string; machine: string; description: pulumi.Output<string> }[] = [];
            await declareOne(
                { machine: machines().dest, create: pulumi.output(describedScript) },
                { ...transportFor(executor), onStep: (name, machine, description) => told.push({ name, machine, description }) },
            );
            assert.deepEqual(
                told.map(({ name, machine }) => [name, machine]),
                [["holder-step", "dest"]],
            );
            assert.equal(await promiseOf(told[0].description), "Stops every service on this machine (nothing runs under the files a sync writes).");
        });
    });
}

describe("declareStep, executor-specific inputs", () => {
    it("remote.Command: standard error shown live (a round's progress), a secret step's not at all, and no previous output sent as environment (a stock sshd refuses it)", async () => {
        const { resource } = await declareOne({ machine: machines().source, create: "a" }, transportFor("command"));
        assert.equal(resource.inputs.logging, "stderr");
        assert.equal(resource.inputs.addPreviousOutputInEnv, false);
        const secret = await declareOne({ machine: machines().source, create: "a", secretOutput: true }, transportFor("command"));
        assert.equal(secret.resource.inputs.logging, "none");
    });

    it("remote.Command: uses the ssh-agent when configured instead of a key", async () => {
        const before = process.env.SSH_AUTH_SOCK;
        process.env.SSH_AUTH_SOCK = "/run/agent.sock";
        try {
            const { resource } = await declareOne({ machine: machines().dest, create: "a" }, { executor: "command", useSshAgent: true, migrationId: "unit" });
            const connection = resource.inputs.connection as Record<string, unknown>;
            assert.equal(connection.agentSocketPath, "/run/agent.sock");
            assert.equal(connection.privateKey, undefined);
            assert.deepEqual(resource.additionalSecretOutputs, ["connection"]);
        } finally {
            if (before === undefined) delete process.env.SSH_AUTH_SOCK;
            else process.env.SSH_AUTH_SOCK = before;
        }
    });

    it("OpensshCommand: shows standard error live on its own URN (a secret step's nowhere), takes no environment input, and keeps a connection without a key in clear", async () => {
        const { resource } = await declareOne({ machine: machines().dest, create: "a" }, { executor: "openssh", useSshAgent: true, migrationId: "unit" });
        assert.equal(resource.inputs.logging, undefined);
        assert.equal(
            resource.inputs.logUrn,
            "urn:pulumi:unit::pryv-core-migration::test:unit:Holder$pulumi-nodejs:dynamic/pryv-migration:OpensshCommand::holder-step",
        );
        const secret = await declareOne(
            { machine: machines().dest, create: "a", secretOutput: true },
            { executor: "openssh", useSshAgent: true, migrationId: "unit" },
        );
        assert.equal(secret.resource.inputs.logUrn, undefined);
        assert.equal(resource.inputs.addPreviousOutputInEnv, undefined);
        assert.deepEqual(resource.inputs.connection, { host: "dest.example.com", port: 2222, user: "pryv", hostKey: machines().dest.hostKey });
        assert.deepEqual(resource.additionalSecretOutputs, []);
        assert.equal(typeof resource.inputs.__provider, "string");
    });
});
