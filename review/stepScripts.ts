// A step as the preview shows it, read back: its script unwrapped from what the executors
// run, split into the words of its opening comment and its commands; the engine's
// placeholders for secret and not-yet-known values said in words.
import { scriptServices, stepScript } from "../machinery/remoteStep";
import { secretValue, unknownValue } from "./previewJson";

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
        // Said once for the whole update, at the review's top.
        if (scriptServices(lines[index]) !== undefined) continue;
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

export const same = (left: unknown, right: unknown) => JSON.stringify(left ?? null) === JSON.stringify(right ?? null);

export type Known<T> = { known: true; value: T } | { known: false; why: string };

/** A step input as text, or why it cannot be shown. */
export function knownText(value: unknown): Known<string> | undefined {
    if (value === undefined || value === null) return undefined;
    if (value === secretValue) return { known: false, why: "secret, not shown" };
    if (value === unknownValue) return { known: false, why: "known only once the steps before it have run" };
    return { known: true, value: typeof value === "string" ? value : JSON.stringify(value) };
}

/** A step's script, unwrapped and split, or why it cannot be shown. */
export function script(command: unknown): Known<ScriptParts> | undefined {
    const text = knownText(command);
    return text === undefined || !text.known ? text : { known: true, value: splitScript(unwrapScript(text.value)) };
}

/** A value as JSON, with the engine's placeholders for secret and unknown values said in words. */
export function shown(value: unknown): string {
    return JSON.stringify(value ?? null, (_key, item: unknown) => (item === secretValue ? "(secret)" : item === unknownValue ? "(not yet known)" : item));
}

/** What a script says it does, paragraph by paragraph, or why that cannot be shown. */
export function wordsOf(parts: Known<ScriptParts> | undefined): string[] {
    if (parts === undefined) return [];
    if (!parts.known) return [`(script ${parts.why})`];
    return parts.value.words.length > 0 ? parts.value.words : ["(this script has no leading comment saying what it does)"];
}
