import { strict as assert } from "assert";
import { finalRoundInput, folderWorkOf, maxJournalPaths, outageOf, pathsIn, spanOf } from "./cutoverReports";
import { SyncStats } from "../machinery/folderSync";
import { folderChangesOf, walkBlocksSince } from "../testing";

describe("cutover reports", () => {
    it("spans rounds that ran at once from the first start to the last end", () => {
        assert.equal(
            spanOf([
                { startedAt: 100.5, finishedAt: 101.25 },
                { startedAt: 100.25, finishedAt: 102.0 },
            ]),
            1.75,
        );
    });

    it("puts the users' outage in spans, each read on its machine's clock, the engine's share being the rest", () => {
        const outage = outageOf({
            stop: { stoppedAt: 1000, proxyStartedAt: 1000.8 },
            cold: [
                { startedAt: 1001.2, finishedAt: 1001.9 },
                { startedAt: 1001.3, finishedAt: 1002.1 },
            ],
            verifiedAt: [1002.5, 1002.9],
            destStart: { startedAt: 1003.2, healthyAt: 1006.7 },
            serving: { servingAt: 1007.25 },
        });
        assert.deepEqual(outage, {
            seconds: 7.25,
            steps: { sourceProxyStarted: 0.8, coldSync: 0.9, verify: 0.8, destStart: 3.5, betweenSteps: 1.25 },
        });
    });

    it("never counts a negative share between steps when the machines' clocks disagree", () => {
        const outage = outageOf({
            stop: { stoppedAt: 1000, proxyStartedAt: 1001 },
            cold: [{ startedAt: 1001, finishedAt: 1003 }],
            verifiedAt: [1004],
            destStart: { startedAt: 1000, healthyAt: 1004 },
            serving: { servingAt: 1005 },
        });
        assert.equal(outage.steps.betweenSteps, 0);
        assert.equal(outage.seconds, 5);
    });
});

describe("finalRoundInput", () => {
    it("hands the final round the journal's list when the journal is reliable for its folder, and a full walk otherwise, from when source's stop says it compares files by their blocks, with its priority", () => {
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 2, list: "YQBi" }, "lead"), "journal lead\nYQBi\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 0, list: "" }, "yield"), "journal yield\n\n");
        assert.equal(finalRoundInput(folderChangesOf("core/influxdb/data"), "yield"), `walk yield ${walkBlocksSince}\n`);
        // A walk source's stop gave no time for (an older version's stop): every file compared by its blocks.
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: false, reason: "no change journal was recording" }, "lead"), "walk lead 0\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true }, "lead"), "walk lead 0\n");
        assert.equal(finalRoundInput(undefined, "yield"), "walk yield 0\n");
    });
});

describe("folderWorkOf", () => {
    const list = (...paths: string[]): string => Buffer.from(paths.map((path) => `${path}\0`).join("")).toString("base64");
    const warm = (folder: string, files: number, startedAt: number, finishedAt: number): SyncStats => ({
        folder,
        round: "warm-3",
        walk: true,
        bytesReceived: 0,
        bytesTransferred: 0,
        totalSize: 0,
        files,
        changedFiles: 0,
        vanished: 0,
        startedAt,
        finishedAt,
        delete: true,
    });

    it("counts listed and deleted paths, splits their bytes into what dest holds and what it lacks, and takes the entries from the warm round", () => {
        const work = folderWorkOf(
            [
                { folder: "core/mongodb/data", journal: true, deleted: 0, bytes: 1_000_000, list: list("sqlite.db", "sqlite.db-wal") },
                { folder: "core/core/data", journal: true, deleted: 250, bytes: 3_000_000, list: list("u1/a", "u1/b", "u2") },
            ],
            [
                { folder: "core/mongodb/data", needed: 4096, available: 10 ** 12 },
                { folder: "core/core/data", needed: 3_000_000, available: 10 ** 12 },
            ],
            [warm("core/mongodb/data", 12, 10, 35), warm("core/core/data", 101_000, 10, 28.5)],
        );
        assert.deepEqual(work, [
            { folder: "core/mongodb/data", journal: true, paths: 2, heldBytes: 995_904, newBytes: 4096, entries: 12, warmSeconds: 25 },
            { folder: "core/core/data", journal: true, paths: 253, heldBytes: 0, newBytes: 3_000_000, entries: 101_000, warmSeconds: 18.5 },
        ]);
    });

    it("walks a folder without a journal, or with more paths than the final round takes as a list, as source's stop will", () => {
        const many = Array.from({ length: maxJournalPaths + 1 }, (_, index) => `f${index}`);
        const work = folderWorkOf(
            [
                { folder: "core/influxdb/data", journal: false },
                { folder: "core/core/data", journal: true, deleted: 1, bytes: 10, list: list(...many.slice(1)) },
            ],
            [],
            [warm("core/influxdb/data", 15_000, 0, 150), warm("core/core/data", 101_000, 0, 18), warm("core/hfs/data", 4, 0, 1)],
        );
        assert.deepEqual(
            work.map((folder) => [folder.folder, folder.journal, folder.paths, folder.heldBytes, folder.newBytes]),
            [
                ["core/influxdb/data", false, 0, 0, 0],
                ["core/core/data", false, maxJournalPaths + 1, 0, 10],
                // A folder changes-before-stop did not name: counted as a walk, the safe side.
                ["core/hfs/data", false, 0, 0, 0],
            ],
        );
    });

    it("counts the paths of a NUL-separated list in base64, an empty list as none", () => {
        assert.equal(pathsIn(list("a b", "c\nd")), 2);
        assert.equal(pathsIn(""), 0);
        assert.equal(pathsIn(undefined), 0);
    });
});
