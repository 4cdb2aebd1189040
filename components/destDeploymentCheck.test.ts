import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DestDeploymentCheck } from "./destDeploymentCheck";
import {
    assertInOrder,
    build,
    checkFor,
    childrenOf,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    machines,
    promiseOf,
    scriptsOf,
    stepType,
    transportFor,
    warmClock,
} from "../testing";

const make = (executor: Executor, images: string[], frozen = false) =>
    build(
        (opts) =>
            new DestDeploymentCheck(
                "check",
                {
                    dest: machines().dest,
                    dataFolders: ["core/mongodb/data", "/var/log/pryv/audit"],
                    check: checkFor(),
                    images,
                    frozen,
                    transport: transportFor(executor),
                },
                opts,
            ),
        fakeMachines,
    );

for (const executor of executors) {
    describe(`DestDeploymentCheck (${executor} executor)`, () => {
        it("starts dest, waits for the health check through its nginx, then stops it; nothing to undo", async () => {
            const { resources, component } = await make(executor, []);
            assert.equal(resources.get("check")!.type, "pryv:migration:DestDeploymentCheck");
            const services = childrenOf(resources, "check");
            assert.deepEqual(
                services.map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.triggers, step.inputs.delete, step.inputs.stdin]),
                [["check-services", stepType[executor], "dest.example.com", [], [[]], undefined, undefined]],
            );
            assertInOrder(scriptsOf(resources, "check-services").create, [
                "# Starts the core and waits until it answers through its nginx, then stops it again; what it wrote in its data folders is then marked as this machine's own, never to be taken for source's copy.\n",
                `marker_folder="$HOME"/.pryv-migration/'${transportFor(executor).migrationId}'\n`,
                "\n'/srv/pryv/run-core'\n",
                "timeout_seconds='180'\n",
                "until health_output=$('curl' '--silent' '--show-error' '--insecure' '--max-time' '10' '--resolve' 'co1.pryv.example.com:443:127.0.0.1' '--write-out' '\\n%{http_code}' 'https://co1.pryv.example.com/status' 2>&1) && core_answered \"$health_output\"; do",
                "\n'/srv/pryv/stop-containers'\n",
                "for folder in 'core/mongodb/data' '/var/log/pryv/audit' ; do\n  path=$(folder_path '/srv/pryv' \"$folder\")\n",
                'find "$path"/ -type f -cnewer "$since" -print0; fi | xargs -0 -r touch -m -d @0 --\n',
                'touch "$marker_folder"/trial-run\n',
            ]);
            assert.equal(await promiseOf(component.healthySeconds), warmClock.destStartSeconds);
            assert.deepEqual(await promiseOf(component.imageIds), []);
        });

        it("checks configured images on dest through the docker provider over ssh, and starts again when one changes", async () => {
            const { resources, component } = await make(executor, ["pryvio/core:1.3.51", "pryvio/mongodb:4.2"]);
            assert.deepEqual(
                childrenOf(resources, "check").map((resource) => [resource.name, resource.type]),
                [
                    ["check-docker", "pulumi:providers:docker"],
                    ["check-services", stepType[executor]],
                ],
            );
            const provider = resources.get("check-docker")!;
            assert.equal(provider.inputs.host, "ssh://pryv@dest.example.com:2222");
            const knownHosts = path.join(os.tmpdir(), "pryv-migration-docker-dest.example.com.known_hosts");
            assert.deepEqual(JSON.parse(String(provider.inputs.sshOpts)), [
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                `UserKnownHostsFile=${knownHosts}`,
                "-o",
                "HostKeyAlias=pryv-migration-docker-dest.example.com",
                "-o",
                "BatchMode=yes",
            ]);
            assert.equal(fs.readFileSync(knownHosts, "utf8"), `pryv-migration-docker-dest.example.com ${machines().dest.hostKey}\n`);
            const digests = ["pryvio/core:1.3.51@sha256:0123", "pryvio/mongodb:4.2@sha256:0123"];
            assert.deepEqual(await promiseOf(component.imageIds), digests);
            assert.deepEqual(resources.get("check-services")!.inputs.triggers, [digests]);
            assert.deepEqual(resources.get("check-services")!.ignoreChanges, []);
        });

        it("once dest may hold users' writes, a changed image digest does not start and stop it again", async () => {
            const { resources } = await make(executor, ["pryvio/core:1.3.51"], true);
            assert.deepEqual(resources.get("check-services")!.ignoreChanges, ["triggers"]);
        });
    });
}
