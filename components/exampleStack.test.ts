import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { parseMigrationConfig, phases } from "./config";

describe("Pulumi.dest.yaml, the documented example stack", () => {
    const file = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.dest.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(file.config).map(([key, value]) => [key.replace(/^pryv-core-migration:/, ""), value]));

    for (const phase of phases) {
        it(`is a valid config at phase ${phase} once an operator key is given`, () => {
            const config = parseMigrationConfig({ ...raw, phase, useSshAgent: true }, "dest");
            assert.equal(config.registers.length, 2);
            assert.equal(config.registers[1].dnsJson, "/var/pryv/reg-slave/dns/conf/dns.json");
        });
    }

    it("names only keys of this project", () => {
        assert.ok(Object.keys(file.config).every((key) => key.startsWith("pryv-core-migration:")));
    });
});
