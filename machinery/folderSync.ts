import { Machine } from "../components/config";
import { PeerAccess } from "../components/migrationKey";
import { render } from "./templates";

/** What one rsync round of one folder printed (rsync --stats, and the clock around it). */
export interface SyncStats {
    folder: string;
    round: string;
    bytesReceived: number;
    bytesTransferred: number;
    totalSize: number;
    files: number;
    startedAt: number;
    finishedAt: number;
    delete: boolean;
}

/** A script, run on `receiver`, that pulls `folder` from the peer behind `access` into the same folder. */
export function pullScript(receiver: Machine, access: PeerAccess, folder: string, round: string): string {
    return render("rsync-pull.sh", {
        keyFolderName: access.keyFolderName,
        keyFile: access.keyFile(folder),
        hostKeyAlias: access.hostKeyAlias,
        peerUser: access.peerUser,
        peerAddress: access.peerAddress,
        peerPort: access.peerPort,
        target: `${receiver.confRoot}/${folder}`,
        confRoot: receiver.confRoot,
        folder,
        round,
    });
}

export const folderResourceName = (folder: string): string => folder.replace(/\//g, "-");
