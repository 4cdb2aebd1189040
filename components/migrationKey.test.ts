import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders } from "../config";
import { peerAccess } from "../machinery/folderSync";
import { MigrationKey, MigrationKeyArgs, parsePublicKeys } from "./migrationKey";
import {
    build,
    childrenOf,
    destHostKey,
    Executor,
    executors,
    hostOf,
    machines,
    operatorKey,
    promiseOf,
    runBash,
    scriptsOf,
    sourceHostKey,
    stepType,
    temporaryFolder,
    transportFor,
} from "../testing";

const fakePublicKey = (file: string): string => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(file).toString("base64").replace(/=/g, "")}`;
const keyFile = (folder: string): string => folder.replace(/\//g, "_");
const keyPairOutput = (name: string): Record<string, unknown> =>
    name.endsWith("-keypair") ? { stdout: defaultDataFolders.map((folder) => `${keyFile(folder)} ${fakePublicKey(keyFile(folder))}`).join("\n") + "\n" } : {};

const { source, dest } = machines();
const keyArgs = (executor: Executor, purpose: MigrationKeyArgs["purpose"], lostMachine?: string): MigrationKeyArgs => ({
    holder: purpose === "pull" ? dest : source,
    granter: purpose === "pull" ? source : dest,
    dataFolders: defaultDataFolders,
    purpose,
    transport: transportFor(executor, lostMachine),
});
const make = (executor: Executor, purpose: MigrationKeyArgs["purpose"] = "pull", lostMachine?: string) =>
    build((opts) => new MigrationKey(`${purpose}-key`, keyArgs(executor, purpose, lostMachine), opts), keyPairOutput);

describe("peerAccess", () => {
    it("is known from config alone: the key folder, the peer's address and the pinned alias", () => {
        const access = peerAccess(source, "pull", "unit");
        assert.deepEqual(
            { ...access, keyFile: access.keyFile("core/mongodb/data") },
            {
                keyFolderName: "pryv-migration-unit-pull",
                keyFile: "core_mongodb_data",
                hostKeyAlias: "pryv-migration-source",
                peerUser: "root",
                peerAddress: "10.0.0.11",
                peerPort: 22,
            },
        );
        const back = peerAccess(dest, "carry-back", "unit");
        assert.deepEqual(
            [back.keyFolderName, back.hostKeyAlias, back.peerUser, back.peerAddress, back.peerPort],
            ["pryv-migration-unit-carry-back", "pryv-migration-dest", "pryv", "10.0.0.12", 2222],
        );
    });
});

for (const executor of executors) {
    describe(`MigrationKey (${executor} executor)`, () => {
        it("declares a key pair on the holder, then a grant on the granter", async () => {
            const { resources, component } = await make(executor);
            assert.equal(resources.get("pull-key")!.type, "pryv:migration:MigrationKey");
            assert.deepEqual(
                childrenOf(resources, "pull-key").map((step) => [
                    step.name,
                    step.type,
                    hostOf(step),
                    step.dependsOn,
                    step.protect,
                    step.secretInputs,
                    step.additionalSecretOutputs,
                ]),
                [
                    ["pull-key-keypair", stepType[executor], "dest.example.com", [], false, ["connection"], ["connection"]],
                    ["pull-key-grant", stepType[executor], "10.0.0.11", ["pull-key-keypair"], false, ["connection"], ["connection"]],
                ],
            );
            const connection = (name: string) => resources.get(name)!.inputs.connection as Record<string, unknown>;
            assert.deepEqual(
                [connection("pull-key-keypair").port, connection("pull-key-keypair").user, connection("pull-key-keypair").hostKey],
                [2222, "pryv", destHostKey],
            );
            assert.deepEqual([connection("pull-key-grant").hostKey, connection("pull-key-grant").privateKey], [sourceHostKey, operatorKey]);
            assert.deepEqual(component.access, peerAccess(source, "pull", "unit"));
            assert.deepEqual(
                await promiseOf(component.publicKeys),
                Object.fromEntries(defaultDataFolders.map((folder) => [keyFile(folder), fakePublicKey(keyFile(folder))])),
            );
        });

        it("makes one key per data folder on the holder, with the granter's pinned host key; its undo removes them", async () => {
            const { resources } = await make(executor);
            const { create, delete: undo } = scriptsOf(resources, "pull-key-keypair");
            assert.match(create, /^key_folder="\$HOME"\/\.ssh\/'pryv-migration-unit-pull'$/m);
            assert.ok(create.includes(`printf '%s\\n' 'pryv-migration-source ${sourceHostKey}' > "$key_folder/known_hosts"`));
            for (const folder of defaultDataFolders) {
                assert.ok(create.includes(`ssh-keygen -q -t ed25519 -N '' -C 'pryv-migration:unit:pull' -f "$key_folder"/'${keyFile(folder)}'`), folder);
            }
            assert.equal(undo, "# Removes this migration's keys from this machine.\nrm -rf \"$HOME\"/.ssh/'pryv-migration-unit-pull'\n");
        });

        it("grants each key nothing but read-only rsync of its own folder; its undo rewrites authorized_keys without them", async () => {
            const { resources } = await make(executor);
            const { create, delete: undo } = scriptsOf(resources, "pull-key-grant");
            for (const folder of defaultDataFolders) {
                const line = `restrict,command="rrsync -ro /var/pryv/${folder}" ${fakePublicKey(keyFile(folder))} pryv-migration:unit:pull`;
                assert.ok(create.includes(`printf '%s\\n' '${line}' >> "$authorized_keys.pryv-migration"`), line);
            }
            assert.match(undo!, /^# Rewrites authorized_keys without this migration's lines: running it twice changes nothing\.$/m);
            assert.match(undo!, /^\{ grep -vF 'pryv-migration:unit:pull' "\$authorized_keys" \|\| true; \} > "\$authorized_keys\.pryv-migration"$/m);
            assert.doesNotMatch(undo!, /printf|rrsync/);
        });

        it("carry-back: the key pair on source, read-only access to dest's folders", async () => {
            const { resources } = await make(executor, "carry-back");
            assert.deepEqual(
                childrenOf(resources, "carry-back-key").map((step) => [step.name, hostOf(step)]),
                [
                    ["carry-back-key-keypair", "10.0.0.11"],
                    ["carry-back-key-grant", "dest.example.com"],
                ],
            );
            const keyPair = scriptsOf(resources, "carry-back-key-keypair").create;
            assert.ok(keyPair.includes(`printf '%s\\n' 'pryv-migration-dest ${destHostKey}' > "$key_folder/known_hosts"`));
            assert.match(keyPair, /-C 'pryv-migration:unit:carry-back'/);
            assert.match(scriptsOf(resources, "carry-back-key-grant").create, /'restrict,command="rrsync -ro \/srv\/pryv\/core\/hfs\/data" /);
        });

        it("lets the engine forget the half on a machine declared lost without running its undo, and only that one", async () => {
            const undos = async (purpose: MigrationKeyArgs["purpose"], lostMachine?: string) => {
                const { resources } = await make(executor, purpose, lostMachine);
                return childrenOf(resources, `${purpose}-key`).map((step) => [
                    step.name,
                    step.retainOnDelete ? "forgotten" : "undone",
                    step.inputs.delete !== undefined,
                ]);
            };
            assert.deepEqual(await undos("pull", "dest"), [
                ["pull-key-keypair", "forgotten", true],
                ["pull-key-grant", "undone", true],
            ]);
            assert.deepEqual(await undos("carry-back", "dest"), [
                ["carry-back-key-keypair", "undone", true],
                ["carry-back-key-grant", "forgotten", true],
            ]);
            assert.deepEqual(await undos("pull"), [
                ["pull-key-keypair", "undone", true],
                ["pull-key-grant", "undone", true],
            ]);
        });
    });
}

describe("MigrationKey scripts, run by bash", () => {
    let home: string;
    let remove: () => void;
    beforeEach(() => ({ folder: home, remove } = temporaryFolder("migration-key")));
    afterEach(() => remove());
    const run = (script: string) => {
        const result = runBash(script, { env: { HOME: home } });
        assert.equal(result.status, 0, result.stderr);
        return result.stdout;
    };

    it("key pair: one ed25519 key per folder, printed as parsePublicKeys reads it; its undo removes the folder", async () => {
        const { resources } = await make("openssh");
        const { create, delete: undo } = scriptsOf(resources, "pull-key-keypair");
        const keys = parsePublicKeys(run(create));
        assert.deepEqual(Object.keys(keys), defaultDataFolders.map(keyFile));
        const keyFolder = path.join(home, ".ssh", "pryv-migration-unit-pull");
        for (const [file, key] of Object.entries(keys)) {
            assert.match(key, /^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
            assert.equal(fs.statSync(path.join(keyFolder, file)).mode & 0o777, 0o600);
        }
        assert.equal(fs.readFileSync(path.join(keyFolder, "known_hosts"), "utf8"), `pryv-migration-source ${sourceHostKey}\n`);
        run(undo!);
        assert.equal(fs.existsSync(keyFolder), false);
    });

    it("grant: adds its lines once, keeps the others, and its undo removes only its own", async () => {
        const { resources } = await make("openssh");
        const { create, delete: undo } = scriptsOf(resources, "pull-key-grant");
        const authorizedKeys = path.join(home, ".ssh", "authorized_keys");
        fs.mkdirSync(path.dirname(authorizedKeys));
        fs.writeFileSync(authorizedKeys, "ssh-ed25519 AAAAoperator operator@laptop\n");
        run(create);
        run(create);
        const lines = fs.readFileSync(authorizedKeys, "utf8").trimEnd().split("\n");
        assert.deepEqual(lines, [
            "ssh-ed25519 AAAAoperator operator@laptop",
            ...defaultDataFolders.map(
                (folder) => `restrict,command="rrsync -ro /var/pryv/${folder}" ${fakePublicKey(keyFile(folder))} pryv-migration:unit:pull`,
            ),
        ]);
        run(undo!);
        assert.equal(fs.readFileSync(authorizedKeys, "utf8"), "ssh-ed25519 AAAAoperator operator@laptop\n");
    });
});

describe("parsePublicKeys", () => {
    it("reads one '<file> <key>' line per folder and refuses anything else", () => {
        assert.deepEqual(parsePublicKeys("core_core_data ssh-ed25519 AAAAC3Nz\n\n"), { core_core_data: "ssh-ed25519 AAAAC3Nz" });
        assert.throws(() => parsePublicKeys("garbage\n"), /unexpected line from the key generation step: "garbage"/);
    });
});
