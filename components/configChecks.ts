// Whole-config checks the Pulumi CLI would let through but a deploy would trip on, or that would
// silently mean something else (issue 19 item 4). Called once from validateMeshConfig
// (components/meshConfig.ts), so the stack config and the library's `Mesh` args get them alike:
//   - a network in `networks` that no cluster is on (a typo would drop its `routable: true`);
//   - two clusters on one API server (one Kubernetes cluster cannot be two mesh clusters);
//   - GKE clusters in one VPC with overlapping ranges on different mesh networks (GCP refuses
//     overlapping subnet ranges in a VPC; the same mesh network is checked in checkSharedNetworks);
//   - counts beyond what the platform or the crypto can do (`nodesPerZone: 1e9`);
//   - for the library, each cluster's `apiServer` (https, not loopback where another cluster reads
//     it) and `provider` (present, one per cluster), as the stack config checks them for `existing`.
import { formatCidr, overlaps, parseCidr, type Cidr } from "./cidr";
import { nearest } from "./configMessages";
import { remoteSecretPairs } from "./istio";
import { isLoopbackUrl } from "./kubeconfig";
import { gkeVpcName } from "./platforms/gke/names";
import type { Say } from "./platforms/types";

/** GKE's largest cluster: 65,000 nodes (https://cloud.google.com/kubernetes-engine/docs/concepts/planning-large-clusters). */
export const GKE_MAX_NODES = 65_000;
/** A regional GKE cluster's node pool runs in the region's default node locations: three zones. */
const GKE_REGIONAL_ZONES = 3;
/** Kubernetes' tested scale: "No more than 5,000 nodes" (https://kubernetes.io/docs/setup/best-practices/cluster-large/). */
export const K8S_MAX_NODES = 5_000;
/** No AWS region has more than six availability zones (us-east-1 has six). */
export const AWS_MAX_AZS = 6;

type Loose = Record<string, any>;

export interface ExtraCheckInput {
    /** The mesh config as far as it parsed. */
    loose: Loose;
    clusters: Loose[];
    /** Per existing cluster (stack config): the API server its peers will use. */
    apiServers: Record<string, string>;
    /** Library use: the clusters' own args (apiServer when a plain string, whether a provider is set). */
    built?: { apiServer?: unknown; provider?: unknown }[];
    now?: Date;
    say: Say;
}

function isHttpsUrl(u: string): boolean {
    try {
        const url = new URL(u);
        return url.protocol === "https:" && url.hostname !== "";
    } catch {
        return false;
    }
}

/** The same API server however it is spelled: scheme, lower-case host, port (443 by default) and path. */
export function serverKey(u: string): string | undefined {
    try {
        const url = new URL(u);
        return `${url.protocol}//${url.hostname.toLowerCase()}:${url.port || (url.protocol === "https:" ? "443" : "80")}${url.pathname.replace(/\/+$/, "")}`;
    } catch {
        return undefined;
    }
}

/** What is wrong with an API server address other clusters' istiod will use (`read`: some cluster reads it). */
export function apiServerProblem(url: string, read: boolean): string | undefined {
    if (!isHttpsUrl(url)) return `"${url}" is not an https:// URL; give the address other clusters' istiod use, e.g. https://10.0.0.5:6443`;
    if (read && isLoopbackUrl(url))
        return (
            `${url} is a loopback address, which the other clusters' istiod cannot reach; give an address reachable from ` +
            "those clusters (for kind: https://<control-plane container IP>:6443)"
        );
    return undefined;
}

export function checkMeshExtras({ loose, clusters, apiServers, built, say }: ExtraCheckInput): void {
    const networkOf = (c: Loose) => (typeof c.network === "string" ? c.network : "network1");
    // Networks listed but used by no cluster.
    const used = [...new Set(clusters.map(networkOf))].sort();
    const listed =
        loose.networks && typeof loose.networks === "object" && !Array.isArray(loose.networks) ? Object.keys(loose.networks) : [];
    for (const n of listed) {
        if (used.includes(n)) continue;
        const near = nearest(n, used);
        say(
            `mesh.networks.${n}`,
            `no cluster is on network "${n}" (the clusters are on ${used.join(", ") || "none"})` +
                `${near.length ? `; did you mean "${near[0]}"?` : ""}; remove it or fix the name, or its settings apply to nothing`,
        );
    }

    // One API server, two mesh clusters.
    const servers: { index: number; key: string; url: string }[] = [];
    clusters.forEach((c, i) => {
        const url = built ? (typeof built[i]?.apiServer === "string" ? (built[i].apiServer as string) : undefined) : apiServers[c.name];
        const key = url !== undefined ? serverKey(url) : undefined;
        if (!key || !url) return;
        const first = servers.find((s) => s.key === key);
        if (first) {
            say(
                `mesh.clusters[${i}].apiServer`,
                `${url} is also the API server of mesh.clusters[${first.index}] (${clusters[first.index].name}); one Kubernetes ` +
                    "cluster cannot be two mesh clusters (istiod would read it twice, under two cluster IDs, and the objects of " +
                    "both would collide): point each cluster at its own API server",
            );
        } else servers.push({ index: i, key, url });
    });

    // Library: what the stack config checks for an `existing` cluster's API server and provider.
    if (built) {
        const named = clusters.filter((c) => typeof c.name === "string").map((c) => ({ name: c.name, role: c.role ?? "primary" }));
        const read = new Set(remoteSecretPairs(named).map((p) => p.source));
        const readers = (i: number) => read.has(clusters[i].name);
        const providers = new Map<unknown, number>();
        built.forEach((b, i) => {
            const at = `mesh.clusters[${i}]`;
            if (typeof b.apiServer === "string") {
                const problem = apiServerProblem(b.apiServer, readers(i));
                if (problem) say(`${at}.apiServer`, problem);
            } else if (b.apiServer === undefined || b.apiServer === null || b.apiServer === "") {
                say(`${at}.apiServer`, "is required: the address other clusters' istiod use to read this cluster's API server");
            }
            if (b.provider === undefined || b.provider === null) {
                say(
                    `${at}.provider`,
                    'is required: the k8s.Provider of this cluster (with a clusterIdentifier: README, "Using it as a library")',
                );
            } else if (providers.has(b.provider)) {
                say(
                    `${at}.provider`,
                    `is the same k8s.Provider as mesh.clusters[${providers.get(b.provider)}]; each mesh cluster needs its own cluster and provider`,
                );
            } else providers.set(b.provider, i);
        });
    }

    // GKE clusters in one VPC on different mesh networks: their ranges must not overlap either.
    const gke = clusters
        .map((c, i) => ({ c, i }))
        .filter(({ c }) => c.platform === "gke" && c.gke && typeof c.gke === "object" && typeof c.gke.project === "string");
    const vpcOf = (c: Loose) => `${c.gke.project}/${c.gke.network ?? gkeVpcName(String(loose.meshId), networkOf(c))}`;
    const ranges = (c: Loose, i: number): [string, Cidr][] => {
        const out: [string, Cidr][] = [];
        for (const k of ["subnetCidr", "podCidr", "serviceCidr"]) {
            const parsed = typeof c.gke[k] === "string" ? parseCidr(c.gke[k]) : undefined;
            if (parsed) out.push([`mesh.clusters[${i}].gke.${k}`, parsed]);
        }
        return out;
    };
    for (let a = 0; a < gke.length; a++) {
        for (let b = a + 1; b < gke.length; b++) {
            const [x, y] = [gke[a], gke[b]];
            if (vpcOf(x.c) !== vpcOf(y.c) || networkOf(x.c) === networkOf(y.c)) continue;
            for (const [py, cy] of ranges(y.c, y.i)) {
                const hit = ranges(x.c, x.i).find(([, cx]) => overlaps(cx, cy));
                if (hit)
                    say(
                        py,
                        `${formatCidr(cy)} overlaps ${hit[0]} (${formatCidr(hit[1])}) in VPC ${vpcOf(y.c)}, which both clusters use; ` +
                            "GCP refuses overlapping subnet and secondary ranges in one VPC: pick distinct ranges",
                    );
            }
        }
    }

    // Counts beyond what the platform or the crypto can do.
    clusters.forEach((c, i) => {
        const at = `mesh.clusters[${i}]`;
        if (c.platform === "gke" && c.gke && typeof c.gke === "object") {
            const zones = typeof c.gke.location === "string" && /-[a-z]$/.test(c.gke.location) ? 1 : GKE_REGIONAL_ZONES;
            const np = c.gke.nodePool ?? {};
            const counts: [string, unknown][] = [
                ["nodePool.nodesPerZone", np.nodesPerZone],
                ["nodePool.autoscaling.minNodesPerZone", np.autoscaling?.minNodesPerZone],
                ["nodePool.autoscaling.maxNodesPerZone", np.autoscaling?.maxNodesPerZone],
            ];
            for (const [k, v] of counts) {
                if (typeof v === "number" && v * zones > GKE_MAX_NODES)
                    say(
                        `${at}.gke.${k}`,
                        `${v} per zone is ${v * zones} nodes in ${zones} zone${zones > 1 ? "s" : ""}; GKE's largest cluster has ` +
                            `${GKE_MAX_NODES.toLocaleString("en-US")} nodes (planning-large-clusters): give the number of nodes you mean`,
                    );
            }
        }
        if (c.platform === "eks" && c.eks && typeof c.eks === "object") {
            for (const k of ["desired", "min", "max"] as const) {
                const v = c.eks.nodeGroup?.[k];
                if (typeof v === "number" && v > K8S_MAX_NODES)
                    say(
                        `${at}.eks.nodeGroup.${k}`,
                        `${v} nodes is beyond Kubernetes' tested ${K8S_MAX_NODES.toLocaleString("en-US")} per cluster ` +
                            "(and EKS's default quota is 450 per managed node group): give the number of nodes you mean",
                    );
            }
            const az = c.eks.azCount;
            if (typeof az === "number" && az > AWS_MAX_AZS)
                say(`${at}.eks.azCount`, `${az} availability zones: no AWS region has more than ${AWS_MAX_AZS}`);
        }
    });
    // The root of trust's key sizes and lifetimes are bounded by components/meshChecks.ts (TRUST_BOUNDS), once.
}
