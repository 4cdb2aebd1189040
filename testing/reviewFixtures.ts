// Previews of this program for the review's unit tests (review/fixtures/program/): the
// operator CLI test takes them from its real stack on the test hosts (with
// PRYV_UPDATE_REVIEW_FIXTURES=1) and, on every other run, checks that they still are what
// the program previews: the same steps, the same operations, the same words.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeScript, stepScript } from "../machinery/remoteStep";
import { ReviewInput } from "../review/input";
import { PreviewJson, ResourceState } from "../review/previewJson";
import { PREFIX } from "../testbed/network";

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export const programFixtureFolder = path.resolve(__dirname, "..", "review", "fixtures", "program");
const fixtureFile = (name: string): string => path.join(programFixtureFolder, `${name}.json`);

/** A review's input as the operator CLI test saw it, by name (`prepare`, `cutover`, `dns`, `rollback-to-warm-sync`). */
export const programFixture = (name: string): ReviewInput => JSON.parse(fs.readFileSync(fixtureFile(name), "utf8")) as ReviewInput;

/** The fixtures there are, in the order the operator CLI test took them. */
export const programFixtureNames = (): string[] =>
    fs
        .readdirSync(programFixtureFolder)
        .filter((name) => name.endsWith(".json"))
        .map((name) => name.slice(0, -".json".length))
        .sort();

/** What the review reads of a state: the serialized provider code and timings are left out. */
function stateReviewed(state: ResourceState | undefined): ResourceState | undefined {
    if (state === undefined || state === null) return undefined;
    const inputs = state.inputs === undefined ? undefined : Object.fromEntries(Object.entries(state.inputs).filter(([key]) => key !== "__provider"));
    return { urn: state.urn, type: state.type, custom: state.custom, inputs, ...(state.retainOnDelete === true && { retainOnDelete: true }) };
}

export function reviewedInput(input: ReviewInput): ReviewInput {
    const preview: PreviewJson = {
        config: input.preview.config,
        changeSummary: input.preview.changeSummary,
        diagnostics: (input.preview.diagnostics ?? []).filter((diagnostic) => /^(error|warning)$/.test(diagnostic.severity)),
        steps: (input.preview.steps ?? []).map((step) => ({
            op: step.op,
            urn: step.urn,
            ...(step.replaceReasons !== undefined && { replaceReasons: step.replaceReasons }),
            ...(step.oldState && { oldState: stateReviewed(step.oldState) }),
            ...(step.newState && { newState: stateReviewed(step.newState) }),
        })),
    };
    return { stack: input.stack, preview, config: input.config, outputs: input.outputs };
}

/** Each run of the test hosts has a folder of its own, named in the machines' paths. */
const runFolder = new RegExp(`${escapeRegExp(path.join(os.tmpdir(), PREFIX))}[^/\\s]+`, "g");

/** What must not change between two runs of the program on the test hosts: each step's name, operation and words. */
export function fixtureSignature(input: ReviewInput): string[] {
    const words = (command: unknown): string =>
        typeof command === "string" ? describeScript(stepScript(command) ?? command).replace(runFolder, "<test hosts' folder>") : "";
    return (input.preview.steps ?? [])
        .map((step) => {
            const name = step.urn.slice(step.urn.lastIndexOf("::") + 2);
            const inputs = step.newState?.inputs ?? step.oldState?.inputs;
            return `${name} ${step.op}: ${words(inputs?.create)} | undo: ${words(inputs?.delete)}`;
        })
        .sort();
}

/**
 * Writes the fixture (PRYV_UPDATE_REVIEW_FIXTURES=1), or returns how this run's preview
 * differs from it: each signature line only one of them has.
 */
export function updateOrCompareFixture(name: string, input: ReviewInput): string[] {
    const live = reviewedInput(input);
    if (process.env.PRYV_UPDATE_REVIEW_FIXTURES === "1") {
        fs.mkdirSync(programFixtureFolder, { recursive: true });
        fs.writeFileSync(fixtureFile(name), `${JSON.stringify(live, null, 1)}\n`);
        return [];
    }
    const [stored, now] = [fixtureSignature(programFixture(name)), fixtureSignature(live)];
    return [
        ...stored.filter((line) => !now.includes(line)).map((line) => `- ${line}`),
        ...now.filter((line) => !stored.includes(line)).map((line) => `+ ${line}`),
    ];
}
