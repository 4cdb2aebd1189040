import { strict as assert } from "assert";
import { formatSpread, spread } from "./report";

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
