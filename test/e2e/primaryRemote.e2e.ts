// Primary-remote, for real: a primary, a remote on its network and a remote on a network of its own
// (its webhooks reach the primary's east-west address), then another remote, a network move, a
// traffic rule and a respelled server. test/e2e/drive.ts runs each phase.
import { describe } from "vitest";
import { respelledKubeconfig } from "../../e2e/clusters";
import { driveTopology, type MeshCluster } from "./drive";

const base: MeshCluster[] = [
    { name: "main", network: "net-a", role: "primary" },
    { name: "near", network: "net-a", role: "remote", primary: "main" },
    { name: "far", network: "net-b", role: "remote", primary: "main" },
];
const withEdge: MeshCluster[] = [...base, { name: "edge", network: "net-b", role: "remote", primary: "main" }];
const moved = withEdge.map((c) => (c.name === "near" ? { ...c, network: "net-c" } : c));
const traffic = {
    dnsProxying: true,
    namespaces: [{ name: "shop" }],
    policies: [
        {
            host: "cart.shop.svc.cluster.local",
            namespace: "shop",
            mode: "failover",
            failover: [
                { from: "region-a", to: "region-b" },
                { from: "region-b", to: "region-a" },
            ],
            outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
        },
    ],
};

describe.sequential("primary-remote, real engine", () => {
    driveTopology({
        name: "primary-remote",
        topology: "primary-remote",
        clusterNames: ["main", "near", "far", "edge"],
        initial: base,
        charts: "helm repository",
        gate: true,
        changes: [
            { name: "add a cluster", clusters: () => withEdge },
            { name: "move a cluster to another network", clusters: () => moved },
            { name: "add a traffic rule", clusters: () => moved, traffic },
            {
                name: "respell a cluster's kubeconfig server",
                clusters: (live, dir) =>
                    moved.map((c) => (c.name === "main" ? { ...c, kubeconfig: respelledKubeconfig(live.main, dir) } : c)),
                keepsUids: "main",
            },
        ],
    });
});
