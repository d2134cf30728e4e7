// Run the real program (index.ts) under the simulator from a test, with a mesh config object.
import * as pulumi from "@pulumi/pulumi";
import { expect, vi } from "vitest";
import { runProgram, RunResult } from "../../offline/runProgram";
import type { Registration, SimulatorOptions } from "../../simulator/simulator";

export { gkeEntry } from "./entries";

export interface MeshRun extends RunResult {
    /** Registrations of Kubernetes objects (not providers, not component resources). */
    k8s: Registration[];
}

export async function runMesh(
    mesh: unknown,
    opts: {
        config?: Record<string, unknown>;
        secretKeys?: string[];
        secretPaths?: Record<string, (string | number)[][]>;
        sim?: SimulatorOptions;
    } = {},
): Promise<MeshRun> {
    vi.resetModules();
    const result = await runProgram({
        config: { "multicluster-mesh:mesh": mesh, ...(opts.config ?? {}) },
        secretKeys: opts.secretKeys,
        secretPaths: opts.secretPaths,
        sim: opts.sim,
        load: () => import("../../index.js"),
    });
    const k8s = result.sim.registrations.filter((r) => r.type.startsWith("kubernetes:"));
    return { ...result, k8s };
}

/** A cluster entry whose kubeconfig is not on this machine (the offline case), with an explicit API server. */
export function cluster(name: string, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { name, kubeconfig: `/nonexistent/${name}.kubeconfig`, apiServer: `https://10.${i}.0.1:6443`, ...extra };
}

/** The mesh name of the cluster a Kubernetes object belongs to, from its resource name. */
export function clusterOf(meshId: string, clusters: string[], r: Registration): string {
    const rest = r.name.slice(meshId.length + 1);
    // Remote secrets live in the target; reader tokens in the source.
    const secret = /^(.+)-remote-to-(.+)$/.exec(rest);
    if (secret && clusters.includes(secret[1]) && clusters.includes(secret[2])) return secret[2];
    const match = clusters.filter((c) => rest.startsWith(`${c}-`)).sort((a, b) => b.length - a.length)[0];
    if (!match) throw new Error(`cannot tell the cluster of ${r.name}`);
    return match;
}

export async function isSecretOutput(o: unknown): Promise<boolean> {
    return pulumi.Output.isInstance(o) ? pulumi.isSecret(o as pulumi.Output<unknown>) : false;
}

/** The registration named `name` (names are unique per run; the tests assert it). */
export function one(run: MeshRun, name: string): Registration {
    return run.sim.byName(name);
}

/** True when `from` depends on `to` as the engine sees it (explicit dependsOn or an input from it). */
export function dependsOn(run: MeshRun, from: string, to: string): boolean {
    const target = one(run, to).urn;
    expect(target, `${to} has no URN`).not.toBe("");
    return one(run, from).dependencies.includes(target);
}
