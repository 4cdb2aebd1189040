import * as pulumi from "@pulumi/pulumi";
import { Register } from "../config";
import { editDnsJson } from "../machinery/dnsJsonEdit";
import { addressChangeLine, fileContentScript, restartScript, restoreScript } from "../machinery/machineFile";
import { captureFile, manageFile } from "../machinery/managedFile";
import { declareStep, StepDefinition, Transport } from "../machinery/remoteStep";

export interface RegisterDnsArgs {
    registers: Register[];
    coreSubdomain: string;
    destIp: string;
    transport: Transport;
    /** Whether the registers point at dest (phase dns and later); before that their dns.json is only read. */
    active: boolean;
    /** What must be done first: the cutover. */
    after: pulumi.Resource[];
}

export interface DnsChange {
    register: string;
    key: string;
    previousIp: string;
    newIp: string;
}

/**
 * "Update core server on Register": each register's dns.json is a resource from prepare
 * on, whose content is the file as read there; from the dns phase on it is the file with
 * the one value edited (JSON-aware), so the preview shows `ip: "<old>" => "<new>"` and a
 * rollback the reverse. Then the register's services restart. The undo (original back,
 * services restarted if they had been) is in the state before the file changes.
 */
export class RegisterDns extends pulumi.ComponentResource {
    public readonly changes: pulumi.Output<DnsChange[]>;

    constructor(name: string, args: RegisterDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:RegisterDns", name, {}, opts);
        const { coreSubdomain, destIp, transport } = args;
        const { migrationId } = transport;
        const changes = args.registers.map((register) => {
            const step = (suffix: string, definition: StepDefinition, dependsOn: pulumi.Resource[]) =>
                declareStep(`${name}-${register.role}-${suffix}`, definition, transport, { parent: this, dependsOn });
            // dns.json holds the register's secrets (admin keys, the Redis password): the state keeps it encrypted.
            const original = captureFile(step, {
                machine: register,
                candidates: register.dnsJsonCandidates,
                setting: register.dnsJsonSetting,
                what: `dns.json on ${register.role}`,
                secret: true,
            });
            const edit = original.apply((file) => editDnsJson(file.content, coreSubdomain, destIp, `${file.path} on ${register.role}`));
            // Where the file is, what the program changes and the original's digest are no secret: the scripts and the outputs show them.
            const dnsJson = pulumi.unsecret(original.apply(({ path }) => path));
            const change = pulumi.unsecret(edit.apply(({ key, previousIp, newIp }) => ({ key, previousIp, newIp })));
            const originalDigest = pulumi.unsecret(original.apply(({ sha256 }) => sha256));
            const restart = [register.stopCommand, register.startCommand];
            const restartMarker = `${register.role}-dns-restarted`;
            const { file, undo: back } = manageFile(step, original, {
                machine: register,
                secret: true,
                active: args.active,
                names: { undo: "back", file: "dns-json" },
                undo: {
                    why: "recorded before dns.json changes, so that its undo runs whatever a crash interrupts.",
                    message: dnsJson.apply((path) => `on rollback: ${path} back byte for byte, ${register.role}'s services restarted`),
                    script: dnsJson.apply((path) => restoreScript(path, migrationId, restart, restartMarker)),
                },
                content: edit.apply(({ content }) => content),
                script: pulumi.all([dnsJson, originalDigest, change]).apply(([path, sha256, planned]) =>
                    fileContentScript({
                        path,
                        original: { sha256 },
                        changes: [addressChangeLine(planned, { active: args.active, unchanged: "every other value", holds: "the register's keys" })],
                    }),
                ),
                after: args.after,
            });
            if (args.active) {
                step(
                    "restart",
                    {
                        machine: register,
                        create: dnsJson.apply((path) => restartScript(path, migrationId, restart, restartMarker)),
                        triggers: [file.stdout],
                    },
                    [file.resource, ...back],
                );
            }
            return change.apply(({ key, previousIp, newIp }) => ({ register: register.role, key, previousIp, newIp }));
        });
        this.changes = pulumi.all(changes);
        this.registerOutputs({ changes: this.changes });
    }
}
