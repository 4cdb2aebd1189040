import { strict as assert } from "assert";
import { hostKeyAlias, knownHostsLine, sshArguments } from "./sshClient";

const connection = { host: "source.example.com", port: 2222, user: "root", hostKey: "ssh-ed25519 AAAAC3Nz" };
const files = { knownHosts: "/tmp/k/known_hosts", controlPath: "/tmp/k/c" };

describe("openssh client arguments", () => {
    it("check the host key strictly against the pinned one only, in batch mode, over one shared connection", () => {
        const args = sshArguments(connection, files, "bash -c 'true'");
        const options = args.flatMap((word, index) => (args[index - 1] === "-o" ? [word] : []));
        assert.deepEqual(options, [
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
        assert.ok(args.includes("IdentitiesOnly=yes"));
        assert.equal(args[args.indexOf("-i") + 1], "/tmp/k/id");
    });

    it("pin the key under an alias that ssh_config cannot redirect", () => {
        assert.equal(hostKeyAlias(connection), "pryv-migration-source.example.com-2222");
        assert.equal(knownHostsLine(connection), "pryv-migration-source.example.com-2222 ssh-ed25519 AAAAC3Nz\n");
    });
});
