import * as pulumi from "@pulumi/pulumi";
import { Register } from "./config";
import { editDnsJson } from "../machinery/dnsJsonEdit";
import { captureScript, fileContentScript, parseCapture, restartScript, restoreScript } from "../machinery/machineFile";
import { declareStep, StepDefinition, Transport } from "../machinery/remoteStep";
import { render } from "../machinery/templates";

export interface RegisterDnsArgs {
    registers: Register[];
    coreSubdomain: string;
    destIp: string;
    migrationId: string;
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
        const { coreSubdomain, destIp, migrationId, transport } = args;
        const changes = args.registers.map((register) => {
            const step = (suffix: string, definition: StepDefinition, dependsOn: pulumi.Resource[]) =>
                declareStep(`${name}-${register.role}-${suffix}`, definition, transport, { parent: this, dependsOn });
            const what = `${register.dnsJson} on ${register.role}`;
            const original = step("original", { machine: register, create: captureScript(register.dnsJson) }, []).stdout.apply((stdout) =>
                parseCapture(stdout, what),
            );
            const edit = original.apply((file) => editDnsJson(file.content, coreSubdomain, destIp, what));
            const restart = [register.stopCommand, register.startCommand];
            const restartMarker = `${register.role}-dns-restarted`;
            const back = args.active
                ? [
                      step(
                          "back",
                          {
                              machine: register,
                              create: render("step-marker.sh", {
                                  comment: "Does nothing now: recorded before dns.json changes, so that its undo runs whatever a crash interrupts.",
                                  message: `on rollback: ${register.dnsJson} back byte for byte, ${register.role}'s services restarted`,
                              }),
                              delete: restoreScript(register.dnsJson, migrationId, restart, restartMarker),
                          },
                          args.after,
                      ).resource,
                  ]
                : [];
            const file = step(
                "dns-json",
                {
                    machine: register,
                    create: original.apply((captured) => fileContentScript({ path: register.dnsJson, original: captured })),
                    stdin: args.active ? edit.apply(({ content }) => content) : original.apply((captured) => captured.content),
                    rerun: true,
                },
                back,
            );
            if (args.active) {
                step(
                    "restart",
                    {
                        machine: register,
                        create: restartScript(register.dnsJson, migrationId, restart, restartMarker),
                        triggers: [file.stdout],
                    },
                    [file.resource, ...back],
                );
            }
            return edit.apply(({ key, previousIp, newIp }) => ({ register: register.role, key, previousIp, newIp }));
        });
        this.changes = pulumi.all(changes);
        this.registerOutputs({ changes: this.changes });
    }
}
