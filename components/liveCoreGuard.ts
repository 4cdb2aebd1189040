import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { Machine, Register } from "../config";
import { declareStep, Transport } from "../machinery/remoteStep";
import { ServiceCheck, sourceServesScript } from "../machinery/services";
import { render } from "../machinery/templates";

export interface LiveCoreGuardArgs {
    source: Machine;
    dest: Machine;
    dataFolders: string[];
    /** dest's data folders may hold at most this many files (config freshDestMaxFiles). */
    freshDestMaxFiles: number;
    registers: Register[];
    /** <sub>.<domain>, as users resolve it. */
    coreName: string;
    destCoreIp: string;
    check: ServiceCheck;
    transport: Transport;
}

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
        const step = (suffix: string, machine: Machine, create: string) =>
            declareStep(`${name}-${suffix}`, { machine, create }, transport, { parent: this }).resource;
        const destAddresses = [...new Set([args.destCoreIp, dest.host, dest.addressForPeers].filter((address) => net.isIP(address) !== 0))];
        this.checks = [
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
