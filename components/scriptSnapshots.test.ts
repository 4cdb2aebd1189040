import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { defaultDataFolders, Phase, phases } from "../config";
import { CoreMigration } from "./coreMigration";
import { build, fakeMachines, Recorded, scriptOf, stepType, testConfig } from "../testing";

/**
 * Every script a machine gets, as a golden file: a changed template or setting shows in
 * the pull request as a diff of scripts.snapshot.txt, and in a live stack as a step whose
 * script changed (recorded, not run, or run again for the file steps). The test config,
 * the openssh executor (both executors wrap a script the same way: remoteStep.test.ts),
 * every phase; a script the same in several phases is written once, with the phases that
 * have it. scripts-pryv-v1.snapshot.txt holds what layout pryv-v1 gives differently: its
 * steps and scripts that the 2019 layout has not. `PRYV_UPDATE_SNAPSHOT=1` rewrites both.
 */
const parts = ["create", "update", "delete", "stdin"] as const;
type Part = (typeof parts)[number];

function partsOf(resource: Recorded): [Part, string][] {
    return parts.flatMap((part): [Part, string][] => {
        const value = resource.inputs[part];
        if (value === undefined) return [];
        if (resource.secretInputs.includes(part)) return [[part, "(secret)"]];
        return [[part, part !== "stdin" ? scriptOf(value) : typeof value === "string" ? value : JSON.stringify(value)]];
    });
}

interface Variant {
    name: string;
    part: Part;
    text: string;
    phases: Phase[];
}

/** Every step's scripts in every phase under the test config with `overrides`, keyed by step, part and text. */
async function variantsOf(overrides: Record<string, unknown>): Promise<Map<string, Variant>> {
    const variants = new Map<string, Variant>();
    for (const phase of phases) {
        const { resources } = await build((opts) => new CoreMigration("pryv", testConfig({ ...overrides, phase, executor: "openssh" }), opts), fakeMachines);
        for (const resource of resources.values()) {
            if (resource.type !== stepType.openssh) continue;
            for (const [part, text] of partsOf(resource)) {
                const key = `${resource.name}\0${part}\0${text}`;
                const entry = variants.get(key) ?? { name: resource.name, part, text, phases: [] };
                entry.phases.push(phase);
                variants.set(key, entry);
            }
        }
    }
    return variants;
}

function snapshotText(variants: Variant[]): string {
    // By step, then part, then the first phase that has the variant.
    return [...variants]
        .sort(
            (a, b) =>
                Number(a.name > b.name) - Number(a.name < b.name) ||
                parts.indexOf(a.part) - parts.indexOf(b.part) ||
                phases.indexOf(a.phases[0]) - phases.indexOf(b.phases[0]),
        )
        .map((entry) => `==== ${entry.name} ${entry.part} (${entry.phases.join(", ")})\n${entry.text.endsWith("\n") ? entry.text : `${entry.text}\n`}`)
        .join("\n");
}

function assertSnapshot(file: string, actual: string): void {
    if (process.env.PRYV_UPDATE_SNAPSHOT === "1") fs.writeFileSync(file, actual);
    assert.ok(fs.existsSync(file), `${file} is missing: run the unit tests once with PRYV_UPDATE_SNAPSHOT=1`);
    const expected = fs.readFileSync(file, "utf8");
    if (actual !== expected) {
        const [a, b] = [actual.split("\n"), expected.split("\n")];
        const first = a.findIndex((line, index) => line !== b[index]);
        const heading =
            a
                .slice(0, first + 1)
                .reverse()
                .find((line) => line.startsWith("==== ")) ?? "(start)";
        assert.fail(
            `the scripts differ from ${path.basename(file)} at line ${first + 1}, in ${heading}:\n  now:      ${a[first]}\n  snapshot: ${b[first]}\nIf the change is meant, rewrite it with PRYV_UPDATE_SNAPSHOT=1 and review its diff.`,
        );
    }
}

describe("the scripts every machine gets", function () {
    this.timeout(240_000);
    let layout2019: Map<string, Variant>;
    before(async () => {
        layout2019 = await variantsOf({});
    });

    it("are those of components/scripts.snapshot.txt, every step, part and phase (PRYV_UPDATE_SNAPSHOT=1 rewrites it)", () => {
        assertSnapshot(path.join(__dirname, "scripts.snapshot.txt"), snapshotText([...layout2019.values()]));
    });

    it("layout pryv-v1's own are those of components/scripts-pryv-v1.snapshot.txt", async () => {
        // The fake machines hold the 2019 folders: the layout's commands and files are what differs here.
        const v1 = await variantsOf({ layout: "pryv-v1", dataFolders: defaultDataFolders });
        const own = [...v1.entries()].filter(([key]) => !layout2019.has(key)).map(([, variant]) => variant);
        assertSnapshot(path.join(__dirname, "scripts-pryv-v1.snapshot.txt"), snapshotText(own));
    });
});
