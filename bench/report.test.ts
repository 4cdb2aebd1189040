import { strict as assert } from "assert";
import { FloorFigures } from "./floor";
import { PhaseRun } from "./program";
import { MethodFigures, overRuns, formatSpread, spread } from "./report";

describe("a method's figure over its runs", () => {
    it("is the middle run's, with the fastest and the slowest", () => {
        assert.deepEqual(spread([14.44, 13.04, 13.84]), { median: 13.84, min: 13.04, max: 14.44 });
    });

    it("is the mean of the two middle runs when there is an even number", () => {
        assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
    });

    it("counts a run that measured nothing (NaN) as the longest, so that a failure is never hidden by the others", () => {
        assert.deepEqual(spread([10, Number.NaN, 12]), { median: 12, min: 10, max: Number.POSITIVE_INFINITY });
        assert.deepEqual(spread([Number.NaN, Number.NaN, 1]), { median: Number.POSITIVE_INFINITY, min: 1, max: Number.POSITIVE_INFINITY });
    });

    it("reads as the median, then the range; a single run as its figure alone", () => {
        assert.equal(formatSpread([14.44, 13.04, 13.84]), "13.84 (13.04 to 14.44)");
        assert.equal(formatSpread([7.024]), "7.02");
        assert.equal(formatSpread([10, Number.NaN, 12]), "12.00 (10.00 to failed)");
        assert.equal(
            formatSpread([0.05, -0.07], (n) => `${(n * 100).toFixed(1)} %`),
            "-1.0 % (-7.0 % to 5.0 %)",
        );
    });
});

describe("what the runs of the three methods come to", () => {
    const method = <T>(downtimeSeconds: number, missing: number, detail?: T, error?: string): MethodFigures<T> => ({
        downtimeSeconds,
        outage: { seconds: downtimeSeconds, windows: [], failedProbes: 0, probes: 0, servedBy: {} },
        ackedWrites: 10,
        missingWrites: Array.from({ length: missing }, (_, i) => `user/${i}`),
        detail,
        error,
    });
    const floorRun = (floorSeconds: number, copiedBytes: number): FloorFigures => ({
        floorSeconds,
        copiedBytes,
        copySeconds: 1,
        changedFiles: 1,
        deltaSeconds: 1,
        destStartSeconds: 1,
        nginxSwitchSeconds: 1,
        sourceStopSeconds: 1,
    });
    const cutover = (estimate?: number): PhaseRun[] => [
        { phase: "cutover", seconds: 30, steps: [], outputs: estimate === undefined ? {} : { outageEstimate: { seconds: estimate } }, progress: [] },
    ];
    const runs = {
        seed: [method(14.1, 2, undefined, "mongodb restarting"), method(13.45, 2), method(14.04, 0)],
        floor: [method(10.37, 0, floorRun(6.71, 90e6)), method(9.23, 0, floorRun(6.03, 91e6)), method(8.95, 0, floorRun(6.03, 92e6))],
        program: [method(11.5, 0, cutover(12.4)), method(12.0, 1, cutover(12.4)), method(10.0, 0, cutover(11.0))],
    };

    it("gives each method's median, every run's figure in order, and the estimate's error against the outage of its own run", () => {
        const summary = overRuns(runs);
        assert.deepEqual(
            [summary.seedDowntimeSeconds, summary.programDowntimeSeconds, summary.floorSeconds, summary.estimateSeconds, summary.changedBytes],
            [14.04, 11.5, 6.03, 12.4, 90e6],
        );
        assert.deepEqual(summary.runs, {
            seed: [14.1, 13.45, 14.04],
            program: [11.5, 12.0, 10.0],
            floorProbed: [10.37, 9.23, 8.95],
            floor: [6.71, 6.03, 6.03],
            estimateError: [(12.4 - 11.5) / 11.5, (12.4 - 12.0) / 12.0, (11.0 - 10.0) / 10.0],
        });
    });

    it("counts the writes missing over every run, and keeps each run's failure", () => {
        const summary = overRuns(runs);
        assert.deepEqual(summary.missingWrites, { seed: 4, program: 1, floor: 0 });
        assert.deepEqual(
            summary.methods.seed.map((m) => m.error),
            ["mongodb restarting", undefined, undefined],
        );
    });

    it("keeps the program's steps out of its methods (they are kept once, in programSteps)", () => {
        assert.deepEqual(
            overRuns(runs).methods.program.map((m) => m.detail),
            [undefined, undefined, undefined],
        );
    });

    it("gives no estimate when a run announced none, rather than the median of the others", () => {
        const summary = overRuns({ ...runs, program: [method(11.5, 0, cutover(12.4)), method(12.0, 0, cutover()), method(10.0, 0, cutover(11.0))] });
        assert.equal(summary.estimateSeconds, undefined);
        assert.ok(Number.isNaN(summary.runs.estimateError[1]));
    });
});
