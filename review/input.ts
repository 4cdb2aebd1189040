// What the review reads (the preview, the stack config, the stack outputs) and how a
// config value is read from it.
import { ConfigEntry, PreviewJson } from "./previewJson";

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
export function configValue(input: ReviewInput, key: string): unknown {
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
