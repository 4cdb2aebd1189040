import { strict as assert } from "assert";
import { shellQuote } from "../machinery/templates";
import { RegisterDns } from "./registerDns";
import { assertInOrder, build, fakeMachines, promiseOf, scriptOf, testConfig, transportFor } from "../tests/unit/harness";
import { registerDnsJson } from "../tests/hosts/register";

for (const executor of ["command", "openssh"] as const) {
    describe(`RegisterDns (${executor} executor)`, () => {
        const make = (active: boolean) =>
            build((opts) => {
                const config = testConfig();
                return new RegisterDns(
                    "dns",
                    { registers: config.registers, coreSubdomain: "co1", destIp: "192.0.2.12", transport: transportFor(executor), active, after: [] },
                    opts,
                );
            }, fakeMachines);

        it("shows each register's key with its old and new value, from the file it read", async () => {
            const { resources, component } = await make(false);
            assert.deepEqual([...resources.keys()], ["dns", "dns-reg-master-original", "dns-reg-slave-original"]);
            assert.match(scriptOf(resources.get("dns-reg-slave-original")!.inputs.create), /^file='\/var\/pryv\/reg-slave\/dns\/dns\.json'$/m);
            assert.deepEqual(await promiseOf(component.changes), [
                { register: "reg-master", key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12" },
                { register: "reg-slave", key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12" },
            ]);
        });

        it("writes the edited file and restarts the register's services; undo restores the file and restarts them", async () => {
            const { resources } = await make(true);
            const step = resources.get("dns-reg-master")!;
            assert.equal((step.inputs.connection as { host: string }).host, "10.0.0.13");
            assert.deepEqual(step.inputs.triggers, [
                { register: "reg-master", key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12" },
            ]);
            const script = scriptOf(step.inputs.create);
            const edited = registerDnsJson({ domain: "pryv.example.com", subdomain: "co1", coreIp: "192.0.2.12" });
            assert.ok(script.includes(`printf '%s' ${shellQuote(edited)} > "$candidate"`));
            assertInOrder(script, ['mv -f "$candidate" "$file"', "'/var/pryv/stop-containers'", "'/var/pryv/run-reg-master'"]);
            const undo = scriptOf(step.inputs.delete);
            assertInOrder(undo, ['mv -f "$original" "$file"', "'/var/pryv/stop-containers'", "'/var/pryv/run-reg-master'"]);
        });
    });
}
