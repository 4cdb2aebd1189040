import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { asBashCommand, declareStep, RemoteStep } from "./remoteStep";
import { build, machines, operatorKey, promiseOf, sourceHostKey, transportFor } from "../tests/unit/harness";

class Holder extends pulumi.ComponentResource {
    public step: RemoteStep;
    constructor(make: (parent: pulumi.Resource) => RemoteStep, opts: pulumi.ComponentResourceOptions) {
        super("test:unit:Holder", "holder", {}, opts);
        this.step = make(this);
        this.registerOutputs({});
    }
}

describe("declareStep", () => {
    it("wraps every script for bash with errexit, nounset and pipefail, quoted as one word", async () => {
        assert.equal(await promiseOf(asBashCommand("echo 'hi'")), `bash -c 'set -euo pipefail\necho '\\''hi'\\'''`);
    });

    it("declares a remote.Command with the pinned host key, the secret key, no logging", async () => {
        const { resources } = await build((opts) =>
            new Holder((parent) => declareStep("holder-step", { machine: machines().source, create: "a", update: "b", delete: "c", triggers: [3], secretOutput: true }, transportFor("command"), { parent }), opts),
        );
        const step = resources.get("holder-step")!;
        assert.equal(step.type, "command:remote:Command");
        assert.equal(step.parent, "holder");
        assert.deepEqual(step.inputs.connection, { host: "10.0.0.11", port: 22, user: "root", hostKey: sourceHostKey, privateKey: operatorKey, dialErrorLimit: 10, perDialTimeout: 15 });
        assert.deepEqual(step.secretInputs, ["connection"]);
        assert.equal(step.inputs.logging, "none");
        assert.deepEqual(step.inputs.triggers, [3]);
        assert.equal(step.inputs.update, `bash -c 'set -euo pipefail\nb'`);
        assert.equal(step.inputs.delete, `bash -c 'set -euo pipefail\nc'`);
        assert.deepEqual(step.additionalSecretOutputs, ["stdout", "stderr", "connection"]);
    });

    it("uses the ssh-agent when configured instead of a key", async () => {
        process.env.SSH_AUTH_SOCK = "/run/agent.sock";
        const { resources } = await build((opts) =>
            new Holder((parent) => declareStep("holder-step", { machine: machines().dest, create: "a" }, { executor: "command", useSshAgent: true }, { parent }), opts),
        );
        const connection = resources.get("holder-step")!.inputs.connection as Record<string, unknown>;
        assert.equal(connection.agentSocketPath, "/run/agent.sock");
        assert.equal(connection.privateKey, undefined);
        assert.deepEqual(resources.get("holder-step")!.additionalSecretOutputs, ["connection"]);
    });

    it("declares the same step as an OpensshCommand, its connection kept secret", async () => {
        const { resources } = await build((opts) =>
            new Holder((parent) => declareStep("holder-step", { machine: machines().dest, create: "a", delete: "c", triggers: ["x"] }, transportFor("openssh"), { parent }), opts),
        );
        const step = resources.get("holder-step")!;
        assert.equal(step.type, "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand");
        assert.deepEqual(step.inputs.connection, { host: "dest.example.com", port: 2222, user: "pryv", hostKey: machines().dest.hostKey, privateKey: operatorKey });
        assert.equal(step.inputs.create, `bash -c 'set -euo pipefail\na'`);
        assert.equal(step.inputs.delete, `bash -c 'set -euo pipefail\nc'`);
        assert.deepEqual(step.inputs.triggers, ["x"]);
        assert.deepEqual(step.additionalSecretOutputs, ["connection"]);
        assert.equal(typeof step.inputs.__provider, "string");
    });
});
