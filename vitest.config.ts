import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Registration errors surface as unhandled rejections while the test itself would wait;
        // a bounded timeout turns a hang into a failure (docs/istio-notes.md, "Pulumi rules").
        testTimeout: 120_000,
        hookTimeout: 120_000,
        // The mock runtime is process-global: run files in separate forks, tests in a file in order.
        pool: "forks",
        fileParallelism: true,
        // One temp folder per run, removed at the end (test/support/tmpRoot.ts).
        globalSetup: ["test/support/tmpRoot.ts"],
    },
});
