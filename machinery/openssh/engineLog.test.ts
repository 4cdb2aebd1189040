import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { engineAddress, logOnResource } from "./engineLog";

describe("engineLog", () => {
    it("reads the engine's address from a provider process's first argument, and nothing else for one", () => {
        assert.equal(engineAddress(["node", "/usr/lib/node_modules/@pulumi/pulumi/cmd/dynamic-provider", "127.0.0.1:40123"]), "127.0.0.1:40123");
        assert.equal(engineAddress(["node", "dynamic-provider", "localhost:5000", "127.0.0.1:5001"]), "localhost:5000");
        for (const argv of [
            ["node", "mocha"],
            ["node", "mocha", "machinery/**/*.test.ts"],
            ["node", "ts-node", "--", "127.0.0.1"],
        ]) {
            assert.equal(engineAddress(argv), undefined, argv.join(" "));
        }
    });

    it("outside a provider process, logs nothing and connects to no engine", () => {
        // mocha's own argument is no engine address: the SDK is given none, and opens no connection.
        assert.equal(engineAddress(process.argv), undefined);
        logOnResource("urn:pulumi:unit::pryv-core-migration::pulumi-nodejs:dynamic/pryv-migration:OpensshCommand::step", "progress: nothing");
        assert.equal(pulumi.runtime.hasEngine(), false);
    });
});
