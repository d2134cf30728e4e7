import { defineConfig } from "vitest/config";
import { includeOf } from "./test/tiers";

// Three tiers, one vitest project each (test/tiers.ts, CONTRIBUTING.md "Test tiers"): `vitest run`
// runs all three, `vitest run --project unit` one alone (npm run test:unit, test:program, test:external).
export default defineConfig({
    test: {
        setupFiles: ["test/support/requireTs.ts"],
        // The mock runtime is process-global: run files in separate forks, tests in a file in order.
        pool: "forks",
        fileParallelism: true,
        // One temp folder per run, removed at the end (test/support/tmpRoot.ts).
        globalSetup: ["test/support/tmpRoot.ts"],
        projects: [
            {
                extends: true,
                // Pure logic: a short bound, so a test that starts waiting on something fails fast. No
                // process-global state (no mock runtime), so its files share workers and their module
                // cache (isolate: false): loading zod, the schema and Istio's facts once, not once per file.
                test: {
                    name: "unit",
                    include: includeOf("unit"),
                    testTimeout: 10_000,
                    hookTimeout: 10_000,
                    pool: "threads",
                    isolate: false,
                    poolOptions: { threads: { singleThread: true } },
                },
            },
            {
                extends: true,
                // Registration errors surface as unhandled rejections while the test itself would wait;
                // a bounded timeout turns a hang into a failure (docs/istio-notes.md, "Pulumi rules").
                test: { name: "program", include: includeOf("program"), testTimeout: 60_000, hookTimeout: 60_000 },
            },
            {
                extends: true,
                // Real tools (npm pack, Helm, Go builds, Chromium) on a shared 2-core machine.
                test: { name: "external", include: includeOf("external"), testTimeout: 120_000, hookTimeout: 120_000 },
            },
        ],
    },
});
