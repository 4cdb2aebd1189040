import type { PreviousRun } from "./previousRun";
import { folderNameEncodings } from "../machinery/folderNames";
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/**
 * The phases of MIGRATION.md, in procedure order: each adds resources to the one before.
 * There is no proxy phase: source's nginx starts proxying to dest inside the cutover.
 */
export const phases = ["prepare", "warm-sync", "cutover", "dns", "finalize"] as const;
export type Phase = (typeof phases)[number];

/** How rsync compresses what it sends; none by default: database pages and media barely compress, and compressing is CPU-bound on fast links. */
export const syncCompressions = ["none", "zstd", "lz4", "zlib"] as const;
export type SyncCompression = (typeof syncCompressions)[number];

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
// A folder outside PRYV_CONF_ROOT (the audit trail rsyslog writes) is named by its absolute path, the same on both machines.
const dataFolder = z
    .string()
    .refine((value) => (value.startsWith("/") ? value.split("/").length >= 3 && segmentsAreSafe(value.slice(1)) : segmentsAreSafe(value)), {
        message:
            "expected a folder relative to PRYV_CONF_ROOT (like core/mongodb/data), or one outside it by its absolute path (like /var/log/pryv/audit): at least two segments, no '..', no empty segment, no trailing '/'",
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
        runningCommand: argv.optional(),
        service: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "expected the compose service name of nginx, like reverse_proxy" })
            .default("reverse_proxy"),
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
            .default("/status"),
        timeoutSeconds: z.number().int().min(1).max(3600).default(180),
        command: argv.optional(),
    })
    .strict();

const syncSchema = z
    .object({
        compress: z.enum(syncCompressions, { errorMap: () => ({ message: `expected one of ${syncCompressions.join(", ")}` }) }).default("none"),
        maxDeletions: z.number().int().min(0).default(1000),
    })
    .strict();

const phaseMessage = (got: unknown): string =>
    `expected one of ${phases.join(", ")}${got === "proxy" ? " (proxy is now part of cutover, which ends with source's nginx proxying to dest: set cutover)" : ""}`;

const configSchema = z
    .object({
        phase: z.enum(phases, { errorMap: (_issue, context) => ({ message: phaseMessage(context.data) }) }),
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
            .array(dataFolder)
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
        sync: syncSchema.default({}),
        freshDestMaxFiles: z.number().int().min(0).default(500),
        destLost: z.boolean().default(false),
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
    /** Where its dns.json may be (absolute): the one configured, or the template's and the seed's, of which prepare takes the one that exists. */
    dnsJsonCandidates: string[];
    /** The setting that says where, for messages. */
    dnsJsonSetting: string;
    /** Where the DNS check sends its query. */
    dnsServer: string;
}

export interface ProxySettings {
    siteFile: string;
    /** nginx -t inside the proxy's own environment, run on the candidate file. */
    testCommand: string[];
    /** Starts nginx alone on source. */
    startCommand: string[];
    /** Lists the services running on source, one per line: after the stop and nginx's start, nothing but `service` may run. */
    runningCommand: string[];
    /** nginx's service name, as startCommand and runningCommand name it. */
    service: string;
    verifyDestCertificate: boolean;
    trustedCertificate: string;
}

export interface HealthCheck {
    command?: string[];
    path: string;
    timeoutSeconds: number;
}

export interface SyncSettings {
    /** How every rsync round compresses what it sends. */
    compress: SyncCompression;
    /** An rsync round on a core machine that would delete more entries than this stops before deleting. */
    maxDeletions: number;
}

export interface MigrationConfig extends Omit<
    ParsedConfig,
    "source" | "dest" | "operatorPrivateKey" | "healthCheck" | "proxy" | "registers" | "sync" | "freshDestMaxFiles" | "destLost"
> {
    source: Machine;
    dest: Machine;
    registers: Register[];
    proxy: ProxySettings;
    healthCheck: HealthCheck;
    sync: SyncSettings;
    /** prepare refuses when dest's data folders hold more files than this: dest looks like a live core. */
    freshDestMaxFiles: number;
    /** Back to source when dest is gone for good after the cutover, giving up its writes since then; only up to phase cutover. */
    destLost: boolean;
    operatorPrivateKey?: pulumi.Output<string>;
    /** Names the migration in markers left on the machines (authorized_keys, key folders). */
    migrationId: string;
    /** Where the stack's last successful run left it (read from its outputs by stackConfig.ts; nothing for a new stack). */
    previousRun: PreviousRun;
}

/** Where a register's dns.json is when the config does not say: Pryv's 2019 template, then the written procedure. */
export const defaultDnsJsonPaths = (name: string): string[] => [`${name}/dns/conf/dns.json`, `${name}/dns/dns.json`];

function register(parsed: ParsedRegister, index: number): Register {
    const { name, dnsJson, dnsServer, ...rest } = parsed;
    return {
        ...machine(name, { ...rest, startCommand: rest.startCommand ?? [`${rest.confRoot}/run-${name}`] }),
        dnsJsonCandidates: (dnsJson === undefined ? defaultDnsJsonPaths(name) : [dnsJson]).map((file) => `${parsed.confRoot}/${file}`),
        dnsJsonSetting: `registers.${index}.dnsJson`,
        dnsServer: dnsServer ?? parsed.host,
    };
}

function proxySettings(parsed: ParsedConfig["proxy"], source: Machine): ProxySettings {
    const compose = ["docker-compose", "-f", `${source.confRoot}/core.yml`];
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

/** The fields that tell one machine from another. */
export interface MachineIdentity {
    host: string;
    port: number;
    hostKey: string;
}

/** Two spellings of one address: IPs compared as addresses (IPv6 forms, IPv4-mapped), names without case. */
function sameAddress(a: string, b: string): boolean {
    const family = (address: string) => (net.isIPv6(address) ? "ipv6" : "ipv4");
    if (net.isIP(a) === 0 || net.isIP(b) === 0) return a.toLowerCase() === b.toLowerCase();
    const list = new net.BlockList();
    list.addAddress(a, family(a));
    return list.check(b, family(b));
}

/** What makes a and b the same machine: "host and port (h:p)", "hostKey"; empty when they differ. */
function sameMachine(a: MachineIdentity, b: MachineIdentity): string[] {
    return [
        ...(sameAddress(a.host, b.host) && a.port === b.port ? [`host and port (${net.isIPv6(a.host) ? `[${a.host}]` : a.host}:${a.port})`] : []),
        ...(a.hostKey === b.hostKey ? ["hostKey"] : []),
    ];
}

/** source and dest must be two machines: same host and port, or the same host key, is one. */
export function sourceDestProblems(source: MachineIdentity, dest: MachineIdentity): string[] {
    const matched = sameMachine(source, dest);
    if (matched.length === 0) return [];
    return [`source, dest: expected two different machines; got the same ${matched.join(" and the same ")} for both`];
}

/** A register on source or dest would be two roles on one machine. */
export function registerMachineProblems(registers: (MachineIdentity & { name: string })[], source: MachineIdentity, dest: MachineIdentity): string[] {
    return registers.flatMap((register, index) => {
        const matches = (
            [
                ["source", source],
                ["dest", dest],
            ] as const
        ).flatMap(([role, core]) => {
            const matched = sameMachine(register, core);
            return matched.length === 0 ? [] : [`the same ${matched.join(" and the same ")} as ${role}`];
        });
        if (matches.length === 0) return [];
        return [`registers.${index} (${register.name}): expected a machine other than source and dest; got ${matches.join(", and ")}`];
    });
}

const unroutable: [string, string, number, "ipv4" | "ipv6"][] = [
    ["an unspecified address (0.0.0.0/8, ::)", "0.0.0.0", 8, "ipv4"],
    ["an unspecified address (0.0.0.0/8, ::)", "::", 128, "ipv6"],
    ["a loopback address (127.0.0.0/8, ::1)", "127.0.0.0", 8, "ipv4"],
    ["a loopback address (127.0.0.0/8, ::1)", "::1", 128, "ipv6"],
    ["a link-local address (169.254.0.0/16, fe80::/10)", "169.254.0.0", 16, "ipv4"],
    ["a link-local address (169.254.0.0/16, fe80::/10)", "fe80::", 10, "ipv6"],
];

/**
 * destCoreIp is what the registers' DNS will answer for the core: it must be an address
 * users can reach, and not source's (a swapped or copied value would keep users on source).
 */
export function destCoreIpProblems(destCoreIp: string, source: { host: string; addressForPeers?: string }): string[] {
    const expected = "destCoreIp: expected dest's public IP address, which the registers' DNS will answer for the core";
    if (net.isIP(destCoreIp) === 0) return [];
    const family = net.isIPv6(destCoreIp) ? "ipv6" : "ipv4";
    const kind = unroutable.find(([, network, prefix, networkFamily]) => {
        const list = new net.BlockList();
        list.addSubnet(network, prefix, networkFamily);
        return list.check(destCoreIp, family);
    });
    if (kind !== undefined) return [`${expected}; got ${describe(destCoreIp)}, ${kind[0]} that no user can reach`];
    const sourceKey = (["host", "addressForPeers"] as const).find((key) => {
        const address = source[key];
        return address !== undefined && net.isIP(address) !== 0 && sameAddress(address, destCoreIp);
    });
    if (sourceKey !== undefined) return [`${expected}; got ${describe(destCoreIp)}, which is source's address (source.${sourceKey})`];
    return [];
}

const holds = (folder: string, path: string): boolean => path === folder || path.startsWith(`${folder}/`);

/**
 * A data folder is synced whole onto dest, and carried back onto source on rollback: it
 * must not hold the nginx configuration the proxy step replaces, nor a register's files.
 * Paths are relative to confRoot, as configured.
 */
export function dataFolderProblems(dataFolders: string[], siteFile: string, registers: { name: string; dnsJson?: string }[]): string[] {
    return dataFolders.flatMap((folder, index) => {
        const held = [
            ...(holds(folder, siteFile)
                ? [`the nginx configuration (proxy.siteFile ${siteFile}): its cold sync would overwrite dest's nginx and certificates`]
                : []),
            ...registers.flatMap((register, registerIndex) => {
                const dnsJson = register.dnsJson === undefined ? defaultDnsJsonPaths(register.name) : [register.dnsJson];
                return holds(register.name, folder) || dnsJson.some((file) => holds(folder, file))
                    ? [`register ${register.name}'s files (registers.${registerIndex}: ${register.name}/, ${dnsJson.join(", ")})`]
                    : [];
            }),
        ];
        if (held.length === 0) return [];
        return [`dataFolders.${index}: expected a folder of users' data; got ${describe(folder)}, which holds ${held.join(", and ")}`];
    });
}

/** What a data folder named by its absolute path may not be or hold: a sync replaces it whole, and a rollback carries dest's back onto source. */
const systemFolders = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/tmp",
    "/usr",
    "/var/lib",
    "/var/log",
];
/** Nor lie in, beside the above: the machine's programs and configuration. */
const systemTrees = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr"];

/**
 * A data folder named by its absolute path lies outside both machines' confRoot (one
 * inside is listed relative to it) and holds neither confRoot nor a system folder.
 * Where each resolves is checked on the machines by prepare (data-folders-resolve.sh).
 */
export function absoluteDataFolderProblems(dataFolders: string[], confRoots: { role: string; confRoot: string }[]): string[] {
    return dataFolders.flatMap((folder, index) => {
        if (!folder.startsWith("/")) return [];
        const problems = [
            ...confRoots.flatMap(({ role, confRoot }) =>
                holds(confRoot, folder)
                    ? [`it lies in ${role}.confRoot (${confRoot}): list it relative to confRoot, as ${describe(folder.slice(confRoot.length + 1))}`]
                    : holds(folder, confRoot)
                      ? [`it holds ${role}.confRoot (${confRoot}): list the folders of users' data, not what holds them`]
                      : [],
            ),
            ...systemFolders.filter((system) => holds(folder, system)).map((system) => `it holds the system folder ${system}`),
            ...systemTrees.filter((tree) => holds(tree, folder) && folder !== tree).map((tree) => `it lies in the system folder ${tree}`),
        ];
        return problems.length === 0
            ? []
            : [`dataFolders.${index}: expected a folder of users' data outside confRoot; got ${describe(folder)}: ${[...new Set(problems)].join("; ")}`];
    });
}

/** Two folders whose names collide once encoded would share resource names, logs, manifests or key files. */
export function dataFolderNameProblems(dataFolders: string[]): string[] {
    return folderNameEncodings.flatMap(({ encode, usedFor }) =>
        dataFolders.flatMap((folder, index) => {
            const first = dataFolders.findIndex((other) => encode(other) === encode(folder));
            if (first === index) return [];
            return [
                `dataFolders.${first}, dataFolders.${index}: expected folders whose names stay distinct in ${usedFor} (${describe(encode(folder))}); got ${describe(dataFolders[first])} and ${describe(folder)}`,
            ];
        }),
    );
}

/**
 * destLost takes the migration back to source without dest: set first with phase cutover
 * (the undos that would need dest are rewritten, nothing runs), then with warm-sync.
 */
export function destLostProblems(destLost: boolean, phase: Phase): string[] {
    if (!destLost || !phaseReached(phase, "dns")) return [];
    return [
        `destLost: expected only with phase cutover, warm-sync or prepare (with dest gone for good the migration can only go back to source, giving up dest's writes since the cutover); got true with phase ${describe(phase)}: set phase to cutover`,
    ];
}

function semanticProblems(parsed: ParsedConfig): string[] {
    return [
        ...sourceDestProblems(parsed.source, parsed.dest),
        ...destCoreIpProblems(parsed.destCoreIp, parsed.source),
        ...registerMachineProblems(parsed.registers, parsed.source, parsed.dest),
        ...dataFolderProblems(parsed.dataFolders, parsed.proxy.siteFile, parsed.registers),
        ...dataFolderNameProblems(parsed.dataFolders),
        ...absoluteDataFolderProblems(parsed.dataFolders, [
            { role: "source", confRoot: parsed.source.confRoot },
            { role: "dest", confRoot: parsed.dest.confRoot },
        ]),
        ...destLostProblems(parsed.destLost, parsed.phase),
    ];
}

/** The one way the program refuses its stack config: every problem, each naming its key, before anything runs. */
export function refuse(problems: string[]): never {
    throw new pulumi.ResourceError(`Invalid stack config for pryv-core-migration:\n${problems.map((problem) => `  ${problem}`).join("\n")}`, undefined, true);
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
