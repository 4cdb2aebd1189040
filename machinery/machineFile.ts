import * as pulumi from "@pulumi/pulumi";
import { render } from "./templates";

/** A file as the capture step read it on its machine, and where it found it. */
export interface CapturedFile {
    path: string;
    sha256: string;
    content: string;
}

/** Reads the one of `paths` that exists on the machine; none or several refuse, naming `setting`, where the operator says which. */
export function captureScript(paths: string[], setting: string): string {
    return render("file-capture.sh", { paths, setting });
}

/** The content travels as text (so the preview diffs it line by line): only UTF-8 files qualify. */
export function parseCapture(stdout: string, what = "the file"): CapturedFile {
    const { path, sha256, base64 } = JSON.parse(stdout.trim()) as { path: string; sha256: string; base64: string };
    const bytes = Buffer.from(base64, "base64");
    const content = bytes.toString("utf8");
    if (!Buffer.from(content, "utf8").equals(bytes)) {
        throw new pulumi.ResourceError(`${what} is not UTF-8 text: the migration only edits text files it can show in a preview`, undefined, true);
    }
    return { path, sha256, content };
}

export interface FileContent {
    path: string;
    /** The file as read before the migration touched it: the content is checked against its digest. */
    original: Pick<CapturedFile, "sha256">;
    /** Run on the new file in place; a failure puts the previous file back and fails the step. */
    checkCommand?: string[];
    /** What the content changes, in words, for a file whose content the state keeps secret: the preview shows these lines. */
    changes?: string[];
}

/** Sets the file to the content on the step's stdin, whether that is new content or the original again. */
export function fileContentScript(file: FileContent): string {
    return render("file-content.sh", {
        path: file.path,
        originalSha256: file.original.sha256,
        checkCommand: file.checkCommand ?? false,
        changes: file.changes ?? [],
    });
}

/**
 * The undo of a file change, in the state before the change is made: the original back,
 * then the `after` commands, when the migration's restart marker says they had run.
 */
export function restoreScript(path: string, migrationId: string, after: string[][] = [], restartMarker = ""): string {
    return render("file-restore.sh", { path, migrationId, after: after.length > 0 ? after : false, restartMarker });
}

/** Restarts what reads a changed file, leaving a marker first so that the undo restarts it again. */
export function restartScript(path: string, migrationId: string, commands: string[][], restartMarker: string): string {
    return render("restart-after-change.sh", { path, migrationId, commands, restartMarker });
}

/** What a file step's script says of the one address it sets in a file whose content is secret in the state (dns.json, platform.yml). */
export function addressChangeLine(
    change: { key: string; previousIp: string; newIp: string },
    o: { active: boolean; unchanged: string; holds: string },
): string {
    const secret = `(the content is secret in the state: it holds ${o.holds}).`;
    return o.active
        ? `${change.key}: ${JSON.stringify(change.previousIp)} => ${JSON.stringify(change.newIp)}; ${o.unchanged} as read ${secret}`
        : `${change.key}: ${JSON.stringify(change.previousIp)}, as read ${secret}`;
}
