import { strict as assert } from "assert";
import { phases, planFor } from "./phases";

describe("the phase plan", () => {
    it("reads as MIGRATION.md's table: each phase adds its row, finalize takes the keys out and protects the rest", () => {
        const row = (plan: ReturnType<typeof planFor>) => (Object.keys(plan) as (keyof typeof plan)[]).filter((field) => plan[field]).join(", ");
        assert.deepEqual(
            phases.map((phase) => [phase, row(planFor(phase))]),
            [
                ["prepare", "migrationKeys"],
                ["warm-sync", "migrationKeys, warmRounds"],
                ["cutover", "migrationKeys, warmRounds, cutover"],
                ["dns", "migrationKeys, warmRounds, cutover, registersNameDest"],
                ["finalize", "warmRounds, cutover, registersNameDest, finalized"],
            ],
        );
    });
});
