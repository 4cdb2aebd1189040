import { strict as assert } from "assert";
import { unifiedDiffHunks } from "./lineDiff";

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => `line ${from + index}\n`).join("");

describe("unified line diff", () => {
    it("is empty when nothing changed", () => {
        assert.deepEqual(unifiedDiffHunks("a\nb\n", "a\nb\n"), []);
    });

    it("shows a changed line with three lines of context and the ranges of each side", () => {
        const before = numbered(1, 10);
        const after = before.replace("line 5\n", "line five\n");
        assert.deepEqual(unifiedDiffHunks(before, after), [
            "@@ -2,7 +2,7 @@",
            " line 2",
            " line 3",
            " line 4",
            "-line 5",
            "+line five",
            " line 6",
            " line 7",
            " line 8",
        ]);
    });

    // Expected outputs are GNU diff -u's on the same texts.
    it("keeps far-apart changes in separate hunks", () => {
        const before = numbered(1, 20);
        const after = before.replace("line 2\n", "").replace("line 19\n", "line 19\nline 19b\n");
        assert.deepEqual(unifiedDiffHunks(before, after), [
            "@@ -1,5 +1,4 @@",
            " line 1",
            "-line 2",
            " line 3",
            " line 4",
            " line 5",
            "@@ -17,4 +16,5 @@",
            " line 17",
            " line 18",
            " line 19",
            "+line 19b",
            " line 20",
        ]);
    });

    it("names an empty side by the line before it, as diff -u does", () => {
        assert.deepEqual(unifiedDiffHunks("", "a\nb\n"), ["@@ -0,0 +1,2 @@", "+a", "+b"]);
        assert.deepEqual(unifiedDiffHunks("a\n", ""), ["@@ -1 +0,0 @@", "-a"]);
    });

    it("shows a final newline added or removed", () => {
        assert.deepEqual(unifiedDiffHunks("a\nb", "a\nb\n"), ["@@ -1,2 +1,2 @@", " a", "-b", "\\ No newline at end of file", "+b"]);
    });

    it("rebuilds both texts from its lines, on random edits", () => {
        // xorshift32 from a fixed seed: the same cases on every run.
        let state = 2463534242;
        const random = (below: number) => {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            return (state >>> 0) % below;
        };
        for (let round = 0; round < 200; round++) {
            const before = Array.from({ length: random(30) }, () => `${"abcde"[random(5)]}\n`);
            const after = before.flatMap((line) => [[], [line], [line, "x\n"], ["y\n"]][random(4)]);
            const hunks = unifiedDiffHunks(before.join(""), after.join(""), 1e6);
            if (hunks.length === 0) {
                assert.deepEqual(after, before);
                continue;
            }
            const lines = hunks.slice(1);
            const side = (skip: string) => lines.filter((line) => !line.startsWith(skip)).map((line) => `${line.slice(1)}\n`);
            assert.deepEqual([side("+"), side("-")], [before, after], JSON.stringify({ before, after }));
        }
    });
});
