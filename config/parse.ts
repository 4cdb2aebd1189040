// The stack config read once, at the edge: checked whole (schema, then the checks across
// keys), every problem refused at once, then turned into the program's types.
import * as pulumi from "@pulumi/pulumi";
import { semanticProblems } from "./checks";
import { describe, refuse } from "./refuse";
import { configSchema, defaultDnsJsonPaths, ParsedConfig, ParsedMachine, ParsedRegister } from "./schema";
import type { Machine, MigrationConfig, ProxySettings, Register } from "./types";

function register(parsed: ParsedRegister, index: number): Register {
    const { name, dnsJson, dnsServer, ...rest } = parsed;
    return {
        ...machine(name, { ...rest, startCommand: rest.startCommand ?? [`${rest.confRoot}/run-${name}`] }),
        dnsJsonCandidates: (dnsJson === undefined ? defaultDnsJsonPaths(name) : [dnsJson]).map((file) => `${parsed.confRoot}/${file}`),
        dnsJsonSetting: `registers.${index}.dnsJson`,
        dnsServer: dnsServer ?? parsed.host,
    };
}

/** The compose file of a core machine in Pryv's 2019 layout: what its start and stop scripts run. */
export const composeFileOf = (machine: Pick<Machine, "confRoot">): string => `${machine.confRoot}/core.yml`;

function proxySettings(parsed: ParsedConfig["proxy"], source: Machine): ProxySettings {
    const compose = ["docker-compose", "-f", composeFileOf(source)];
    return {
        siteFile: `${source.confRoot}/${parsed.siteFile}`,
        testCommand: parsed.testCommand ?? [...compose, "run", "--rm", "--no-deps", parsed.service, "nginx", "-t"],
        // --no-deps: reverse_proxy links core, hfs and preview, which link the databases; without it compose starts them all again.
        startCommand: parsed.startCommand ?? [...compose, "up", "-d", "--no-deps", parsed.service],
        runningCommand: parsed.runningCommand ?? [...compose, "ps", "--services", "--filter", "status=running"],
        service: parsed.service,
        verifyDestCertificate: parsed.verifyDestCertificate,
        trustedCertificate: parsed.trustedCertificate,
    };
}

function machine(role: string, parsed: ParsedMachine): Machine {
    return {
        role,
        host: parsed.host,
        port: parsed.port,
        user: parsed.user,
        hostKey: parsed.hostKey,
        confRoot: parsed.confRoot,
        addressForPeers: parsed.addressForPeers ?? parsed.host,
        startCommand: parsed.startCommand ?? [`${parsed.confRoot}/run-core`],
        stopCommand: parsed.stopCommand ?? [`${parsed.confRoot}/stop-containers`],
    };
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
    return path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined), raw);
}

/**
 * Validates the stack config once, before any resource is declared. `raw` maps each
 * config key (without the project prefix) to its value; secrets are plain here and are
 * wrapped back into secret Outputs. Throws a ResourceError naming every bad key.
 */
export function parseMigrationConfig(raw: Record<string, unknown>, migrationId: string): MigrationConfig {
    const result = configSchema.safeParse(raw);
    if (!result.success) {
        const problems = result.error.issues.map((issue) => {
            const key = issue.path.join(".") || "(config)";
            const got = issue.path[0] === "operatorPrivateKey" ? "a value (secret, not shown)" : describe(valueAt(raw, issue.path));
            const unknownKeys = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
            return `${key}: ${issue.message}${unknownKeys}; got ${got}`;
        });
        refuse(problems);
    }
    const parsed = result.data;
    const problems = semanticProblems(parsed);
    if (problems.length > 0) refuse(problems);
    if (!/^[A-Za-z0-9._-]+$/.test(migrationId)) {
        throw new pulumi.ResourceError(`Invalid stack name ${describe(migrationId)}: expected letters, digits, '.', '_', '-'`, undefined, true);
    }
    const source = machine("source", parsed.source);
    return {
        ...parsed,
        source,
        dest: machine("dest", parsed.dest),
        registers: parsed.registers.map((parsedRegister, index) => register(parsedRegister, index)),
        proxy: proxySettings(parsed.proxy, source),
        healthCheck: parsed.healthCheck,
        sync: { compress: parsed.sync.compress, maxDeletions: parsed.sync.maxDeletions },
        freshDestMaxFiles: parsed.freshDestMaxFiles,
        destLost: parsed.destLost,
        operatorPrivateKey: parsed.operatorPrivateKey === undefined ? undefined : pulumi.secret(parsed.operatorPrivateKey),
        migrationId,
        previousRun: {},
    };
}
