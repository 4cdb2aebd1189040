import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { asBashCommand, declareStep, RemoteStep, wrapForBash } from "./remoteStep";
import { spawnSync } from "child_process";
import { build, machines, operatorKey, promiseOf, scriptOf, sourceHostKey, transportFor } from "../tests/unit/harness";

class Holder extends pulumi.ComponentResource {
    public step: RemoteStep;
    constructor(make: (parent: pulumi.Resource) => RemoteStep, opts: pulumi.ComponentResourceOptions) {
        super("test:unit:Holder", "holder", {}, opts);
        this.step = make(this);
        this.registerOutputs({});
    }
}

describe("declareStep", () => {
    it("wraps every script, verbatim, for bash with errexit, nounset and pipefail, whatever the login shell", async () => {
        const script = `echo "$0 'hi'" "$(cat)"\nfalse\necho never`;
        const command = await promiseOf(asBashCommand(script));
        assert.equal(command, `bash -euo pipefail -c "$(cat <<'PRYV_MIGRATION_SCRIPT_END'\n${script}\nPRYV_MIGRATION_SCRIPT_END\n)"`);
        const run = spawnSync("sh", ["-c", command], { input: "from stdin", encoding: "utf8" });
        assert.deepEqual([run.status, run.stdout], [1, "bash 'hi' from stdin\n"]);
    });

    it("refuses a script holding the here-document's end line", () => {
        assert.throws(() => wrapForBash("a\nPRYV_MIGRATION_SCRIPT_END\nb"), /may not contain the line PRYV_MIGRATION_SCRIPT_END/);
    });

    it("declares a remote.Command with the pinned host key, the secret key, no logging", async () => {
        const { resources } = await build(
            (opts) =>
                new Holder(
                    (parent) =>
                        declareStep(
                            "holder-step",
                            { machine: machines().source, create: "a", update: "b", delete: "c", triggers: [3], secretOutput: true },
                            transportFor("command"),
                            { parent },
                        ),
                    opts,
                ),
        );
        const step = resources.get("holder-step")!;
        assert.equal(step.type, "command:remote:Command");
        assert.equal(step.parent, "holder");
        assert.deepEqual(step.inputs.connection, {
            host: "10.0.0.11",
            port: 22,
            user: "root",
            hostKey: sourceHostKey,
            privateKey: operatorKey,
            dialErrorLimit: 10,
            perDialTimeout: 15,
        });
        assert.deepEqual(step.secretInputs, ["connection"]);
        assert.equal(step.inputs.logging, "none");
        assert.deepEqual(step.inputs.triggers, [3]);
        assert.equal(scriptOf(step.inputs.update), "b");
        assert.equal(scriptOf(step.inputs.delete), "c");
        assert.deepEqual(step.additionalSecretOutputs, ["stdout", "stderr", "connection"]);
    });

    it("uses the ssh-agent when configured instead of a key", async () => {
        process.env.SSH_AUTH_SOCK = "/run/agent.sock";
        const { resources } = await build(
            (opts) =>
                new Holder(
                    (parent) => declareStep("holder-step", { machine: machines().dest, create: "a" }, { executor: "command", useSshAgent: true }, { parent }),
                    opts,
                ),
        );
        const connection = resources.get("holder-step")!.inputs.connection as Record<string, unknown>;
        assert.equal(connection.agentSocketPath, "/run/agent.sock");
        assert.equal(connection.privateKey, undefined);
        assert.deepEqual(resources.get("holder-step")!.additionalSecretOutputs, ["connection"]);
    });

    it("declares the same step as an OpensshCommand, its connection kept secret", async () => {
        const { resources } = await build(
            (opts) =>
                new Holder(
                    (parent) =>
                        declareStep("holder-step", { machine: machines().dest, create: "a", delete: "c", triggers: ["x"] }, transportFor("openssh"), {
                            parent,
                        }),
                    opts,
                ),
        );
        const step = resources.get("holder-step")!;
        assert.equal(step.type, "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand");
        assert.deepEqual(step.inputs.connection, {
            host: "dest.example.com",
            port: 2222,
            user: "pryv",
            hostKey: machines().dest.hostKey,
            privateKey: operatorKey,
        });
        assert.equal(scriptOf(step.inputs.create), "a");
        assert.equal(scriptOf(step.inputs.delete), "c");
        assert.deepEqual(step.inputs.triggers, ["x"]);
        assert.deepEqual(step.additionalSecretOutputs, ["connection"]);
        assert.equal(typeof step.inputs.__provider, "string");
    });
});
