import * as pulumi from "@pulumi/pulumi";
import { MigrationConfig, phaseReached } from "./config";
import { Cutover } from "./cutover";
import { DestDeploymentCheck } from "./destDeploymentCheck";
import { MigrationKey } from "./migrationKey";
import { Transport } from "./remoteStep";
import { serviceCheck } from "./services";
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
        const transport: Transport = { executor: config.executor, operatorPrivateKey: config.operatorPrivateKey, useSshAgent: config.useSshAgent };
        const check = serviceCheck(config.healthCheck, config.domain, config.coreSubdomain);
        const child = { parent: this };

        const pullKey = new MigrationKey(`${name}-pull-key`, { holder: dest, granter: source, dataFolders, purpose: "pull", migrationId, transport }, child);
        const carryBackKey = new MigrationKey(
            `${name}-carry-back-key`,
            { holder: source, granter: dest, dataFolders, purpose: "carry-back", migrationId, transport },
            child,
        );
        const destCheck = new DestDeploymentCheck(`${name}-dest-check`, { dest, check, images: config.destImages, transport }, child);
        const prepared = [pullKey, carryBackKey, destCheck];
        this.outputs = { phase: pulumi.output(phase), destHealthySeconds: destCheck.healthySeconds };

        if (phaseReached(phase, "warm-sync")) {
            const warmSync = new WarmSync(
                `${name}-warm-sync`,
                { dest, dataFolders, round: config.warmSyncRound, pullAccess: pullKey.access, transport },
                { parent: this, dependsOn: prepared },
            );
            this.outputs.warmSync = warmSync.stats;

            if (phaseReached(phase, "cutover")) {
                const cutover = new Cutover(
                    `${name}-cutover`,
                    { source, dest, dataFolders, check, pullAccess: pullKey.access, carryBackAccess: carryBackKey.access, transport },
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
        this.registerOutputs(this.outputs);
    }
}
