import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        setupFiles: ["test/support/requireTs.ts"],
        // Registration errors surface as unhandled rejections while the test itself would wait;
        // a bounded timeout turns a hang into a failure (docs/istio-notes.md, "Pulumi rules").
        testTimeout: 120_000,
        hookTimeout: 120_000,
        // The mock runtime is process-global: run files in separate forks, tests in a file in order.
        pool: "forks",
        fileParallelism: true,
    },
});
