// Lint: typescript-eslint's recommended type-aware rules, and @pulumi/eslint-plugin's rules against
// Outputs in template literals (use pulumi.interpolate). Run by `npm test` (npm run lint).
// One TypeScript program for every file: the root tsconfig.json, which includes the policy pack (its
// own policy/tsconfig.json is what `pulumi preview --policy-pack policy` compiles with). A file in no
// project made typescript-eslint build a second whole program: 4.8 GB instead of under 2 (CONTRIBUTING.md).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", "out/", "bin/", "policy/node_modules/", "**/*.js", "**/*.mjs"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { project: ["./tsconfig.json"], tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // The simulator and the tests handle the engine's untyped wire objects.
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-floating-promises": "error",
        },
    },
    {
        // The library stands alone: it is what `npm pack` ships (package.json "files"), and the offline
        // tools, the simulator, the command lines and the tests are built on it, never the reverse.
        files: ["components/**/*.ts"],
        rules: {
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            regex: "^(\\.\\./)+(offline|simulator|scripts|test)(/|$)",
                            message: "components/ (the library) never imports offline/, simulator/, scripts/ or test/",
                        },
                    ],
                },
            ],
        },
    },
);
