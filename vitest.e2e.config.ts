import { defineConfig } from "vitest/config";

// The end-to-end suite (npm run e2e): the real Pulumi engine and Kubernetes provider against real
// API servers on this machine. scripts/e2e.ts runs it inside a network namespace of its own; it is
// never part of the default suite (vitest.config.ts takes only *.test.ts).
export default defineConfig({
    test: {
        include: ["test/e2e/**/*.e2e.ts"],
        setupFiles: ["test/support/requireTs.ts"],
        // One engine operation takes up to a few minutes on a loaded 2-core machine.
        testTimeout: 600_000,
        hookTimeout: 300_000,
        pool: "forks",
        // The clusters start once for all topologies; each topology file runs in its own worker, side by side.
        globalSetup: ["test/e2e/globalSetup.ts"],
        fileParallelism: true,
        maxWorkers: 2,
        reporters: ["verbose"],
    },
});
