// The public shape of the `traffic` block, as the library's `Mesh` args take it (components/mesh.ts).
// The stack config's `multicluster-mesh:mesh.traffic` has the same fields; both are checked by
// components/traffic/validate.ts with the same messages. docs/traffic.md is the reference.

/**
 * Istio's OutlierDetection fields this program sets
 * (https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection).
 */
export interface OutlierDetectionArgs {
    /** 5xx responses in a row before an endpoint is ejected (0 turns this trigger off). */
    consecutive5xxErrors?: number;
    /** 502/503/504 or connection errors in a row before an endpoint is ejected (0 turns it off). */
    consecutiveGatewayErrors?: number;
    /** Time between ejection sweeps, a Go duration ("10s", "1m30s", "500ms"). */
    interval?: string;
    /** How long an endpoint stays ejected the first time (a Go duration). */
    baseEjectionTime?: string;
    /** At most this share (0–100) of a service's endpoints can be ejected at once. */
    maxEjectionPercent?: number;
    /** Outlier detection stops when fewer than this share (0–100) of endpoints are healthy. */
    minHealthPercent?: number;
}

/** One service host's cross-region policy, compiled to one DestinationRule in every config cluster. */
export interface TrafficPolicyArgs {
    /** The service host: an FQDN (payments.payments.svc.cluster.local) or `*.`-prefixed. */
    host: string;
    /** Where the DestinationRule lives (default: the root namespace istio-system, so it applies whatever namespace the service has). */
    namespace?: string;
    /**
     * `locality`: prefer the caller's own locality, fail over to the next; `failover`: ordered region
     * pairs; `weighted`: a share per region.
     */
    mode: "locality" | "failover" | "weighted";
    /** mode failover: when `from`'s endpoints are unhealthy, traffic from `from` goes to `to`. */
    failover?: { from: string; to: string }[];
    /** mode locality or failover: Istio's failoverPriority (label names, or `label=value`). */
    failoverPriority?: string[];
    /** mode weighted: per region, its share of every caller's traffic (integers 1–100, summing to 100). */
    weights?: Record<string, number>;
    /** Field by field over the traffic block's `outlierDetection`. */
    outlierDetection?: OutlierDetectionArgs;
}

export interface TrafficArgs {
    /** Turn on the sidecars' DNS proxy (ISTIO_META_DNS_CAPTURE) in every istiod's mesh config. */
    dnsProxying?: boolean;
    /** Hosts whose endpoints stay in the caller's own cluster (meshConfig.serviceSettings clusterLocal). */
    clusterLocal?: string[];
    /** Namespace sameness: these namespaces, with sidecar injection on, in the clusters listed (default every cluster). */
    namespaces?: { name: string; clusters?: string[] }[];
    /** The mesh's outlier-detection defaults, for every policy (docs/traffic.md states the built-in ones). */
    outlierDetection?: OutlierDetectionArgs;
    /** One per service host. */
    policies?: TrafficPolicyArgs[];
    /** Admiral's Dependency: the client namespace's sidecars see only the hosts it calls. */
    dependencies?: { client: { namespace: string }; calls: string[] }[];
    /** Any other networking.istio.io or security.istio.io object, written as given to every config cluster. */
    objects?: Record<string, unknown>[];
}
