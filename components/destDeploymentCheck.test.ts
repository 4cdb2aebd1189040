import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DestDeploymentCheck } from "./destDeploymentCheck";
import { serviceCheck } from "../machinery/services";
import { assertInOrder, build, fakeMachines, machines, promiseOf, scriptOf, testConfig, transportFor } from "../tests/unit/harness";

const check = serviceCheck(testConfig().healthCheck, "pryv.example.com", "co1");

for (const executor of ["command", "openssh"] as const) {
    describe(`DestDeploymentCheck (${executor} executor)`, () => {
        it("starts dest, waits for the health check through its nginx, then stops it", async () => {
            const { resources, component } = await build(
                (opts) => new DestDeploymentCheck("check", { dest: machines().dest, check, images: [], transport: transportFor(executor) }, opts),
                fakeMachines,
            );
            assert.deepEqual([...resources.keys()], ["check", "check-services"]);
            const services = resources.get("check-services")!;
            assert.equal((services.inputs.connection as { host: string }).host, "dest.example.com");
            assert.equal(services.inputs.delete, undefined);
            const script = scriptOf(services.inputs.create);
            assertInOrder(script, [
                "\n'/srv/pryv/run-core'\n",
                "until output=$('curl' '--fail' '--silent' '--show-error' '--insecure' '--max-time' '10' '--resolve' 'co1.pryv.example.com:443:127.0.0.1' 'https://co1.pryv.example.com/reg/service/info'",
                "\n'/srv/pryv/stop-containers'\n",
            ]);
            assert.match(script, /^timeout_seconds='180'$/m);
            assert.equal(await promiseOf(component.healthySeconds), 2.5);
        });

        it("checks configured images on dest through the docker provider over ssh before starting", async () => {
            const { resources, component } = await build(
                (opts) =>
                    new DestDeploymentCheck("check", { dest: machines().dest, check, images: ["pryvio/core:1.3.51"], transport: transportFor(executor) }, opts),
                fakeMachines,
            );
            const provider = resources.get("check-docker")!;
            assert.equal(provider.type, "pulumi:providers:docker");
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
            assert.deepEqual(await promiseOf(component.imageIds), ["pryvio/core:1.3.51@sha256:0123"]);
            assert.deepEqual(resources.get("check-services")!.inputs.triggers, [["pryvio/core:1.3.51@sha256:0123"]]);
        });
    });
}
