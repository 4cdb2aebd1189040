// Markdown primitives the review writes with: code spans and fences that survive backticks in the text.

/** A Markdown code span that survives backticks in the text. */
export function code(text: string): string {
    const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
    const ticks = "`".repeat(longest + 1);
    return longest > 0 ? `${ticks} ${text} ${ticks}` : `${ticks}${text}${ticks}`;
}

/** A fenced block whose fence is longer than any backtick run inside (a file may contain ```). */
export function fenced(language: string, body: string): string[] {
    const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
    const fence = "`".repeat(Math.max(3, longest + 1));
    return [`${fence}${language}`, body, fence];
}

export const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function countLines(text: string): number {
    return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}
