// Shared setup of the end-to-end suite (run by scripts/e2e.ts inside its network namespace): the
// tools, Istio's charts served from a local Helm repository, local clusters per topology, provided
// trust from trust:init, and a table of phase times printed at the end.
import * as fs from "node:fs";
import * as path from "node:path";
import { currentNetns, readState, type ClustersState } from "../../e2e/clusters";
import { chartRepository, findCharts, serveFolder } from "../../e2e/charts";
import { E2eStack } from "../../e2e/harness";
import { builtTools, ROOT, type ToolsLayout } from "../../e2e/tools";
import { trustInit } from "../../offline/trustInit";

/** The Istio version the suite installs (its charts must be at hand: e2e/charts.ts). */
export const E2E_ISTIO_VERSION = "1.30.3";

export interface Env {
    tools: ToolsLayout;
    work: string;
    netns: string;
    /** A Helm repository of the charts, served on loopback inside the namespace. */
    chartRepo: string;
    /** The same charts as a local folder (base/, istiod/, gateway/). */
    chartDir: string;
    close: () => Promise<void>;
}

/** Tools, the namespace check and the chart server; throws when run outside scripts/e2e.ts. */
export async function environment(): Promise<Env> {
    const netns = process.env.MCM_E2E_NETNS;
    const work = process.env.MCM_E2E_WORK;
    if (!netns || !work) throw new Error("run the end-to-end suite with npm run e2e (it creates the network namespace)");
    if (currentNetns() !== netns) throw new Error(`not inside network namespace ${netns}`);
    const tools = await builtTools();
    if (!tools.ok) throw new Error(tools.why);
    const charts = findCharts(E2E_ISTIO_VERSION);
    if (!charts.ok) throw new Error(charts.why);
    const repo = await chartRepository(E2E_ISTIO_VERSION, path.join(work, "charts"));
    const server = await serveFolder(repo);
    return { tools: tools.layout, work, netns, chartRepo: server.url, chartDir: charts.dir, close: server.close };
}

export interface Topology {
    clusters: ClustersState;
    stack: E2eStack;
    /** Where this topology's plans, trust files and logs go. */
    dir: string;
    stop: () => Promise<void>;
}

/** One topology's clusters (started by globalSetup.ts for the whole suite) and its stack folder. */
export async function topology(env: Env, name: string, clusterNames: string[]): Promise<Topology> {
    const dir = path.join(env.work, name);
    const all = readState(path.join(env.work, "clusters"));
    if (!all) throw new Error("the suite's clusters are not running (test/e2e/globalSetup.ts)");
    const clusters: ClustersState = {
        ...all,
        clusters: all.clusters.filter((c) => clusterNames.includes(c.name)),
        processes: all.processes.filter((p) => clusterNames.some((n) => p.name.startsWith(`${n}/`))),
    };
    const missing = clusterNames.filter((n) => !clusters.clusters.some((c) => c.name === n));
    if (missing.length) throw new Error(`no cluster ${missing.join(", ")} in the suite (test/e2e/globalSetup.ts E2E_CLUSTERS)`);
    const stack = new E2eStack(path.join(dir, "stack"), name, env.tools);
    // The clusters are the suite's: globalSetup stops them.
    return { clusters, stack, dir, stop: async () => {} };
}

/**
 * Provided trust for `clusters` (a root and one intermediate per istiod cluster) from the project's own
 * trust:init (offline/trustInit.ts), written 0600 outside the repository.
 */
export async function providedTrust(t: Topology, mesh: unknown) {
    return trustInit({ stack: t.stack.stack, out: path.join(t.dir, "trust"), repoRoot: ROOT, mesh });
}

/** Phase times, printed as a table when the suite ends. */
export const times: { topology: string; phase: string; ms: number }[] = [];
export async function timed<T>(topologyName: string, phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
        return await fn();
    } finally {
        times.push({ topology: topologyName, phase, ms: Date.now() - t0 });
        console.log(`[e2e] ${topologyName}: ${phase} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
}

export function printTimes(file?: string): void {
    const lines = [
        "| topology | phase | time |",
        "|---|---|---|",
        ...times.map((t) => `| ${t.topology} | ${t.phase} | ${(t.ms / 1000).toFixed(1)} s |`),
    ];
    console.log(lines.join("\n"));
    if (file) fs.appendFileSync(file, lines.join("\n") + "\n");
}
