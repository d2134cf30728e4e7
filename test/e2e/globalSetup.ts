// The end-to-end suite's clusters, started once for every topology file (run side by side, each on
// its own clusters), inside the network namespace scripts/e2e.ts made: one etcd, one webhook
// stand-in, one API server per cluster (e2e/clusters.ts). Stopped, by PID, when the suite ends.
import * as path from "node:path";
import { currentNetns, startClusters, stopProcesses } from "../../e2e/clusters";
import { builtTools } from "../../e2e/tools";

/** Every topology's clusters, with their regions (the traffic rules fail over between region-a and region-b). */
export const E2E_CLUSTERS: Record<string, Record<string, string>> = {
    "multi-primary": { east: "region-a", west: "region-a", central: "region-b", north: "region-b" },
    "primary-remote": { main: "region-a", near: "region-a", far: "region-b", edge: "region-b" },
    // Every phase of a revision-based Istio upgrade applied in order (test/e2e/upgrade.e2e.ts).
    upgrade: { "up-primary": "region-a", "up-remote": "region-a" },
};

export default async function setup(): Promise<() => Promise<void>> {
    const netns = process.env.MCM_E2E_NETNS;
    const work = process.env.MCM_E2E_WORK;
    if (!netns || !work) throw new Error("run the end-to-end suite with npm run e2e (it creates the network namespace)");
    if (currentNetns() !== netns) throw new Error(`not inside network namespace ${netns}`);
    const tools = await builtTools();
    if (!tools.ok) throw new Error(tools.why);
    const regions = Object.assign({}, ...Object.values(E2E_CLUSTERS)) as Record<string, string>;
    const started = Date.now();
    const state = await startClusters({
        names: Object.keys(regions),
        regions,
        tools: tools.layout,
        dir: path.join(work, "clusters"),
        netns,
    });
    console.log(`[e2e] ${state.clusters.length} clusters up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return async () => {
        await stopProcesses(state.processes);
    };
}
