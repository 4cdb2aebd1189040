// What a rollback would undo, and what a rollback's deletes run.
import { changedJsonLeaves, describeLeafChange, parseJsonDocument } from "./jsonChanges";
import { code } from "./markdown";
import { knownText, same, script, wordsOf } from "./stepScripts";
import { filePathOf, Step } from "./steps";

function fileGoesBack(step: Step): string {
    const path = filePathOf(step);
    const before = knownText(step.before?.stdin);
    const after = knownText(step.after?.stdin);
    const oldJson = before?.known ? parseJsonDocument(before.value) : undefined;
    const newJson = after?.known ? parseJsonDocument(after.value) : undefined;
    const values =
        oldJson !== undefined && newJson !== undefined ? changedJsonLeaves(newJson, oldJson).map((change) => `; ${code(describeLeafChange(change))}`) : [];
    return `${path === undefined ? "its standard input" : code(path)} goes back to its content before this change (the diff above, reversed)${values.join("")}`;
}

/**
 * What reverting this change of the stack file would do, last step first: Pulumi undoes in
 * reverse dependency order, and the preview lists steps in dependency order.
 */
export function renderRollback(stack: string, steps: Step[]): string[] {
    const undos: string[] = [];
    const nothing: string[] = [];
    for (const step of [...steps].reverse()) {
        const where = `${step.machine}, ${code(step.name)}`;
        if (step.op === "create") {
            const undo = script(step.after?.delete);
            if (undo === undefined) nothing.push(`${code(step.name)} (${step.machine})`);
            else undos.push(`- ${where}: ${wordsOf(undo).join(" ")}`);
        } else if ((step.op === "update" || step.op === "replace") && !same(step.before?.stdin, step.after?.stdin)) {
            undos.push(`- ${where}: ${fileGoesBack(step)}`);
        } else if (step.op === "delete") {
            // Undoing a rollback declares the deleted step again, which runs its create script.
            undos.push(`- ${where}: runs again: ${wordsOf(script(step.before?.create)).join(" ")}`);
        }
    }
    const out = ["## If rolled back", ""];
    if (undos.length > 0)
        out.push(`Reverting this change to ${code(`Pulumi.${stack}.yaml`)} and running \`pulumi up\` would, in this order:`, "", ...undos, "");
    else out.push("Nothing this preview creates or changes has an undo to run.", "");
    // In name order: steps that do not wait on each other come in any order from one preview to the next.
    if (nothing.length > 0) out.push(`Steps with nothing to undo (they leave the stack only): ${nothing.sort().join(", ")}.`, "");
    return out;
}

/** For a preview that deletes steps (a rollback): what each delete runs, in the order the preview lists them. */
export function renderDeletes(steps: Step[]): string[] {
    const deletes = steps.filter((step) => step.op === "delete");
    if (deletes.length === 0) return [];
    const lines = deletes.map((step) => {
        const undo = script(step.before?.delete);
        const does = step.retained
            ? "forgotten without running its undo (machine declared lost)"
            : undo === undefined
              ? "nothing to undo; it leaves the stack"
              : wordsOf(undo).join(" ");
        return `- ${step.machine}, ${code(step.name)}: ${does}`;
    });
    const plural = deletes.length === 1 ? "" : "s";
    return [`This preview deletes ${deletes.length} step${plural}: it rolls back. Each delete runs that step's undo (commands below):`, "", ...lines, ""];
}
