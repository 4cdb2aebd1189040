import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { jsonKeys, readStackConfig } from "./stackConfig";
import { operatorKey, rawConfig } from "../testing";

function setStackConfig(values: Record<string, unknown>, secretKeys: string[]): void {
    const config = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [`pryv-core-migration:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );
    pulumi.runtime.setAllConfig(
        config,
        secretKeys.map((key) => `pryv-core-migration:${key}`),
    );
}

describe("readStackConfig", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}, []));

    it("reads every key of the project, structured values as JSON, the key as a secret", async () => {
        setStackConfig({ ...rawConfig(), warmSyncRound: 3, coreSubdomain: "co2" }, ["operatorPrivateKey"]);
        const config = readStackConfig();
        assert.equal(config.warmSyncRound, 3);
        assert.equal(config.coreSubdomain, "co2");
        assert.equal(config.source.host, "10.0.0.11");
        assert.equal(config.migrationId, "unit");
        assert.equal(await pulumi.isSecret(config.operatorPrivateKey!), true);
    });

    it("reads as JSON exactly the keys Pulumi.yaml declares with a type other than string", () => {
        const declared = (yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { config: Record<string, { type: string }> }).config;
        const typed = Object.entries(declared)
            .filter(([, declaration]) => declaration.type !== "string")
            .map(([key]) => key);
        assert.deepEqual([...jsonKeys].sort(), typed.sort());
    });

    it("reads a v1 platform's config leader as a structured value", () => {
        setStackConfig({ ...rawConfig(), layout: "pryv-v1", configLeader: { hosting: "hosting2" } }, ["operatorPrivateKey"]);
        assert.deepEqual(readStackConfig().configLeader, {
            register: "reg-master",
            platformYml: "/var/pryv/config-leader/conf/platform.yml",
            hosting: "hosting2",
        });
    });

    it("reads the rsync settings, the fresh-dest bound and destLost as structured values", () => {
        setStackConfig({ ...rawConfig(), phase: "warm-sync", sync: { compress: "zstd", maxDeletions: 12 }, freshDestMaxFiles: 42, destLost: true }, [
            "operatorPrivateKey",
        ]);
        const config = readStackConfig();
        assert.deepEqual([config.sync, config.freshDestMaxFiles, config.destLost], [{ compress: "zstd", maxDeletions: 12 }, 42, true]);
    });

    it("refuses a private key set in plain text", () => {
        setStackConfig(rawConfig(), []);
        assert.throws(readStackConfig, (error: Error) => {
            assert.match(error.message, /operatorPrivateKey: expected a secret \(pulumi config set --secret operatorPrivateKey\)/);
            assert.ok(!error.message.includes(operatorKey.slice(40, 60)));
            return true;
        });
    });

    it("refuses a structured key that is not JSON, naming it", () => {
        setStackConfig({ ...rawConfig(), source: "{host: x" }, ["operatorPrivateKey"]);
        assert.throws(readStackConfig, /source: expected YAML\/JSON structured value; got "\{host: x"/);
    });
});
