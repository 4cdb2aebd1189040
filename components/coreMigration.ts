import * as pulumi from "@pulumi/pulumi";
import { MigrationConfig, phaseReached } from "./config";
import { Cutover } from "./cutover";
import { DestDeploymentCheck } from "./destDeploymentCheck";
import { Finalize } from "./finalize";
import { MigrationKey, peerAccess } from "./migrationKey";
import { RegisterDns } from "./registerDns";
import { Transport } from "../machinery/remoteStep";
import { serviceCheck } from "../machinery/services";
import { SourceProxy } from "./sourceProxy";
import { WarmSync } from "./warmSync";

/**
 * The whole procedure, up to the phase the stack config names. Each phase's components
 * depend on the previous phase's, so Pulumi creates them in procedure order and, when
 * the phase is set back, deletes them in reverse: that is the rollback.
 */
export class CoreMigration extends pulumi.ComponentResource {
    public readonly outputs: Record<string, pulumi.Output<unknown>>;

    constructor(name: string, config: MigrationConfig, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:CoreMigration", name, {}, opts);
        const { source, dest, dataFolders, migrationId, phase } = config;
        const steps: string[] = [];
        const transport: Transport = {
            executor: config.executor,
            operatorPrivateKey: config.operatorPrivateKey,
            useSshAgent: config.useSshAgent,
            onStep: (step, machine) => steps.push(`${machine}: ${step}`),
        };
        const check = serviceCheck(config.healthCheck, config.domain, config.coreSubdomain);
        const child = { parent: this };
        const pullAccess = peerAccess(source, "pull", migrationId);
        const carryBackAccess = peerAccess(dest, "carry-back", migrationId);

        // finalize takes the keys out of the stack: Pulumi deletes them after the DNS check passed.
        const keys = phaseReached(phase, "finalize")
            ? []
            : [
                  new MigrationKey(`${name}-pull-key`, { holder: dest, granter: source, dataFolders, purpose: "pull", migrationId, transport }, child),
                  new MigrationKey(
                      `${name}-carry-back-key`,
                      { holder: source, granter: dest, dataFolders, purpose: "carry-back", migrationId, transport },
                      child,
                  ),
              ];
        const destCheck = new DestDeploymentCheck(`${name}-dest-check`, { dest, check, images: config.destImages, transport }, child);
        this.outputs = { phase: pulumi.output(phase), destHealthySeconds: destCheck.healthySeconds };

        let cutover: Cutover | undefined;
        if (phaseReached(phase, "warm-sync")) {
            const warmSync = new WarmSync(
                `${name}-warm-sync`,
                { dest, dataFolders, round: config.warmSyncRound, pullAccess, transport },
                { parent: this, dependsOn: [...keys, destCheck] },
            );
            this.outputs.warmSync = warmSync.stats;
            if (phaseReached(phase, "cutover")) {
                cutover = new Cutover(
                    `${name}-cutover`,
                    { source, dest, dataFolders, check, pullAccess, carryBackAccess, transport },
                    { parent: this, dependsOn: [warmSync] },
                );
                Object.assign(this.outputs, {
                    coldSync: cutover.coldSync,
                    verifiedFolders: cutover.verified,
                    coldSyncSeconds: cutover.coldSyncSeconds,
                    downtimeSeconds: cutover.downtimeSeconds,
                });
            }
        }

        const proxy = new SourceProxy(
            `${name}-source-proxy`,
            {
                source,
                settings: config.proxy,
                check,
                destIp: config.destCoreIp,
                domain: config.domain,
                migrationId,
                transport,
                active: phaseReached(phase, "proxy"),
                after: cutover === undefined ? [] : [cutover],
            },
            child,
        );
        this.outputs.proxyFile = proxy.renderedFile;
        this.outputs.proxyReplaces = proxy.replaced;
        if (proxy.proxyFileSha256 !== undefined) this.outputs.proxyFileSha256 = proxy.proxyFileSha256;

        if (config.registers.length > 0) {
            const registerDns = new RegisterDns(
                `${name}-register-dns`,
                {
                    registers: config.registers,
                    coreSubdomain: config.coreSubdomain,
                    destIp: config.destCoreIp,
                    transport,
                    active: phaseReached(phase, "dns"),
                    after: [proxy],
                },
                child,
            );
            this.outputs.dnsChanges = registerDns.changes;
            if (phaseReached(phase, "finalize")) {
                const finalize = new Finalize(
                    `${name}-finalize`,
                    {
                        registers: config.registers,
                        coreName: `${config.coreSubdomain}.${config.domain}`,
                        destIp: config.destCoreIp,
                        timeoutSeconds: config.healthCheck.timeoutSeconds,
                        transport,
                    },
                    { parent: this, dependsOn: [registerDns] },
                );
                this.outputs.dnsAnswers = finalize.answers;
            }
        }
        // What this phase has run on each machine; with `pulumi stack history`, what ran when.
        this.outputs.steps = pulumi.output(steps);
        this.registerOutputs(this.outputs);
    }
}
