// The review's opening lines, the risk a reviewer signs off on: the phase from -> to, what
// users feel, what is given up for good, and each machine touched with what stops or
// starts there. Read from the stack's last outputs (the phase it reached), the config
// (the phase asked for, destLost) and the steps' own `# services:` lines.
import { Phase, phaseReached, phases } from "../config";
import { scriptServices } from "../machinery/remoteStep";
import { configValue, ReviewInput } from "./input";
import { code } from "./markdown";
import { knownText } from "./stepScripts";
import { Step } from "./steps";

const isPhase = (value: unknown): value is Phase => typeof value === "string" && (phases as readonly string[]).includes(value);
const reached = (phase: Phase | undefined, wanted: Phase): boolean => phase !== undefined && phaseReached(phase, wanted);

/** The phase this update leaves behind and the one it brings the stack to. */
interface Move {
    from?: Phase;
    to?: Phase;
}
const enters = (move: Move, phase: Phase): boolean => !reached(move.from, phase) && reached(move.to, phase);
const leaves = (move: Move, phase: Phase): boolean => reached(move.from, phase) && move.to !== undefined && !reached(move.to, phase);

function phaseLine(move: Move): string {
    const to = move.to === undefined ? "(not set)" : code(move.to);
    if (move.from === undefined) return `- Phase: ${to}, the stack's first update`;
    if (move.from === move.to) return `- Phase: ${to}, unchanged`;
    const direction = move.to !== undefined && phases.indexOf(move.to) < phases.indexOf(move.from) ? "a rollback" : "forward";
    return `- Phase: ${code(move.from)} -> ${to}, ${direction}`;
}

function estimateWords(estimate: unknown): string {
    const seconds = typeof estimate === "object" && estimate !== null ? (estimate as { seconds?: unknown }).seconds : undefined;
    return typeof seconds === "number"
        ? `about ${seconds} s by the last warm round's estimate (its basis below; the cutover makes its own before source stops)`
        : "its length is estimated once a warm round has run";
}

function usersLines(move: Move, input: ReviewInput, destLost: boolean): string[] {
    const felt: string[] = [];
    if (enters(move, "cutover"))
        felt.push(
            `a 503 window (with Retry-After) from source's stop until dest serves, ${estimateWords(input.outputs?.cutoverEstimate)}; then source's nginx proxies to dest`,
        );
    if (leaves(move, "cutover"))
        felt.push(
            destLost
                ? "a 503 window until source serves again; what users wrote on dest since the cutover stays there (dest is declared lost)"
                : "a 503 window while dest stops, its data is carried back to source and source restarts; what users wrote on dest comes back with it",
        );
    if (enters(move, "dns"))
        felt.push(
            "the registers answer dest's address: clients move over as their DNS caches expire, and source's proxy serves the others from dest meanwhile",
        );
    if (leaves(move, "dns"))
        felt.push(
            `the registers answer source's address again: clients move back as their caches expire${leaves(move, "cutover") ? "" : ", and source still proxies to dest"}`,
        );
    if (felt.length === 0) felt.push(reached(move.to, "cutover") ? "nothing: dest serves throughout" : "nothing: source serves throughout");
    return felt.map((words) => `- Users: ${words}`);
}

function forGoodLine(move: Move, steps: Step[]): string {
    const given: string[] = [];
    if (enters(move, "finalize"))
        given.push("the migration keys and what rollbacks kept aside are deleted, and every step that would undo the migration is protected");
    const forgotten = steps.filter((step) => step.op === "delete" && step.retained).length;
    if (forgotten > 0)
        given.push(
            `${forgotten === 1 ? "1 step leaves the stack without running its undo" : `${forgotten} steps leave the stack without running their undo`} (dest is declared lost)`,
        );
    return `- Given up for good: ${given.length > 0 ? given.join("; ") : "nothing: every step this update runs has its undo in the stack"}`;
}

/** What a step's scripts that run in this update do to its machine's services. */
function servicesOf(step: Step): string[] {
    const commands: unknown[] = [];
    if (step.op === "delete" || step.op === "replace") commands.push(step.retained ? undefined : step.before?.delete);
    if (step.op === "create" || step.op === "replace") commands.push(step.after?.create);
    return commands.flatMap((command) => {
        const text = knownText(command);
        const services = text?.known ? scriptServices(text.value) : undefined;
        return services === undefined ? [] : [services];
    });
}

function machinesLines(steps: Step[]): string[] {
    const machines = [...new Set(steps.map((step) => step.machine))];
    if (machines.length === 0) return ["- Machines touched: none"];
    return [
        "- Machines touched:",
        ...machines.map((machine) => {
            const services = steps.filter((step) => step.machine === machine).flatMap(servicesOf);
            // In the order they first run; the same words from several steps (a round per folder) once, counted.
            const said = [...new Set(services)].map((words) => {
                const times = services.filter((other) => other === words).length;
                return times > 1 ? `${words} (${times} steps)` : words;
            });
            return `  - ${machine}: ${said.length > 0 ? said.join("; ") : "no service stops or starts"}`;
        }),
    ];
}

/** The review's opening box, in the order a reviewer weighs it. */
export function renderAtAGlance(input: ReviewInput, steps: Step[]): string[] {
    const from = input.outputs?.phase;
    const to = configValue(input, "phase");
    const move: Move = { from: isPhase(from) ? from : undefined, to: isPhase(to) ? to : undefined };
    return [
        phaseLine(move),
        ...usersLines(move, input, [true, "true"].includes(configValue(input, "destLost") as boolean | string)),
        forGoodLine(move, steps),
        ...machinesLines(steps),
    ];
}
