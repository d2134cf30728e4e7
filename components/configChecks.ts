// Whole-config checks the Pulumi CLI would let through but a deploy would trip on, or that would
// silently mean something else (issue 19 item 4). Called once from validateMeshConfig
// (components/meshConfig.ts), so the stack config and the library's `Mesh` args get them alike:
//   - a network in `networks` that no cluster is on (a typo would drop its `routable: true`);
//   - two clusters on one API server (one Kubernetes cluster cannot be two mesh clusters);
//   - each platform's checks across its clusters (`checkMesh`: GKE ranges in one VPC, node counts
//     beyond what the platform can run such as `nodesPerZone: 1e9`), in its folder;
//   - for the library, each cluster's `apiServer` (https, not loopback where another cluster reads
//     it) and `provider` (present, one per cluster), as the stack config checks them for `existing`.
import { nearest } from "./configMessages";
import { remoteSecretPairs } from "./istio";
import { isLoopbackUrl } from "./kubeconfig";
import { PLATFORMS } from "./platforms/registry";
import type { LooseCluster, Say } from "./platforms/types";

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
                say(`${at}.provider`, "is required: the k8s.Provider of this cluster (with a clusterIdentifier: docs/library.md)");
            } else if (providers.has(b.provider)) {
                say(
                    `${at}.provider`,
                    `is the same k8s.Provider as mesh.clusters[${providers.get(b.provider)}]; each mesh cluster needs its own cluster and provider`,
                );
            } else providers.set(b.provider, i);
        });
    }

    // Each platform's checks across its own clusters (components/platforms/<name>/ checkMesh).
    for (const p of PLATFORMS) {
        const mine = clusters
            .map((c, i) => ({ c: c as LooseCluster, at: `mesh.clusters[${i}]` }))
            .filter(({ c }) => (c.platform ?? "existing") === p.name);
        if (mine.length > 0) p.checkMesh?.(mine, loose.meshId, say);
    }
    // The root of trust's key sizes and lifetimes are bounded by components/meshChecks.ts (TRUST_BOUNDS), once.
}
