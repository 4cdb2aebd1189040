import * as pulumi from "@pulumi/pulumi";
import { Phase } from "../config";
import type { Cutover } from "./cutover";
import type { DestDeploymentCheck } from "./destDeploymentCheck";
import type { Finalize } from "./finalize";
import type { RegisterDns } from "./registerDns";
import type { SourceProxy } from "./sourceProxy";
import type { WarmSync } from "./warmSync";

/** What each phase has run on each machine, keyed by machine and step: what the step does, in words. */
export type StepsByMachine = Record<string, Record<string, string>>;

/**
 * The stack's outputs: what the operator reads after each `pulumi up` (and, with
 * `pulumi stack history`, what ran when), what the review reads (`cutoverEstimate`), and
 * what the next run reads back (`phase`, `warmSyncRound`, `dataFolders`: previousRun.ts).
 * A phase's outputs are there from that phase on; their names are the stack's contract.
 */
export interface MigrationOutputs {
    phase: pulumi.Output<Phase>;
    warmSyncRound: pulumi.Output<number>;
    dataFolders: pulumi.Output<string[]>;
    destHealthySeconds: DestDeploymentCheck["healthySeconds"];
    keptAside: pulumi.Output<string>;
    warmSync?: WarmSync["stats"];
    cutoverEstimate?: WarmSync["cutoverEstimate"];
    changeJournal?: WarmSync["journal"];
    proxyFile: SourceProxy["renderedFile"];
    proxyReplaces: SourceProxy["replaced"];
    siteFileSha256: SourceProxy["siteFileSha256"];
    coldSync?: Cutover["coldSync"];
    verifiedFolders?: Cutover["verified"];
    contentVerified?: Cutover["contentVerified"];
    coldSyncSeconds?: Cutover["coldSyncSeconds"];
    outage?: Cutover["outage"];
    downtimeSeconds?: pulumi.Output<number>;
    dnsChanges?: RegisterDns["changes"];
    dnsAnswers?: Finalize["answers"];
    steps: pulumi.Output<StepsByMachine>;
}

/** The components a phase declared, those of later phases absent. */
export interface DeclaredComponents {
    phase: Phase;
    warmSyncRound: number;
    dataFolders: string[];
    keptAside: string;
    destCheck: DestDeploymentCheck;
    warmSync?: WarmSync;
    proxy: SourceProxy;
    cutover?: Cutover;
    registerDns?: RegisterDns;
    finalize?: Finalize;
    steps: pulumi.Output<{ machine: string; step: string; does: string }>[];
}

/** The outputs, built in one place from what the phase declared. */
export function migrationOutputs(c: DeclaredComponents): MigrationOutputs {
    return {
        phase: pulumi.output(c.phase),
        warmSyncRound: pulumi.output(c.warmSyncRound),
        dataFolders: pulumi.output(c.dataFolders),
        destHealthySeconds: c.destCheck.healthySeconds,
        keptAside: pulumi.output(c.keptAside),
        ...(c.warmSync && { warmSync: c.warmSync.stats, cutoverEstimate: c.warmSync.cutoverEstimate, changeJournal: c.warmSync.journal }),
        proxyFile: c.proxy.renderedFile,
        proxyReplaces: c.proxy.replaced,
        siteFileSha256: c.proxy.siteFileSha256,
        ...(c.cutover && {
            coldSync: c.cutover.coldSync,
            verifiedFolders: c.cutover.verified,
            contentVerified: c.cutover.contentVerified,
            coldSyncSeconds: c.cutover.coldSyncSeconds,
            outage: c.cutover.outage,
            downtimeSeconds: c.cutover.outage.apply((outage) => outage.seconds),
        }),
        ...(c.registerDns && { dnsChanges: c.registerDns.changes }),
        ...(c.finalize && { dnsAnswers: c.finalize.answers }),
        steps: pulumi.all(c.steps).apply((all) => {
            const byMachine: StepsByMachine = {};
            for (const { machine, step, does } of all) byMachine[machine] = { ...byMachine[machine], [step]: does };
            return byMachine;
        }),
    };
}
