// The policy pack (policy/): every policy with passing and failing resources, run the way the
// @pulumi/policy analyzer calls it (policy/testing.ts), then every policy over what a real
// simulated run of each shipped stack registers: no violation, and the violations one expects
// once that run is broken by hand.
import * as fs from "node:fs";
import * as path from "node:path";
import { Secret } from "@pulumi/policy";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
    cacertsBeforeIstiod,
    DEFAULT_ALLOWED_OUTPUTS,
    destinationRulesIdentical,
    istioArtifactSource,
    makeProductionIstioKnownDefect,
    explicitProvider,
    istioVersionUniform,
    loadBalancerOnlyEastWest,
    localityNeedsOutlierDetection,
    isProductionStack,
    makeProductionDeclared,
    makeProductionDeletionProtection,
    meshPolicies,
    noSecretInPlainOutput,
    RELEASE,
    SECRET,
    SERVICE,
    secretKind,
    STACK,
} from "../policy/policies";
import { checkResource, checkResources, checkStack, fromRegistrations, TestResource, testUrn } from "../policy/testing";
import {
    ISTIO_HUB,
    ISTIO_OCI_REPOSITORY,
    ISTIO_REPOSITORY,
    ISTIO_VERSION,
    KNOWN_DEFECTS,
    newestWithoutDefects,
    SUPPORTED_ISTIO,
} from "../components/istio";
import { RETIRED_ISTIO_LOCATIONS } from "../components/istioSource";
import { readStackFile } from "../offline/offlinePlan";
import { runProgram, RunResult } from "../offline/runProgram";
import { isSecretOutput } from "./support/harness";
import { ROOT, shippedStacks } from "./support/planRun";
import { EKS_TYPES } from "../components/platforms/eks";
import { GKE_TYPES } from "../components/platforms/gke";

const GKE_CLUSTER = GKE_TYPES.cluster;
const EKS_CLUSTER = EKS_TYPES.cluster;

/** Type-checks policy/index.ts (the PolicyPack itself, which starts a server when loaded, so it is never imported). */
export type PolicyPackModule = typeof import("../policy/index");

/** The Istio version of the releases these tests build: the default one. */
const V = ISTIO_VERSION;
const EAST = testUrn("pulumi:providers:kubernetes", "east-k8s");
const WEST = testUrn("pulumi:providers:kubernetes", "west-k8s");
const providers: TestResource[] = [
    { type: "pulumi:providers:kubernetes", name: "east-k8s", urn: EAST, props: { clusterIdentifier: "multicluster-mesh/existing/east/0" } },
    { type: "pulumi:providers:kubernetes", name: "west-k8s", urn: WEST, props: { clusterIdentifier: "multicluster-mesh/existing/west/0" } },
];
const k8s = (type: string, name: string, props: Record<string, any>, provider = EAST, extra: Partial<TestResource> = {}): TestResource => ({
    type,
    name,
    props,
    provider,
    urn: testUrn(type, name),
    ...extra,
});
const release = (
    name: string,
    chart: string,
    version: string,
    provider = EAST,
    extra: Partial<TestResource> = {},
    values: Record<string, unknown> = {},
) => k8s(RELEASE, name, { name: chart === "istiod" ? "istiod" : name, chart, version, namespace: "istio-system", values }, provider, extra);
const cacerts = (name: string, provider = EAST) =>
    k8s(SECRET, name, { metadata: { name: "cacerts", namespace: "istio-system" }, type: "Opaque" }, provider);
const messages = (r: { violations: { message: string }[] }) => r.violations.map((v) => v.message);

describe("kubernetes-explicit-provider", () => {
    it("passes a Kubernetes object that names its cluster's provider", async () => {
        expect(messages(await checkResource(explicitProvider, k8s(SERVICE, "svc", {}), {}, providers))).toEqual([]);
        expect(messages(await checkResource(explicitProvider, { type: "tls:index/privateKey:PrivateKey", name: "k", props: {} }))).toEqual(
            [],
        );
    });
    it("fails one with no provider, or the default provider", async () => {
        const none = await checkResource(explicitProvider, { type: SERVICE, name: "svc", props: {} });
        expect(messages(none)).toEqual([
            expect.stringMatching(/^kubernetes:core\/v1:Service svc has no explicit Kubernetes provider \(none\); .*current kube context/),
        ]);
        const dflt = await checkResource(
            explicitProvider,
            k8s("kubernetes:apps/v1:Deployment", "d", {}, testUrn("pulumi:providers:kubernetes", "default_4_34_2")),
        );
        expect(messages(dflt)).toEqual([expect.stringContaining("default provider default_4_34_2")]);
    });
});

describe("cacerts-before-istiod", () => {
    const ca = cacerts("east-cacerts");
    it("passes when istiod depends on the cacerts Secret of its own cluster; a remote's istiod needs none", async () => {
        const istiod = release("east-istiod", "istiod", V, EAST, { dependencies: [ca.urn!] });
        const remote = release("west-istiod", "istiod", V, WEST, {}, { profile: "remote" });
        expect(messages(await checkStack(cacertsBeforeIstiod, [...providers, ca, istiod, remote]))).toEqual([]);
    });
    it("fails when istiod does not depend on cacerts", async () => {
        const istiod = release("east-istiod", "istiod", V);
        const r = await checkStack(cacertsBeforeIstiod, [...providers, ca, istiod]);
        expect(messages(r)).toEqual([
            expect.stringMatching(/^istiod release east-istiod \(provider east-k8s\) does not depend on east-cacerts/),
        ]);
        expect(r.violations[0].urn).toBe(istiod.urn);
    });
    it("fails when the only cacerts is in another cluster, even as a dependency", async () => {
        const other = cacerts("west-cacerts", WEST);
        const istiod = release("east-istiod", "istiod", V, EAST, { dependencies: [other.urn!] });
        expect(messages(await checkStack(cacertsBeforeIstiod, [...providers, other, istiod]))).toEqual([
            expect.stringContaining("has no cacerts Secret in namespace istio-system of the same cluster"),
        ]);
    });
    it("skips values unknown during preview instead of failing the policy", async () => {
        // What the analyzer hands over in a preview: props behind the SDK's unknown-checking proxy.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal modules of @pulumi/policy, loaded as the analyzer does
        const { unknownCheckingProxy } = require("@pulumi/policy") as { unknownCheckingProxy: (o: unknown) => Record<string, any> };
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
        const { unknownObjectValue } = require("@pulumi/policy/proxy") as { unknownObjectValue: unknown };
        const istiod = release("east-istiod", "istiod", V, EAST, { dependencies: [ca.urn!] });
        istiod.props = unknownCheckingProxy({ ...istiod.props, values: unknownObjectValue });
        expect(() => istiod.props.values).toThrow(/can't be known during preview/);
        expect(messages(await checkStack(cacertsBeforeIstiod, [...providers, ca, istiod]))).toEqual([]);
    });
});

describe("loadbalancer-only-east-west", () => {
    const lb = (name: string, labels: Record<string, string> = {}, namespace = "istio-system") =>
        k8s(SERVICE, name, { metadata: { name, namespace, labels }, spec: { type: "LoadBalancer" } });
    it("passes the east-west gateway's Service and release, and ClusterIP Services", async () => {
        const ok = [
            lb("istio-eastwestgateway"),
            k8s(SERVICE, "c", { metadata: { name: "c" }, spec: { type: "ClusterIP" } }),
            release(
                "istio-eastwestgateway",
                "gateway",
                V,
                EAST,
                {},
                { name: "istio-eastwestgateway", networkGateway: "n1", service: { type: "LoadBalancer" } },
            ),
            release("ingress", "gateway", V, EAST, {}, { service: { type: "ClusterIP" } }),
        ];
        expect(messages(await checkResources(loadBalancerOnlyEastWest, ok))).toEqual([]);
    });
    it("fails any other LoadBalancer: a Service, or a gateway chart left at its default", async () => {
        expect(messages(await checkResource(loadBalancerOnlyEastWest, lb("web")))).toEqual([
            expect.stringMatching(
                /^Service istio-system\/web is a LoadBalancer; only the east-west gateways \(istio-system\/istio-eastwestgateway\) may be/,
            ),
        ]);
        expect(messages(await checkResource(loadBalancerOnlyEastWest, release("istio-ingressgateway", "gateway", V)))).toEqual([
            expect.stringMatching(/^gateway release istio-ingressgateway would create a LoadBalancer Service/),
        ]);
        // Whatever the chart source: an OCI reference or a local folder names the same gateway chart.
        for (const chart of [`${ISTIO_OCI_REPOSITORY}/gateway`, "/srv/charts/istio/gateway"]) {
            const r = k8s(RELEASE, "istio-ingressgateway", {
                name: "istio-ingressgateway",
                chart,
                version: V,
                namespace: "istio-system",
                values: {},
            });
            expect(messages(await checkResource(loadBalancerOnlyEastWest, r))).toEqual([
                expect.stringMatching(/^gateway release istio-ingressgateway would create a LoadBalancer Service/),
            ]);
        }
    });
    // Audit (issue 17 item 10): a label or a value anyone can copy let any load balancer through.
    it("fails a LoadBalancer that only wears the east-west label, or the name in another namespace, or a release with networkGateway", async () => {
        expect(messages(await checkResource(loadBalancerOnlyEastWest, lb("custom", { istio: "eastwestgateway" })))).toEqual([
            expect.stringMatching(/^Service istio-system\/custom is a LoadBalancer/),
        ]);
        expect(
            messages(await checkResource(loadBalancerOnlyEastWest, lb("istio-eastwestgateway", { istio: "eastwestgateway" }, "apps"))),
        ).toEqual([expect.stringMatching(/^Service apps\/istio-eastwestgateway is a LoadBalancer/)]);
        const sneaky = release("gw", "gateway", "1.30.3", EAST, {}, { networkGateway: "n1", service: { type: "LoadBalancer" } });
        expect(messages(await checkResource(loadBalancerOnlyEastWest, sneaky))).toEqual([
            expect.stringMatching(/^gateway release gw would create a LoadBalancer Service/),
        ]);
    });
    it("takes more allowed names from config", async () => {
        expect(
            messages(await checkResource(loadBalancerOnlyEastWest, lb("web"), { allowedNames: ["istio-eastwestgateway", "web"] })),
        ).toEqual([]);
    });
});

describe("production-deletion-protection", () => {
    const prod = makeProductionDeletionProtection({ stackName: () => "prod-eu" });
    const gke = (props: Record<string, unknown>, protect = false): TestResource => ({
        type: GKE_CLUSTER,
        name: "gke-central-cluster",
        props: { name: "gke-central", ...props },
        protect,
    });
    const eks = (props: Record<string, unknown>, protect = false): TestResource => ({
        type: EKS_CLUSTER,
        name: "eks-east-cluster",
        props: { name: "eks-east", ...props },
        protect,
    });
    /** The root Stack resource with the `environment` output (mesh.environment), or none. */
    const root = (environment?: string): TestResource => ({ type: STACK, name: "s", props: environment ? { environment } : {} });
    it("passes protected clusters: protect, deletionProtection, or GKE's default", async () => {
        for (const r of [
            gke({ deletionProtection: true }),
            gke({}),
            gke({ deletionProtection: false }, true),
            eks({ deletionProtection: true }),
            eks({}, true),
        ]) {
            expect(messages(await checkStack(prod, [r, root("production")])), JSON.stringify(r)).toEqual([]);
        }
    });
    it("fails unprotected GKE and EKS clusters in a production stack", async () => {
        expect(messages(await checkStack(prod, [gke({ deletionProtection: false }), root("production")]))).toEqual([
            expect.stringMatching(
                /^GKE cluster gke-central-cluster in production stack prod-eu \(mesh\.environment is production\) can be deleted .*gke\.deletionProtection: true/,
            ),
        ]);
        expect(messages(await checkStack(prod, [eks({}), root("production")]))).toEqual([
            expect.stringMatching(/^EKS cluster eks-east-cluster in production stack prod-eu .* can be deleted .*protect: true/),
        ]);
    });
    // Audit (issue 17 item 10): production is said once, in config; a stack named `live` is production too.
    it("takes production from mesh.environment whatever the stack's name; the name decides only when it is unset", async () => {
        const live = makeProductionDeletionProtection({ stackName: () => "live" });
        expect(messages(await checkStack(live, [eks({}), root("production")]))).toEqual([
            expect.stringMatching(/^EKS cluster eks-east-cluster in production stack live \(mesh\.environment is production\)/),
        ]);
        expect(messages(await checkStack(live, [eks({}), root()]))).toEqual([]);
        expect(messages(await checkStack(prod, [eks({}), root("staging")]))).toEqual([]);
        // Unset: the name rule, as a fallback that the advisory policy warns about.
        expect(messages(await checkStack(prod, [eks({}), root()]))).toEqual([
            expect.stringMatching(/^EKS cluster eks-east-cluster in production stack prod-eu \(stack name "prod-eu" matches \/prod\/\)/),
        ]);
        const declared = makeProductionDeclared({ stackName: () => "prod-eu" });
        expect(messages(await checkStack(declared, [eks({}), root()]))).toEqual([
            expect.stringMatching(
                /^stack prod-eu is treated as production because its stack name "prod-eu" matches \/prod\/; mesh\.environment is not set/,
            ),
        ]);
        expect(messages(await checkStack(declared, [eks({}), root("production")]))).toEqual([]);
        expect(declared.enforcementLevel).toBe("advisory");
        expect(isProductionStack([root()], "dev", "^(dev|live)$").production).toBe(true);
    });
});

describe("istio-version-uniform", () => {
    it("passes one Istio version everywhere (other charts, such as MetalLB, do not count)", async () => {
        const rs = [
            release("e-base", "base", V),
            release("e-istiod", "istiod", V),
            release("w-istiod", "istiod", V, WEST),
            release("e-metallb", "metallb", "0.14.9"),
        ];
        expect(messages(await checkStack(istioVersionUniform, [...providers, ...rs]))).toEqual([]);
    });
    it("fails the releases that differ, naming the versions per cluster", async () => {
        const odd = release("w-istiod", "istiod", "1.29.0", WEST);
        const r = await checkStack(istioVersionUniform, [
            ...providers,
            release("e-base", "base", V),
            release("e-istiod", "istiod", V),
            release("w-base", "base", V, WEST),
            odd,
        ]);
        expect(messages(r)).toEqual([
            `istiod 1.29.0 in cluster west differs from ${V} elsewhere (east base ${V}, east ` +
                `istiod ${V}, west base ${V}, west istiod 1.29.0); one mesh runs one Istio version ` +
                "(set istio.version once).",
        ]);
        expect(r.violations[0].urn).toBe(odd.urn);
    });
});

describe("istio-version-uniform during a revision-based upgrade (issue 20)", () => {
    const OLD = "1.30.3";
    const NEW = "1.31.0-rc.0";
    const root = (upgrade: Record<string, unknown> | null): TestResource => ({
        type: STACK,
        name: "s",
        props: { istioRevisions: { version: OLD, revision: "", tags: [], upgrade } },
    });
    const install = { version: NEW, revision: "1-31-0-rc-0", phase: "install", order: ["east", "west"], moved: [] };
    const phaseInstall = (newIstiodWest = NEW) => [
        ...providers,
        release("e-base", "base", NEW),
        release("w-base", "base", NEW, WEST),
        release("e-istiod", "istiod", OLD),
        release("w-istiod", "istiod", OLD, WEST),
        release("e-istiod-new", "istiod", NEW, EAST, {}, { revision: "1-31-0-rc-0" }),
        release("w-istiod-new", "istiod", newIstiodWest, WEST, {}, { revision: "1-31-0-rc-0" }),
        release("e-gw", "gateway", OLD),
        release("w-gw", "gateway", OLD, WEST),
    ];
    it("passes the running and the new version side by side, one version per chart and revision", async () => {
        expect(messages(await checkStack(istioVersionUniform, [...phaseInstall(), root(install)]))).toEqual([]);
    });
    it("fails a third version, and one revision at two versions across clusters", async () => {
        expect(messages(await checkStack(istioVersionUniform, [...phaseInstall("1.31.1"), root(install)]))).toEqual([
            "istiod 1.31.1 in cluster west is neither the running 1.30.3 nor the upgrade's 1.31.0-rc.0 (docs/upgrades.md).",
            "istiod revision 1-31-0-rc-0 has versions 1.31.0-rc.0, 1.31.1 across clusters; one phase deploys one version of it everywhere.",
        ]);
    });
    it("without an upgrade, two versions are still one too many", async () => {
        expect(messages(await checkStack(istioVersionUniform, [...phaseInstall(), root(null)]))[0]).toMatch(
            /one mesh runs one Istio version/,
        );
    });
});

describe("no-secret-in-plain-output", () => {
    const stack = (props: Record<string, unknown>): TestResource => ({ type: STACK, name: "multicluster-mesh-test", props });
    const ROOT_CERT = "-----BEGIN CERTIFICATE-----\nMIIBhDCCASqgAwIBAgIQ\n-----END CERTIFICATE-----\n";
    const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO4SY7\n-----END EC PRIVATE KEY-----\n";
    const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.5dba6bb9ba4c5fdf8fc1ab512d189d38";
    const KUBECONFIG =
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: east\n    cluster:\n      server: " +
        "https://10.0.0.1:6443\nusers:\n  - name: east\n    user:\n      token: abcdef0123456789\n";
    it("passes public outputs: addresses, facts, the root certificate and its hash", async () => {
        const r = await checkStack(noSecretInPlainOutput, [
            stack({
                meshId: "m",
                rootCertPem: ROOT_CERT,
                rootCertSha256: "ab".repeat(32),
                gatewayAddresses: { east: "10.0.0.1" },
                clusters: { east: { endpoint: "https://10.0.0.1" } },
            }),
        ]);
        expect(messages(r)).toEqual([]);
    });
    it("fails a private key, a token, a kubeconfig with credentials, plain or base64, at any depth", async () => {
        const r = await checkStack(noSecretInPlainOutput, [
            stack({
                key: KEY,
                nested: { list: [{ token: JWT }] },
                kubeconfig: KUBECONFIG,
                kcObject: { users: [{ name: "e", user: { "client-key-data": "LS0t" } }] },
                b64: Buffer.from(KEY).toString("base64"),
            }),
        ]);
        expect(messages(r)).toEqual([
            expect.stringMatching(/^stack output b64 holds a PEM private key, base64-encoded in plain text/),
            expect.stringMatching(/^stack output kcObject\.users\[0\]\.user\.client-key-data holds a kubeconfig credential/),
            expect.stringMatching(/^stack output key holds a PEM private key/),
            expect.stringMatching(/^stack output kubeconfig holds a kubeconfig with credentials/),
            expect.stringMatching(/^stack output nested\.list\[0\]\.token holds a JWT/),
        ]);
    });
    // Audit (issue 17 item 10): what the rule used to miss.
    it("fails JSON kubeconfigs, auth-provider tokens, ya29. tokens and AWS keys", async () => {
        const json = JSON.stringify({ apiVersion: "v1", kind: "Config", users: [{ name: "a", user: { token: "abcdef0123456789" } }] });
        const authProvider =
            "apiVersion: v1\nkind: Config\nusers:\n- name: gke\n  user:\n    auth-provider:\n      name: gcp\n      config:\n" +
            "        access-token: not-a-ya29-but-a-token\n        expiry: 2026-01-01T00:00:00Z\n";
        const r = await checkStack(noSecretInPlainOutput, [
            stack({
                jsonKubeconfig: json,
                authProvider,
                authObject: {
                    users: [{ name: "o", user: { "auth-provider": { name: "oidc", config: { "id-token": "x.y.z", "client-id": "k" } } } }],
                },
                gcloud: `ya29.${"a0AfB_byC".repeat(4)}`,
                awsId: "AKIAIOSFODNN7EXAMPLE",
                awsSecret: JSON.stringify({ AccessKeyId: "x", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }),
            }),
        ]);
        expect(messages(r)).toEqual([
            expect.stringMatching(
                /^stack output authObject\.users\[0\]\.user\.auth-provider\.config\.id-token holds an auth-provider token/,
            ),
            expect.stringMatching(/^stack output authProvider holds a kubeconfig with auth-provider tokens/),
            expect.stringMatching(/^stack output awsId holds an AWS access key ID/),
            expect.stringMatching(/^stack output awsSecret holds an AWS secret access key/),
            expect.stringMatching(/^stack output gcloud holds a Google OAuth access token \(ya29\.\)/),
            expect.stringMatching(/^stack output jsonKubeconfig holds a kubeconfig with credentials/),
        ]);
        // A kubeconfig without credentials (the exec plugin the program's own kubeconfigs use) is not a secret.
        const exec = JSON.stringify({ kind: "Config", users: [{ name: "a", user: { exec: { command: "gke-gcloud-auth-plugin" } } }] });
        expect(messages(await checkStack(noSecretInPlainOutput, [stack({ exec })]))).toEqual([]);
    });
    it("passes values marked secret, and outputs listed in allowedOutputs", async () => {
        expect(messages(await checkStack(noSecretInPlainOutput, [stack({ key: new Secret(KEY) })]))).toEqual([]);
        expect(
            messages(
                await checkStack(noSecretInPlainOutput, [
                    stack({ key: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: KEY } }),
                ]),
            ),
        ).toEqual([]);
        expect(
            messages(await checkStack(noSecretInPlainOutput, [stack({ kubeconfig: KUBECONFIG })], { allowedOutputs: ["kubeconfig"] })),
        ).toEqual([]);
    });
    it("recognizes what looks like a secret", () => {
        expect(secretKind(KEY)).toBe("a PEM private key");
        expect(secretKind("-----BEGIN PRIVATE KEY-----")).toBe("a PEM private key");
        expect(secretKind(JWT)).toBe("a JWT (service-account token)");
        expect(secretKind(ROOT_CERT)).toBeUndefined();
        expect(secretKind("https://10.0.0.1:6443")).toBeUndefined();
        expect(secretKind("a".repeat(64))).toBeUndefined();
    });
});

const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
const HOST = "payments.payments.svc.cluster.local";
const failoverSpec = (extra: Record<string, unknown> = {}) => ({
    host: HOST,
    trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: "us-east1", to: "us-west1" }] } }, ...extra },
});
const dr = (name: string, spec: Record<string, unknown>, provider = EAST, namespace = "istio-system") =>
    k8s(
        DR,
        name,
        { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "payments", namespace }, spec },
        provider,
    );

describe("locality-needs-outlier-detection", () => {
    it("passes failover or distribute with outlierDetection, and plain locality or other rules without it", async () => {
        const od = { outlierDetection: { consecutive5xxErrors: 5, interval: "10s" } };
        expect(messages(await checkResource(localityNeedsOutlierDetection, dr("a", failoverSpec(od))))).toEqual([]);
        expect(
            messages(
                await checkResource(
                    localityNeedsOutlierDetection,
                    dr("b", { host: HOST, trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true } } } }),
                ),
            ),
        ).toEqual([]);
        expect(
            messages(
                await checkResource(
                    localityNeedsOutlierDetection,
                    dr("c", { host: HOST, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } }),
                ),
            ),
        ).toEqual([]);
        expect(messages(await checkResource(localityNeedsOutlierDetection, k8s(SERVICE, "svc", { spec: failoverSpec() })))).toEqual([]);
    });
    it("fails failover or distribute without it, at the top level or in a subset, in any served version", async () => {
        expect(messages(await checkResource(localityNeedsOutlierDetection, dr("a", failoverSpec())))).toEqual([
            `DestinationRule a (host ${HOST}) trafficPolicy.loadBalancer.localityLbSetting: sets localityLbSetting.failover without an ` +
                `outlierDetection that can eject an endpoint (none applies here); no endpoint is ever ejected, so traffic never leaves ` +
                `a failed locality. Add outlierDetection (e.g. consecutive5xxErrors: 5)`,
        ]);
        const distribute = {
            host: HOST,
            subsets: [
                {
                    name: "v1",
                    trafficPolicy: {
                        loadBalancer: { localityLbSetting: { distribute: [{ from: "us-east1/*", to: { "us-west1/*": 100 } }] } },
                    },
                },
            ],
        };
        const beta = { ...dr("b", distribute), type: "kubernetes:networking.istio.io/v1beta1:DestinationRule" };
        expect(messages(await checkResource(localityNeedsOutlierDetection, beta))).toEqual([
            expect.stringMatching(
                /^DestinationRule b \(host .*\) subsets\[0\]\.trafficPolicy\.loadBalancer\.localityLbSetting: sets localityLbSetting\.distribute without/,
            ),
        ]);
    });
    // Audit (issue 17 item 6): what the rule used to miss.
    it("sees failoverPriority, port-level settings and an outlierDetection that ejects nothing", async () => {
        const lb = (s: Record<string, unknown>) => ({ loadBalancer: { localityLbSetting: s } });
        const cases: [string, Record<string, unknown>, RegExp][] = [
            [
                "failoverPriority",
                { host: HOST, trafficPolicy: lb({ failoverPriority: ["topology.istio.io/network"] }) },
                /trafficPolicy\.loadBalancer\.localityLbSetting: sets localityLbSetting\.failoverPriority without/,
            ],
            [
                "portLevelSettings",
                {
                    host: HOST,
                    trafficPolicy: {
                        outlierDetection: { consecutive5xxErrors: 0 },
                        portLevelSettings: [{ port: { number: 8080 }, ...lb({ failover: [{ from: "us-east1", to: "us-west1" }] }) }],
                    },
                },
                /trafficPolicy\.portLevelSettings\[0\]: sets localityLbSetting\.failover without .*both 0/,
            ],
            [
                "consecutive5xxErrors: 0",
                {
                    host: HOST,
                    trafficPolicy: {
                        ...lb({ failover: [{ from: "us-east1", to: "us-west1" }] }),
                        outlierDetection: { consecutive5xxErrors: 0 },
                    },
                },
                /consecutive5xxErrors and consecutiveGatewayErrors are both 0/,
            ],
        ];
        for (const [what, spec, want] of cases) {
            const got = messages(await checkResource(localityNeedsOutlierDetection, dr("x", spec)));
            expect(got, what).toEqual([expect.stringMatching(want)]);
        }
        // A port that ejects on gateway errors is fine even when 5xx ejection is off.
        const gw = {
            host: HOST,
            trafficPolicy: {
                ...lb({ failover: [{ from: "a", to: "b" }] }),
                outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 },
            },
        };
        expect(messages(await checkResource(localityNeedsOutlierDetection, dr("y", gw)))).toEqual([]);
    });
});

describe("destination-rules-identical", () => {
    const istiod = (name: string, provider: string, values: Record<string, unknown> = {}) =>
        release(name, "istiod", V, provider, {}, values);
    it("passes the same rule in every cluster that runs istiod (a remote needs none)", async () => {
        const REMOTE = testUrn("pulumi:providers:kubernetes", "remote-k8s");
        const remote = {
            type: "pulumi:providers:kubernetes",
            name: "remote-k8s",
            urn: REMOTE,
            props: { clusterIdentifier: "multicluster-mesh/existing/remote/0" },
        };
        const rs = [
            ...providers,
            remote,
            istiod("i1", EAST),
            istiod("i2", WEST),
            istiod("i3", REMOTE, { profile: "remote" }),
            dr("d1", failoverSpec()),
            dr("d2", failoverSpec(), WEST),
        ];
        expect(messages(await checkStack(destinationRulesIdentical, rs))).toEqual([]);
    });
    it("fails a rule that differs in one cluster, or is missing from one", async () => {
        const other = {
            host: HOST,
            trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: "us-west1", to: "us-east1" }] } } },
        };
        const differs = [...providers, istiod("i1", EAST), istiod("i2", WEST), dr("d1", failoverSpec()), dr("d2", other, WEST)];
        const fix = "each istiod reads its own cluster's config, so write the same rule everywhere (the traffic block does).";
        expect(messages(await checkStack(destinationRulesIdentical, differs))).toEqual([
            `DestinationRule istio-system/${HOST} differs between clusters (east vs west); ${fix}`,
        ]);
        // With a majority, the cluster that differs is named; keyed by namespace and host (payments/ agrees with itself).
        const CENTRAL = testUrn("pulumi:providers:kubernetes", "central-k8s");
        const central = {
            type: "pulumi:providers:kubernetes",
            name: "central-k8s",
            urn: CENTRAL,
            props: { clusterIdentifier: "multicluster-mesh/existing/central/0" },
        };
        const three = [
            ...differs,
            central,
            istiod("i3", CENTRAL),
            dr("d3", failoverSpec(), CENTRAL),
            dr("d4", other, WEST, "payments"),
            dr("d5", other, EAST, "payments"),
            dr("d6", other, CENTRAL, "payments"),
            dr("d7", failoverSpec(), EAST, "ledger"),
        ];
        expect(messages(await checkStack(destinationRulesIdentical, three))).toEqual([
            `DestinationRule istio-system/${HOST} in cluster west differs from the one in central, east; ${fix}`,
            `DestinationRule ledger/${HOST} is in east but not in central, west, whose istiod ` +
                `reads only its own cluster's config; write it to every cluster that runs istiod.`,
        ]);
    });
});

describe("every policy over a real simulated run", () => {
    const stacks = shippedStacks();
    const runs = new Map<string, RunResult>();
    beforeAll(async () => {
        for (const stack of stacks) {
            const sf = readStackFile(stack);
            vi.resetModules();
            const r = await runProgram({
                config: sf.config,
                secretKeys: sf.secretKeys,
                stack,
                load: () => import("../index.js"),
                sim: { cannedTls: true },
            });
            expect(r.error, `${stack}: ${r.error?.message}`).toBeUndefined();
            runs.set(stack, r);
        }
    }, 120_000);

    async function violations(stack: string, resources: TestResource[], stackName = stack): Promise<string[]> {
        const out: string[] = [];
        for (const p of meshPolicies({ stackName: () => stackName })) {
            const r = "validateStack" in p ? await checkStack(p, resources) : await checkResources(p, resources);
            out.push(...r.violations.map((v) => `${p.name}: ${v.message}`));
        }
        return out;
    }
    const resourcesOf = (stack: string) => {
        const r = runs.get(stack)!;
        return fromRegistrations(r.sim.registrations, r.outputs, stack);
    };

    for (const stack of stacks) {
        it(`${stack}: no violation`, async () => {
            const resources = resourcesOf(stack);
            expect(resources.filter((r) => r.type.startsWith("kubernetes:")).length).toBeGreaterThan(5);
            expect(await violations(stack, resources)).toEqual([]);
        });
    }

    it("allows by default only outputs the program really exports as secrets", async () => {
        for (const [stack, r] of runs) {
            for (const name of DEFAULT_ALLOWED_OUTPUTS) {
                if (name in r.rawOutputs) expect(await isSecretOutput(r.rawOutputs[name]), `${stack}: output ${name}`).toBe(true);
            }
        }
        // Listed or not, a secret-looking value under another name is reported.
        const resources = resourcesOf(stacks[0]);
        const stackRes = resources.find((r) => r.type === STACK)!;
        stackRes.props = {
            ...stackRes.props,
            debugKubeconfig: "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: abc123\n",
        };
        expect(await violations(stacks[0], resources)).toEqual([
            expect.stringMatching(/^no-secret-in-plain-output: stack output debugKubeconfig holds a kubeconfig with credentials/),
        ]);
    });

    it.runIf(stacks.includes("gcp-aws"))("gcp-aws treated as production: its GKE and EKS clusters are protected", async () => {
        const resources = resourcesOf("gcp-aws");
        expect(resources.some((r) => r.type === GKE_CLUSTER) && resources.some((r) => r.type === EKS_CLUSTER)).toBe(true);
        // Its generated root key in state is the one finding: production keeps the root offline (trust.mode provided).
        const rootKey = expect.stringMatching(
            /^production-root-key-offline: production stack prod keeps the mesh's root CA key in its state/,
        );
        const guessed = expect.stringMatching(/^production-environment-declared: stack prod is treated as production because/);
        expect(await violations("gcp-aws", resources, "prod")).toEqual([rootKey, guessed]);
        const unprotected = resources.map((r) =>
            r.type === EKS_CLUSTER ? { ...r, protect: false, props: { ...r.props, deletionProtection: false } } : r,
        );
        expect(await violations("gcp-aws", unprotected, "prod")).toEqual([
            expect.stringMatching(/^production-deletion-protection: EKS cluster .* can be deleted/),
            rootKey,
            guessed,
        ]);
        // Said in config, a stack of any name is production, and nothing is guessed.
        const declared = unprotected.map((r) => (r.type === STACK ? { ...r, props: { ...r.props, environment: "production" } } : r));
        expect(await violations("gcp-aws", declared, "live")).toEqual([
            expect.stringMatching(/^production-deletion-protection: EKS cluster .* in production stack live/),
            expect.stringMatching(/^production-root-key-offline: production stack live keeps/),
        ]);
    });

    it("reports what a broken run would get wrong", async () => {
        const stack = stacks.includes("primary-remote-multinet") ? "primary-remote-multinet" : stacks[0];
        const broken = resourcesOf(stack).map((r) => ({ ...r, props: structuredClone(r.props) }));
        const istiod = broken.find((r) => r.type === RELEASE && r.props.chart === "istiod" && r.props.values?.profile !== "remote")!;
        istiod.dependencies = (istiod.dependencies ?? []).filter((u) => !u.endsWith("-cacerts"));
        const ns = broken.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        delete ns.provider;
        const base = broken.find((r) => r.type === RELEASE && r.props.chart === "base")!;
        base.props.version = "1.29.9";
        broken.push({
            ...k8s(
                SERVICE,
                "web",
                { metadata: { name: "web" }, spec: { type: "LoadBalancer" } },
                broken.find((r) => r.type === "pulumi:providers:kubernetes")!.urn!,
            ),
        });
        broken.find((r) => r.type === STACK)!.props.adminKubeconfig =
            "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: abc123\n";
        const got = await violations(stack, broken);
        expect(got.map((v) => v.split(":")[0]).sort()).toEqual([
            "cacerts-before-istiod",
            "istio-version-uniform",
            "kubernetes-explicit-provider",
            "loadbalancer-only-east-west",
            "no-secret-in-plain-output",
        ]);
    });
});

describe("the traffic policies over a real simulated run of the traffic stack", () => {
    it("pass it, and report a rule without outlier detection and one that differs between clusters", async () => {
        const sf = readStackFile("traffic");
        vi.resetModules();
        const r = await runProgram({
            config: sf.config,
            secretKeys: sf.secretKeys,
            stack: "traffic",
            load: () => import("../index.js"),
            sim: { cannedTls: true },
        });
        expect(r.error).toBeUndefined();
        const resources = fromRegistrations(r.sim.registrations, r.outputs, "traffic");
        const rules = resources.filter((x) => x.type === DR);
        expect(rules).toHaveLength(2);
        const run = async (rs: TestResource[]) => [
            ...messages(await checkResources(localityNeedsOutlierDetection, rs)),
            ...messages(await checkStack(destinationRulesIdentical, rs)),
        ];
        expect(await run(resources)).toEqual([]);
        const broken = resources.map((x) => ({ ...x, props: structuredClone(x.props) }));
        const east = broken.find((x) => x.type === DR && x.name.startsWith("mesh1-east-"))!;
        delete east.props.spec.trafficPolicy.outlierDetection;
        const got = await run(broken);
        expect(got).toEqual([
            expect.stringMatching(
                /^DestinationRule mesh1-east-traffic-destinationrule-.* trafficPolicy\.loadBalancer\.localityLbSetting: sets localityLbSetting\.failover without an outlierDetection/,
            ),
            expect.stringMatching(
                /^DestinationRule istio-system\/payments\.payments\.svc\.cluster\.local differs between clusters \(east vs west\)/,
            ),
        ]);
    });
});

describe("istio-artifact-source", () => {
    const IMG = { hub: ISTIO_HUB, global: { hub: ISTIO_HUB } };
    const fromRepo = (name: string, chart: string, repo: string, values: Record<string, unknown> = {}) =>
        k8s(RELEASE, name, { name, chart, version: V, namespace: "istio-system", repositoryOpts: { repo }, values });
    it("passes charts from Istio's repository, its OCI registry or a local folder, with istiod's hub set", async () => {
        const rs = [
            fromRepo("istiod", "istiod", ISTIO_REPOSITORY, IMG),
            k8s(RELEASE, "e-gw", { name: "e-gw", chart: `${ISTIO_OCI_REPOSITORY}/gateway`, version: V, values: {} }),
            k8s(RELEASE, "e-base", { name: "e-base", chart: "/srv/charts/istio/base", version: V, values: {} }),
        ];
        for (const r of rs) expect(messages(await checkResource(istioArtifactSource, r))).toEqual([]);
    });
    // Every retired location, by table: as the chart repository, as an OCI chart, as an image in the values.
    it.each(RETIRED_ISTIO_LOCATIONS.map((r) => [r.location, r] as const))("refuses %s wherever a release names it", async (_loc, r) => {
        const repo = fromRepo("b", "base", `https://${r.location}/charts`);
        expect(messages(await checkResource(istioArtifactSource, repo))).toEqual([
            `base release b comes from https://${r.location}/charts, a retired Istio location (${r.location}); use ${r.charts} (set mesh.istio.repository).`,
        ]);
        const oci = k8s(RELEASE, "g", { name: "g", chart: `oci://${r.location}/charts/gateway`, version: V, values: {} });
        expect(messages(await checkResource(istioArtifactSource, oci))).toEqual([expect.stringContaining(`use ${r.charts}`)]);
        const image = fromRepo("istiod", "istiod", ISTIO_REPOSITORY, {
            ...IMG,
            global: { ...IMG.global, proxy: { image: `${r.location}/x/proxyv2:1` } },
        });
        expect(messages(await checkResource(istioArtifactSource, image))).toEqual([
            `istiod release istiod: values.global.proxy.image = ${r.location}/x/proxyv2:1 names a retired Istio location (${r.location}); use ${r.images}.`,
        ]);
    });
    it("refuses an istiod release that leaves its hub to the chart's defaults", async () => {
        const bare = fromRepo("istiod", "istiod", ISTIO_REPOSITORY, {});
        expect(messages(await checkResource(istioArtifactSource, bare))).toEqual([
            "istiod release istiod leaves hub and global.hub to the chart's defaults; set them (mesh.istio.hub) so the images come from a hub you chose.",
        ]);
    });
});

describe("production-istio-known-defect", () => {
    const env = (stack: string) => ({ stackName: () => stack });
    const defective = "1.30.3";
    /** The release and the root Stack resource, whose `environment` output says production (mesh.environment). */
    const stack = (version: string, environment?: string): TestResource[] => [
        release("istiod", "istiod", version),
        { type: STACK, name: "s", props: environment ? { environment } : {} },
    ];
    it.each(SUPPORTED_ISTIO.minors.map((m) => newestWithoutDefects(m)!))(
        "passes a production stack pinned to %s (no known defect)",
        async (v) => {
            const r = await checkStack(makeProductionIstioKnownDefect(env("live")), stack(v, "production"));
            expect(messages(r)).toEqual([]);
        },
    );
    it("fails a production stack pinned to a version with known control-plane defects, naming them and the fix", async () => {
        // Production said in config (a stack named "live" would not match the name pattern).
        const r = await checkStack(makeProductionIstioKnownDefect(env("live")), stack(defective, "production"));
        const cp = KNOWN_DEFECTS.filter((d) => d.scope === "control-plane" && d.fixedIn["1.30"] === "1.30.4").map((d) => d.issue);
        expect(cp).toContain("istio/istio#61043");
        expect(messages(r)).toEqual([
            expect.stringMatching(
                /^istiod release istiod in production stack live \(mesh\.environment is production\) pins Istio 1\.30\.3, which has known multicluster defects: /,
            ),
        ]);
        for (const issue of cp) expect(messages(r)[0]).toContain(issue);
        expect(messages(r)[0]).toMatch(/Pin 1\.30\.4 or later \(mesh\.istio\.version\)\.$/);
        // Without mesh.environment, the stack name decides (and production-environment-declared warns).
        expect(messages(await checkStack(makeProductionIstioKnownDefect(env("mesh-prod")), stack(defective)))).toHaveLength(1);
    });
    it("leaves other stacks to the plan's warning, and an istioctl-only defect to the plan too", async () => {
        expect(messages(await checkStack(makeProductionIstioKnownDefect(env("mesh-prod")), stack(defective, "staging")))).toEqual([]);
        expect(messages(await checkStack(makeProductionIstioKnownDefect(env("dev")), stack(defective)))).toEqual([]);
        // 1.30.4 has only the istioctl analyze defect (fixed in 1.30.5): not the control plane's.
        expect(messages(await checkStack(makeProductionIstioKnownDefect(env("live")), stack("1.30.4", "production")))).toEqual([]);
    });
});

describe("the pack's files", () => {
    // Audit (issue 17 item 10): a rule without a test that makes it report could be one that cannot fail.
    it("every policy has a test here or in trustPolicies.test.ts that names it", () => {
        const tests = ["policy.test.ts", "trustPolicies.test.ts"]
            .map((f) => fs.readFileSync(path.join(ROOT, "test", f), "utf8"))
            .join("\n");
        for (const p of meshPolicies()) expect(tests, p.name).toMatch(new RegExp(`describe\\("[^"]*\\b${p.name}\\b|${p.name}: `));
    });
    it("pins @pulumi/policy and @pulumi/pulumi at the project's versions, runs on nodejs, and lists every policy", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        expect(pkg.dependencies["@pulumi/policy"]).toBe(root.devDependencies["@pulumi/policy"] ?? root.dependencies["@pulumi/policy"]);
        expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(fs.readFileSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
        const names = meshPolicies().map((p) => p.name);
        expect(names).toEqual([
            "kubernetes-explicit-provider",
            "cacerts-before-istiod",
            "loadbalancer-only-east-west",
            "production-deletion-protection",
            "istio-version-uniform",
            "no-secret-in-plain-output",
            "locality-needs-outlier-detection",
            "destination-rules-identical",
            "root-of-trust-expiry",
            "root-of-trust-expiry-warning",
            "root-rotation-phase",
            "production-root-key-offline",
            "istio-artifact-source",
            "production-istio-known-defect",
            "production-environment-declared",
        ]);
        expect(new Set(names).size).toBe(names.length);
        // The 180-day root expiry notice and the guessed-production notice warn; every other policy blocks.
        const advisory = ["root-of-trust-expiry-warning", "production-environment-declared"];
        for (const p of meshPolicies()) expect(p.enforcementLevel, p.name).toBe(advisory.includes(p.name) ? "advisory" : "mandatory");
    });
});
