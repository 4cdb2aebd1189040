import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Phase, phases } from "../../config";
import { MigrationStatus } from "../../components/migrationOutputs";
import { ConfigEntry, PreviewJson, renderReview } from "../../review/reviewDocument";
import { machineNotShown } from "../../review/machines";
import { ResourceState, secretValue, unknownValue } from "../../review/previewJson";
import { startTestHosts, TestHost, TestHosts } from "../../testbed";
import { site443 } from "../../testbed/nginx-conf";
import { RunResult } from "../../testbed/shell";
import { authorizedKeys } from "../../testbed/migration/observe";
import { OperatorProject, openOperatorProject, resourceBlock } from "./operatorProject";
import { updateOrCompareFixture } from "../../testing/reviewFixtures";
import { realDataFolders, realStackConfig } from "../../testbed/migration/realStackConfig";

const stack = "operator";

/** One entry of `pulumi stack history --json` (engine 3.259.0), the fields checked here. */
interface HistoryEntry {
    kind: string;
    result: string;
    message?: string;
    config?: Record<string, { value?: unknown; secret?: boolean }>;
}

/** The change ticket an operator names in each update's message: the audit trail reads phase and ticket. */
const ticket = (index: number): string => `OPS-${100 + index}`;

/** `pulumi stack output --json` after the cutover, the fields checked here. */
interface CutoverOutputs {
    phase: string;
    steps: unknown;
    outage: { seconds: number };
}

/** Warnings the engine prints about our setup (a plugin taken from $PATH) and SDK errors resolving outputs. */
function assertNoWarning(what: string, result: RunResult): void {
    const text = `${result.stdout}\n${result.stderr}`;
    const flagged = text.split("\n").filter((line) => /warning:|Unable to set/i.test(line));
    assert.deepEqual(flagged, [], `${what} printed warnings`);
}

/** The preview as the `command` executor's steps show it: `@pulumi/command` keeps each step's whole connection secret. */
function withConnectionsMasked(preview: PreviewJson): PreviewJson {
    const masked = (state: ResourceState | undefined): ResourceState | undefined =>
        state?.inputs?.connection === undefined ? state : { ...state, inputs: { ...state.inputs, connection: secretValue } };
    return { ...preview, steps: preview.steps?.map((step) => ({ ...step, oldState: masked(step.oldState), newState: masked(step.newState) })) };
}

/**
 * A review's content whatever the order of the steps: two previews list steps that do not
 * depend on each other in any order. Each step's section and each line between them, with
 * the heading of the machine it is under.
 */
function inAnyOrder(review: string): string[] {
    return review
        .split(/\n(?=## )/)
        .flatMap((section) => {
            const [head, ...steps] = section.split(/\n(?=### )/);
            const heading = head.split("\n")[0];
            return [...head.split("\n"), ...steps].map((part) => `${heading} | ${part}`);
        })
        .sort();
}

/** Each line starts one line of the review's opening box (the lines before its first section). */
function assertAtAGlance(review: string, starts: string[]): void {
    const box = review.split("\n## ")[0].split("\n");
    for (const start of starts)
        assert.ok(
            box.some((line) => line.startsWith(start)),
            `the review's opening has no line starting ${JSON.stringify(start)}:\n${box.join("\n")}`,
        );
}

/** Lines of the engine's diff, without its indentation, for exact comparison. */
const diffLines = (block: string): string[] => block.split("\n").map((line) => line.trim());

/** The review's `## <heading>` section, up to the next one. */
function reviewSection(review: string, headingStart: string): string {
    const sections = review.split(/\n(?=## )/);
    const found = sections.find((section) => section.startsWith(`## ${headingStart}`));
    assert.ok(found !== undefined, `no section "## ${headingStart}" in the review:\n${review}`);
    return found;
}

/**
 * The operator's path, end to end: the real `pulumi` CLI runs index.ts through the Node
 * language host (not the Automation API's inline program) against the four docker test hosts,
 * from a stack file as an operator writes it. Every phase forward and back, each with the
 * `pulumi preview --diff` a reviewer reads before `pulumi up`. Each `it` builds on the one before.
 */
describe("the operator's path: the pulumi CLI on index.ts (test hosts)", function () {
    this.timeout(180_000);
    let hosts: TestHosts;
    let project: OperatorProject;
    let source: TestHost;
    let dest: TestHost;
    const registerNames = ["reg-master", "reg-slave"] as const;
    /** Every phase `pulumi up` has run, in order: what the history must show. */
    const phasesRun: Phase[] = [];
    const log: string[] = [];

    const cli = async (args: string[], input?: string): Promise<RunResult> => {
        const result = await project.pulumi(args, input);
        log.push(`$ pulumi ${args.join(" ")}\n${result.stdout}\n${result.stderr}`);
        // The engine's own account of what failed, not the outputs printed after it.
        const diagnostics = /Diagnostics:\n([\s\S]*?)\n(?:Outputs:|Resources:)/.exec(result.stdout)?.[1];
        assert.equal(result.code, 0, `pulumi ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}\n${diagnostics ?? result.stdout.slice(-4000)}`);
        return result;
    };
    const cliJson = async <T>(args: string[]): Promise<T> => JSON.parse((await cli(args)).stdout) as T;

    /** As on a real migration: edit `phase` in the stack file, read the preview, then `pulumi up`. */
    /**
     * As docs/operator-guide.md has it: the preview saves its plan, `pulumi up --plan` runs
     * that plan and nothing else, with the phase and the change's ticket as its message.
     */
    const runPhase = async (phase: Phase, reviewPreview = false): Promise<{ preview: string; review?: string }> => {
        project.setConfig({ phase });
        const plan = path.join(project.dir, `plan-${phasesRun.length}-${phase}.json`);
        const preview = await cli(["preview", "--diff", "--color", "never", "--save-plan", plan]);
        assertNoWarning(`preview of ${phase}`, preview);
        const last = phasesRun.at(-1);
        const fixture = last !== undefined && phases.indexOf(phase) < phases.indexOf(last) ? `rollback-to-${phase}` : phase;
        const review = reviewPreview ? await renderedReview(fixture) : undefined;
        const up = await cli(["up", "--plan", plan, "--yes", "--skip-preview", "--color", "never", "-m", `${phase}: ${ticket(phasesRun.length)}`]);
        assertNoWarning(`up to ${phase}`, up);
        phasesRun.push(phase);
        return { preview: preview.stdout, review };
    };

    /**
     * What `npm run review` prints, run as wired (no test harness), for the stack file as it
     * stands; and the same review rendered from `pulumi preview --json` with every step's
     * connection masked, as the `command` executor's are: it must name the same machines.
     */
    const renderedReview = async (fixture: string): Promise<string> => {
        const reviewed = await project.review();
        log.push(`$ npm run review\n${reviewed.stdout}\n${reviewed.stderr}`);
        assert.equal(reviewed.code, 0, `npm run review exited ${reviewed.code}: ${reviewed.stderr}`);
        const preview = await cliJson<PreviewJson>(["preview", "--json"]);
        assert.deepEqual(
            (preview.diagnostics ?? []).filter((diagnostic) => diagnostic.severity !== "info"),
            [],
            "pulumi preview --json reported diagnostics",
        );
        const config = await cliJson<Record<string, ConfigEntry>>(["config", "--json"]);
        const outputs = await cliJson<Record<string, unknown>>(["stack", "output", "--json"]);
        // The review's unit tests read this program's previews: the ones stored must still be what it previews.
        const stale = updateOrCompareFixture(fixture, { stack, preview, config, outputs });
        assert.deepEqual(
            stale,
            [],
            `review/fixtures/program/${fixture}.json is stale: run PRYV_UPDATE_REVIEW_FIXTURES=1 bash scripts/with-engine.sh mocha tests/integration/operatorCli.test.ts`,
        );
        const masked = renderReview({ stack, preview: withConnectionsMasked(preview), config, outputs });
        const headings = reviewed.stdout.split("\n").filter((line) => line.startsWith("## "));
        const machines = [source, dest, ...registerNames.map((name) => hosts.hosts[name])];
        // Each machine's role in the stack is its test host's name.
        const expected = new Set(machines.map((host) => `## ${host.name} (${host.ip}:${host.sshPort})`));
        const unknown = headings.filter((heading) => !expected.has(heading) && !/^## (Downtime estimate|If rolled back)$/.test(heading));
        assert.deepEqual(unknown, [], `steps under no machine of the stack:\n${reviewed.stdout}`);
        // Masked, a step's machine is not shown only where the preview knows none of its commands yet.
        const notShown = (masked.split(/\n(?=## )/).find((section) => section.startsWith(`## ${machineNotShown}`)) ?? "")
            .split("\n")
            .map((line) => /^### \S+: `(.+)`$/.exec(line)?.[1])
            .filter((name): name is string => name !== undefined);
        const commandsUnknown = (preview.steps ?? [])
            .filter((step) =>
                [step.newState, step.oldState].every((state) =>
                    ["create", "update", "delete"].every((key) => [undefined, unknownValue].includes(state?.inputs?.[key] as string)),
                ),
            )
            .map((step) => step.urn.slice(step.urn.lastIndexOf("::") + 2));
        assert.deepEqual(
            notShown.filter((name) => !commandsUnknown.includes(name)),
            [],
            "steps whose commands are known, without their machine",
        );
        // Everything else reads the same, connections masked or not (the opening box lists the machine not shown as one).
        const aboutOthers = (review: string) =>
            inAnyOrder(review).filter((entry) => !entry.includes(machineNotShown) && !notShown.some((name) => entry.includes(`\`${name}\``)));
        assert.deepEqual(aboutOthers(masked), aboutOthers(reviewed.stdout), "the review with connections masked differs from npm run review's");
        return reviewed.stdout;
    };

    const originalUpstream = () => {
        const line = site443(hosts.domain, source.confRoot)
            .split("\n")
            .find((candidate) => candidate.includes("server core:3000"));
        assert.ok(line !== undefined, "the fixture's site-443.conf has no core:3000 upstream");
        return line;
    };
    const proxiedUpstream = () => `  server ${dest.ip}:443;`;
    const keyMarkers = (host: TestHost) =>
        authorizedKeys(host)
            .split("\n")
            .filter((line) => line.includes(`pryv-migration:${stack}:`)).length;

    before(async function () {
        // Other runs on this machine may hold the test hosts for a while (testbed/lock.ts).
        this.timeout(1_800_000);
        // The copy first: after() removes it even if waiting for the hosts times out.
        project = openOperatorProject(stack);
        const version = await cli(["version"]);
        assert.equal(version.stdout.trim(), "v3.259.0", "run `source scripts/env.sh` first: the engine it builds is not on PATH");
        await cli(["stack", "init"]);
        hosts = await startTestHosts({ hosts: ["source", "dest", ...registerNames], engine: "docker", sampleSizeMiB: 8 });
        ({ source, dest } = hosts.hosts);
        // Plus the keys Pulumi.dest.yaml shows with their defaults: top-level numbers and
        // booleans reach the program as text under the CLI, and must be read as such.
        const exampleDefaults = { warmSyncRound: 1, sync: { compress: "none", maxDeletions: 1000 }, freshDestMaxFiles: 500, destLost: false };
        project.setConfig({ phase: "prepare", ...realStackConfig(hosts), ...exampleDefaults });
        await cli(["config", "set", "--secret", "operatorPrivateKey"], hosts.operatorPrivateKey);
    });

    after(async () => {
        try {
            project?.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed") console.log(log.join("\n").split("\n").slice(-120).join("\n"));
        log.length = 0;
    });

    it("the stack file: structured values as YAML, the operator key only encrypted", () => {
        const stackFile = fs.readFileSync(project.stackFile, "utf8");
        assert.match(stackFile, /pryv-core-migration:source:\n {4}host: 10\.213\.7\.11\n/);
        // `pulumi config set` rewrites the file: maps stay maps, top-level scalars become strings ("500").
        assert.match(stackFile, /pryv-core-migration:sync:\n {4}compress: none\n {4}maxDeletions: 1000\n/);
        assert.match(stackFile, /pryv-core-migration:operatorPrivateKey:\n {4}secure: v1:/);
        assert.equal(stackFile.includes(hosts.operatorPrivateKey.split("\n")[1]), false);
    });

    it("prepare: preview and up from the stack file", async () => {
        const { preview } = await runPhase("prepare", true);
        assert.match(preview, /\+ pulumi-nodejs:dynamic\/pryv-migration:OpensshCommand: \(create\)/);
        assert.equal(keyMarkers(source), realDataFolders.length);
    });

    it("warm-sync", async () => {
        await runPhase("warm-sync");
    });

    it("cutover: the preview shows site-443.conf's line diff; outputs keyed by machine and step, outage measured", async () => {
        const { preview, review } = await runPhase("cutover", true);
        const lines = diffLines(resourceBlock(preview, "-site-file"));
        assert.ok(lines.includes("~ stdin     :"), "the site file's stdin is not what changes");
        assert.ok(lines.includes(`- ${originalUpstream()}`), `no removed ${originalUpstream().trim()}`);
        assert.ok(lines.includes(`+ ${proxiedUpstream()}`), `no added ${proxiedUpstream().trim()}`);
        assert.ok(lines.includes("-     proxy_pass http://websocket_server;"));
        assert.ok(lines.includes("+     proxy_pass https://websocket_server;"));

        assert.ok(review !== undefined);
        // The opening box, read from this program's own steps: the window users feel, what stops and starts where.
        assertAtAGlance(review, [
            "- Phase: `warm-sync` -> `cutover`, forward",
            "- Users: a 503 window (with Retry-After) from source's stop until dest serves, about ",
            `  - source (${source.ip}:22): stops every service, then starts nginx alone`,
            // each final round and dest's description before the stop
            `  - dest (${dest.ip}:22): stops every service here (${realDataFolders.length + 1} steps); starts the core`,
        ]);
        const sourceSection = reviewSection(review, "source (");
        assert.ok(sourceSection.includes(`\n-${originalUpstream()}\n`), `review: no removed upstream line in\n${sourceSection}`);
        assert.ok(sourceSection.includes(`\n+${proxiedUpstream()}\n`), `review: no added upstream line in\n${sourceSection}`);
        reviewSection(review, "If rolled back");

        const outputs = await cliJson<CutoverOutputs>(["stack", "output", "--json"]);
        assert.equal(outputs.phase, "cutover");
        assert.ok(typeof outputs.steps === "object" && outputs.steps !== null && !Array.isArray(outputs.steps), JSON.stringify(outputs.steps));
        const steps = outputs.steps as Record<string, unknown>;
        assert.deepEqual(Object.keys(steps).sort(), ["dest", "reg-master", "reg-slave", "source"]);
        for (const [machine, byStep] of Object.entries(steps)) {
            assert.ok(typeof byStep === "object" && byStep !== null && !Array.isArray(byStep), `${machine}: ${JSON.stringify(byStep)}`);
            for (const [name, does] of Object.entries(byStep)) {
                assert.match(name, /^pryv-[a-z0-9-]+$/, `${machine}: a step keyed ${name}`);
                assert.equal(typeof does, "string", `${machine}.${name}`);
            }
        }
        assert.ok("pryv-source-proxy-site-file" in (steps.source as object));
        assert.ok("pryv-cutover-start-dest" in (steps.dest as object));
        assert.ok(outputs.outage.seconds > 0, JSON.stringify(outputs.outage));

        // What an operator's script reads: where the migration stands.
        const status = await cliJson<MigrationStatus>(["stack", "output", "status", "--json"]);
        assert.deepEqual(
            [status.phase, status.serving, status.registersName, status.changeJournal, status.outageSeconds],
            ["cutover", "dest, through source's nginx (the registers still name source)", "source", { journal: true }, outputs.outage.seconds],
        );
        assert.equal(status.lastWarmRound?.round, 1);
        const warmEnded = Date.parse(status.lastWarmRound?.finishedAt ?? "");
        assert.ok(warmEnded > Date.now() - 600_000 && warmEnded < Date.now(), `the last warm round ended at ${status.lastWarmRound?.finishedAt}`);
    });

    it("dns: the preview shows each register's dns.json ip old => new", async () => {
        const { preview, review } = await runPhase("dns", true);
        assert.ok(review !== undefined);
        for (const name of registerNames) {
            // dns.json's content is secret in the state (the register's keys): its script says what changes.
            const block = resourceBlock(preview, `-${name}-dns-json`);
            const lines = diffLines(block);
            const change = `# dns.staticDataInDomain.${hosts.subdomain}.ip: "${source.ip}" => "${dest.ip}"; every other value as read`;
            assert.ok(
                lines.some((line) => line.startsWith(`+ ${change}`)),
                `${name}: no ip change in\n${lines.join("\n")}`,
            );
            assert.doesNotMatch(block, /fixture-admin-key|fixture-redis-password/);
            const section = reviewSection(review, `${name} (`);
            assert.ok(section.includes(`- \`dns.staticDataInDomain.${hosts.subdomain}.ip: "${source.ip}" -> "${dest.ip}"\``), `review of ${name}:\n${section}`);
        }
        reviewSection(review, "If rolled back");
    });

    it("finalize", async () => {
        await runPhase("finalize");
        assert.equal(keyMarkers(source), 0);
    });

    it("rollback to dns", async () => {
        await runPhase("dns");
        assert.equal(keyMarkers(source), realDataFolders.length);
    });

    it("rollback to cutover: the preview shows each register's ip going back", async () => {
        const { preview } = await runPhase("cutover");
        for (const name of registerNames) {
            const lines = diffLines(resourceBlock(preview, `-${name}-dns-json`));
            const change = `# dns.staticDataInDomain.${hosts.subdomain}.ip: "${source.ip}" => "${dest.ip}"; every other value as read`;
            assert.ok(
                lines.some((line) => line.startsWith(`- ${change}`)),
                `${name}: no ip change back in\n${lines.join("\n")}`,
            );
        }
    });

    it("rollback to warm-sync: the preview shows site-443.conf's diff reversed", async () => {
        const { preview, review } = await runPhase("warm-sync", true);
        const lines = diffLines(resourceBlock(preview, "-site-file"));
        assert.ok(lines.includes(`+ ${originalUpstream()}`), `no original upstream back`);
        assert.ok(lines.includes(`- ${proxiedUpstream()}`), `no proxied upstream removed`);

        assert.ok(review !== undefined);
        assert.match(review, /\nThis preview deletes \d+ steps: it rolls back\./);
        assertAtAGlance(review, [
            "- Phase: `cutover` -> `warm-sync`, a rollback",
            "- Users: a 503 window while dest stops, its data is carried back to source and source restarts; what users wrote on dest comes back with it",
            `  - source (${source.ip}:22): `,
        ]);
        assert.match(review, /\n {2}- source \([^)]*\): [^\n]*restarts every service, if the cutover had stopped them/);
        assert.match(review, /\n {2}- dest \([^)]*\): [^\n]*stops every service/);
        const sourceSection = reviewSection(review, "source (");
        assert.ok(sourceSection.includes(`\n+${originalUpstream()}\n`), `review: no original upstream back in\n${sourceSection}`);
        assert.ok(sourceSection.includes(`\n-${proxiedUpstream()}\n`), `review: no proxied upstream removed in\n${sourceSection}`);
        reviewSection(review, "If rolled back");
    });

    it("rollback to prepare, destroy: every update in the history, the keys gone, nothing left in the repository", async () => {
        await runPhase("prepare");
        const destroy = await cli(["destroy", "--yes", "--color", "never"]);
        assertNoWarning("destroy", destroy);
        for (const host of [source, dest]) assert.equal(keyMarkers(host), 0, host.name);

        const history = await cliJson<HistoryEntry[]>(["stack", "history", "--json"]);
        assert.deepEqual(
            history.map((entry) => [entry.kind, entry.result]),
            [["destroy", "succeeded"], ...phasesRun.map(() => ["update", "succeeded"])],
        );
        // Newest first: each update's stack config names the phase it ran.
        const phases = history
            .filter((entry) => entry.kind === "update")
            .map((entry) => entry.config?.["pryv-core-migration:phase"]?.value)
            .reverse();
        assert.deepEqual(phases, phasesRun);
        assert.deepEqual(
            history
                .filter((entry) => entry.kind === "update")
                .map((entry) => entry.message)
                .reverse(),
            phasesRun.map((phase, index) => `${phase}: ${ticket(index)}`),
        );

        const repository = path.resolve(__dirname, "..", "..");
        assert.deepEqual(
            fs.readdirSync(repository).filter((name) => name.startsWith(`Pulumi.${stack}.`)),
            [],
        );
    });
});
