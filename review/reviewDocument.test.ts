import { strict as assert } from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { changedJsonLeaves, describeLeafChange } from "./jsonChanges";
import { wrapForBash } from "../machinery/remoteStep";
import { unknownValue } from "./previewJson";
import { ConfigEntry, PreviewJson, renderReview, splitScript, stackNameFromPreview, unwrapScript } from "./reviewDocument";
import { resourceName } from "./steps";

// The fixtures are `pulumi preview --json` (engine 3.259.0) of a throwaway project that
// declares steps as this program does (dynamic resource pryv-migration:OpensshCommand,
// wrapped scripts, stdin for files) and moved through phases with a file:// backend:
// prepare from scratch, cutover (site-443.conf changes), dns (dns.json changes), dns back
// to prepare (a rollback), and a warm-sync round bump (a replace). They were reshaped with
//   jq 'del(.duration) | .steps |= map(del(.provider) | (.newState, .oldState) |= (if . == null
//       then empty else {urn, type, custom, inputs: (.inputs // {} | del(.__provider)),
//       dependencies} | with_entries(select(.value != null)) end))'
// which drops the serialized provider code and stack traces, nothing the review reads.
// config.json is `pulumi config --json` of that stack, outputs.json `pulumi stack output --json`.
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(__dirname, "fixtures", `${name}.json`), "utf8")) as T;
const baseConfig = fixture<Record<string, ConfigEntry>>("config");
const outputs = fixture<Record<string, unknown>>("outputs");

function review(previewName: string, phase: string, extra: Partial<Parameters<typeof renderReview>[0]> = {}): string[] {
    const config = { ...baseConfig, "pryv-core-migration:phase": { value: phase, secret: false } };
    return renderReview({ stack: "exp", preview: fixture<PreviewJson>(previewName), config, outputs, ...extra }).split("\n");
}

/** The lines `expected`, consecutive, somewhere in `document`. */
function assertBlock(document: string[], expected: string[]): void {
    const at = document.findIndex((_, index) => expected.every((line, offset) => document[index + offset] === line));
    assert.ok(at !== -1, `missing block:\n${expected.join("\n")}\n---- in ----\n${document.join("\n")}`);
}

function section(document: string[], heading: string): string[] {
    const start = document.indexOf(heading);
    assert.ok(start !== -1, `no ${heading}`);
    const end = document.findIndex((line, index) => index > start && /^#{1,2} /.test(line));
    return document.slice(start, end === -1 ? undefined : end);
}

describe("review document", () => {
    it("opens with the stack, the phase, the change summary and the downtime estimate", () => {
        const document = review("preview-cutover", "cutover", { outputs: { ...outputs, phase: "warm-sync" } });
        assert.deepEqual(document.slice(0, 15), [
            "# Migration review: stack `exp`",
            "",
            "- Phase: `warm-sync` -> `cutover`, forward",
            "- Changes (resources): 1 create, 4 same, 1 update",
            "- Users: a 503 window (with Retry-After) from source's stop until dest serves, about 42 s by the last warm round's estimate (an upper bound, below); then source's nginx proxies to dest",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            "  - source (10.0.0.11:22): no service stops or starts",
            "",
            "## Downtime estimate",
            "",
            "- basis: last warm sync",
            "- seconds: 42",
            "",
            "## source (10.0.0.11:22)",
        ]);
        assert.ok(!review("preview-cutover", "cutover", { outputs: {} }).includes("## Downtime estimate"));
        // Not for a rollback, nor past the cutover: the estimate is what a cutover to come would cost.
        assert.ok(!review("preview-rollback-dns-to-prepare", "prepare").includes("## Downtime estimate"));
        assert.ok(!review("preview-dns", "dns").includes("## Downtime estimate"));
        assert.ok(review("preview-warm-sync-round-2", "warm-sync").includes("## Downtime estimate"));
    });

    it("shows, per machine, each created step in plain words and the commands it runs", () => {
        // Before the first warm sync the stack has no estimate.
        const document = review("preview-prepare", "prepare", { outputs: {} });
        assert.deepEqual(
            document.filter((line) => line.startsWith("## ")),
            ["## dest (10.0.0.12:2222)", "## source (10.0.0.11:22)", "## reg-master (10.0.0.21:22)", "## If rolled back"],
        );
        assertBlock(document, [
            "### create: `pryv-key-dest`",
            "",
            "Generates the migration key on dest. Private half stays on dest.",
            "",
            "Runs:",
            "",
            "```bash",
            "ssh-keygen -t ed25519 -N '' -f /root/.ssh/pryv-migration",
            "cat /root/.ssh/pryv-migration.pub",
            "```",
        ]);
        // The file a step will write is shown folded: in prepare it is the file as read on the machine.
        assertBlock(document, [
            "<details><summary>Content for <code>/var/pryv/core/nginx/conf/site-443.conf</code> (9 lines)</summary>",
            "",
            "```",
            "upstream core_server {",
        ]);
    });

    it("says what a rollback would undo: each created step's delete script, in its words, last step first", () => {
        assert.deepEqual(section(review("preview-prepare", "prepare"), "## If rolled back").slice(0, 7), [
            "## If rolled back",
            "",
            "Reverting this change to `Pulumi.exp.yaml` and running `pulumi up` would, in this order:",
            "",
            "- dest (10.0.0.12:2222), `pryv-key-dest`: Removes the migration key from dest.",
            "",
            "Steps with nothing to undo (they leave the stack only): `pryv-dns-reg` (reg-master (10.0.0.21:22)), `pryv-site-443` (source (10.0.0.11:22)).",
        ]);
    });

    it("shows a changed file as a unified diff, and its restoration under rollback", () => {
        const document = review("preview-cutover", "cutover");
        assertBlock(document, [
            "### update: `pryv-site-443`",
            "",
            "Writes the proxy configuration on source.",
            "",
            "Runs:",
            "",
            "```bash",
            "cat > /var/pryv/core/nginx/conf/site-443.conf",
            "nginx -t",
            "```",
            "",
            "File `/var/pryv/core/nginx/conf/site-443.conf` changes:",
            "",
            "```diff",
            "--- /var/pryv/core/nginx/conf/site-443.conf (before)",
            "+++ /var/pryv/core/nginx/conf/site-443.conf (after)",
            "@@ -1,9 +1,10 @@",
            " upstream core_server {",
            "-    server core:3000;",
            "+    server 10.0.0.12:443;",
            " }",
            " server {",
            "     listen 443 ssl;",
            "     location / {",
            "-        proxy_pass http://core_server;",
            "+        proxy_pass https://core_server;",
            "+        proxy_ssl_server_name on;",
            "     }",
            " }",
            "```",
        ]);
        assert.deepEqual(section(document, "## If rolled back").slice(4, 6), [
            "- source (10.0.0.11:22), `pryv-cutover`: Starts source again. Carries dest's data back first.",
            "- source (10.0.0.11:22), `pryv-site-443`: `/var/pryv/core/nginx/conf/site-443.conf` goes back to its content before this change (the diff above, reversed)",
        ]);
        assert.ok(!document.some((line) => line.includes("DNS values")), "an nginx file has no JSON values");
    });

    it("lists each changed DNS value old -> new beside the diff of dns.json", () => {
        const document = review("preview-dns", "dns");
        assertBlock(document, ['-        "ip": "10.0.0.11"', '+        "ip": "10.0.0.12"']);
        assertBlock(document, ["DNS values (old -> new):", "", '- `dns.staticDataInDomain.co1.ip: "10.0.0.11" -> "10.0.0.12"`']);
        assertBlock(document, [
            '- reg-master (10.0.0.21:22), `pryv-dns-reg`: `/var/pryv/reg-master/dns/dns.json` goes back to its content before this change (the diff above, reversed); `dns.staticDataInDomain.co1.ip: "10.0.0.12" -> "10.0.0.11"`',
        ]);
    });

    it("a dns.json whose content the state keeps secret: the values its script says change, never the content", () => {
        const preview = fixture<PreviewJson>("preview-dns");
        const wrap = (script: string) => `bash --norc -euo pipefail -c "$(cat <<'PRYV_MIGRATION_SCRIPT_END'\n${script}\nPRYV_MIGRATION_SCRIPT_END\n)"`;
        const opening = "# file: /var/pryv/reg-master/dns/dns.json\n# Points co1 at dest.\n";
        for (const step of (preview.steps ?? []).filter((candidate) => candidate.urn.endsWith("::pryv-dns-reg"))) {
            const [before, after] = [step.oldState, step.newState];
            assert.ok(before?.inputs !== undefined && after?.inputs !== undefined);
            before.inputs.stdin = "[secret]";
            after.inputs.stdin = "[secret]";
            before.inputs.create = wrap(`${opening}# dns.staticDataInDomain.co1.ip: "10.0.0.11", as read.\ncat > /var/pryv/reg-master/dns/dns.json`);
            after.inputs.create = wrap(
                `${opening}# dns.staticDataInDomain.co1.ip: "10.0.0.11" => "10.0.0.12"; every other value as read.\ncat > /var/pryv/reg-master/dns/dns.json`,
            );
        }
        const config = { ...baseConfig, "pryv-core-migration:phase": { value: "dns", secret: false } };
        const document = renderReview({ stack: "exp", preview, config, outputs }).split("\n");
        assertBlock(document, ["File `/var/pryv/reg-master/dns/dns.json` changes; the content is secret, not shown.", ""]);
        assertBlock(document, ["DNS values (old -> new):", "", '- `dns.staticDataInDomain.co1.ip: "10.0.0.11" -> "10.0.0.12"`']);
    });

    it("says a delete of a step on a machine declared lost runs nothing, instead of its undo", () => {
        const preview = fixture<PreviewJson>("preview-rollback-dns-to-prepare");
        for (const step of preview.steps ?? []) if (step.op === "delete" && step.oldState !== undefined) step.oldState.retainOnDelete = true;
        const config = { ...baseConfig, "pryv-core-migration:phase": { value: "prepare", secret: false } };
        const document = renderReview({ stack: "exp", preview, config, outputs }).split("\n");
        assert.ok(
            document.some((line) => line.endsWith("`pryv-cutover`: forgotten without running its undo (machine declared lost)")),
            document.join("\n"),
        );
        assert.ok(document.includes("Runs nothing on the machine: the stack forgets the step (its machine was declared lost), its undo does not run."));
        assert.ok(!document.includes("Undo runs:"), document.join("\n"));
    });

    it("on a rollback, says what each delete runs and shows the files going back", () => {
        const document = review("preview-rollback-dns-to-prepare", "prepare", { outputs: { phase: "dns" } });
        assert.deepEqual(document.slice(2, 16), [
            "- Phase: `dns` -> `prepare`, a rollback",
            "- Changes (resources): 2 delete, 2 same, 2 update",
            "- Users: a 503 window while dest stops, its data is carried back to source and source restarts; what users wrote on dest comes back with it",
            "- Users: the registers answer source's address again: clients move back as their caches expire",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            "  - source (10.0.0.11:22): no service stops or starts",
            "  - reg-master (10.0.0.21:22): no service stops or starts",
            "  - dest (10.0.0.12:2222): no service stops or starts",
            "",
            "This preview deletes 2 steps: it rolls back. Each delete runs that step's undo (commands below):",
            "",
            "- source (10.0.0.11:22), `pryv-cutover`: Starts source again. Carries dest's data back first.",
            "- dest (10.0.0.12:2222), `pryv-warm-sync`: nothing to undo; it leaves the stack",
        ]);
        assertBlock(document, [
            "### delete: `pryv-cutover`",
            "",
            "Removes the step that did this: Stops source.",
            "",
            "Starts source again. Carries dest's data back first.",
            "",
            "Undo runs:",
            "",
            "```bash",
            "/var/pryv/run-core",
            "```",
        ]);
        assertBlock(document, [
            "### delete: `pryv-warm-sync`",
            "",
            "Removes the step that did this: Copies the data folders from live source to dest.",
            "",
            "Runs nothing on the machine (the step has no undo); it leaves the stack.",
        ]);
        assertBlock(document, ["@@ -1,10 +1,9 @@", " upstream core_server {", "-    server 10.0.0.12:443;", "+    server core:3000;"]);
        assertBlock(document, ['- `dns.staticDataInDomain.co1.ip: "10.0.0.12" -> "10.0.0.11"`']);
        assertBlock(document, [
            "- dest (10.0.0.12:2222), `pryv-warm-sync`: runs again: Copies the data folders from live source to dest.",
            "- source (10.0.0.11:22), `pryv-cutover`: runs again: Stops source.",
        ]);
    });

    it("says why a replaced step runs again", () => {
        assertBlock(review("preview-warm-sync-round-2", "warm-sync"), [
            "### replace: `pryv-warm-sync`",
            "",
            "Runs again because `triggers` changed: `[1]` -> `[2]`",
        ]);
    });

    it("never prints a secret: the operator key in a connection or in the config", () => {
        const preview = fixture<PreviewJson>("preview-cutover");
        // As if the engine had not masked them: the review must not rely on the masking.
        for (const step of preview.steps ?? []) {
            const connection = step.newState?.inputs?.connection;
            if (typeof connection === "object") connection.privateKey = "-----BEGIN OPENSSH PRIVATE KEY----- operator";
        }
        const config = { ...baseConfig, "pryv-core-migration:operatorPrivateKey": { value: "-----BEGIN OPENSSH PRIVATE KEY----- config", secret: true } };
        const document = renderReview({ stack: "exp", preview, config, outputs });
        assert.ok(!document.includes("PRIVATE KEY"));
        assert.ok(!document.includes("privateKey"));
        assert.ok(!document.includes("[secret]"));
    });

    it("names each step's machine from its commands when the connection is secret (the command executor), or says the preview does not", () => {
        const preview = fixture<PreviewJson>("preview-cutover");
        const steps = (preview.steps ?? []).filter((step) => step.newState?.inputs?.create !== undefined);
        assert.ok(steps.length >= 2);
        const [named, unknown] = steps;
        for (const step of steps) step.newState!.inputs!.connection = "[secret]";
        // As this program wraps every command: its machine in the first line.
        named.newState!.inputs!.create = wrapForBash("# Writes a file.\ncat > f", { role: "source", user: "root", host: "192.0.2.11", port: 2222 });
        unknown.newState!.inputs!.create = unknownValue;
        for (const key of ["update", "delete"] as const) delete unknown.newState!.inputs![key];
        const document = renderReview({ stack: "exp", preview, config: baseConfig }).split("\n");
        assert.deepEqual(section(document, "## source (192.0.2.11:2222)").slice(0, 3), [
            "## source (192.0.2.11:2222)",
            "",
            `### ${named.op}: \`${resourceName(named.urn)}\``,
        ]);
        const notShown = section(document, "## machine not shown (its connection is secret, its commands known once earlier steps have run)");
        assert.ok(notShown.includes(`### ${unknown.op}: \`${resourceName(unknown.urn)}\``), notShown.join("\n"));
    });

    it("says when a file's content is not known yet or secret instead of diffing the placeholder", () => {
        const preview = fixture<PreviewJson>("preview-cutover");
        const step = (preview.steps ?? []).find((candidate) => candidate.urn.endsWith("::pryv-site-443"));
        assert.ok(step?.newState?.inputs);
        step.newState.inputs.stdin = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const document = renderReview({ stack: "exp", preview, config: baseConfig });
        assertBlock(document.split("\n"), [
            "File `/var/pryv/core/nginx/conf/site-443.conf` changes; the content is known only once the steps before it have run.",
        ]);
        assert.ok(!document.includes("```diff"));
        step.newState.inputs.stdin = "[secret]";
        assertBlock(renderReview({ stack: "exp", preview, config: baseConfig }).split("\n"), [
            "File `/var/pryv/core/nginx/conf/site-443.conf` changes; the content is secret, not shown.",
        ]);
    });

    it("names a machine the config does not know by host:port, and reads the config from the preview when not given", () => {
        const document = renderReview({ stack: "exp", preview: fixture<PreviewJson>("preview-dns"), config: {} });
        assert.ok(document.includes("\n## reg-master (10.0.0.21:22)\n"), "from preview.config");
        const config = { "pryv-core-migration:registers": { value: "[]" } };
        assert.ok(renderReview({ stack: "exp", preview: fixture<PreviewJson>("preview-dns"), config }).includes("\n## 10.0.0.21:22\n"));
    });

    it("fences a file that contains a fence with a longer one", () => {
        const preview = fixture<PreviewJson>("preview-cutover");
        const step = (preview.steps ?? []).find((candidate) => candidate.urn.endsWith("::pryv-site-443"));
        assert.ok(step?.newState?.inputs);
        step.newState.inputs.stdin = "```\n";
        assertBlock(renderReview({ stack: "exp", preview, config: baseConfig }).split("\n"), ["````diff"]);
    });

    it("says that an update of the undo script alone runs nothing, and shows the script's change", () => {
        const preview = fixture<PreviewJson>("preview-dns");
        const step = (preview.steps ?? []).find((candidate) => candidate.urn.endsWith("::pryv-dns-reg"));
        assert.ok(step?.newState?.inputs && step.oldState?.inputs);
        step.newState.inputs.stdin = step.oldState.inputs.stdin;
        step.newState.inputs.delete = "# Restarts the DNS.\nsystemctl restart dns";
        assertBlock(renderReview({ stack: "exp", preview, config: baseConfig }).split("\n"), [
            "Points co1 at dest.",
            "",
            "Runs nothing on the machine: only what the stack records for this step changes.",
            "",
            "Its `delete` script is added.",
        ]);
        step.oldState.inputs.delete = "# Restarts the DNS.\nservice dns restart";
        assertBlock(renderReview({ stack: "exp", preview, config: baseConfig }).split("\n"), [
            "Its `delete` script changes:",
            "",
            "```diff",
            "--- delete (before)",
            "+++ delete (after)",
            "@@ -1,2 +1,2 @@",
            " # Restarts the DNS.",
            "-service dns restart",
            "+systemctl restart dns",
            "```",
        ]);
    });

    it("reads the stack name from the URNs", () => {
        assert.equal(stackNameFromPreview(fixture<PreviewJson>("preview-dns")), "exp");
    });
});

describe("step scripts", () => {
    it("unwraps the bash here-document the program puts around each script", () => {
        const script = "# Says hello.\necho hello";
        for (const bash of ["bash --norc -euo pipefail", "bash -euo pipefail"]) {
            assert.equal(unwrapScript(`${bash} -c "$(cat <<'PRYV_MIGRATION_SCRIPT_END'\n${script}\nPRYV_MIGRATION_SCRIPT_END\n)"`), script);
        }
        assert.equal(unwrapScript("echo as is"), "echo as is");
    });

    it("splits the leading comment (paragraphs at a bare #) from the commands, and reads the file line", () => {
        assert.deepEqual(splitScript("# file: /etc/x.conf\n# Writes x,\n# twice.\n#\n# Then checks it.\ncat > /etc/x.conf\n# not a description\ncheck"), {
            filePath: "/etc/x.conf",
            words: ["Writes x, twice.", "Then checks it."],
            commands: "cat > /etc/x.conf\n# not a description\ncheck",
        });
        assert.deepEqual(splitScript("rm -rf k"), { filePath: undefined, words: [], commands: "rm -rf k" });
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
