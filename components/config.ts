import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** The phases of MIGRATION.md, in procedure order: each adds resources to the one before. */
export const phases = ["prepare", "warm-sync", "cutover", "proxy", "dns", "finalize"] as const;
export type Phase = (typeof phases)[number];

export function phaseReached(current: Phase, wanted: Phase): boolean {
    return phases.indexOf(current) >= phases.indexOf(wanted);
}

export const defaultDataFolders = ["core/mongodb/data", "core/core/data", "core/influxdb/data", "core/hfs/data"];

// Values below end up in shell commands, authorized_keys options and rsync paths; the
// patterns keep to characters none of those read as syntax, quoting is a second guard.
const hostPattern = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const userPattern = /^[a-z_][a-z0-9_-]{0,31}$/;
const hostKeyPattern = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;
const pathSegment = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const imagePattern = /^[a-z0-9][a-z0-9._/:@-]*$/;

const segmentsAreSafe = (path: string): boolean => path.split("/").every((segment) => pathSegment.test(segment) && segment !== "..");

const host = z.string().refine((value) => net.isIP(value) !== 0 || hostPattern.test(value), {
    message: "expected a host name or an IP address (letters, digits, '.', '-')",
});
const absolutePath = z
    .string()
    .refine((value) => /^\/./.test(value) && segmentsAreSafe(value.slice(1).replace(/\/$/, "")), {
        message: "expected an absolute path other than '/', of letters, digits, '.', '_', '-' segments, without '..'",
    })
    .transform((value) => value.replace(/\/$/, ""));
const relativeFolder = z.string().refine((value) => !value.startsWith("/") && segmentsAreSafe(value), {
    message: "expected a folder relative to PRYV_CONF_ROOT (like core/mongodb/data): no leading '/', no '..', no empty segment",
});
const argv = z
    .array(
        z
            .string()
            .min(1)
            .refine((word) => !/[\n\r\0]/.test(word), { message: "expected no newline or NUL" }),
    )
    .min(1, { message: "expected a command as a non-empty list of words" });

const machineSchema = z
    .object({
        host,
        port: z.number().int().min(1).max(65535).default(22),
        user: z.string().regex(userPattern, { message: "expected a Unix user name" }).default("root"),
        hostKey: z
            .string({ required_error: "required: the machine's SSH host public key, like 'ssh-ed25519 AAAA...' (no trust on first use)" })
            .trim()
            .regex(hostKeyPattern, { message: "expected an SSH public host key: '<type> <base64>', type ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa" }),
        confRoot: absolutePath.default("/var/pryv"),
        addressForPeers: host.optional(),
        startCommand: argv.optional(),
        stopCommand: argv.optional(),
    })
    .strict();

const proxySchema = z
    .object({
        siteFile: relativeFolder.default("core/nginx/conf/site-443.conf"),
        testCommand: argv.optional(),
        startCommand: argv.optional(),
        verifyDestCertificate: z.boolean().default(true),
        trustedCertificate: absolutePath.default("/etc/ssl/certs/ca-certificates.crt"),
    })
    .strict();

const registerSchema = machineSchema
    .extend({
        name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, { message: "expected a short lower-case name like reg-master" }),
        dnsJson: relativeFolder.optional(),
        dnsServer: host.optional(),
    })
    .strict();

const healthCheckSchema = z
    .object({
        path: z
            .string()
            .regex(/^\/[A-Za-z0-9._~/?=&%-]*$/, { message: "expected an URL path starting with '/'" })
            .default("/reg/service/info"),
        timeoutSeconds: z.number().int().min(1).max(3600).default(180),
        command: argv.optional(),
    })
    .strict();

const configSchema = z
    .object({
        phase: z.enum(phases, { errorMap: () => ({ message: `expected one of ${phases.join(", ")}` }) }),
        warmSyncRound: z.number().int().min(1).default(1),
        executor: z.enum(["command", "openssh"], { errorMap: () => ({ message: "expected 'command' or 'openssh'" }) }).default("command"),
        source: machineSchema,
        dest: machineSchema,
        domain: z.string().refine((value) => value.split(".").length >= 2 && value.split(".").every((label) => dnsLabel.test(label)), {
            message: "expected a lower-case DNS domain like pryv.example.com",
        }),
        coreSubdomain: z.string().regex(dnsLabel, { message: "expected one lower-case DNS label like co1 (no dots, no spaces)" }).default("co1"),
        destCoreIp: z.string().refine((value) => net.isIP(value) !== 0, { message: "expected an IPv4 or IPv6 address" }),
        dataFolders: z
            .array(relativeFolder)
            .min(1)
            .default(defaultDataFolders)
            .refine(foldersAreDisjoint, { message: "expected distinct folders, none inside another" }),
        healthCheck: healthCheckSchema.default({}),
        proxy: proxySchema.default({}),
        registers: z
            .array(registerSchema)
            .default([])
            .refine((registers) => new Set(registers.map((r) => r.name)).size === registers.length, { message: "expected distinct register names" }),
        destImages: z.array(z.string().regex(imagePattern, { message: "expected a Docker image reference" })).default([]),
        useSshAgent: z.boolean().default(false),
        operatorPrivateKey: z
            .string()
            .refine((value) => /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z ]*PRIVATE KEY-----\s*$/.test(value), {
                message: "expected a PEM/OpenSSH private key ('-----BEGIN ... PRIVATE KEY-----')",
            })
            .optional(),
    })
    .strict()
    .refine((config) => config.useSshAgent || config.operatorPrivateKey !== undefined, {
        message: "set operatorPrivateKey (pulumi config set --secret operatorPrivateKey < key) or useSshAgent: true",
        path: ["operatorPrivateKey"],
    })
    .refine((config) => config.registers.length > 0 || phases.indexOf(config.phase) < phases.indexOf("dns"), {
        message: "expected at least one register (reg-master, reg-slave) from phase dns on",
        path: ["registers"],
    });

function foldersAreDisjoint(folders: string[]): boolean {
    return folders.every((folder, index) =>
        folders.every((other, otherIndex) => index === otherIndex || (folder !== other && !folder.startsWith(`${other}/`))),
    );
}

type ParsedConfig = z.infer<typeof configSchema>;
type ParsedMachine = z.infer<typeof machineSchema>;
type ParsedRegister = z.infer<typeof registerSchema>;

export interface Machine {
    /** The role in the procedure (source, dest, or a register's name), used in resource names and markers. */
    role: string;
    host: string;
    port: number;
    user: string;
    hostKey: string;
    confRoot: string;
    /** How the other core machine reaches this one (rsync between them). */
    addressForPeers: string;
    startCommand: string[];
    stopCommand: string[];
}

export interface Register extends Machine {
    /** dns.json, absolute. */
    dnsJson: string;
    /** Where the DNS check sends its query. */
    dnsServer: string;
}

export interface ProxySettings {
    siteFile: string;
    /** nginx -t inside the proxy's own environment, run on the candidate file. */
    testCommand: string[];
    /** Starts nginx alone on source. */
    startCommand: string[];
    verifyDestCertificate: boolean;
    trustedCertificate: string;
}

export interface HealthCheck {
    command?: string[];
    path: string;
    timeoutSeconds: number;
}

export interface MigrationConfig extends Omit<ParsedConfig, "source" | "dest" | "operatorPrivateKey" | "healthCheck" | "proxy" | "registers"> {
    source: Machine;
    dest: Machine;
    registers: Register[];
    proxy: ProxySettings;
    healthCheck: HealthCheck;
    operatorPrivateKey?: pulumi.Output<string>;
    /** Names the migration in markers left on the machines (authorized_keys, key folders). */
    migrationId: string;
}

function register(parsed: ParsedRegister): Register {
    const { name, dnsJson, dnsServer, ...rest } = parsed;
    return {
        ...machine(name, { ...rest, startCommand: rest.startCommand ?? [`${rest.confRoot}/run-${name}`] }),
        dnsJson: `${parsed.confRoot}/${dnsJson ?? `${name}/dns/dns.json`}`,
        dnsServer: dnsServer ?? parsed.host,
    };
}

function proxySettings(parsed: ParsedConfig["proxy"], source: Machine): ProxySettings {
    const compose = ["docker-compose", "-f", `${source.confRoot}/core.yml`];
    return {
        siteFile: `${source.confRoot}/${parsed.siteFile}`,
        testCommand: parsed.testCommand ?? [...compose, "run", "--rm", "--no-deps", "reverse_proxy", "nginx", "-t"],
        startCommand: parsed.startCommand ?? [...compose, "up", "-d", "reverse_proxy"],
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

function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
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
            return `  ${key}: ${issue.message}${unknownKeys}; got ${got}`;
        });
        throw new pulumi.ResourceError(`Invalid stack config for pryv-core-migration:\n${problems.join("\n")}`, undefined, true);
    }
    const parsed = result.data;
    if (!/^[A-Za-z0-9._-]+$/.test(migrationId)) {
        throw new pulumi.ResourceError(`Invalid stack name ${describe(migrationId)}: expected letters, digits, '.', '_', '-'`, undefined, true);
    }
    const source = machine("source", parsed.source);
    return {
        ...parsed,
        source,
        dest: machine("dest", parsed.dest),
        registers: parsed.registers.map(register),
        proxy: proxySettings(parsed.proxy, source),
        healthCheck: parsed.healthCheck,
        operatorPrivateKey: parsed.operatorPrivateKey === undefined ? undefined : pulumi.secret(parsed.operatorPrivateKey),
        migrationId,
    };
}
