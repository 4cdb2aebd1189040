import { strict as assert } from "assert";
import { Finalize } from "./finalize";
import { build, fakeMachines, promiseOf, scriptOf, testConfig, transportFor } from "../tests/unit/harness";

for (const executor of ["command", "openssh"] as const) {
    describe(`Finalize (${executor} executor)`, () => {
        it("asks every register's DNS server for the core's name and expects the dest IP", async () => {
            const { resources, component } = await build(
                (opts) =>
                    new Finalize(
                        "fin",
                        {
                            registers: testConfig().registers,
                            coreName: "co1.pryv.example.com",
                            destIp: "192.0.2.12",
                            timeoutSeconds: 30,
                            transport: transportFor(executor),
                        },
                        opts,
                    ),
                fakeMachines,
            );
            assert.deepEqual([...resources.keys()], ["fin", "fin-reg-master-answers", "fin-reg-slave-answers"]);
            const step = resources.get("fin-reg-slave-answers")!;
            assert.equal((step.inputs.connection as { host: string }).host, "10.0.0.14");
            assert.deepEqual(step.inputs.triggers, ["192.0.2.12"]);
            const script = scriptOf(step.inputs.create);
            assert.match(script, /^name='co1\.pryv\.example\.com'$/m);
            assert.match(script, /^expected='192\.0\.2\.12'$/m);
            assert.match(script, /dig \+short \+time=2 \+tries=1 @'10\.0\.0\.14' "\$name" A/);
            assert.deepEqual(await promiseOf(component.answers), [
                { register: "reg-master", name: "co1.pryv.example.com", answer: "192.0.2.12" },
                { register: "reg-slave", name: "co1.pryv.example.com", answer: "192.0.2.12" },
            ]);
        });
    });
}
