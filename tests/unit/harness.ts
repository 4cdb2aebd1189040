import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Machine, MigrationConfig, parseMigrationConfig } from "../../components/config";
import { Transport } from "../../machinery/remoteStep";
import { site443 } from "../hosts/nginx-conf";
import { registerDnsJson } from "../hosts/register";

/** Files as a 2019 install has them, from the test hosts' own generators. */
export const originalSite = site443("pryv.example.com", "/var/pryv");
export const originalDnsJson = registerDnsJson({ domain: "pryv.example.com", subdomain: "co1", coreIp: "10.0.0.11" });
const captured = (content: string) => ({
    stdout: `${JSON.stringify({ sha256: createHash("sha256").update(content).digest("hex"), base64: Buffer.from(content).toString("base64") })}\n`,
});

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
}

/** What the fake machines print, keyed by a test of the resource's name. */
export type FakeOutput = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

const recorded = new Map<string, Recorded>();
const resourceNames = new Map<pulumi.Resource, string>();
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
            return { id: `${args.name}-id`, state: { ...inputs, ...fakeOutput(args.name, inputs) } };
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
    const dependsOn = ([] as unknown[]).concat(args.opts.dependsOn ?? []);
    recorded.set(args.name, {
        type: args.type,
        name: args.name,
        inputs: {},
        parent: args.opts.parent === undefined ? undefined : resourceNames.get(args.opts.parent),
        dependsOn: dependsOn.map((resource) => resourceNames.get(resource as pulumi.Resource) ?? "?"),
        additionalSecretOutputs: (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
        secretInputs: [],
    });
    return undefined;
};

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
    fakeOutput = fake;
    const component = make({ transformations: [recorder] });
    let settled = -1;
    while (settled !== resourceNames.size) {
        settled = resourceNames.size;
        await Promise.all([...resourceNames.keys()].map((resource) => promiseOf(resource.urn)));
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
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

export function transportFor(executor: Transport["executor"]): Transport {
    const config = testConfig();
    return { executor, operatorPrivateKey: config.operatorPrivateKey, useSshAgent: false };
}

export const machines = (): { source: Machine; dest: Machine } => {
    const { source, dest } = testConfig();
    return { source, dest };
};

/** The bash script a step runs: both executors wrap it in the same quoted here-document. */
export function scriptOf(command: unknown): string {
    const text = String(command);
    const match = /^bash -euo pipefail -c "\$\(cat <<'PRYV_MIGRATION_SCRIPT_END'\n([\s\S]*)\nPRYV_MIGRATION_SCRIPT_END\n\)"$/.exec(text);
    if (match === null) throw new Error(`not a wrapped bash script: ${text.slice(0, 80)}`);
    return match[1];
}

const folderOf = (name: string): string => name.replace(/^.*?-(core-[a-z]+-data)$/, "$1").replace(/-/g, "/");

/** Plausible stdout for each kind of step, as the templates print it on a real machine. */
export const fakeMachines: FakeOutput = (name) => {
    const line = (value: object) => `${JSON.stringify(value)}\n`;
    if (name.endsWith("-keypair")) {
        return {
            stdout: ["core_mongodb_data", "core_core_data", "core_influxdb_data", "core_hfs_data"]
                .map((file) => `${file} ssh-ed25519 AAAA${file.replace(/_/g, "")}\n`)
                .join(""),
        };
    }
    if (name.endsWith("proxy-original")) return captured(originalSite);
    if (name.endsWith("-original")) return captured(originalDnsJson);
    if (name.endsWith("-answers")) return { stdout: line({ name: "co1.pryv.example.com", answer: "192.0.2.12" }) };
    if (name.endsWith("-site")) return { stdout: line({ sha256: "5a5a" }) + line({ startedAt: 200, healthyAt: 201 }) };
    if (name.endsWith("-services")) return { stdout: line({ startedAt: 1, healthyAt: 3.5 }) + line({ stoppedAt: 4 }) };
    if (name.endsWith("-stop-source")) return { stdout: line({ stoppedAt: 100 }) };
    if (name.endsWith("-start-dest")) return { stdout: line({ startedAt: 108, healthyAt: 112.5 }) };
    if (name.endsWith("-source-manifest") || name.endsWith("-verify")) {
        return { stdout: line({ folder: "core/core/data", entries: 3, bytes: 1024, digest: "ab12" }) };
    }
    if (/-core-[a-z]+-data$/.test(name)) {
        const cold = name.includes("final-sync");
        return {
            stdout: line({
                folder: folderOf(name),
                round: cold ? "cold" : "warm-1",
                bytesReceived: 10,
                bytesTransferred: 20,
                totalSize: 30,
                files: 4,
                startedAt: cold ? 101 : 1,
                finishedAt: cold ? 104 : 2,
                delete: true,
            }),
        };
    }
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
