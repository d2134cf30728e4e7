// The pure parts of `npm run bench`: latency lookup, the resource-count formula, the lower bound
// from the required orderings, the edge audit, and the virtual clock. No program run here (the
// bench itself runs the program); everything below takes milliseconds.
import { describe, expect, it } from "vitest";
import { planMesh } from "../components/meshPlan";
import { validateMeshConfig } from "../config";
import { VirtualClock } from "../offline/bench/clock";
import {
    auditEdges,
    ClusterFact,
    clusterFacts,
    expectedCount,
    fitQuadratic,
    formatQuadratic,
    latencyOf,
    longestPath,
    meshConfig,
    Model,
    Node,
    observedCriticalPath,
    programGraph,
    requiredGraph,
    stageLabel,
} from "../offline/bench/model";

const count = (model: Model, n: number) => {
    const v = validateMeshConfig(meshConfig({ model, n }), { readFile: () => undefined });
    if (!v.ok) throw new Error(v.problems.join("\n"));
    return expectedCount(planMesh(v.config.mesh));
};

describe("latency table", () => {
    const l = (type: string, inputs: Record<string, unknown> = {}, read = false) => latencyOf({ type, name: "x", inputs, read });
    it("keys Helm releases by chart, reads and commands by what they do", () => {
        expect(l("kubernetes:helm.sh/v3:Release", { chart: "base" }).seconds).toBe(20);
        expect(l("kubernetes:helm.sh/v3:Release", { chart: "istiod" }).seconds).toBe(60);
        // The gateway's pods; its LoadBalancer Service (the program's own) is what waits for the cloud.
        expect(l("kubernetes:helm.sh/v3:Release", { chart: "gateway" }).seconds).toBe(60);
        expect(l("kubernetes:core/v1:Service", { spec: { type: "LoadBalancer" } }).seconds).toBe(120);
        expect(l("kubernetes:core/v1:Service", { spec: { type: "ClusterIP" } }).seconds).toBe(1);
        expect(l("command:local:Command", { create: "kind create cluster --name a" }).seconds).toBe(60);
        expect(l("command:local:Command", { create: "kind get kubeconfig --name a" }).seconds).toBe(1);
    });
    it("has the platform types, and reports a type it does not know", () => {
        expect(l("gcp:container/cluster:Cluster").seconds).toBe(420);
        expect(l("aws:eks/cluster:Cluster").seconds).toBe(600);
        expect(l("gcp:container/nodePool:NodePool").seconds).toBe(240);
        expect(l("aws:eks/nodeGroup:NodeGroup").seconds).toBe(240);
        expect(l("multicluster-mesh:istio:ControlPlane")).toMatchObject({ seconds: 0, known: true });
        expect(l("pulumi:providers:kubernetes").seconds).toBe(0);
        expect(l("kubernetes:networking.istio.io/v1:Gateway").seconds).toBe(1);
        expect(l("azure:containerservice/kubernetesCluster:KubernetesCluster")).toMatchObject({ seconds: 1, known: false });
    });
});

describe("resource-count formula", () => {
    it("is N² + 15·N + 4 for multi-primary on N networks and 9·N + 10 for primary-remote", () => {
        expect(formatQuadratic(fitQuadratic((n) => count("multi-primary", n)))).toBe("N² + 15·N + 4");
        expect(formatQuadratic(fitQuadratic((n) => count("primary-remote", n)))).toBe("9·N + 10");
        expect(formatQuadratic(fitQuadratic((n) => count("primary-remote-multinet", n)))).toBe("12·N + 8");
        for (const n of [2, 5, 10, 25, 50]) {
            expect(count("multi-primary", n)).toBe(n * n + 15 * n + 4);
            expect(count("primary-remote", n)).toBe(9 * n + 10);
        }
    });
});

/** A hand-made registration list in the shape the simulator records, for a given install model. */
type Add = (n: Partial<Node> & { name: string; type: string }) => string;

function mesh(facts: ClusterFact[], extra: (add: Add, urnOf: (name: string) => string, nodes: Node[]) => void = () => {}): Node[] {
    const nodes: Node[] = [];
    const urnOf = (name: string) => nodes.find((x) => x.name === name)!.urn;
    const add = (n: Partial<Node> & { name: string; type: string }) => {
        const urn = `urn:pulumi:test::p::${n.type}::${n.name}`;
        nodes.push({
            urn,
            parent: "",
            provider: "",
            providerName: "",
            custom: true,
            read: false,
            inputs: {},
            dependencies: [],
            start: 0,
            end: 0,
            ...n,
        });
        return urn;
    };
    const meshUrn = add({ type: "multicluster-mesh:index:Mesh", name: "m", custom: false });
    const rootKey = add({ type: "tls:index/privateKey:PrivateKey", name: "m-trust-root-key" });
    const rootCert = add({ type: "tls:index/selfSignedCert:SelfSignedCert", name: "m-trust-root-cert", dependencies: [rootKey] });
    const ns = (c: string) => urnOf(`m-${c}-namespace`);
    for (const f of facts) {
        const comp = add({ type: "multicluster-mesh:cluster:ExistingCluster", name: f.name, custom: false });
        const prov = add({
            type: "pulumi:providers:kubernetes",
            name: `${f.name}-k8s`,
            parent: comp,
            inputs: { clusterIdentifier: `multicluster-mesh/existing/${f.name}/0` },
        });
        const k = { provider: `${prov}::id`, providerName: `${f.name}-k8s`, parent: meshUrn };
        add({ ...k, type: "kubernetes:core/v1:Namespace", name: `m-${f.name}-namespace`, inputs: { metadata: { name: "istio-system" } } });
        if (f.role === "primary") {
            const key = add({ type: "tls:index/privateKey:PrivateKey", name: `m-trust-${f.name}-intermediate-key` });
            const csr = add({ type: "tls:index/certRequest:CertRequest", name: `m-trust-${f.name}-intermediate-csr`, dependencies: [key] });
            const cert = add({
                type: "tls:index/locallySignedCert:LocallySignedCert",
                name: `m-trust-${f.name}-intermediate-cert`,
                dependencies: [csr, rootKey, rootCert],
            });
            add({
                ...k,
                type: "kubernetes:core/v1:Secret",
                name: `m-${f.name}-cacerts`,
                inputs: { metadata: { name: "cacerts", namespace: "istio-system" } },
                dependencies: [ns(f.name), cert, rootCert],
            });
        }
    }
    const release = (c: string, chart: string, deps: string[]) =>
        add({
            provider: `${urnOf(`${c}-k8s`)}::id`,
            providerName: `${c}-k8s`,
            type: "kubernetes:helm.sh/v3:Release",
            name: `m-${c}-${chart}`,
            inputs: { chart, name: chart, namespace: "istio-system" },
            dependencies: [ns(c), ...deps],
        });
    // As the program does it: the gateway's LoadBalancer Service is its own resource, made after the
    // namespace (its address is known before istiod is configured); the release waits for istiod.
    const loadBalancer = (c: string) =>
        add({
            provider: `${urnOf(`${c}-k8s`)}::id`,
            providerName: `${c}-k8s`,
            type: "kubernetes:core/v1:Service",
            name: `m-${c}-eastwest-lb`,
            inputs: { metadata: { name: "istio-eastwestgateway", namespace: "istio-system" }, spec: { type: "LoadBalancer" } },
            dependencies: [ns(c)],
        });
    const primaries = facts.filter((f) => f.role === "primary");
    for (const f of primaries) {
        loadBalancer(f.name);
        const base = release(f.name, "base", []);
        const istiod = release(f.name, "istiod", [base, urnOf(`m-${f.name}-cacerts`)]);
        release(f.name, "gateway", [istiod]);
    }
    for (const f of facts.filter((x) => x.role === "remote")) {
        const address = urnOf(`m-${f.primary}-eastwest-lb`);
        const base = release(f.name, "base", [address]);
        release(f.name, "istiod", [base, address]);
    }
    for (const t of primaries) {
        for (const s of facts.filter((x) => x.name !== t.name)) {
            const token = add({
                provider: `${urnOf(`${s.name}-k8s`)}::id`,
                providerName: `${s.name}-k8s`,
                type: "kubernetes:core/v1:Secret",
                name: `m-${s.name}-to-${t.name}-token`,
                inputs: {
                    metadata: {
                        name: `istio-reader-service-account-token-${t.name}`,
                        namespace: "istio-system",
                        annotations: { "kubernetes.io/service-account.name": "istio-reader-service-account" },
                    },
                },
                // As the program does it: the token waits for the istiod release (the reader RBAC).
                dependencies: [ns(s.name), urnOf(`m-${s.name}-istiod`)],
            });
            add({
                provider: `${urnOf(`${t.name}-k8s`)}::id`,
                providerName: `${t.name}-k8s`,
                type: "kubernetes:core/v1:Secret",
                name: `m-${s.name}-to-${t.name}-secret`,
                inputs: {
                    metadata: {
                        name: `istio-remote-secret-${s.name}`,
                        namespace: "istio-system",
                        labels: { "istio/multiCluster": "true" },
                        annotations: { "networking.istio.io/cluster": s.name },
                    },
                },
                dependencies: [ns(t.name), ns(s.name), token],
            });
        }
    }
    extra(add, urnOf, nodes);
    return nodes;
}

const weightOf = (nodes: Node[]) => (i: number) => latencyOf(nodes[i]).seconds;

describe("lower bound from the required orderings", () => {
    it(
        "multi-primary: namespace, base, istiod, gateway (141 s; the load balancer's 120 " +
            "s runs beside them), whatever the number of clusters",
        () => {
            for (const n of [2, 5]) {
                const facts = clusterFacts({ model: "multi-primary", n });
                const nodes = mesh(facts);
                const req = requiredGraph(nodes, facts);
                const lp = longestPath(req, weightOf(nodes));
                expect(lp.length).toBe(141);
                expect(lp.path.map((i) => stageLabel(req, i).split(" ")[1])).toEqual([
                    "k8s-provider",
                    "namespace",
                    "base",
                    "istiod",
                    "gateway",
                ]);
                expect(longestPath(programGraph(nodes, facts), weightOf(nodes)).length).toBe(141);
            }
        },
    );

    it(
        "primary-remote: the remote's base and istiod wait for the primary's load balancer " +
            "address, its reader token for its istiod (203 s)",
        () => {
            const facts = clusterFacts({ model: "primary-remote", n: 3 });
            const nodes = mesh(facts);
            const req = requiredGraph(nodes, facts);
            const lp = longestPath(req, weightOf(nodes));
            // 1 + 120 s to the primary's load-balancer address, 20 + 60 s to the remote's istiod, then its reader
            // token (the RBAC comes with istiod) and the remote secret in the primary.
            expect(lp.length).toBe(1 + 120 + 20 + 60 + 1 + 1);
            expect(lp.path.map((i) => stageLabel(req, i)).slice(-6)).toEqual([
                "c01 namespace",
                "c01 gateway-address",
                "c02 base",
                "c02 istiod",
                "c02 reader token for c01",
                "c01 remote secret of c02",
            ]);
        },
    );

    it("a read waits for the resource that produces its ID, as the SDK does", () => {
        const facts = clusterFacts({ model: "primary-remote", n: 2 });
        // A read whose ID is a release's object (as `Service.get` of a chart's Service would be).
        const nodes = mesh(
            facts,
            (add, urnOf) =>
                void add({
                    provider: `${urnOf("c01-k8s")}::id`,
                    providerName: "c01-k8s",
                    type: "kubernetes:core/v1:Service",
                    name: "probe",
                    read: true,
                    id: "istio-system/gateway",
                }),
        );
        const g = programGraph(nodes, facts);
        const read = nodes.findIndex((x) => x.read);
        expect(g.preds[read].map((i) => nodes[i].name)).toContain("m-c01-gateway");
    });
});

describe("edge audit", () => {
    it("finds an unneeded dependsOn on the critical path and what it costs", () => {
        const facts = clusterFacts({ model: "multi-primary", n: 2 });
        // base waits for cacerts, which waits for the whole trust chain: 3 s that no fact requires.
        const nodes = mesh(facts, (_add, urnOf, nodes) => {
            for (const c of ["c01", "c02"]) nodes.find((x) => x.name === `m-${c}-base`)!.dependencies.push(urnOf(`m-${c}-cacerts`));
        });
        const program = programGraph(nodes, facts);
        const required = requiredGraph(nodes, facts);
        expect(longestPath(program, weightOf(nodes)).length).toBe(144);
        expect(longestPath(required, weightOf(nodes)).length).toBe(141);
        const audit = auditEdges(program, required, weightOf(nodes));
        expect(audit.unrequired[0]).toMatchObject({ kind: "cacerts → base", count: 2, costSeconds: 3 });
        expect(audit.prunedSeconds).toBe(141);
        expect(audit.missing).toEqual([]);
    });

    it("reports a required ordering the program does not enforce", () => {
        const facts = clusterFacts({ model: "multi-primary", n: 2 });
        const nodes = mesh(facts);
        const istiod = nodes.find((x) => x.name === "m-c01-istiod")!;
        istiod.dependencies = istiod.dependencies.filter((u) => !u.endsWith("m-c01-cacerts"));
        const audit = auditEdges(programGraph(nodes, facts), requiredGraph(nodes, facts), weightOf(nodes));
        expect(audit.missing).toEqual([{ kind: "cacerts → istiod", count: 1, example: "m-c01-cacerts → m-c01-istiod" }]);
    });

    it("keeps platform order but lets base overlap the node pool", () => {
        const facts: ClusterFact[] = [{ name: "g", role: "primary" }];
        const nodes = mesh(facts, (add, _urnOf, nodes) => {
            const comp = nodes.find((x) => x.name === "g")!.urn;
            const cluster = add({ type: "gcp:container/cluster:Cluster", name: "g-cluster", parent: comp });
            const pool = add({ type: "gcp:container/nodePool:NodePool", name: "g-nodes", parent: comp, dependencies: [cluster] });
            // As the platform code does it: the provider waits for the node pool.
            nodes.find((x) => x.name === "g-k8s")!.dependencies.push(cluster, pool);
        });
        const program = programGraph(nodes, facts);
        const required = requiredGraph(nodes, facts);
        const w = weightOf(nodes);
        expect(longestPath(program, w).length).toBe(420 + 240 + 1 + 20 + 60 + 60);
        // Required: cluster → base (20 s) runs beside the node pool; istiod needs both.
        expect(longestPath(required, w).length).toBe(420 + 240 + 60 + 60);
        expect(auditEdges(program, required, w).unrequired[0]).toMatchObject({ kind: "node-pool → k8s-provider", costSeconds: 21 });
    });

    it("walks the observed critical path back through the dependency that finished last", () => {
        const facts = clusterFacts({ model: "multi-primary", n: 2 });
        const nodes = mesh(facts);
        const g = programGraph(nodes, facts);
        const lp = longestPath(g, weightOf(nodes));
        nodes.forEach((x, i) => {
            x.end = lp.finish[i];
            x.start = x.end - weightOf(nodes)(i);
        });
        const obs = observedCriticalPath(g);
        expect(obs.path.map((i) => nodes[i].name).slice(-3)).toEqual(["m-c01-base", "m-c01-istiod", "m-c01-gateway"]);
        expect(obs.gaps.every((x) => x === 0)).toBe(true);
    });
});

describe("virtual clock", () => {
    it("fires taken timers in simulated time, and only when nothing else is running", async () => {
        const clock = new VirtualClock();
        clock.install();
        try {
            const log: string[] = [];
            const wait = (ms: number, what: string) =>
                new Promise<void>((r) =>
                    setTimeout(() => {
                        log.push(`${what}@${clock.now}`);
                        r();
                    }, clock.take(ms)),
                );
            const t0 = performance.now();
            await Promise.all([
                wait(600_000, "eks"),
                (async () => {
                    await wait(420_000, "gke");
                    // CPU work after a timer fired does not move simulated time.
                    const until = performance.now() + 20;
                    while (performance.now() < until);
                    await wait(60_000, "istiod");
                })(),
            ]);
            // A real timer keeps its real delay.
            await new Promise((r) => setTimeout(r, 1));
            expect(log).toEqual(["gke@420000", "istiod@480000", "eks@600000"]);
            expect(performance.now() - t0).toBeLessThan(2000);
            expect(clock.forcedAdvances).toBe(0);
        } finally {
            clock.uninstall();
        }
    });
});
