// The unit tests' engine: Pulumi's mocks, and a transformation that records every
// resource a component under test registers (inputs, parent, dependencies, options), so
// that tests assert on exact types, names, scripts and wiring.
import * as pulumi from "@pulumi/pulumi";
import { stepScript } from "../machinery/remoteStep";

/** One resource as the program registered it: resolved inputs, parent, dependencies, options. */
export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
    dependsOn: string[];
    additionalSecretOutputs: string[];
    /** Paths of inputs that reached the engine as secrets, like `connection.privateKey`. */
    secretInputs: string[];
    /** As the SDK sends it: the resource's own option, or else its parent's. */
    protect: boolean;
    ignoreChanges: string[];
    /** The engine forgets the resource on delete without running its delete script. */
    retainOnDelete: boolean;
}

/** What the fake machines print, keyed by a test of the resource's name. */
export type FakeOutput = (name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

const recorded = new Map<string, Recorded>();
const resourceNames = new Map<pulumi.Resource, string>();
const builtByName = new Map<string, pulumi.Resource>();
// The SDK keeps the protect it computed (inherited from the parent when unset) on the resource, out of its typings.
const protectOf = (resource: pulumi.Resource): boolean => (resource as unknown as { __protect?: boolean }).__protect === true;
let fakeOutput: FakeOutput = () => ({});

void pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const entry = recorded.get(args.name);
            if (entry !== undefined) {
                entry.inputs = revealSecrets(args.inputs) as Record<string, unknown>;
                entry.secretInputs = secretPaths(args.inputs, "");
            }
            const inputs = args.inputs as Record<string, unknown>;
            return { id: `${args.name}-id`, state: { ...inputs, ...fakeOutput(args.name, revealSecrets(args.inputs) as Record<string, unknown>) } };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return { repoDigest: `${String((args.inputs as { name: string }).name)}@sha256:0123` };
        },
    },
    "pryv-core-migration",
    "unit",
    false,
);

const secretSignature = "4dabf18193072939515e22adb298388d";

/** Mocks see secrets wrapped; tests assert on the values, and on secretness through `secretPaths`. */
function revealSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (secretSignature in record) return revealSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, revealSecrets(inner)]));
}

function secretPaths(value: unknown, at: string): string[] {
    if (value === null || typeof value !== "object") return [];
    const record = value as Record<string, unknown>;
    if (secretSignature in record) return [at.slice(1)];
    return Object.entries(record).flatMap(([key, inner]) => secretPaths(inner, `${at}.${key}`));
}

/** A transformation, passed to the component under test, that records each resource it and its children register. */
const recorder: pulumi.ResourceTransformation = (args) => {
    resourceNames.set(args.resource, args.name);
    builtByName.set(args.name, args.resource);
    const dependsOn = ([] as unknown[]).concat(args.opts.dependsOn ?? []);
    recorded.set(args.name, {
        type: args.type,
        name: args.name,
        inputs: {},
        parent: args.opts.parent === undefined ? undefined : resourceNames.get(args.opts.parent),
        dependsOn: dependsOn.map((resource) => resourceNames.get(resource as pulumi.Resource) ?? "?"),
        additionalSecretOutputs: (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [],
        secretInputs: [],
        protect: false,
        ignoreChanges: args.opts.ignoreChanges ?? [],
        retainOnDelete: (args.opts as pulumi.CustomResourceOptions).retainOnDelete === true,
    });
    return undefined;
};

/** The name a resource was declared with, for outputs that hand resources on (`checks`, `switched`). */
export function nameOf(resource: pulumi.Resource): string {
    const name = resourceNames.get(resource);
    if (name === undefined) throw new Error("a resource the recorder did not see");
    return name;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/**
 * Builds a component with the recorder attached and waits until every resource it
 * declared, children of children included, has been registered with the mocks.
 */
export async function build<T extends pulumi.ComponentResource>(
    make: (opts: pulumi.ComponentResourceOptions) => T,
    fake: FakeOutput = () => ({}),
): Promise<{ component: T; resources: Map<string, Recorded> }> {
    recorded.clear();
    builtByName.clear();
    fakeOutput = fake;
    const component = make({ transformations: [recorder] });
    let settled = -1;
    while (settled !== resourceNames.size) {
        settled = resourceNames.size;
        await Promise.all([...resourceNames.keys()].map((resource) => promiseOf(resource.urn)));
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const [name, resource] of builtByName) recorded.get(name)!.protect = protectOf(resource);
    return { component, resources: new Map(recorded) };
}

/** The bash script a step runs, as its component wrote it: both executors wrap it the same way. */
export function scriptOf(command: unknown): string {
    const text = String(command);
    const script = stepScript(text);
    if (script === undefined) throw new Error(`not a wrapped bash script: ${text.slice(0, 80)}`);
    return script;
}

/** Every component is tested with both executors. */
export const executors = ["command", "openssh"] as const;
export type Executor = (typeof executors)[number];

/** The resource type each executor declares a step as. */
export const stepType: Record<Executor, string> = {
    command: "command:remote:Command",
    openssh: "pulumi-nodejs:dynamic/pryv-migration:OpensshCommand",
};

/** The machine a step runs on, by its address. */
export const hostOf = (resource: Recorded): string => (resource.inputs.connection as { host: string }).host;

/** The resources whose parent is `parent`, in the order they were declared. */
export const childrenOf = (resources: Map<string, Recorded>, parent: string): Recorded[] =>
    [...resources.values()].filter((resource) => resource.parent === parent);

/** A step's script by resource name, read back from the wrapped command (undefined when the step has none). */
export function scriptsOf(resources: Map<string, Recorded>, name: string): { create: string; update?: string; delete?: string } {
    const resource = resources.get(name);
    if (resource === undefined) throw new Error(`no resource ${name} among ${[...resources.keys()].join(", ")}`);
    const optional = (value: unknown) => (value === undefined ? undefined : scriptOf(value));
    return { create: scriptOf(resource.inputs.create), update: optional(resource.inputs.update), delete: optional(resource.inputs.delete) };
}

/** Stands for what a component is declared after (the warm rounds, the cutover...). */
export class StandIn extends pulumi.ComponentResource {
    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super("test:unit:StandIn", name, {}, opts);
        this.registerOutputs({});
    }
}
