import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { RegisterPlatform } from "./registerPlatform";
import { parseMigrationConfig } from "../config";
import { captureScript, fileContentScript, restoreScript } from "../machinery/machineFile";
import { editPlatformYml } from "../machinery/platformYmlEdit";
import { shellQuote } from "../machinery/templates";
import {
    assertInOrder,
    build,
    childrenOf,
    Executor,
    executors,
    fakeCommand,
    fakeMachines,
    hostOf,
    originalPlatformYml,
    promiseOf,
    rawConfig,
    runBash,
    scriptsOf,
    sha256,
    StandIn,
    stepType,
    temporaryFolder,
    transportFor,
} from "../testing";

const config = parseMigrationConfig(rawConfig({ layout: "pryv-v1", phase: "dns" }), "unit");
const { registers } = config;
const leader = config.configLeader!;
const platformYml = "/var/pryv/config-leader/conf/platform.yml";
const key = "vars.MACHINES_AND_PLATFORM_SETTINGS.settings.HOSTINGS_AND_CORES.value.hosting1.co1.ip";
const edited = editPlatformYml(originalPlatformYml, "co1", "192.0.2.12", undefined, "platform.yml").content;

const make = (executor: Executor, active: boolean) =>
    build((opts) => {
        const after = [new StandIn("cutover", opts)];
        return new RegisterPlatform(
            "register-platform",
            { registers, leader, coreSubdomain: "co1", destIp: "192.0.2.12", timeoutSeconds: 3, transport: transportFor(executor), active, after },
            opts,
        );
    }, fakeMachines);

/** The restart script of a register, forward or undo, as the component renders it. */
async function restartScripts(executor: Executor, role: string): Promise<{ forward: string; undo: string }> {
    const { resources } = await make(executor, true);
    return {
        forward: scriptsOf(resources, `register-platform-${role}-restart`).create,
        undo: scriptsOf(resources, `register-platform-${role}-restart-back`).delete!,
    };
}

for (const executor of executors) {
    describe(`RegisterPlatform (${executor} executor)`, () => {
        it("before the dns phase, reads platform.yml on the config leader only, and holds it as a resource whose stdin is the file as read", async () => {
            const { resources, component } = await make(executor, false);
            assert.equal(resources.get("register-platform")!.type, "pryv:migration:RegisterPlatform");
            assert.deepEqual(
                childrenOf(resources, "register-platform").map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.delete]),
                [
                    ["register-platform-reg-master-original", stepType[executor], "10.0.0.13", [], undefined],
                    ["register-platform-reg-master-platform-yml", stepType[executor], "10.0.0.13", [], undefined],
                ],
            );
            assert.equal(scriptsOf(resources, "register-platform-reg-master-original").create, captureScript([platformYml], "configLeader.platformYml"));
            assert.equal(resources.get("register-platform-reg-master-platform-yml")!.inputs.stdin, originalPlatformYml);
            assert.equal(
                scriptsOf(resources, "register-platform-reg-master-platform-yml").create,
                fileContentScript({
                    path: platformYml,
                    original: { sha256: sha256(originalPlatformYml) },
                    changes: [`${key}: "10.0.0.11", as read (the content is secret in the state: it holds the platform's keys).`],
                }),
            );
            assert.deepEqual(await promiseOf(component.changes), [{ register: "reg-master", key, previousIp: "10.0.0.11", newIp: "192.0.2.12" }]);
        });

        it("keeps platform.yml out of the state in clear", async () => {
            for (const active of [false, true]) {
                const { resources } = await make(executor, active);
                const captured = resources.get("register-platform-reg-master-original")!;
                assert.ok(["stdout", "stderr"].every((output) => captured.additionalSecretOutputs.includes(output)));
                const file = resources.get("register-platform-reg-master-platform-yml")!;
                assert.deepEqual(file.secretInputs.sort(), ["connection", "stdin"]);
            }
        });

        it("from the dns phase on: every register's restart recorded as an undo, then platform.yml's, then the edited file, then every register restarted", async () => {
            const { resources } = await make(executor, true);
            assert.deepEqual(
                childrenOf(resources, "register-platform").map((step) => [step.name, step.type, hostOf(step), step.dependsOn]),
                [
                    ["register-platform-reg-master-restart-back", stepType[executor], "10.0.0.13", ["cutover"]],
                    ["register-platform-reg-slave-restart-back", stepType[executor], "10.0.0.14", ["cutover"]],
                    ["register-platform-reg-master-original", stepType[executor], "10.0.0.13", []],
                    [
                        "register-platform-reg-master-back",
                        stepType[executor],
                        "10.0.0.13",
                        ["cutover", "register-platform-reg-master-restart-back", "register-platform-reg-slave-restart-back"],
                    ],
                    ["register-platform-reg-master-platform-yml", stepType[executor], "10.0.0.13", ["register-platform-reg-master-back"]],
                    ["register-platform-reg-master-restart", stepType[executor], "10.0.0.13", ["register-platform-reg-master-platform-yml"]],
                    ["register-platform-reg-slave-restart", stepType[executor], "10.0.0.14", ["register-platform-reg-master-platform-yml"]],
                ],
            );
            const file = resources.get("register-platform-reg-master-platform-yml")!;
            assert.equal(file.inputs.stdin, edited);
            assert.equal(String(file.inputs.stdin), originalPlatformYml.replace("ip: 10.0.0.11", "ip: 192.0.2.12"));
            assert.match(
                scriptsOf(resources, "register-platform-reg-master-platform-yml").create,
                new RegExp(`^# ${key.replace(/\./g, "\\.")}: "10\\.0\\.0\\.11" => "192\\.0\\.2\\.12"; every other byte as read`, "m"),
            );
            const back = scriptsOf(resources, "register-platform-reg-master-back");
            assert.equal(
                back.create,
                "# Does nothing now: recorded before platform.yml changes, so that its undo runs whatever a crash interrupts.\n" +
                    `echo ${shellQuote(`on rollback: ${platformYml} back byte for byte (the config leader reads it at every request)`)}\n`,
            );
            assert.equal(back.delete, restoreScript(platformYml, "unit"));
            for (const { role } of registers) {
                // It runs again whenever the file step does: its trigger is what that step printed.
                assert.deepEqual(resources.get(`register-platform-${role}-restart`)!.inputs.triggers, [`{"sha256":"${sha256(edited)}"}\n`]);
                assert.equal(
                    scriptsOf(resources, `register-platform-${role}-restart-back`).create,
                    "# Does nothing now: recorded before platform.yml changes, so that its undo runs whatever a crash interrupts.\n" +
                        `echo ${shellQuote(`on rollback, after platform.yml is back: ${role}'s config follower and services restarted, if they were`)}\n`,
                );
            }
        });

        it("restarts a register's follower, waits until it has written the register's dns.json, then restarts the register's services", async () => {
            const { forward } = await restartScripts(executor, "reg-slave");
            assertInOrder(forward, [
                "# Restarts reg-slave's config follower, which writes its conf/ files again from the config leader's platform.yml (/var/pryv/pryv/dns/conf/dns.json among them)",
                `date +%s.%N > "$restarted"`,
                "dns_json='/var/pryv/pryv/dns/conf/dns.json'",
                "'env' 'PRYV_CONF_ROOT=/var/pryv' 'docker-compose' '-f' '/var/pryv/config-follower/config-follower.yml' 'rm' '--stop' '--force'",
                "'/var/pryv/run-config-follower'",
                'until [ "$dns_json" -nt "$follower_started" ]; do',
                "'env' 'PRYV_CONF_ROOT=/var/pryv' 'docker-compose' '-f' '/var/pryv/pryv/pryv.yml' 'rm' '--stop' '--force'",
                "'/var/pryv/run-pryv'",
            ]);
        });

        describe("the restart, run by bash", () => {
            let folder: string;
            let remove: () => void;
            beforeEach(() => ({ folder, remove } = temporaryFolder("follower-restart")));
            afterEach(() => remove());

            /** The script with the machine's paths and commands made fakes under the test's folder; the follower writes dns.json after `delay` seconds, or never. */
            function onFakeRegister(script: string, followerWrites: boolean): { run: () => ReturnType<typeof runBash>; log: () => string[] } {
                const log = path.join(folder, "log");
                const dnsJson = path.join(folder, "dns.json");
                fs.writeFileSync(dnsJson, "{}");
                fs.utimesSync(dnsJson, new Date(2020, 0, 1), new Date(2020, 0, 1));
                const record = (what: string) => fakeCommand(folder, what, `echo ${what} >> ${log}`);
                const commands: [string, string][] = [
                    [
                        "'env' 'PRYV_CONF_ROOT=/var/pryv' 'docker-compose' '-f' '/var/pryv/config-follower/config-follower.yml' 'rm' '--stop' '--force'",
                        record("follower-stop"),
                    ],
                    [
                        "'/var/pryv/run-config-follower'",
                        fakeCommand(
                            folder,
                            "follower-start",
                            `echo follower-start >> ${log}\n${followerWrites ? `(sleep 0.5; echo '{"dns":1}' > ${dnsJson}) &` : ""}`,
                        ),
                    ],
                    ["'env' 'PRYV_CONF_ROOT=/var/pryv' 'docker-compose' '-f' '/var/pryv/pryv/pryv.yml' 'rm' '--stop' '--force'", record("pryv-stop")],
                    ["'/var/pryv/run-pryv'", record("pryv-start")],
                    ["'/var/pryv/pryv/dns/conf/dns.json'", shellQuote(dnsJson)],
                ];
                const local = commands.reduce((text, [from, to]) => text.split(from).join(to), script);
                return {
                    run: () => runBash(local, { env: { HOME: folder } }),
                    log: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []),
                };
            }

            it("forward: follower stopped and started, services restarted only once dns.json is rewritten; the undo then does the same and clears its mark", async () => {
                const { forward, undo } = await restartScripts(executor, "reg-slave");
                const register = onFakeRegister(forward, true);
                const result = register.run();
                assert.equal(result.status, 0, result.stderr);
                assert.deepEqual(register.log(), ["follower-stop", "follower-start", "pryv-stop", "pryv-start"]);
                assert.match(result.stdout, /^\{"restartedAt":[0-9.]+\}\n$/);
                const marker = path.join(folder, ".pryv-migration", "unit", "reg-slave-platform-restarted");
                assert.ok(fs.existsSync(marker));
                assert.ok(!fs.existsSync(`${marker}.follower`));
                const back = onFakeRegister(undo, true);
                const undone = back.run();
                assert.equal(undone.status, 0, undone.stderr);
                assert.deepEqual(back.log().slice(4), ["follower-stop", "follower-start", "pryv-stop", "pryv-start"]);
                assert.ok(!fs.existsSync(marker));
            });

            it("fails without restarting the services when the follower does not write dns.json in time", async () => {
                const { forward } = await restartScripts(executor, "reg-slave");
                const register = onFakeRegister(forward, false);
                const result = register.run();
                assert.equal(result.status, 1);
                assert.equal(
                    result.stderr,
                    `reg-slave: its config follower did not write ${path.join(folder, "dns.json")} within 3s of its start (is the config leader reachable from reg-slave?); its services were not restarted\n`,
                );
                assert.deepEqual(register.log(), ["follower-stop", "follower-start"]);
            });

            it("the undo restarts nothing on a register this migration never restarted", async () => {
                const { undo } = await restartScripts(executor, "reg-master");
                const register = onFakeRegister(undo, true);
                const result = register.run();
                assert.equal(result.status, 0, result.stderr);
                assert.equal(result.stdout, "reg-master was not restarted by this migration: nothing to undo\n");
                assert.deepEqual(register.log(), []);
            });
        });
    });
}
