// The config's checks beyond the schema, across keys: each returns its problems as
// sentences naming the keys, so that every one is refused at once.
import * as net from "net";
import { folderNameEncodings } from "./folderNames";
import { Layout, layouts, onMachine } from "./layouts";
import { Phase, phaseReached } from "./phases";
import type { LaidOutConfig } from "./schema";
import { describe } from "./refuse";
import type { MachineIdentity } from "./types";

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
export function dataFolderProblems(dataFolders: string[], siteFile: string, registers: { name: string; dnsJson?: string }[], layout: Layout): string[] {
    return dataFolders.flatMap((folder, index) => {
        const held = [
            ...(holds(folder, siteFile)
                ? [`the nginx configuration (proxy.siteFile ${siteFile}): its cold sync would overwrite dest's nginx and certificates`]
                : []),
            ...registers.flatMap((register, registerIndex) => {
                const dnsJson = register.dnsJson === undefined ? onMachine(layout.register.dnsJson, "", register.name) : [register.dnsJson];
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

/** configLeader names the register whose platform.yml the dns phase edits: only in a layout whose registers read it. */
export function configLeaderProblems(parsed: Pick<LaidOutConfig, "layout" | "configLeader" | "registers">): string[] {
    const { platformYml } = layouts[parsed.layout];
    const given = Object.entries(parsed.configLeader).filter(([, value]) => value !== undefined);
    if (platformYml === undefined) {
        if (given.length === 0) return [];
        return [
            `configLeader: expected nothing with layout ${parsed.layout}, whose registers each read their own dns.json; got ${given.map(([key, value]) => `${key} ${describe(value)}`).join(", ")}: is layout right?`,
        ];
    }
    const leader = parsed.configLeader.register ?? platformYml.leader;
    if (parsed.registers.length === 0 || parsed.registers.some((register) => register.name === leader)) return [];
    return [
        `configLeader.register: expected the name of the register that runs the config leader, one of registers (${parsed.registers.map((register) => register.name).join(", ")}); got ${describe(leader)}${parsed.configLeader.register === undefined ? " (the default)" : ""}`,
    ];
}

export function semanticProblems(parsed: LaidOutConfig): string[] {
    return [
        ...sourceDestProblems(parsed.source, parsed.dest),
        ...destCoreIpProblems(parsed.destCoreIp, parsed.source),
        ...registerMachineProblems(parsed.registers, parsed.source, parsed.dest),
        ...dataFolderProblems(parsed.dataFolders, parsed.proxy.siteFile, parsed.registers, layouts[parsed.layout]),
        ...dataFolderNameProblems(parsed.dataFolders),
        ...absoluteDataFolderProblems(parsed.dataFolders, [
            { role: "source", confRoot: parsed.source.confRoot },
            { role: "dest", confRoot: parsed.dest.confRoot },
        ]),
        ...destLostProblems(parsed.destLost, parsed.phase),
        ...configLeaderProblems(parsed),
    ];
}
