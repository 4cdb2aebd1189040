// How a data folder is named where a path cannot be used: in resource names, the names of
// logs and manifests on the machines (folderKey), and migration key files (keyFileName).
// Neither is injective on its own ("core/core-data" and "core-core/data" share a key), so
// the config refuses folders whose names collide (config.ts dataFolderNameProblems); the
// encodings themselves stay as they are: a resource renamed in a live stack is deleted.

export const folderKey = (folder: string): string => folder.replace(/\//g, "-");

export const keyFileName = (folder: string): string => folder.replace(/\//g, "_");

/** The encodings a folder's name must be unique under, with where each shows. */
export const folderNameEncodings = [
    { encode: folderKey, usedFor: "resource names, logs and manifests" },
    { encode: keyFileName, usedFor: "migration key files" },
] as const;
