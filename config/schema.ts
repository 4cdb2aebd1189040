// The stack config's shape, as zod checks it key by key: the patterns every value that
// reaches a shell, an authorized_keys option or an rsync path keeps to, and the defaults
// that do not depend on the layout (those are in layouts.ts).
import * as net from "net";
import { z } from "zod";
import { layoutNames, layouts } from "./layouts";
import { phases } from "./phases";

/** How rsync compresses what it sends; none by default: database pages and media barely compress, and compressing is CPU-bound on fast links. */
export const syncCompressions = ["none", "zstd", "lz4", "zlib"] as const;
export type SyncCompression = (typeof syncCompressions)[number];

/** The data folders of the default layout. */
export const defaultDataFolders = layouts["pryv-2019"].dataFolders;

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

/** Pryv v1's config follower on a machine: how it is stopped and started. */
const configFollowerSchema = z.object({ stopCommand: argv, startCommand: argv }).strict();

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
        siteFile: relativeFolder.optional(),
        testCommand: argv.optional(),
        startCommand: argv.optional(),
        runningCommand: argv.optional(),
        service: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "expected the compose service name of nginx, like reverse_proxy" })
            .optional(),
        configFollower: configFollowerSchema.optional(),
        verifyDestCertificate: z.boolean().default(true),
        trustedCertificate: absolutePath.default("/etc/ssl/certs/ca-certificates.crt"),
    })
    .strict();

const registerSchema = machineSchema
    .extend({
        configFollower: configFollowerSchema.optional(),
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

/** Every key of the stack config, each checked alone (Pulumi.yaml declares the same keys, with the same defaults). */
export const configKeys = z
    .object({
        phase: z.enum(phases, { errorMap: (_issue, context) => ({ message: phaseMessage(context.data) }) }),
        layout: z.enum(layoutNames, { errorMap: () => ({ message: `expected one of ${layoutNames.join(", ")}` }) }).default("pryv-2019"),
        warmSyncRound: z.number().int().min(1).default(1),
        executor: z.enum(["command", "openssh"], { errorMap: () => ({ message: "expected 'command' or 'openssh'" }) }).default("command"),
        source: machineSchema,
        dest: machineSchema,
        domain: z.string().refine((value) => value.split(".").length >= 2 && value.split(".").every((label) => dnsLabel.test(label)), {
            message: "expected a lower-case DNS domain like pryv.example.com",
        }),
        coreSubdomain: z.string().regex(dnsLabel, { message: "expected one lower-case DNS label like co1 (no dots, no spaces)" }).default("co1"),
        destCoreIp: z.string().refine((value) => net.isIP(value) !== 0, { message: "expected an IPv4 or IPv6 address" }),
        // Empty: the layout's.
        dataFolders: z.array(dataFolder).default([]).refine(foldersAreDisjoint, { message: "expected distinct folders, none inside another" }),
        healthCheck: healthCheckSchema.default({}),
        proxy: proxySchema.default({}),
        configLeader: z
            .object({
                register: z
                    .string()
                    .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, { message: "expected a register's name, like reg-master" })
                    .optional(),
                platformYml: relativeFolder.optional(),
                hosting: z
                    .string()
                    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: "expected a hosting's key under HOSTINGS_AND_CORES, like hosting1" })
                    .optional(),
            })
            .strict()
            .default({}),
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
    .strict();

export const configSchema = configKeys
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

export type ParsedConfig = z.infer<typeof configSchema>;
/** The config with what its layout gives where it names nothing: the data folders, the site file. */
export type LaidOutConfig = ParsedConfig & { proxy: ParsedConfig["proxy"] & { siteFile: string } };
export type ParsedMachine = z.infer<typeof machineSchema>;
export type ParsedRegister = z.infer<typeof registerSchema>;
