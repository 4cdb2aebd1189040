import { strict as assert } from "assert";
import { announcedEstimate, PhaseRun, progressShown } from "./program";

describe("the progress the engine shows on a round's step", () => {
    const report = "warm-1 of core/influxdb/data on dest, 0:00:05 in: 180.4 MiB copied (10%), 52.45MB/s, about 0:00:17 left";

    it("is read from the step's line while it runs, after a replacement's diff summary, and on its done line", () => {
        for (const line of [
            ` +  pulumi-nodejs:dynamic/pryv-migration:OpensshCommand pryv-warm-sync-core-influxdb-data creating (5s) progress: ${report}`,
            ` +- pulumi-nodejs:dynamic/pryv-migration:OpensshCommand pryv-warm-sync-core-influxdb-data creating replacement (6s) [diff: ~create,triggers]; progress: ${report}`,
            ` +  pulumi-nodejs:dynamic/pryv-migration:OpensshCommand pryv-warm-sync-core-influxdb-data created (21s) progress: ${report}`,
        ])
            assert.equal(progressShown(line), report, line);
    });

    it("is not read from a line without one", () => {
        assert.equal(progressShown(" +  pulumi-nodejs:dynamic/pryv-migration:OpensshCommand pryv-warm-sync-core-hfs-data created (1s) "), undefined);
        assert.equal(progressShown("bench: the word progress: in a message"), undefined);
    });
});

describe("the outage the program announced before its cutover", () => {
    const run = (phase: string, outputs: Record<string, unknown>): PhaseRun => ({ phase, seconds: 1, steps: [], outputs, progress: [] });

    it("is the warm round's cutoverEstimate.seconds, or the cutover's outageEstimate.seconds made before source stopped", () => {
        assert.equal(
            announcedEstimate(run("warm-sync", { cutoverEstimate: { seconds: 161, coldSyncSeconds: 156.6, basis: "an upper bound" } }), "cutoverEstimate"),
            161,
        );
        assert.equal(
            announcedEstimate(
                run("cutover", { outageEstimate: { seconds: 12.4, steps: {}, basis: "made before" }, outage: { seconds: 13 } }),
                "outageEstimate",
            ),
            12.4,
        );
    });

    it("is undefined when the run gave none, or gave it in another shape, or did not run", () => {
        for (const outputs of [
            {},
            { cutoverEstimate: null },
            { cutoverEstimate: "161 s" },
            { cutoverEstimate: { seconds: "161" } },
            { outageEstimate: { seconds: 12 } },
        ])
            assert.equal(announcedEstimate(run("warm-sync", outputs), "cutoverEstimate"), undefined, JSON.stringify(outputs));
        assert.equal(announcedEstimate(undefined, "outageEstimate"), undefined);
    });
});
