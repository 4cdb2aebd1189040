import { strict as assert } from "assert";
import { finalRoundInput, outageOf, spanOf } from "./cutoverReports";
import { folderChangesOf } from "../testing";

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
    it("hands the final round the journal's list when the journal is reliable for its folder, and a full walk otherwise", () => {
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 2, list: "YQBi" }), "journal\nYQBi\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true, paths: 0, list: "" }), "journal\n\n");
        assert.equal(finalRoundInput(folderChangesOf("core/influxdb/data")), "walk\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: false, reason: "no change journal was recording" }), "walk\n");
        assert.equal(finalRoundInput({ folder: "core/core/data", journal: true }), "walk\n");
        assert.equal(finalRoundInput(undefined), "walk\n");
    });
});
