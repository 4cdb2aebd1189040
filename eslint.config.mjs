// Lint of the program and its tests: TypeScript's recommended type-aware rules, and
// Pulumi's rules against an Output inside a template literal (use pulumi.interpolate).
// The JavaScript the test hosts run (fixture services, the floor's stream) is plain Node.
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "testbed/fixture/", "bench/floorStream.js", "eslint.config.mjs"] },
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // Provider methods and test-host helpers are async by contract, not by need.
            "@typescript-eslint/require-await": "off",
        },
    },
);
