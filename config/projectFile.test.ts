import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { z } from "zod";
import { configKeys, parseMigrationConfig, phases, syncCompressions } from ".";
import { rawConfig } from "../testing";

/** A key as Pulumi.yaml declares it (engine 3.259.0: the types string, integer, boolean, array, object). */
interface Declaration {
    type: string;
    items?: { type: string };
    description?: string;
    default?: unknown;
    secret?: boolean;
}

const projectFile = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { config?: Record<string, Declaration> };
const declared = projectFile.config ?? {};
/** Declared, the key would be required by the engine: see the comment above Pulumi.yaml's config block. */
const undeclared = ["operatorPrivateKey"];

/** The zod type under its defaults, optionals and refinements, and the default it gives. */
function unwrap(schema: z.ZodTypeAny): { base: z.ZodTypeAny; defaultValue?: unknown } {
    let current = schema;
    let defaultValue: unknown;
    for (;;) {
        if (current instanceof z.ZodDefault) {
            defaultValue = (current._def as { defaultValue: () => unknown }).defaultValue();
            current = current._def.innerType as z.ZodTypeAny;
        } else if (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodTypeAny;
        else if (current instanceof z.ZodEffects) current = current.innerType() as z.ZodTypeAny;
        else return { base: current, defaultValue };
    }
}

/** The engine's type name for a zod type. */
function pulumiType(schema: z.ZodTypeAny): string {
    if (schema instanceof z.ZodString || schema instanceof z.ZodEnum) return "string";
    if (schema instanceof z.ZodNumber) return schema.isInt ? "integer" : "number";
    if (schema instanceof z.ZodBoolean) return "boolean";
    if (schema instanceof z.ZodArray) return "array";
    if (schema instanceof z.ZodObject) return "object";
    throw new Error(`no Pulumi config type for ${schema.constructor.name}`);
}

describe("Pulumi.yaml's config block", () => {
    const keys = Object.keys(configKeys.shape);

    it("declares every key of the program's schema but operatorPrivateKey, and no other", () => {
        assert.deepEqual(Object.keys(declared).sort(), keys.filter((key) => !undeclared.includes(key)).sort());
    });

    for (const key of keys.filter((name) => !undeclared.includes(name))) {
        it(`${key}: the program's type, default and required-ness, with a description`, () => {
            const declaration = declared[key];
            const { base, defaultValue } = unwrap(configKeys.shape[key as keyof typeof configKeys.shape]);
            assert.equal(declaration.type, pulumiType(base));
            if (base instanceof z.ZodArray) assert.deepEqual(declaration.items, { type: pulumiType(unwrap(base.element as z.ZodTypeAny).base) });
            // No default: the engine refuses a stack without the key, as the program would.
            assert.deepEqual(declaration.default, defaultValue);
            assert.ok((declaration.description ?? "").length > 20, `${key} has no description`);
            if (base instanceof z.ZodEnum)
                for (const value of base.options as string[]) assert.ok(declaration.description!.includes(value), `${key}'s description leaves out ${value}`);
        });
    }

    it("names the values of the keys whose values are a fixed set", () => {
        for (const phase of phases) assert.ok(declared.phase.description!.includes(phase), phase);
        for (const compression of syncCompressions) assert.ok(declared.sync.description!.includes(compression), compression);
    });

    it("changes nothing the program reads: the engine's defaults filled in parse as the program's own", () => {
        const withDefaults = rawConfig();
        for (const [key, declaration] of Object.entries(declared))
            if (declaration.default !== undefined && !(key in withDefaults)) withDefaults[key] = declaration.default;
        // The operator key is a fresh secret Output on each parse: compared apart.
        const parsed = (raw: Record<string, unknown>) => ({ ...parseMigrationConfig(raw, "unit"), operatorPrivateKey: undefined });
        assert.deepEqual(parsed(withDefaults), parsed(rawConfig()));
    });
});
