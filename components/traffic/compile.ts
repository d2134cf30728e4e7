// The traffic block compiled to plain Istio: pure, the same input gives the same objects. Istio does
// not replicate configuration: each istiod reads Istio objects from its own cluster only (its
// config store is built on istiod's own kube client: `initK8SConfigStore` in
// pilot/pkg/bootstrap/configcontroller.go, and the cluster it runs in is the config cluster:
// `configCluster := opts.ClusterID == cluster.ID` in pilot/pkg/serviceregistry/kube/controller/multicluster.go,
// at 1.30.3). So every object goes, identical, to every cluster that runs istiod: each primary of a
// multi-primary mesh; in primary-remote the primaries, whose istiod also serves the remotes' proxies.
// A remote's `global.configCluster: true` only makes its chart render istiod's RBAC and validating
// webhook there (manifests/charts/istio-control/istio-discovery/templates/*.yaml); no istiod reads
// Istio objects from a remote.
import * as crypto from "node:crypto";
import { DEFAULT_SIDECAR, DNS_CAPTURE_ENV, NETWORKING_API, ROOT_NAMESPACE } from "../istio";
import type { OutlierDetectionConfig, PolicyConfig, TrafficConfig } from "./schema";
import { TRAFFIC_DEFAULT } from "./schema";

/**
 * Outlier detection when neither the policy nor the traffic block says otherwise. Failover acts only
 * with outlier detection (pilot/pkg/networking/core/cluster_traffic_policy.go at 1.30.3: "Failover
 * should only be applied with outlier detection"), and only once the local endpoints are ejected:
 * Envoy ejects at most maxEjectionPercent of a service's endpoints (default 10%), which across
 * several clusters would keep most of a failed region in rotation, so the default here is 100.
 */
export const DEFAULT_OUTLIER_DETECTION = {
    consecutive5xxErrors: 5,
    interval: "10s",
    baseEjectionTime: "30s",
    maxEjectionPercent: 100,
} as const;

export interface TrafficCluster {
    name: string;
    role: "primary" | "remote";
    /** The cluster's region (its nodes' topology.kubernetes.io/region), when known. */
    region?: string;
}

export interface IstioObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Record<string, unknown>;
}

/** One policy as compiled: what the plan lists and the diff compares. */
export interface CompiledPolicy {
    host: string;
    namespace: string;
    /** The DestinationRule's name. */
    name: string;
    mode: PolicyConfig["mode"];
    failover: { from: string; to: string }[];
    failoverPriority: string[];
    weights: Record<string, number>;
    outlierDetection: Record<string, string | number>;
}

export interface TrafficPlan {
    /** Clusters whose istiod reads Istio objects: every object goes to each of them, identical. */
    configClusters: string[];
    /** DestinationRules, Sidecars, then `traffic.objects` as given (namespace defaulted to the root namespace). */
    objects: IstioObject[];
    /** Namespaces this program creates (sidecar injection on), per cluster. */
    namespaces: Record<string, string[]>;
    /** Merged into every istiod's values (under the user's istio.values). */
    istiodValues: Record<string, unknown>;
    policies: CompiledPolicy[];
}

export function outlierOf(traffic: TrafficConfig, p: { outlierDetection?: OutlierDetectionConfig }): Record<string, string | number> {
    const merged: Record<string, string | number | undefined> = {
        ...DEFAULT_OUTLIER_DETECTION,
        ...traffic.outlierDetection,
        ...p.outlierDetection,
    };
    return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string | number] => e[1] !== undefined));
}

/** A DestinationRule name from its host: `payments.payments.svc.cluster.local` → `payments-payments-svc-cluster-local`. */
export function destinationRuleName(host: string): string {
    const slug = host.replace(/^\*\./, "wildcard.").replace(/\./g, "-").toLowerCase();
    if (slug.length <= 63) return slug;
    // Long hosts keep a readable head and a stable hash of the whole host.
    const hash = crypto.createHash("sha256").update(host).digest("hex").slice(0, 8);
    return `${slug.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/** The namespace of a Kubernetes service host (`<svc>.<ns>.svc.<domain>`), else `*` (any namespace that exports it). */
export function hostNamespace(host: string): string {
    const labels = host.split(".");
    return labels.length >= 4 && labels[2] === "svc" && labels[1] !== "*" ? labels[1] : "*";
}

/** One distribute entry per source region with a cluster; `to` keyed `<region>/*`. */
function distribute(weights: Record<string, number>, regions: string[]): { from: string; to: Record<string, number> }[] {
    const to = Object.fromEntries(
        Object.keys(weights)
            .sort()
            .map((r) => [`${r}/*`, weights[r]]),
    );
    return regions.map((r) => ({ from: `${r}/*`, to }));
}

function destinationRule(traffic: TrafficConfig, p: PolicyConfig, regions: string[]): { object: IstioObject; policy: CompiledPolicy } {
    const name = destinationRuleName(p.host);
    const namespace = p.namespace ?? ROOT_NAMESPACE;
    const outlierDetection = outlierOf(traffic, p);
    const localityLbSetting: Record<string, unknown> = { enabled: true };
    if (p.mode === "failover") localityLbSetting.failover = (p.failover ?? []).map((f) => ({ from: f.from, to: f.to }));
    if (p.mode === "weighted") localityLbSetting.distribute = distribute(p.weights ?? {}, regions);
    if (p.mode !== "weighted" && p.failoverPriority && p.failoverPriority.length > 0)
        localityLbSetting.failoverPriority = [...p.failoverPriority];
    return {
        object: {
            apiVersion: NETWORKING_API,
            kind: "DestinationRule",
            metadata: { name, namespace },
            spec: { host: p.host, trafficPolicy: { loadBalancer: { localityLbSetting }, outlierDetection } },
        },
        policy: {
            host: p.host,
            namespace,
            name,
            mode: p.mode,
            failover: p.mode === "failover" ? (p.failover ?? []).map((f) => ({ from: f.from, to: f.to })) : [],
            failoverPriority: p.mode === "weighted" ? [] : [...(p.failoverPriority ?? [])],
            weights: p.mode === "weighted" ? { ...(p.weights ?? {}) } : {},
            outlierDetection,
        },
    };
}

/** A client namespace's egress hosts: its own namespace, the root namespace, then each host it calls. */
export function sidecarHosts(namespace: string, calls: string[]): string[] {
    const hosts = ["./*", `${ROOT_NAMESPACE}/*`];
    for (const host of calls) {
        const ns = hostNamespace(host);
        // Its own namespace and the root namespace are already visible (Istio warns on a duplicate egress host).
        if (ns === namespace || ns === ROOT_NAMESPACE) continue;
        const entry = `${ns}/${host}`;
        if (!hosts.includes(entry)) hosts.push(entry);
    }
    return hosts;
}

/** Namespaces per cluster: each listed namespace in its clusters (default every cluster). */
export function namespacesByCluster(traffic: TrafficConfig, clusters: string[]): Record<string, string[]> {
    const out: Record<string, string[]> = Object.fromEntries(clusters.map((c) => [c, [] as string[]]));
    for (const ns of traffic.namespaces) {
        for (const c of ns.clusters ?? clusters) if (out[c] && !out[c].includes(ns.name)) out[c].push(ns.name);
    }
    return out;
}

export function compileTraffic(traffic: TrafficConfig | undefined, clusters: TrafficCluster[]): TrafficPlan {
    const t = traffic ?? TRAFFIC_DEFAULT;
    const configClusters = clusters.filter((c) => c.role === "primary").map((c) => c.name);
    const regions = [...new Set(clusters.map((c) => c.region).filter((r): r is string => typeof r === "string"))].sort();
    const objects: IstioObject[] = [];
    const policies: CompiledPolicy[] = [];
    for (const p of t.policies) {
        const dr = destinationRule(t, p, regions);
        objects.push(dr.object);
        policies.push(dr.policy);
    }
    // Several dependencies of one client namespace make one Sidecar (one `default` per namespace).
    const calls = new Map<string, string[]>();
    for (const d of t.dependencies) calls.set(d.client.namespace, [...(calls.get(d.client.namespace) ?? []), ...d.calls]);
    for (const [namespace, hosts] of calls) {
        objects.push({
            apiVersion: NETWORKING_API,
            kind: "Sidecar",
            metadata: { name: DEFAULT_SIDECAR, namespace },
            spec: { egress: [{ hosts: sidecarHosts(namespace, hosts) }] },
        });
    }
    for (const o of t.objects) {
        const meta = (o.metadata ?? {}) as IstioObject["metadata"];
        objects.push({ ...(o as unknown as IstioObject), metadata: { ...meta, namespace: meta.namespace ?? ROOT_NAMESPACE } });
    }
    const meshConfig: Record<string, unknown> = {};
    if (t.dnsProxying) meshConfig.defaultConfig = { proxyMetadata: { [DNS_CAPTURE_ENV]: "true" } };
    if (t.clusterLocal.length > 0) meshConfig.serviceSettings = [{ settings: { clusterLocal: true }, hosts: [...t.clusterLocal] }];
    return {
        configClusters,
        objects,
        namespaces: namespacesByCluster(
            t,
            clusters.map((c) => c.name),
        ),
        istiodValues: Object.keys(meshConfig).length > 0 ? { meshConfig } : {},
        policies,
    };
}
