import { spawnSync, SpawnSyncReturns } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { defaultDataFolders, folderKey, Machine, MigrationConfig, parseMigrationConfig } from "../../config";
import { FolderChanges } from "../../components/cutoverReports";
import { stepScript, Transport } from "../../machinery/remoteStep";
import { serviceCheck, ServiceCheck } from "../../machinery/services";
import { site443 } from "../../testbed/nginx-conf";
import { registerDnsJson } from "../../testbed/register";

/** Files as a 2019 install has them, from the test hosts' own generators. */
export const originalSite = site443("pryv.example.com", "/var/pryv");
export const originalDnsJson = registerDnsJson({ domain: "pryv.example.com", subdomain: "co1", coreIp: "10.0.0.11" });
export const sha256 = (content: string | Buffer): string => createHash("sha256").update(content).digest("hex");
/** What file-capture.sh prints for a file holding `content`. */
export const capturedStdout = (content: string, path: string): string =>
    `${JSON.stringify({ path, sha256: sha256(content), base64: Buffer.from(content).toString("base64") })}\n`;

/** One resource as the program registered it: resolved inputs, parent, dependencies, options. */
export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
    dependsOn: string[];
    additionalSecretOutputs: string[];
    /** Paths of inputs that reached the engine as secrets, like `connection.privateKey`. */
    secretInputs: string[];
    /** As the SDK sends it: the resource's own option, or else its parent's. */
    protect: boolean;
    ignoreChanges: string[];
    /** The engine forgets the resource on delete without running its delete script. */
    retainOnDelete: boolean;
}

/** What the fake machines print, keyed by a test of the resource's name. */
export type FakeOutput = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

const recorded = new Map<string, Recorded>();
const resourceNames = new Map<pulumi.Resource, string>();
const builtByName = new Map<string, pulumi.Resource>();
// The SDK keeps the protect it computed (inherited from the parent when unset) on the resource, out of its typings.
const protectOf = (resource: pulumi.Resource): boolean => (resource as unknown as { __protect?: boolean }).__protect === true;
let fakeOutput: FakeOutput = () => ({});

void pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const entry = recorded.get(args.name);
            if (entry !== undefined) {
                entry.inputs = revealSecrets(args.inputs) as Record<string, unknown>;
                entry.secretInputs = secretPaths(args.inputs, "");
            }
            const inputs = args.inputs as Record<string, unknown>;
            return { id: `${args.name}-id`, state: { ...inputs, ...fakeOutput(args.name, revealSecrets(args.inputs) as Record<string, unknown>) } };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return { repoDigest: `${String((args.inputs as { name: string }).name)}@sha256:0123` };
        },
    },
    "pryv-core-migration",
    "unit",
    false,
);

const secretSignature = "4dabf18193072939515e22adb298388d";

/** Mocks see secrets wrapped; tests assert on the values, and on secretness through `secretPaths`. */
function revealSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (secretSignature in record) return revealSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, revealSecrets(inner)]));
}

function secretPaths(value: unknown, at: string): string[] {
    if (value === null || typeof value !== "object") return [];
    const record = value as Record<string, unknown>;
    if (secretSignature in record) return [at.slice(1)];
    return Object.entries(record).flatMap(([key, inner]) => secretPaths(inner, `${at}.${key}`));
}

/** A transformation, passed to the component under test, that records each resource it and its children register. */
const recorder: pulumi.ResourceTransformation = (args) => {
    resourceNames.set(args.resource, args.name);
    builtByName.set(args.name, args.resource);
    const dependsOn = ([] as unknown[]).concat(args.opts.dependsOn ?? []);
    recorded.set(args.name, {
        type: args.type,
        name: args.name,
        inputs: {},
        parent: args.opts.parent === undefined ? undefined : resourceNames.get(args.opts.parent),
        dependsOn: dependsOn.map((resource) => resourceNames.get(resource as pulumi.Resource) ?? "?"),
        additionalSecretOutputs: (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
        secretInputs: [],
        protect: false,
        ignoreChanges: args.opts.ignoreChanges ?? [],
        retainOnDelete: (args.opts as pulumi.CustomResourceOptions).retainOnDelete === true,
    });
    return undefined;
};

/** The name a resource was declared with, for outputs that hand resources on (`checks`, `switched`). */
export function nameOf(resource: pulumi.Resource): string {
    const name = resourceNames.get(resource);
    if (name === undefined) throw new Error("a resource the recorder did not see");
    return name;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/**
 * Builds a component with the recorder attached and waits until every resource it
 * declared, children of children included, has been registered with the mocks.
 */
export async function build<T extends pulumi.ComponentResource>(
    make: (opts: pulumi.ComponentResourceOptions) => T,
    fake: FakeOutput = () => ({}),
): Promise<{ component: T; resources: Map<string, Recorded> }> {
    recorded.clear();
    builtByName.clear();
    fakeOutput = fake;
    const component = make({ transformations: [recorder] });
    let settled = -1;
    while (settled !== resourceNames.size) {
        settled = resourceNames.size;
        await Promise.all([...resourceNames.keys()].map((resource) => promiseOf(resource.urn)));
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const [name, resource] of builtByName) recorded.get(name)!.protect = protectOf(resource);
    return { component, resources: new Map(recorded) };
}

export const sourceHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNvdXJjZWhvc3RrZXlzb3VyY2Vob3N0a2V5c291cmNl";
export const destHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRlc3Rob3N0a2V5ZGVzdGhvc3RrZXlkZXN0aG9zdGtleQ";
/** Registers are machines of their own: a host key shared with source or dest is refused. */
export const registerHostKeys = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlZ21hc3Rlcmhvc3RrZXlyZWdtYXN0ZXJob3N0a2V5",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlZ3NsYXZlaG9zdGtleXJlZ3NsYXZlaG9zdGtleXJl",
];
export const operatorKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";

/** A complete, valid raw config; tests override what they exercise. */
export function rawConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        phase: "cutover",
        source: { host: "10.0.0.11", hostKey: sourceHostKey, confRoot: "/var/pryv" },
        dest: { host: "dest.example.com", port: 2222, user: "pryv", hostKey: destHostKey, confRoot: "/srv/pryv", addressForPeers: "10.0.0.12" },
        domain: "pryv.example.com",
        destCoreIp: "192.0.2.12",
        operatorPrivateKey: operatorKey,
        registers: ["reg-master", "reg-slave"].map((name, index) => ({
            name,
            host: `10.0.0.${13 + index}`,
            hostKey: registerHostKeys[index],
            confRoot: "/var/pryv",
        })),
        proxy: { testCommand: ["nginx", "-t"], startCommand: ["/var/pryv/run-core", "reverse_proxy"] },
        ...overrides,
    };
}

export function testConfig(overrides: Record<string, unknown> = {}): MigrationConfig {
    return parseMigrationConfig(rawConfig(overrides), "unit");
}

export function transportFor(executor: Transport["executor"], lostMachine?: string): Transport {
    const config = testConfig();
    return { executor, operatorPrivateKey: config.operatorPrivateKey, useSshAgent: false, lostMachine, migrationId: config.migrationId };
}

export const machines = (): { source: Machine; dest: Machine } => {
    const { source, dest } = testConfig();
    return { source, dest };
};

/** The update script of a step that runs once, as a machine gets it: it prints what the step printed when it ran (migration "unit"). */
export const ranOnce = (step: string): string =>
    `# This step ran once already: a change to its script is recorded, not run (roll back past it and forward again to run it anew).
kept_output="$HOME"/.pryv-migration/'unit'/outputs/'${step}'
# What it printed then, so that what the program computed from it stays the same.
if [ -f "$kept_output" ]; then
  cat "$kept_output"
else
  echo '${step}: its kept output is gone from this machine; outputs computed from it are left out' >&2
fi
`;

/** The bash script a step runs, as its component wrote it: both executors wrap it the same way. */
export function scriptOf(command: unknown): string {
    const text = String(command);
    const script = stepScript(text);
    if (script === undefined) throw new Error(`not a wrapped bash script: ${text.slice(0, 80)}`);
    return script;
}

const folderOf = (key: string): string => defaultDataFolders.find((folder) => folderKey(folder) === key) ?? key;
const folderIndex = (key: string): number => defaultDataFolders.findIndex((folder) => folderKey(folder) === key);
const line = (value: object): string => `${JSON.stringify(value)}\n`;

/** The fake machines' clocks during a cutover: every span differs, so a test sees which one an output reads. */
export const cutoverClock = {
    stoppedAt: 100,
    proxyStartedAt: 100.5,
    /** Folder i's final round runs from 101 to 102 + i. */
    coldStartedAt: 101,
    coldFinishedAt: (index: number): number => 102 + index,
    /** Folder i is verified at 106 + i / 4. */
    verifiedAt: (index: number): number => 106 + index / 4,
    destStartedAt: 108,
    destHealthyAt: 112.5,
    servingAt: 113,
};

/** Warm rounds: folder i's runs from 1 to 2 + i / 2, writing 2 files and receiving 10 bytes; dest started in 2.5s in prepare. */
export const warmClock = { startedAt: 1, finishedAt: (index: number): number => 2 + index / 2, changedFiles: 2, bytesReceived: 10, destStartSeconds: 2.5 };

/** The paths source's change journal recorded under a folder since the last warm round began; null: the journal missed something there. */
export const journalPaths = (folder: string): string[] | null =>
    folder === "core/influxdb/data" ? null : [`collection-${folderIndex(folderKey(folder))}.wt`, "journal/WiredTigerLog 1"];

/** What the cutover's `-changes` step prints for a folder: its journal's paths (NUL-separated, in base64), or why it walks. */
export const folderChangesOf = (folder: string): FolderChanges => {
    const paths = journalPaths(folder);
    return paths === null
        ? { folder, journal: false, reason: "20001 paths changed, more than 20000" }
        : { folder, journal: true, paths: paths.length, list: Buffer.from(paths.join("\0")).toString("base64") };
};

const syncStats = (key: string, cold: boolean): string => {
    const index = folderIndex(key);
    return line({
        folder: folderOf(key),
        round: cold ? "cold" : "warm-1",
        walk: !cold || journalPaths(folderOf(key)) === null,
        bytesReceived: warmClock.bytesReceived,
        bytesTransferred: 20,
        totalSize: 30,
        files: 4,
        changedFiles: warmClock.changedFiles,
        startedAt: cold ? cutoverClock.coldStartedAt : warmClock.startedAt,
        finishedAt: cold ? cutoverClock.coldFinishedAt(index) : warmClock.finishedAt(index),
        delete: true,
    });
};

/** The digest source's description gives a folder, and dest's verification finds. */
export const metadataDigestOf = (folder: string): string => sha256(`metadata of ${folder}`);

/** Plausible stdout for each kind of step, as the templates print it on a real machine. */
export const fakeMachines: FakeOutput = (name, inputs) => {
    const folderStep = (kind: string) => new RegExp(`-${kind}-(core-[a-z]+-data)$`).exec(name)?.[1];
    if (name.endsWith("-keypair")) {
        return { stdout: defaultDataFolders.map((folder) => `${folder.replace(/\//g, "_")} ssh-ed25519 AAAA${folder.replace(/\//g, "")}\n`).join("") };
    }
    if (name.endsWith("proxy-original")) return { stdout: capturedStdout(originalSite, "/var/pryv/core/nginx/conf/site-443.conf") };
    // Each register's dns.json where the written procedure has it.
    const register = /-(reg-[a-z]+)-original$/.exec(name)?.[1];
    if (register !== undefined) return { stdout: capturedStdout(originalDnsJson, `/var/pryv/${register}/dns/dns.json`) };
    // A file step prints the digest of what it was given.
    if (name.endsWith("-site-file") || name.endsWith("-dns-json")) return { stdout: line({ sha256: sha256(String(inputs.stdin)) }) };
    if (name.endsWith("-restart")) return { stdout: line({ restartedAt: 300 }) };
    if (name.endsWith("-answers")) return { stdout: line({ name: "co1.pryv.example.com", answer: "192.0.2.12" }) };
    if (name.endsWith("-names-source")) return { stdout: line({ name: "co1.pryv.example.com", answer: "10.0.0.11" }) };
    if (name.endsWith("-source-serves")) return { stdout: line({ sourceServing: true }) };
    if (name.endsWith("-dest-is-fresh")) return { stdout: line({ destFiles: 3 }) };
    if (name.endsWith("-services")) return { stdout: line({ startedAt: 1, healthyAt: 1 + warmClock.destStartSeconds }) + line({ stoppedAt: 4 }) };
    if (name.endsWith("-stop-source")) return { stdout: line({ stoppedAt: cutoverClock.stoppedAt, proxyStartedAt: cutoverClock.proxyStartedAt }) };
    if (name.endsWith("-start-dest")) return { stdout: line({ startedAt: cutoverClock.destStartedAt, healthyAt: cutoverClock.destHealthyAt }) };
    if (name.endsWith("-proxy-serving")) return { stdout: line({ servingAt: cutoverClock.servingAt }) };
    if (name.endsWith("-change-journal")) return { stdout: line({ journal: true }) };
    if (name.endsWith("-changes-before-stop")) {
        // The journal so far: influxdb's recorder missed something; the others list a path and deleted one.
        return {
            stdout: defaultDataFolders
                .map((folder) =>
                    line(
                        folder === "core/influxdb/data"
                            ? { folder, journal: false }
                            : { folder, journal: true, deleted: 1, bytes: 4096, list: Buffer.from("collection-0.wt\0").toString("base64") },
                    ),
                )
                .join(""),
        };
    }
    if (name.endsWith("-changes")) return { stdout: defaultDataFolders.map((folder) => line(folderChangesOf(folder))).join("") };
    if (name.endsWith("-source-description")) {
        return { stdout: defaultDataFolders.map((folder) => line({ folder, entries: 3, bytes: 1024, metadataDigest: metadataDigestOf(folder) })).join("") };
    }
    const contentChecked = folderStep("verify-content");
    if (contentChecked !== undefined) return { stdout: line({ folder: folderOf(contentChecked), filesCompared: 4, startedAt: 114, finishedAt: 115 }) };
    const verified = folderStep("verify");
    if (verified !== undefined) {
        const folder = folderOf(verified);
        return {
            stdout: line({
                folder,
                metadataDigest: metadataDigestOf(folder),
                contentChecked: 2,
                fullWalk: false,
                verifiedAt: cutoverClock.verifiedAt(folderIndex(verified)),
            }),
        };
    }
    const finalSync = folderStep("final-sync");
    if (finalSync !== undefined) return { stdout: syncStats(finalSync, true) };
    if (folderStep("carry-back") !== undefined) return { stdout: "" };
    const warm = /-(core-[a-z]+-data)$/.exec(name)?.[1];
    if (warm !== undefined) return { stdout: syncStats(warm, false) };
    return { stdout: "" };
};

/** Every piece is in `text`, each after the one before. */
export function assertInOrder(text: string, pieces: string[]): void {
    let from = 0;
    for (const piece of pieces) {
        const at = text.indexOf(piece, from);
        if (at < 0) throw new Error(`${JSON.stringify(piece)} is missing after offset ${from} in:\n${text}`);
        from = at + piece.length;
    }
}

/** Every component is tested with both executors. */
export const executors = ["command", "openssh"] as const;
export type Executor = (typeof executors)[number];

/** The resource type each executor declares a step as. */
export const stepType: Record<Executor, string> = {
    command: "command:remote:Command",
    openssh: "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand",
};

/** The machine a step runs on, by its address. */
export const hostOf = (resource: Recorded): string => (resource.inputs.connection as { host: string }).host;

/** The resources whose parent is `parent`, in the order they were declared. */
export const childrenOf = (resources: Map<string, Recorded>, parent: string): Recorded[] =>
    [...resources.values()].filter((resource) => resource.parent === parent);

/** A step's script by resource name, read back from the wrapped command (undefined when the step has none). */
export function scriptsOf(resources: Map<string, Recorded>, name: string): { create: string; update?: string; delete?: string } {
    const resource = resources.get(name);
    if (resource === undefined) throw new Error(`no resource ${name} among ${[...resources.keys()].join(", ")}`);
    const optional = (value: unknown) => (value === undefined ? undefined : scriptOf(value));
    return { create: scriptOf(resource.inputs.create), update: optional(resource.inputs.update), delete: optional(resource.inputs.delete) };
}

/** Stands for what a component is declared after (the warm rounds, the cutover...). */
export class StandIn extends pulumi.ComponentResource {
    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super("test:unit:StandIn", name, {}, opts);
        this.registerOutputs({});
    }
}

/** The health check the program builds from the test config. */
export function checkFor(config: MigrationConfig = testConfig()): ServiceCheck {
    return serviceCheck(config.healthCheck, config.domain, config.coreSubdomain);
}

/** A private folder for a test, removed with `remove`. */
export function temporaryFolder(prefix: string): { folder: string; remove: () => void } {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    return { folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/** Runs a rendered script as the step would (bash -euo pipefail), with `stdin` and extra environment. */
export function runBash(script: string, options: { stdin?: string | Buffer; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
    return spawnSync("bash", ["-euo", "pipefail", "-c", script], { input: options.stdin ?? "", encoding: "utf8", env: { ...process.env, ...options.env } });
}

/** An executable stand-in for a machine's command: a bash body, written to `folder/name`; returns its path. */
export function fakeCommand(folder: string, name: string, body: string): string {
    const file = path.join(folder, name);
    fs.writeFileSync(file, `#!/bin/bash\nset -eu\n${body}\n`, { mode: 0o755 });
    return file;
}

/** What one run of the fake ssh client was given. */
export interface SshCall {
    args: string[];
    stdin: string;
}

/**
 * Puts a fake `ssh` first on PATH: it records its arguments and standard input, then runs
 * the command (its last argument) here with sh, as the remote login shell would.
 */
export function installFakeSsh(): { calls: () => SshCall[]; restore: () => void } {
    const { folder, remove } = temporaryFolder("fake-ssh");
    const bin = path.join(folder, "bin");
    const log = path.join(folder, "calls");
    fs.mkdirSync(bin);
    fs.mkdirSync(log);
    fakeCommand(
        bin,
        "ssh",
        [
            `call=${log}/$(printf '%04d' "$(find ${log} -mindepth 1 -maxdepth 1 | wc -l)")`,
            'mkdir "$call"',
            'printf \'%s\\0\' "$@" > "$call/args"',
            'cat > "$call/stdin"',
            'exec sh -c "${@: -1}" < "$call/stdin"',
        ].join("\n"),
    );
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}:${pathBefore ?? ""}`;
    return {
        calls: () =>
            fs
                .readdirSync(log)
                .sort()
                .map((call) => ({
                    args: fs
                        .readFileSync(path.join(log, call, "args"), "utf8")
                        .split("\0")
                        .slice(0, -1),
                    stdin: fs.readFileSync(path.join(log, call, "stdin"), "utf8"),
                })),
        restore: () => {
            process.env.PATH = pathBefore;
            remove();
        },
    };
}
