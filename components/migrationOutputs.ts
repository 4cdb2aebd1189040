import * as pulumi from "@pulumi/pulumi";
import { Phase, phaseReached } from "../config";
import type { Cutover } from "./cutover";
import { spanOf } from "./cutoverReports";
import type { DestDeploymentCheck } from "./destDeploymentCheck";
import type { Finalize } from "./finalize";
import type { RegisterDns } from "./registerDns";
import type { SourceProxy } from "./sourceProxy";
import type { ChangeJournal, WarmSync } from "./warmSync";

/** What each phase has run on each machine, keyed by machine and step: what the step does, in words. */
export type StepsByMachine = Record<string, Record<string, string>>;

/** Where the migration stands, for an operator's script: `pulumi stack output status --json`. */
export interface MigrationStatus {
    /** The phase the last update brought the stack to. */
    phase: Phase;
    /** Who answers users. */
    serving: string;
    /** Which address the registers give for the core (none when the stack has no register). */
    registersName: "source" | "dest" | "none";
    /** The last warm round: its number, when it ended (ISO 8601, dest's clock) and how long it took. */
    lastWarmRound?: { round: number; finishedAt: string; seconds: number };
    /** Whether source's change journal records for the final round, and why not. */
    changeJournal?: ChangeJournal;
    /** The users' outage of the cutover, in seconds (source stopped -> dest serving through it). */
    outageSeconds?: number;
}

const servingIn = (phase: Phase): string =>
    phaseReached(phase, "dns")
        ? "dest; source's nginx proxies to it whoever still resolves source"
        : phaseReached(phase, "cutover")
          ? "dest, through source's nginx (the registers still name source)"
          : "source";

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
    /** Dest's copy of each folder as its final round described it: patched or walked, and the paths it touched. */
    destDescribed?: Cutover["destDescribed"];
    contentVerified?: Cutover["contentVerified"];
    coldSyncSeconds?: Cutover["coldSyncSeconds"];
    outage?: Cutover["outage"];
    /** The outage estimated before source stopped, in the shape of `outage`. */
    outageEstimate?: Cutover["outageEstimate"];
    downtimeSeconds?: pulumi.Output<number>;
    /** What the dns phase will change on each register: named so until it has. */
    dnsChangesPlanned?: RegisterDns["changes"];
    dnsChanges?: RegisterDns["changes"];
    dnsAnswers?: Finalize["answers"];
    steps: pulumi.Output<StepsByMachine>;
    status: pulumi.Output<MigrationStatus>;
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
    /** The registers' section, whichever file holds the core's address. */
    registerDns?: { changes: RegisterDns["changes"] };
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
            destDescribed: c.cutover.destDescribed,
            contentVerified: c.cutover.contentVerified,
            coldSyncSeconds: c.cutover.coldSyncSeconds,
            outage: c.cutover.outage,
            outageEstimate: c.cutover.outageEstimate,
            downtimeSeconds: c.cutover.outage.apply((outage) => outage.seconds),
        }),
        ...(c.registerDns && { [phaseReached(c.phase, "dns") ? "dnsChanges" : "dnsChangesPlanned"]: c.registerDns.changes }),
        ...(c.finalize && { dnsAnswers: c.finalize.answers }),
        steps: pulumi.all(c.steps).apply((all) => {
            const byMachine: StepsByMachine = {};
            for (const { machine, step, does } of all) byMachine[machine] = { ...byMachine[machine], [step]: does };
            return byMachine;
        }),
        status: migrationStatus(c),
    };
}

function migrationStatus(c: DeclaredComponents): pulumi.Output<MigrationStatus> {
    const base: MigrationStatus = {
        phase: c.phase,
        serving: servingIn(c.phase),
        registersName: c.registerDns === undefined ? "none" : phaseReached(c.phase, "dns") ? "dest" : "source",
    };
    return pulumi.all([c.warmSync?.stats, c.warmSync?.journal, c.cutover?.outage]).apply(([stats, changeJournal, outage]) => ({
        ...base,
        ...(stats !== undefined &&
            stats.length > 0 && {
                lastWarmRound: {
                    round: c.warmSyncRound,
                    finishedAt: new Date(Math.max(...stats.map((round) => round.finishedAt)) * 1000).toISOString(),
                    seconds: spanOf(stats),
                },
            }),
        ...(changeJournal !== undefined && { changeJournal }),
        ...(outage !== undefined && { outageSeconds: outage.seconds }),
    }));
}
