// Which clusters get an east-west gateway (`clusters[].eastWestGateway.enabled: auto | true | false`).
// Each one is a paid load balancer, so `auto` (the default) gives a cluster one only when it needs
// its own:
//   - a primary of primary-remote: its remotes reach its istiod through it (15012 xDS, 15017 webhooks);
//   - in a multi-network mesh, a primary (its network's gateway for 15443 cross-network traffic);
//   - in a multi-network mesh, a remote that is NOT on its primary's network.
// A remote on its primary's network gets none: istiod finds a network's gateways by the
// topology.istio.io/network label on their Service (`getGatewayDetails`,
// pilot/pkg/serviceregistry/kube/controller/network.go at 1.30.3) and, for an endpoint on another
// network, sends the client to that network's gateways (`selectNetworkGateways` falls back from
// network+cluster to all gateways of the network, pilot/pkg/xds/endpoints/ep_filters.go at 1.30.3).
// The primary's gateway is on the remote's network and reaches the remote's pods directly, so it
// serves them; the remote's own pods leave through the destination network's gateway. The remote
// already depends on that primary (its istiod), so sharing its gateway adds no new failure
// dependence. Remotes that share a network without their primary keep one each (none of them
// depends on another). `true` forces a gateway; `false` is refused where a network of a
// multi-network mesh would be left without one, or on a primary that exposes istiod.
// Validation (components/meshConfig.ts) and the plan (components/meshPlan.ts) both call placeGateways.

export type GatewaySetting = "auto" | true | false;

export interface PlacementCluster {
    name?: unknown;
    network?: unknown;
    role?: unknown;
    primary?: unknown;
    eastWestGateway?: { enabled?: unknown };
}

export interface Placement {
    /** Whether the cluster gets an east-west gateway. */
    gateway: boolean;
    /** Why, in a few words, for the plan output ("serves network n1 (15443)"). */
    why: string;
}

/** Placement per cluster (config order) and the problems of `enabled: false`, each with the index of its cluster. */
export function placeGateways(
    clusters: readonly PlacementCluster[],
    topology: unknown,
    defaultNetwork: string,
): { placements: Placement[]; problems: { index: number; message: string }[] } {
    const network = (c: PlacementCluster) => (typeof c.network === "string" ? c.network : defaultNetwork);
    const role = (c: PlacementCluster) => (c.role === "remote" ? "remote" : "primary");
    const multiNetwork = new Set(clusters.map(network)).size > 1;
    const primaryRemote = topology === "primary-remote";
    const firstPrimary = clusters.find((c) => role(c) === "primary");
    const primaryOf = (c: PlacementCluster) => (typeof c.primary === "string" ? clusters.find((x) => x.name === c.primary) : firstPrimary);
    const setting = (c: PlacementCluster): GatewaySetting => {
        const e = c.eastWestGateway?.enabled;
        return e === true || e === false ? e : "auto";
    };

    // What `auto` decides, and why.
    const needs = clusters.map((c): { gateway: boolean; why: string; exposesIstiod: boolean } => {
        const net = network(c);
        if (role(c) === "primary") {
            if (primaryRemote) {
                const serves = multiNetwork ? ` and serves network ${net} (15443)` : "";
                return { gateway: true, why: `exposes istiod to remotes (15012/15017)${serves}`, exposesIstiod: true };
            }
            if (multiNetwork) return { gateway: true, why: `serves network ${net} (15443)`, exposesIstiod: false };
            return { gateway: false, why: "one network: no cross-network traffic", exposesIstiod: false };
        }
        if (!multiNetwork) {
            return { gateway: false, why: "one network: reaches istiod through its primary's gateway", exposesIstiod: false };
        }
        const p = primaryOf(c);
        if (p && network(p) === net) {
            return { gateway: false, why: `on its primary's network ${net}: ${String(p.name)}'s gateway serves it`, exposesIstiod: false };
        }
        return { gateway: true, why: `serves network ${net} (15443); its primary is on another network`, exposesIstiod: false };
    });

    const placements = clusters.map((c, i): Placement => {
        const s = setting(c);
        if (s === "auto") return { gateway: needs[i].gateway, why: needs[i].why };
        if (s === true) {
            return { gateway: true, why: needs[i].gateway ? needs[i].why : `enabled: true (auto would skip it: ${needs[i].why})` };
        }
        return { gateway: false, why: "enabled: false" };
    });

    const problems: { index: number; message: string }[] = [];
    clusters.forEach((c, i) => {
        if (setting(c) !== false) return;
        const net = network(c);
        if (needs[i].exposesIstiod) {
            problems.push({
                index: i,
                message:
                    "false is not allowed on a primary of primary-remote: its remotes reach istiod through its east-west gateway " +
                    "(15012/15017); remove it, or use auto",
            });
            return;
        }
        if (!multiNetwork) return;
        const servers = clusters.filter((x, j) => network(x) === net && placements[j].gateway).map((x) => String(x.name));
        if (servers.length === 0) {
            const others = clusters.filter((x, j) => j !== i && network(x) === net).map((x) => String(x.name));
            problems.push({
                index: i,
                message:
                    `false leaves network ${net} without an east-west gateway, so no other network can reach its pods (15443)` +
                    (others.length ? `; keep auto here or set enabled: true on one of ${others.join(", ")}` : "; remove it, or use auto"),
            });
        } else {
            placements[i] = { gateway: false, why: `enabled: false; network ${net} is served by ${servers.join(", ")}` };
        }
    });
    return { placements, problems };
}
