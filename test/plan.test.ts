// Pure tests of the plan: roles, values, gateways, Istio objects and the remote-secret matrix for
// each install model, checked against each supported minor's chart keys, gateway schema and CRD
// schemas (components/data/istio/<minor>/).
import { describe, expect, it } from "vitest";
import { MeshConfig, validateMeshConfig } from "../config";
import {
    crossNetworkGatewaySpec,
    istiodGatewaySpec,
    istiodVirtualServiceSpec,
    planMesh,
    primaryIstiodValues,
    remoteValues,
} from "../components/meshPlan";

/** The mesh's root certificate(s), as the remotes' webhooks get them (any PEM text: this is pure). */
const ROOT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const ROOT_B64 = Buffer.from(ROOT).toString("base64");
import { gatewaySchemaProblems, istioObjectProblems, valueKeyProblems } from "./support/istioSchemas";
import { ISTIO_HUB, ISTIO_VERSION, newestWithoutDefects, SUPPORTED_ISTIO } from "../components/istio";

/** The image settings every istiod release carries (components/istioSource.ts imageValues), at the defaults. */
const IMG = { hub: ISTIO_HUB, tag: ISTIO_VERSION };

function mesh(topology: string, clusters: Record<string, unknown>[], extra: Record<string, unknown> = {}): MeshConfig {
    const raw = {
        meshId: "mesh1",
        topology,
        clusters: clusters.map((c, i) => ({ kubeconfig: "/absent", apiServer: `https://10.0.${i}.1:6443`, ...c })),
        ...extra,
    };
    const r = validateMeshConfig(raw, { readFile: () => undefined });
    if (!r.ok) throw new Error(r.problems.join("\n"));
    return r.config.mesh;
}

describe("plan: multi-primary, one network", () => {
    const plan = planMesh(mesh("multi-primary", [{ name: "c1" }, { name: "c2" }]));
    it("installs base and a full istiod everywhere, with the multi-primary values", () => {
        expect(plan.multiNetwork).toBe(false);
        expect(plan.clusters.map((c) => [c.name, c.role, c.runsIstiod])).toEqual([
            ["c1", "primary", true],
            ["c2", "primary", true],
        ]);
        expect(plan.clusters[0].baseValues).toEqual({});
        expect(plan.clusters[0].istiodValues).toEqual({
            ...IMG,
            global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: "c1" }, network: "network1" },
        });
        expect(plan.clusters[1].istiodValues).toEqual({
            ...IMG,
            global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: "c2" }, network: "network1" },
        });
    });
    it("needs no gateway, no Istio objects and no namespace label", () => {
        for (const c of plan.clusters) {
            expect(c.eastWestGateway).toBeUndefined();
            expect(c.crossNetworkGateway).toBe(false);
            expect(c.exposeIstiod).toBe(false);
            expect(c.namespace).toEqual({ labels: {}, annotations: {} });
        }
    });
    it("exchanges remote secrets both ways", () => {
        expect(plan.remoteSecrets).toEqual([
            { source: "c2", target: "c1" },
            { source: "c1", target: "c2" },
        ]);
    });
});

describe("plan: multi-primary, three networks", () => {
    const plan = planMesh(
        mesh("multi-primary", [
            { name: "a", network: "n1" },
            { name: "b", network: "n2" },
            { name: "c", network: "n3" },
        ]),
    );
    it("labels every istio-system with its network and gives every cluster a gateway and cross-network-gateway", () => {
        expect(plan.networks).toEqual(["n1", "n2", "n3"]);
        for (const c of plan.clusters) {
            expect(c.namespace.labels).toEqual({ "topology.istio.io/network": c.network });
            expect(c.eastWestGateway?.values).toEqual({
                name: "istio-eastwestgateway",
                networkGateway: c.network,
                service: { type: "None" },
            });
            expect(c.eastWestGateway?.service.spec.type).toBe("LoadBalancer");
            expect(c.crossNetworkGateway).toBe(true);
            expect(c.exposeIstiod).toBe(false);
        }
    });
    it("has every ordered pair in the secret matrix: N(N-1)", () => {
        expect(plan.remoteSecrets).toHaveLength(6);
        expect(plan.clusters.find((c) => c.name === "b")!.readsFrom).toEqual(["a", "c"]);
        expect(plan.clusters.find((c) => c.name === "b")!.readBy).toEqual(["a", "c"]);
    });
    it("passes the user's gateway settings to the chart", () => {
        const p = planMesh(
            mesh("multi-primary", [
                { name: "a", network: "n1", eastWestGateway: { loadBalancerIP: "10.1.1.1", serviceAnnotations: { "x/y": "z" } } },
                { name: "b", network: "n2" },
            ]),
        );
        expect(p.clusters[0].eastWestGateway?.service.metadata.annotations).toEqual({ "x/y": "z" });
        expect(p.clusters[0].eastWestGateway?.service.spec.loadBalancerIP).toBe("10.1.1.1");
    });
});

describe("plan: primary-remote, one network", () => {
    const plan = planMesh(mesh("primary-remote", [{ name: "cluster1" }, { name: "cluster2", role: "remote" }]));
    const [primary, remote] = plan.clusters;
    it("runs istiod with externalIstiod on the primary only (primary-remote)", () => {
        expect(primary.istiodValues).toEqual({
            ...IMG,
            global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: "cluster1" }, network: "network1", externalIstiod: true },
        });
        expect(primary.runsIstiod).toBe(true);
        expect(remote.runsIstiod).toBe(false);
        expect(remote.primary).toBe("cluster1");
    });
    it("exposes istiod through the primary's gateway, and no cross-network gateway", () => {
        expect(primary.eastWestGateway).toBeDefined();
        expect(primary.exposeIstiod).toBe(true);
        expect(remote.eastWestGateway).toBeUndefined();
        expect(plan.clusters.some((c) => c.crossNetworkGateway)).toBe(false);
    });
    it("annotates the remote's namespace with its control plane", () => {
        expect(remote.namespace).toEqual({ labels: {}, annotations: { "topology.istio.io/controlPlaneClusters": "cluster1" } });
    });
    it("gives the remote profile=remote values with the primary's address (IP → injectionPath), its webhooks pinned to the root", () => {
        expect(remote.baseValues).toEqual({ profile: "remote" });
        expect(remoteValues(plan, remote, "192.0.2.10", ROOT)).toEqual({
            base: { profile: "remote", base: { validationCABundle: ROOT_B64 } },
            istiod: {
                profile: "remote",
                ...IMG,
                global: { ...IMG, multiCluster: { clusterName: "cluster2" }, configCluster: true, remotePilotAddress: "192.0.2.10" },
                istiodRemote: { injectionPath: "/inject/cluster/cluster2/net/network1" },
                base: { validationCABundle: ROOT_B64 },
            },
        });
    });
    it("for a hostname address, points every webhook at port 15017: injection, and validation in both base and istiod", () => {
        const v = remoteValues(plan, remote, "abc.elb.us-east-1.amazonaws.com", ROOT);
        expect(v.istiod.istiodRemote).toEqual({
            injectionURL: "https://abc.elb.us-east-1.amazonaws.com:15017/inject/cluster/cluster2/net/network1",
        });
        const validation = { validationURL: "https://abc.elb.us-east-1.amazonaws.com:15017/validate", validationCABundle: ROOT_B64 };
        expect(v.base).toEqual({ profile: "remote", base: validation });
        // The istiod chart renders its own ValidatingWebhookConfiguration from base.validationURL.
        expect(v.istiod.base).toEqual(validation);
        expect((v.istiod.global as Record<string, unknown>).remotePilotAddress).toBe("abc.elb.us-east-1.amazonaws.com");
    });
    it("names the hostname in the primary's istiod certificate (ISTIOD_CUSTOM_HOST), and nothing for an IP", () => {
        expect(primaryIstiodValues(primary, "abc.elb.us-east-1.amazonaws.com").env).toEqual({
            ISTIOD_CUSTOM_HOST: "abc.elb.us-east-1.amazonaws.com",
        });
        expect(primaryIstiodValues(primary, "192.0.2.10")).toEqual(primary.istiodValues);
    });
    it("makes the gateway's LoadBalancer Service itself, with the chart's network-gateway ports, and turns the chart's off", () => {
        expect(primary.eastWestGateway!.values).toEqual({
            name: "istio-eastwestgateway",
            networkGateway: "network1",
            service: { type: "None" },
        });
        const svc = primary.eastWestGateway!.service;
        expect(svc.spec.type).toBe("LoadBalancer");
        expect((svc.spec.ports as { port: number }[]).map((p) => p.port)).toEqual([15021, 15443, 15012, 15017]);
        expect(svc.spec.selector).toEqual({ app: "istio-eastwestgateway", istio: "eastwestgateway" });
        expect(svc.metadata.labels["topology.istio.io/network"]).toBe("network1");
    });
    it("treats an IPv6 literal as an IP", () => {
        expect(remoteValues(plan, remote, "2001:db8::10", ROOT).istiod.istiodRemote).toEqual({
            injectionPath: "/inject/cluster/cluster2/net/network1",
        });
    });
    it("lets only the primary read the remote", () => {
        expect(plan.remoteSecrets).toEqual([{ source: "cluster2", target: "cluster1" }]);
    });
});

describe("plan: primary-remote, two networks", () => {
    const plan = planMesh(
        mesh("primary-remote", [
            { name: "cluster1", network: "network1" },
            { name: "cluster2", role: "remote", network: "network2" },
        ]),
    );
    const [primary, remote] = plan.clusters;
    it("gives both clusters gateways but only the primary the cross-network Gateway (primary-remote, several networks)", () => {
        expect(primary.eastWestGateway?.values.networkGateway).toBe("network1");
        expect(remote.eastWestGateway?.values.networkGateway).toBe("network2");
        expect(primary.crossNetworkGateway).toBe(true);
        expect(remote.crossNetworkGateway).toBe(false);
        expect(primary.exposeIstiod).toBe(true);
    });
    it("labels and annotates the remote's namespace, and sets its network in the injection path", () => {
        expect(remote.namespace).toEqual({
            labels: { "topology.istio.io/network": "network2" },
            annotations: { "topology.istio.io/controlPlaneClusters": "cluster1" },
        });
        const v = remoteValues(plan, remote, "192.0.2.10", ROOT);
        expect(v.istiod.global).toEqual({
            ...IMG,
            multiCluster: { clusterName: "cluster2" },
            network: "network2",
            configCluster: true,
            remotePilotAddress: "192.0.2.10",
        });
        expect(v.istiod.istiodRemote).toEqual({ injectionPath: "/inject/cluster/cluster2/net/network2" });
    });
});

describe("plan: several primaries with remotes", () => {
    const plan = planMesh(
        mesh("primary-remote", [
            { name: "p1", network: "n1" },
            { name: "p2", network: "n2" },
            { name: "r1", role: "remote", primary: "p1", network: "n1" },
            { name: "r2", role: "remote", primary: "p2", network: "n2" },
        ]),
    );
    it("lets every primary read every other cluster, and remotes read nobody", () => {
        const reads = Object.fromEntries(plan.clusters.map((c) => [c.name, c.readsFrom]));
        expect(reads).toEqual({ p1: ["p2", "r1", "r2"], p2: ["p1", "r1", "r2"], r1: [], r2: [] });
        expect(plan.clusters.find((c) => c.name === "r2")!.namespace.annotations).toEqual({
            "topology.istio.io/controlPlaneClusters": "p2",
        });
    });
});

describe("plan: the escape hatch", () => {
    it("deep-merges istio.values last into every istiod", () => {
        const plan = planMesh(
            mesh("primary-remote", [{ name: "p" }, { name: "r", role: "remote" }], {
                istio: { values: { env: { PILOT_REMOTE_CLUSTER_TIMEOUT: "15s" }, global: { logging: { level: "default:debug" } } } },
            }),
        );
        expect(plan.clusters[0].istiodValues).toMatchObject({
            env: { PILOT_REMOTE_CLUSTER_TIMEOUT: "15s" },
            global: { meshID: "mesh1", logging: { level: "default:debug" } },
        });
        expect(remoteValues(plan, plan.clusters[1], "192.0.2.1", ROOT).istiod).toMatchObject({
            env: { PILOT_REMOTE_CLUSTER_TIMEOUT: "15s" },
            global: { remotePilotAddress: "192.0.2.1" },
        });
    });
});

// Every supported minor's charts, by table: the values the plan writes for that version exist in its
// charts (keys, the gateway's values.schema.json) and its objects pass its CRDs.
describe.each(SUPPORTED_ISTIO.minors.map((m) => newestWithoutDefects(m)!))("plan values against the Istio %s charts", (version) => {
    const istio = { version, imagePullSecrets: ["pull-secret"] };
    const plans = [
        planMesh(
            mesh(
                "multi-primary",
                [
                    { name: "a", network: "n1", eastWestGateway: { loadBalancerIP: "10.0.0.9", serviceAnnotations: { a: "b" } } },
                    { name: "b", network: "n2" },
                ],
                { istio },
            ),
        ),
        planMesh(
            mesh(
                "primary-remote",
                [
                    { name: "p", network: "n1" },
                    { name: "r", role: "remote", network: "n2" },
                ],
                { istio },
            ),
        ),
    ];
    it("sets only keys that exist in the charts' defaults", () => {
        for (const plan of plans) {
            for (const c of plan.clusters) {
                expect(valueKeyProblems("base", c.baseValues, version)).toEqual([]);
                expect(valueKeyProblems("istiod", c.istiodValues, version)).toEqual([]);
                if (c.role === "remote") {
                    for (const address of ["192.0.2.1", "lb.example.com"]) {
                        const v = remoteValues(plan, c, address, ROOT);
                        expect(valueKeyProblems("base", v.base, version)).toEqual([]);
                        expect(valueKeyProblems("istiod", v.istiod, version)).toEqual([]);
                    }
                }
                if (c.eastWestGateway) expect(valueKeyProblems("gateway", c.eastWestGateway.values, version)).toEqual([]);
            }
        }
    });
    it("gives the gateway chart values that pass its values.schema.json", () => {
        for (const plan of plans)
            for (const c of plan.clusters)
                if (c.eastWestGateway) {
                    expect(c.eastWestGateway.values.imagePullSecrets).toEqual([{ name: "pull-secret" }]);
                    expect(gatewaySchemaProblems(c.eastWestGateway.values, version)).toEqual([]);
                }
    });
    it("the key check is not vacuous: a misspelt key is caught", () => {
        expect(valueKeyProblems("istiod", { global: { meshId: "x" } }, version)).not.toEqual([]);
        expect(gatewaySchemaProblems({ name: "x", networkGatway: "n" }, version)).not.toEqual([]);
    });
    it("builds Istio objects that pass the CRD schemas", () => {
        const objects = [
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Gateway",
                metadata: { name: "cross-network-gateway", namespace: "istio-system" },
                spec: crossNetworkGatewaySpec(),
            },
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Gateway",
                metadata: { name: "istiod-gateway", namespace: "istio-system" },
                spec: istiodGatewaySpec(),
            },
            {
                apiVersion: "networking.istio.io/v1",
                kind: "VirtualService",
                metadata: { name: "istiod-vs", namespace: "istio-system" },
                spec: istiodVirtualServiceSpec(),
            },
        ];
        for (const o of objects) expect(istioObjectProblems(o, version)).toEqual([]);
        expect(istioObjectProblems({ ...objects[0], spec: { servers: [{ port: { number: "x" } }] } }, version)).not.toEqual([]);
    });
});
