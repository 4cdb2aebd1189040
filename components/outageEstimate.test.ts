import { strict as assert } from "assert";
import { estimateOutage, FolderWork, OutageModel } from "./outageEstimate";

// Round figures, so that each expected value is worked out by hand below.
const model: OutageModel = {
    sourceProxyStartedSeconds: 0.5,
    roundSetupSeconds: 1,
    perPathSeconds: 0.001,
    heldBytesPerSecond: 100e6,
    verifySetupSeconds: 0.5,
    perEntryVerifiedSeconds: 0.00001,
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

describe("estimateOutage", () => {
    it("adds source's stop, the slowest folder's round and verification, dest's start and the steps between", () => {
        const estimate = estimateOutage(
            [
                // 1 + 1 path + 500 MB compared at 100 MB/s = 6.001 s, then 0.5 + 10 entries = 0.5 s verified.
                folder("core/mongodb/data", { paths: 1, heldBytes: 500e6, entries: 10 }),
                // 1 + 2000 paths + 50 MB sent at 25 MB/s = 5 s, then 0.5 + 300,000 entries = 3.5 s verified: the last.
                folder("core/core/data", { paths: 2000, newBytes: 50e6, entries: 300_000 }),
            ],
            1.5,
            25e6,
            model,
        );
        assert.deepEqual(
            estimate.folders.map(({ folder, round, verify }) => ({ folder, round, verify })),
            [
                { folder: "core/mongodb/data", round: 6, verify: 0.5 },
                { folder: "core/core/data", round: 5, verify: 3.5 },
            ],
        );
        assert.deepEqual(estimate.folders[1], { ...folder("core/core/data", { paths: 2000, newBytes: 50e6, entries: 300_000 }), round: 5, verify: 3.5 });
        // Copies end at 6 s, the last verification at 8.5 s; dest's start 1.5 s in prepare, twice that with its data.
        assert.deepEqual(estimate.steps, { sourceProxyStarted: 0.5, coldSync: 6, verify: 2.5, destStart: 3, betweenSteps: 1.5 });
        assert.equal(estimate.seconds, 13.5);
        assert.match(
            estimate.basis,
            /^made before source stopped, from the change journal's 2001 paths \(500000000 bytes dest holds compared block by block, 50000000 sent whole\), and dest's start in prepare \(1.5 s\) times 2;/,
        );
    });

    it("counts a folder without a journal as its last warm round, which walked every file too", () => {
        const estimate = estimateOutage(
            [folder("core/influxdb/data", { journal: false, paths: 30_000, warmSeconds: 42.25, entries: 50_000 }), folder("core/hfs/data", { entries: 4 })],
            1,
            25e6,
            model,
        );
        assert.deepEqual(
            estimate.folders.map(({ folder, round, verify }) => ({ folder, round, verify })),
            [
                { folder: "core/influxdb/data", round: 42.3, verify: 1 },
                { folder: "core/hfs/data", round: 1, verify: 0.5 },
            ],
        );
        assert.equal(estimate.steps.coldSync, 42.3);
        assert.equal(estimate.seconds, 0.5 + 42.3 + 1 + 2 + 1.5);
        assert.match(estimate.basis, /the last warm round's time for core\/influxdb\/data \(no journal: walked\)/);
    });
});
