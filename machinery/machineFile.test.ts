import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CapturedFile, captureScript, fileContentScript, parseCapture, restartScript, restoreScript } from "./machineFile";
import { capturedStdout, runBash, sha256, temporaryFolder } from "../testing";

const originalBytes = "upstream core_server {\n  server core:3000;\n}\n# \u00e9t\u00e9, no newline at the end";
const newContent = "new 'content' $(not run) `nor this`\n";
const originalTime = new Date("2019-06-04T10:00:00Z");
// Root can give the file an owner of its own, so that keeping it is seen.
const owner = process.getuid?.() === 0 ? { uid: 1234, gid: 5678 } : undefined;

/** What a copy must keep of a file: its bytes, owner, mode and times. */
const describeFile = (file: string) => {
    const stat = fs.statSync(file);
    return { content: fs.readFileSync(file, "utf8"), uid: stat.uid, gid: stat.gid, mode: stat.mode, mtimeMs: stat.mtimeMs };
};

describe("machine file scripts, run by bash", () => {
    let folder: string;
    let remove: () => void;
    let file: string;
    let original: CapturedFile;
    let asFound: ReturnType<typeof describeFile>;
    const originalBeside = () => `${file}.pryv-migration-original`;
    const home = () => path.join(folder, "home");
    const setContent = (stdin: string, checkCommand?: string[]) => runBash(fileContentScript({ path: file, original, checkCommand }), { stdin });
    const filesHere = () => fs.readdirSync(path.dirname(file)).sort();

    beforeEach(() => {
        ({ folder, remove } = temporaryFolder("machine-file"));
        fs.mkdirSync(path.join(folder, "conf"));
        file = path.join(folder, "conf", "site 443.conf");
        fs.writeFileSync(file, originalBytes, { mode: 0o640 });
        fs.chmodSync(file, 0o640);
        if (owner !== undefined) fs.chownSync(file, owner.uid, owner.gid);
        fs.utimesSync(file, originalTime, originalTime);
        asFound = describeFile(file);
        const captured = runBash(captureScript([file], "proxy.siteFile"));
        assert.equal(captured.status, 0, captured.stderr);
        original = parseCapture(captured.stdout);
    });
    afterEach(() => remove());

    describe("capture", () => {
        it("reads the exact bytes and their digest", () => {
            assert.deepEqual(original, { path: file, sha256: sha256(originalBytes), content: originalBytes });
        });

        it("fails, naming the file and the setting, when it is missing", () => {
            const result = runBash(captureScript([path.join(folder, "conf", "absent.conf")], "proxy.siteFile"));
            assert.equal(result.status, 1);
            assert.equal(result.stderr, `proxy.siteFile: none of ${path.join(folder, "conf", "absent.conf")} is on this machine\n`);
        });

        it("takes the one of its possible places that exists (dns.json: Pryv's template or the written procedure), refuses none or both", () => {
            const template = path.join(folder, "reg-master", "dns", "conf", "dns.json");
            const seed = path.join(folder, "reg-master", "dns", "dns.json");
            const capture = () => runBash(captureScript([template, seed], "registers.0.dnsJson"));
            assert.deepEqual([capture().status, capture().stderr], [1, `registers.0.dnsJson: none of ${template}, ${seed} is on this machine\n`]);
            fs.mkdirSync(path.dirname(template), { recursive: true });
            fs.writeFileSync(seed, "{}\n");
            assert.equal(parseCapture(capture().stdout).path, seed);
            fs.writeFileSync(template, "{}\n");
            assert.deepEqual(
                [capture().status, capture().stderr],
                [1, `registers.0.dnsJson: both ${template} ${seed} are on this machine; set registers.0.dnsJson to the one the service reads\n`],
            );
            fs.rmSync(seed);
            assert.equal(parseCapture(capture().stdout).path, template);
        });

        it("refuses a file that is not UTF-8 text, naming it", () => {
            const latin1 = JSON.stringify({ sha256: "00", base64: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]).toString("base64") });
            assert.throws(
                () => parseCapture(latin1, "site-443.conf on source"),
                /^Error: site-443\.conf on source is not UTF-8 text: the migration only edits text files it can show in a preview$/,
            );
            assert.deepEqual(parseCapture(capturedStdout("caf\u00e9\n", "/f")), { path: "/f", sha256: sha256("caf\u00e9\n"), content: "caf\u00e9\n" });
        });
    });

    describe("file-content.sh", () => {
        it("opens with the file and what it does, with or without a check", () => {
            const checked = fileContentScript({ path: file, original, checkCommand: ["nginx", "-t"] });
            assert.ok(checked.startsWith(`# file: ${file}\n# Sets this file to the content given on standard input:`), checked);
            assert.match(checked, /, kept only if the check accepts it;/);
            assert.match(checked, /^ {2}if ! check_output=\$\('nginx' '-t' 2>&1\); then$/m);
            const unchecked = fileContentScript({ path: file, original });
            assert.doesNotMatch(unchecked, /check/);
        });

        it("changes nothing when stdin is the original content", () => {
            const result = setContent(originalBytes);
            assert.deepEqual([result.status, result.stdout, result.stderr], [0, `{"sha256":"${sha256(originalBytes)}"}\n`, ""]);
            assert.deepEqual(describeFile(file), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf"]);
        });

        it("replaces the file with new content, keeping its owner and mode, and the original beside it as found", () => {
            const result = setContent(newContent);
            assert.deepEqual([result.status, result.stdout, result.stderr], [0, `{"sha256":"${sha256(newContent)}"}\n`, ""]);
            const replaced = describeFile(file);
            assert.deepEqual(
                { content: replaced.content, uid: replaced.uid, gid: replaced.gid, mode: replaced.mode },
                { content: newContent, uid: asFound.uid, gid: asFound.gid, mode: asFound.mode },
            );
            assert.deepEqual(describeFile(originalBeside()), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf", "site 443.conf.pryv-migration-original"]);
        });

        it("changes nothing when stdin is the content already there", () => {
            assert.equal(setContent(newContent).status, 0);
            const before = describeFile(file);
            const again = setContent(newContent);
            assert.deepEqual([again.status, again.stderr], [0, ""]);
            assert.deepEqual(describeFile(file), before);
            assert.deepEqual(describeFile(originalBeside()), asFound);
        });

        it("puts the original back byte for byte, with owner, mode and times, when stdin is the original again", () => {
            assert.equal(setContent(newContent).status, 0);
            assert.equal(setContent("second new content\n").status, 0);
            const result = setContent(originalBytes);
            assert.deepEqual([result.status, result.stdout, result.stderr], [0, `{"sha256":"${sha256(originalBytes)}"}\n`, ""]);
            assert.deepEqual(describeFile(file), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf"]);
        });

        it("puts the previous file back and fails with the check's words when the check refuses the new content", () => {
            const refuse = ["sh", "-c", "echo 'nginx: [emerg] no certificate' >&2; exit 1"];
            const result = setContent("broken", refuse);
            assert.equal(result.status, 1);
            assert.equal(result.stderr, `${file}: the new content was refused, the previous file is back in place:\nnginx: [emerg] no certificate\n`);
            assert.deepEqual(describeFile(file), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf"]);
        });

        it("keeps the first new content and the original when the check refuses a second one", () => {
            assert.equal(setContent(newContent, ["true"]).status, 0);
            const before = describeFile(file);
            const result = setContent("broken", ["false"]);
            assert.equal(result.status, 1);
            assert.match(result.stderr, /the new content was refused, the previous file is back in place/);
            assert.deepEqual(describeFile(file), before);
            assert.deepEqual(describeFile(originalBeside()), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf", "site 443.conf.pryv-migration-original"]);
        });

        it("runs the check on the new file in place", () => {
            const result = setContent(newContent, ["grep", "-q", "new 'content'", file]);
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.equal(fs.readFileSync(file, "utf8"), newContent);
        });

        it("refuses a file changed since the migration read it, and leaves it as it is", () => {
            fs.appendFileSync(file, "\n# edited by hand");
            const edited = describeFile(file);
            for (const stdin of [newContent, originalBytes]) {
                const result = setContent(stdin);
                assert.equal(result.status, 1);
                assert.equal(
                    result.stderr,
                    `${file} changed since the migration read it: replace the resource that read it (pulumi up --target-replace) to render from the new content\n`,
                );
                assert.deepEqual(describeFile(file), edited);
                assert.deepEqual(filesHere(), ["site 443.conf"]);
            }
        });
    });

    describe("file-restore.sh and restart-after-change.sh", () => {
        const restartCommands = (log: string) => [
            ["sh", "-c", `echo stop >> '${log}'`],
            ["sh", "-c", `echo start >> '${log}'`],
        ];

        it("restore puts the original back byte for byte, and changes nothing when the file was never replaced", () => {
            const restore = restoreScript(file, "unit");
            assert.ok(restore.startsWith(`# Puts ${file} back as the migration found it, byte for byte with its owner, mode and times.\n`), restore);
            assert.equal(runBash(restore, { env: { HOME: home() } }).status, 0);
            assert.deepEqual(describeFile(file), asFound);
            assert.equal(setContent(newContent).status, 0);
            const result = runBash(restore, { env: { HOME: home() } });
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.deepEqual(describeFile(file), asFound);
            assert.deepEqual(filesHere(), ["site 443.conf"]);
        });

        it("restore restarts what reads the file only when this migration had restarted it, then forgets that it had", () => {
            const log = path.join(folder, "restarts.log");
            const marker = path.join(home(), ".pryv-migration", "unit", "reg-master-dns-restarted");
            const restore = restoreScript(file, "unit", restartCommands(log), "reg-master-dns-restarted");
            assert.match(restore, /, then restarts what reads it if this migration had restarted it\.\n/);
            assert.equal(setContent(newContent).status, 0);
            assert.equal(runBash(restore, { env: { HOME: home() } }).status, 0);
            assert.equal(fs.existsSync(log), false, "never restarted: nothing to restart");
            assert.deepEqual(describeFile(file), asFound);

            assert.equal(setContent(newContent).status, 0);
            const restart = runBash(restartScript(file, "unit", restartCommands(log), "reg-master-dns-restarted"), { env: { HOME: home() } });
            assert.equal(restart.status, 0, restart.stderr);
            assert.match(restart.stdout, /^\{"restartedAt":\d+\.\d+\}\n$/);
            assert.equal(fs.readFileSync(log, "utf8"), "stop\nstart\n");
            assert.ok(fs.existsSync(marker), "the marker is written");
            const result = runBash(restore, { env: { HOME: home() } });
            assert.deepEqual([result.status, result.stderr], [0, ""]);
            assert.deepEqual(describeFile(file), asFound);
            assert.equal(fs.readFileSync(log, "utf8"), "stop\nstart\nstop\nstart\n");
            assert.equal(fs.existsSync(marker), false);
        });

        it("restart leaves its marker before it runs anything, so that an interrupted restart is restarted again on undo", () => {
            const marker = path.join(home(), ".pryv-migration", "unit", "reg-master-dns-restarted");
            const result = runBash(restartScript(file, "unit", [["sh", "-c", `test -e '${marker}'`], ["false"]], "reg-master-dns-restarted"), {
                env: { HOME: home() },
            });
            assert.equal(result.status, 1);
            assert.ok(fs.existsSync(marker));
        });
    });
});
