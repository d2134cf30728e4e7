// The traffic block (components/traffic/): pure compilation per mode, every validation rule with its
// message and path, Istio's own rules as ported from istio/istio 1.30.3, the CRD-schema validity of
// every compiled object, the objects in the right clusters under the mock runtime (multi-primary:
// every cluster, identical; primary-remote: only where istiod reads them), the shipped example stack
// planned offline, and the mesh diff's sentences about policy changes.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { validateMeshConfig } from "../components/meshConfig";
import { planMesh } from "../components/meshPlan";
import {
    compileTraffic,
    DEFAULT_OUTLIER_DETECTION,
    destinationRuleName,
    hostNamespace,
    IstioObject,
    TrafficCluster,
} from "../components/traffic/compile";
import {
    durationProblem,
    hostProblem,
    localityLbProblems,
    parseGoDuration,
    sidecarHostProblem,
    wildcardDomainProblem,
} from "../components/traffic/istioRules";
import { trafficSchema } from "../components/traffic/schema";
import { diffPlans } from "../offline/meshDiff";
import { buildPlanFile } from "../offline/planFile";
import { trafficLegend } from "../offline/trafficPlan";
import { cluster, dependsOn, MeshRun, one, runMesh } from "./support/harness";
import { istioObjectProblems } from "./support/istioSchemas";
import { SUPPORTED_ISTIO } from "../components/istio";
import { planStack, tempDir } from "./support/planRun";

const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" };
const PAYMENTS = "payments.payments.svc.cluster.local";
const TWO_REGIONS: TrafficCluster[] = [
    { name: "east", role: "primary", region: "us-east1" },
    { name: "west", role: "primary", region: "us-west1" },
];

const compile = (traffic: unknown, clusters: TrafficCluster[] = TWO_REGIONS) => compileTraffic(trafficSchema.parse(traffic), clusters);
const drOf = (objects: IstioObject[]) => objects.find((o) => o.kind === "DestinationRule")!;

/** A stack config with two existing clusters in two regions and the given traffic block. */
function meshWith(traffic: unknown, extra: Record<string, unknown> = {}, clusters?: Record<string, unknown>[]): Record<string, unknown> {
    return {
        meshId: "m",
        topology: "multi-primary",
        trust: FAST,
        clusters: clusters ?? [cluster("east", 1, { region: "us-east1" }), cluster("west", 2, { region: "us-west1" })],
        traffic,
        ...extra,
    };
}
function problems(raw: unknown, env: Parameters<typeof validateMeshConfig>[1] = { readFile: () => undefined }): string[] {
    const r = validateMeshConfig(raw, env);
    return r.ok ? [] : r.problems;
}

describe("compilation, per mode", () => {
    it("locality: Istio's locality failover, with failoverPriority when given, and the default outlier detection", () => {
        const plan = compile({ policies: [{ host: PAYMENTS, mode: "locality", failoverPriority: ["topology.istio.io/cluster"] }] });
        expect(plan.objects).toEqual([
            {
                apiVersion: "networking.istio.io/v1",
                kind: "DestinationRule",
                metadata: { name: "payments-payments-svc-cluster-local", namespace: "istio-system" },
                spec: {
                    host: PAYMENTS,
                    trafficPolicy: {
                        loadBalancer: { localityLbSetting: { enabled: true, failoverPriority: ["topology.istio.io/cluster"] } },
                        outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 100 },
                    },
                },
            },
        ]);
        const plain = compile({ policies: [{ host: PAYMENTS, mode: "locality" }] });
        expect((drOf(plain.objects).spec.trafficPolicy as any).loadBalancer).toEqual({ localityLbSetting: { enabled: true } });
        expect(plan.configClusters).toEqual(["east", "west"]);
        expect(plan.istiodValues).toEqual({});
    });

    it("failover: the ordered region pairs, in the policy's namespace when it names one", () => {
        const plan = compile({
            namespaces: [{ name: "payments" }],
            policies: [{ host: PAYMENTS, namespace: "payments", mode: "failover", failover: [{ from: "us-east1", to: "us-west1" }] }],
        });
        const dr = drOf(plan.objects);
        expect(dr.metadata).toEqual({ name: "payments-payments-svc-cluster-local", namespace: "payments" });
        expect((dr.spec.trafficPolicy as any).loadBalancer.localityLbSetting).toEqual({
            enabled: true,
            failover: [{ from: "us-east1", to: "us-west1" }],
        });
        expect(plan.policies).toEqual([
            {
                host: PAYMENTS,
                namespace: "payments",
                name: "payments-payments-svc-cluster-local",
                mode: "failover",
                failover: [{ from: "us-east1", to: "us-west1" }],
                failoverPriority: [],
                weights: {},
                outlierDetection: { ...DEFAULT_OUTLIER_DETECTION },
            },
        ]);
    });

    it("weighted: one distribute entry per source region that has a cluster, `<region>/*` keys, weights as given", () => {
        const clusters: TrafficCluster[] = [
            ...TWO_REGIONS,
            { name: "east2", role: "primary", region: "us-east1" },
            { name: "eu", role: "remote", region: "europe-west1" },
        ];
        const plan = compile({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-west1": 20, "us-east1": 80 } }] }, clusters);
        const to = { "us-east1/*": 80, "us-west1/*": 20 };
        expect((drOf(plan.objects).spec.trafficPolicy as any).loadBalancer.localityLbSetting).toEqual({
            enabled: true,
            distribute: [
                { from: "europe-west1/*", to },
                { from: "us-east1/*", to },
                { from: "us-west1/*", to },
            ],
        });
        // Only primaries read config: the remote's region is a source, but nothing is written there.
        expect(plan.configClusters).toEqual(["east", "west", "east2"]);
    });

    it("outlier detection: the built-in defaults, then the traffic block's, then the policy's, field by field", () => {
        const plan = compile({
            outlierDetection: { interval: "5s", consecutiveGatewayErrors: 3 },
            policies: [
                { host: PAYMENTS, mode: "locality" },
                { host: "ledger.ledger.svc.cluster.local", mode: "locality", outlierDetection: { interval: "1s", maxEjectionPercent: 50 } },
            ],
        });
        const ods = plan.objects.map((o) => (o.spec.trafficPolicy as any).outlierDetection);
        expect(ods[0]).toEqual({
            consecutive5xxErrors: 5,
            consecutiveGatewayErrors: 3,
            interval: "5s",
            baseEjectionTime: "30s",
            maxEjectionPercent: 100,
        });
        expect(ods[1]).toEqual({
            consecutive5xxErrors: 5,
            consecutiveGatewayErrors: 3,
            interval: "1s",
            baseEjectionTime: "30s",
            maxEjectionPercent: 50,
        });
    });

    it("dependencies: one Sidecar `default` per client namespace, egress ./*, istio-system/* and <ns>/<host> per call", () => {
        const plan = compile({
            namespaces: [{ name: "checkout" }],
            dependencies: [
                { client: { namespace: "checkout" }, calls: [PAYMENTS, "api.example.com"] },
                { client: { namespace: "checkout" }, calls: ["cart.checkout.svc.cluster.local", PAYMENTS, "*.ledger.svc.cluster.local"] },
            ],
        });
        expect(plan.objects).toEqual([
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Sidecar",
                metadata: { name: "default", namespace: "checkout" },
                spec: {
                    egress: [
                        {
                            hosts: [
                                "./*",
                                "istio-system/*",
                                `payments/${PAYMENTS}`,
                                "*/api.example.com",
                                "ledger/*.ledger.svc.cluster.local",
                            ],
                        },
                    ],
                },
            },
        ]);
        expect(hostNamespace("payments.payments.svc.cluster.local")).toBe("payments");
        expect(hostNamespace("api.example.com")).toBe("*");
    });

    it("namespaces: in the clusters listed, every cluster by default", () => {
        const plan = compile({ namespaces: [{ name: "payments" }, { name: "checkout", clusters: ["west"] }] });
        expect(plan.namespaces).toEqual({ east: ["payments"], west: ["payments", "checkout"] });
    });

    it("dnsProxying and clusterLocal: istiod's meshConfig (DNS capture; cluster-local service settings)", () => {
        const plan = compile({ dnsProxying: true, clusterLocal: ["*.kube-system.svc.cluster.local", "db.data.svc.cluster.local"] });
        expect(plan.istiodValues).toEqual({
            meshConfig: {
                defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true" } },
                serviceSettings: [
                    { settings: { clusterLocal: true }, hosts: ["*.kube-system.svc.cluster.local", "db.data.svc.cluster.local"] },
                ],
            },
        });
        // ISTIO_META_DNS_AUTO_ALLOCATE is not set: 1.30's agent no longer reads it and istiod warns about it.
        expect(JSON.stringify(plan.istiodValues)).not.toContain("AUTO_ALLOCATE");
    });

    it("objects: written as given, the root namespace when they name none", () => {
        const pa = {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default" },
            spec: { mtls: { mode: "STRICT" } },
        };
        const plan = compile({ objects: [pa] });
        expect(plan.objects).toEqual([{ ...pa, metadata: { name: "default", namespace: "istio-system" } }]);
    });

    it("names a DestinationRule after its host, with a hash when the host is too long for a name", () => {
        expect(destinationRuleName("*.example.com")).toBe("wildcard-example-com");
        const long = `${"a".repeat(40)}.${"b".repeat(30)}.svc.cluster.local`;
        const name = destinationRuleName(long);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).toMatch(/^a{40}-b{13}-[0-9a-f]{8}$/);
        expect(destinationRuleName(long)).toBe(name);
    });

    it("merges the meshConfig settings into every primary's istiod values only, under the user's values", () => {
        const r = validateMeshConfig(
            {
                meshId: "m",
                topology: "primary-remote",
                trust: FAST,
                istio: { values: { meshConfig: { defaultConfig: { proxyMetadata: { OTHER: "1" } } } } },
                clusters: [cluster("p", 1, { region: "us-east1" }), cluster("r", 2, { role: "remote", region: "us-west1" })],
                traffic: {
                    dnsProxying: true,
                    clusterLocal: ["*.kube-system.svc.cluster.local"],
                    policies: [{ host: PAYMENTS, mode: "locality" }],
                },
            },
            { readFile: () => undefined },
        );
        expect(r.ok, r.ok ? "" : r.problems.join("\n")).toBe(true);
        const plan = planMesh(r.ok ? r.config.mesh : (undefined as never));
        const [p, remote] = plan.clusters;
        expect(p.istiodValues.meshConfig).toEqual({
            defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true", OTHER: "1" } },
            serviceSettings: [{ settings: { clusterLocal: true }, hosts: ["*.kube-system.svc.cluster.local"] }],
        });
        expect(remote.istiodValues).toEqual({});
        expect(plan.traffic.configClusters).toEqual(["p"]);
        expect(plan.traffic.objects.map((o) => o.kind)).toEqual(["DestinationRule"]);
    });
});

// Every supported minor's CRDs, by table.
describe.each([...SUPPORTED_ISTIO.minors])("every compiled object passes the Istio %s CRD schemas", (minor) => {
    it("DestinationRules of every mode, Sidecars, and given objects", () => {
        const plan = compile({
            namespaces: [{ name: "checkout" }, { name: "payments" }],
            outlierDetection: { consecutiveGatewayErrors: 2, minHealthPercent: 10 },
            policies: [
                {
                    host: PAYMENTS,
                    mode: "failover",
                    failover: [{ from: "us-east1", to: "us-west1" }],
                    failoverPriority: ["topology.istio.io/cluster"],
                },
                { host: "ledger.ledger.svc.cluster.local", mode: "weighted", weights: { "us-east1": 70, "us-west1": 30 } },
                {
                    host: "*.cart.svc.cluster.local",
                    namespace: "payments",
                    mode: "locality",
                    failoverPriority: ["topology.kubernetes.io/region", "app=cart"],
                },
            ],
            dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS] }],
            objects: [
                {
                    apiVersion: "security.istio.io/v1",
                    kind: "PeerAuthentication",
                    metadata: { name: "default" },
                    spec: { mtls: { mode: "STRICT" } },
                },
                {
                    apiVersion: "networking.istio.io/v1",
                    kind: "ServiceEntry",
                    metadata: { name: "api", namespace: "checkout" },
                    spec: { hosts: ["api.example.com"], ports: [{ number: 443, name: "https", protocol: "TLS" }], resolution: "DNS" },
                },
            ],
        });
        expect(plan.objects.map((o) => o.kind)).toEqual([
            "DestinationRule",
            "DestinationRule",
            "DestinationRule",
            "Sidecar",
            "PeerAuthentication",
            "ServiceEntry",
        ]);
        for (const o of plan.objects) expect(istioObjectProblems(o, minor), `${o.kind} ${o.metadata.name}`).toEqual([]);
    });

    it("the schema check is not vacuous: a wrong field of a compiled shape fails", () => {
        const dr = drOf(compile({ policies: [{ host: PAYMENTS, mode: "locality" }] }).objects);
        const bad = structuredClone(dr);
        (bad.spec.trafficPolicy as any).loadBalancer.localityLbSetting.failovr = [];
        expect(istioObjectProblems(bad, minor)).toEqual([expect.stringContaining('must NOT have additional properties: "failovr"')]);
        const weight = structuredClone(
            drOf(compile({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 100 } }] }).objects),
        );
        (weight.spec.trafficPolicy as any).loadBalancer.localityLbSetting.distribute[0].to["us-east1/*"] = "100";
        expect(istioObjectProblems(weight, minor).join("\n")).toMatch(/must be integer/);
    });
});

describe("Istio's own rules (ported from istio/istio 1.30.3)", () => {
    it("ValidateLocalityLbSetting: each error and the outlier warning", () => {
        const d = (to: Record<string, number>, from = "us-east1/*") => ({ from, to });
        expect(localityLbProblems({ distribute: [d({ a: 100 })], failover: [{ from: "a", to: "b" }] }, true).errors).toEqual([
            "can not simultaneously specify 'distribute' and 'failover'",
        ]);
        expect(
            localityLbProblems({ failover: [{ from: "a", to: "b" }], failoverPriority: ["topology.kubernetes.io/zone"] }, true).errors,
        ).toEqual(["can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone' in 'failover_priority'"]);
        expect(localityLbProblems({ distribute: [d({ "a/*": 0, "b/*": 100 })] }, true).errors).toEqual([
            "locality weight must be in range [1, 100]",
        ]);
        expect(localityLbProblems({ distribute: [d({ "a/*": 101 })] }, true).errors).toEqual(["locality weight must be in range [1, 100]"]);
        expect(localityLbProblems({ distribute: [d({ "a/*": 60, "b/*": 30 })] }, true).errors).toEqual(["total locality weight 90 != 100"]);
        expect(localityLbProblems({ distribute: [d({ "a/*/z": 100 })] }, true).errors).toEqual([
            "locality a/*/z wildcard '*' number can not exceed 1 and must be in the end",
        ]);
        expect(localityLbProblems({ distribute: [d({ "a/*": 50, "a/z1": 50 })] }, true).errors).toEqual([
            "locality a/z1 overlap with previous specified ones",
        ]);
        expect(localityLbProblems({ distribute: [d({ "a//z": 100 })] }, true).errors).toEqual([
            "locality a//z must not contain empty region/zone/subzone info",
        ]);
        expect(localityLbProblems({ distribute: [d({ "a/*": 100 }, "x/*"), d({ "a/*": 100 }, "x/*")] }, true).errors).toEqual([
            "locality x/* overlap with previous specified ones",
        ]);
        expect(localityLbProblems({ failover: [{ from: "a", to: "a" }] }, true).errors).toEqual([
            "locality lb failover settings must specify different regions",
        ]);
        expect(localityLbProblems({ failover: [{ from: "a/z", to: "b" }] }, true).errors).toEqual([
            "locality lb failover only specify region",
        ]);
        expect(localityLbProblems({ failover: [{ from: "a*", to: "b" }] }, true).errors).toEqual([
            "locality lb failover region should not contain '*' wildcard",
        ]);
        expect(localityLbProblems({ failover: [{ from: "a", to: "b" }] }, false)).toEqual({
            errors: [],
            warnings: ["outlier detection policy must be provided for failover"],
        });
        expect(localityLbProblems({ enabled: true, distribute: [d({ "a/*": 80, "b/*": 20 })], failoverPriority: [] }, false)).toEqual({
            errors: [],
            warnings: [],
        });
    });

    it("durations as Go parses them, at least 1ms, whole milliseconds", () => {
        expect(parseGoDuration("1m30s")).toBe(90e9);
        expect(parseGoDuration("1.5s")).toBe(1.5e9);
        expect(parseGoDuration("10")).toBeUndefined();
        expect(durationProblem("10s")).toBeUndefined();
        expect(durationProblem("500us")).toBe('"500us": duration must be greater than 1ms');
        expect(durationProblem("1500us")).toBe('"1500us": only durations to ms precision are supported');
        expect(durationProblem("ten seconds")).toMatch(/is not a duration/);
    });

    it("hosts: FQDN or `*.`-prefixed (ValidateWildcardDomain), never short, never bare `*`", () => {
        expect(hostProblem(PAYMENTS)).toBeUndefined();
        expect(hostProblem("*.example.com")).toBeUndefined();
        expect(hostProblem("payments")).toMatch(/is a short name; give the FQDN/);
        expect(hostProblem("*")).toMatch(/matches every host/);
        expect(hostProblem("Payments.example.com")).toBe('domain name "Payments.example.com" invalid (label "Payments" invalid)');
        expect(hostProblem("a.b.123")).toBe('domain name "b.123" invalid (top level domain "123" cannot be all-numeric)');
        expect(hostProblem("*foo.example.com")).toMatch(/a wildcard must be the whole first label/);
        expect(wildcardDomainProblem("x".repeat(256))).toMatch(/too long \(max 255\)/);
    });

    it("Sidecar egress hosts (ValidateNamespaceSlashWildcardHostname)", () => {
        expect(sidecarHostProblem("./*")).toBeUndefined();
        expect(sidecarHostProblem(`payments/${PAYMENTS}`)).toBeUndefined();
        expect(sidecarHostProblem(PAYMENTS)).toBe("host must be of form namespace/dnsName");
        expect(sidecarHostProblem("Pay/x.y")).toBe('invalid namespace value "Pay" in sidecar');
        expect(sidecarHostProblem("ns/short")).toBe("short names (non FQDN) are not allowed");
    });
});

describe("validation: every rule, with its path, all at once, before anything is registered", () => {
    const rule = (traffic: unknown, extra: Record<string, unknown> = {}, clusters?: Record<string, unknown>[]) =>
        problems(meshWith(traffic, extra, clusters));

    it("accepts the shipped example's block", () => {
        expect(
            rule({
                dnsProxying: true,
                clusterLocal: ["*.kube-system.svc.cluster.local"],
                namespaces: [{ name: "payments", clusters: ["east", "west"] }, { name: "checkout" }],
                policies: [{ host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "us-west1" }] }],
                dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS] }],
            }),
        ).toEqual([]);
    });

    it("policy shapes: mode, fields of another mode, failover pairs, weights", () => {
        expect(rule({ policies: [{ host: PAYMENTS, mode: "nearest" }] })).toEqual([
            'mesh.traffic.policies[0].mode: must be locality, failover or weighted, got "nearest"',
        ]);
        expect(
            rule({
                policies: [
                    { host: PAYMENTS, mode: "locality", failover: [{ from: "us-east1", to: "us-west1" }], weights: { "us-east1": 100 } },
                ],
            }),
        ).toEqual([
            "mesh.traffic.policies[0].failover: is only for mode failover (this policy is mode locality); remove it",
            "mesh.traffic.policies[0].weights: is only for mode weighted (this policy is mode locality); remove it",
        ]);
        expect(rule({ policies: [{ host: PAYMENTS, mode: "failover" }] })).toEqual([
            "mesh.traffic.policies[0].failover: is required for mode failover: list {from, to} region pairs",
        ]);
        expect(
            rule({
                policies: [
                    {
                        host: PAYMENTS,
                        mode: "failover",
                        failover: [
                            { from: "us-east1", to: "us-east1" },
                            { from: "us-east1/b", to: "us-west1" },
                            { from: "us-west1", to: "us-*" },
                            { from: "us-west1", to: "us-east1" },
                        ],
                    },
                ],
            }),
        ).toEqual([
            'mesh.traffic.policies[0].failover[0]: from and to are both "us-east1"; locality lb failover settings must specify ' +
                "different regions",
            'mesh.traffic.policies[0].failover[1].from: "us-east1/b": locality lb failover only specify region (no zone)',
            `mesh.traffic.policies[0].failover[2].to: "us-*": locality lb failover region should not contain '*' wildcard`,
            'mesh.traffic.policies[0].failover[3].from: "us-west1" already fails over (mesh.traffic.policies[0].failover[2]); give ' +
                "each region one target",
        ]);
        expect(rule({ policies: [{ host: PAYMENTS, mode: "weighted" }] })).toEqual([
            "mesh.traffic.policies[0].weights: is required for mode weighted: a share per region, e.g. { us-east1: 80, us-west1: 20 }",
        ]);
        expect(rule({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 0, "us-west1": 90.5, "us-*": 9 } }] })).toEqual(
            [
                "mesh.traffic.policies[0].weights.us-east1: 0: locality weight must be a whole number in range [1, 100]",
                "mesh.traffic.policies[0].weights.us-west1: 90.5: locality weight must be a whole number in range [1, 100]",
                `mesh.traffic.policies[0].weights.us-*: "us-*": name a region only (no zone, no '*': the compiled locality is "us-*/*")`,
                "mesh.traffic.policies[0].weights: total locality weight 99.5 != 100; the shares must add up to 100",
            ],
        );
        expect(
            rule({
                policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 50, "us-west1": 50 }, failoverPriority: ["a"] }],
            }),
        ).toEqual([
            "mesh.traffic.policies[0].failoverPriority: is ignored with weights (Istio applies distribute and skips failover " +
                "priority); remove it, or use mode locality",
        ]);
    });

    it("failoverPriority: label names, and no region/zone/subzone label with failover", () => {
        expect(
            rule({
                policies: [
                    {
                        host: PAYMENTS,
                        mode: "failover",
                        failover: [{ from: "us-east1", to: "us-west1" }],
                        failoverPriority: ["topology.kubernetes.io/region", "topology.istio.io/cluster", "bad label"],
                    },
                ],
            }),
        ).toEqual([
            "mesh.traffic.policies[0].failoverPriority[0]: can not simultaneously set 'failover' and topology label " +
                "'topology.kubernetes.io/region' in 'failover_priority'; drop it (failover already orders regions)",
            'mesh.traffic.policies[0].failoverPriority[2]: "bad label" is not a label name (or label=value)',
        ]);
        expect(
            rule({ policies: [{ host: PAYMENTS, mode: "locality", failoverPriority: ["topology.kubernetes.io/region", "version=v1"] }] }),
        ).toEqual([]);
    });

    it("regions: each one named is some cluster's region", () => {
        expect(rule({ policies: [{ host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "europe-west4" }] }] })).toEqual([
            'mesh.traffic.policies[0].failover[0].to: "europe-west4" is not the region of any cluster (regions: us-east1 (east), ' +
                "us-west1 (west))",
        ]);
        expect(rule({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 50, "asia-east1": 50 } }] })).toEqual([
            'mesh.traffic.policies[0].weights.asia-east1: "asia-east1" is not the region of any cluster (regions: us-east1 (east), ' +
                "us-west1 (west))",
        ]);
    });

    it("regions: an existing or kind cluster must set `region` when a policy routes between regions, once per cluster", () => {
        const clusters = [cluster("east", 1, { region: "us-east1" }), cluster("west", 2)];
        const failover = { host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "us-west1" }] };
        expect(rule({ policies: [failover, { ...failover, host: "ledger.ledger.svc.cluster.local" }] }, {}, clusters)).toEqual([
            'mesh.traffic.policies[0].failover[0].to: "us-west1" is not the region of any cluster (regions: us-east1 (east))',
            "mesh.clusters[1].region: is required: mesh.traffic.policies[0] (mode failover) routes between regions, and an existing " +
                "cluster takes its region from config; set the region its nodes carry in topology.kubernetes.io/region",
            'mesh.traffic.policies[1].failover[0].to: "us-west1" is not the region of any cluster (regions: us-east1 (east))',
        ]);
        // mode locality follows the nodes' labels and needs no region in config.
        expect(rule({ policies: [{ host: PAYMENTS, mode: "locality" }] }, {}, [cluster("east", 1), cluster("west", 2)])).toEqual([]);
    });

    it("regions: created clusters take theirs from the platform (gke location, eks region)", () => {
        const gke = {
            name: "g",
            platform: "gke",
            gke: {
                project: "acme-mesh",
                location: "us-central1-a",
                subnetCidr: "10.1.0.0/20",
                podCidr: "10.104.0.0/14",
                serviceCidr: "10.1.16.0/20",
            },
        };
        const eks = { name: "e", platform: "eks", network: "aws", eks: { region: "us-east-1", vpcCidr: "10.2.0.0/16" } };
        const mesh = meshWith({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-central1": 60, "us-east-1": 40 } }] }, {}, [
            { ...gke, network: "gcp" },
            eks,
        ]);
        const r = validateMeshConfig(mesh, { readFile: () => undefined });
        expect(r.ok ? [] : r.problems).toEqual([]);
        const plan = planMesh(r.ok ? r.config.mesh : (undefined as never));
        const lb = (plan.traffic.objects[0].spec.trafficPolicy as any).loadBalancer.localityLbSetting;
        expect(lb.distribute.map((d: { from: string }) => d.from)).toEqual(["us-central1/*", "us-east-1/*"]);
        // The library's Mesh args: regions come from the caller's clusters, paths from the args.
        const built = problems(
            meshWith({ policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 100 } }] }, {}, [
                { name: "a", region: "us-east1" },
                { name: "b" },
            ]),
            {
                clustersBuilt: true,
            },
        );
        expect(built).toEqual([
            expect.stringMatching(/^mesh\.clusters\[1\]\.region: is required: mesh\.traffic\.policies\[0\] \(mode weighted\)/),
        ]);
    });

    it("hosts: valid, one policy per host, clusterLocal and calls too", () => {
        expect(
            rule({
                clusterLocal: ["db"],
                policies: [
                    { host: "payments", mode: "locality" },
                    { host: PAYMENTS, mode: "locality" },
                    { host: PAYMENTS, mode: "locality" },
                ],
                namespaces: [{ name: "checkout" }],
                dependencies: [{ client: { namespace: "checkout" }, calls: ["*", PAYMENTS] }],
            }),
        ).toEqual([
            'mesh.traffic.clusterLocal[0]: "db" is a short name; give the FQDN (e.g. db.<namespace>.svc.cluster.local), as it would ' +
                "resolve in the root namespace",
            'mesh.traffic.policies[0].host: "payments" is a short name; give the FQDN (e.g. payments.<namespace>.svc.cluster.local), ' +
                "as it would resolve in the root namespace",
            `mesh.traffic.policies[2].host: "${PAYMENTS}" already has a policy (mesh.traffic.policies[1]); one policy per host`,
            'mesh.traffic.dependencies[0].calls[0]: "*" matches every host; name one service (an FQDN) or a "*."-prefixed domain',
        ]);
    });

    it("outlierDetection: durations, percentages, counts, and a setting that ejects nothing", () => {
        expect(
            rule({
                outlierDetection: { interval: "0.5ms" },
                policies: [
                    {
                        host: PAYMENTS,
                        mode: "locality",
                        outlierDetection: { baseEjectionTime: "30", maxEjectionPercent: 120, consecutive5xxErrors: -1 },
                    },
                ],
            }),
        ).toEqual([
            'mesh.traffic.outlierDetection.interval: "0.5ms": duration must be greater than 1ms',
            'mesh.traffic.policies[0].outlierDetection.baseEjectionTime: "30" is not a duration; ' +
                'write it as Go does: "10s", "1m30s", "500ms"',
            "mesh.traffic.policies[0].outlierDetection.maxEjectionPercent: 120: percentage 120 is not in range 0..100",
            "mesh.traffic.policies[0].outlierDetection.consecutive5xxErrors: -1 must be a whole number, 0 or more",
        ]);
        expect(rule({ policies: [{ host: PAYMENTS, mode: "locality", outlierDetection: { consecutive5xxErrors: 0 } }] })).toEqual([
            "mesh.traffic.policies[0].outlierDetection: consecutive5xxErrors and consecutiveGatewayErrors are both 0, so no endpoint " +
                "is ever ejected and traffic never fails over; set one of them",
        ]);
        expect(
            rule({
                policies: [
                    { host: PAYMENTS, mode: "locality", outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 } },
                ],
            }),
        ).toEqual([]);
        expect(rule({ outlierDetection: { intervall: "5s" } })).toEqual([
            expect.stringMatching(/^mesh\.traffic\.outlierDetection: unknown key "intervall"/),
        ]);
    });

    it("namespaces: names, Kubernetes' and Istio's own, duplicates, clusters", () => {
        expect(
            rule({
                namespaces: [
                    { name: "Payments" },
                    { name: "kube-system" },
                    { name: "istio-system" },
                    { name: "checkout", clusters: ["east", "north", "east"] },
                    { name: "checkout" },
                    { name: "ledger", clusters: [] },
                ],
            }),
        ).toEqual([
            "mesh.traffic.namespaces[0].name: \"Payments\" is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 " +
                "characters)",
            'mesh.traffic.namespaces[1].name: "kube-system" already exists in every cluster (Kubernetes makes it); list only ' +
                "application namespaces",
            'mesh.traffic.namespaces[2].name: "istio-system" already exists in every cluster (this program makes it); list only ' +
                "application namespaces",
            'mesh.traffic.namespaces[3].clusters[1]: "north" is not a cluster of this mesh; name one of: east, west',
            'mesh.traffic.namespaces[3].clusters[2]: "east" is listed twice',
            'mesh.traffic.namespaces[4].name: "checkout" is listed twice (also mesh.traffic.namespaces[3]); list each namespace once, ' +
                "with all its clusters",
            "mesh.traffic.namespaces[5].clusters: is empty; leave it out for every cluster, or name the clusters",
        ]);
    });

    it("namespaces that objects go into must exist in every config cluster: in `namespaces`, with all of them", () => {
        expect(
            rule({
                namespaces: [{ name: "payments", clusters: ["east"] }],
                policies: [{ host: PAYMENTS, namespace: "payments", mode: "locality" }],
                dependencies: [
                    { client: { namespace: "checkout" }, calls: [PAYMENTS] },
                    { client: { namespace: "istio-system" }, calls: [PAYMENTS] },
                ],
            }),
        ).toEqual([
            'mesh.traffic.policies[0].namespace: namespace "payments" (mesh.traffic.namespaces[0]) is not created in west, whose ' +
                "istiod reads this object; add it to its clusters",
            'mesh.traffic.dependencies[0].client.namespace: namespace "checkout" is not in mesh.traffic.namespaces; add it there (this ' +
                "program then creates it in every cluster whose istiod reads the object: east, west), or write the object into a " +
                "namespace that exists",
            "mesh.traffic.dependencies[1].client.namespace: a Sidecar in the root namespace istio-system applies to every namespace; " +
                "name the client's own namespace",
        ]);
        expect(rule({ namespaces: [{ name: "checkout" }], dependencies: [{ client: { namespace: "checkout" }, calls: [] }] })).toEqual([
            "mesh.traffic.dependencies[0].calls: is empty; list the hosts the client calls (a client that calls nothing needs no " +
                "dependency)",
        ]);
    });

    it("objects: Istio's traffic and security groups only, named, not the program's own, CRD-valid, no clash with compiled ones", () => {
        const pa = {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default" },
            spec: { mtls: { mode: "STRICT" } },
        };
        expect(
            rule({
                namespaces: [{ name: "checkout" }],
                dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS] }],
                objects: [
                    pa,
                    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } },
                    {
                        apiVersion: "networking.istio.io/v1",
                        kind: "Gateway",
                        metadata: { name: "cross-network-gateway" },
                        spec: { selector: { istio: "ingressgateway" }, servers: [] },
                    },
                    {
                        apiVersion: "networking.istio.io/v1",
                        kind: "Gateway",
                        metadata: { name: "mine", namespace: "checkout" },
                        spec: { selector: { istio: "eastwestgateway" }, servers: [] },
                    },
                    {
                        apiVersion: "security.istio.io/v1",
                        kind: "PeerAuthentication",
                        metadata: { name: "strict", namespace: "ledger" },
                        spec: { mtls: { mode: "STRICT" } },
                    },
                    {
                        apiVersion: "security.istio.io/v1",
                        kind: "PeerAuthentication",
                        metadata: { name: "loose" },
                        spec: { mtls: { mode: "SOMETIMES" } },
                    },
                    {
                        apiVersion: "networking.istio.io/v1",
                        kind: "Sidecar",
                        metadata: { name: "default", namespace: "checkout" },
                        spec: { egress: [{ hosts: ["./*"] }] },
                    },
                    { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: {} },
                    pa,
                ],
            }),
        ).toEqual([
            'mesh.traffic.objects[1].apiVersion: "v1" is not in networking.istio.io or security.istio.io (e.g. ' +
                "networking.istio.io/v1); only Istio's traffic and security objects go here",
            "mesh.traffic.objects[2].metadata.name: istio-system/cross-network-gateway is an object this program owns (the east-west " +
                "gateway's); it cannot be given here",
            "mesh.traffic.objects[3].spec.selector: selects the east-west gateway (istio: eastwestgateway), whose Gateway objects this " +
                "program owns; select another gateway",
            'mesh.traffic.objects[4].metadata.namespace: namespace "ledger" is not in mesh.traffic.namespaces; add it there (this ' +
                "program then creates it in every cluster whose istiod reads the object: east, west), or write the object into a " +
                "namespace that exists",
            "mesh.traffic.objects[5]: does not pass the Istio PeerAuthentication CRD schema: security.istio.io/v1/PeerAuthentication " +
                '/spec/mtls/mode must be equal to one of the allowed values: ["UNSET","DISABLE","PERMISSIVE","STRICT"]',
            "mesh.traffic.objects[7].metadata.name: is required",
            "mesh.traffic.objects[8].metadata.name: PeerAuthentication istio-system/default is given twice",
            "mesh.traffic.objects[6].metadata.name: Sidecar checkout/default is also compiled from mesh.traffic.policies or " +
                "mesh.traffic.dependencies; keep one of them",
        ]);
    });

    it("settings the user's istio.values would silently override", () => {
        expect(
            rule(
                { dnsProxying: true, clusterLocal: [PAYMENTS] },
                {
                    istio: {
                        values: {
                            meshConfig: { serviceSettings: [], defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: "false" } } },
                        },
                    },
                },
            ),
        ).toEqual([
            "mesh.istio.values.meshConfig.serviceSettings: would replace mesh.traffic.clusterLocal (Helm replaces lists whole); move " +
                "these service settings into one of them",
            'mesh.istio.values.meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: is "false" and would turn off ' +
                "mesh.traffic.dnsProxying (istio.values are merged last); remove one of them",
        ]);
    });

    it("reports traffic problems together with the rest of the config", () => {
        const got = problems({ ...meshWith({ policies: [{ host: "x", mode: "locality" }] }), meshId: "Bad_Id" });
        expect(got).toEqual([
            expect.stringMatching(/^mesh\.meshId: /),
            expect.stringMatching(/^mesh\.traffic\.policies\[0\]\.host: "x" is a short name/),
        ]);
    });
});

/** Kubernetes objects of one cluster of a run, by kind. */
function objectsIn(run: MeshRun, clusterName: string, kind: string): Record<string, any>[] {
    return run.k8s.filter((r) => r.cluster === clusterName && r.inputs.kind === kind && !r.read).map((r) => r.inputs);
}
const TRAFFIC = {
    namespaces: [{ name: "payments" }, { name: "checkout" }],
    policies: [
        { host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "us-west1" }] },
        { host: "ledger.payments.svc.cluster.local", namespace: "payments", mode: "weighted", weights: { "us-east1": 80, "us-west1": 20 } },
    ],
    dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS] }],
    objects: [
        {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default" },
            spec: { mtls: { mode: "STRICT" } },
        },
    ],
};

describe("under the mock runtime", () => {
    it("multi-primary: every object in every cluster, identical, each after its cluster's CRDs (and its namespace)", async () => {
        const run = await runMesh(meshWith(TRAFFIC));
        expect(run.error).toBeUndefined();
        const kinds = (c: string) =>
            run.k8s.filter((r) => r.cluster === c && /istio\.io\//.test(r.type) && !/Gateway$/.test(r.type)).map((r) => r.inputs);
        const east = kinds("east");
        expect(east.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
            "DestinationRule/istio-system/payments-payments-svc-cluster-local",
            "DestinationRule/payments/ledger-payments-svc-cluster-local",
            "PeerAuthentication/istio-system/default",
            "Sidecar/checkout/default",
        ]);
        expect(kinds("west")).toEqual(east);
        for (const o of east) expect(istioObjectProblems(o as IstioObject)).toEqual([]);
        for (const c of ["east", "west"]) {
            const namespaces = objectsIn(run, c, "Namespace");
            expect(namespaces.map((n) => n.metadata.name)).toEqual(["istio-system", "payments", "checkout"]);
            for (const n of namespaces.slice(1)) expect(n.metadata.labels).toEqual({ "istio-injection": "enabled" });
            // Each object through its own cluster's provider, after the base chart; the Sidecar after its namespace.
            for (const r of run.k8s.filter(
                (x) => x.cluster === c && x.name.startsWith(`m-${c}-traffic-`) && x.type !== "kubernetes:core/v1:Namespace",
            )) {
                expect(r.providerName).toBe(`${c}-k8s`);
                expect(dependsOn(run, r.name, `m-${c}-base`), r.name).toBe(true);
            }
            expect(dependsOn(run, `m-${c}-traffic-sidecar-checkout-default`, `m-${c}-traffic-ns-checkout`)).toBe(true);
            expect(
                dependsOn(run, `m-${c}-traffic-destinationrule-payments-ledger-payments-svc-cluster-local`, `m-${c}-traffic-ns-payments`),
            ).toBe(true);
        }
        const component = run.sim.registrations.filter((r) => r.type === "multicluster-mesh:traffic:TrafficPolicy").map((r) => r.name);
        expect(component.sort()).toEqual(["m-east-traffic", "m-west-traffic"]);
        // The weighted rule: one distribute entry per region, from both clusters' regions.
        const ledger = objectsIn(run, "east", "DestinationRule").find((o) => o.metadata.name.startsWith("ledger"))!;
        expect(ledger.spec.trafficPolicy.loadBalancer.localityLbSetting.distribute.map((d: { from: string }) => d.from)).toEqual([
            "us-east1/*",
            "us-west1/*",
        ]);
    });

    it("primary-remote: objects only in the primary, whose istiod reads config; namespaces wherever listed", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "primary-remote",
            trust: FAST,
            clusters: [cluster("east", 1, { region: "us-east1" }), cluster("west", 2, { role: "remote", region: "us-west1" })],
            traffic: { ...TRAFFIC, dnsProxying: true },
        });
        expect(run.error).toBeUndefined();
        const istioObjects = (c: string) =>
            run.k8s
                .filter((r) => r.cluster === c && /^kubernetes:(networking|security)\.istio\.io\//.test(r.type))
                .map((r) => r.inputs.kind);
        expect(istioObjects("east").sort()).toEqual([
            "DestinationRule",
            "DestinationRule",
            "Gateway",
            "PeerAuthentication",
            "Sidecar",
            "VirtualService",
        ]);
        expect(istioObjects("west")).toEqual([]);
        for (const c of ["east", "west"])
            expect(objectsIn(run, c, "Namespace").map((n) => n.metadata.name)).toEqual(["istio-system", "payments", "checkout"]);
        // DNS capture in the primary's istiod only: the remote's pods are injected by it.
        expect(one(run, "m-east-istiod").inputs.values.meshConfig.defaultConfig.proxyMetadata).toEqual({ ISTIO_META_DNS_CAPTURE: "true" });
        expect(one(run, "m-west-istiod").inputs.values.meshConfig).toBeUndefined();
    });

    it("a config without a traffic block registers no traffic component and leaves istiod's values alone", async () => {
        const run = await runMesh(meshWith(undefined));
        expect(run.error).toBeUndefined();
        expect(run.sim.registrations.some((r) => r.type === "multicluster-mesh:traffic:TrafficPolicy")).toBe(false);
        expect(one(run, "m-east-istiod").inputs.values.meshConfig).toBeUndefined();
    });

    it("a bad traffic block registers nothing", async () => {
        const run = await runMesh(
            meshWith({ policies: [{ host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "mars" }] }] }),
        );
        expect(run.error?.message).toContain('mesh.traffic.policies[0].failover[0].to: "mars" is not the region of any cluster');
        expect(run.k8s).toEqual([]);
    });
});

describe("plan, diff and picture", () => {
    const tmp = tempDir("traffic-");
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("the shipped example stack plans offline, its objects in out/traffic/<cluster>/objects.yaml", async () => {
        const r = await planStack("traffic", tmp, { sim: { cannedTls: true } });
        expect(r.errors).toEqual([]);
        const objects = (c: string) =>
            YAML.parseAllDocuments(fs.readFileSync(path.join(tmp, "traffic", c, "objects.yaml"), "utf8")).map((d) => d.toJS());
        for (const c of ["east", "west"]) {
            const dr = objects(c).find((o) => o.kind === "DestinationRule");
            expect(dr.spec.trafficPolicy.loadBalancer.localityLbSetting.failover).toEqual([
                { from: "us-east1", to: "us-west1" },
                { from: "us-west1", to: "us-east1" },
            ]);
            expect(dr.spec.trafficPolicy.outlierDetection).toEqual({
                consecutive5xxErrors: 5,
                interval: "10s",
                baseEjectionTime: "30s",
                maxEjectionPercent: 100,
            });
            expect(objects(c).find((o) => o.kind === "Sidecar").spec.egress[0].hosts).toEqual([
                "./*",
                "istio-system/*",
                `payments/${PAYMENTS}`,
            ]);
            expect(
                objects(c)
                    .filter((o) => o.kind === "Namespace" && o.metadata.labels?.["istio-injection"] === "enabled")
                    .map((o) => o.metadata.name),
            ).toEqual(["checkout", "payments"]);
        }
        const plan = r.planFile!;
        for (const c of plan.clusters) {
            expect(c.traffic.policies.map((p) => [p.host, p.mode, p.failover])).toEqual([
                [
                    PAYMENTS,
                    "failover",
                    [
                        { from: "us-east1", to: "us-west1" },
                        { from: "us-west1", to: "us-east1" },
                    ],
                ],
            ]);
            expect(c.traffic.namespaces).toEqual(["checkout", "payments"]);
        }
        expect(plan.clusters[0].traffic).toEqual(plan.clusters[1].traffic);
        const svg = fs.readFileSync(path.join(tmp, "traffic", "mesh.svg"), "utf8");
        expect(svg).toContain("traffic policy between regions:");
        expect(svg).toContain(`${PAYMENTS} (in east, west):`);
        expect(svg).toContain("failover us&#45;east1 → us&#45;west1, us&#45;west1 → us&#45;east1");
    });

    it("the mesh diff says what changes, in words, with the clusters it changes in", async () => {
        const planOf = async (traffic: unknown) => {
            const run = await runMesh(meshWith(traffic), { sim: { cannedTls: true } });
            expect(run.error).toBeUndefined();
            return buildPlanFile({ stack: "t", outputs: run.outputs, registrations: run.sim.registrations });
        };
        const none = await planOf(undefined);
        const failover = await planOf({
            namespaces: [{ name: "checkout" }],
            policies: [{ host: PAYMENTS, mode: "failover", failover: [{ from: "us-east1", to: "us-west1" }] }],
        });
        const weighted = await planOf({
            policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 80, "us-west1": 20 } }],
            outlierDetection: { interval: "5s" },
            namespaces: [{ name: "checkout" }],
            dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS] }],
        });
        const lines = (a: typeof none, b: typeof none) => diffPlans(a, b).lines.filter((l) => !/Istio (DestinationRule|Sidecar)\//.test(l));
        expect(lines(none, failover)).toEqual([
            "payments: failover us-east1 → us-west1 added in east, west",
            "namespace checkout (sidecar injection on) added in east, west",
        ]);
        expect(lines(failover, weighted)).toEqual([
            "payments: failover us-east1 → us-west1 → weighted us-east1 80, us-west1 20 in east, west",
            `checkout: sidecars see only ./*, istio-system/*, payments/${PAYMENTS} (Sidecar added in east, west)`,
        ]);
        const slower = await planOf({
            policies: [{ host: PAYMENTS, mode: "weighted", weights: { "us-east1": 80, "us-west1": 20 } }],
            outlierDetection: { interval: "15s" },
            namespaces: [{ name: "checkout" }],
            dependencies: [{ client: { namespace: "checkout" }, calls: [PAYMENTS, "ledger.ledger.svc.cluster.local"] }],
        });
        expect(lines(weighted, slower)).toEqual([
            "payments: outlier detection interval 5s → 15s in east, west",
            "checkout: sidecar egress hosts +ledger/ledger.ledger.svc.cluster.local in east, west",
        ]);
        expect(lines(slower, none)).toEqual([
            "payments: weighted us-east1 80, us-west1 20 removed from east, west (Istio's default locality load balancing applies again)",
            "namespace checkout removed from east, west: the Namespace and EVERYTHING IN IT is deleted",
            "checkout: Sidecar removed from east, west (its proxies see every service again)",
        ]);
        // An older plan.json has no traffic: it counts as none.
        const old = { ...none, clusters: none.clusters.map(({ traffic: _t, ...c }) => c) } as unknown as typeof none;
        expect(lines(old, failover)).toEqual(lines(none, failover));
        expect(trafficLegend(weighted.clusters)).toEqual([
            { host: PAYMENTS, policy: "weighted us-east1 80, us-west1 20", clusters: ["east", "west"], mode: "weighted" },
        ]);
    });
});
