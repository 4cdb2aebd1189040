import * as pulumi from "@pulumi/pulumi";

/** The one way the program refuses its stack config: every problem, each naming its key, before anything runs. */
export function refuse(problems: string[]): never {
    throw new pulumi.ResourceError(`Invalid stack config for pryv-core-migration:\n${problems.map((problem) => `  ${problem}`).join("\n")}`, undefined, true);
}

/** A value as a message quotes it, cut short. */
export function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
