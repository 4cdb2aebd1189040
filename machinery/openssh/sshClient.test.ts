import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { hostKeyAlias, knownHostsLine, runOverSsh, sshArguments } from "./sshClient";
import { installFakeSsh, operatorKey } from "../../testing";

const connection = { host: "source.example.com", port: 2222, user: "root", hostKey: "ssh-ed25519 AAAAC3Nz" };
const files = { knownHosts: "/tmp/k/known_hosts", controlPath: "/tmp/k/c" };
/** The value of each -o option, in order. */
const optionsOf = (args: string[]): string[] => args.flatMap((word, index) => (args[index - 1] === "-o" ? [word] : []));

describe("openssh client arguments", () => {
    it("check the host key strictly against the pinned one only, in batch mode, over one shared connection", () => {
        const args = sshArguments(connection, files, "bash -c 'true'");
        assert.deepEqual(optionsOf(args), [
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "UserKnownHostsFile=/tmp/k/known_hosts",
            "GlobalKnownHostsFile=/dev/null",
            "HostKeyAlias=pryv-migration-source.example.com-2222",
            "UpdateHostKeys=no",
            "ControlMaster=auto",
            "ControlPath=/tmp/k/c",
            "ControlPersist=30",
            "ServerAliveInterval=15",
            "LogLevel=ERROR",
        ]);
        assert.deepEqual(args.slice(-7), ["-p", "2222", "-l", "root", "--", "source.example.com", "bash -c 'true'"]);
        assert.ok(!args.includes("-F"), "the operator's ssh_config stays in force");
    });

    it("use only the operator key when one is given", () => {
        const args = sshArguments(connection, { ...files, identity: "/tmp/k/id" }, "true");
        assert.equal(optionsOf(args).at(-1), "IdentitiesOnly=yes");
        assert.equal(args[args.indexOf("-i") + 1], "/tmp/k/id");
    });

    it("pin the key under an alias that ssh_config cannot redirect", () => {
        assert.equal(hostKeyAlias(connection), "pryv-migration-source.example.com-2222");
        assert.equal(knownHostsLine(connection), "pryv-migration-source.example.com-2222 ssh-ed25519 AAAAC3Nz\n");
    });
});

describe("runOverSsh, with a fake ssh client", () => {
    let ssh: ReturnType<typeof installFakeSsh>;
    beforeEach(() => (ssh = installFakeSsh()));
    afterEach(() => ssh.restore());

    it("gives stdin to the command, byte for byte, and returns what it printed", async () => {
        const content = "line one\n'quoted' $(not run) `nor this`\n\u00e9t\u00e9\nno newline at the end";
        assert.deepEqual(await runOverSsh(connection, "cat; echo done >&2", content), { stdout: content, stderr: "done\n" });
        const [call] = ssh.calls();
        assert.equal(call.stdin, content);
        assert.deepEqual(call.args.slice(-7), ["-p", "2222", "-l", "root", "--", "source.example.com", "cat; echo done >&2"]);
    });

    it("hands each line of standard error over as it is printed, while the command still runs, and still returns all of it", async () => {
        const seen: { line: string; running: boolean }[] = [];
        let running = true;
        const command = "echo 'progress: one' >&2; sleep 1; printf 'progress: two\\nlast, without newline' >&2; echo out";
        const result = await runOverSsh(connection, command, undefined, (line) => seen.push({ line, running }));
        running = false;
        assert.deepEqual(result, { stdout: "out\n", stderr: "progress: one\nprogress: two\nlast, without newline" });
        // A line is handed over once it is complete; what ends without a newline stays in stderr only.
        assert.deepEqual(seen, [
            { line: "progress: one", running: true },
            { line: "progress: two", running: true },
        ]);
    });

    it("gives an empty stdin when there is none", async () => {
        assert.deepEqual(await runOverSsh(connection, "cat"), { stdout: "", stderr: "" });
        assert.equal(ssh.calls()[0].stdin, "");
    });

    it("pins the host key in the known_hosts file it passes, and removes the operator key file once the command ended", async () => {
        const { stdout } = await runOverSsh({ ...connection, privateKey: operatorKey }, "echo ran");
        assert.equal(stdout, "ran\n");
        const [{ args }] = ssh.calls();
        const knownHosts = optionsOf(args)
            .find((option) => option.startsWith("UserKnownHostsFile="))!
            .slice("UserKnownHostsFile=".length);
        assert.equal(fs.readFileSync(knownHosts, "utf8"), "pryv-migration-source.example.com-2222 ssh-ed25519 AAAAC3Nz\n");
        const identity = args[args.indexOf("-i") + 1];
        assert.ok(identity.startsWith(`${knownHosts.slice(0, -"known_hosts".length)}id-`), identity);
        assert.equal(fs.existsSync(identity), false);
    });

    it("removes the operator key copies that killed processes left behind, in every folder of its own, and only those", async () => {
        const folder = path.join(os.tmpdir(), `pryvssh-${process.getuid?.() ?? 0}-orphans-unit`);
        fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
        // A pid above the kernel's limit is never a running process.
        const orphan = path.join(folder, "id-4194305-abc");
        const living = path.join(folder, `id-${process.pid}-def`);
        for (const file of [orphan, living]) fs.writeFileSync(file, operatorKey, { mode: 0o600 });
        try {
            await runOverSsh(connection, "true");
            assert.deepEqual([fs.existsSync(orphan), fs.existsSync(living)], [false, true]);
        } finally {
            fs.rmSync(folder, { recursive: true, force: true });
        }
    });
});
