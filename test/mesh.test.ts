// The whole program under the mock runtime, per install model: exact resources, values, provider
// routing, the remote-secret matrix, secrecy, ordering (dependencies the engine would see), and the
// certificates checked with real crypto (node:crypto and `openssl verify`).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { instanceDigest } from "../components/platforms/provider";
import { describe, expect, it } from "vitest";
import {
    ISTIO_HUB,
    ISTIO_OCI_REPOSITORY,
    ISTIO_REPOSITORY,
    ISTIO_VERSION,
    newestWithoutDefects,
    SUPPORTED_ISTIO,
} from "../components/istio";
import { chartSource, releaseChart, type ChartSource } from "../components/istioSource";
import { cluster, clusterOf, dependsOn, isSecretOutput, MeshRun, one, runMesh } from "./support/harness";
import { gatewaySchemaProblems, istioObjectProblems, valueKeyProblems } from "./support/istioSchemas";

/** The image settings every istiod release carries (components/istioSource.ts imageValues), at the defaults. */
const IMG = { hub: ISTIO_HUB, tag: ISTIO_VERSION };
// ECDSA keeps the real key generation fast; RSA is covered by its own test below.
const FAST_TRUST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" };

function names(run: MeshRun): string[] {
    return run.sim.registrations.map((r) => `${r.type}::${r.name}`).sort();
}
function openssl(args: string[], files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-ca-"));
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    try {
        return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Checks every run must pass, whatever the model (`istio`: the version and chart source the run pins, default the defaults). */
async function commonChecks(
    run: MeshRun,
    meshId: string,
    clusters: string[],
    istio: { version: string; source: ChartSource; hub: string } = {
        version: ISTIO_VERSION,
        source: chartSource(ISTIO_REPOSITORY) as ChartSource,
        hub: ISTIO_HUB,
    },
) {
    expect(run.error).toBeUndefined();
    // Names are unique per type (the mock runtime would not notice a duplicate URN).
    const keys = names(run);
    expect(new Set(keys).size).toBe(keys.length);
    // Every Kubernetes object goes through its own cluster's provider, never the default one.
    for (const r of run.k8s) {
        expect(r.provider, `${r.name} has no explicit provider`).not.toBe("");
        expect(r.providerName, `${r.name} went to the wrong cluster`).toBe(`${clusterOf(meshId, clusters, r)}-k8s`);
    }
    // One provider per cluster, each with a stable clusterIdentifier and a secret kubeconfig.
    const providers = run.sim.ofType("pulumi:providers:kubernetes");
    expect(providers.map((p) => p.name).sort()).toEqual(clusters.map((c) => `${c}-k8s`).sort());
    for (const p of providers) {
        if (p.inputs.clusterIdentifier.startsWith("existing/"))
            expect(p.inputs.clusterIdentifier).toBe(`existing/${p.name.replace(/-k8s$/, "")}`);
        else expect(p.inputs.clusterIdentifier).toBeTruthy();
        expect(p.secretPaths).toContain("kubeconfig");
    }
    // Every chart pinned, from the configured source, named, in istio-system; its values exist in that
    // minor's chart; istiod names its image hub and tag itself (no chart default decides where images come from).
    for (const r of run.sim.ofType("kubernetes:helm.sh/v3:Release")) {
        expect(["istio-base", "istiod", "istio-eastwestgateway"]).toContain(r.inputs.name);
        const chart = ({ "istio-base": "base", istiod: "istiod", "istio-eastwestgateway": "gateway" } as const)[r.inputs.name as string]!;
        const ref = releaseChart(istio.source, chart);
        expect(r.inputs).toMatchObject({ version: istio.version, chart: ref.chart, namespace: "istio-system" });
        expect(r.inputs.repositoryOpts).toEqual(ref.repositoryOpts);
        expect(valueKeyProblems(chart, r.inputs.values ?? {}, istio.version), `${r.name} sets unknown keys`).toEqual([]);
        if (chart === "gateway") expect(gatewaySchemaProblems(r.inputs.values, istio.version)).toEqual([]);
        if (chart === "istiod") {
            expect(r.inputs.values).toMatchObject({ hub: istio.hub, tag: istio.version, global: { hub: istio.hub, tag: istio.version } });
        }
    }
    for (const r of run.k8s.filter((x) => x.type.startsWith("kubernetes:networking.istio.io/"))) {
        expect(
            istioObjectProblems(
                { apiVersion: r.inputs.apiVersion, kind: r.inputs.kind, metadata: r.inputs.metadata, spec: r.inputs.spec },
                istio.version,
            ),
        ).toEqual([]);
        // CRDs first: every Istio object waits for its cluster's base chart.
        expect(dependsOn(run, r.name, `${meshId}-${clusterOf(meshId, clusters, r)}-base`)).toBe(true);
    }
    // Secret material is sent as secret; stack outputs hold none.
    for (const s of run.sim.ofType("kubernetes:core/v1:Secret").filter((x) => x.inputs.stringData))
        expect(s.secretPaths).toContain("stringData");
    // Only the kubeconfigs output holds credentials, and it is secret; nothing else is.
    for (const [k, v] of Object.entries(run.rawOutputs)) expect(await isSecretOutput(v), `output ${k}`).toBe(k === "kubeconfigs");
    const { kubeconfigs: _kc, ...publicOutputs } = run.outputs;
    const exported = JSON.stringify(publicOutputs);
    expect(exported).not.toMatch(/PRIVATE KEY|"token"|eyJhbGci/);
}

/** The cacerts of each istiod cluster, verified as istiod and OpenSSL would. */
function checkTrust(run: MeshRun, meshId: string, istiodClusters: string[]) {
    const rootPem = run.outputs.rootCertPem as string;
    const root = new crypto.X509Certificate(rootPem);
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(run.outputs.rootCertSha256).toBe(crypto.createHash("sha256").update(root.raw).digest("hex"));
    const serials = new Set<string>();
    for (const c of istiodClusters) {
        const s = one(run, `${meshId}-${c}-cacerts`);
        expect(s.inputs.metadata).toEqual({ name: "cacerts", namespace: "istio-system" });
        expect(s.inputs.type).toBe("Opaque");
        const d = s.inputs.stringData as Record<string, string>;
        expect(Object.keys(d).sort()).toEqual(["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);
        // One root everywhere (the troubleshooting guide diffs exactly this).
        expect(d["root-cert.pem"]).toBe(rootPem);
        const ca = new crypto.X509Certificate(d["ca-cert.pem"]);
        expect(ca.ca).toBe(true);
        expect(ca.checkIssued(root) && ca.verify(root.publicKey)).toBe(true);
        expect(ca.checkPrivateKey(crypto.createPrivateKey(d["ca-key.pem"]))).toBe(true);
        expect(ca.subject).toContain(`L=${c}`);
        expect(new Date(ca.validTo) < new Date(root.validTo)).toBe(true);
        expect(new Date(ca.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
        serials.add(ca.serialNumber);
        // cert-chain.pem = intermediate, then root.
        const chain = d["cert-chain.pem"].match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
        expect(chain.map((p) => new crypto.X509Certificate(p).fingerprint256)).toEqual([ca.fingerprint256, root.fingerprint256]);
        const verified = openssl(["verify", "-CAfile", "root.pem", "-untrusted", "chain.pem", "ca.pem"], {
            "root.pem": d["root-cert.pem"],
            "chain.pem": d["cert-chain.pem"],
            "ca.pem": d["ca-cert.pem"],
        });
        expect(verified.trim()).toBe("ca.pem: OK");
        const text = openssl(["x509", "-noout", "-text", "-in", "ca.pem"], { "ca.pem": d["ca-cert.pem"] });
        expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
        expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign, CRL Sign/);
        expect(text).not.toContain("Extended Key Usage");
        // cacerts is written before istiod starts.
        expect(dependsOn(run, `${meshId}-${c}-istiod`, `${meshId}-${c}-cacerts`)).toBe(true);
    }
    expect(serials.size).toBe(istiodClusters.length);
}

/**
 * Every remote secret: shape, kubeconfig content, and where its pieces come from. By default one
 * reader token per (source, reader) pair; with remoteSecrets.tokens: perSource one per source (istioctl's).
 */
function checkRemoteSecrets(run: MeshRun, meshId: string, pairs: [string, string][], tokenPerReader = true) {
    const secrets = run.sim.ofType("kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata?.labels?.["istio/multiCluster"] === "true");
    expect(secrets.map((s) => s.name).sort()).toEqual(pairs.map(([src, dst]) => `${meshId}-${src}-remote-to-${dst}`).sort());
    const tokens = run.sim.ofType("kubernetes:core/v1:Secret").filter((s) => s.inputs.type === "kubernetes.io/service-account-token");
    const sources = [...new Set(pairs.map(([src]) => src))];
    expect(tokens.map((t) => t.name).sort()).toEqual(
        (tokenPerReader
            ? pairs.map(([src, dst]) => `${meshId}-${src}-remote-token-${dst}`)
            : sources.map((src) => `${meshId}-${src}-remote-token`)
        ).sort(),
    );
    for (const [src, dst] of pairs) {
        const s = one(run, `${meshId}-${src}-remote-to-${dst}`);
        expect(s.providerName).toBe(`${dst}-k8s`);
        expect(s.inputs.metadata).toEqual({
            name: `istio-remote-secret-${src}`,
            namespace: "istio-system",
            labels: { "istio/multiCluster": "true" },
            annotations: { "networking.istio.io/cluster": src },
        });
        expect(Object.keys(s.inputs.stringData)).toEqual([src]);
        const kc = YAML.parse(s.inputs.stringData[src]);
        const token = one(run, tokenPerReader ? `${meshId}-${src}-remote-token-${dst}` : `${meshId}-${src}-remote-token`);
        expect(token.providerName).toBe(`${src}-k8s`);
        const tokenName = tokenPerReader
            ? `istio-reader-service-account-token-${dst}`
            : "istio-reader-service-account-istio-remote-secret-token";
        expect(token.inputs).toMatchObject({
            type: "kubernetes.io/service-account-token",
            metadata: {
                name: tokenName,
                namespace: "istio-system",
                annotations: { "kubernetes.io/service-account.name": "istio-reader-service-account" },
            },
        });
        // The server peers use is the source's apiServer from config.
        const apiServer = apiServers.get(src);
        expect(apiServer).toBeDefined();
        expect(kc).toEqual({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: src, cluster: { "certificate-authority-data": token.state.data["ca.crt"], server: apiServer } }],
            contexts: [{ name: src, context: { cluster: src, user: src } }],
            "current-context": src,
            preferences: {},
            users: [{ name: src, user: { token: Buffer.from(token.state.data.token, "base64").toString() } }],
        });
        // The reader's RBAC (istiod chart; the SA comes with base) exists before its token: right
        // after base alone the token gets 403 on every list. The source namespace (with its
        // controlPlaneClusters annotation on a remote) exists before the target reads it.
        expect(dependsOn(run, token.name, `${meshId}-${src}-istiod`)).toBe(true);
        expect(dependsOn(run, s.name, `${meshId}-${src}-namespace`)).toBe(true);
        expect(dependsOn(run, s.name, token.name)).toBe(true);
    }
}

/** Cluster name → apiServer as written in the config of the mesh under test. */
const apiServers = new Map<string, string>();
function meshOf(topology: string, clusters: Record<string, unknown>[], trust: Record<string, unknown> = FAST_TRUST) {
    for (const c of clusters) apiServers.set(c.name as string, c.apiServer as string);
    return { meshId: "mesh1", topology, trust, clusters };
}

describe("multi-primary, one network", () => {
    it("installs base+istiod in each cluster, no gateway, and exchanges remote secrets", async () => {
        const run = await runMesh(meshOf("multi-primary", [cluster("c1", 1), cluster("c2", 2)]));
        await commonChecks(run, "mesh1", ["c1", "c2"]);
        const k8sNames = run.k8s.map((r) => `${r.type}::${r.name}`).sort();
        expect(k8sNames).toEqual(
            [
                "kubernetes:core/v1:Namespace::mesh1-c1-namespace",
                "kubernetes:core/v1:Namespace::mesh1-c2-namespace",
                "kubernetes:core/v1:Secret::mesh1-c1-cacerts",
                "kubernetes:core/v1:Secret::mesh1-c2-cacerts",
                "kubernetes:helm.sh/v3:Release::mesh1-c1-base",
                "kubernetes:helm.sh/v3:Release::mesh1-c1-istiod",
                "kubernetes:helm.sh/v3:Release::mesh1-c2-base",
                "kubernetes:helm.sh/v3:Release::mesh1-c2-istiod",
                "kubernetes:core/v1:Secret::mesh1-c1-remote-token-c2",
                "kubernetes:core/v1:Secret::mesh1-c1-remote-to-c2",
                "kubernetes:core/v1:Secret::mesh1-c2-remote-token-c1",
                "kubernetes:core/v1:Secret::mesh1-c2-remote-to-c1",
            ].sort(),
        );
        expect(one(run, "mesh1-c1-namespace").inputs.metadata).toEqual({ name: "istio-system", labels: {}, annotations: {} });
        expect(one(run, "mesh1-c1-istiod").inputs.values).toEqual({
            ...IMG,
            global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: "c1" }, network: "network1" },
        });
        expect(one(run, "mesh1-c2-base").inputs.values).toEqual({});
        expect(dependsOn(run, "mesh1-c1-istiod", "mesh1-c1-base")).toBe(true);
        expect(run.outputs.gatewayAddresses).toEqual({});
        checkTrust(run, "mesh1", ["c1", "c2"]);
        checkRemoteSecrets(run, "mesh1", [
            ["c1", "c2"],
            ["c2", "c1"],
        ]);
        expect(run.outputs.clusters).toEqual({
            c1: {
                network: "network1",
                role: "primary",
                primary: null,
                platform: "existing",
                cloud: "existing",
                region: null,
                zone: null,
                endpoint: "https://10.1.0.1:6443",
                // The kubeconfig file is not here: the identity follows the server (components/platforms/identity.ts).
                providerIdentity: `server-${instanceDigest("https://10.1.0.1:6443")}`,
                apiServerCaSha256: null,
            },
            c2: {
                network: "network1",
                role: "primary",
                primary: null,
                platform: "existing",
                cloud: "existing",
                region: null,
                zone: null,
                endpoint: "https://10.2.0.1:6443",
                // The kubeconfig file is not here: the identity follows the server (components/platforms/identity.ts).
                providerIdentity: `server-${instanceDigest("https://10.2.0.1:6443")}`,
                apiServerCaSha256: null,
            },
        });
        // The kubeconfig of an existing cluster whose file is not here is its path, read at deploy.
        expect(run.outputs.kubeconfigs).toEqual({ c1: "/nonexistent/c1.kubeconfig", c2: "/nonexistent/c2.kubeconfig" });
        expect(run.outputs.meshId).toBe("mesh1");
    });
});

describe("multi-primary, two networks", () => {
    it("adds network labels, east-west gateways after istiod, cross-network Gateways, and exports addresses", async () => {
        const run = await runMesh(
            meshOf("multi-primary", [
                cluster("east", 1, { network: "net-east", region: "us-east1", zone: "us-east1-b" }),
                cluster("west", 2, {
                    network: "net-west",
                    eastWestGateway: { loadBalancerIP: "198.51.100.7", serviceAnnotations: { "example.com/lb": "internal" } },
                }),
            ]),
        );
        await commonChecks(run, "mesh1", ["east", "west"]);
        for (const [c, net] of [
            ["east", "net-east"],
            ["west", "net-west"],
        ]) {
            expect(one(run, `mesh1-${c}-namespace`).inputs.metadata.labels).toEqual({ "topology.istio.io/network": net });
            expect(one(run, `mesh1-${c}-istiod`).inputs.values).toEqual({
                ...IMG,
                global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: c }, network: net },
            });
            const gw = one(run, `mesh1-${c}-eastwest-release`);
            expect(gw.inputs).toMatchObject({ name: "istio-eastwestgateway", chart: "gateway", namespace: "istio-system" });
            expect(gw.inputs.values.networkGateway).toBe(net);
            expect(dependsOn(run, gw.name, `mesh1-${c}-istiod`)).toBe(true);
            // The gateway's LoadBalancer Service is the program's own, made in the same cluster
            // before istiod (its address is known before anything is configured with it); the
            // chart's Service is off.
            const svc = one(run, `mesh1-${c}-eastwest-lb`);
            expect(svc.read).toBe(false);
            expect(svc.inputs.metadata).toMatchObject({
                name: "istio-eastwestgateway",
                namespace: "istio-system",
                labels: { "topology.istio.io/network": net },
            });
            expect(svc.inputs.spec.type).toBe("LoadBalancer");
            expect(svc.providerName).toBe(`${c}-k8s`);
            expect(gw.inputs.values.service).toEqual({ type: "None" });
            const xgw = one(run, `mesh1-${c}-eastwest-cross-network-gateway`);
            expect(xgw.type).toBe("kubernetes:networking.istio.io/v1:Gateway");
            expect(xgw.inputs.metadata).toEqual({ name: "cross-network-gateway", namespace: "istio-system" });
            expect(xgw.inputs.spec).toEqual({
                selector: { istio: "eastwestgateway" },
                servers: [{ port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] }],
            });
        }
        expect(one(run, "mesh1-west-eastwest-lb").inputs.metadata.annotations).toEqual({ "example.com/lb": "internal" });
        expect(one(run, "mesh1-west-eastwest-lb").inputs.spec.loadBalancerIP).toBe("198.51.100.7");
        const addresses = run.outputs.gatewayAddresses as Record<string, string>;
        expect(addresses.west).toBe("198.51.100.7");
        expect(addresses.east).toMatch(/^203\.0\.113\.\d+$/);
        expect(run.outputs.clusters).toMatchObject({ east: { region: "us-east1", zone: "us-east1-b", network: "net-east" } });
        expect(run.sim.ofType("kubernetes:networking.istio.io/v1:VirtualService")).toEqual([]);
        checkTrust(run, "mesh1", ["east", "west"]);
        checkRemoteSecrets(run, "mesh1", [
            ["east", "west"],
            ["west", "east"],
        ]);
    });
});

describe("primary-remote, one network", () => {
    it("exposes istiod on the primary and points the remote at the gateway address", async () => {
        const run = await runMesh(meshOf("primary-remote", [cluster("cluster1", 1), cluster("cluster2", 2, { role: "remote" })]));
        await commonChecks(run, "mesh1", ["cluster1", "cluster2"]);
        expect(one(run, "mesh1-cluster1-istiod").inputs.values).toEqual({
            ...IMG,
            global: { ...IMG, meshID: "mesh1", multiCluster: { clusterName: "cluster1" }, network: "network1", externalIstiod: true },
        });
        const address = (run.outputs.gatewayAddresses as Record<string, string>).cluster1;
        expect(Object.keys(run.outputs.gatewayAddresses as object)).toEqual(["cluster1"]);
        // The remote's validating webhooks trust the mesh's root (nothing in the remote patches them).
        const rootB64 = Buffer.from(run.outputs.rootCertPem as string).toString("base64");
        expect(one(run, "mesh1-cluster2-base").inputs.values).toEqual({ profile: "remote", base: { validationCABundle: rootB64 } });
        expect(one(run, "mesh1-cluster2-istiod").inputs.values).toEqual({
            profile: "remote",
            ...IMG,
            global: { ...IMG, multiCluster: { clusterName: "cluster2" }, configCluster: true, remotePilotAddress: address },
            istiodRemote: { injectionPath: "/inject/cluster/cluster2/net/network1" },
            base: { validationCABundle: rootB64 },
        });
        expect(one(run, "mesh1-cluster2-namespace").inputs.metadata.annotations).toEqual({
            "topology.istio.io/controlPlaneClusters": "cluster1",
        });
        // No CA in the remote: its workloads get certificates from the primary.
        expect(run.k8s.some((r) => r.name === "mesh1-cluster2-cacerts")).toBe(false);
        // expose-istiod on the primary, ordered before the remote's istiod.
        const gw = one(run, "mesh1-cluster1-eastwest-istiod-gateway");
        const vs = one(run, "mesh1-cluster1-eastwest-istiod-vs");
        expect(gw.inputs.spec.servers.map((s: { port: { number: number } }) => s.port.number)).toEqual([15012, 15017]);
        expect(
            vs.inputs.spec.tls.map((t: { route: { destination: { port: { number: number } } }[] }) => t.route[0].destination.port.number),
        ).toEqual([15012, 443]);
        expect(dependsOn(run, "mesh1-cluster2-istiod", gw.name)).toBe(true);
        expect(dependsOn(run, "mesh1-cluster2-istiod", vs.name)).toBe(true);
        // The remote's values come from the primary's gateway Service, which the primary's istiod
        // waits for too (ISTIOD_CUSTOM_HOST, when the address is a hostname).
        expect(dependsOn(run, "mesh1-cluster2-istiod", "mesh1-cluster1-eastwest-lb")).toBe(true);
        expect(dependsOn(run, "mesh1-cluster1-istiod", "mesh1-cluster1-eastwest-lb")).toBe(true);
        expect(run.sim.ofType("kubernetes:networking.istio.io/v1:Gateway").map((g) => g.inputs.metadata.name)).toEqual(["istiod-gateway"]);
        checkTrust(run, "mesh1", ["cluster1"]);
        checkRemoteSecrets(run, "mesh1", [["cluster2", "cluster1"]]);
    });

    it("uses injectionURL/validationURL on 15017 when the primary's load balancer has a hostname", async () => {
        const run = await runMesh(meshOf("primary-remote", [cluster("cluster1", 1), cluster("cluster2", 2, { role: "remote" })]), {
            sim: { hostnameClusters: ["cluster1"] },
        });
        await commonChecks(run, "mesh1", ["cluster1", "cluster2"]);
        const host = (run.outputs.gatewayAddresses as Record<string, string>).cluster1;
        expect(host).toMatch(/[a-z]/);
        expect(one(run, "mesh1-cluster2-istiod").inputs.values.istiodRemote).toEqual({
            injectionURL: `https://${host}:15017/inject/cluster/cluster2/net/network1`,
        });
        const rootB64 = Buffer.from(run.outputs.rootCertPem as string).toString("base64");
        const validation = { validationURL: `https://${host}:15017/validate`, validationCABundle: rootB64 };
        expect(one(run, "mesh1-cluster2-base").inputs.values).toEqual({ profile: "remote", base: validation });
        // The istiod chart's own validating webhook reads base.validationURL as well.
        expect(one(run, "mesh1-cluster2-istiod").inputs.values.base).toEqual(validation);
        // The primary's istiod certificate names the host the remote dials, and istiod waits for the address.
        expect(one(run, "mesh1-cluster1-istiod").inputs.values.env).toEqual({ ISTIOD_CUSTOM_HOST: host });
        expect(dependsOn(run, "mesh1-cluster1-istiod", "mesh1-cluster1-eastwest-lb")).toBe(true);
    });
});

describe("primary-remote, two networks", () => {
    it("installs the remote's gateway after its remote secret, and the cross-network Gateway on the primary only", async () => {
        const run = await runMesh(
            meshOf("primary-remote", [
                cluster("cluster1", 1, { network: "network1" }),
                cluster("cluster2", 2, { role: "remote", network: "network2" }),
            ]),
        );
        await commonChecks(run, "mesh1", ["cluster1", "cluster2"]);
        expect(one(run, "mesh1-cluster2-namespace").inputs.metadata).toEqual({
            name: "istio-system",
            labels: { "topology.istio.io/network": "network2" },
            annotations: { "topology.istio.io/controlPlaneClusters": "cluster1" },
        });
        const remoteGw = one(run, "mesh1-cluster2-eastwest-release");
        expect(remoteGw.inputs.values.networkGateway).toBe("network2");
        expect(dependsOn(run, remoteGw.name, "mesh1-cluster2-remote-to-cluster1")).toBe(true);
        expect(dependsOn(run, remoteGw.name, "mesh1-cluster2-istiod")).toBe(true);
        expect(
            run.sim
                .ofType("kubernetes:networking.istio.io/v1:Gateway")
                .map((g) => `${g.providerName}/${g.inputs.metadata.name}`)
                .sort(),
        ).toEqual(["cluster1-k8s/cross-network-gateway", "cluster1-k8s/istiod-gateway"]);
        expect(one(run, "mesh1-cluster2-istiod").inputs.values.istiodRemote).toEqual({
            injectionPath: "/inject/cluster/cluster2/net/network2",
        });
        expect(Object.keys(run.outputs.gatewayAddresses as object).sort()).toEqual(["cluster1", "cluster2"]);
        checkRemoteSecrets(run, "mesh1", [["cluster2", "cluster1"]]);
    });
});

// Every supported minor, and each kind of chart source, through the richest model (primary-remote
// across two networks: remote values, both gateways, Istio objects): the same checks, by table.
describe.each(SUPPORTED_ISTIO.minors.map((m) => newestWithoutDefects(m)!))("Istio %s", (version) => {
    const sources: [string, string][] = [
        ["an https Helm repository", ISTIO_REPOSITORY],
        ["an OCI registry", ISTIO_OCI_REPOSITORY],
        ["a local chart folder", ""],
    ];
    it.each(sources)("installs primary-remote on two networks from %s, with explicit images and pull secrets", async (_what, repo) => {
        let repository = repo;
        if (repository === "") {
            // A folder as `helm pull --untar` (or npm run charts:pull -- --into) writes it.
            repository = fs.mkdtempSync(path.join(os.tmpdir(), "local-charts-"));
            for (const c of ["base", "istiod", "gateway"]) {
                fs.mkdirSync(path.join(repository, c));
                fs.writeFileSync(path.join(repository, c, "Chart.yaml"), `apiVersion: v2\nname: ${c}\nversion: ${version}\n`);
            }
        }
        const hub = "registry.example.com/mirror/istio";
        const mesh = {
            ...meshOf("primary-remote", [
                cluster("cluster1", 1, { network: "network1" }),
                cluster("cluster2", 2, { role: "remote", network: "network2" }),
            ]),
            istio: { version, repository, hub, imagePullSecrets: ["mirror-pull"] },
        };
        const run = await runMesh(mesh);
        const source = chartSource(repository) as ChartSource;
        await commonChecks(run, "mesh1", ["cluster1", "cluster2"], { version, source, hub });
        // An OCI chart is the full reference and a local chart its folder, neither with repositoryOpts
        // (pulumi-kubernetes provider/pkg/provider/helm_release.go locateChart); a Helm repository goes in repositoryOpts.
        const istiod = one(run, "mesh1-cluster1-istiod");
        if (source.kind === "oci") expect(istiod.inputs.chart).toBe(`${ISTIO_OCI_REPOSITORY}/istiod`);
        if (source.kind === "local") expect(istiod.inputs.chart).toBe(path.join(repository, "istiod"));
        if (source.kind === "helm") expect(istiod.inputs).toMatchObject({ chart: "istiod", repositoryOpts: { repo: ISTIO_REPOSITORY } });
        // Pull secrets: istiod's (and the injected pods') by name, the reader's on base, the gateway's as {name}.
        expect(istiod.inputs.values.global.imagePullSecrets).toEqual(["mirror-pull"]);
        expect(one(run, "mesh1-cluster2-istiod").inputs.values).toMatchObject({ hub, global: { hub, imagePullSecrets: ["mirror-pull"] } });
        expect(one(run, "mesh1-cluster1-base").inputs.values).toEqual({ global: { imagePullSecrets: ["mirror-pull"] } });
        expect(one(run, "mesh1-cluster2-eastwest-release").inputs.values.imagePullSecrets).toEqual([{ name: "mirror-pull" }]);
    });
});

describe("three or more clusters", () => {
    it("builds the full N(N-1) matrix for four multi-primary clusters on two networks", async () => {
        const cs = ["a", "b", "c", "d"];
        const run = await runMesh(
            meshOf(
                "multi-primary",
                cs.map((c, i) => cluster(c, i + 1, { network: i < 2 ? "n1" : "n2" })),
            ),
        );
        await commonChecks(run, "mesh1", cs);
        const pairs: [string, string][] = [];
        for (const s of cs) for (const t of cs) if (s !== t) pairs.push([s, t]);
        checkRemoteSecrets(run, "mesh1", pairs);
        checkTrust(run, "mesh1", cs);
        // One token per source cluster, shared by its readers: 4 tokens, 12 remote secrets.
        expect(run.sim.ofType("multicluster-mesh:istio:RemoteSecrets")).toHaveLength(4);
        expect(run.sim.ofType("kubernetes:helm.sh/v3:Release")).toHaveLength(12);
    });

    it(
        "mints one reader token per source with remoteSecrets.tokens: perSource, and per " + "pair with the older tokenPerReader: true",
        async () => {
            const shared = await runMesh({
                ...meshOf(
                    "multi-primary",
                    ["a", "b", "c"].map((c, i) => cluster(c, i + 1)),
                ),
                remoteSecrets: { tokens: "perSource" },
            });
            checkRemoteSecrets(
                shared,
                "mesh1",
                [
                    ["a", "b"],
                    ["a", "c"],
                    ["b", "a"],
                    ["b", "c"],
                    ["c", "a"],
                    ["c", "b"],
                ],
                false,
            );
            const legacy = await runMesh({
                ...meshOf(
                    "multi-primary",
                    ["a", "b"].map((c, i) => cluster(c, i + 1)),
                ),
                remoteSecrets: { tokenPerReader: false },
            });
            checkRemoteSecrets(
                legacy,
                "mesh1",
                [
                    ["a", "b"],
                    ["b", "a"],
                ],
                false,
            );
            const clash = await runMesh({
                ...meshOf(
                    "multi-primary",
                    ["a", "b"].map((c, i) => cluster(c, i + 1)),
                ),
                remoteSecrets: { tokens: "perReader", tokenPerReader: false },
            });
            expect(clash.error?.message).toContain("mesh.remoteSecrets.tokenPerReader: contradicts remoteSecrets.tokens: perReader");
            const cs = ["a", "b", "c"];
            const run = await runMesh({
                ...meshOf(
                    "multi-primary",
                    cs.map((c, i) => cluster(c, i + 1)),
                ),
                remoteSecrets: { tokenPerReader: true },
            });
            await commonChecks(run, "mesh1", cs);
            const pairs: [string, string][] = [];
            for (const s of cs) for (const t of cs) if (s !== t) pairs.push([s, t]);
            checkRemoteSecrets(run, "mesh1", pairs, true);
            // Each pair's kubeconfig carries its own token.
            const tokenIn = (src: string, dst: string) =>
                YAML.parse(one(run, `mesh1-${src}-remote-to-${dst}`).inputs.stringData[src]).users[0].user.token;
            expect(tokenIn("a", "b")).not.toBe(tokenIn("a", "c"));
        },
    );

    it("two primaries with a remote each: every primary reads every other cluster", async () => {
        const run = await runMesh(
            meshOf("primary-remote", [
                cluster("p1", 1, { network: "n1" }),
                cluster("p2", 2, { network: "n2" }),
                cluster("r1", 3, { role: "remote", primary: "p1", network: "n1" }),
                cluster("r2", 4, { role: "remote", primary: "p2", network: "n2" }),
            ]),
        );
        await commonChecks(run, "mesh1", ["p1", "p2", "r1", "r2"]);
        checkRemoteSecrets(run, "mesh1", [
            ["p2", "p1"],
            ["r1", "p1"],
            ["r2", "p1"],
            ["p1", "p2"],
            ["r1", "p2"],
            ["r2", "p2"],
        ]);
        const addr = run.outputs.gatewayAddresses as Record<string, string>;
        expect(one(run, "mesh1-r2-istiod").inputs.values.global.remotePilotAddress).toBe(addr.p2);
        expect(one(run, "mesh1-r1-istiod").inputs.values.global.remotePilotAddress).toBe(addr.p1);
        // Each remote is on its primary's network: the primary's gateway serves it (eastWestGateway auto), so it gets none.
        expect(Object.keys(addr).sort()).toEqual(["p1", "p2"]);
        expect(run.sim.registrations.some((r) => r.name.startsWith("mesh1-r2-eastwest"))).toBe(false);
    });
});

describe("root of trust", () => {
    it("makes an RSA 4096 root and intermediates, protected, the root with no early renewal", async () => {
        const run = await runMesh(meshOf("multi-primary", [cluster("c1", 1), cluster("c2", 2)], { keyAlgorithm: "RSA", rsaBits: 4096 }));
        expect(run.error).toBeUndefined();
        const rootKey = one(run, "mesh1-trust-root-key");
        expect(rootKey.inputs).toEqual({ algorithm: "RSA", rsaBits: 4096 });
        expect(rootKey.protect).toBe(true);
        const rootCert = one(run, "mesh1-trust-root-cert");
        expect(rootCert.protect).toBe(true);
        expect(rootCert.inputs).toMatchObject({
            isCaCertificate: true,
            earlyRenewalHours: 0,
            validityPeriodHours: 3650 * 24,
            subject: { organization: "Istio", commonName: "Root CA" },
        });
        expect(rootCert.inputs.allowedUses).toEqual(["cert_signing", "crl_signing", "digital_signature", "key_encipherment"]);
        const inter = one(run, "mesh1-trust-c1-intermediate-cert");
        expect(inter.protect).toBe(false);
        // Intermediates renew themselves a third of their validity (243 days) before expiry; the root never does.
        expect(inter.inputs).toMatchObject({ isCaCertificate: true, earlyRenewalHours: 243 * 24, validityPeriodHours: 730 * 24 });
        expect(inter.inputs.maxPathLength ?? 0).toBe(0);
        const text = openssl(["x509", "-noout", "-text", "-in", "r.pem"], { "r.pem": run.outputs.rootCertPem as string });
        expect(text).toContain("Public-Key: (4096 bit)");
        expect(text).toContain("sha256WithRSAEncryption");
        checkTrust(run, "mesh1", ["c1", "c2"]);
    });

    it("leaves the root unprotected when the stack opts out, and renames intermediates for an explicit renewal", async () => {
        const run = await runMesh(
            meshOf("multi-primary", [cluster("c1", 1), cluster("c2", 2)], { ...FAST_TRUST, protectRoot: false, intermediateGeneration: 2 }),
        );
        expect(run.error).toBeUndefined();
        expect(one(run, "mesh1-trust-root-key").protect).toBe(false);
        expect(
            run.sim
                .ofType("tls:index/locallySignedCert:LocallySignedCert")
                .map((r) => r.name)
                .sort(),
        ).toEqual(["mesh1-trust-c1-g2-intermediate-cert", "mesh1-trust-c2-g2-intermediate-cert"]);
        expect(one(run, "mesh1-trust-c1-g2-intermediate-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    });

    it("fails the deploy, writing no cacerts, when an intermediate does not verify to the root", async () => {
        const run = await runMesh(meshOf("multi-primary", [cluster("c1", 1), cluster("c2", 2)]), { sim: { tamperIntermediates: true } });
        expect(run.error?.message).toMatch(/the cacerts bundle for cluster c[12] would be rejected by istiod/);
        expect(run.error?.message).toContain("does not verify to root-cert.pem");
        expect(run.sim.ofType("kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata?.name === "cacerts")).toEqual([]);
        expect(run.sim.ofType("kubernetes:helm.sh/v3:Release").filter((s) => s.inputs.name === "istiod")).toEqual([]);
    });
});

describe("bad config", () => {
    it("registers nothing and reports every problem", async () => {
        const run = await runMesh({
            meshId: "Mesh!",
            topology: "multi-primary",
            clusters: [cluster("a", 1, { role: "remote" }), cluster("a", 2), cluster("b", 3, { apiServer: "https://127.0.0.1:6443" })],
        });
        expect(run.error?.name).toBe("ConfigError");
        const msg = run.error!.message;
        for (const expected of [
            'mesh.meshId: "Mesh!" is not a DNS-1123 label',
            'mesh.clusters[0].role: "remote" is not allowed with topology multi-primary',
            'mesh.clusters[1].name: "a" is used twice',
            "mesh.clusters[2].apiServer: apiServer https://127.0.0.1:6443 is a loopback address",
        ]) {
            expect(msg).toContain(expected);
        }
        expect(run.sim.registrations).toEqual([]);
    });
});
