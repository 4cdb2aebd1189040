import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { LiveCoreGuard, LiveCoreGuardArgs } from "./liveCoreGuard";
import { defaultDataFolders, parseMigrationConfig } from "../config";
import {
    assertInOrder,
    build,
    checkFor,
    childrenOf,
    executors,
    fakeCommand,
    rawConfig,
    fakeMachines,
    hostOf,
    nameOf,
    runBash,
    scriptsOf,
    stepType,
    temporaryFolder,
    testConfig,
    transportFor,
    Executor,
} from "../testing";

const guardArgs = (executor: Executor, overrides: Partial<LiveCoreGuardArgs> = {}): LiveCoreGuardArgs => {
    const config = testConfig();
    return {
        source: config.source,
        dest: config.dest,
        dataFolders: defaultDataFolders,
        composeFile: "core.yml",
        freshDestMaxFiles: 500,
        registers: config.registers,
        coreName: "co1.pryv.example.com",
        destCoreIp: config.destCoreIp,
        check: checkFor(config),
        proxy: config.proxy,
        transport: transportFor(executor),
        ...overrides,
    };
};
const make = (executor: Executor, overrides: Partial<LiveCoreGuardArgs> = {}) =>
    build((opts) => new LiveCoreGuard("guard", guardArgs(executor, overrides), opts), fakeMachines);

for (const executor of executors) {
    describe(`LiveCoreGuard (${executor} executor)`, () => {
        it("checks source on source, dest on dest, and each register's answer on the register, before anything acts", async () => {
            const { resources, component } = await make(executor);
            assert.equal(resources.get("guard")!.type, "pryv:migration:LiveCoreGuard");
            const steps = childrenOf(resources, "guard");
            assert.deepEqual(
                steps.map((step) => [step.name, step.type, hostOf(step), step.dependsOn, step.inputs.delete, step.inputs.stdin, step.inputs.triggers]),
                [
                    ["guard-source-tools", stepType[executor], "10.0.0.11", [], undefined, undefined, undefined],
                    ["guard-dest-tools", stepType[executor], "dest.example.com", [], undefined, undefined, undefined],
                    ["guard-reg-master-tools", stepType[executor], "10.0.0.13", [], undefined, undefined, undefined],
                    ["guard-reg-slave-tools", stepType[executor], "10.0.0.14", [], undefined, undefined, undefined],
                    ["guard-source-data", stepType[executor], "10.0.0.11", [], undefined, undefined, undefined],
                    ["guard-dest-ready", stepType[executor], "dest.example.com", [], undefined, undefined, undefined],
                    ["guard-source-serves", stepType[executor], "10.0.0.11", [], undefined, undefined, undefined],
                    ["guard-dest-is-fresh", stepType[executor], "dest.example.com", [], undefined, undefined, undefined],
                    ["guard-source-paths", stepType[executor], "10.0.0.11", [], undefined, undefined, undefined],
                    ["guard-dest-paths", stepType[executor], "dest.example.com", [], undefined, undefined, undefined],
                    ["guard-reg-master-names-source", stepType[executor], "10.0.0.13", [], undefined, undefined, undefined],
                    ["guard-reg-slave-names-source", stepType[executor], "10.0.0.14", [], undefined, undefined, undefined],
                ],
            );
            assert.deepEqual(
                component.checks.map(nameOf),
                steps.map((step) => step.name),
            );
        });

        it("each machine's programs: the tools the migration runs there and the first word of every command its settings name", async () => {
            const { resources } = await make(executor);
            const words = (name: string, variable: string) =>
                new RegExp(`^for ${variable} in (.*); do$`, "m").exec(scriptsOf(resources, name).create)?.[1].trim().split(" ");
            const core = ["'rsync'", "'rrsync'", "'ssh-keygen'", "'sha256sum'", "'base64'", "'find'", "'du'", "'df'", "'stat'", "'awk'", "'flock'"];
            assert.deepEqual(words("guard-source-tools", "tool"), [...core, "'setsid'"]);
            assert.deepEqual(words("guard-dest-tools", "tool"), core);
            assert.deepEqual(words("guard-reg-master-tools", "tool"), ["'dig'", "'sha256sum'", "'base64'"]);
            const commands = (name: string) =>
                scriptsOf(resources, name)
                    .create.split("\n")
                    .filter((line) => line.startsWith("command -v '"));
            assert.deepEqual(commands("guard-source-tools"), [
                `command -v '/var/pryv/run-core' >/dev/null || missing+=('source.startCommand'": "'/var/pryv/run-core'" (not found or not executable)")`,
                `command -v '/var/pryv/stop-containers' >/dev/null || missing+=('source.stopCommand'": "'/var/pryv/stop-containers'" (not found or not executable)")`,
                `command -v 'nginx' >/dev/null || missing+=('proxy.testCommand'": "'nginx'" (not found or not executable)")`,
                `command -v '/var/pryv/run-core' >/dev/null || missing+=('proxy.startCommand'": "'/var/pryv/run-core'" (not found or not executable)")`,
                `command -v 'docker-compose' >/dev/null || missing+=('proxy.runningCommand'": "'docker-compose'" (not found or not executable)")`,
                `command -v 'curl' >/dev/null || missing+=('healthCheck.command'": "'curl'" (not found or not executable)")`,
            ]);
            assert.deepEqual(commands("guard-reg-slave-tools"), [
                `command -v '/var/pryv/run-reg-slave' >/dev/null || missing+=('registers.1.startCommand'": "'/var/pryv/run-reg-slave'" (not found or not executable)")`,
                `command -v '/var/pryv/stop-containers' >/dev/null || missing+=('registers.1.stopCommand'": "'/var/pryv/stop-containers'" (not found or not executable)")`,
            ]);
            assert.match(scriptsOf(resources, "guard-source-tools").create, /^for tool in 'inotifywait' ; do command -v/m);
            assert.doesNotMatch(scriptsOf(resources, "guard-reg-master-tools").create, /rsync --version/);
        });

        it("a layout's commands and compose file: Pryv v1's config followers checked on source and on each register, its compose file measured", async () => {
            const config = parseMigrationConfig(rawConfig({ layout: "pryv-v1", proxy: {} }), "unit");
            const { resources } = await make(executor, {
                source: config.source,
                dest: config.dest,
                proxy: config.proxy,
                composeFile: config.composeFile,
                registers: config.registers,
            });
            const commands = (name: string) =>
                scriptsOf(resources, name)
                    .create.split("\n")
                    .filter((line) => line.startsWith("command -v '"));
            const present = (setting: string, program: string) =>
                `command -v '${program}' >/dev/null || missing+=('${setting}'": "'${program}'" (not found or not executable)")`;
            assert.deepEqual(commands("guard-source-tools"), [
                present("source.startCommand", "/var/pryv/run-pryv"),
                present("source.stopCommand", "docker-compose"),
                present("proxy.testCommand", "docker-compose"),
                present("proxy.startCommand", "docker-compose"),
                present("proxy.runningCommand", "docker-compose"),
                present("proxy.configFollower.stopCommand", "docker-compose"),
                present("proxy.configFollower.startCommand", "/var/pryv/run-config-follower"),
                present("healthCheck.command", "curl"),
            ]);
            assert.deepEqual(commands("guard-reg-slave-tools"), [
                present("registers.1.startCommand", "/var/pryv/run-pryv"),
                present("registers.1.stopCommand", "docker-compose"),
                present("registers.1.configFollower.stopCommand", "docker-compose"),
                present("registers.1.configFollower.startCommand", "/var/pryv/run-config-follower"),
            ]);
            assert.match(scriptsOf(resources, "guard-source-data").create, /^compose_file='\/var\/pryv\/pryv\/pryv\.yml'$/m);
        });

        it("source's data measured on source, and dest checked against it: its room per filesystem, its owners, its compose file's images", async () => {
            const { resources } = await make(executor);
            assertInOrder(scriptsOf(resources, "guard-source-data").create, [
                "# Measures on source, before anything is written, what the migration will move:",
                "conf_root='/var/pryv'\ncompose_file='/var/pryv/core.yml'\n",
                "for folder in 'core/mongodb/data' 'core/core/data' 'core/influxdb/data' 'core/hfs/data' ; do",
                "limit=$(cat '/proc/sys/fs/inotify/max_user_watches')",
            ]);
            assertInOrder(scriptsOf(resources, "guard-dest-ready").create, [
                "# Checks on dest, before anything is written, that it can take what source holds:",
                "conf_root='/srv/pryv'\n",
                // What source-data printed (the fake machines': folder i holds i + 1 MiB).
                "folders=('core/mongodb/data' 'core/core/data' 'core/influxdb/data' 'core/hfs/data' )\nbytes=('1048576' '2097152' '3145728' '4194304' )\nlargest=('262144' '524288' '786432' '1048576' )\n",
                "compose_file='/srv/pryv/core.yml'\nsource_images='pryvio/core:1.3.51 pryvio/mongodb:3.6.12'\n",
            ]);
        });

        it("source serves: the health check through source's nginx, for at most 30 seconds", async () => {
            const { resources } = await make(executor);
            const { create } = scriptsOf(resources, "guard-source-serves");
            assertInOrder(create, [
                "# Refuses to go on unless source serves now, as the live core does: otherwise the machine named source is not the core users reach.\n",
                "timeout_seconds='30'\n",
                "until health_output=$('curl' '--silent' '--show-error' '--insecure' '--max-time' '10' '--resolve' 'co1.pryv.example.com:443:127.0.0.1' '--write-out' '\\n%{http_code}' 'https://co1.pryv.example.com/status' 2>&1) && core_answered \"$health_output\"; do",
                `printf '{"sourceServing":true}\\n'`,
            ]);
            const quick = await make(executor, { check: { ...checkFor(), timeoutSeconds: 12 } });
            assert.match(scriptsOf(quick.resources, "guard-source-serves").create, /^timeout_seconds='12'$/m);
        });

        it("dest is fresh: counts files in dest's data folders against freshDestMaxFiles, naming the setting", async () => {
            const { resources } = await make(executor, { freshDestMaxFiles: 42 });
            const { create } = scriptsOf(resources, "guard-dest-is-fresh");
            assertInOrder(create, [
                "# Refuses to go on if dest looks like a live core rather than a fresh install: its data folders hold more than 42 files (setting freshDestMaxFiles).\n",
                "folder_path() {",
                "max_files='42'\nhost='dest.example.com'\n",
                "for folder in 'core/mongodb/data' 'core/core/data' 'core/influxdb/data' 'core/hfs/data' ; do",
                `path=$(folder_path '/srv/pryv' "$folder")`,
                "head -n $(( max_files + 1 ))",
                'if [ "$count" -gt "$max_files" ]; then',
                "dest ($host) already holds user data: more than $max_files files in its data folders. Are source and dest swapped? A fresh install holds less; if dest really is the new machine, raise freshDestMaxFiles.",
            ]);
        });

        it("each register names source: its DNS must not answer any of dest's addresses for the core", async () => {
            const { resources } = await make(executor);
            const { create } = scriptsOf(resources, "guard-reg-slave-names-source");
            assertInOrder(create, [
                "# Refuses to go on if this register already sends users to dest: then dest is the live core, not the new machine.\n",
                "register='reg-slave'\nname='co1.pryv.example.com'\n",
                `answer=$(dig +short +time=2 +tries=2 @'10.0.0.14' "$name" A`,
                // destCoreIp and addressForPeers; dest's host is a name, not an address.
                "for address in '192.0.2.12' '10.0.0.12' ; do",
                "$register answers $name with $address, which is dest: dest looks like the live core. Are source and dest swapped in the stack config?",
            ]);
        });

        it("lists an address of dest once, whichever settings name it", async () => {
            const config = testConfig();
            const { resources } = await make(executor, { dest: { ...config.dest, host: "10.0.0.12", addressForPeers: "10.0.0.12" }, destCoreIp: "10.0.0.12" });
            assert.match(scriptsOf(resources, "guard-reg-master-names-source").create, /^for address in '10\.0\.0\.12' ; do$/m);
        });

        it("has no register check without registers", async () => {
            const { resources } = await make(executor, { registers: [] });
            assert.deepEqual(
                childrenOf(resources, "guard").map((step) => step.name),
                [
                    "guard-source-tools",
                    "guard-dest-tools",
                    "guard-source-data",
                    "guard-dest-ready",
                    "guard-source-serves",
                    "guard-dest-is-fresh",
                    "guard-source-paths",
                    "guard-dest-paths",
                ],
            );
        });
    });
}

describe("LiveCoreGuard scripts, run by bash", () => {
    let folder: string;
    let remove: () => void;
    beforeEach(() => ({ folder, remove } = temporaryFolder("guard")));
    afterEach(() => remove());

    const scripts = async (overrides: Partial<LiveCoreGuardArgs>) => {
        const { resources } = await make("command", overrides);
        return (name: string) => scriptsOf(resources, `guard-${name}`).create;
    };

    it("dest is fresh: passes with at most freshDestMaxFiles files, refuses one more", async () => {
        const dest = { ...testConfig().dest, confRoot: folder };
        const script = (await scripts({ dest, freshDestMaxFiles: 2 }))("dest-is-fresh");
        fs.mkdirSync(path.join(folder, "core", "core", "data"), { recursive: true });
        fs.mkdirSync(path.join(folder, "core", "mongodb", "data", "journal"), { recursive: true });
        fs.writeFileSync(path.join(folder, "core", "core", "data", "a"), "");
        fs.writeFileSync(path.join(folder, "core", "mongodb", "data", "journal", "b"), "");
        const fresh = runBash(script);
        assert.deepEqual([fresh.status, fresh.stdout, fresh.stderr], [0, '{"destFiles":2}\n', ""]);
        fs.writeFileSync(path.join(folder, "core", "core", "data", "c"), "");
        const live = runBash(script);
        assert.equal(live.status, 1);
        assert.match(live.stderr, /^dest \(dest\.example\.com\) already holds user data: more than 2 files in its data folders\./);
    });

    it("paths: a confRoot given through a symlink passes, printing where it resolves; a data folder linked outside it is refused, naming both paths", async () => {
        const real = path.join(folder, "data", "pryv");
        fs.mkdirSync(path.join(real, "core", "core", "data"), { recursive: true });
        const link = path.join(folder, "pryv-link");
        fs.symlinkSync(real, link);
        const script = (await scripts({ source: { ...testConfig().source, confRoot: link } }))("source-paths");
        const linked = runBash(script);
        assert.deepEqual([linked.status, linked.stdout, linked.stderr], [0, `{"role":"source","confRoot":"${fs.realpathSync(real)}"}\n`, ""]);

        const elsewhere = path.join(folder, "big-disk", "mongodb");
        fs.mkdirSync(elsewhere, { recursive: true });
        fs.mkdirSync(path.join(real, "core", "mongodb"));
        fs.symlinkSync(elsewhere, path.join(real, "core", "mongodb", "data"));
        const refused = runBash(script);
        assert.equal(refused.status, 1);
        assert.equal(
            refused.stderr,
            `dataFolders: core/mongodb/data on source resolves to ${fs.realpathSync(elsewhere)}, outside source.confRoot (${link}, which resolves to ${fs.realpathSync(real)})\n` +
                "Move the data under confRoot or give confRoot as the folder that holds it: a sync never writes outside confRoot.\n",
        );
        const missing = runBash((await scripts({ dest: { ...testConfig().dest, confRoot: path.join(folder, "nowhere") } }))("dest-paths"));
        assert.deepEqual([missing.status, missing.stderr], [1, `dest.confRoot: ${path.join(folder, "nowhere")} does not exist on dest\n`]);
    });

    it("paths: a folder named by its absolute path passes where it resolves to itself; missing on source, linked, or holding confRoot or the login's home, it is refused", async () => {
        const confRoot = path.join(folder, "pryv");
        const audit = path.join(folder, "log", "pryv", "audit");
        fs.mkdirSync(path.join(confRoot, "core", "core", "data"), { recursive: true });
        const run = async (role: "source" | "dest", dataFolders: string[], home = path.join(folder, "home")) => {
            fs.mkdirSync(home, { recursive: true });
            const machine = { ...testConfig()[role], confRoot };
            const script = (await scripts({ [role]: machine, dataFolders }))(`${role}-paths`);
            const result = runBash(script, { env: { ...process.env, HOME: home } });
            return [result.status, result.stderr];
        };
        assert.deepEqual(await run("source", ["core/core/data", audit]), [
            1,
            `dataFolders: ${audit} does not exist on source: a folder named by its absolute path is one the operator listed, so it must be there\n`,
        ]);
        // dest gets it from the first warm round.
        assert.deepEqual(await run("dest", ["core/core/data", audit]), [0, ""]);
        fs.mkdirSync(audit, { recursive: true });
        assert.deepEqual(await run("source", ["core/core/data", audit]), [0, ""]);

        const linked = path.join(folder, "audit-link");
        fs.symlinkSync(audit, linked);
        assert.deepEqual(await run("dest", [linked]), [
            1,
            `dataFolders: ${linked} on dest resolves to ${fs.realpathSync(audit)}: give the folder as it resolves, every sync writes exactly where it is named\n`,
        ]);
        assert.deepEqual(await run("source", [folder]), [
            1,
            `dataFolders: ${folder} on source holds source.confRoot (${fs.realpathSync(confRoot)}): list the folders of users' data, not what holds them\n` +
                `dataFolders: ${folder} on source holds ${path.join(folder, "home")}, where the migration keeps its keys and state\n`,
        ]);
    });

    it("names source: passes when the register answers source's address, refuses when it answers one of dest's", async () => {
        const script = (await scripts({}))("reg-master-names-source");
        const bin = path.join(folder, "bin");
        fs.mkdirSync(bin);
        fakeCommand(bin, "dig", 'echo "$FAKE_ANSWER"');
        const withAnswer = (answer: string) => runBash(script, { env: { PATH: `${bin}:${process.env.PATH ?? ""}`, FAKE_ANSWER: answer } });
        const source = withAnswer("10.0.0.11");
        assert.deepEqual([source.status, source.stdout, source.stderr], [0, '{"name":"co1.pryv.example.com","answer":"10.0.0.11"}\n', ""]);
        const dest = withAnswer("10.0.0.12");
        assert.equal(dest.status, 1);
        assert.equal(
            dest.stderr,
            "reg-master answers co1.pryv.example.com with 10.0.0.12, which is dest: dest looks like the live core. Are source and dest swapped in the stack config?\n",
        );
    });
});

/**
 * The tools check run by bash with a PATH of this test's making: the programs the script
 * itself needs (awk, sort, sed) and whichever of the machine's tools a case gives it.
 */
describe("the tools check, run by bash", () => {
    let folder: string;
    let remove: () => void;
    beforeEach(() => ({ folder, remove } = temporaryFolder("tools-check")));
    afterEach(() => remove());

    /** source's tools check, its settings' commands under this test's folder (`run-core`, `stop-containers`: made by the case that has them). */
    const sourceScript = async (): Promise<string> => {
        const config = testConfig();
        const bin = path.join(folder, "bin");
        const source = { ...config.source, startCommand: [`${bin}/run-core`], stopCommand: [`${bin}/stop-containers`] };
        const proxy = { ...config.proxy, startCommand: [`${bin}/run-core`, "reverse_proxy"] };
        return scriptsOf((await make("openssh", { source, proxy })).resources, "guard-source-tools").create;
    };
    /** Runs the script with only `present` on PATH (links to this machine's programs, or fakes), and an rsync that says it is `rsyncVersion`. */
    const run = (script: string, present: string[], rsyncVersion: string) => {
        const bin = path.join(folder, "bin");
        fs.mkdirSync(bin, { recursive: true });
        for (const tool of ["bash", "awk", "sort", "sed", ...present]) {
            const real = runBash(`command -v ${tool} || true`).stdout.trim();
            if (real !== "") fs.symlinkSync(real, path.join(bin, tool));
            else fakeCommand(bin, tool, "true");
        }
        fakeCommand(bin, "rsync", `echo "rsync  version ${rsyncVersion}  protocol version 31"`);
        return runBash(script, { env: { PATH: bin } });
    };
    const core = ["rrsync", "ssh-keygen", "sha256sum", "base64", "find", "du", "df", "stat", "flock", "setsid"];

    it("passes when every program is there, and says which optional one is absent", async () => {
        const result = run(await sourceScript(), [...core, "run-core", "stop-containers", "nginx", "docker-compose", "curl"], "3.2.7");
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stdout, '{"role":"source","optionalAbsent":"inotifywait"}\n');
    });

    it("refuses, naming every missing program, an rsync older than 3.2.5 and each setting whose command is not there", async () => {
        const script = await sourceScript();
        const result = run(script, ["ssh-keygen", "sha256sum", "base64", "find", "du", "df", "stat", "flock", "setsid", "curl"], "3.1.3");
        const bin = path.join(folder, "bin");
        assert.equal(result.status, 1);
        assert.equal(
            result.stderr,
            "source (10.0.0.11) lacks what the migration runs there: rrsync; rsync 3.2.5 or later (it has 3.1.3); " +
                `source.startCommand: ${bin}/run-core (not found or not executable); source.stopCommand: ${bin}/stop-containers (not found or not executable); ` +
                `proxy.testCommand: nginx (not found or not executable); proxy.startCommand: ${bin}/run-core (not found or not executable); ` +
                "proxy.runningCommand: docker-compose (not found or not executable). Install them (or fix the setting), then run pulumi up again: nothing was written or stopped.\n",
        );
        assert.equal(result.stdout, "");
    });
});
