import { strict as assert } from "assert";
import { changedJsonLeaves, describeLeafChange } from "./jsonChanges";
import { splitScript, unwrapScript } from "./reviewDocument";

// The review of whole previews is tested on this program's own (programReview.test.ts,
// atAGlance.test.ts); here, the pieces it reads them with.

describe("step scripts", () => {
    it("unwraps the bash here-document the program puts around each script", () => {
        const script = "# Says hello.\necho hello";
        for (const bash of ["bash --norc -euo pipefail", "bash -euo pipefail"]) {
            assert.equal(unwrapScript(`${bash} -c "$(cat <<'PRYV_MIGRATION_SCRIPT_END'\n${script}\nPRYV_MIGRATION_SCRIPT_END\n)"`), script);
        }
        assert.equal(unwrapScript("echo as is"), "echo as is");
    });

    it("splits the leading comment (paragraphs at a bare #) from the commands, and reads the file line; the services line is the box's", () => {
        assert.deepEqual(splitScript("# file: /etc/x.conf\n# Writes x,\n# twice.\n#\n# Then checks it.\ncat > /etc/x.conf\n# not a description\ncheck"), {
            filePath: "/etc/x.conf",
            words: ["Writes x, twice.", "Then checks it."],
            commands: "cat > /etc/x.conf\n# not a description\ncheck",
        });
        assert.deepEqual(splitScript("rm -rf k"), { filePath: undefined, words: [], commands: "rm -rf k" });
        assert.deepEqual(splitScript("# Stops it.\n# services: stops every service\nstop").words, ["Stops it."]);
    });
});

describe("JSON leaf changes", () => {
    it("lists each changed, added or removed leaf with its path", () => {
        const changes = changedJsonLeaves(
            { dns: { ip: "1", nameserver: [{ ip: "a" }], "odd key": 1 }, gone: true },
            { dns: { ip: "2", nameserver: [{ ip: "b" }, { ip: "c" }], "odd key": 1 }, added: null },
        ).map(describeLeafChange);
        assert.deepEqual(changes, [
            'dns.ip: "1" -> "2"',
            'dns.nameserver[0].ip: "a" -> "b"',
            'dns.nameserver[1]: (absent) -> {"ip":"c"}',
            "gone: true -> (absent)",
            "added: (absent) -> null",
        ]);
    });
});
