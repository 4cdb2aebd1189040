import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultDataFolders } from "./config";
import { MigrationKey, parsePublicKeys } from "./migrationKey";
import { build, destHostKey, machines, operatorKey, scriptOf, sourceHostKey, transportFor } from "../tests/unit/harness";

const fakePublicKey = (file: string): string => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(file).toString("base64").replace(/=/g, "")}`;
const keyPairOutput = (name: string): Record<string, unknown> =>
    name.endsWith("-keypair") ? { stdout: defaultDataFolders.map((folder) => `${folder.replace(/\//g, "_")} ${fakePublicKey(folder)}`).join("\n") + "\n" } : {};

const typeOf = { command: "command:remote:Command", openssh: "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand" } as const;

for (const executor of ["command", "openssh"] as const) {
    describe(`MigrationKey (${executor} executor)`, () => {
        const make = () =>
            build(
                (opts) =>
                    new MigrationKey(
                        "pull-key",
                        {
                            holder: machines().dest,
                            granter: machines().source,
                            dataFolders: defaultDataFolders,
                            purpose: "pull",
                            migrationId: "unit",
                            transport: transportFor(executor),
                        },
                        opts,
                    ),
                keyPairOutput,
            );

        it("declares a key pair on the holder and a grant on the granter, in that order", async () => {
            const { resources } = await make();
            assert.deepEqual([...resources.keys()], ["pull-key", "pull-key-keypair", "pull-key-grant"]);
            assert.equal(resources.get("pull-key")?.type, "pryv:migration:MigrationKey");
            const keyPair = resources.get("pull-key-keypair")!;
            const grant = resources.get("pull-key-grant")!;
            assert.equal(keyPair.type, typeOf[executor]);
            assert.equal(grant.type, typeOf[executor]);
            assert.equal(keyPair.parent, "pull-key");
            assert.deepEqual(grant.dependsOn, ["pull-key-keypair"]);
            const connection = (name: string) => resources.get(name)!.inputs.connection as Record<string, unknown>;
            assert.deepEqual(
                {
                    host: connection("pull-key-keypair").host,
                    port: connection("pull-key-keypair").port,
                    user: connection("pull-key-keypair").user,
                    hostKey: connection("pull-key-keypair").hostKey,
                },
                { host: "dest.example.com", port: 2222, user: "pryv", hostKey: destHostKey },
            );
            assert.equal(connection("pull-key-grant").host, "10.0.0.11");
            assert.equal(connection("pull-key-grant").hostKey, sourceHostKey);
            assert.equal(connection("pull-key-grant").privateKey, operatorKey);
            assert.deepEqual(keyPair.secretInputs, ["connection"]);
            if (executor === "command") assert.equal(keyPair.inputs.logging, "none");
            else assert.deepEqual(keyPair.additionalSecretOutputs, ["connection"]);
        });

        it("makes one key per data folder on the holder, with the granter's pinned host key", async () => {
            const { resources } = await make();
            const create = scriptOf(resources.get("pull-key-keypair")!.inputs.create);
            assert.match(create, /key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-pull'\n/);
            assert.ok(create.includes(`printf '%s\\n' 'pryv-migration-source ${sourceHostKey}' > "$key_folder/known_hosts"`));
            for (const folder of defaultDataFolders) {
                assert.ok(
                    create.includes(`ssh-keygen -q -t ed25519 -N '' -C 'pryv-migration:unit:pull' -f "$key_folder"/'${folder.replace(/\//g, "_")}'`),
                    folder,
                );
            }
            assert.equal(scriptOf(resources.get("pull-key-keypair")!.inputs.delete), "rm -rf \"$HOME\"/.ssh/'pryv-migration-unit-pull'\n");
        });

        it("grants each key nothing but read-only rsync of its own folder", async () => {
            const { resources } = await make();
            const create = scriptOf(resources.get("pull-key-grant")!.inputs.create);
            for (const folder of defaultDataFolders) {
                const line = `restrict,command="rrsync -ro /var/pryv/${folder}" ${fakePublicKey(folder)} pryv-migration:unit:pull`;
                assert.ok(create.includes(`printf '%s\\n' '${line}' >> "$authorized_keys.pryv-migration"`), line);
            }
            assert.doesNotMatch(scriptOf(resources.get("pull-key-grant")!.inputs.delete), /printf/);
        });
    });
}

describe("MigrationKey grant script, run by bash", () => {
    it("adds its lines once, keeps the others, and its undo removes only its own", async () => {
        const { resources } = await build(
            (opts) =>
                new MigrationKey(
                    "k",
                    {
                        holder: machines().dest,
                        granter: machines().source,
                        dataFolders: defaultDataFolders,
                        purpose: "pull",
                        migrationId: "unit",
                        transport: transportFor("openssh"),
                    },
                    opts,
                ),
            keyPairOutput,
        );
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "grant-"));
        try {
            const authorizedKeys = path.join(home, ".ssh", "authorized_keys");
            fs.mkdirSync(path.dirname(authorizedKeys));
            fs.writeFileSync(authorizedKeys, "ssh-ed25519 AAAAoperator operator@laptop\n");
            const run = (command: unknown) => execFileSync("sh", ["-c", String(command)], { env: { ...process.env, HOME: home } });
            const grant = resources.get("k-grant")!.inputs;
            run(grant.create);
            run(grant.create);
            const lines = fs.readFileSync(authorizedKeys, "utf8").trimEnd().split("\n");
            assert.equal(lines.length, 1 + defaultDataFolders.length);
            assert.equal(lines[0], "ssh-ed25519 AAAAoperator operator@laptop");
            run(grant.delete);
            assert.equal(fs.readFileSync(authorizedKeys, "utf8"), "ssh-ed25519 AAAAoperator operator@laptop\n");
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });
});

describe("parsePublicKeys", () => {
    it("reads one '<file> <key>' line per folder and refuses anything else", () => {
        assert.deepEqual(parsePublicKeys("core_core_data ssh-ed25519 AAAAC3Nz\n\n"), { core_core_data: "ssh-ed25519 AAAAC3Nz" });
        assert.throws(() => parsePublicKeys("garbage\n"), /unexpected line from the key generation step: "garbage"/);
    });
});
