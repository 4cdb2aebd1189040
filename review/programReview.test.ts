import { strict as assert } from "assert";
import { wrapForBash } from "../machinery/remoteStep";
import { programFixture } from "../testing/reviewFixtures";
import { machineNotShown } from "./machines";
import { ReviewInput } from "./input";
import { secretValue, unknownValue } from "./previewJson";
import { renderReview, stackNameFromPreview } from "./reviewDocument";
import { resourceName } from "./steps";

// Reviews of this program's own previews, as the operator CLI test took them from its stack
// on the test hosts (testing/reviewFixtures.ts; that test checks they are still current):
// prepare (the stack's first preview), cutover, dns, and the rollback from cutover to warm-sync.

/** A fixture to change freely: each test reads its own copy. */
const input = (name: string): ReviewInput => programFixture(name);
const render = (review: ReviewInput): string[] => renderReview(review).split("\n");

/** The stack's machines as the review names them, from the fixture's own config. */
function machinesOf(review: ReviewInput): Record<string, { heading: string; confRoot: string; ip: string }> {
    const value = (key: string): unknown => review.config[`pryv-core-migration:${key}`]?.objectValue;
    const named = [
        ["source", value("source")],
        ["dest", value("dest")],
        ...((value("registers") ?? []) as { name: string }[]).map((register) => [register.name, register]),
    ] as [string, { host: string; port?: number; confRoot: string }][];
    return Object.fromEntries(
        named.map(([role, machine]) => [role, { heading: `${role} (${machine.host}:${machine.port ?? 22})`, confRoot: machine.confRoot, ip: machine.host }]),
    );
}

/** The lines `expected`, consecutive, somewhere in `document`. */
function assertBlock(document: string[], expected: string[]): void {
    const at = document.findIndex((_, index) => expected.every((line, offset) => document[index + offset] === line));
    assert.ok(at !== -1, `missing block:\n${expected.join("\n")}\n---- in ----\n${document.join("\n")}`);
}

const headings = (document: string[]): string[] => document.filter((line) => line.startsWith("## "));
const step = (review: ReviewInput, name: string) => {
    const found = (review.preview.steps ?? []).find((candidate) => resourceName(candidate.urn) === name);
    assert.ok(found !== undefined, `no step ${name} in the fixture`);
    return found;
};

describe("the review of this program's previews", () => {
    it("prepare, the stack's first preview: nothing felt, dest's check starts and stops its core, every step under its machine", () => {
        const review = input("prepare");
        const machines = machinesOf(review);
        const document = render(review);
        assert.deepEqual(document.slice(2, 7), [
            "- Phase: `prepare`, the stack's first update",
            "- Changes (resources): 32 create",
            "- Users: nothing: source serves throughout",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
        ]);
        assert.ok(document.includes(`  - ${machines.dest.heading}: starts the core, then stops it again`));
        assert.deepEqual(headings(document).sort(), [...Object.values(machines).map((machine) => `## ${machine.heading}`), "## If rolled back"].sort());
        // No cutover is being prepared yet: no estimate.
        assert.ok(!document.includes("## Downtime estimate"));
        // The file steps' content is the file as read by an earlier step: not known before it runs.
        assert.ok(document.includes("Standard input: known only once the steps before it have run."));
    });

    it("the cutover: the 503 window with the estimate, source's site file as a diff to the proxy, and what a rollback undoes", () => {
        const review = input("cutover");
        const { source, dest } = machinesOf(review);
        const document = render(review);
        const estimate = (review.outputs?.cutoverEstimate as { seconds: number }).seconds;
        assert.deepEqual(document.slice(2, 11), [
            "- Phase: `warm-sync` -> `cutover`, forward",
            "- Changes (resources): 33 create, 1 read, 38 same, 1 update",
            `- Users: a 503 window (with Retry-After) from source's stop until dest serves, about ${estimate} s by the last warm round's estimate (its basis below; the cutover makes its own before source stops); then source's nginx proxies to dest`,
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            `  - ${source.heading}: stops every service, then starts nginx alone`,
            `  - ${dest.heading}: stops every service here (6 steps); starts the core`,
            "",
            "## Downtime estimate",
        ]);
        assert.ok(document.includes(`- seconds: ${estimate}`));
        const siteFile = `${source.confRoot}/core/nginx/conf/site-443.conf`;
        assertBlock(document, ["```diff", `--- ${siteFile} (before)`, `+++ ${siteFile} (after)`]);
        assertBlock(document, [" upstream core_server {", "-  server core:3000 max_fails=3 fail_timeout=30s;"]);
        assert.ok(document.includes(`+  server ${dest.ip}:443;`));
        assert.ok(
            document.includes(
                `- ${source.heading}, \`pryv-source-proxy-site-file\`: \`${siteFile}\` goes back to its content before this change (the diff above, reversed)`,
            ),
        );
        assert.ok(!document.some((line) => line.includes("DNS values")), "an nginx file has no JSON values");
    });

    it("dns: each register's secret dns.json, the value its script says changes old -> new, and its way back", () => {
        const review = input("dns");
        const machines = machinesOf(review);
        const document = render(review);
        assert.equal(
            document[4],
            "- Users: the registers answer dest's address: clients move over as their DNS caches expire, and source's proxy serves the others from dest meanwhile",
        );
        for (const register of ["reg-master", "reg-slave"]) {
            const dnsJson = `${machines[register].confRoot}/${register}/dns/dns.json`;
            assert.ok(document.includes(`  - ${machines[register].heading}: restarts what reads ${dnsJson}`), register);
            assertBlock(document, [
                `File \`${dnsJson}\` changes; the content is secret, not shown.`,
                "",
                "DNS values (old -> new):",
                "",
                `- \`dns.staticDataInDomain.co1.ip: "${machines.source.ip}" -> "${machines.dest.ip}"\``,
            ]);
        }
        assert.ok(!renderReview(review).includes("fixture-admin-key"));
    });

    it("the rollback from cutover to warm-sync: the carry-back's window, each delete's undo, the site file going back", () => {
        const review = input("rollback-to-warm-sync");
        const { source, dest } = machinesOf(review);
        const document = render(review);
        assert.deepEqual(document.slice(2, 12), [
            "- Phase: `cutover` -> `warm-sync`, a rollback",
            "- Changes (resources): 33 delete, 1 read, 38 same, 1 update",
            "- Users: a 503 window while dest stops, its data is carried back to source and source restarts; what users wrote on dest comes back with it",
            "- Given up for good: nothing: every step this update runs has its undo in the stack",
            "- Machines touched:",
            `  - ${source.heading}: stops every service here (5 steps); restarts every service, if the cutover had stopped them`,
            `  - ${dest.heading}: stops every service`,
            "",
            "This preview deletes 32 steps: it rolls back. Each delete runs that step's undo (commands below):",
            "",
        ]);
        assert.ok(
            document.includes(
                `- ${source.heading}, \`pryv-source-proxy-source-back\`: Brings source back as it served before the cutover: its original nginx file in place, then, if the cutover had stopped it, every service restarted and healthy.`,
            ),
        );
        assertBlock(document, [
            "### delete: `pryv-source-proxy-source-back`",
            "",
            "Removes the step that did this: Does nothing now: recorded before the cutover acts on source, so that its undo runs whatever a crash interrupts.",
        ]);
        assert.ok(document.includes("+  server core:3000 max_fails=3 fail_timeout=30s;"));
        assert.ok(!document.includes("## Downtime estimate"), "not for a rollback");
    });

    it("a rollback with dest declared lost: each of its steps is forgotten without its undo, and the box says what that gives up", () => {
        const review = input("rollback-to-warm-sync");
        const { dest } = machinesOf(review);
        review.config["pryv-core-migration:destLost"] = { value: "true", secret: false };
        let forgotten = 0;
        for (const { op, oldState } of review.preview.steps ?? [])
            if (op === "delete" && oldState !== undefined && String(oldState.inputs?.delete ?? oldState.inputs?.create).startsWith("# machine: dest ")) {
                oldState.retainOnDelete = true;
                forgotten++;
            }
        const document = render(review);
        assert.equal(
            document[4],
            "- Users: a 503 window until source serves again; what users wrote on dest since the cutover stays there (dest is declared lost)",
        );
        assert.equal(document[5], `- Given up for good: ${forgotten} steps leave the stack without running their undo (dest is declared lost)`);
        assert.ok(document.includes(`- ${dest.heading}, \`pryv-cutover-dest-back\`: forgotten without running its undo (machine declared lost)`));
        assert.ok(document.includes("Runs nothing on the machine: the stack forgets the step (its machine was declared lost), its undo does not run."));
        assert.ok(document.includes(`  - ${dest.heading}: no service stops or starts`));
    });

    it("names every step's machine from its commands when the connections are secret (the command executor)", () => {
        const review = input("cutover");
        const document = render(review);
        for (const candidate of review.preview.steps ?? [])
            for (const state of [candidate.oldState, candidate.newState]) if (state?.inputs?.connection !== undefined) state.inputs.connection = secretValue;
        assert.deepEqual(render(review), document);
    });

    it("says where the preview knows neither a step's machine nor its commands", () => {
        const review = input("cutover");
        const unknown = step(review, "pryv-cutover-start-dest");
        unknown.newState!.inputs = { ...unknown.newState!.inputs, connection: secretValue, create: unknownValue, update: unknownValue, delete: undefined };
        const document = render(review);
        const at = document.indexOf(`## ${machineNotShown}`);
        assert.ok(at !== -1 && document[at + 2] === "### create: `pryv-cutover-start-dest`", document.join("\n"));
        assert.ok(document.includes(`  - ${machineNotShown}: no service stops or starts`));
    });

    it("never prints a secret, even where the engine did not mask it: the operator key in a connection or in the config", () => {
        const review = input("cutover");
        for (const candidate of review.preview.steps ?? []) {
            const connection = candidate.newState?.inputs?.connection;
            if (typeof connection === "object") connection.privateKey = "-----BEGIN OPENSSH PRIVATE KEY----- operator";
        }
        review.config["pryv-core-migration:operatorPrivateKey"] = { value: "-----BEGIN OPENSSH PRIVATE KEY----- config", secret: true };
        const document = renderReview(review);
        for (const leak of ["PRIVATE KEY", "privateKey", "[secret]"]) assert.ok(!document.includes(leak), leak);
    });

    it("says why a replaced step runs again", () => {
        const review = input("cutover");
        const stop = step(review, "pryv-cutover-stop-source");
        stop.op = "replace";
        stop.oldState = { ...stop.newState!, inputs: { ...stop.newState!.inputs, triggers: [1] } };
        stop.newState = { ...stop.newState!, inputs: { ...stop.newState!.inputs, triggers: [2] } };
        assertBlock(render(review), ["### replace: `pryv-cutover-stop-source`", "", "Runs again because `triggers` changed: `[1]` -> `[2]`"]);
    });

    it("says when a file's content is not known yet or secret instead of diffing the placeholder, and fences a fence with a longer one", () => {
        const review = input("cutover");
        const siteFile = `${machinesOf(review).source.confRoot}/core/nginx/conf/site-443.conf`;
        const file = step(review, "pryv-source-proxy-site-file");
        file.newState!.inputs!.stdin = unknownValue;
        assert.ok(render(review).includes(`File \`${siteFile}\` changes; the content is known only once the steps before it have run.`));
        file.newState!.inputs!.stdin = secretValue;
        assert.ok(render(review).includes(`File \`${siteFile}\` changes; the content is secret, not shown.`));
        file.newState!.inputs!.stdin = "```\n";
        assert.ok(render(review).includes("````diff"));
    });

    it("says that an update of the undo script alone runs nothing, and shows the script's change", () => {
        const review = input("dns");
        const dnsJson = step(review, "pryv-register-dns-reg-master-dns-json");
        const reg = machinesOf(review)["reg-master"];
        const machine = { role: "reg-master", user: "root", host: reg.ip, port: 22 };
        dnsJson.newState!.inputs!.stdin = dnsJson.oldState!.inputs!.stdin;
        dnsJson.newState!.inputs!.create = dnsJson.oldState!.inputs!.create;
        dnsJson.oldState!.inputs!.delete = wrapForBash("# Restarts the DNS.\nservice dns restart", machine);
        dnsJson.newState!.inputs!.delete = wrapForBash("# Restarts the DNS.\nsystemctl restart dns", machine);
        assertBlock(render(review), [
            "Runs nothing on the machine: only what the stack records for this step changes.",
            "",
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

    it("names each machine as its steps' commands do, whatever the config at hand says, and reads the stack name from the URNs", () => {
        const review = input("dns");
        const reg = machinesOf(review)["reg-master"];
        assert.ok(renderReview({ ...review, config: {} }).includes(`\n## ${reg.heading}\n`), "without the config");
        assert.ok(renderReview({ ...review, config: { "pryv-core-migration:registers": { value: "[]" } } }).includes(`\n## ${reg.heading}\n`));
        assert.equal(stackNameFromPreview(review.preview), "operator");
    });
});
