// One section per step of the preview: what it does in words, the commands it runs, each
// file change as a diff, each DNS value old -> new.
import { changedJsonLeaves, describeLeafChange, parseJsonDocument } from "./jsonChanges";
import { unifiedDiffHunks } from "./lineDiff";
import { connectionOf } from "./machines";
import { code, countLines, escapeHtml, fenced } from "./markdown";
import { commandStepType, opensshStepType, PreviewJson, PreviewStep, secretValue, StepInputs } from "./previewJson";
import { Known, knownText, same, script, ScriptParts, shown, unwrapScript, wordsOf } from "./stepScripts";

export interface Step {
    op: string;
    name: string;
    before?: StepInputs;
    after?: StepInputs;
    replaceReasons: string[];
    machine: string;
    /** A delete runs nothing: the engine forgets the step (destLost). */
    retained: boolean;
}

export const stepTypes = new Set([opensshStepType, commandStepType]);

export function resourceType(step: PreviewStep): string {
    const typed = step.newState?.type ?? step.oldState?.type;
    if (typed !== undefined) return typed;
    // urn:pulumi:<stack>::<project>::<parent types $ separated>::<name>
    const qualified = step.urn.split("::")[2] ?? "";
    return qualified.split("$").pop() ?? qualified;
}

export const resourceName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** The stack's name from the URNs of the preview (every preview lists the stack itself). */
export function stackNameFromPreview(preview: PreviewJson): string | undefined {
    const urn = preview.steps?.[0]?.urn;
    return urn === undefined ? undefined : /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

function renderScript(heading: string, parts: Known<ScriptParts> | undefined): string[] {
    const out = wordsOf(parts).flatMap((paragraph) => [paragraph, ""]);
    if (parts?.known && parts.value.commands !== "") out.push(heading, "", ...fenced("bash", parts.value.commands), "");
    return out;
}

export function filePathOf(step: Step): string | undefined {
    for (const command of [step.after?.create, step.before?.create]) {
        const parts = script(command);
        if (parts?.known && parts.value.filePath !== undefined) return parts.value.filePath;
    }
    return undefined;
}

/** The file change an update of stdin makes, as a unified diff, and each JSON leaf old -> new. */
function renderStdinChange(step: Step): string[] {
    const path = filePathOf(step);
    const before = knownText(step.before?.stdin);
    const after = knownText(step.after?.stdin);
    const what = path === undefined ? "Its standard input" : `File ${code(path)}`;
    // A secret content shows the same placeholder before and after: its script says what changes.
    const hidden = step.before?.stdin === secretValue || step.after?.stdin === secretValue;
    if (hidden && !same(step.before?.create, step.after?.create)) {
        const said = saidChanges(step);
        return [
            `${what} changes; the content is secret, not shown.`,
            "",
            ...(said.length > 0 ? [valuesHeading(path), "", ...said.map((change) => `- ${code(change)}`), ""] : []),
        ];
    }
    if (same(step.before?.stdin, step.after?.stdin)) return [];
    if (before === undefined || after === undefined || !before.known || !after.known) {
        const why = [before, after].find((side): side is { known: false; why: string } => side !== undefined && !side.known)?.why;
        return [`${what} changes; the content is ${why ?? "added or removed"}.`, ""];
    }
    const label = path ?? "stdin";
    const out = [
        `${what} changes:`,
        "",
        ...fenced("diff", [`--- ${label} (before)`, `+++ ${label} (after)`, ...unifiedDiffHunks(before.value, after.value)].join("\n")),
        "",
    ];
    const oldJson = parseJsonDocument(before.value);
    const newJson = parseJsonDocument(after.value);
    if (oldJson !== undefined && newJson !== undefined) {
        const changes = changedJsonLeaves(oldJson, newJson);
        if (changes.length > 0) out.push(valuesHeading(path), "", ...changes.map((change) => `- ${code(describeLeafChange(change))}`), "");
    }
    return out;
}

const valuesHeading = (path: string | undefined): string =>
    path !== undefined && /(^|\/)dns\.json$/.test(path) ? "DNS values (old -> new):" : "Values (old -> new):";

/**
 * For a file whose content the state keeps secret, its script says in comment lines what
 * changes (`# <key>: "<old>" => "<new>"`): the values the review shows instead of a diff.
 */
function saidChanges(step: Step): string[] {
    const after = knownText(step.after?.create);
    if (after === undefined || !after.known) return [];
    return unwrapScript(after.value)
        .split("\n")
        .map((line) => /^# (\S+): ("(?:[^"\\]|\\.)*") => ("(?:[^"\\]|\\.)*");/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map(([, key, from, to]) => `${key}: ${from} -> ${to}`);
}

/** What the step gives as stdin when it is created: until the phase that changes the file, the file as read on the machine. */
function renderStdinCreated(step: Step): string[] {
    const content = knownText(step.after?.stdin);
    if (content === undefined) return [];
    const path = filePathOf(step);
    const what = path === undefined ? "Standard input" : `Content for <code>${escapeHtml(path)}</code>`;
    if (!content.known) return [`${what.replace(/<\/?code>/g, "`")}: ${content.why}.`, ""];
    return [
        `<details><summary>${what} (${countLines(content.value)} lines)</summary>`,
        "",
        ...fenced("", content.value.replace(/\n$/, "")),
        "",
        "</details>",
        "",
    ];
}

function renderScriptChanges(step: Step): string[] {
    return (["create", "update", "delete"] as const).flatMap((key) => {
        const before = knownText(step.before?.[key]);
        const after = knownText(step.after?.[key]);
        if (same(step.before?.[key], step.after?.[key])) return [];
        if (!before?.known || !after?.known)
            return [
                `Its ${code(key)} script ${before === undefined ? "is added" : after === undefined ? "is removed" : "changes (not shown: secret or not yet known)"}.`,
                "",
            ];
        // Scripts travel without a final newline; adding one keeps "\ No newline" noise out of their diff.
        const diff = unifiedDiffHunks(`${unwrapScript(before.value)}\n`, `${unwrapScript(after.value)}\n`);
        return [`Its ${code(key)} script changes:`, "", ...fenced("diff", [`--- ${key} (before)`, `+++ ${key} (after)`, ...diff].join("\n")), ""];
    });
}

function renderCreate(step: Step): string[] {
    return [...renderScript("Runs:", script(step.after?.create)), ...renderStdinCreated(step)];
}

function renderUpdate(step: Step): string[] {
    const runs = (["create", "update", "stdin"] as const).some((key) => !same(step.before?.[key], step.after?.[key]));
    const out: string[] = [];
    if (runs) out.push(...renderScript("Runs:", script(step.after?.update ?? step.after?.create)));
    else
        out.push(
            ...wordsOf(script(step.after?.create)).flatMap((paragraph) => [paragraph, ""]),
            "Runs nothing on the machine: only what the stack records for this step changes.",
            "",
        );
    const before = connectionOf(step.before).who;
    const after = connectionOf(step.after).who;
    if (before !== after) out.push(`Connection: ${code(before ?? "(not shown)")} -> ${code(after ?? "(not shown)")}`, "");
    return [...out, ...renderStdinChange(step), ...renderScriptChanges(step)];
}

function renderReplace(step: Step): string[] {
    const reasons = step.replaceReasons.length > 0 ? step.replaceReasons : ["triggers"];
    const out = reasons.map((key) => `Runs again because ${code(key)} changed: ${code(shown(step.before?.[key]))} -> ${code(shown(step.after?.[key]))}`);
    out.push("", ...renderScript("Runs:", script(step.after?.create)));
    const undo = script(step.before?.delete);
    if (undo !== undefined) out.push("Then the replaced step's undo:", "", ...renderScript("Undo runs:", undo));
    return [...out, ...renderStdinChange(step)];
}

function renderDelete(step: Step): string[] {
    const did = wordsOf(script(step.before?.create)).join(" ");
    const undo = script(step.before?.delete);
    const out = did === "" ? [] : [`Removes the step that did this: ${did}`, ""];
    if (step.retained) return [...out, "Runs nothing on the machine: the stack forgets the step (its machine was declared lost), its undo does not run.", ""];
    if (undo === undefined) return [...out, "Runs nothing on the machine (the step has no undo); it leaves the stack.", ""];
    return [...out, ...renderScript("Undo runs:", undo)];
}

export function renderStep(step: Step): string[] {
    const body =
        step.op === "create" || step.op === "create-replacement"
            ? renderCreate(step)
            : step.op === "update"
              ? renderUpdate(step)
              : step.op === "replace"
                ? renderReplace(step)
                : step.op === "delete" || step.op === "delete-replaced"
                  ? renderDelete(step)
                  : [`The engine plans ${code(step.op)} for this step; nothing runs on the machine for it.`, ""];
    return [`### ${step.op}: ${code(step.name)}`, "", ...body];
}
