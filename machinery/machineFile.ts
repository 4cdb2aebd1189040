import { render } from "./templates";

/** A file as the capture step read it on its machine. */
export interface CapturedFile {
    sha256: string;
    content: string;
}

export function captureScript(path: string): string {
    return render("file-capture.sh", { path });
}

export function parseCapture(stdout: string): CapturedFile {
    const { sha256, base64 } = JSON.parse(stdout.trim()) as { sha256: string; base64: string };
    return { sha256, content: Buffer.from(base64, "base64").toString("utf8") };
}

export interface Replacement {
    path: string;
    original: CapturedFile;
    content: string;
    /** Run on the new file in place; a failure puts the previous file back and fails the step. */
    checkCommand?: string[];
    /** Commands run once the new file is in place. */
    restart: string[][];
}

export function replaceScript(replacement: Replacement): string {
    return render("file-replace.sh", {
        path: replacement.path,
        originalSha256: replacement.original.sha256,
        content: replacement.content,
        checkCommand: replacement.checkCommand ?? false,
        restart: replacement.restart,
    });
}

/** Undo of replaceScript: `before` runs with the replacement in place, `after` with the original back. */
export function restoreScript(path: string, before: string[][], after: string[][]): string {
    return render("file-restore.sh", { path, before, after });
}
