// Tier 2 of the post-deploy check: istiod's own view, from its debug endpoints on port 15014, reached
// through the API server's pod proxy (`pods/<pod>:15014/proxy/…`, which needs `pods/proxy`): never a
// new network path. What `istioctl remote-clusters` reads (istioctl/pkg/proxyconfig/clusters.go).
//
// The documents follow istiod's types at 1.30.3 (istio/istio at that tag):
//   /debug/clusterz        []cluster.DebugInfo {id, secretName, syncStatus}  (pkg/cluster/debug.go);
//                          syncStatus is synced | syncing | timeout | closed (pkg/kube/multicluster/cluster.go)
//   /debug/networkz        []model.NetworkGateway, no JSON tags: {Network, Cluster, Addr, Port, HBONEPort,
//                          ServiceAccount} (pilot/pkg/model/network.go; pilot/pkg/xds/debug.go networkz)
//   /debug/endpointShardz  map[service]map[namespace]EndpointShards, each {Shards: {"<provider>/<cluster>": […]}}
//                          (pilot/pkg/model/endpointshards.go Shardz, ShardKey.MarshalText)
import type { CheckResult, MeshIntent } from "./checks";
import { getOrUndefined, KubeTarget, request } from "./kube";
import { ISTIO_NAMESPACE, NETWORK_LABEL } from "../istio";

/** istiod's debug port (pilot/pkg/features: the monitoring and debug server). */
export const ISTIOD_DEBUG_PORT = 15014;

export interface ClusterzEntry {
    id: string;
    secretName: string;
    syncStatus: string;
}

export interface NetworkGatewayEntry {
    Network: string;
    Cluster: string;
    Addr: string;
    Port: number;
}

type Say = (check: string, ok: boolean, message: string, fix?: string, severity?: "error" | "warning") => void;

/** /debug/clusterz: every cluster this istiod must read is there and `synced`. */
export function judgeClusterz(doc: unknown, expected: string[], say: Say): void {
    if (!Array.isArray(doc)) {
        say("istiod-clusters", false, "istiod's /debug/clusterz is not a list of clusters", "check istiod's version and logs");
        return;
    }
    const entries = doc as ClusterzEntry[];
    for (const name of expected) {
        const e = entries.find((x) => x?.id === name);
        if (!e) {
            say(
                "istiod-clusters",
                false,
                `istiod does not know cluster ${name}: its remote secret was not loaded`,
                'check istiod\'s log for "Failed to add remote cluster from secret"',
            );
            continue;
        }
        const why: Record<string, string> = {
            syncing: "is still syncing (its informers have not caught up; wait, or check the API server's load)",
            timeout: "timed out syncing: istiod gave up waiting for its informers (unreachable or slow API server)",
            closed: "is closed: its client was stopped (a removed or rotated secret)",
        };
        say(
            "istiod-clusters",
            e.syncStatus === "synced",
            e.syncStatus === "synced"
                ? `istiod reads ${name}: synced (secret ${e.secretName})`
                : `istiod's view of ${name} ${why[e.syncStatus] ?? `has status ${e.syncStatus}`}`,
            "check the remote secret's server and token (npm run check, tier 1), then istiod's log",
        );
    }
}

/** /debug/networkz: the gateway of every other network that has one is known. */
export function judgeNetworkz(doc: unknown, ownNetwork: string, gatewaysByNetwork: Record<string, string[]>, say: Say): void {
    const entries = Array.isArray(doc) ? (doc as NetworkGatewayEntry[]) : [];
    for (const [network, clusters] of Object.entries(gatewaysByNetwork)) {
        if (network === ownNetwork || clusters.length === 0) continue;
        const known = entries.filter((g) => g?.Network === network);
        say(
            "istiod-networks",
            known.length > 0,
            known.length > 0
                ? `istiod knows network ${network}'s gateway (${known.map((g) => `${g.Addr}:${g.Port}`).join(", ")})`
                : `istiod knows no gateway of network ${network}: traffic to it has no path`,
            `check the east-west Service of ${clusters.join(", ")}: its address and its ${NETWORK_LABEL} label`,
        );
    }
}

/** /debug/endpointShardz: each cluster istiod reads contributes endpoint shards. */
export function judgeEndpointShards(doc: unknown, clusters: string[], say: Say): void {
    const seen = new Set<string>();
    if (doc && typeof doc === "object")
        for (const byNs of Object.values(doc as Record<string, Record<string, { Shards?: Record<string, unknown> }>>))
            for (const shards of Object.values(byNs ?? {}))
                for (const key of Object.keys(shards?.Shards ?? {})) seen.add(key.split("/").slice(1).join("/"));
    for (const c of clusters)
        say(
            "istiod-endpoints",
            seen.has(c),
            seen.has(c)
                ? `istiod holds endpoints of cluster ${c}`
                : `istiod holds no endpoint of cluster ${c}: its services are not reachable across clusters`,
            "check that cluster's remote secret is synced (istiod-clusters) and that it runs services",
        );
}

/**
 * Tier 2 for one cluster that runs istiod: find a running istiod pod and read its three documents
 * through the pod proxy. Returns false (with a warning) when istiod cannot be reached.
 */
export async function checkIstiod(
    cluster: string,
    t: KubeTarget,
    intent: MeshIntent,
    push: (r: CheckResult) => void,
    timeoutMs = 5_000,
): Promise<boolean> {
    const say: Say = (check, ok, message, fix, severity = "error") =>
        push({ cluster, check, ok, severity, message, ...(ok || !fix ? {} : { fix }) });
    const pods = await getOrUndefined(t, `/api/v1/namespaces/${ISTIO_NAMESPACE}/pods?labelSelector=${encodeURIComponent("app=istiod")}`);
    const pod = (pods?.items ?? []).find((p: any) => p?.status?.phase === "Running");
    const skip = (why: string) => {
        say(
            "istiod-debug",
            false,
            `tier 2 skipped: istiod not reachable (${why})`,
            "run the check where the API server can proxy to istiod's pod (pods/proxy)",
            "warning",
        );
        return false;
    };
    if (!pod) return skip("no running istiod pod");
    const base = `/api/v1/namespaces/${ISTIO_NAMESPACE}/pods/${pod.metadata.name}:${ISTIOD_DEBUG_PORT}/proxy/debug`;
    const get = (p: string) => request(t, "GET", `${base}/${p}`, { timeoutMs });
    let clusterz: unknown;
    try {
        clusterz = await get("clusterz");
    } catch (e) {
        return skip((e as Error).message.split("\n")[0]);
    }
    const me = intent.clusters.find((c) => c.name === cluster)!;
    const reads = intent.remoteSecrets.filter((p) => p.target === cluster).map((p) => p.source);
    judgeClusterz(clusterz, reads, say);
    const gateways: Record<string, string[]> = {};
    for (const c of intent.clusters) if (c.gateway) (gateways[c.network] ??= []).push(c.name);
    judgeNetworkz(await get("networkz").catch(() => undefined), me.network, gateways, say);
    judgeEndpointShards(await get("endpointShardz").catch(() => undefined), [cluster, ...reads], say);
    return true;
}
