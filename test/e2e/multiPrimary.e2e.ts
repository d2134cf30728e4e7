// Multi-primary on two networks, for real: three clusters (east and west on net-a, central on
// net-b), then a fourth, a network move, a traffic rule, a respelled server and rotated
// credentials. test/e2e/drive.ts runs each phase.
import { describe } from "vitest";
import { respelledKubeconfig, rotatedKubeconfig } from "../../e2e/clusters";
import { driveTopology, type MeshCluster } from "./drive";

const base: MeshCluster[] = [
    { name: "east", network: "net-a" },
    { name: "west", network: "net-a" },
    { name: "central", network: "net-b" },
];
const withNorth = [...base, { name: "north", network: "net-b" }];
const moved = withNorth.map((c) => (c.name === "west" ? { ...c, network: "net-b" } : c));
const traffic = {
    dnsProxying: true,
    namespaces: [{ name: "payments" }],
    policies: [
        {
            host: "api.payments.svc.cluster.local",
            namespace: "payments",
            mode: "failover",
            failover: [
                { from: "region-a", to: "region-b" },
                { from: "region-b", to: "region-a" },
            ],
            outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" },
        },
    ],
};

describe.sequential("multi-primary, two networks, real engine", () => {
    driveTopology({
        name: "multi-primary",
        topology: "multi-primary",
        clusterNames: ["east", "west", "central", "north"],
        initial: base,
        charts: "local folder",
        faults: true,
        changes: [
            { name: "add a cluster", clusters: () => withNorth },
            { name: "move a cluster to another network", clusters: () => moved },
            { name: "add a traffic rule", clusters: () => moved, traffic },
            {
                name: "respell a cluster's kubeconfig server",
                clusters: (live, dir) =>
                    moved.map((c) => (c.name === "east" ? { ...c, kubeconfig: respelledKubeconfig(live.east, dir) } : c)),
                keepsUids: "east",
            },
            {
                name: "pin a new identity on the same cluster",
                clusters: (live, dir) =>
                    moved.map((c) =>
                        c.name === "east" ? { ...c, kubeconfig: respelledKubeconfig(live.east, dir), identity: "forced-new" } : c,
                    ),
                refused: /mesh\.clusters\[0\]\.identity: "forced-new" would replace the provider of cluster east .* same CA/,
            },
            {
                name: "rotate a cluster's credentials",
                clusters: (live, dir) =>
                    moved.map((c) =>
                        c.name === "east" ? { ...c, kubeconfig: rotatedKubeconfig(live.east, dir, live.east.apiServerByName) } : c,
                    ),
                keepsUids: "east",
            },
        ],
    });
});
