import { strict as assert } from "assert";
import { estimateOutage, FolderWork, OutageEstimate, OutageModel, priorityOf, repeatedRoundWork, sendRate, sourceDescriptionWork } from "./outageEstimate";
import { maxJournalPaths } from "./cutoverReports";
import { SyncStats } from "../machinery/folderSync";

// Round figures, so that each expected value is worked out by hand below.
const model: OutageModel = {
    sourceProxyStartedSeconds: 0.5,
    roundSetupSeconds: 1,
    perPathSeconds: 0.001,
    heldBytesPerSecond: 100e6,
    walkSetupSeconds: 0.5,
    perEntryWalkedSeconds: 0.00001,
    perEntryPatchedSeconds: 0.000005,
    destStartFactor: 2,
    betweenStepsSeconds: 1.5,
};

const folder = (name: string, work: Partial<FolderWork>): FolderWork => ({
    folder: name,
    journal: true,
    paths: 0,
    heldBytes: 0,
    newBytes: 0,
    entries: 0,
    warmSeconds: 100,
    ...work,
});

/** Each folder's expected round and verification, without the work they came from. */
const timesOf = (estimate: OutageEstimate) => estimate.folders.map(({ folder, round, verify }) => ({ folder, round, verify }));

describe("estimateOutage", () => {
    it("adds source's stop, the slowest folder's round and dest's description of it or source's description, dest's start and the steps between", () => {
        // Source's description walks 0.5 + 500,010 entries = 5.5 s while the rounds run and dest describes each copy after its round.
        const estimate = estimateOutage(
            "made in a test",
            [
                // 1 + 1 path + 500 MB compared at 100 MB/s = 6.001 s, then dest's description patched in 0.5 + 10 entries = 0.5 s: done at 6.5 s.
                folder("core/mongodb/data", { paths: 1, heldBytes: 500e6, entries: 10 }),
                // 1 + 2000 paths + 50 MB sent at 25 MB/s = 5 s, then patched in 0.5 + 300,000 entries = 2 s: done at 7 s, the last.
                folder("core/core/data", { paths: 2000, newBytes: 50e6, entries: 300_000 }),
                // Nothing listed: 1 s, patched in 1.5 s: verified when source's description ends, at 5.5 s.
                folder("core/influxdb/data", { entries: 200_000 }),
            ],
            1.5,
            25e6,
            model,
        );
        assert.deepEqual(timesOf(estimate), [
            { folder: "core/mongodb/data", round: 6, verify: 0.5 },
            { folder: "core/core/data", round: 5, verify: 2 },
            { folder: "core/influxdb/data", round: 1, verify: 1.5 },
        ]);
        assert.deepEqual(estimate.folders[1], { ...folder("core/core/data", { paths: 2000, newBytes: 50e6, entries: 300_000 }), round: 5, verify: 2 });
        // Copies end at 6 s, the last verification at 7 s; dest's start 1.5 s in prepare, twice that with its data.
        assert.deepEqual(estimate.steps, { sourceProxyStarted: 0.5, coldSync: 6, verify: 1, destStart: 3, betweenSteps: 1.5 });
        assert.equal(estimate.seconds, 12);
        assert.match(
            estimate.basis,
            /^made in a test: 2001 paths, 500000000 bytes dest holds compared block by block, 50000000 sent whole; dest's start in prepare \(1.5 s\) times 2; costs measured/,
        );
    });

    it("waits for source's description when it ends after every round and dest's description of it", () => {
        // Source walks every folder's entries, 0.5 + 1,200,000 = 12.5 s; each round takes 1 s and its patch of dest's description 0.5 + 400,000 = 2.5 s.
        const estimate = estimateOutage(
            "made in a test",
            ["core/core/data", "core/hfs/data", "core/influxdb/data"].map((name) => folder(name, { entries: 400_000 })),
            1,
            25e6,
            model,
        );
        assert.deepEqual(estimate.steps, { sourceProxyStarted: 0.5, coldSync: 1, verify: 11.5, destStart: 2, betweenSteps: 1.5 });
    });

    it("counts a folder without a journal as its last warm round, which walked every file too", () => {
        const estimate = estimateOutage(
            "made in a test",
            [folder("core/influxdb/data", { journal: false, paths: 30_000, warmSeconds: 42.25, entries: 50_000 }), folder("core/hfs/data", { entries: 4 })],
            1,
            25e6,
            model,
        );
        assert.deepEqual(timesOf(estimate), [
            { folder: "core/influxdb/data", round: 42.3, verify: 0.8 },
            { folder: "core/hfs/data", round: 1, verify: 0.5 },
        ]);
        assert.equal(estimate.steps.coldSync, 42.3);
        assert.equal(estimate.seconds, 47.1); // 0.5 + 42.3 + 0.8 + 2 + 1.5
        assert.match(estimate.basis, /; the last warm round's time for core\/influxdb\/data \(no journal: walked\);/);
    });
});

describe("the estimate's leading work, and priorityOf", () => {
    const estimateOf = (folders: FolderWork[]) => estimateOutage("made in a test", folders, 1, 25e6, model);

    it("leads with the folder whose round and patch of dest's description end last, not the longest round; the others yield", () => {
        // mongodb: 6 s of round then 0.5 s of patch; core: 5 s then 2 s, done last; source's description 0.5 + 300,014 entries = 3.5 s.
        const folders = [
            folder("core/mongodb/data", { paths: 1, heldBytes: 500e6, entries: 10 }),
            folder("core/core/data", { paths: 2000, newBytes: 50e6, entries: 300_000 }),
            folder("core/hfs/data", { entries: 4 }),
        ];
        const estimate = estimateOf(folders);
        assert.equal(estimate.sourceDescription, 3.5);
        assert.equal(estimate.leading, "core/core/data");
        assert.deepEqual(
            [...folders.map((work) => work.folder), sourceDescriptionWork].map((work) => priorityOf(estimate, work)),
            ["yield", "lead", "yield", "yield"],
        );
        assert.equal(estimateOf(folders.filter((work) => work.folder !== "core/core/data")).leading, "core/mongodb/data");
    });

    it("leads with source's description when it is expected to end after every round and its patch", () => {
        // Source walks 0.5 + 1,200,000 entries = 12.5 s; each round 1 s, then its patch 0.5 + 400,000 entries = 2.5 s.
        const estimate = estimateOf(["core/core/data", "core/hfs/data", "core/influxdb/data"].map((name) => folder(name, { entries: 400_000 })));
        assert.equal(estimate.leading, sourceDescriptionWork);
        assert.deepEqual(
            [sourceDescriptionWork, "core/core/data"].map((work) => priorityOf(estimate, work)),
            ["lead", "yield"],
        );
    });

    it("goes to the first of folders that end together, to a round before source's description, and to nothing without a folder", () => {
        assert.equal(estimateOf([folder("core/hfs/data", {}), folder("core/core/data", {})]).leading, "core/hfs/data");
        // 1 s of round, then 0.5 + 200,000 entries = 1.5 s of patch; source's description 0.5 + 200,000 entries = 2.5 s too.
        assert.equal(estimateOf([folder("core/core/data", { entries: 200_000 })]).leading, "core/core/data");
        assert.equal(estimateOf([]).leading, undefined);
    });
});

describe("repeatedRoundWork and sendRate", () => {
    const round = (folder: string, stats: Partial<SyncStats>): SyncStats => ({
        folder,
        round: "warm-2",
        walk: true,
        bytesReceived: 0,
        bytesTransferred: 0,
        totalSize: 0,
        files: 0,
        changedFiles: 0,
        vanished: 0,
        startedAt: 0,
        finishedAt: 1,
        delete: true,
        ...stats,
    });
    const rounds = [
        // A database file of 1 GB written in place: 40 MB received, the rest compared block by block.
        round("core/mongodb/data", { bytesReceived: 40e6, bytesTransferred: 1e9, files: 4, changedFiles: 1, finishedAt: 8 }),
        // A first round's attachments: everything received, more files than a journal's list takes.
        round("core/core/data", { bytesReceived: 300e6, bytesTransferred: 290e6, files: 151_000, changedFiles: maxJournalPaths + 1, finishedAt: 10 }),
    ];

    it("takes what the round wrote as what the final round will: its files, what it received, the rest of their bytes held by dest", () => {
        assert.deepEqual(repeatedRoundWork(rounds, true), [
            { folder: "core/mongodb/data", journal: true, paths: 1, heldBytes: 960e6, newBytes: 40e6, entries: 4, warmSeconds: 8 },
            // rsync's received bytes include its lists: never more sent whole than the files hold.
            { folder: "core/core/data", journal: false, paths: maxJournalPaths + 1, heldBytes: 0, newBytes: 290e6, entries: 151_000, warmSeconds: 10 },
        ]);
        assert.deepEqual(
            repeatedRoundWork(rounds, false).map((work) => work.journal),
            [false, false],
        );
    });

    it("is the fastest round's bytes received per second", () => {
        assert.equal(sendRate(rounds), 30e6);
        assert.equal(sendRate([round("core/hfs/data", { bytesReceived: 10, startedAt: 5, finishedAt: 5 })]), 10_000);
    });
});
