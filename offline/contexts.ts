// The kubectl context each cluster has on the user's machine, for the commands the plan prints
// (`kubectl --context <it> …`): a mesh cluster's name is rarely its context's.
//   - existing: the `context` given, else the kubeconfig's current context (when the file is here);
//   - kind: `kind-<name>`, the context `kind create cluster --name <name>` writes
//     (https://kind.sigs.k8s.io/docs/user/quick-start/#interacting-with-your-cluster);
//   - gke: `gke_<project>_<location>_<name>`, what `gcloud container clusters get-credentials` writes;
//   - eks: the cluster's ARN, what `aws eks update-kubeconfig` names the context by default; the
//     account is only known at deploy, so it reads `<account-id>`.
// A cluster whose context cannot be known offline keeps its mesh name.
import { contextServer, resolveKubeconfig } from "../components/kubeconfig";

type Loose = Record<string, any>;

export function kubectlContexts(mesh: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    const clusters =
        mesh && typeof mesh === "object" && Array.isArray((mesh as Loose).clusters) ? ((mesh as Loose).clusters as Loose[]) : [];
    for (const c of clusters) {
        if (!c || typeof c !== "object" || typeof c.name !== "string") continue;
        out[c.name] = contextOf(c) ?? c.name;
    }
    return out;
}

function contextOf(c: Loose): string | undefined {
    const platform = c.platform ?? "existing";
    if (platform === "kind") return `kind-${c.name}`;
    if (platform === "gke" && c.gke?.project && c.gke?.location) return `gke_${c.gke.project}_${c.gke.location}_${c.name}`;
    if (platform === "eks" && c.eks?.region) return `arn:aws:eks:${c.eks.region}:<account-id>:cluster/${c.name}`;
    if (platform !== "existing") return undefined;
    if (typeof c.context === "string" && c.context !== "") return c.context;
    if (typeof c.kubeconfig !== "string") return undefined;
    try {
        const src = resolveKubeconfig(c.kubeconfig);
        if (!src.content) return undefined;
        const found = contextServer(src.content);
        return found.ok ? found.context : undefined;
    } catch {
        return undefined;
    }
}
