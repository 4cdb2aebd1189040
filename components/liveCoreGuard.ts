import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { ConfigFollower, Machine, ProxySettings, Register } from "../config";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { ServiceCheck, sourceServesScript } from "../machinery/services";
import { render } from "../machinery/templates";

export interface LiveCoreGuardArgs {
    source: Machine;
    dest: Machine;
    dataFolders: string[];
    /** The core's compose file, relative to confRoot: dest must run the images source's runs. */
    composeFile: string;
    /** dest's data folders may hold at most this many files (config freshDestMaxFiles). */
    freshDestMaxFiles: number;
    registers: Register[];
    /** <sub>.<domain>, as users resolve it. */
    coreName: string;
    destCoreIp: string;
    check: ServiceCheck;
    /** source's nginx commands, checked to exist there. */
    proxy: ProxySettings;
    transport: Transport;
}

/** What the migration runs on both core machines: the pulls and their keys, the descriptions and manifests, the file steps. */
const coreTools = ["rsync", "rrsync", "ssh-keygen", "sha256sum", "base64", "find", "du", "df", "stat", "awk", "flock"];
/** rrsync ships with rsync from 3.2.4 on, and the final round's --trust-sender from 3.2.5 on; many hosts of the 2019 era have 3.1. */
const minRsync = "3.2.5";
/** What the dns phase and the final check run on a register. */
const registerTools = ["dig", "sha256sum", "base64"];

/** The kernel's limit of inotify watches per user, which the change journal needs one of per directory. */
const inotifyWatchesFile = "/proc/sys/fs/inotify/max_user_watches";

/** What source-data prints: a line per data folder, then one for its compose file. */
interface SourceData {
    folder?: string;
    bytes?: number;
    largestFile?: number;
    composeFile?: boolean;
    images?: string;
}

/** A command setting's first word, which must be a program on the machine: `[setting, words]` pairs. */
/** The program a command runs: past `env` and its NAME=value words (Pryv v1's compose files read PRYV_CONF_ROOT). */
const programOf = (words: string[]): string =>
    words[0] !== "env" ? words[0] : (words.slice(1).find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) ?? "env");
/** A config follower's commands (Pryv v1), under the setting that names them. */
const followerCommands = (setting: string, follower: ConfigFollower | undefined): [string, string[]][] =>
    follower === undefined
        ? []
        : [
              [`${setting}.stopCommand`, follower.stopCommand],
              [`${setting}.startCommand`, follower.startCommand],
          ];
const programsOf = (commands: [string, string[]][]) => commands.map(([setting, words]) => ({ setting, program: programOf(words) }));

/**
 * Before anything is written or stopped on any machine: the machine named source must be
 * the live core and the one named dest a fresh install. Source and dest swapped in the
 * config would otherwise stop the live core and overwrite it with an empty one.
 */
export class LiveCoreGuard extends pulumi.ComponentResource {
    public readonly checks: pulumi.Resource[];

    constructor(name: string, args: LiveCoreGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:LiveCoreGuard", name, {}, opts);
        const { source, dest, transport } = args;
        const declare = (suffix: string, machine: Machine, create: pulumi.Input<string>) =>
            declareStep(`${name}-${suffix}`, { machine, create }, transport, { parent: this });
        const step = (suffix: string, machine: Machine, create: pulumi.Input<string>) => declare(suffix, machine, create).resource;
        // The health check's own program (curl by default), on both core machines.
        const checkProgram: [string, string[]][] = [["healthCheck.command", args.check.command]];
        const tools = (machine: Machine, values: { tools: string[]; optional?: string[]; minRsync?: string; commands: [string, string[]][] }) =>
            step(
                `${machine.role}-tools`,
                machine,
                render("tools-present.sh", {
                    role: machine.role,
                    host: machine.host,
                    tools: values.tools,
                    optional: values.optional ?? false,
                    minRsync: values.minRsync ?? false,
                    commands: programsOf(values.commands),
                }),
            );
        const destAddresses = [...new Set([args.destCoreIp, dest.host, dest.addressForPeers].filter((address) => net.isIP(address) !== 0))];
        // What each machine must have, checked first: a missing program would fail a step halfway through the migration.
        const toolChecks = [
            tools(source, {
                // setsid keeps the change journal's recorder running after its step; without inotifywait the final round walks every file.
                tools: [...coreTools, "setsid"],
                optional: ["inotifywait"],
                minRsync,
                commands: [
                    ["source.startCommand", source.startCommand],
                    ["source.stopCommand", source.stopCommand],
                    ["proxy.testCommand", args.proxy.testCommand],
                    ["proxy.startCommand", args.proxy.startCommand],
                    ["proxy.runningCommand", args.proxy.runningCommand],
                    ...followerCommands("proxy.configFollower", args.proxy.configFollower),
                    ...checkProgram,
                ],
            }),
            tools(dest, {
                tools: coreTools,
                minRsync,
                commands: [["dest.startCommand", dest.startCommand], ["dest.stopCommand", dest.stopCommand], ...checkProgram],
            }),
            ...args.registers.map((register, index) =>
                tools(register, {
                    tools: registerTools,
                    commands: [
                        [`registers.${index}.startCommand`, register.startCommand],
                        [`registers.${index}.stopCommand`, register.stopCommand],
                        ...followerCommands(`registers.${index}.configFollower`, register.configFollower),
                    ],
                }),
            ),
        ];
        // What dest must take, measured on source, then checked on dest against its room, its login's rights and its images.
        const sourceData = declare(
            "source-data",
            source,
            render("source-data.sh", {
                confRoot: source.confRoot,
                composeFile: `${source.confRoot}/${args.composeFile}`,
                folders: args.dataFolders,
                watchesFile: inotifyWatchesFile,
            }),
        );
        const destReady = sourceData.stdout.apply((stdout) => {
            const lines = jsonLines<SourceData>(stdout);
            const compose = lines.find((line) => line.composeFile !== undefined);
            return render("dest-ready.sh", {
                confRoot: dest.confRoot,
                composeFile: compose?.composeFile === true ? `${dest.confRoot}/${args.composeFile}` : false,
                images: compose?.images ?? "",
                sizes: lines.filter((line) => line.folder !== undefined),
            });
        });
        this.checks = [
            ...toolChecks,
            sourceData.resource,
            step("dest-ready", dest, destReady),
            step("source-serves", source, sourceServesScript(args.check)),
            step(
                "dest-is-fresh",
                dest,
                render("dest-fresh.sh", { folders: args.dataFolders, confRoot: dest.confRoot, maxFiles: args.freshDestMaxFiles, host: dest.host }),
            ),
            ...[source, dest].map((machine) =>
                step(
                    `${machine.role}-paths`,
                    machine,
                    render("data-folders-resolve.sh", { role: machine.role, confRoot: machine.confRoot, folders: args.dataFolders }),
                ),
            ),
            ...args.registers.map((register) =>
                step(
                    `${register.role}-names-source`,
                    register,
                    render("dns-not-dest.sh", { server: register.dnsServer, name: args.coreName, destAddresses, register: register.role }),
                ),
            ),
        ];
        this.registerOutputs({});
    }
}
