// Turns `pulumi preview --json` of a migration stack into the Markdown a reviewer reads on
// the pull request that changes Pulumi.<stack>.yaml: per machine, what each step does in
// words, the commands it runs, each file change as a diff, each DNS value old -> new, and
// what a rollback would undo. Pure: the CLI (scripts/review.ts) gathers the inputs.
import { changedJsonLeaves, describeLeafChange, parseJsonDocument } from "./jsonChanges";
import { unifiedDiffHunks } from "./lineDiff";
import { stepScript } from "../machinery/remoteStep";
import { commandStepType, ConfigEntry, opensshStepType, PreviewJson, PreviewStep, secretValue, StepInputs, unknownValue } from "./previewJson";

export type { ConfigEntry, PreviewJson } from "./previewJson";

/**
 * What renderReview reads:
 * - `stack`: the stack's name, shown in the title.
 * - `preview`: the parsed stdout of `pulumi preview --json --stack <stack>`; see PreviewJson.
 * - `config`: the parsed stdout of `pulumi config --json --stack <stack>`, keyed
 *   `pryv-core-migration:<key>`. Used: `phase`, `source` and `dest` ({host, port = 22}),
 *   `registers` ([{name, host, port = 22}]) to name machines. An object's `value` may be
 *   its JSON text (as the CLI prints it, with `objectValue` beside it) or the object.
 *   A key missing here is read from `preview.config`.
 * - `outputs`: the parsed stdout of `pulumi stack output --json --stack <stack>`; only
 *   `cutoverEstimate` (an object, each field printed) is used. Absent before the first update.
 * Secrets are never printed: connections show host, port and user only, and a value the
 * engine masked shows as "(secret)".
 */
export interface ReviewInput {
    stack: string;
    preview: PreviewJson;
    config: Record<string, ConfigEntry>;
    outputs?: Record<string, unknown>;
}

const configPrefix = "pryv-core-migration:";
/** The script a step's command runs, as its component wrote it (without what the executors wrap around it). */
export function unwrapScript(command: string): string {
    return stepScript(command) ?? command;
}

export interface ScriptParts {
    /** From a first line `# file: <absolute path>`: the step sets this file's content from its stdin. */
    filePath?: string;
    /** The leading comment block, one string per paragraph (comment lines joined, `#` alone separates). */
    words: string[];
    /** The rest of the script. */
    commands: string;
}

/** Splits a step's script into the plain words of its leading comment and the commands after it. */
export function splitScript(script: string): ScriptParts {
    const lines = script.split("\n");
    let index = 0;
    while (index < lines.length && lines[index].trim() === "") index++;
    const fileLine = /^#\s*file:\s*(\S.*?)\s*$/.exec(lines[index] ?? "");
    if (fileLine) index++;
    const paragraphs: string[][] = [[]];
    for (; index < lines.length && lines[index].startsWith("#") && !lines[index].startsWith("#!"); index++) {
        const text = lines[index].replace(/^#\s?/, "").trim();
        if (text === "") paragraphs.push([]);
        else paragraphs[paragraphs.length - 1].push(text);
    }
    const commands = lines
        .slice(index)
        .join("\n")
        .replace(/^\s*\n/, "")
        .trimEnd();
    return { filePath: fileLine?.[1], words: paragraphs.filter((lines) => lines.length > 0).map((lines) => lines.join(" ")), commands };
}

type Known<T> = { known: true; value: T } | { known: false; why: string };

/** A step input as text, or why it cannot be shown. */
function knownText(value: unknown): Known<string> | undefined {
    if (value === undefined || value === null) return undefined;
    if (value === secretValue) return { known: false, why: "secret, not shown" };
    if (value === unknownValue) return { known: false, why: "known only once the steps before it have run" };
    return { known: true, value: typeof value === "string" ? value : JSON.stringify(value) };
}

function script(command: unknown): Known<ScriptParts> | undefined {
    const text = knownText(command);
    return text === undefined || !text.known ? text : { known: true, value: splitScript(unwrapScript(text.value)) };
}

/** A Markdown code span that survives backticks in the text. */
function code(text: string): string {
    const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
    const ticks = "`".repeat(longest + 1);
    return longest > 0 ? `${ticks} ${text} ${ticks}` : `${ticks}${text}${ticks}`;
}

/** A fenced block whose fence is longer than any backtick run inside (a file may contain ```). */
function fenced(language: string, body: string): string[] {
    const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
    const fence = "`".repeat(Math.max(3, longest + 1));
    return [`${fence}${language}`, body, fence];
}

/** A value as JSON, with the engine's placeholders for secret and unknown values said in words. */
function shown(value: unknown): string {
    return JSON.stringify(value ?? null, (_key, item: unknown) => (item === secretValue ? "(secret)" : item === unknownValue ? "(not yet known)" : item));
}

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// ---- machines -------------------------------------------------------------------------

function configValue(input: ReviewInput, key: string): unknown {
    const entry = input.config[configPrefix + key];
    const raw: unknown = entry === undefined ? input.preview.config?.[configPrefix + key] : (entry.objectValue ?? entry.value);
    if (typeof raw === "string" && /^\s*[[{]/.test(raw)) {
        try {
            return JSON.parse(raw) as unknown;
        } catch {
            return raw;
        }
    }
    return raw;
}

function endpoint(host: unknown, port: unknown): string | undefined {
    if (typeof host !== "string" && typeof host !== "number") return undefined;
    // The config's default port; a connection always states its own.
    const portText = typeof port === "number" || (typeof port === "string" && port !== "") ? String(port) : "22";
    return `${host}:${portText}`;
}

/** host:port -> role (source, dest, a register's name), from the stack config. */
function machineRoles(input: ReviewInput): Map<string, string> {
    const roles = new Map<string, string>();
    const add = (machine: unknown, fallbackName?: string) => {
        if (typeof machine !== "object" || machine === null) return;
        const { host, port, name } = machine as { host?: unknown; port?: unknown; name?: unknown };
        const key = endpoint(host, port);
        const role = typeof name === "string" ? name : fallbackName;
        if (key === undefined || role === undefined) return;
        // Two roles on one machine is refused by the program's config check; if it happens, say both.
        roles.set(key, roles.has(key) ? `${roles.get(key)}/${role}` : role);
    };
    add(configValue(input, "source"), "source");
    add(configValue(input, "dest"), "dest");
    const registers = configValue(input, "registers");
    if (Array.isArray(registers)) registers.forEach((register, index) => add(register, `register ${index + 1}`));
    return roles;
}

function connectionOf(inputs: StepInputs | undefined): { key?: string; who?: string } {
    const connection = inputs?.connection;
    if (typeof connection !== "object" || connection === null) return {};
    const key = endpoint(connection.host, connection.port);
    const user = typeof connection.user === "string" ? `${connection.user}@` : "";
    return { key, who: key === undefined ? undefined : `${user}${key}` };
}

// ---- steps ----------------------------------------------------------------------------

interface Step {
    op: string;
    name: string;
    before?: StepInputs;
    after?: StepInputs;
    replaceReasons: string[];
    machine: string;
    /** A delete runs nothing: the engine forgets the step (destLost). */
    retained: boolean;
}

const stepTypes = new Set([opensshStepType, commandStepType]);

function resourceType(step: PreviewStep): string {
    const typed = step.newState?.type ?? step.oldState?.type;
    if (typed !== undefined) return typed;
    // urn:pulumi:<stack>::<project>::<parent types $ separated>::<name>
    const qualified = step.urn.split("::")[2] ?? "";
    return qualified.split("$").pop() ?? qualified;
}

const resourceName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** The stack's name from the URNs of the preview (every preview lists the stack itself). */
export function stackNameFromPreview(preview: PreviewJson): string | undefined {
    const urn = preview.steps?.[0]?.urn;
    return urn === undefined ? undefined : /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

const same = (left: unknown, right: unknown) => JSON.stringify(left ?? null) === JSON.stringify(right ?? null);

function wordsOf(parts: Known<ScriptParts> | undefined): string[] {
    if (parts === undefined) return [];
    if (!parts.known) return [`(script ${parts.why})`];
    return parts.value.words.length > 0 ? parts.value.words : ["(this script has no leading comment saying what it does)"];
}

function renderScript(heading: string, parts: Known<ScriptParts> | undefined): string[] {
    const out = wordsOf(parts).flatMap((paragraph) => [paragraph, ""]);
    if (parts?.known && parts.value.commands !== "") out.push(heading, "", ...fenced("bash", parts.value.commands), "");
    return out;
}

function filePathOf(step: Step): string | undefined {
    for (const command of [step.after?.create, step.before?.create]) {
        const parts = script(command);
        if (parts?.known && parts.value.filePath !== undefined) return parts.value.filePath;
    }
    return undefined;
}

function countLines(text: string): number {
    return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
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

function renderStep(step: Step): string[] {
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

// ---- rollback -------------------------------------------------------------------------

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
function renderRollback(stack: string, steps: Step[]): string[] {
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
    if (nothing.length > 0) out.push(`Steps with nothing to undo (they leave the stack only): ${nothing.join(", ")}.`, "");
    return out;
}

/** For a preview that deletes steps (a rollback): what each delete runs, in the order the preview lists them. */
function renderDeletes(steps: Step[]): string[] {
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

// ---- document -------------------------------------------------------------------------

function renderEstimate(estimate: unknown): string[] {
    if (estimate === undefined || estimate === null) return [];
    const fields =
        typeof estimate === "object" && !Array.isArray(estimate)
            ? Object.entries(estimate).map(([key, value]) => `- ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
            : [`- ${typeof estimate === "string" ? estimate : JSON.stringify(estimate)}`];
    return ["## Downtime estimate", "", ...fields, ""];
}

function renderDiagnostics(preview: PreviewJson): string[] {
    const messages = [
        ...new Set(
            (preview.diagnostics ?? []).filter((diagnostic) => /^(error|warning)$/.test(diagnostic.severity)).map((diagnostic) => diagnostic.message.trim()),
        ),
    ];
    if (messages.length === 0) return [];
    return ["<details><summary>Engine messages</summary>", "", ...fenced("", messages.join("\n")), "", "</details>", ""];
}

/** The review as Markdown. See ReviewInput for what it reads. */
export function renderReview(input: ReviewInput): string {
    const roles = machineRoles(input);
    const steps: Step[] = (input.preview.steps ?? [])
        .filter((step) => step.op !== "same" && stepTypes.has(resourceType(step)))
        .map((step) => {
            const after = step.newState?.inputs;
            const before = step.oldState?.inputs;
            const key = connectionOf(after).key ?? connectionOf(before).key;
            const role = key === undefined ? undefined : roles.get(key);
            const machine = key === undefined ? "machine not shown (its connection is secret or not yet known)" : role === undefined ? key : `${role} (${key})`;
            const retained = step.oldState?.retainOnDelete === true;
            return { op: step.op, name: resourceName(step.urn), before, after, replaceReasons: step.replaceReasons ?? [], machine, retained };
        });

    const phase = configValue(input, "phase");
    const summary = Object.entries(input.preview.changeSummary ?? {})
        .map(([op, count]) => `${count} ${op}`)
        .join(", ");
    const out = [`# Migration review: stack ${code(input.stack)}`, "", `- Phase: ${code(typeof phase === "string" ? phase : "(not set)")}`];
    out.push(`- Changes (resources): ${summary === "" ? "none" : summary}`);
    // What the cutover would cost users: shown while one is being prepared or run, not for a rollback.
    const forward = !steps.some((step) => step.op === "delete") && (phase === "warm-sync" || phase === "cutover");
    out.push("", ...renderDeletes(steps), ...(forward ? renderEstimate(input.outputs?.cutoverEstimate) : []));

    if (steps.length === 0) out.push("No step runs: nothing changes on any machine.", "");
    const machines = [...new Set(steps.map((step) => step.machine))];
    for (const machine of machines) {
        out.push(`## ${machine}`, "");
        for (const step of steps.filter((candidate) => candidate.machine === machine)) out.push(...renderStep(step));
    }
    out.push(...renderRollback(input.stack, steps), ...renderDiagnostics(input.preview));
    // Blank separators are whole entries (a fenced body is one entry), so this never touches a file's own blank lines.
    const lines = out.filter((line, index) => line !== "" || (index > 0 && out[index - 1] !== ""));
    return `${lines.join("\n").trimEnd()}\n`;
}
