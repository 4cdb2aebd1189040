import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { parseMigrationConfig, phases } from "../config";

describe("Pulumi.dest.yaml, the documented example stack", () => {
    const text = fs.readFileSync(path.join(__dirname, "..", "Pulumi.dest.yaml"), "utf8");
    const file = yaml.load(text) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(/^pryv-core-migration:/, ""), value]));

    for (const phase of phases) {
        it(`is a valid config at phase ${phase} once an operator key is given`, () => {
            const config = parseMigrationConfig({ ...raw, phase, useSshAgent: true }, "dest");
            assert.equal(config.registers.length, 2);
            assert.deepEqual(config.registers[1].dnsJsonCandidates, ["/var/pryv/reg-slave/dns/conf/dns.json"]);
        });
    }

    it("names the phases of the program, in order", () => {
        assert.ok(text.includes(`# How far the migration goes: ${phases.join(" -> ")}.\n`));
    });

    it("shows the defaults of the sync settings, the fresh-dest limit and destLost", () => {
        assert.deepEqual(raw.sync, { compress: "none", maxDeletions: 1000 });
        assert.equal(raw.freshDestMaxFiles, 500);
        assert.equal(raw.destLost, false);
        const defaults = parseMigrationConfig({ ...raw, sync: undefined, freshDestMaxFiles: undefined, destLost: undefined, useSshAgent: true }, "dest");
        const config = parseMigrationConfig({ ...raw, useSshAgent: true }, "dest");
        assert.deepEqual([config.sync, config.freshDestMaxFiles, config.destLost], [defaults.sync, defaults.freshDestMaxFiles, defaults.destLost]);
    });

    it("takes destLost the way its comment says: with phase cutover, then warm-sync, never forward", () => {
        for (const phase of ["cutover", "warm-sync"])
            assert.equal(parseMigrationConfig({ ...raw, phase, destLost: true, useSshAgent: true }, "dest").destLost, true);
        try {
            parseMigrationConfig({ ...raw, phase: "dns", destLost: true, useSshAgent: true }, "dest");
            assert.fail("destLost was accepted at phase dns");
        } catch (error) {
            assert.ok(error instanceof pulumi.ResourceError, `expected a ResourceError, got ${String(error)}`);
            assert.equal(
                error.message,
                "Invalid stack config for pryv-core-migration:\n" +
                    `  destLost: expected only with phase cutover, warm-sync or prepare (with dest gone for good the migration can only go back to source, giving up dest's writes since the cutover); got true with phase "dns": set phase to cutover`,
            );
        }
    });

    it("names only keys of this project", () => {
        assert.ok(Object.keys(file.config).every((key) => key.startsWith("pryv-core-migration:")));
    });
});
