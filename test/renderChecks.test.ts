// The render checks (offline/render/checks.ts) and schema validation (offline/render/schemas.ts) on
// small manifests written here: each check passes on a good cluster and fails, naming cluster,
// release, object and field, on a bad one. No Helm and no charts needed.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    checkCluster,
    checkImages,
    ClusterModel,
    Finding,
    formatFinding,
    injectedProxyImage,
    K8sObject,
    ObjectSource,
} from "../offline/render/checks";
import * as YAML from "yaml";
import { ISTIO_VERSION, minorOf, newestWithoutDefects, SUPPORTED_ISTIO } from "../components/istio";
import { chartFolder, locateCharts, stageSourceCharts } from "../offline/render/charts";
import { clusterKubeVersions, readValuesHeader, splitManifest } from "../offline/render/render";
import { objectSchemaProblems, servedProblem } from "../offline/render/schemas";

type Obj = K8sObject;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function istiodDeployment(env: Record<string, string>): Obj {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "istiod", namespace: "istio-system", labels: { app: "istiod" } },
        spec: {
            selector: { matchLabels: { istio: "pilot" } },
            template: {
                metadata: { labels: { app: "istiod", istio: "pilot" } },
                spec: {
                    containers: [
                        {
                            name: "discovery",
                            image: `docker.io/istio/pilot:${ISTIO_VERSION}`,
                            env: Object.entries(env).map(([name, value]) => ({ name, value })),
                        },
                    ],
                },
            },
        },
    };
}
const configMap = (name: string, data: Record<string, string>): Obj => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "istio-system" },
    data,
});
const meshCm = (meshId: string) =>
    configMap("istio", { mesh: `defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  meshId: ${meshId}\n` });
const injectorCm = (network?: string) =>
    configMap("istio-sidecar-injector", { values: JSON.stringify({ global: network ? { network } : {} }), config: "" });

function gatewayObjects(network: string, ports = [15021, 15443, 15012, 15017]): Obj[] {
    const labels = { app: "istio-eastwestgateway", istio: "eastwestgateway" };
    return [
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: {
                name: "istio-eastwestgateway",
                namespace: "istio-system",
                labels: { ...labels, "topology.istio.io/network": network },
            },
            spec: {
                type: "LoadBalancer",
                selector: labels,
                ports: ports.map((port) => ({ name: `p${port}`, port, targetPort: port, protocol: "TCP" })),
            },
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "istio-eastwestgateway", namespace: "istio-system" },
            spec: {
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels: { ...labels, "topology.istio.io/network": network } },
                    spec: {
                        containers: [
                            { name: "istio-proxy", image: "auto", env: [{ name: "ISTIO_META_REQUESTED_NETWORK_VIEW", value: network }] },
                        ],
                    },
                },
            },
        },
    ];
}
const namespace = (labels: Record<string, string>): Obj => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "istio-system", labels },
});
const crossNetworkGateway = (selector: Record<string, string>): Obj => ({
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "cross-network-gateway", namespace: "istio-system" },
    spec: {
        selector,
        servers: [{ port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] }],
    },
});
const src = (release: string, chart: string | null, objects: Obj[]): ObjectSource => ({
    release,
    chart,
    namespace: chart ? "istio-system" : "default",
    objects,
});

// ---- a primary of a two-network multi-primary mesh ----
const primary: ClusterModel = {
    name: "east",
    role: "primary",
    primary: null,
    network: "net-east",
    meshId: "mesh1",
    topology: "multi-primary",
    multiNetwork: true,
};
function goodPrimary(): ObjectSource[] {
    return [
        src("istio-base", "base", [
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "istio-reader-service-account", namespace: "istio-system" } },
        ]),
        src("istiod", "istiod", [istiodDeployment({ CLUSTER_ID: "east" }), meshCm("mesh1"), injectorCm("net-east")]),
        src("istio-eastwestgateway", "gateway", gatewayObjects("net-east")),
        src("objects.yaml", null, [
            namespace({ "topology.istio.io/network": "net-east" }),
            crossNetworkGateway({ istio: "eastwestgateway" }),
        ]),
    ];
}
function mutate(sources: ObjectSource[], release: string, kind: string, name: string, f: (o: any) => void): ObjectSource[] {
    const out = clone(sources);
    const o = out.find((s) => s.release === release)!.objects.find((x) => x.kind === kind && x.metadata.name === name)!;
    f(o);
    return out;
}
const fields = (fs: Finding[]) => fs.map((f) => `${f.release} ${f.object} ${f.field}`);

describe("checks on a primary", () => {
    it("pass on a good primary", () => {
        expect(checkCluster(primary, goodPrimary())).toEqual([]);
    });

    it("CLUSTER_ID must be the cluster name", () => {
        const f = checkCluster(
            primary,
            mutate(
                goodPrimary(),
                "istiod",
                "Deployment",
                "istiod",
                (o) => (o.spec.template.spec.containers[0].env[0].value = "Kubernetes"),
            ),
        );
        expect(f.map(formatFinding)).toEqual([
            'cluster east, release istiod, Deployment/istiod, env CLUSTER_ID: is "Kubernetes", expected "east" (the cluster name)',
        ]);
    });

    it("EXTERNAL_ISTIOD only on primaries of primary-remote", () => {
        const withExternal = mutate(goodPrimary(), "istiod", "Deployment", "istiod", (o) =>
            o.spec.template.spec.containers[0].env.push({ name: "EXTERNAL_ISTIOD", value: "true" }),
        );
        expect(fields(checkCluster(primary, withExternal))).toEqual(["istiod Deployment/istiod env EXTERNAL_ISTIOD"]);
        const pr: ClusterModel = { ...primary, topology: "primary-remote" };
        expect(checkCluster(pr, withExternal)).toEqual([]);
        expect(fields(checkCluster(pr, goodPrimary()))).toEqual(["istiod Deployment/istiod env EXTERNAL_ISTIOD"]);
    });

    it("a primary-remote primary reached by hostname needs the hostname in ISTIOD_CUSTOM_HOST", () => {
        const pr: ClusterModel = { ...primary, topology: "primary-remote", ownAddress: "gw.elb.example.com" };
        const external = mutate(goodPrimary(), "istiod", "Deployment", "istiod", (o) =>
            o.spec.template.spec.containers[0].env.push({ name: "EXTERNAL_ISTIOD", value: "true" }),
        );
        expect(fields(checkCluster(pr, external))).toEqual(["istiod Deployment/istiod env ISTIOD_CUSTOM_HOST"]);
        const fixed = mutate(external, "istiod", "Deployment", "istiod", (o) =>
            o.spec.template.spec.containers[0].env.push({ name: "ISTIOD_CUSTOM_HOST", value: "gw.elb.example.com" }),
        );
        expect(checkCluster(pr, fixed)).toEqual([]);
        expect(checkCluster({ ...pr, ownAddress: "10.0.0.1" }, external)).toEqual([]);
    });

    it("meshId in the mesh config", () => {
        const f = checkCluster(
            primary,
            mutate(goodPrimary(), "istiod", "ConfigMap", "istio", (o) => (o.data.mesh = "defaultConfig: {}\n")),
        );
        expect(f.map(formatFinding)).toEqual([
            'cluster east, release istiod, ConfigMap/istio, data.mesh defaultConfig.meshId: is undefined, expected "mesh1"',
        ]);
    });

    it("the network: the injector's values and the namespace label in a multi-network mesh", () => {
        expect(
            fields(
                checkCluster(
                    primary,
                    mutate(goodPrimary(), "istiod", "ConfigMap", "istio-sidecar-injector", (o) => (o.data.values = "{}")),
                ),
            ),
        ).toEqual(["istiod ConfigMap/istio-sidecar-injector data.values global.network"]);
        expect(
            fields(
                checkCluster(
                    primary,
                    mutate(goodPrimary(), "objects.yaml", "Namespace", "istio-system", (o) => (o.metadata.labels = {})),
                ),
            ),
        ).toEqual(['objects.yaml Namespace/istio-system metadata.labels["topology.istio.io/network"]']);
        // One network: neither is required.
        const single = { ...primary, multiNetwork: false };
        const noNet = mutate(goodPrimary(), "istiod", "ConfigMap", "istio-sidecar-injector", (o) => (o.data.values = "{}"));
        expect(
            checkCluster(
                single,
                mutate(noNet, "objects.yaml", "Namespace", "istio-system", (o) => (o.metadata.labels = {})),
            ),
        ).toEqual([]);
    });

    it("a missing istiod Deployment or mesh config is reported", () => {
        const sources = goodPrimary();
        sources[1]!.objects = [injectorCm("net-east")];
        expect(fields(checkCluster(primary, sources))).toEqual(["istiod Deployment/istiod (object)", "istiod ConfigMap/istio data.mesh"]);
    });

    it("east-west gateway: the four ports", () => {
        const sources = goodPrimary();
        sources[2] = src("istio-eastwestgateway", "gateway", gatewayObjects("net-east", [15021, 15443, 15012]));
        expect(checkCluster(primary, sources).map(formatFinding)).toEqual([
            "cluster east, release istio-eastwestgateway, Service/istio-eastwestgateway, spec.ports: lack 15017: [15021,15443,15012]",
        ]);
    });

    it("east-west gateway: the network label on Service and pods, and the requested network view", () => {
        const sources = goodPrimary();
        sources[2] = src("istio-eastwestgateway", "gateway", gatewayObjects("net-west"));
        expect(fields(checkCluster(primary, sources))).toEqual([
            'istio-eastwestgateway Service/istio-eastwestgateway metadata.labels["topology.istio.io/network"]',
            'istio-eastwestgateway Deployment/istio-eastwestgateway spec.template.metadata.labels["topology.istio.io/network"]',
            "istio-eastwestgateway Deployment/istio-eastwestgateway env ISTIO_META_REQUESTED_NETWORK_VIEW",
        ]);
    });

    it("east-west gateway: the Istio Gateway's selector must match the pods", () => {
        const bad = mutate(
            goodPrimary(),
            "objects.yaml",
            "Gateway",
            "cross-network-gateway",
            (o) => (o.spec.selector = { istio: "ingressgateway" }),
        );
        expect(checkCluster(primary, bad).map(formatFinding)).toEqual([
            "cluster east, release objects.yaml, Gateway/cross-network-gateway, spec.selector: " +
                "selects istio=ingressgateway, which the east-west gateway pods (Deployment/istio-eastwestgateway) " +
                "lack",
        ]);
        const noGateway = goodPrimary().filter((s) => s.release !== "istio-eastwestgateway");
        expect(fields(checkCluster(primary, noGateway))).toEqual(["objects.yaml Gateway/cross-network-gateway spec.selector"]);
    });

    it("no object name collides within a cluster (namespaced objects without a namespace land in the release's)", () => {
        const sources = goodPrimary();
        sources[0]!.objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio" } });
        expect(checkCluster(primary, sources).map(formatFinding)).toEqual([
            "cluster east, release istiod, ConfigMap/istio, metadata.name: also rendered by istio-base " +
                "in namespace istio-system: one would overwrite the other",
        ]);
        // The same name in another namespace, or of another kind, is no collision.
        const other = goodPrimary();
        other[0]!.objects.push(
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "kube-system" } },
            { apiVersion: "v1", kind: "Secret", metadata: { name: "istio" } },
        );
        expect(checkCluster(primary, other)).toEqual([]);
    });
});

// ---- remotes ----
const remote: ClusterModel = {
    name: "west",
    role: "remote",
    primary: "east",
    network: "net-west",
    meshId: "mesh1",
    topology: "primary-remote",
    multiNetwork: true,
    primaryAddress: "203.0.113.7",
};
function webhooks(kind: string, name: string, cc: object[]): Obj {
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind,
        metadata: { name },
        webhooks: cc.map((clientConfig, i) => ({
            name: `w${i}.istio.io`,
            clientConfig,
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
        })),
    };
}
const svcRef = (p: string) => ({ service: { name: "istiod", namespace: "istio-system", path: p, port: 443 } });
function goodIpRemote(): ObjectSource[] {
    return [
        src("istio-base", "base", [webhooks("ValidatingWebhookConfiguration", "istiod-default-validator", [svcRef("/validate")])]),
        src("istiod", "istiod", [
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "istiod", namespace: "istio-system" },
                spec: { ports: [{ port: 15012 }, { port: 443, targetPort: 15017 }] },
            },
            {
                apiVersion: "discovery.k8s.io/v1",
                kind: "EndpointSlice",
                metadata: { name: "istiod", namespace: "istio-system", labels: { "kubernetes.io/service-name": "istiod" } },
                addressType: "IPv4",
                endpoints: [{ addresses: ["203.0.113.7"] }],
                ports: [{ port: 15012 }, { port: 15017 }],
            },
            webhooks("MutatingWebhookConfiguration", "istio-sidecar-injector", [svcRef("/inject/cluster/west/net/net-west")]),
            webhooks("ValidatingWebhookConfiguration", "istio-validator-istio-system", [svcRef("/validate")]),
        ]),
        src("objects.yaml", null, [namespace({ "topology.istio.io/network": "net-west" })]),
    ];
}
const host = "gw-0123.elb.example.com";
const hostRemote: ClusterModel = { ...remote, primaryAddress: host };
function goodHostRemote(): ObjectSource[] {
    const url = (p: string) => ({ url: `https://${host}:15017${p}` });
    return [
        src("istio-base", "base", [webhooks("ValidatingWebhookConfiguration", "istiod-default-validator", [url("/validate")])]),
        src("istiod", "istiod", [
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "istiod", namespace: "istio-system" },
                spec: { type: "ExternalName", externalName: host },
            },
            webhooks("MutatingWebhookConfiguration", "istio-sidecar-injector", [url("/inject/cluster/west/net/net-west")]),
            webhooks("ValidatingWebhookConfiguration", "istio-validator-istio-system", [url("/validate")]),
        ]),
        src("objects.yaml", null, [namespace({ "topology.istio.io/network": "net-west" })]),
    ];
}

describe("checks on a remote", () => {
    it("pass on a good remote (IP and hostname)", () => {
        expect(checkCluster(remote, goodIpRemote())).toEqual([]);
        expect(checkCluster(hostRemote, goodHostRemote())).toEqual([]);
    });

    it("no istiod Deployment", () => {
        const s = goodIpRemote();
        s[1]!.objects.push(istiodDeployment({ CLUSTER_ID: "west" }));
        expect(checkCluster(remote, s).map(formatFinding)).toEqual([
            "cluster west, release istiod, Deployment/istiod, (object): a remote runs no istiod: east controls it",
        ]);
    });

    it("IP case: the EndpointSlice at the primary's address with 15012 and 15017, a selectorless Service", () => {
        const wrongAddr = mutate(goodIpRemote(), "istiod", "EndpointSlice", "istiod", (o) => (o.endpoints = [{ addresses: ["10.9.9.9"] }]));
        expect(checkCluster(remote, wrongAddr).map(formatFinding)).toEqual([
            'cluster west, release istiod, EndpointSlice/istiod, endpoints[].addresses: are ["10.9.9.9"], ' +
                'expected ["203.0.113.7"] (east\'s east-west gateway)',
        ]);
        const noWebhookPort = mutate(goodIpRemote(), "istiod", "EndpointSlice", "istiod", (o) => (o.ports = [{ port: 15012 }]));
        expect(fields(checkCluster(remote, noWebhookPort))).toEqual(["istiod EndpointSlice/istiod ports"]);
        const selector = mutate(goodIpRemote(), "istiod", "Service", "istiod", (o) => (o.spec.selector = { app: "istiod" }));
        expect(fields(checkCluster(remote, selector))).toEqual(["istiod Service/istiod spec.selector"]);
        const s = goodIpRemote();
        s[1]!.objects = s[1]!.objects.filter((o) => o.kind !== "EndpointSlice");
        expect(fields(checkCluster(remote, s))).toEqual(["istiod EndpointSlice/istiod (object)"]);
    });

    it("IP case: webhooks call the istiod Service, and the injector's path names this cluster and network", () => {
        const elsewhere = mutate(
            goodIpRemote(),
            "istio-base",
            "ValidatingWebhookConfiguration",
            "istiod-default-validator",
            (o) => (o.webhooks[0].clientConfig = { url: "https://10.9.9.9:15017/validate" }),
        );
        expect(fields(checkCluster(remote, elsewhere))).toEqual([
            "istio-base ValidatingWebhookConfiguration/istiod-default-validator webhooks[0] (w0.istio.io) clientConfig.url",
        ]);
        const wrongPath = mutate(
            goodIpRemote(),
            "istiod",
            "MutatingWebhookConfiguration",
            "istio-sidecar-injector",
            (o) => (o.webhooks[0].clientConfig.service.path = "/inject"),
        );
        expect(checkCluster(remote, wrongPath).map(formatFinding)).toEqual([
            "cluster west, release istiod, MutatingWebhookConfiguration/istio-sidecar-injector, " +
                "webhooks[0] (w0.istio.io) clientConfig path: is /inject, expected /inject/cluster/west/net/net-west " +
                "(the primary injects with this cluster's ID and network)",
        ]);
    });

    it("hostname case: every webhook, both validating ones included, has a url on the primary's host:15017", () => {
        // What the istiod chart renders when only the base chart gets base.validationURL (issue 9).
        const viaService = mutate(
            goodHostRemote(),
            "istiod",
            "ValidatingWebhookConfiguration",
            "istio-validator-istio-system",
            (o) => (o.webhooks[0].clientConfig = svcRef("/validate")),
        );
        expect(checkCluster(hostRemote, viaService).map(formatFinding)).toEqual([
            `cluster west, release istiod, ValidatingWebhookConfiguration/istio-validator-istio-system, ` +
                `webhooks[0] (w0.istio.io) clientConfig.url: missing (calls service {"name":"istiod","namespace":"istio-system","path":"/validate","port":443}): ` +
                `the API server cannot call a webhook through an ExternalName Service; expected https://${host}:15017/…`,
        ]);
        const wrongPort = mutate(
            goodHostRemote(),
            "istio-base",
            "ValidatingWebhookConfiguration",
            "istiod-default-validator",
            (o) => (o.webhooks[0].clientConfig.url = `https://${host}:443/validate`),
        );
        expect(fields(checkCluster(hostRemote, wrongPort))).toEqual([
            "istio-base ValidatingWebhookConfiguration/istiod-default-validator webhooks[0] (w0.istio.io) clientConfig.url",
        ]);
        const clusterIp = mutate(goodHostRemote(), "istiod", "Service", "istiod", (o) => (o.spec = { ports: [{ port: 15012 }] }));
        expect(fields(checkCluster(hostRemote, clusterIp))).toEqual(["istiod Service/istiod spec.externalName"]);
    });

    it("both validating webhooks must be there", () => {
        const s = goodHostRemote();
        s[0]!.objects = [];
        expect(checkCluster(hostRemote, s).map(formatFinding)).toEqual([
            "cluster west, release istio-base, ValidatingWebhookConfiguration/*, (object): missing: " +
                "the remote validates Istio config through its primary",
        ]);
    });

    it("a remote without its primary's address in the plan is reported", () => {
        expect(fields(checkCluster({ ...remote, primaryAddress: undefined }, goodIpRemote()))).toEqual(["istiod Service/istiod (model)"]);
    });
});

describe("schema validation", () => {
    const dep = istiodDeployment({ CLUSTER_ID: "east" });

    it("accepts good Kubernetes and Istio objects", async () => {
        expect(await objectSchemaProblems(dep as never, "1.33")).toEqual({ problems: [] });
        for (const o of [
            ...gatewayObjects("n"),
            ...goodIpRemote().flatMap((s) => s.objects),
            crossNetworkGateway({ istio: "eastwestgateway" }),
        ]) {
            expect((await objectSchemaProblems(o as never, "1.33")).problems, `${o.kind}/${o.metadata.name}`).toEqual([]);
        }
    });

    it("rejects a wrong type and a missing required field, naming the path", async () => {
        const bad = clone(dep) as any;
        bad.spec.template.spec.containers[0].ports = [{ containerPort: "15012" }];
        expect((await objectSchemaProblems(bad, "1.33")).problems).toEqual([
            "apps/v1 Deployment /spec/template/spec/containers/0/ports/0/containerPort must be integer",
        ]);
        const noSelector = clone(dep) as any;
        delete noSelector.spec.selector;
        expect((await objectSchemaProblems(noSelector, "1.33")).problems).toEqual([
            "apps/v1 Deployment /spec must have required property selector",
        ]);
    });

    it("rejects an API version the cluster's Kubernetes version does not serve", async () => {
        const pdb = { apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: { name: "istiod" }, spec: { minAvailable: 1 } };
        expect((await objectSchemaProblems(pdb, "1.33")).problems).toEqual([
            "policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.33 (removed in 1.25)",
        ]);
        expect((await objectSchemaProblems(pdb, "1.24")).problems).toEqual([]);
        expect(servedProblem("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "1.29")).toMatch(/added in 1.30/);
        expect(servedProblem("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "v1.33.1")).toBeUndefined();
    });

    it("rejects an unknown built-in kind and an invalid Istio object; leaves a third-party CRD unchecked with a note", async () => {
        expect(
            (await objectSchemaProblems({ apiVersion: "apps/v1", kind: "Deploymnt", metadata: { name: "x" } }, "1.33")).problems[0],
        ).toMatch(/no such kind/);
        const gw = clone(crossNetworkGateway({ istio: "eastwestgateway" })) as any;
        gw.spec.servers[0].port.number = "x";
        expect((await objectSchemaProblems(gw, "1.33")).problems).toEqual([
            "networking.istio.io/v1/Gateway /spec/servers/0/port/number must be integer",
        ]);
        const pool = { apiVersion: "metallb.io/v1beta1", kind: "IPAddressPool", metadata: { name: "p" }, spec: {} };
        expect(await objectSchemaProblems(pool, "1.33")).toEqual({
            problems: [],
            unchecked: "metallb.io/v1beta1 IPAddressPool: no schema (a custom resource of another project)",
        });
    });
});

describe("images", () => {
    const hub = "registry.example.com/istio";
    const injector = (values: Record<string, unknown>) =>
        configMap("istio-sidecar-injector", { values: JSON.stringify(values), config: "" });
    const istiod = (image: string): Obj => {
        const d = istiodDeployment({});
        (d.spec as any).template.spec.containers[0].image = image;
        return d;
    };
    const src = (release: string, chart: string, objects: Obj[]): ObjectSource => ({ release, chart, namespace: "istio-system", objects });
    const model = (name: string, extra: Partial<ClusterModel> = {}): ClusterModel => ({
        name,
        role: "primary",
        primary: null,
        network: "n1",
        meshId: "m",
        topology: "primary-remote",
        multiNetwork: true,
        ...extra,
    });
    const good = { global: { hub, tag: ISTIO_VERSION } };

    it("resolves the gateway's image: auto through the injecting cluster's injector (a remote's primary), and passes images under the hub", () => {
        const r = checkImages(
            [
                { model: model("p"), sources: [src("istiod", "istiod", [istiod(`${hub}/pilot:${ISTIO_VERSION}`), injector(good)])] },
                {
                    model: model("r", { role: "remote", primary: "p" }),
                    sources: [src("istio-eastwestgateway", "gateway", gatewayObjects("n2"))],
                },
            ],
            { hub, tag: ISTIO_VERSION },
        );
        expect(r.findings.map(formatFinding)).toEqual([]);
        expect(r.images).toEqual({
            p: { "Deployment/istiod": `${hub}/pilot:${ISTIO_VERSION}` },
            r: { "Deployment/istio-eastwestgateway": `auto → ${hub}/proxyv2:${ISTIO_VERSION} (injected by p)` },
        });
        expect(injectedProxyImage({ global: { hub, tag: "1.31.1", variant: "distroless" } })).toBe(`${hub}/proxyv2:1.31.1-distroless`);
        expect(injectedProxyImage({ global: { hub, tag: "1", proxy: { image: "other.example/proxy:2" } } })).toBe("other.example/proxy:2");
    });

    it("fails an istiod image, an injector and so a gateway image that are not under the configured hub at the pinned version", () => {
        const r = checkImages(
            [
                {
                    model: model("p"),
                    sources: [
                        src("istiod", "istiod", [
                            istiod(`docker.io/istio/pilot:${ISTIO_VERSION}`),
                            injector({ global: { hub: "docker.io/istio", tag: ISTIO_VERSION } }),
                        ]),
                        src("istio-eastwestgateway", "gateway", gatewayObjects("n1")),
                    ],
                },
            ],
            { hub, tag: ISTIO_VERSION },
        );
        expect(r.findings.map((f) => `${f.release} ${f.object} ${f.field}`)).toEqual([
            "istiod ConfigMap/istio-sidecar-injector data.values global.hub, global.tag",
            "istiod Deployment/istiod containers[discovery].image",
            "istio-eastwestgateway Deployment/istio-eastwestgateway containers[istio-proxy].image",
        ]);
        const missing = checkImages([{ model: model("p"), sources: [src("istio-eastwestgateway", "gateway", gatewayObjects("n1"))] }], {
            hub,
            tag: ISTIO_VERSION,
        });
        expect(missing.findings.map((f) => f.message)).toEqual(["is auto, and no injector values of p were rendered to resolve it"]);
    });
});

describe("render inputs", () => {
    it("reads the plan's values header", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "values-"));
        const f = path.join(dir, "istiod.values.yaml");
        fs.writeFileSync(f, `# chart istiod ${ISTIO_VERSION} from https://charts.example, release istiod in istio-system\nglobal: {}\n`);
        expect(readValuesHeader(f)).toEqual({
            file: f,
            chart: "istiod",
            version: ISTIO_VERSION,
            repository: "https://charts.example",
            release: "istiod",
            namespace: "istio-system",
        });
        // A local chart folder may hold spaces.
        fs.writeFileSync(f, `# chart istiod ${ISTIO_VERSION} from /srv/my charts/istio, release istiod in istio-system\nglobal: {}\n`);
        expect(readValuesHeader(f).repository).toBe("/srv/my charts/istio");
        fs.writeFileSync(f, "global: {}\n");
        expect(() => readValuesHeader(f)).toThrow(/header/);
    });

    it("takes each cluster's Kubernetes version from the config, with a documented default", () => {
        expect(clusterKubeVersions("gcp-aws")).toEqual({ "gke-central": "1.33", "eks-east": "1.33" });
        expect(clusterKubeVersions("dev")).toEqual({ east: "1.33", west: "1.33" });
    });

    it("splits a manifest into its documents, skipping empty ones", () => {
        const docs = splitManifest(
            "---\n# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n# only a comment\n",
        );
        expect(docs.map((d) => d.obj.metadata.name)).toEqual(["a"]);
        expect(docs[0]!.text.startsWith("# Source: a.yaml")).toBe(true);
    });
});

describe("locateCharts", () => {
    const chartYaml = (name: string, version: string) => `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: ${version}\n`;
    // Every folder this block makes is removed after it (CI machines run the suite many times).
    const made: string[] = [];
    afterAll(() => {
        for (const d of made) fs.rmSync(d, { recursive: true, force: true });
    });
    const tmp = (prefix: string) => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
        made.push(d);
        return d;
    };
    function chartsDir(versions: Record<string, string>, dir = tmp("charts-")): string {
        fs.mkdirSync(dir, { recursive: true });
        for (const [name, v] of Object.entries(versions)) {
            fs.mkdirSync(path.join(dir, name));
            fs.writeFileSync(path.join(dir, name, "Chart.yaml"), chartYaml(name, v));
            fs.writeFileSync(path.join(dir, name, "values.yaml"), "{}\n");
        }
        return dir;
    }
    const all = (v: string) => ({ base: v, istiod: v, gateway: v });
    const emptyCache = () => tmp("cache-");

    it("without charts: a message that says how to get them", () => {
        const r = locateCharts(ISTIO_VERSION, { dir: tmp("empty-"), cacheDir: emptyCache() });
        expect(r.ok).toBe(false);
        if (!r.ok) {
            expect(r.message).toMatch(/npm run charts:pull -- --stack/);
            expect(r.message).toMatch(/npm run charts:pull -- --source/);
            expect(r.message).toMatch(/ISTIO_CHARTS_DIR/);
        }
    });

    // Every supported minor, by table: the exact charts first; else the newest of the same minor, said so.
    it.each(SUPPORTED_ISTIO.minors.map((m) => newestWithoutDefects(m)!))(
        "%s: exact charts, else the same minor's, never another minor's",
        (v) => {
            const minor = minorOf(v);
            const exact = locateCharts(v, { dir: chartsDir(all(v)), cacheDir: emptyCache() });
            expect(exact.ok && { exact: exact.exact, chartsVersion: exact.chartsVersion, notes: exact.notes }).toEqual({
                exact: true,
                chartsVersion: v,
                notes: [],
            });

            const parent = tmp("versions-");
            chartsDir(all(`${minor}.0-rc.0`), path.join(parent, "a"));
            chartsDir(all(`${minor}.0`), path.join(parent, "b"));
            chartsDir(all("1.29.7"), path.join(parent, "c"));
            const other = locateCharts(v, { dir: parent, cacheDir: emptyCache() });
            expect(other.ok).toBe(true);
            if (other.ok) {
                expect(other.exact).toBe(false);
                expect(other.chartsVersion).toBe(`${minor}.0`);
                expect(other.charts.istiod.dir).toBe(path.join(parent, "b", "istiod"));
                expect(other.notes).toEqual([
                    expect.stringMatching(
                        new RegExp(
                            `^the Istio ${v.replace(/\./g, "\\.")} charts are not at hand: rendered with the ${minor}\\.0 charts of the same minor`,
                        ),
                    ),
                ]);
            }
            const wrongMinor = locateCharts(v, { dir: chartsDir(all("1.29.7")), cacheDir: emptyCache() });
            expect(wrongMinor.ok).toBe(false);
        },
    );

    it("prefers the stack's local chart folder, and reads the charts:pull cache", () => {
        const cache = emptyCache();
        chartsDir(all(ISTIO_VERSION), path.join(cache, `charts-${ISTIO_VERSION}`));
        const fromCache = locateCharts(ISTIO_VERSION, { cacheDir: cache });
        expect(fromCache.ok && fromCache.origin).toMatch(/^the charts:pull cache /);
        const local = chartsDir(all(ISTIO_VERSION));
        const fromLocal = locateCharts(ISTIO_VERSION, { localRepository: local, cacheDir: cache });
        expect(fromLocal.ok && fromLocal.origin).toBe(`the stack's istio.repository ${local}`);
    });

    it("refuses a source checkout's placeholder, a mixed folder or a missing chart, saying why", () => {
        const src = locateCharts(ISTIO_VERSION, { dir: chartsDir(all("1.0.0")), cacheDir: emptyCache() });
        expect(src.ok === false && src.message).toMatch(
            /source checkout \(Chart\.yaml version 1\.0\.0, Istio's placeholder\): stage them as a release with npm run charts:pull -- --source/,
        );
        const mixed = locateCharts(ISTIO_VERSION, { dir: chartsDir({ ...all(ISTIO_VERSION), base: "1.29.0" }), cacheDir: emptyCache() });
        expect(mixed.ok === false && mixed.message).toMatch(/mixes chart versions 1\.29\.0, /);
        const m = locateCharts(ISTIO_VERSION, { dir: chartsDir({ base: ISTIO_VERSION, istiod: ISTIO_VERSION }), cacheDir: emptyCache() });
        expect(m.ok === false && m.message).toMatch(/lacks gateway\/Chart\.yaml/);
    });

    it("stages a source checkout at a tag as that release, as Istio's release build does (version and appVersion)", () => {
        const checkout = tmp("istio-");
        for (const [name, dir] of [
            ["base", "manifests/charts/base"],
            ["istiod", "manifests/charts/istio-control/istio-discovery"],
            ["gateway", "manifests/charts/gateway"],
        ]) {
            fs.mkdirSync(path.join(checkout, dir), { recursive: true });
            fs.writeFileSync(path.join(checkout, dir, "Chart.yaml"), `# never actually shipped\n${chartYaml(name, "1.0.0")}`);
        }
        const dest = stageSourceCharts(checkout, "1.31.0-rc.0", path.join(tmp("staged-"), "charts"));
        const meta = YAML.parse(fs.readFileSync(path.join(dest, "istiod", "Chart.yaml"), "utf8"));
        expect(meta).toMatchObject({ name: "istiod", version: "1.31.0-rc.0", appVersion: "1.31.0-rc.0" });
        expect(chartFolder(dest)).toEqual({ version: "1.31.0-rc.0" });
        expect(() => stageSourceCharts(chartsDir(all("1.30.3")), "1.31.0-rc.0", path.join(tmp("x-"), "c"))).toThrow(
            /not a source checkout/,
        );
    });
});
