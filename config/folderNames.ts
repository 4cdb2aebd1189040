// Where a data folder is on a machine (folderPath), and how it is named where a path
// cannot be used: in resource names, the names of logs and manifests on the machines
// (folderKey), and migration key files (keyFileName).
// Neither is injective on its own ("core/core-data" and "core-core/data" share a key), so
// the config refuses folders whose names collide (checks.ts dataFolderNameProblems); the
// encodings themselves stay as they are: a resource renamed in a live stack is deleted.

/**
 * A data folder's path on a machine: one relative to confRoot lies in it; one given by
 * its absolute path (the audit trail, /var/log/pryv/audit) is the same path on both
 * machines. The scripts' folder_path (templates/partials/folder-path.hbs) does the same.
 */
export const folderPath = (confRoot: string, folder: string): string => (folder.startsWith("/") ? folder : `${confRoot}/${folder}`);

// An absolute folder's leading '/' is dropped: /var/log/pryv/audit is named var-log-pryv-audit.
export const folderKey = (folder: string): string => folder.replace(/^\//, "").replace(/\//g, "-");

export const keyFileName = (folder: string): string => folder.replace(/^\//, "").replace(/\//g, "_");

/** The encodings a folder's name must be unique under, with where each shows. */
export const folderNameEncodings = [
    { encode: folderKey, usedFor: "resource names, logs and manifests" },
    { encode: keyFileName, usedFor: "migration key files" },
] as const;
