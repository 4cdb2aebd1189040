import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { render, shellCommand, shellQuote, templateNames } from "./templates";

const hostile = ["$(touch /tmp/pwned)", "`id`", "a'b", 'a"b', "x; rm -rf /", "two\nlines", "with space", "~root", "*", "$HOME", "-rf", ""];

describe("shell quoting", () => {
    for (const value of hostile) {
        it(`bash reads ${JSON.stringify(value)} back as one word, unchanged`, () => {
            const printed = execFileSync("bash", ["-c", `printf '%s|' ${shellQuote(value)} ${shellCommand([value, "second"])}`]).toString();
            assert.equal(printed, `${value}|${value}|second|`);
        });
    }
});

describe("templates", () => {
    const shellTemplates = templateNames().filter((name) => name.endsWith(".sh"));

    it("pass every value of a shell script through q or cmd", () => {
        assert.ok(shellTemplates.length >= 5);
        for (const name of shellTemplates) {
            const source = fs.readFileSync(path.join(__dirname, "..", "templates", `${name}.hbs`), "utf8");
            const bare = source.match(/\{\{(?!(q |cmd |#each |\/each|#if |\/if|else\}))[^}]*\}\}/g);
            assert.equal(bare, null, `${name}: ${bare?.join(" ")}`);
        }
    });

    it("refuse to render with a value missing", () => {
        assert.throws(() => render("known-hosts", { alias: "x" }), /"hostKey" not defined/);
    });

    it("render a start script that bash parses", () => {
        const script = render("services-start.sh", {
            startCommand: ["/var/pryv/run-core"],
            stopCommand: ["/var/pryv/stop-containers"],
            healthCheck: ["curl", "https://co1.x/"],
            timeoutSeconds: 5,
            stopAfterwards: true,
        });
        execFileSync("bash", ["-n", "-c", script]);
        assert.match(script, /^'\/var\/pryv\/run-core'$/m);
        assert.match(script, /^until output=\$\('curl' 'https:\/\/co1\.x\/' 2>&1\); do$/m);
        assert.match(script, /^'\/var\/pryv\/stop-containers'$/m);
    });
});
