// A unified line diff (Myers' algorithm), written here because the project has no diff
// library of its own (node_modules/diff is mocha's, untyped, and may change under us).

type Edit = { kind: " " | "-" | "+"; line: string };

/** Beyond this many differing lines the diff shows the whole old file removed and the new one added: still true, and bounded in memory. */
const maxDifferences = 2000;

/** Lines with their end-of-line kept, so that a missing final newline counts as a difference. */
function splitLines(text: string): string[] {
    const lines = text.split("\n").map((line) => `${line}\n`);
    const last = lines.pop() ?? "\n";
    if (last !== "\n") lines.push(last.slice(0, -1));
    return lines;
}

function shortestEditScript(a: string[], b: string[]): Edit[] {
    const n = a.length;
    const m = b.length;
    const max = Math.min(n + m, maxDifferences);
    const offset = max + 1;
    const v = new Int32Array(2 * max + 3);
    const trace: Int32Array[] = [];
    for (let d = 0; d <= max; d++) {
        trace.push(v.slice());
        for (let k = -d; k <= d; k += 2) {
            let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
            let y = x - k;
            while (x < n && y < m && a[x] === b[y]) {
                x++;
                y++;
            }
            v[offset + k] = x;
            if (x >= n && y >= m) return backtrack(a, b, trace, offset);
        }
    }
    return [...a.map((line): Edit => ({ kind: "-", line })), ...b.map((line): Edit => ({ kind: "+", line }))];
}

function backtrack(a: string[], b: string[], trace: Int32Array[], offset: number): Edit[] {
    const edits: Edit[] = [];
    let x = a.length;
    let y = b.length;
    for (let d = trace.length - 1; d >= 0; d--) {
        const v = trace[d];
        const k = x - y;
        const previousK = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
        const previousX = d === 0 ? 0 : v[offset + previousK];
        const previousY = d === 0 ? 0 : previousX - previousK;
        while (x > previousX && y > previousY) {
            edits.push({ kind: " ", line: a[--x] });
            y--;
        }
        if (d > 0) {
            if (x === previousX) edits.push({ kind: "+", line: b[--y] });
            else edits.push({ kind: "-", line: a[--x] });
        }
    }
    return edits.reverse();
}

function hunkRange(start: number, count: number): string {
    // Unified diff convention: an empty range names the line before it.
    return count === 0 ? `${start},0` : count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

function renderEdit(edit: Edit): string[] {
    if (edit.line.endsWith("\n")) return [`${edit.kind}${edit.line.slice(0, -1)}`];
    return [`${edit.kind}${edit.line}`, "\\ No newline at end of file"];
}

/**
 * The hunks of a unified diff from `before` to `after` (without the ---/+++ header), with
 * `context` unchanged lines around each change; [] when the texts are equal.
 */
export function unifiedDiffHunks(before: string, after: string, context = 3): string[] {
    const edits = shortestEditScript(splitLines(before), splitLines(after));
    const changed = edits.flatMap((edit, index) => (edit.kind === " " ? [] : [index]));
    const lines: string[] = [];
    let next = 0;
    while (next < changed.length) {
        let last = next;
        while (last + 1 < changed.length && changed[last + 1] - changed[last] <= 2 * context) last++;
        const from = Math.max(0, changed[next] - context);
        const to = Math.min(edits.length, changed[last] + context + 1);
        const oldStart = edits.slice(0, from).filter((edit) => edit.kind !== "+").length;
        const newStart = edits.slice(0, from).filter((edit) => edit.kind !== "-").length;
        const hunk = edits.slice(from, to);
        const oldCount = hunk.filter((edit) => edit.kind !== "+").length;
        const newCount = hunk.filter((edit) => edit.kind !== "-").length;
        lines.push(`@@ -${hunkRange(oldStart, oldCount)} +${hunkRange(newStart, newCount)} @@`, ...hunk.flatMap(renderEdit));
        next = last + 1;
    }
    return lines;
}
