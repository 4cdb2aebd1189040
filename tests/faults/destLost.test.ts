import { strict as assert } from "assert";
import * as fs from "fs";
import { TestHost, TestHosts } from "../../testbed";
import { stopServices, stopSshd } from "../../testbed/faults";
import { site443 } from "../../testbed/nginx-conf";
import { commandCounts, holdsEvent, servedBy, writeEvent } from "../../testbed/migration/observe";
import { diagnostics, FaultStack, openFaultStack } from "./engine";
import { databaseFolders, databaseRuns, eventsMissing, intactProblems, manifests, mark, Mark, quietFolders, siteFile, startFaultHosts } from "./view";

const migrationId = "faults";

/**
 * dest gone for good after the cutover (its sshd and its services gone): the way back
 * documented in the README is `destLost: true` while the phase is still cutover (an up
 * that only rewrites the undos that would need dest, running nothing), then
 * `phase: warm-sync` with `destLost: true`: source serves again from its own data, and
 * what dest took since the cutover is given up.
 */
describe("dest lost for good after the cutover (real engine, test hosts)", function () {
    this.timeout(300_000);
    let hosts: TestHosts;
    let source: TestHost;
    let dest: TestHost;
    let migration: FaultStack;
    let beforeCutover: Mark;
    let sourceAtCutover: Record<string, string>;
    let sourceDatabasesAtCutover: Record<string, string>;
    let destCommands: number;
    const givenUp = { user: "bob", id: "written-on-dest-after-the-cutover" };

    before(async () => {
        hosts = await startFaultHosts(["source", "dest"]);
        ({ source, dest } = hosts.hosts);
        migration = await openFaultStack(hosts, migrationId);
        await migration.up("prepare");
        await migration.up("warm-sync");
        beforeCutover = await mark(hosts, "before-the-cutover");
        await migration.up("cutover");
        // source is stopped from here on: its folders as the cutover left them are what it must serve again.
        sourceAtCutover = await manifests(source, quietFolders);
        sourceDatabasesAtCutover = await manifests(source, databaseFolders);
        await writeEvent(hosts, source, givenUp.user, givenUp.id);
        assert.ok(await holdsEvent(dest, givenUp.user, givenUp.id));
        await stopServices(dest);
        await stopSshd(dest);
        destCommands = dest.commandCount();
    });

    after(async () => {
        try {
            if (migration !== undefined) await migration.remove();
        } finally {
            if (hosts !== undefined) await hosts.stop();
        }
    });

    it("destLost: true while the phase is still cutover: the preview shows what is given up; the up marks dest's steps and the carry-backs to leave the stack, and runs nothing on dest", async () => {
        const preview = await migration.preview("cutover", { destLost: true }).catch((error: Error) => {
            console.log(diagnostics(error));
            throw error;
        });
        assert.match(
            preview.stdout,
            /dest was declared lost \(destLost\): its steps leave the stack without running anything there, nothing is carried back from it/,
        );
        // Nothing else changes: no step runs again, none is replaced or deleted.
        assert.deepEqual(
            preview.steps.filter((step) => step.urn.includes("OpensshCommand")).map((step) => `${step.op} ${step.name}`),
            ["create pryv-dest-lost"],
        );
        const before = commandCounts(hosts);
        const result = await migration.up("cutover", { destLost: true });
        assert.equal(result.summary.result, "succeeded");
        assert.equal(dest.commandCount(), destCommands);
        const onSource = source.commands().slice(before[0]);
        assert.equal(onSource.length, 1, onSource.join("\n"));
        assert.match(onSource[0], /echo 'dest declared lost'/);
        // The engine's record: every step on dest and every carry-back leaves the stack without its undo running.
        const retained = migration
            .resources()
            .filter((resource) => resource.retainOnDelete === true)
            .map((resource) => resource.name);
        const expected = [...quietFolders, ...databaseFolders].map((folder) => `pryv-cutover-carry-back-${folder.replace(/\//g, "-")}`);
        for (const name of [...expected, "pryv-cutover-dest-back", "pryv-cutover-start-dest", "pryv-pull-key-keypair", "pryv-carry-back-key-grant"]) {
            assert.ok(retained.includes(name), `${name} is not marked retainOnDelete: ${retained.join(", ")}`);
        }
    });

    it("then phase warm-sync with destLost: source serves again from its own data, dest's writes since the cutover given up, no command on dest", async () => {
        // Nothing touched source's stopped databases while dest was lost: the rollback starts them on the files the cutover left, whole.
        assert.deepEqual(await manifests(source, databaseFolders), sourceDatabasesAtCutover);
        assert.deepEqual(await intactProblems(source, "stopped since the cutover"), []);
        // What the reviewer of the rollback reads: each resource's operation as the preview (--diff) heads it.
        const preview = await migration.preview("warm-sync", { destLost: true });
        const lines = preview.stdout.split("\n");
        const operations = new Map(
            lines.flatMap((line, index) => {
                const op = /OpensshCommand: \(([^)]+)\)$/.exec(line.trim())?.[1];
                const urn = lines.slice(index + 1, index + 4).find((next) => next.includes("[urn="));
                return op === undefined || urn === undefined ? [] : [[urn.trim().replace(/^.*::/, "").replace(/\]$/, ""), op] as const];
            }),
        );
        const givenUpSteps = [...quietFolders, ...databaseFolders]
            .map((folder) => `pryv-cutover-carry-back-${folder.replace(/\//g, "-")}`)
            .concat("pryv-cutover-dest-back");
        console.log(givenUpSteps.map((name) => `      | ${name}: ${operations.get(name) ?? "(not in the preview)"}`).join("\n"));
        for (const name of givenUpSteps) assert.equal(operations.get(name), "delete[retain]", name);
        await migration.up("warm-sync", { destLost: true }).catch((error: Error) => {
            console.log(diagnostics(error));
            throw error;
        });
        assert.equal(await servedBy(hosts, source), "source");
        assert.equal(await databaseRuns(source), true);
        assert.deepEqual(await manifests(source, quietFolders), sourceAtCutover);
        assert.deepEqual(await eventsMissing(source, beforeCutover), []);
        assert.equal(await holdsEvent(source, givenUp.user, givenUp.id), false);
        assert.equal(fs.readFileSync(siteFile(source), "utf8"), site443(hosts.domain, source.confRoot));
        assert.equal(dest.commandCount(), destCommands);
    });
});
