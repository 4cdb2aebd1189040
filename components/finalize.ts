import * as pulumi from "@pulumi/pulumi";
import { Register } from "../config";
import { declareStep, jsonLines, Transport } from "../machinery/remoteStep";
import { render } from "../machinery/templates";

export interface FinalizeArgs {
    registers: Register[];
    /** <sub>.<domain>, as users resolve it. */
    coreName: string;
    destIp: string;
    timeoutSeconds: number;
    transport: Transport;
}

/**
 * "Verify", once DNS points at dest: each register's DNS server is asked for the core's
 * name and must answer the dest IP; a wrong answer fails the update. The migration keys
 * and what rollbacks kept aside leave the stack in the same phase, and Pulumi deletes
 * only after it has created, so a failed check keeps them.
 */
export class Finalize extends pulumi.ComponentResource {
    public readonly answers: pulumi.Output<{ register: string; name: string; answer: string }[]>;

    constructor(name: string, args: FinalizeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:Finalize", name, {}, opts);
        const answers = args.registers.map((register) =>
            declareStep(
                `${name}-${register.role}-answers`,
                {
                    machine: register,
                    create: render("dns-check.sh", {
                        name: args.coreName,
                        expectedIp: args.destIp,
                        server: register.dnsServer,
                        timeoutSeconds: args.timeoutSeconds,
                    }),
                    triggers: [args.destIp],
                },
                args.transport,
                { parent: this },
            ).stdout.apply((stdout) => ({ register: register.role, ...jsonLines<{ name: string; answer: string }>(stdout)[0] })),
        );
        this.answers = pulumi.all(answers);
        this.registerOutputs({ answers: this.answers });
    }
}
