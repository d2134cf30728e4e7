// The kubectl context each cluster has on the user's machine, for the commands the plan prints
// (`kubectl --context <it> …`): a mesh cluster's name is rarely its context's. Each platform says
// what its tooling names the context (components/platforms/<name>/, `kubeContext`): kind-<name>,
// gke_<project>_<location>_<name>, the EKS cluster's ARN, an existing cluster's own context. A
// cluster whose context cannot be known offline keeps its mesh name.
import { platformOf } from "../components/platforms/registry";
import type { LooseCluster } from "../components/platforms/types";

export function kubectlContexts(mesh: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    const clusters =
        mesh && typeof mesh === "object" && Array.isArray((mesh as { clusters?: unknown }).clusters)
            ? ((mesh as { clusters: LooseCluster[] }).clusters as LooseCluster[])
            : [];
    for (const c of clusters) {
        if (!c || typeof c !== "object" || typeof c.name !== "string") continue;
        out[c.name] = platformOf(c.platform)?.kubeContext(c) ?? c.name;
    }
    return out;
}
