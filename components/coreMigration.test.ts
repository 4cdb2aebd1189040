import { strict as assert } from "assert";
import { defaultDataFolders, folderKey, Phase, phaseReached, phases } from "../config";
import { CoreMigration } from "./coreMigration";
import { describeScript } from "../machinery/remoteStep";
import { build, childrenOf, executors, fakeMachines, hostOf, promiseOf, Recorded, scriptOf, stepType, testConfig } from "../testing";

const registers = ["reg-master", "reg-slave"];
const keys = defaultDataFolders.map(folderKey);
const guardChecks = [
    "pryv-live-core-guard-source-tools",
    "pryv-live-core-guard-dest-tools",
    ...registers.map((role) => `pryv-live-core-guard-${role}-tools`),
    "pryv-live-core-guard-source-data",
    "pryv-live-core-guard-dest-ready",
    "pryv-live-core-guard-source-serves",
    "pryv-live-core-guard-dest-is-fresh",
    "pryv-live-core-guard-source-paths",
    "pryv-live-core-guard-dest-paths",
    ...registers.map((role) => `pryv-live-core-guard-${role}-names-source`),
];
const cutoverSteps = [
    "dest-description",
    "dest-taken-over",
    "changes-before-stop",
    "dest-room",
    "dest-reachable",
    ...keys.map((key) => `carry-back-${key}`),
    "dest-back",
    "stop-source",
    "source-description",
    ...keys.flatMap((key) => [`final-sync-${key}`, `verify-${key}`]),
    "dest-may-serve",
    "start-dest",
    "proxy-serving",
    ...keys.map((key) => `verify-content-${key}`),
].map((step) => `pryv-cutover-${step}`);

/** What each phase adds to the one before; `until` is the phase that takes it out of the stack again. */
const added: Record<Phase, { names: string[]; until?: Phase }[]> = {
    prepare: [
        { names: ["pryv", "pryv-live-core-guard", ...guardChecks] },
        { names: ["pryv-pull-key", "pryv-pull-key-keypair", "pryv-pull-key-grant"], until: "finalize" },
        { names: ["pryv-carry-back-key", "pryv-carry-back-key-keypair", "pryv-carry-back-key-grant"], until: "finalize" },
        { names: ["pryv-kept-aside"], until: "finalize" },
        { names: ["pryv-dest-check", "pryv-dest-check-services"] },
        { names: ["pryv-source-proxy", "pryv-source-proxy-original", "pryv-source-proxy-site-file"] },
        { names: ["pryv-register-dns", ...registers.flatMap((role) => [`pryv-register-dns-${role}-original`, `pryv-register-dns-${role}-dns-json`])] },
    ],
    "warm-sync": [{ names: ["pryv-warm-sync", "pryv-warm-sync-change-journal", ...keys.map((key) => `pryv-warm-sync-${key}`)] }],
    cutover: [{ names: ["pryv-source-proxy-source-back"] }, { names: ["pryv-cutover", ...cutoverSteps] }],
    dns: [{ names: registers.flatMap((role) => [`pryv-register-dns-${role}-back`, `pryv-register-dns-${role}-restart`]) }],
    finalize: [{ names: ["pryv-finalize", ...registers.map((role) => `pryv-finalize-${role}-answers`)] }],
};
const expectedNames = (phase: Phase): string[] =>
    phases
        .filter((earlier) => phaseReached(phase, earlier))
        .flatMap((earlier) => added[earlier])
        .filter(({ until }) => until === undefined || !phaseReached(phase, until))
        .flatMap(({ names }) => names)
        .sort();

/** The components under the root and what each waits for, by phase. */
const expectedComponents = (phase: Phase): [string, string[]][] => {
    const prepared = phaseReached(phase, "finalize") ? [] : ["pryv-pull-key", "pryv-carry-back-key", "pryv-kept-aside"];
    return [
        ["pryv-live-core-guard", []],
        ...prepared.map((name): [string, string[]] => [name, guardChecks]),
        ["pryv-dest-check", guardChecks],
        ...(phaseReached(phase, "warm-sync") ? [["pryv-warm-sync", [...prepared, "pryv-dest-check"]] as [string, string[]]] : []),
        ["pryv-source-proxy", []],
        ...(phaseReached(phase, "cutover") ? [["pryv-cutover", []] as [string, string[]]] : []),
        ["pryv-register-dns", []],
        ...(phaseReached(phase, "finalize") ? [["pryv-finalize", ["pryv-register-dns"]] as [string, string[]]] : []),
    ];
};

/** Outputs, in the order the program sets them; `from` is the phase that adds them, `until` the one that takes them away. */
const outputs: { names: string[]; from: Phase; until?: Phase }[] = [
    { names: ["phase", "warmSyncRound", "dataFolders", "destHealthySeconds", "keptAside"], from: "prepare" },
    { names: ["warmSync", "cutoverEstimate", "changeJournal"], from: "warm-sync" },
    { names: ["proxyFile", "proxyReplaces", "siteFileSha256"], from: "prepare" },
    {
        names: ["coldSync", "verifiedFolders", "destDescribed", "contentVerified", "coldSyncSeconds", "outage", "outageEstimate", "downtimeSeconds"],
        from: "cutover",
    },
    { names: ["dnsChangesPlanned"], from: "prepare", until: "dns" },
    { names: ["dnsChanges"], from: "dns" },
    { names: ["dnsAnswers"], from: "finalize" },
    { names: ["steps", "status"], from: "prepare" },
];
const outputsOf = (phase: Phase): string[] =>
    outputs.filter(({ from, until }) => phaseReached(phase, from) && (until === undefined || !phaseReached(phase, until))).flatMap(({ names }) => names);

const roleOfHost: Record<string, string> = { "10.0.0.11": "source", "dest.example.com": "dest", "10.0.0.13": "reg-master", "10.0.0.14": "reg-slave" };

const descendantsOf = (resources: Map<string, Recorded>, parent: string): Recorded[] =>
    childrenOf(resources, parent).flatMap((child) => [child, ...descendantsOf(resources, child.name)]);

for (const executor of executors) {
    describe(`CoreMigration phases (${executor} executor)`, () => {
        const built = new Map<Phase, ReturnType<typeof build<CoreMigration>>>();
        const make = (phase: Phase) => {
            if (!built.has(phase)) {
                const config = testConfig({ phase, executor });
                built.set(
                    phase,
                    build((opts) => new CoreMigration("pryv", config, opts), fakeMachines),
                );
            }
            return built.get(phase)!;
        };
        const stepsOf = (resources: Map<string, Recorded>) => [...resources.values()].filter((resource) => resource.type === stepType[executor]);

        for (const phase of phases) {
            describe(phase, () => {
                it("declares what every phase up to this one adds, less what a later phase took out", async () => {
                    const { resources } = await make(phase);
                    assert.deepEqual([...resources.keys()].sort(), expectedNames(phase));
                    assert.equal(resources.get("pryv")!.type, "pryv:migration:CoreMigration");
                    for (const step of stepsOf(resources))
                        assert.ok((step.parent !== undefined && step.parent !== "pryv") || step.name === "pryv-kept-aside", step.name);
                });

                it("declares each component after the phase before's", async () => {
                    const { resources } = await make(phase);
                    assert.deepEqual(
                        childrenOf(resources, "pryv").map((resource) => [resource.name, resource.dependsOn]),
                        expectedComponents(phase),
                    );
                    if (phaseReached(phase, "cutover")) {
                        assert.deepEqual(resources.get("pryv-source-proxy-source-back")!.dependsOn, ["pryv-warm-sync"]);
                        assert.deepEqual(resources.get("pryv-cutover-stop-source")!.dependsOn, [
                            "pryv-source-proxy-source-back",
                            "pryv-source-proxy-site-file",
                            "pryv-cutover-dest-room",
                            "pryv-cutover-dest-reachable",
                            "pryv-cutover-dest-back",
                        ]);
                        assert.deepEqual(resources.get("pryv-cutover-dest-taken-over")!.dependsOn, [
                            "pryv-source-proxy-source-back",
                            "pryv-source-proxy-site-file",
                            "pryv-cutover-dest-description",
                        ]);
                        for (const key of keys)
                            assert.deepEqual(
                                resources.get(`pryv-cutover-final-sync-${key}`)!.dependsOn,
                                ["pryv-cutover-stop-source", "pryv-cutover-dest-taken-over"],
                                key,
                            );
                    }
                    if (phaseReached(phase, "warm-sync")) {
                        for (const key of keys) assert.deepEqual(resources.get(`pryv-warm-sync-${key}`)!.dependsOn, ["pryv-warm-sync-change-journal"], key);
                    }
                    if (phaseReached(phase, "dns")) {
                        for (const role of registers) assert.deepEqual(resources.get(`pryv-register-dns-${role}-back`)!.dependsOn, ["pryv-cutover"], role);
                    }
                });

                it(
                    phase === "finalize"
                        ? "protects everything but the final checks: a destroy would take production back to source"
                        : "protects nothing yet: a rollback deletes what it undoes",
                    async () => {
                        const { resources } = await make(phase);
                        const finalChecks = new Set(["pryv-finalize", ...descendantsOf(resources, "pryv-finalize").map((resource) => resource.name)]);
                        const protectedNow = descendantsOf(resources, "pryv")
                            .filter((resource) => resource.protect)
                            .map((resource) => resource.name);
                        const expected =
                            phase === "finalize"
                                ? descendantsOf(resources, "pryv")
                                      .map((resource) => resource.name)
                                      .filter((name) => !finalChecks.has(name))
                                : [];
                        assert.deepEqual(protectedNow, expected);
                        if (phase === "finalize")
                            assert.deepEqual([...finalChecks].sort(), ["pryv-finalize", ...registers.map((role) => `pryv-finalize-${role}-answers`)]);
                    },
                );

                it("outputs what the phase has run, by name: the stack's contract with the operator, the review and the next run", async () => {
                    const { component } = await make(phase);
                    const expected = [
                        ...["phase", "warmSyncRound", "dataFolders", "destHealthySeconds", "keptAside"],
                        ...(phaseReached(phase, "warm-sync") ? ["warmSync", "cutoverEstimate", "changeJournal"] : []),
                        ...["proxyFile", "proxyReplaces", "siteFileSha256"],
                        ...(phaseReached(phase, "cutover")
                            ? [
                                  "coldSync",
                                  "verifiedFolders",
                                  "destDescribed",
                                  "contentVerified",
                                  "coldSyncSeconds",
                                  "outage",
                                  "outageEstimate",
                                  "downtimeSeconds",
                              ]
                            : []),
                        phaseReached(phase, "dns") ? "dnsChanges" : "dnsChangesPlanned",
                        ...(phase === "finalize" ? ["dnsAnswers"] : []),
                        "steps",
                        "status",
                    ];
                    assert.deepEqual(Object.keys(component.outputs), expected);
                });

                it("outputs the phase, the round and the data folders, which the next run reads back", async () => {
                    const { component } = await make(phase);
                    assert.deepEqual(
                        await Promise.all([
                            promiseOf(component.outputs.phase),
                            promiseOf(component.outputs.warmSyncRound),
                            promiseOf(component.outputs.dataFolders),
                        ]),
                        [phase, 1, defaultDataFolders],
                    );
                });

                it("outputs where the migration stands, for an operator's script: who serves, what the registers name, the last warm round", async () => {
                    const { component } = await make(phase);
                    const serving = {
                        prepare: "source",
                        "warm-sync": "source",
                        cutover: "dest, through source's nginx (the registers still name source)",
                        dns: "dest; source's nginx proxies to it whoever still resolves source",
                        finalize: "dest; source's nginx proxies to it whoever still resolves source",
                    }[phase];
                    assert.deepEqual(await promiseOf(component.outputs.status), {
                        phase,
                        serving,
                        registersName: phaseReached(phase, "dns") ? "dest" : "source",
                        ...(phaseReached(phase, "warm-sync") && {
                            // The fake rounds: started at 1 s, the last one ended at 3.5 s (dest's clock, since the epoch).
                            lastWarmRound: { round: 1, finishedAt: "1970-01-01T00:00:03.500Z", seconds: 2.5 },
                            changeJournal: { journal: true },
                        }),
                        ...(phaseReached(phase, "cutover") && { outageSeconds: (await promiseOf(component.outputs.outage!)).seconds }),
                    });
                });

                it("freezes the change journal, the warm rounds and the dest check from the cutover on", async () => {
                    const { resources } = await make(phase);
                    const warmSteps = [
                        "pryv-dest-check-services",
                        ...(phaseReached(phase, "warm-sync") ? ["change-journal", ...keys].map((step) => `pryv-warm-sync-${step}`) : []),
                    ];
                    assert.deepEqual(
                        warmSteps.map((name) => [name, resources.get(name)!.ignoreChanges]),
                        warmSteps.map((name) => [name, phaseReached(phase, "cutover") ? ["triggers"] : []]),
                    );
                });

                it("gives source's site file and the registers' dns.json the content of this phase", async () => {
                    const { resources, component } = await make(phase);
                    const siteFile = resources.get("pryv-source-proxy-site-file")!.inputs.stdin;
                    assert.equal(siteFile === (await promiseOf(component.outputs.proxyFile)), phaseReached(phase, "cutover"));
                    for (const role of registers) {
                        assert.match(
                            String(resources.get(`pryv-register-dns-${role}-dns-json`)!.inputs.stdin),
                            phaseReached(phase, "dns") ? /"co1": \{ "ip": "192\.0\.2\.12" \}/ : /"co1": \{ "ip": "10\.0\.0\.11" \}/,
                        );
                    }
                });

                it("outputs what this phase measured, and every step it declared by machine with what it does", async () => {
                    const { resources, component } = await make(phase);
                    assert.deepEqual(Object.keys(component.outputs), outputsOf(phase));
                    const steps = (await promiseOf(component.outputs.steps)) as Record<string, Record<string, string>>;
                    const expected: Record<string, Record<string, string>> = {};
                    for (const step of stepsOf(resources)) {
                        const machine = roleOfHost[hostOf(step)];
                        expected[machine] = { ...expected[machine], [step.name]: describeScript(scriptOf(step.inputs.create)) };
                    }
                    assert.deepEqual(steps, expected);
                    for (const [machine, described] of Object.entries(steps)) {
                        for (const [step, does] of Object.entries(described)) assert.notEqual(does, "", `${machine} ${step}`);
                    }
                    assert.equal(
                        steps.source["pryv-source-proxy-original"],
                        "Reads a file the migration will replace, so the replacement is rendered (and shown in the preview) from what is really there: the one of its possible places that exists.",
                    );
                    assert.equal(
                        steps.dest["pryv-dest-check-services"],
                        "Starts the core and waits until it answers through its nginx, then stops it again; what it wrote in its data folders is then marked as this machine's own, never to be taken for source's copy.",
                    );
                    if (phaseReached(phase, "warm-sync")) {
                        assert.deepEqual(await promiseOf(component.outputs.changeJournal!), { journal: true });
                        assert.match(
                            steps.source["pryv-warm-sync-change-journal"],
                            /^Starts recording, on source, every change under the data folders from now on \(inotify\)/,
                        );
                    }
                    if (phaseReached(phase, "cutover")) {
                        assert.match(
                            steps.source["pryv-cutover-stop-source"],
                            /Meanwhile reads from the change journal what changed under each data folder since warm round \d+ began/,
                        );
                    }
                });
            });
        }

        it("keeps the migration keys and what rollbacks kept aside until finalize, which takes them out of the stack", async () => {
            for (const phase of phases) {
                const { resources } = await make(phase);
                const present = [
                    "pryv-pull-key-keypair",
                    "pryv-pull-key-grant",
                    "pryv-carry-back-key-keypair",
                    "pryv-carry-back-key-grant",
                    "pryv-kept-aside",
                ].filter((name) => resources.has(name));
                assert.equal(present.length, phase === "finalize" ? 0 : 5, `${phase}: ${present.join(", ")}`);
            }
        });

        it("keeps aside under source's conf root, per migration, and removes it when the stack lets it go", async () => {
            const { resources, component } = await make("dns");
            const keptAside = resources.get("pryv-kept-aside")!;
            assert.equal(hostOf(keptAside), "10.0.0.11");
            assert.deepEqual(keptAside.dependsOn, guardChecks);
            assert.equal(await promiseOf(component.outputs.keptAside), "/var/pryv/pryv-migration-kept/unit");
            assert.equal(
                scriptOf(keptAside.inputs.delete),
                "# Removes what rollbacks kept aside on source (/var/pryv/pryv-migration-kept/unit): the migration is over, source's old copies are no longer the last good ones.\nrm -rf '/var/pryv/pryv-migration-kept/unit'\n",
            );
            assert.match(scriptOf(resources.get("pryv-cutover-carry-back-core-core-data")!.inputs.delete), /^kept='\/var\/pryv\/pryv-migration-kept\/unit'\//m);
        });
    });
}

describe("CoreMigration of a Pryv v1 platform (layout pryv-v1)", () => {
    it("stops source's config follower for the cutover, and edits the config leader's platform.yml instead of each register's dns.json", async () => {
        // The fake machines hold the 2019 folders: the layout's commands and files are what this test reads.
        const config = testConfig({ layout: "pryv-v1", phase: "dns", dataFolders: defaultDataFolders });
        const { resources, component } = await build((opts) => new CoreMigration("pryv", config, opts), fakeMachines);
        const names = [...resources.keys()];
        assert.deepEqual(
            names.filter((name) => /^pryv-(register|source-proxy-config)/.test(name)),
            [
                "pryv-source-proxy-config-follower-back",
                "pryv-source-proxy-config-follower-stopped",
                "pryv-register-platform",
                "pryv-register-platform-reg-master-restart-back",
                "pryv-register-platform-reg-slave-restart-back",
                "pryv-register-platform-reg-master-original",
                "pryv-register-platform-reg-master-back",
                "pryv-register-platform-reg-master-platform-yml",
                "pryv-register-platform-reg-master-restart",
                "pryv-register-platform-reg-slave-restart",
            ],
        );
        assert.equal(resources.get("pryv-register-platform")!.type, "pryv:migration:RegisterPlatform");
        assert.deepEqual(resources.get("pryv-register-platform-reg-slave-restart-back")!.dependsOn, ["pryv-cutover"]);
        assert.deepEqual(await promiseOf(component.outputs.dnsChanges!), [
            {
                register: "reg-master",
                key: "vars.MACHINES_AND_PLATFORM_SETTINGS.settings.HOSTINGS_AND_CORES.value.hosting1.co1.ip",
                previousIp: "10.0.0.11",
                newIp: "192.0.2.12",
            },
        ]);
        assert.equal((await promiseOf(component.outputs.status)).registersName, "dest");
    });
});

describe("CoreMigration with dest declared lost", () => {
    for (const phase of ["prepare", "warm-sync", "cutover"] as const) {
        it(`${phase}: every step on dest and every carry-back leaves the stack without running; a notice says what is given up`, async () => {
            const config = testConfig({ phase, destLost: true });
            const { resources } = await build((opts) => new CoreMigration("pryv", config, opts), fakeMachines);
            const forgotten = [...resources.values()].filter((resource) => resource.retainOnDelete).map((resource) => resource.name);
            const onDest = [...resources.values()].filter(
                (resource) => (resource.inputs.connection as { host?: string } | undefined)?.host === config.dest.host,
            );
            const carryBacks = [...resources.keys()].filter((name) => name.startsWith("pryv-cutover-carry-back-"));
            assert.ok(onDest.length > 0);
            assert.deepEqual(forgotten.sort(), [...onDest.map((resource) => resource.name), ...carryBacks].sort());
            assert.equal(carryBacks.length, phase === "cutover" ? 4 : 0);
            assert.match(
                scriptOf(resources.get("pryv-dest-lost")!.inputs.create),
                /^# dest was declared lost \(destLost\): its steps leave the stack without running anything there, nothing is carried back from it, and the writes users made on dest since the cutover are given up/,
            );
        });
    }

    it("without destLost, the engine runs every undo", async () => {
        const { resources } = await build((opts) => new CoreMigration("pryv", testConfig({ phase: "cutover" }), opts), fakeMachines);
        assert.deepEqual(
            [...resources.values()].filter((resource) => resource.retainOnDelete).map((resource) => resource.name),
            [],
        );
        assert.equal(resources.has("pryv-dest-lost"), false);
    });
});

describe("CoreMigration on the way back from a cutover", () => {
    const warmSteps = ["change-journal", ...keys].map((step) => `pryv-warm-sync-${step}`);
    for (const previous of ["cutover", "dns"] as const) {
        it(`after a run at ${previous}, freezes the warm rounds at warm-sync whatever warmSyncRound says: dest's writes are carried back first`, async () => {
            const config = { ...testConfig({ phase: "warm-sync", warmSyncRound: 1 }), previousRun: { phase: previous, warmSyncRound: 2 } };
            const { resources } = await build((opts) => new CoreMigration("pryv", config, opts), fakeMachines);
            assert.deepEqual(
                warmSteps.map((name) => [name, resources.get(name)!.ignoreChanges, resources.get(name)!.inputs.triggers]),
                warmSteps.map((name) => [name, ["triggers"], [1]]),
            );
        });
    }

    it("after a run at cutover, keeps the dest check from starting and stopping dest again on the way back", async () => {
        const config = { ...testConfig({ phase: "prepare" }), previousRun: { phase: "cutover" as const } };
        const { resources } = await build((opts) => new CoreMigration("pryv", config, opts), fakeMachines);
        assert.deepEqual(resources.get("pryv-dest-check-services")!.ignoreChanges, ["triggers"]);
    });

    it("after a completed rollback (a run at warm-sync), lets a changed round run again", async () => {
        const config = { ...testConfig({ phase: "warm-sync", warmSyncRound: 3 }), previousRun: { phase: "warm-sync" as const, warmSyncRound: 2 } };
        const { resources } = await build((opts) => new CoreMigration("pryv", config, opts), fakeMachines);
        assert.deepEqual(
            warmSteps.map((name) => resources.get(name)!.ignoreChanges),
            warmSteps.map(() => []),
        );
    });
});

describe("phases", () => {
    it("are the procedure's, in order, without a proxy phase (the proxy switch is part of the cutover)", () => {
        assert.deepEqual([...phases], ["prepare", "warm-sync", "cutover", "dns", "finalize"]);
    });
});
