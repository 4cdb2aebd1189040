import { strict as assert } from "assert";
import { RegisterDns } from "./registerDns";
import { editDnsJson } from "../machinery/dnsJsonEdit";
import { captureScript, fileContentScript, restartScript, restoreScript } from "../machinery/machineFile";
import { shellQuote } from "../machinery/templates";
import {
    assertInOrder,
    build,
    childrenOf,
    Executor,
    executors,
    fakeMachines,
    hostOf,
    originalDnsJson,
    promiseOf,
    scriptsOf,
    sha256,
    StandIn,
    stepType,
    testConfig,
    transportFor,
} from "../testing";

const { registers } = testConfig();
const editedDnsJson = editDnsJson(originalDnsJson, "co1", "192.0.2.12", "dns.json").content;
const original = { sha256: sha256(originalDnsJson), content: originalDnsJson };
const dnsJsonOf = (role: string) => `/var/pryv/${role}/dns/dns.json`;
const restartOf = (role: string) => [["/var/pryv/stop-containers"], [`/var/pryv/run-${role}`]];

const make = (executor: Executor, active: boolean) =>
    build((opts) => {
        const after = [new StandIn("cutover", opts)];
        return new RegisterDns("dns", { registers, coreSubdomain: "co1", destIp: "192.0.2.12", transport: transportFor(executor), active, after }, opts);
    }, fakeMachines);

for (const executor of executors) {
    describe(`RegisterDns (${executor} executor)`, () => {
        it("before the dns phase, reads each register's dns.json and holds it as a resource whose stdin is the file as read", async () => {
            const { resources, component } = await make(executor, false);
            assert.equal(resources.get("dns")!.type, "pryv:migration:RegisterDns");
            assert.deepEqual(
                childrenOf(resources, "dns").map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.delete, step.inputs.triggers]),
                [
                    ["dns-reg-master-original", stepType[executor], "10.0.0.13", [], undefined, undefined],
                    ["dns-reg-master-dns-json", stepType[executor], "10.0.0.13", [], undefined, undefined],
                    ["dns-reg-slave-original", stepType[executor], "10.0.0.14", [], undefined, undefined],
                    ["dns-reg-slave-dns-json", stepType[executor], "10.0.0.14", [], undefined, undefined],
                ],
            );
            for (const { role } of registers) {
                assert.equal(
                    scriptsOf(resources, `dns-${role}-original`).create,
                    captureScript([`/var/pryv/${role}/dns/conf/dns.json`, dnsJsonOf(role)], `registers.${registers.findIndex((r) => r.role === role)}.dnsJson`),
                );
                assert.equal(resources.get(`dns-${role}-dns-json`)!.inputs.stdin, originalDnsJson);
                assert.equal(
                    scriptsOf(resources, `dns-${role}-dns-json`).create,
                    fileContentScript({
                        path: dnsJsonOf(role),
                        original,
                        changes: [`dns.staticDataInDomain.co1.ip: "10.0.0.11", as read (the content is secret in the state: it holds the register's keys).`],
                    }),
                );
            }
            assert.deepEqual(await promiseOf(component.changes), [
                { register: "reg-master", key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12" },
                { register: "reg-slave", key: "dns.staticDataInDomain.co1.ip", previousIp: "10.0.0.11", newIp: "192.0.2.12" },
            ]);
        });

        it("keeps dns.json out of the state in clear: what the capture printed and the file step's stdin are secrets", async () => {
            for (const active of [false, true]) {
                const { resources } = await make(executor, active);
                for (const { role } of registers) {
                    const captured = resources.get(`dns-${role}-original`)!;
                    const file = resources.get(`dns-${role}-dns-json`)!;
                    assert.ok(
                        ["stdout", "stderr"].every((key) => captured.additionalSecretOutputs.includes(key)),
                        role,
                    );
                    assert.deepEqual(file.secretInputs.sort(), ["connection", "stdin"], `${role}: the script says what changes, in clear`);
                    assert.ok(file.additionalSecretOutputs.includes("stdin"), role);
                }
            }
        });

        it("from the dns phase on: the undo recorded first, then the edited file, then the restart", async () => {
            const { resources } = await make(executor, true);
            assert.deepEqual(
                childrenOf(resources, "dns").map((step) => [step.name, step.type, hostOf(step), step.dependsOn]),
                registers.flatMap(({ role, host }) => [
                    [`dns-${role}-original`, stepType[executor], host, []],
                    [`dns-${role}-back`, stepType[executor], host, ["cutover"]],
                    [`dns-${role}-dns-json`, stepType[executor], host, [`dns-${role}-back`]],
                    [`dns-${role}-restart`, stepType[executor], host, [`dns-${role}-dns-json`, `dns-${role}-back`]],
                ]),
            );
            assert.deepEqual(
                childrenOf(resources, "dns")
                    .filter((step) => step.inputs.delete !== undefined)
                    .map((step) => step.name),
                ["dns-reg-master-back", "dns-reg-slave-back"],
            );
        });

        it("gives dns.json the edited file as stdin, one value changed; the script says which, old => new, for the preview", async () => {
            const inactive = await make(executor, false);
            const { resources } = await make(executor, true);
            for (const { role } of registers) {
                const file = resources.get(`dns-${role}-dns-json`)!;
                assert.equal(file.inputs.stdin, editedDnsJson);
                assert.equal(String(file.inputs.stdin).replace('"co1": { "ip": "192.0.2.12" }', '"co1": { "ip": "10.0.0.11" }'), originalDnsJson);
                const changeLine = (script: string) => script.split("\n").find((line) => line.startsWith("# dns.staticDataInDomain"));
                assert.equal(
                    changeLine(scriptsOf(resources, `dns-${role}-dns-json`).create),
                    `# dns.staticDataInDomain.co1.ip: "10.0.0.11" => "192.0.2.12"; every other value as read (the content is secret in the state: it holds the register's keys).`,
                );
                const withoutChange = (script: string) => script.replace(changeLine(script) ?? "", "");
                assert.equal(
                    withoutChange(scriptsOf(resources, `dns-${role}-dns-json`).create),
                    withoutChange(scriptsOf(inactive.resources, `dns-${role}-dns-json`).create),
                );
            }
        });

        it("records the undo: dns.json back byte for byte, the register restarted if the migration had restarted it", async () => {
            const { resources } = await make(executor, true);
            for (const { role } of registers) {
                const back = scriptsOf(resources, `dns-${role}-back`);
                assert.equal(
                    back.create,
                    "# Does nothing now: recorded before dns.json changes, so that its undo runs whatever a crash interrupts.\n" +
                        `echo ${shellQuote(`on rollback: ${dnsJsonOf(role)} back byte for byte, ${role}'s services restarted`)}\n`,
                );
                assert.equal(back.delete, restoreScript(dnsJsonOf(role), "unit", restartOf(role), `${role}-dns-restarted`));
                assertInOrder(back.delete, [
                    `file='${dnsJsonOf(role)}'`,
                    'if [ -e "$original" ]; then mv -f "$original" "$file"; fi',
                    `if [ -e "$marker_folder"/'${role}-dns-restarted' ]; then`,
                    "'/var/pryv/stop-containers'",
                    `'/var/pryv/run-${role}'`,
                ]);
            }
        });

        it("restarts the register's services after the file changes, again whenever its content changes", async () => {
            const { resources } = await make(executor, true);
            for (const { role } of registers) {
                const restart = resources.get(`dns-${role}-restart`)!;
                assert.equal(
                    scriptsOf(resources, `dns-${role}-restart`).create,
                    restartScript(dnsJsonOf(role), "unit", restartOf(role), `${role}-dns-restarted`),
                );
                assert.deepEqual(restart.inputs.triggers, [`{"sha256":"${sha256(editedDnsJson)}"}\n`]);
                assert.equal(restart.inputs.delete, undefined, "its undo is in back's");
            }
        });
    });
}
