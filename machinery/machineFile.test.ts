import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { captureScript, parseCapture, replaceScript, restoreScript } from "./machineFile";

const bash = (script: string) => spawnSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8" });

describe("machine file scripts, run by bash", () => {
    let folder: string;
    let file: string;
    const originalBytes = "upstream core_server {\n  server core:3000;\n}\n# no newline at the end";
    beforeEach(() => {
        folder = fs.mkdtempSync(path.join(os.tmpdir(), "machine-file-"));
        file = path.join(folder, "site 443.conf");
        fs.writeFileSync(file, originalBytes, { mode: 0o640 });
        fs.utimesSync(file, new Date("2019-06-04T10:00:00Z"), new Date("2019-06-04T10:00:00Z"));
    });
    afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

    const capture = () => parseCapture(execFileSync("bash", ["-c", captureScript(file)], { encoding: "utf8" }));

    it("captures the exact bytes and their digest", () => {
        assert.deepEqual(capture(), { sha256: createHash("sha256").update(originalBytes).digest("hex"), content: originalBytes });
    });

    it("replaces, then restores byte for byte with mode and times", () => {
        const original = capture();
        const before = fs.statSync(file);
        const marker = path.join(folder, "restarted");
        const replaced = bash(replaceScript({ path: file, original, content: "new 'content' $(not run)\n", restart: [["touch", marker]] }));
        assert.equal(replaced.status, 0, replaced.stderr);
        assert.equal(fs.readFileSync(file, "utf8"), "new 'content' $(not run)\n");
        assert.ok(fs.existsSync(marker));
        assert.equal(bash(restoreScript(file, [], [])).status, 0);
        const after = fs.statSync(file);
        assert.equal(fs.readFileSync(file, "utf8"), originalBytes);
        assert.deepEqual([after.mode, after.mtimeMs, after.uid], [before.mode, before.mtimeMs, before.uid]);
        assert.deepEqual(fs.readdirSync(folder).sort(), ["restarted", "site 443.conf"]);
    });

    it("puts the previous file back when the check refuses the new one, and fails with the check's words", () => {
        const original = capture();
        const result = bash(
            replaceScript({
                path: file,
                original,
                content: "broken",
                checkCommand: ["sh", "-c", "echo 'nginx: [emerg] no certificate' >&2; exit 1"],
                restart: [],
            }),
        );
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /the new content was refused, the previous file is back in place:\nnginx: \[emerg\] no certificate/);
        assert.equal(fs.readFileSync(file, "utf8"), originalBytes);
        assert.deepEqual(fs.readdirSync(folder), ["site 443.conf"]);
    });

    it("refuses to replace a file that changed since it was read", () => {
        const original = capture();
        fs.appendFileSync(file, "\n# edited by hand");
        const result = bash(replaceScript({ path: file, original, content: "new", restart: [] }));
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /changed since the migration read it/);
        assert.match(fs.readFileSync(file, "utf8"), /edited by hand$/);
    });

    it("replaces again over its own earlier replacement, keeping the first original", () => {
        const original = capture();
        assert.equal(bash(replaceScript({ path: file, original, content: "first", restart: [] })).status, 0);
        assert.equal(bash(replaceScript({ path: file, original, content: "second", restart: [] })).status, 0);
        assert.equal(fs.readFileSync(file, "utf8"), "second");
        assert.equal(bash(restoreScript(file, [], [])).status, 0);
        assert.equal(fs.readFileSync(file, "utf8"), originalBytes);
    });
});
