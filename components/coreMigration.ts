import * as pulumi from "@pulumi/pulumi";
import { MigrationConfig, planFor } from "../config";
import { Cutover } from "./cutover";
import { DestDeploymentCheck } from "./destDeploymentCheck";
import { Finalize } from "./finalize";
import { LiveCoreGuard } from "./liveCoreGuard";
import { migrationOutputs, MigrationOutputs } from "./migrationOutputs";
import { MigrationKey } from "./migrationKey";
import { deferredRoundNotice, destStepsFrozen } from "./previousRun";
import { RegisterDns } from "./registerDns";
import { RegisterPlatform } from "./registerPlatform";
import { SourceProxy } from "./sourceProxy";
import { WarmSync } from "./warmSync";
import { peerAccess } from "../machinery/folderSync";
import { declareStep, Transport, undoRecord } from "../machinery/remoteStep";
import { serviceCheck } from "../machinery/services";
import { render } from "../machinery/templates";

/**
 * The whole procedure, up to the phase the stack config names. Each phase's components
 * depend on the previous phase's, so Pulumi creates them in procedure order and, when
 * the phase is set back, deletes them in reverse: that is the rollback. A finished
 * migration (finalize) is protected: `pulumi destroy` would take production back to source.
 */
export class CoreMigration extends pulumi.ComponentResource {
    public readonly outputs: MigrationOutputs;

    constructor(name: string, config: MigrationConfig, opts?: pulumi.ComponentResourceOptions) {
        super("pryv:migration:CoreMigration", name, {}, opts);
        const { source, dest, dataFolders, migrationId, phase, sync } = config;
        const steps: pulumi.Output<{ machine: string; step: string; does: string }>[] = [];
        const transport: Transport = {
            executor: config.executor,
            operatorPrivateKey: config.operatorPrivateKey,
            useSshAgent: config.useSshAgent,
            onStep: (step, machine, does) => steps.push(does.apply((text) => ({ machine, step, does: text }))),
            lostMachine: config.destLost ? dest.role : undefined,
            migrationId,
        };
        const check = serviceCheck(config.healthCheck, config.domain, config.coreSubdomain);
        const plan = planFor(phase);
        const child = { parent: this, protect: plan.finalized };
        const after = (dependsOn: pulumi.Resource[]) => ({ ...child, dependsOn });
        const pullAccess = peerAccess(source, "pull", migrationId);
        const carryBackAccess = peerAccess(dest, "carry-back", migrationId);
        const coreName = `${config.coreSubdomain}.${config.domain}`;
        const keepAside = `${source.confRoot}/pryv-migration-kept/${migrationId}`;

        const guard = new LiveCoreGuard(
            `${name}-live-core-guard`,
            {
                source,
                dest,
                dataFolders,
                composeFile: config.composeFile,
                freshDestMaxFiles: config.freshDestMaxFiles,
                registers: config.registers,
                coreName,
                destCoreIp: config.destCoreIp,
                check,
                proxy: config.proxy,
                transport,
            },
            child,
        );
        // finalize takes the keys and what rollbacks kept aside out of the stack: Pulumi deletes them after the DNS check passed.
        const prepared = plan.migrationKeys
            ? [
                  new MigrationKey(`${name}-pull-key`, { holder: dest, granter: source, dataFolders, purpose: "pull", transport }, after(guard.checks)),
                  new MigrationKey(
                      `${name}-carry-back-key`,
                      { holder: source, granter: dest, dataFolders, purpose: "carry-back", transport },
                      after(guard.checks),
                  ),
                  declareStep(
                      `${name}-kept-aside`,
                      undoRecord(source, {
                          why: "on rollback, what a carry-back replaces or deletes on source is kept in this folder until the migration is finalized or destroyed.",
                          message: keepAside,
                          undo: render("kept-aside-remove.sh", { folder: keepAside }),
                      }),
                      transport,
                      after(guard.checks),
                  ).resource,
              ]
            : [];
        if (config.destLost) {
            // Shown in the preview of the run that declares dest lost: what the way back gives up.
            declareStep(
                `${name}-dest-lost`,
                {
                    machine: source,
                    create: render("step-marker.sh", {
                        comment:
                            "dest was declared lost (destLost): its steps leave the stack without running anything there, nothing is carried back from it, and the writes users made on dest since the cutover are given up; source serves again from its own copy.",
                        message: "dest declared lost",
                    }),
                },
                transport,
                child,
            );
        }
        const destFrozen = destStepsFrozen(config.previousRun, phase);
        const destCheck = new DestDeploymentCheck(
            `${name}-dest-check`,
            { dest, dataFolders, check, images: config.destImages, frozen: destFrozen, transport },
            after(guard.checks),
        );

        let warmSync: WarmSync | undefined;
        if (plan.warmRounds) {
            const deferred = deferredRoundNotice(config.previousRun, phase, config.warmSyncRound);
            if (deferred !== undefined) void pulumi.log.warn(deferred, this);
            warmSync = new WarmSync(
                `${name}-warm-sync`,
                {
                    source,
                    dest,
                    dataFolders,
                    round: config.warmSyncRound,
                    pullAccess,
                    sync,
                    frozen: destFrozen,
                    destStartSeconds: destCheck.healthySeconds,
                    transport,
                },
                after([...prepared, destCheck]),
            );
        }

        const proxy = new SourceProxy(
            `${name}-source-proxy`,
            {
                source,
                settings: config.proxy,
                check,
                destIp: config.destCoreIp,
                domain: config.domain,
                transport,
                active: plan.cutover,
                after: warmSync === undefined ? [] : [warmSync],
            },
            child,
        );

        let cutover: Cutover | undefined;
        if (plan.cutover) {
            cutover = new Cutover(
                `${name}-cutover`,
                {
                    source,
                    dest,
                    dataFolders,
                    check,
                    pullAccess,
                    carryBackAccess,
                    sync,
                    warmSyncRound: config.warmSyncRound,
                    // A cutover is declared only with its warm rounds.
                    warmRounds: warmSync!.stats,
                    destStartSeconds: destCheck.healthySeconds,
                    nginxAlone: config.proxy,
                    sourceSwitched: proxy.switched,
                    keepAside,
                    destLost: config.destLost,
                    transport,
                },
                child,
            );
        }

        let registerDns: RegisterDns | RegisterPlatform | undefined;
        let finalize: Finalize | undefined;
        if (config.registers.length > 0) {
            const registersArgs = {
                registers: config.registers,
                coreSubdomain: config.coreSubdomain,
                destIp: config.destCoreIp,
                transport,
                active: plan.registersNameDest,
                after: cutover === undefined ? [] : [cutover],
            };
            // Pryv v1's registers take the core's address from the config leader's platform.yml; 2019's each from its own dns.json.
            registerDns =
                config.configLeader === undefined
                    ? new RegisterDns(`${name}-register-dns`, registersArgs, child)
                    : new RegisterPlatform(
                          `${name}-register-platform`,
                          { ...registersArgs, leader: config.configLeader, timeoutSeconds: config.healthCheck.timeoutSeconds },
                          child,
                      );
            if (plan.finalized) {
                finalize = new Finalize(
                    `${name}-finalize`,
                    { registers: config.registers, coreName, destIp: config.destCoreIp, timeoutSeconds: config.healthCheck.timeoutSeconds, transport },
                    // Its checks undo nothing, and a rollback from finalize deletes them.
                    { ...after([registerDns]), protect: false },
                );
            }
        }
        this.outputs = migrationOutputs({
            phase,
            warmSyncRound: config.warmSyncRound,
            dataFolders,
            keptAside: keepAside,
            destCheck,
            warmSync,
            proxy,
            cutover,
            registerDns,
            finalize,
            steps,
        });
        this.registerOutputs(this.outputs);
    }
}
