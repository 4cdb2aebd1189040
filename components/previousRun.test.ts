import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { defaultDataFolders, phases } from "../config";
import {
    checkAgainstPreviousRun,
    dataFoldersChangeProblems,
    deferredRoundNotice,
    destMayHoldWrites,
    phaseChangeProblems,
    previousRunFromOutputs,
    destStepsFrozen,
} from "./previousRun";

const header = "Invalid stack config for pryv-core-migration:\n";

describe("previous run", () => {
    it("reads phase, warmSyncRound and dataFolders from the stack's outputs; a value of another shape counts as none", () => {
        assert.deepEqual(previousRunFromOutputs({ phase: "cutover", warmSyncRound: 2, dataFolders: ["core/core/data"], other: 1 }), {
            phase: "cutover",
            warmSyncRound: 2,
            dataFolders: ["core/core/data"],
        });
        assert.deepEqual(previousRunFromOutputs({ phase: "proxy", warmSyncRound: "2", dataFolders: [1] }), {
            phase: undefined,
            warmSyncRound: undefined,
            dataFolders: undefined,
        });
        assert.deepEqual(previousRunFromOutputs({}), { phase: undefined, warmSyncRound: undefined, dataFolders: undefined });
    });

    describe("dest may hold users' writes", () => {
        it("once a run reached the cutover, until a run before it completed", () => {
            assert.deepEqual(
                phases.filter((phase) => destMayHoldWrites({ phase })),
                ["cutover", "dns", "finalize"],
            );
            assert.equal(destMayHoldWrites({}), false);
        });

        it("freezes what stops or overwrites dest from the cutover on, and on the way back from it whatever phase is asked for", () => {
            for (const phase of phases) {
                assert.equal(destStepsFrozen({ phase: "warm-sync" }, phase), phase === "cutover" || phase === "dns" || phase === "finalize", phase);
                assert.equal(destStepsFrozen({ phase: "cutover" }, phase), true, phase);
                assert.equal(destStepsFrozen({ phase: "dns" }, phase), true, phase);
            }
            assert.equal(destStepsFrozen({}, "warm-sync"), false);
        });
    });

    describe("a warmSyncRound changed together with a rollback", () => {
        it("is deferred to the next up, and the operator is told so", () => {
            assert.equal(
                deferredRoundNotice({ phase: "cutover", warmSyncRound: 2 }, "warm-sync", 1),
                "warmSyncRound: 1 is recorded, but no warm round runs in this update: dest may hold users' writes since the cutover (last run at phase cutover, round 2), and this rollback carries them back to source first. Round 1 runs at the next pulumi up.",
            );
        });

        it("says nothing when the round did not change, at the cutover, or before any cutover", () => {
            assert.equal(deferredRoundNotice({ phase: "cutover", warmSyncRound: 2 }, "warm-sync", 2), undefined);
            assert.equal(deferredRoundNotice({ phase: "cutover", warmSyncRound: 2 }, "cutover", 3), undefined);
            assert.equal(deferredRoundNotice({ phase: "warm-sync", warmSyncRound: 2 }, "warm-sync", 3), undefined);
        });
    });

    describe("phase change", () => {
        const problem = (phase: string) =>
            `phase: expected dns or finalize after a run at finalize (a finished migration is protected; rolling back goes through dns, which lifts the protection); got "${phase}": set phase to dns first`;

        it("from finalize, goes back through dns only", () => {
            assert.deepEqual(
                phases.filter((phase) => phaseChangeProblems("finalize", phase).length === 0),
                ["dns", "finalize"],
            );
            assert.deepEqual(phaseChangeProblems("finalize", "warm-sync"), [problem("warm-sync")]);
        });

        it("from any other phase, or a new stack, allows every phase", () => {
            for (const previous of [undefined, ...phases.filter((phase) => phase !== "finalize")]) {
                assert.ok(
                    phases.every((phase) => phaseChangeProblems(previous, phase).length === 0),
                    String(previous),
                );
            }
        });
    });

    describe("data folders changed", () => {
        const folders = ["core/core/data", "core/mongodb/data"];

        it("are refused while dest may hold writes, naming the folders as they were", () => {
            assert.deepEqual(dataFoldersChangeProblems({ phase: "cutover", dataFolders: folders }, [...folders, "core/hfs/data"]), [
                `dataFolders: expected ["core/core/data","core/mongodb/data"], as at the stack's last run (phase cutover), until a rollback has carried dest's data back to source; got ["core/core/data","core/mongodb/data","core/hfs/data"]: a folder added now would get a warm round over the dest that serves, a folder removed would not be carried back`,
            ]);
            assert.equal(dataFoldersChangeProblems({ phase: "dns", dataFolders: folders }, folders.slice(1)).length, 1);
        });

        it("are accepted before any cutover, after a completed rollback, unchanged, or when the last run did not say", () => {
            assert.deepEqual(dataFoldersChangeProblems({ phase: "warm-sync", dataFolders: folders }, defaultDataFolders), []);
            assert.deepEqual(dataFoldersChangeProblems({ phase: "cutover", dataFolders: folders }, [...folders]), []);
            assert.deepEqual(dataFoldersChangeProblems({ phase: "cutover" }, defaultDataFolders), []);
        });
    });

    it("refuses with one ResourceError listing every problem, before anything runs", () => {
        assert.throws(
            () => checkAgainstPreviousRun({ phase: "finalize", dataFolders: ["a"] }, { phase: "cutover", dataFolders: ["b"] }),
            (error: unknown) =>
                error instanceof pulumi.ResourceError &&
                error.message.startsWith(`${header}  phase: expected dns or finalize`) &&
                error.message.includes(`\n  dataFolders: expected ["a"]`),
        );
        assert.doesNotThrow(() => checkAgainstPreviousRun({}, { phase: "cutover", dataFolders: ["b"] }));
    });
});
