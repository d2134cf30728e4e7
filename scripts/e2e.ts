// The end-to-end suite: the real Pulumi engine and Kubernetes provider deploy meshes onto real API
// servers on this machine (test/e2e/, e2e/). It needs the tools of `npm run e2e:tools`, Istio's
// charts at hand (e2e/charts.ts) and root (a network namespace); without them it prints one line
// saying what it skipped and why, and exits 0.
//
//   npm run e2e [-- <vitest filter>]
//
// Everything runs inside a network namespace this command creates (loopback only) and removes,
// with every process it started, at the end.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createNetns, deleteNetns, readState, stopProcesses } from "../e2e/clusters";
import { netnsUnavailable } from "../e2e/clusters";
import { findCharts } from "../e2e/charts";
import { E2E_ISTIO_VERSION } from "../test/e2e/setup";
import { builtTools, cacheDir, ROOT } from "../e2e/tools";

/**
 * Each run keeps its folder (stack state, plans, check outputs, logs) for a look afterwards; only the
 * `keep` newest stay, so repeated runs do not fill the cache (a run is about 100 MB).
 */
function pruneRuns(runs: string, keep: number): void {
    if (!fs.existsSync(runs)) return;
    const dirs = fs
        .readdirSync(runs)
        .filter((d) => /^mcm-e2e-\d+$/.test(d))
        .map((d) => ({ d, t: fs.statSync(path.join(runs, d)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
    for (const { d } of dirs.slice(keep)) fs.rmSync(path.join(runs, d), { recursive: true, force: true });
}

async function main(): Promise<number> {
    const skip = (why: string) => {
        console.log(`e2e: skipped: ${why}`);
        return 0;
    };
    const tools = await builtTools();
    if (!tools.ok) return skip(tools.why);
    const charts = findCharts(E2E_ISTIO_VERSION);
    if (!charts.ok) return skip(charts.why);
    const why = netnsUnavailable();
    if (why) return skip(why);

    const netns = `mcm-e2e-${process.pid}`;
    const runs = path.join(cacheDir(), "e2e", "runs");
    pruneRuns(runs, 2);
    const work = path.join(runs, netns);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    createNetns(netns);
    const started = Date.now();
    const cleanup = async () => {
        // The suite stops its clusters itself; anything a crash left behind is stopped here, by PID.
        for (const d of fs.existsSync(work) ? fs.readdirSync(work) : []) {
            const s = readState(path.join(work, d));
            if (s) await stopProcesses(s.processes);
        }
        deleteNetns(netns);
    };
    process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
    try {
        const vitest = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
        const code = await new Promise<number>((resolve) => {
            const p = spawn(
                "ip",
                ["netns", "exec", netns, process.execPath, vitest, "run", "--config", "vitest.e2e.config.ts", ...process.argv.slice(2)],
                {
                    cwd: ROOT,
                    stdio: "inherit",
                    env: { ...process.env, MCM_E2E_NETNS: netns, MCM_E2E_WORK: work },
                },
            );
            p.on("close", (c) => resolve(c ?? 1));
        });
        console.log(
            `e2e: ${code === 0 ? "passed" : "FAILED"} in ${Math.round((Date.now() - started) / 1000)} s (network namespace ${netns}, work ${work})`,
        );
        return code;
    } finally {
        await cleanup();
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(`e2e: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        },
    );
}
