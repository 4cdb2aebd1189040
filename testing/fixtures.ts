// What the unit tests configure and read: a complete stack config, the machines and
// transport it gives, and files as a 2019 install has them.
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Machine, MigrationConfig, parseMigrationConfig } from "../config";
import { Transport } from "../machinery/remoteStep";
import { serviceCheck, ServiceCheck } from "../machinery/services";
import { platformYml } from "../testbed/docker/v1";
import { site443 } from "../testbed/nginx-conf";
import { registerDnsJson } from "../testbed/register";

/** Files as a 2019 install has them, from the test hosts' own generators. */
export const originalSite = site443("pryv.example.com", "/var/pryv");
export const originalDnsJson = registerDnsJson({ domain: "pryv.example.com", subdomain: "co1", coreIp: "10.0.0.11" });
/** The config leader's platform.yml of a Pryv v1 platform, from the v1 test hosts' own generator. */
export const originalPlatformYml = platformYml({ domain: "pryv.example.com", subdomain: "co1", coreIp: "10.0.0.11" });
export const sha256 = (content: string | Buffer): string => createHash("sha256").update(content).digest("hex");
/** What file-capture.sh prints for a file holding `content`. */
export const capturedStdout = (content: string, path: string): string =>
    `${JSON.stringify({ path, sha256: sha256(content), base64: Buffer.from(content).toString("base64") })}\n`;

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

/** The message parseMigrationConfig refuses the test config with, `overrides` applied; fails the test if it is accepted. */
export function configRefusal(overrides: Record<string, unknown>): string {
    try {
        parseMigrationConfig(rawConfig(overrides), "unit");
    } catch (error) {
        assert.ok(error instanceof pulumi.ResourceError, `expected a ResourceError, got ${String(error)}`);
        return error.message;
    }
    assert.fail(`config was accepted: ${JSON.stringify(overrides)}`);
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

/** The health check the program builds from the test config. */
export function checkFor(config: MigrationConfig = testConfig()): ServiceCheck {
    return serviceCheck(config.healthCheck, config.domain, config.coreSubdomain);
}

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
