import * as pulumi from "@pulumi/pulumi";
import { Register } from "./config";
import { editDnsJson } from "../machinery/dnsJsonEdit";
import { captureScript, parseCapture, replaceScript, restoreScript } from "../machinery/machineFile";
import { declareStep, Transport } from "../machinery/remoteStep";

export interface RegisterDnsArgs {
    registers: Register[];
    coreSubdomain: string;
    destIp: string;
    transport: Transport;
    /** Whether the registers point at dest (phase dns and later); before that their dns.json is only read. */
    active: boolean;
    /** What must be done first: the source proxy. */
    after: pulumi.Resource[];
}

export interface DnsChange {
    register: string;
    key: string;
    previousIp: string;
    newIp: string;
}

/**
 * "Update core server on Register": each register's dns.json is read from prepare on, so
 * the preview shows the key with its old and new value; then the one value is edited
 * (JSON-aware) and the register's services restarted. Undo: the original file back byte
 * for byte, services restarted, so the previous IP is answered again.
 */
export class RegisterDns extends pulumi.ComponentResource {
    public readonly changes: pulumi.Output<DnsChange[]>;

    constructor(name: string, args: RegisterDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:RegisterDns", name, {}, opts);
        const { coreSubdomain, destIp, transport } = args;
        const changes = args.registers.map((register) => {
            const original = declareStep(`${name}-${register.role}-original`, { machine: register, create: captureScript(register.dnsJson) }, transport, {
                parent: this,
            }).stdout.apply(parseCapture);
            const edit = original.apply((file) => editDnsJson(file.content, coreSubdomain, destIp, `${register.dnsJson} on ${register.role}`));
            const change = edit.apply(({ key, previousIp, newIp }) => ({ register: register.role, key, previousIp, newIp }));
            if (args.active) {
                const restart = [register.stopCommand, register.startCommand];
                declareStep(
                    `${name}-${register.role}`,
                    {
                        machine: register,
                        create: pulumi
                            .all([original, edit])
                            .apply(([file, { content }]) => replaceScript({ path: register.dnsJson, original: file, content, restart })),
                        delete: restoreScript(register.dnsJson, [], restart),
                        triggers: [change],
                    },
                    transport,
                    { parent: this, dependsOn: args.after },
                );
            }
            return change;
        });
        this.changes = pulumi.all(changes);
        this.registerOutputs({ changes: this.changes });
    }
}
