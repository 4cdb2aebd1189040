import * as pulumi from "@pulumi/pulumi";
import { MigrationConfig, parseMigrationConfig, refuse } from "../config";
import { checkAgainstPreviousRun, PreviousRun, previousRunFromOutputs } from "./previousRun";

export const projectName = "pryv-core-migration";

// The SDK exports this at run time but leaves it out of its typings.
const runtimeConfig = pulumi.runtime as typeof pulumi.runtime & { isConfigSecret(key: string): boolean };

/** The keys Pulumi hands to the program as JSON text: every structured or typed one (Pulumi.yaml's types other than string; a unit test keeps them in step). */
export const jsonKeys = new Set([
    "source",
    "dest",
    "configLeader",
    "registers",
    "proxy",
    "dataFolders",
    "healthCheck",
    "destImages",
    "warmSyncRound",
    "useSshAgent",
    "sync",
    "freshDestMaxFiles",
    "destLost",
]);

/** The program's only reader of stack config: every key of this project, validated at once. */
export function readStackConfig(): MigrationConfig {
    const prefix = `${projectName}:`;
    const raw: Record<string, unknown> = {};
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        raw[key] = jsonKeys.has(key) ? parseJson(key, text) : text;
    }
    if (raw.operatorPrivateKey !== undefined && !runtimeConfig.isConfigSecret(`${prefix}operatorPrivateKey`)) {
        refuse([
            "operatorPrivateKey: expected a secret (pulumi config set --secret operatorPrivateKey); got a plain-text value, which the stack file would keep readable",
        ]);
    }
    return parseMigrationConfig(raw, pulumi.getStack());
}

function parseJson(key: string, text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        refuse([`${key}: expected YAML/JSON structured value; got ${JSON.stringify(text)}`]);
    }
}

/** Where this stack's last successful run left it, read from its own outputs (nothing on a new stack). */
async function previousRun(): Promise<PreviousRun> {
    const self = new pulumi.StackReference("pryv-previous-run", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
    const outputs: Record<string, unknown> = {};
    for (const key of ["phase", "warmSyncRound", "dataFolders"]) outputs[key] = (await self.getOutputDetails(key)).value;
    return previousRunFromOutputs(outputs);
}

/** The stack config, validated, and checked against where the stack's last run left it. */
export async function readMigrationConfig(): Promise<MigrationConfig> {
    const config = readStackConfig();
    const previous = await previousRun();
    checkAgainstPreviousRun(previous, config);
    return { ...config, previousRun: previous };
}
