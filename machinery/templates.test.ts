import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { render, shellCommand, shellQuote, templateNames } from "./templates";
import { assertInOrder } from "../testing";

const hostile = ["$(touch /tmp/pwned)", "`id`", "a'b", 'a"b', "x; rm -rf /", "two\nlines", "with space", "~root", "*", "$HOME", "-rf", ""];

describe("shell quoting", () => {
    for (const value of hostile) {
        it(`bash reads ${JSON.stringify(value)} back as one word, unchanged`, () => {
            const printed = execFileSync("bash", ["-c", `printf '%s|' ${shellQuote(value)} ${shellCommand([value, "second"])}`]).toString();
            assert.equal(printed, `${value}|${value}|second|`);
        });
    }
});

const templatesFolder = path.join(__dirname, "..", "templates");
const templateSource = (name: string): string => fs.readFileSync(path.join(templatesFolder, `${name}.hbs`), "utf8");
const partialNames = (): string[] =>
    fs
        .readdirSync(path.join(templatesFolder, "partials"))
        .filter((file) => file.endsWith(".hbs"))
        .map((file) => `partials/${file.slice(0, -".hbs".length)}`);

// Not values: inside the -e string rsync splits itself, quoted for rsync rather than for bash (a role, a port number the
// program derives); and a step's own script, already rendered from its template, placed whole in the wrapper that keeps its output.
const notValues: Record<string, string[]> = {
    "partials/peer-rsync": ["{{hostKeyAlias}}", "{{peerPort}}"],
    "step-output-kept.sh": ["{{{opening}}", "{{{body}}"],
};

describe("templates", () => {
    const shellTemplates = templateNames().filter((name) => name.endsWith(".sh"));

    it("pass every value of a shell script through q or cmd, outside comments", () => {
        assert.ok(shellTemplates.length >= 20);
        const offenders = [...shellTemplates, ...partialNames()].flatMap((name) =>
            templateSource(name)
                .split("\n")
                .filter((line) => !line.trimStart().startsWith("#"))
                .flatMap((line) => line.match(/\{\{(?!(q |cmd |#each |\/each|#if |\/if|else\}|> ))[^}]*\}\}/g) ?? [])
                .filter((value) => !(notValues[name] ?? []).includes(value))
                .map((value) => `${name}: ${value}`),
        );
        assert.deepEqual([...new Set(offenders)], []);
    });

    it("open every shell script with a comment that says what it does", () => {
        // The wrapper that keeps a step's output opens with the step's own opening comment.
        for (const name of shellTemplates.filter((template) => template !== "step-output-kept.sh")) assert.match(templateSource(name), /^# \S/, name);
    });

    it("refuse to render with a value missing", () => {
        assert.throws(() => render("known-hosts", { alias: "x" }), /"hostKey" not defined/);
    });

    it("render a start script, with its partial, that bash parses", () => {
        const script = render("services-start.sh", {
            startCommand: ["/var/pryv/run-core"],
            stopCommand: ["/var/pryv/stop-containers"],
            healthCheck: ["curl", "https://co1.x/"],
            coreAnswer: false,
            timeoutSeconds: 5,
            stopAfterwards: true,
        });
        execFileSync("bash", ["-n", "-c", script]);
        assertInOrder(script, [
            "# Starts the core and waits until it answers through its nginx, then stops it again.\n",
            "\n'/var/pryv/run-core'\n",
            "timeout_seconds='5'\n",
            "until health_output=$('curl' 'https://co1.x/' 2>&1); do\n",
            "\n'/var/pryv/stop-containers'\n",
        ]);
    });
});
