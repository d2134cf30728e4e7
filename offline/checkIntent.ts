// The intent the post-deploy check compares live clusters with (components/check/checks.ts), taken
// from an offline plan (plan.json): the clusters, their roles and networks, who reads whom, and the
// Istio objects each config cluster gets (with their namespaces, from the resources section).
import { parseClusterIdentifier } from "../components/platforms/clusterIdentifier";
import type { MeshIntent } from "../components/check/checks";
import type { PlanFile } from "./planFile";
import { TYPES } from "../components/pulumiTypes";

export function intentFromPlan(plan: PlanFile): MeshIntent {
    const clusterOfProvider = new Map<string, string>();
    for (const r of plan.resources)
        if (r.type === TYPES.k8sProvider) {
            const id = parseClusterIdentifier(r.decisive.clusterIdentifier);
            if (id) clusterOfProvider.set(r.key, id.cluster);
        }
    const istioObjects: Record<string, string[]> = {};
    for (const r of plan.resources) {
        const m = /^kubernetes:(networking|security)\.istio\.io\/v\w+:(\w+)$/.exec(r.type);
        if (!m || !r.provider) continue;
        const cluster = clusterOfProvider.get(r.provider);
        if (!cluster) continue;
        const id = `${m[2]}/${String(r.decisive["metadata.namespace"] ?? "default")}/${String(r.decisive["metadata.name"] ?? r.name)}`;
        (istioObjects[cluster] ??= []).push(id);
    }
    for (const list of Object.values(istioObjects)) list.sort();
    const phase = (plan.trust as { rotation?: { phase?: string } } | undefined)?.rotation?.phase;
    return {
        meshId: plan.meshId,
        clusters: plan.clusters.map((c) => ({
            name: c.name,
            role: c.role === "remote" ? "remote" : "primary",
            ...(c.primary ? { primary: c.primary } : {}),
            network: c.network,
            runsIstiod: c.runsIstiod,
            gateway: c.gateway !== null,
        })),
        remoteSecrets: plan.remoteSecrets.map(({ source, target }) => ({ source, target })),
        istioObjects,
        // Outside a rotation the phase is "none": no phase to finish.
        ...(phase && phase !== "none" ? { trustPhase: phase } : {}),
        // The running revision and any upgrade (absent in plans older than revisions).
        ...(plan.istio?.revisions ? { revisions: plan.istio.revisions } : {}),
    };
}
