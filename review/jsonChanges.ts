import { parse, ParseError } from "jsonc-parser";

/** One leaf that differs between two JSON documents; `before`/`after` absent when the leaf is added/removed. */
export interface JsonLeafChange {
    path: string;
    before?: unknown;
    after?: unknown;
}

/**
 * The value of a JSON (or JSONC: dns.json may carry comments, and the program edits it with
 * jsonc-parser) object or array; undefined for anything else, such as an nginx file.
 */
export function parseJsonDocument(text: string): object | undefined {
    const errors: ParseError[] = [];
    const value = parse(text, errors, { allowTrailingComma: false }) as unknown;
    return errors.length === 0 && typeof value === "object" && value !== null ? value : undefined;
}

function childPath(path: string, key: string | number): string {
    if (typeof key === "number") return `${path}[${key}]`;
    if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path === "" ? key : `${path}.${key}`;
    return `${path}[${JSON.stringify(key)}]`;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
    return typeof value === "object" && value !== null;
}

/** Every leaf whose value differs, in document order (`before`'s keys first, then keys only `after` has). */
export function changedJsonLeaves(before: unknown, after: unknown, path = ""): JsonLeafChange[] {
    if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
        const keys: (string | number)[] = Array.isArray(before)
            ? Array.from({ length: Math.max(before.length, (after as unknown[]).length) }, (_, index) => index)
            : [...new Set([...Object.keys(before), ...Object.keys(after)])];
        return keys.flatMap((key) => {
            const has = (container: object) => Object.prototype.hasOwnProperty.call(container, key);
            const child = childPath(path, key);
            const left = (before as Record<string | number, unknown>)[key];
            const right = (after as Record<string | number, unknown>)[key];
            if (!has(before)) return [{ path: child, after: right }];
            if (!has(after)) return [{ path: child, before: left }];
            return changedJsonLeaves(left, right, child);
        });
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

/** `path: old -> new`, values as JSON, a missing side as (absent). */
export function describeLeafChange(change: JsonLeafChange): string {
    const value = (side: "before" | "after") => (side in change ? JSON.stringify(change[side]) : "(absent)");
    return `${change.path === "" ? "(document)" : change.path}: ${value("before")} -> ${value("after")}`;
}
