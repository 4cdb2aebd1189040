// The stack config read once, at the edge: checked whole (schema, then the checks across
// keys), every problem refused at once, then turned into the program's types.
import * as pulumi from "@pulumi/pulumi";
import { semanticProblems } from "./checks";
import { Layout, layouts, onMachine } from "./layouts";
import { describe, refuse } from "./refuse";
import { configSchema, LaidOutConfig, ParsedConfig, ParsedMachine, ParsedRegister } from "./schema";
import type { ConfigFollower, ConfigLeader, Machine, MigrationConfig, ProxySettings, Register } from "./types";

function register(parsed: ParsedRegister, index: number, layout: Layout): Register {
    const { name, dnsJson, dnsServer, configFollower, ...rest } = parsed;
    const follower = followerOf(configFollower, layout, rest.confRoot);
    const onRegister = (words: string[]) => onMachine(words, rest.confRoot, name);
    return {
        ...machine(name, rest, { startCommand: onRegister(layout.register.startCommand), stopCommand: onRegister(layout.register.stopCommand) }),
        ...(follower === undefined ? {} : { configFollower: follower }),
        dnsJsonCandidates: (dnsJson === undefined ? onRegister(layout.register.dnsJson) : [dnsJson]).map((file) => `${parsed.confRoot}/${file}`),
        dnsJsonSetting: `registers.${index}.dnsJson`,
        dnsServer: dnsServer ?? parsed.host,
    };
}

/** A machine's config follower: the one its settings name, else the layout's, on that machine. */
function followerOf(given: ConfigFollower | undefined, layout: Layout, confRoot: string): ConfigFollower | undefined {
    if (given !== undefined || layout.configFollower === undefined) return given;
    return { stopCommand: onMachine(layout.configFollower.stopCommand, confRoot), startCommand: onMachine(layout.configFollower.startCommand, confRoot) };
}

function proxySettings(parsed: ParsedConfig["proxy"], source: Machine, layout: Layout): ProxySettings {
    const compose = onMachine(layout.compose, source.confRoot);
    const service = parsed.service ?? layout.proxyService;
    const follower = followerOf(parsed.configFollower, layout, source.confRoot);
    return {
        siteFile: `${source.confRoot}/${parsed.siteFile ?? layout.siteFile}`,
        testCommand: parsed.testCommand ?? [...compose, "run", "--rm", "--no-deps", service, "nginx", "-t"],
        // --no-deps: reverse_proxy links core, hfs and preview, which link the databases; without it compose starts them all again.
        startCommand: parsed.startCommand ?? [...compose, "up", "-d", "--no-deps", service],
        runningCommand: parsed.runningCommand ?? [...compose, "ps", "--services", "--filter", "status=running"],
        service,
        ...(follower === undefined ? {} : { configFollower: follower }),
        verifyDestCertificate: parsed.verifyDestCertificate,
        trustedCertificate: parsed.trustedCertificate,
    };
}

function machine(role: string, parsed: ParsedMachine, defaults: Pick<Machine, "startCommand" | "stopCommand">): Machine {
    return {
        role,
        host: parsed.host,
        port: parsed.port,
        user: parsed.user,
        hostKey: parsed.hostKey,
        confRoot: parsed.confRoot,
        addressForPeers: parsed.addressForPeers ?? parsed.host,
        startCommand: parsed.startCommand ?? defaults.startCommand,
        stopCommand: parsed.stopCommand ?? defaults.stopCommand,
    };
}

/** A core machine: its commands default to the layout's. */
const coreMachine = (role: string, parsed: ParsedMachine, layout: Layout): Machine =>
    machine(role, parsed, { startCommand: onMachine(layout.startCommand, parsed.confRoot), stopCommand: onMachine(layout.stopCommand, parsed.confRoot) });

/** Where the dns phase edits the core's address in a layout whose registers read it from the config leader. */
function configLeader(parsed: ParsedConfig, platformYml: Layout["platformYml"]): ConfigLeader | undefined {
    const name = parsed.configLeader.register ?? platformYml?.leader;
    const leader = parsed.registers.find((register) => register.name === name);
    // Without registers (before the dns phase) there is nothing to edit; configLeaderProblems refuses a leader not among them.
    if (platformYml === undefined || leader === undefined) return undefined;
    const { hosting } = parsed.configLeader;
    return {
        register: leader.name,
        platformYml: `${leader.confRoot}/${parsed.configLeader.platformYml ?? platformYml.file}`,
        ...(hosting === undefined ? {} : { hosting }),
    };
}

/** The config with the layout's data folders and site file where it names none. */
function withLayout(parsed: ParsedConfig, layout: Layout): LaidOutConfig {
    return {
        ...parsed,
        dataFolders: parsed.dataFolders.length > 0 ? parsed.dataFolders : layout.dataFolders,
        proxy: { ...parsed.proxy, siteFile: parsed.proxy.siteFile ?? layout.siteFile },
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
    const layout = layouts[result.data.layout];
    const parsed = withLayout(result.data, layout);
    const problems = semanticProblems(parsed);
    if (problems.length > 0) refuse(problems);
    if (!/^[A-Za-z0-9._-]+$/.test(migrationId)) {
        throw new pulumi.ResourceError(`Invalid stack name ${describe(migrationId)}: expected letters, digits, '.', '_', '-'`, undefined, true);
    }
    const source = coreMachine("source", parsed.source, layout);
    return {
        ...parsed,
        source,
        dest: coreMachine("dest", parsed.dest, layout),
        composeFile: layout.composeFile,
        registers: parsed.registers.map((parsedRegister, index) => register(parsedRegister, index, layout)),
        configLeader: configLeader(parsed, layout.platformYml),
        proxy: proxySettings(parsed.proxy, source, layout),
        healthCheck: parsed.healthCheck,
        sync: { compress: parsed.sync.compress, maxDeletions: parsed.sync.maxDeletions },
        freshDestMaxFiles: parsed.freshDestMaxFiles,
        destLost: parsed.destLost,
        operatorPrivateKey: parsed.operatorPrivateKey === undefined ? undefined : pulumi.secret(parsed.operatorPrivateKey),
        migrationId,
        previousRun: {},
    };
}
