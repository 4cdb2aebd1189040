import { strict as assert } from "assert";
import { selectProfile, selectRuns } from "./profile";

describe("the bench's settings", () => {
    it("measures each method three times unless BENCH_RUNS says otherwise", () => {
        assert.equal(selectRuns({}), 3);
        assert.equal(selectRuns({ BENCH_RUNS: "5" }), 5);
    });

    it("refuses a BENCH_RUNS that is not a positive integer, naming it", () => {
        for (const value of ["0", "-1", "2.5", "three", ""])
            assert.throws(() => selectRuns({ BENCH_RUNS: value }), new RegExp(`^Error: BENCH_RUNS must be a positive integer, got ${value}$`), value);
    });

    it("refuses an unknown BENCH_PROFILE, naming the ones there are", () => {
        assert.throws(() => selectProfile({ BENCH_PROFILE: "huge" }), /^Error: BENCH_PROFILE must be one of smoke, default, large, got huge$/);
    });
});
