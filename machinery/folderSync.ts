import { folderKey, folderPath, keyFileName, Machine, SyncSettings } from "../config";
import { render } from "./templates";

/** `pull`: dest reads source; `carry-back`: source reads dest on rollback. */
export type KeyPurpose = "pull" | "carry-back";

/** What an rsync step needs to pull a data folder through a migration key (the MigrationKey component makes the key). */
export interface PeerAccess {
    keyFolderName: string;
    keyFile(folder: string): string;
    hostKeyAlias: string;
    peerUser: string;
    peerAddress: string;
    peerPort: number;
}

/** Where a migration key lives and what it reaches; known from config alone, so a sync can be declared (and undone) whether or not the key is. */
export function peerAccess(granter: Machine, purpose: KeyPurpose, migrationId: string): PeerAccess {
    return {
        keyFolderName: `pryv-migration-${migrationId}-${purpose}`,
        keyFile: keyFileName,
        hostKeyAlias: `pryv-migration-${granter.role}`,
        peerUser: granter.user,
        peerAddress: granter.addressForPeers,
        peerPort: granter.port,
    };
}

/** What one rsync round of one folder printed (rsync --stats, and the clock around it). */
export interface SyncStats {
    folder: string;
    round: string;
    /** The round compared every file (no change journal, or not a final round). */
    walk: boolean;
    bytesReceived: number;
    bytesTransferred: number;
    totalSize: number;
    files: number;
    /** Regular files whose content the round wrote. */
    changedFiles: number;
    /** Files source deleted while the round read them: normal in a warm round (source serves), a failure in any other. */
    vanished: number;
    startedAt: number;
    finishedAt: number;
    delete: boolean;
}

/** The receiver's copy of a folder as a final round described it right after copying (its second line): what verify-copy compares with source's description. */
export interface CopyDescription {
    folder: string;
    metadataDigest: string;
    /** `patch`: dest's description before source stopped, with the paths the round touched described again; `walk`: every entry. */
    describedBy: "patch" | "walk";
    /** Paths the round was handed or itemized. */
    touched: number;
    /** Files the round wrote, compared in content with source's. */
    contentChecked: number;
    describedAt: number;
}

/**
 * `warm`: source still serves; resumable, deletions counted before any is made.
 * `cold`: both ends stopped; only changed blocks written, then dest's copy described and
 * what the round wrote compared in content (a second line after the stats). `carry-back`: dest's data back
 * onto source on rollback, what it replaces kept aside under `keepAside`.
 */
export type RoundKind = { kind: "warm"; round: number } | { kind: "cold" } | { kind: "carry-back"; keepAside: string };

export interface Pull {
    /** Runs the pull; its services are stopped first. */
    receiver: Machine;
    /** The role of the machine read from, for messages. */
    peerRole: string;
    access: PeerAccess;
    folder: string;
    migrationId: string;
    sync: SyncSettings;
    round: RoundKind;
}

const roundWords = { warm: "a warm round while source serves", cold: "the final round, source stopped", "carry-back": "carrying dest's data back on rollback" };

/** How a round is named in its messages, its logs and its stats: `warm-<n>`, `cold` or `carry-back`. */
const roundName = (round: RoundKind): string => (round.kind === "warm" ? `warm-${round.round}` : round.kind);

/**
 * Names of the files a pull leaves in the migration's folder on the receiver: its log and
 * the list of files it wrote. A warm round's carry its number: the log an operator tails
 * is this round's, never the previous one's 100%.
 */
export const pullLogName = (round: RoundKind, folder: string): string => `${roundName(round)}-${folderKey(folder)}`;

/** Where the receiver reaches the peer's copy of `folder` (the values of the peer-rsync partial). */
export function peerRsyncValues(receiver: Machine, access: PeerAccess, folder: string): Record<string, string | number> {
    return {
        keyFolderName: access.keyFolderName,
        keyFile: access.keyFile(folder),
        hostKeyAlias: access.hostKeyAlias,
        peerUser: access.peerUser,
        peerAddress: access.peerAddress,
        peerPort: access.peerPort,
        target: folderPath(receiver.confRoot, folder),
    };
}

/** A script, run on the receiver, that pulls `folder` from the peer behind `access` into the same folder. */
export function pullScript(pull: Pull): string {
    const { receiver, access, folder, round } = pull;
    return render("rsync-pull.sh", {
        ...peerRsyncValues(receiver, access, folder),
        migrationId: pull.migrationId,
        peerRole: pull.peerRole,
        receiverRole: receiver.role,
        stopCommand: receiver.stopCommand,
        confRoot: receiver.confRoot,
        folder,
        key: folderKey(folder),
        round: roundName(round),
        roundWords: roundWords[round.kind],
        maxDeletions: pull.sync.maxDeletions,
        compressChoice: pull.sync.compress === "none" ? false : pull.sync.compress,
        warm: round.kind === "warm",
        cold: round.kind === "cold",
        keepAside: round.kind === "carry-back" ? round.keepAside : false,
        logName: pullLogName(round, folder),
    });
}
