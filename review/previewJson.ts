// The parts of `pulumi preview --json` (engine 3.259.0) the review reads, as observed on this
// program's previews (review/fixtures/program/, taken by the operator CLI test). The engine
// prints more (stack traces, serialized provider code, property dependencies); nothing here needs it.

/** How the engine prints a value it does not know yet (an output of a step that has not run). */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** How the engine prints a secret value (without --show-secrets). */
export const secretValue = "[secret]";

/** The resource type of a step run by the `openssh` executor (a dynamic provider of this project). */
export const opensshStepType = "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand";
/** The resource type of a step run by the `command` executor (@pulumi/command). */
export const commandStepType = "command:remote:Command";

/** A step's inputs per the program's contract; any of them may be `unknownValue` or `secretValue`. */
export interface StepInputs {
    connection?: { host?: unknown; port?: unknown; user?: unknown; privateKey?: unknown } | string;
    create?: string;
    update?: string;
    delete?: string;
    triggers?: unknown[] | string;
    stdin?: string;
    [other: string]: unknown;
}

export interface ResourceState {
    urn: string;
    type: string;
    custom?: boolean;
    inputs?: StepInputs;
    /** The engine forgets the resource on delete without calling its provider (a machine declared lost). */
    retainOnDelete?: boolean;
}

/**
 * One resource in the plan. `op` is create, update, replace, delete or same (observed);
 * the engine also knows create-replacement, delete-replaced, read, refresh, import...
 * A replace appears once, as `replace`. `same` steps of resources are mostly left out
 * (only the stack's is listed). `oldState` is absent on create, `newState` on delete.
 * The dynamic provider reports no `detailedDiff` (null) and no `diffReasons`, so the
 * review compares `oldState.inputs` with `newState.inputs` itself.
 */
export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: ResourceState;
    newState?: ResourceState;
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
    diffReasons?: string[];
}

export interface PreviewDiagnostic {
    message: string;
    severity: string;
    urn?: string;
}

export interface PreviewJson {
    /** Stack config as strings, secrets as `secretValue`. */
    config?: Record<string, string>;
    steps?: PreviewStep[];
    diagnostics?: PreviewDiagnostic[];
    /** Count per op, e.g. {"create": 1, "same": 4, "update": 1}. */
    changeSummary?: Record<string, number>;
}

/** One entry of `pulumi config --json`: `value` is a string (objects as JSON text, with `objectValue` beside it); secrets have no value. */
export interface ConfigEntry {
    value?: unknown;
    objectValue?: unknown;
    secret?: boolean;
}
