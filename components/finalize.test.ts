import { strict as assert } from "assert";
import { Finalize } from "./finalize";
import { assertInOrder, build, childrenOf, executors, fakeMachines, hostOf, promiseOf, scriptsOf, stepType, testConfig, transportFor } from "../testing";

for (const executor of executors) {
    describe(`Finalize (${executor} executor)`, () => {
        it("asks every register's DNS server for the core's name and expects the dest IP; nothing to undo", async () => {
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
            assert.equal(resources.get("fin")!.type, "pryv:migration:Finalize");
            assert.deepEqual(
                childrenOf(resources, "fin").map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.triggers, step.inputs.delete]),
                [
                    ["fin-reg-master-answers", stepType[executor], "10.0.0.13", [], ["192.0.2.12"], undefined],
                    ["fin-reg-slave-answers", stepType[executor], "10.0.0.14", [], ["192.0.2.12"], undefined],
                ],
            );
            assertInOrder(scriptsOf(resources, "fin-reg-slave-answers").create, [
                "# Asks the register's DNS server, as a resolver would, until it answers the dest IP.\n",
                "name='co1.pryv.example.com'\n",
                "expected='192.0.2.12'\n",
                "timeout_seconds='30'\n",
                "dig +short +time=2 +tries=1 @'10.0.0.14' \"$name\" A",
            ]);
            assert.deepEqual(await promiseOf(component.answers), [
                { register: "reg-master", name: "co1.pryv.example.com", answer: "192.0.2.12" },
                { register: "reg-slave", name: "co1.pryv.example.com", answer: "192.0.2.12" },
            ]);
        });
    });
}
