// Plans of synthetic meshes of any size, from the real program: the benchmark's scenario configs
// (offline/bench/model.ts: existing clusters c01…cNN) run under the simulator with canned
// certificates, and turned into a plan file. The topology picture's size tests and the 10-cluster
// screenshot in docs/ use them, so the picture is judged on what the program really plans.
import { meshConfig } from "./bench/model";
import { buildPlanFile, PlanFile } from "./planFile";
import { runProgram } from "./runProgram";

export type SyntheticModel = "multi-primary" | "primary-remote" | "primary-remote-multinet";

export const SYNTHETIC_MODELS: readonly SyntheticModel[] = ["multi-primary", "primary-remote", "primary-remote-multinet"];

/** The stack name a synthetic plan carries, e.g. `multi-primary-10`. */
export function syntheticStack(model: SyntheticModel, n: number): string {
    return `${model}-${n}`;
}

/**
 * The plan of an n-cluster mesh: multi-primary (every cluster a primary on its own network),
 * primary-remote (c01 primary, the rest its remotes, one network) or primary-remote-multinet
 * (the same, every cluster on its own network). `load` loads a fresh copy of index.ts.
 */
export async function syntheticPlan(model: SyntheticModel, n: number, load: () => Promise<Record<string, unknown>>): Promise<PlanFile> {
    const stack = syntheticStack(model, n);
    const r = await runProgram({ config: { "multicluster-mesh:mesh": meshConfig({ model, n }) }, stack, load, sim: { cannedTls: true } });
    if (r.error) throw new Error(`${stack}: ${r.error.message.split("\n")[0]}`);
    return buildPlanFile({ stack, outputs: r.outputs, registrations: r.sim.registrations });
}
