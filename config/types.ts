// What the program works with once the stack config is read: the machines, the settings
// of each section of the procedure, and where the stack's last run left it.
import * as pulumi from "@pulumi/pulumi";
import { Phase } from "./phases";
import type { ParsedConfig, SyncCompression } from "./schema";

/** What the stack's last successful run left, read from its own outputs (nothing on a new stack): components/previousRun.ts. */
export interface PreviousRun {
    phase?: Phase;
    warmSyncRound?: number;
    dataFolders?: string[];
}

export interface Machine {
    /** The role in the procedure (source, dest, or a register's name), used in resource names and markers. */
    role: string;
    host: string;
    port: number;
    user: string;
    hostKey: string;
    confRoot: string;
    /** How the other core machine reaches this one (rsync between them). */
    addressForPeers: string;
    startCommand: string[];
    stopCommand: string[];
}

/** Pryv v1's config follower on a machine: at its start it writes the machine's conf/ files from the config leader. */
export interface ConfigFollower {
    stopCommand: string[];
    startCommand: string[];
}

/** The register that runs Pryv v1's config leader, and where the dns phase edits the core's address there. */
export interface ConfigLeader {
    /** The register's name. */
    register: string;
    /** platform.yml on it, absolute. */
    platformYml: string;
    /** The hosting under HOSTINGS_AND_CORES that holds the core, when several do. */
    hosting?: string;
}

export interface Register extends Machine {
    /** Its config follower (Pryv v1), which writes its dns.json from the config leader's platform.yml: restarted after that file changes. */
    configFollower?: ConfigFollower;
    /** Where its dns.json may be (absolute): the one configured, or the template's and the seed's, of which prepare takes the one that exists. */
    dnsJsonCandidates: string[];
    /** The setting that says where, for messages. */
    dnsJsonSetting: string;
    /** Where the DNS check sends its query. */
    dnsServer: string;
}

export interface ProxySettings {
    siteFile: string;
    /** nginx -t inside the proxy's own environment, run on the candidate file. */
    testCommand: string[];
    /** Starts nginx alone on source. */
    startCommand: string[];
    /** Lists the services running on source, one per line: after the stop and nginx's start, nothing but `service` may run. */
    runningCommand: string[];
    /** nginx's service name, as startCommand and runningCommand name it. */
    service: string;
    /** What rewrites siteFile behind the program's back (Pryv v1's config follower): stopped before the proxy file is written, started again by the undo. */
    configFollower?: ConfigFollower;
    verifyDestCertificate: boolean;
    trustedCertificate: string;
}

export interface HealthCheck {
    command?: string[];
    path: string;
    timeoutSeconds: number;
}

export interface SyncSettings {
    /** How every rsync round compresses what it sends. */
    compress: SyncCompression;
    /** An rsync round on a core machine that would delete more entries than this stops before deleting. */
    maxDeletions: number;
}

export interface MigrationConfig extends Omit<
    ParsedConfig,
    "source" | "dest" | "operatorPrivateKey" | "healthCheck" | "proxy" | "registers" | "sync" | "freshDestMaxFiles" | "destLost" | "configLeader"
> {
    source: Machine;
    dest: Machine;
    /** The core's compose file, relative to confRoot (the layout's): dest must run the images source's runs. */
    composeFile: string;
    registers: Register[];
    /** Set in a layout whose registers take the core's address from the config leader's platform.yml (pryv-v1): the dns phase edits that file. */
    configLeader?: ConfigLeader;
    proxy: ProxySettings;
    healthCheck: HealthCheck;
    sync: SyncSettings;
    /** prepare refuses when dest's data folders hold more files than this: dest looks like a live core. */
    freshDestMaxFiles: number;
    /** Back to source when dest is gone for good after the cutover, giving up its writes since then; only up to phase cutover. */
    destLost: boolean;
    operatorPrivateKey?: pulumi.Output<string>;
    /** Names the migration in markers left on the machines (authorized_keys, key folders). */
    migrationId: string;
    /** Where the stack's last successful run left it (read from its outputs by stackConfig.ts; nothing for a new stack). */
    previousRun: PreviousRun;
}

/** The fields that tell one machine from another. */
export interface MachineIdentity {
    host: string;
    port: number;
    hostKey: string;
}
