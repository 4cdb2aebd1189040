import * as pulumi from "@pulumi/pulumi";
import { Machine } from "../config";
import { CapturedFile, captureScript, parseCapture } from "./machineFile";
import { RemoteStep, StepDefinition, undoRecord } from "./remoteStep";

// A file on a machine that the migration changes (source's site-443.conf, a register's
// dns.json): read once, at prepare, into the state (the `original` step); from the phase
// that changes it, the undo recorded before the change; then the file step, whose stdin
// is the content it sets, checked and replaced whole by its script, and which runs again
// whenever that content changes. Before that phase, the file step writes back what was
// read: a resource whose later previews diff against the file as it is.

/** Declares one step of a managed file: its name's suffix, what it runs, what it waits for. */
export type FileStep = (suffix: string, definition: StepDefinition, dependsOn: pulumi.Resource[]) => RemoteStep;

export interface FileToCapture {
    machine: Machine;
    /** Where the file may be, and the setting that says which when none or several exist. */
    candidates: string[];
    setting: string;
    /** The file in words, for a refusal: "site-443.conf on source". */
    what: string;
    /** The file holds secrets (a register's dns.json): what is read and written stays encrypted in the state. */
    secret: boolean;
}

/** The file as the `original` step reads it. */
export function captureFile(step: FileStep, file: FileToCapture): pulumi.Output<CapturedFile> {
    const capture = step(
        "original",
        { machine: file.machine, create: captureScript(file.candidates, file.setting), secretOutput: file.secret || undefined },
        [],
    );
    return capture.stdout.apply((stdout) => parseCapture(stdout, file.what));
}

export interface FileChange {
    machine: Machine;
    secret: boolean;
    /** Whether the file takes its new content now (the phase that changes it, and later). */
    active: boolean;
    /** The names of the undo holder's and the file's steps: the state's contract. */
    names: { undo: string; file: string };
    /** The undo of the change, recorded before the file changes. */
    undo: { why: string; message: pulumi.Input<string>; script: pulumi.Input<string> };
    /** The new content, and the script that writes whichever content its stdin holds (new, or the original again). */
    content: pulumi.Input<string>;
    script: pulumi.Input<string>;
    /** What must be done before the file changes. */
    after: pulumi.Resource[];
    /**
     * Steps that act once the undo is recorded and before the file changes, given the
     * undo holder to depend on; their own undos then run before the file's (source's
     * config follower, which must run again before source's nginx starts on its
     * original file).
     */
    between?: (undo: pulumi.Resource[]) => pulumi.Resource[];
}

export interface ManagedFile {
    /** The undo holder (when active), then the file step: what must be in place before anything relies on the change. */
    switched: pulumi.Resource[];
    undo: pulumi.Resource[];
    file: RemoteStep;
}

/** The undo holder and the file step of a file read by captureFile. */
export function manageFile(step: FileStep, original: pulumi.Output<CapturedFile>, change: FileChange): ManagedFile {
    const undo = change.active
        ? [
              step(
                  change.names.undo,
                  undoRecord(change.machine, { why: change.undo.why, message: change.undo.message, undo: change.undo.script }),
                  change.after,
              ).resource,
          ]
        : [];
    const between = change.active && change.between !== undefined ? change.between(undo) : [];
    const file = step(
        change.names.file,
        {
            machine: change.machine,
            create: change.script,
            stdin: change.active ? change.content : original.apply((captured) => captured.content),
            secretStdin: change.secret || undefined,
            rerun: true,
        },
        between.length > 0 ? between : undo,
    );
    return { switched: [...undo, ...between, file.resource], undo, file };
}
