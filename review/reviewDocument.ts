// Turns `pulumi preview --json` of a migration stack into the Markdown a reviewer reads on
// the pull request that changes Pulumi.<stack>.yaml: per machine, what each step does in
// words, the commands it runs, each file change as a diff, each DNS value old -> new, and
// what a rollback would undo. Pure: the CLI (scripts/review.ts) gathers the inputs.
import { renderAtAGlance } from "./atAGlance";
import { configValue, ReviewInput } from "./input";
import { machineRoles, stepMachine } from "./machines";
import { code, fenced } from "./markdown";
import { PreviewJson } from "./previewJson";
import { renderDeletes, renderRollback } from "./rollback";
import { renderStep, resourceName, resourceType, Step, stepTypes } from "./steps";

export type { ConfigEntry, PreviewJson } from "./previewJson";
export type { ReviewInput } from "./input";
export { splitScript, unwrapScript } from "./stepScripts";
export { stackNameFromPreview } from "./steps";

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
            const machine = stepMachine(before, after, roles);
            const retained = step.oldState?.retainOnDelete === true;
            return { op: step.op, name: resourceName(step.urn), before, after, replaceReasons: step.replaceReasons ?? [], machine, retained };
        });

    const phase = configValue(input, "phase");
    const summary = Object.entries(input.preview.changeSummary ?? {})
        .map(([op, count]) => `${count} ${op}`)
        .join(", ");
    const [phaseLine, ...risk] = renderAtAGlance(input, steps);
    const out = [`# Migration review: stack ${code(input.stack)}`, "", phaseLine, `- Changes (resources): ${summary === "" ? "none" : summary}`, ...risk];
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
