// The pure half of `npm run bench`: the scenarios, the latency table, the resource-count formula,
// and the dependency analysis (the lower bound the Istio facts force, the program's own critical
// path, and which of the program's edges no fact requires). No Pulumi, no I/O: unit-tested in
// test/bench.test.ts, used by scripts/bench.ts and its child runner offline/bench/run.ts.
import { describeReleaseChart } from "../../components/istioSource";
import {
    CACERTS_SECRET,
    CHARTS,
    INSTALL_ORDER,
    InstallStep,
    CLUSTER_ANNOTATION,
    ISTIO_NAMESPACE,
    ISTIO_OBJECTS,
    MULTICLUSTER_SECRET_LABEL,
    READER_SERVICE_ACCOUNT,
    readerTokenName,
} from "../../components/istio";
import { parseClusterIdentifier } from "../../components/platforms/clusterIdentifier";
import { PLATFORMS, platformOf } from "../../components/platforms/registry";
import { isComponentType, TYPES } from "../../components/pulumiTypes";

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

export type Model = "multi-primary" | "primary-remote" | "primary-remote-multinet" | "mixed-cloud" | "kind";

export interface Scenario {
    model: Model;
    n: number;
    /**
     * The reader-token layout (remoteSecrets.tokens). The sweep measures `perSource`, the opt-in for
     * very large meshes that the 50-cluster targets apply to; one extra row measures the default
     * `perReader`, which must stay within 2× of it.
     */
    tokens?: "perReader" | "perSource";
}

export const MODEL_TITLE: Record<Model, string> = {
    "multi-primary": "multi-primary, N networks (existing clusters)",
    "primary-remote": "primary-remote, 1 primary + N−1 remotes, one network (existing clusters)",
    "primary-remote-multinet": "primary-remote, 1 primary + N−1 remotes, N networks (existing clusters)",
    "mixed-cloud": "multi-primary, N networks, half GKE and half EKS (alternating)",
    kind: "multi-primary, N networks, kind clusters with MetalLB (the dev stack's shape)",
};

export const BENCH_MESH_ID = "bench";

export function clusterName(i: number): string {
    return `c${String(i + 1).padStart(2, "0")}`;
}

/**
 * The `multicluster-mesh:mesh` config of a scenario. Existing clusters point at kubeconfig files
 * that do not exist here, with an explicit apiServer (the offline case, as in the tests); trust is
 * generated (the bench's simulator answers it with canned certificates).
 */
export function meshConfig(s: Scenario): Record<string, unknown> {
    const clusters = Array.from({ length: s.n }, (_, i) => {
        const name = clusterName(i);
        if (s.model === "mixed-cloud") {
            // Every cluster on its own network, so no VPC is shared and ranges may repeat.
            if (i % 2 === 0) {
                return {
                    name,
                    network: `net-${name}`,
                    platform: "gke",
                    gke: platformOf("gke")!.bench.example!(i),
                };
            }
            return {
                name,
                network: `net-${name}`,
                platform: "eks",
                eks: platformOf("eks")!.bench.example!(i),
            };
        }
        if (s.model === "kind") return { name, network: `net-${name}`, platform: "kind" };
        const c: Record<string, unknown> = {
            name,
            kubeconfig: `/nonexistent/${name}.kubeconfig`,
            apiServer: `https://10.${Math.floor(i / 250)}.${i % 250}.1:6443`,
        };
        if (s.model !== "primary-remote") c.network = `net-${name}`;
        if (s.model !== "multi-primary") c.role = i === 0 ? "primary" : "remote";
        return c;
    });
    return {
        meshId: BENCH_MESH_ID,
        topology: s.model.startsWith("primary-remote") ? "primary-remote" : "multi-primary",
        trust: { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false },
        remoteSecrets: { tokens: s.tokens ?? "perSource" },
        clusters,
    };
}

/** Who is what, as the plan decides it (for the required-edge model). */
export interface ClusterFact {
    name: string;
    role: "primary" | "remote";
    primary?: string;
}

export function clusterFacts(s: Scenario): ClusterFact[] {
    return Array.from({ length: s.n }, (_, i) => {
        const name = clusterName(i);
        return s.model.startsWith("primary-remote") && i > 0
            ? { name, role: "remote", primary: clusterName(0) }
            : { name, role: "primary" };
    });
}

// ---------------------------------------------------------------------------------------------
// Latency table: simulated provisioning time per resource, in seconds
// ---------------------------------------------------------------------------------------------

export interface LatencyRow {
    /** Resource type token, or `type [detail]` for rows refined by an input (Helm chart, kind command). */
    key: string;
    seconds: number;
    why: string;
}

/**
 * Documented latencies. Keyed by resource type; Helm releases by chart; a platform's own rows as it
 * keys them (kind's Commands by what they run). Components and providers take no time. Anything not listed takes DEFAULT_SECONDS and
 * is reported, so a new resource type shows up in the results instead of silently costing nothing.
 */
export const LATENCY_TABLE: LatencyRow[] = [
    // Each platform's own resources (components/platforms/<name>/, `bench.latencies`).
    ...PLATFORMS.flatMap((p) => p.bench.latencies),
    // Istio (the issue's numbers).
    { key: `${TYPES.release} [base]`, seconds: 20, why: "Helm base (CRDs, reader SA)" },
    { key: `${TYPES.release} [istiod]`, seconds: 60, why: "Helm istiod, until ready" },
    { key: `${TYPES.release} [gateway]`, seconds: 60, why: "east-west gateway pods, until ready" },
    {
        key: `${TYPES.service} [LoadBalancer]`,
        seconds: 120,
        why: "east-west LoadBalancer Service, until the cloud gives it an address",
    },
    { key: TYPES.release, seconds: 30, why: "other Helm chart" },
    { key: TYPES.secret, seconds: 1, why: "Secret (a token: the token controller fills it)" },
    { key: TYPES.namespace, seconds: 1, why: "Namespace" },
    { key: "kubernetes:*", seconds: 1, why: "any other Kubernetes object (Istio Gateway, VirtualService, MetalLB pool)" },
    { key: "tls:*", seconds: 1, why: "key or certificate (local)" },
    { key: "pulumi:providers:*", seconds: 0, why: "provider configuration" },
    { key: "component", seconds: 0, why: "the program's component resources (multicluster-mesh:*; no cloud call)" },
];

export const DEFAULT_SECONDS = 1;

const TABLE = new Map(LATENCY_TABLE.map((r) => [r.key, r.seconds]));

export interface LatencyInput {
    type: string;
    name: string;
    inputs: Record<string, any>;
    read: boolean;
}

/** The latency row a registration falls under, and its seconds. `known` is false for the default. */
export function latencyOf(r: LatencyInput): { key: string; seconds: number; known: boolean } {
    const hit = (key: string) => ({ key, seconds: TABLE.get(key)!, known: true });
    const t = r.type;
    if (t.startsWith("pulumi:providers:")) return hit("pulumi:providers:*");
    // The program's own component types (`multicluster-mesh:<module>:<Type>`) register nothing in a cloud.
    if (isComponentType(t)) return hit("component");
    if (t === TYPES.release) {
        const chart = describeReleaseChart(r.inputs ?? {}).name;
        return TABLE.has(`${t} [${chart}]`) ? hit(`${t} [${chart}]`) : hit(t);
    }
    if (t === TYPES.service && r.inputs?.spec?.type === "LoadBalancer") return hit(`${TYPES.service} [LoadBalancer]`);
    // A platform's own refinement (kind: which command a Command runs).
    for (const p of PLATFORMS) {
        const key = p.bench.latencyKey?.(r);
        if (key !== undefined && TABLE.has(key)) return hit(key);
    }
    if (TABLE.has(t)) return hit(t);
    if (t.startsWith("kubernetes:")) return hit("kubernetes:*");
    if (t.startsWith("tls:")) return hit("tls:*");
    return { key: t, seconds: DEFAULT_SECONDS, known: false };
}

// ---------------------------------------------------------------------------------------------
// Resource-count formula (existing clusters), from the plan
// ---------------------------------------------------------------------------------------------

/** The plan facts the count depends on (a subset of components/meshPlan.ts ClusterPlan). */
export interface CountPlan {
    clusters: { runsIstiod: boolean; eastWestGateway?: unknown; crossNetworkGateway: boolean; exposeIstiod: boolean }[];
    remoteSecrets: { source: string }[];
}

/** What each term of the formula registers (documentation printed in the results). */
export const COUNT_TERMS = [
    ["per cluster", 6, "ExistingCluster, kubernetes provider, ControlPlane, Namespace istio-system, Helm base, Helm istiod"],
    ["per istiod cluster", 4, "cacerts Secret, intermediate key, CSR and certificate"],
    ["per east-west gateway", 3, "EastWestGateway, Helm gateway, LoadBalancer Service (address)"],
    ["per cross-network Gateway", 1, "Istio Gateway cross-network-gateway"],
    ["per expose-istiod primary", 2, "Istio Gateway istiod-gateway, VirtualService istiod-vs"],
    [
        "per source cluster (read by another)",
        2,
        "RemoteSecrets component, reader token Secret (tokens: perSource; perReader: the component only)",
    ],
    ["per remote secret (pair)", 1, "remote Secret istio-remote-secret-<source> in the target (perReader: plus its own reader token)"],
    ["once", 4, "Mesh, RootOfTrust, root key, root certificate"],
] as const;

/** Registrations the program should make for a plan of existing clusters with generated trust. */
export function expectedCount(plan: CountPlan, tokens: "perReader" | "perSource" = "perSource"): number {
    const sources = new Set(plan.remoteSecrets.map((p) => p.source)).size;
    const pairs = plan.remoteSecrets.length;
    let n = 4 + (tokens === "perSource" ? 2 * sources + pairs : sources + 2 * pairs);
    for (const c of plan.clusters) {
        n += 6;
        if (c.runsIstiod) n += 4;
        if (c.eastWestGateway) n += 3;
        if (c.crossNetworkGateway) n += 1;
        if (c.exposeIstiod) n += 2;
    }
    return n;
}

/** a·N² + b·N + c through three points of an exactly quadratic function of N. */
export function fitQuadratic(f: (n: number) => number): { a: number; b: number; c: number } {
    const [y2, y3, y4] = [f(2), f(3), f(4)];
    const a = (y4 - 2 * y3 + y2) / 2;
    const b = y3 - y2 - 5 * a;
    const c = y2 - 4 * a - 2 * b;
    return { a, b, c };
}

export function formatQuadratic(q: { a: number; b: number; c: number }): string {
    const terms: string[] = [];
    if (q.a) terms.push(q.a === 1 ? "N²" : `${q.a}·N²`);
    if (q.b) terms.push(q.b === 1 ? "N" : `${q.b}·N`);
    if (q.c || terms.length === 0) terms.push(`${q.c}`);
    return terms.join(" + ").replace(/\+ -/g, "− ");
}

// ---------------------------------------------------------------------------------------------
// Dependency analysis
// ---------------------------------------------------------------------------------------------

/** A registration as the analysis needs it (a subset of the simulator's Registration). */
export interface Node {
    type: string;
    name: string;
    urn: string;
    parent: string;
    providerName: string;
    custom: boolean;
    read: boolean;
    inputs: Record<string, any>;
    /** URNs the engine sees this resource depend on (dependsOn plus inputs). */
    dependencies: string[];
    /** The provider reference, `<provider urn>::<id>`, or "". */
    provider: string;
    /** The resource's ID (for a read: the ID it was asked to read). */
    id?: string;
    /** Simulated start and finish, in simulated seconds from the first registration. */
    start: number;
    end: number;
}

export type Role =
    | "component"
    | "cloud-provider"
    | "k8s-provider"
    | "namespace"
    | "cacerts"
    | "base"
    | "istiod"
    | "gateway"
    | "gateway-address"
    | "istio-object"
    | "expose-istiod"
    | "reader-token"
    | "remote-secret"
    | "root-key"
    | "root-cert"
    | "intermediate-key"
    | "intermediate-csr"
    | "intermediate-cert"
    | "node-pool"
    | "platform"
    | "platform-k8s";

export interface Classified {
    role: Role;
    /** The cluster the resource belongs to (for a remote secret: the target; for a token: the source). */
    cluster?: string;
    /** Remote secret: the clusters whose tokens it holds. Reader token: the cluster that reads with it. */
    peers?: string[];
}

export const NODE_POOL_TYPES = new Set(PLATFORMS.flatMap((p) => p.bench.nodePoolTypes));
const TOKEN_PREFIX = readerTokenName("");

/**
 * What a registration is, from its type, inputs and provider: robust to renames of the program's
 * resource names. `clusterOfProvider` maps a kubernetes provider's name to its cluster.
 */
export function classify(
    r: Node,
    clusterOfProvider: Map<string, string>,
    clusterOfComponent: Map<string, string>,
    clusters: string[],
): Classified {
    const t = r.type;
    if (!r.custom) return { role: "component", cluster: clusterOfComponent.get(r.urn) };
    if (t === TYPES.k8sProvider) return { role: "k8s-provider", cluster: clusterOfProvider.get(r.name) };
    if (t.startsWith("pulumi:providers:")) return { role: "cloud-provider" };
    if (t.startsWith("tls:")) {
        if (t === TYPES.selfSignedCert) return { role: "root-cert" };
        if (t === TYPES.privateKey && /-root-key$/.test(r.name)) return { role: "root-key" };
        const cluster = clusters
            .filter((c) => new RegExp(`-${escapeRe(c)}(-g\\d+)?-intermediate-`).test(r.name))
            .sort((a, b) => b.length - a.length)[0];
        if (t === TYPES.privateKey) return { role: "intermediate-key", cluster };
        if (t === TYPES.certRequest) return { role: "intermediate-csr", cluster };
        return { role: "intermediate-cert", cluster };
    }
    if (t.startsWith("kubernetes:")) {
        const cluster = clusterOfProvider.get(r.providerName);
        const md = r.inputs?.metadata ?? {};
        const inIstio = (md.namespace ?? r.inputs?.namespace) === ISTIO_NAMESPACE;
        if (t === TYPES.namespace) return { role: md.name === ISTIO_NAMESPACE ? "namespace" : "platform-k8s", cluster };
        if (t === TYPES.secret) {
            if (md.name === CACERTS_SECRET) return { role: "cacerts", cluster };
            if (md.annotations?.["kubernetes.io/service-account.name"] === READER_SERVICE_ACCOUNT) {
                const name = String(md.name ?? "");
                // A per-reader token names its reader; the shared one (istioctl's name) serves every reader.
                return {
                    role: "reader-token",
                    cluster,
                    peers: name.startsWith(TOKEN_PREFIX) ? [name.slice(TOKEN_PREFIX.length)] : undefined,
                };
            }
            if (md.labels?.[MULTICLUSTER_SECRET_LABEL] === "true") {
                const annotated = md.annotations?.[CLUSTER_ANNOTATION];
                const keys = Object.keys(r.inputs?.stringData ?? r.inputs?.data ?? {});
                return { role: "remote-secret", cluster, peers: annotated ? [annotated] : keys };
            }
        }
        if (t === TYPES.release && inIstio) {
            const chart = describeReleaseChart(r.inputs ?? {}).name;
            if (chart === CHARTS.base.chart || chart === CHARTS.istiod.chart || chart === CHARTS.gateway.chart)
                return { role: chart, cluster };
        }
        // The east-west gateway's LoadBalancer Service: the program makes it before istiod for its address.
        if (t === TYPES.service && inIstio && r.inputs?.spec?.type === "LoadBalancer") return { role: "gateway-address", cluster };
        if (t.startsWith("kubernetes:networking.istio.io/")) {
            return {
                role:
                    md.name === ISTIO_OBJECTS.istiodGateway || md.name === ISTIO_OBJECTS.istiodVirtualService
                        ? "expose-istiod"
                        : "istio-object",
                cluster,
            };
        }
        return { role: "platform-k8s", cluster };
    }
    return { role: NODE_POOL_TYPES.has(t) ? "node-pool" : "platform", cluster: clusterOfComponent.get(r.parent) };
}

function escapeRe(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface Graph {
    nodes: Node[];
    classes: Classified[];
    /** preds[i]: indices of the nodes that must finish before node i starts. */
    preds: number[][];
}

/** Per-cluster lookups the edge rules need. */
function index(nodes: Node[], facts: ClusterFact[]) {
    const clusters = facts.map((f) => f.name);
    const clusterOfProvider = new Map<string, string>();
    const clusterOfComponent = new Map<string, string>();
    for (const r of nodes) {
        if (r.type !== TYPES.k8sProvider) continue;
        // The provider says which cluster it serves (components/platforms/provider.ts).
        const c = parseClusterIdentifier(r.inputs?.clusterIdentifier)?.cluster;
        if (!c || !clusters.includes(c)) continue;
        clusterOfProvider.set(r.name, c);
        // The provider's parent is the cluster's own component (ExistingCluster, GkeCluster, ...):
        // the platform resources under it belong to that cluster.
        if (r.parent) clusterOfComponent.set(r.parent, c);
    }
    const classes = nodes.map((r) => classify(r, clusterOfProvider, clusterOfComponent, clusters));
    const byUrn = new Map(nodes.map((r, i) => [r.urn, i]));
    const of = new Map<string, number[]>();
    classes.forEach((k, i) => {
        const key = `${k.cluster ?? ""}/${k.role}`;
        of.set(key, [...(of.get(key) ?? []), i]);
    });
    const get = (cluster: string | undefined, role: Role) => of.get(`${cluster ?? ""}/${role}`) ?? [];
    return { classes, byUrn, get };
}

/**
 * The program's own graph: every dependency the engine sees, plus what the SDK waits for before it
 * sends a registration at all: the provider (its URN and ID), the parent (its URN), and for a read
 * the resource whose output is the ID it reads (the engine gets no dependency for that; the read
 * simply is not sent before the ID is known).
 */
export function programGraph(nodes: Node[], facts: ClusterFact[]): Graph {
    const { classes, byUrn } = index(nodes, facts);
    const providerUrn = (ref: string) => ref.split("::").slice(0, -1).join("::");
    const byObject = new Map<string, number>();
    nodes.forEach((r, i) => {
        if (!r.read && r.custom && r.type === TYPES.release && r.inputs?.name)
            byObject.set(`${r.provider}|${r.inputs.namespace}/${r.inputs.name}`, i);
    });
    const preds = nodes.map((r) => {
        const urns = [...r.dependencies, ...(r.provider ? [providerUrn(r.provider)] : []), ...(r.parent ? [r.parent] : [])];
        const ps = urns.map((u) => byUrn.get(u)).filter((i): i is number => i !== undefined);
        const source = r.read && r.id ? byObject.get(`${r.provider}|${r.id}`) : undefined;
        if (source !== undefined) ps.push(source);
        return [...new Set(ps)];
    });
    return { nodes, classes, preds };
}

/**
 * The ordering the Istio facts force (docs/deploy.md, "What is installed where, in which order"), and
 * nothing else:
 *   per cluster   namespace → cacerts → istiod; base → istiod → gateway → its address;
 *                 base (CRDs) → Istio objects; base (reader SA) → reader token;
 *                 node pool → istiod, gateway (pods need nodes); load-balancer prerequisites
 *                 (MetalLB) → gateway; a provider → every resource it manages;
 *                 namespace → every namespaced Istio object
 *   trust         root key → root cert; intermediate key → CSR → intermediate cert (signed by
 *                 the root key and cert) → that cluster's cacerts (with the root cert)
 *   across        primary's gateway address → remote's base and istiod; primary's expose-istiod
 *                 objects → remote's istiod; source's reader token and namespace (the remote's
 *                 controlPlaneClusters annotation) → remote secret in the target; remote secret
 *                 of a remote in its primary → the remote's own gateway
 *   platform      what the clouds require among their own resources (the program's edges between
 *                 platform resources, e.g. VPC → subnet → cluster → node pool), the cluster (not
 *                 its node pool) → its kubernetes provider, and platform outputs a Kubernetes
 *                 object reads (an API server address, a network range)
 */
export function requiredGraph(nodes: Node[], facts: ClusterFact[]): Graph {
    const { classes, byUrn, get } = index(nodes, facts);
    const primaryOf = new Map(facts.filter((f) => f.role === "remote").map((f) => [f.name, f.primary!]));
    const isPlatform = (i: number) => ["platform", "node-pool", "cloud-provider"].includes(classes[i].role);
    const preds: number[][] = nodes.map(() => []);
    nodes.forEach((r, i) => {
        const k = classes[i];
        const c = k.cluster;
        const p = c !== undefined ? primaryOf.get(c) : undefined;
        const add = (...js: number[]) => preds[i].push(...js);
        const recorded = () => r.dependencies.map((u) => byUrn.get(u)).filter((j): j is number => j !== undefined);
        // Every resource needs its provider configured.
        const provider = r.provider ? byUrn.get(r.provider.split("::").slice(0, -1).join("::")) : undefined;
        if (provider !== undefined) add(provider);
        // What a Kubernetes object takes from the platform is data it cannot do without (the API
        // server address in a remote secret, the kind network in MetalLB's pool); node pools are
        // not data and count only where pods run (below).
        if (r.type.startsWith("kubernetes:")) add(...recorded().filter((j) => classes[j].role === "platform"));
        // Within a cluster: Istio's install order, from its one owner (components/istio.ts).
        if (k.role in INSTALL_ORDER) for (const dep of INSTALL_ORDER[k.role as InstallStep]) add(...get(c, dep));
        switch (k.role) {
            case "cacerts":
                add(...get(c, "intermediate-cert"), ...get(undefined, "root-cert"));
                break;
            case "base":
                if (p) add(...get(p, "gateway-address"));
                break;
            case "istiod":
                add(...get(c, "node-pool"));
                if (p) add(...get(p, "gateway-address"), ...get(p, "expose-istiod"));
                // A primary that exposes istiod names its gateway's host in istiod's certificate (ISTIOD_CUSTOM_HOST).
                if (get(c, "expose-istiod").length > 0) add(...get(c, "gateway-address"));
                break;
            case "gateway":
                add(...get(c, "node-pool"), ...get(c, "platform-k8s"));
                if (p) add(...get(p, "remote-secret").filter((j) => classes[j].peers?.includes(c!)));
                break;
            case "gateway-address":
                // Some platforms hand out addresses only once an in-cluster controller is ready (MetalLB's pool on kind).
                add(...get(c, "platform-k8s"));
                break;
            case "remote-secret":
                for (const s of k.peers ?? []) {
                    add(
                        ...get(s, "namespace"),
                        ...get(s, "reader-token").filter((j) => classes[j].peers === undefined || classes[j].peers!.includes(c!)),
                    );
                }
                break;
            case "root-cert":
                add(...get(undefined, "root-key"));
                break;
            case "intermediate-csr":
                add(...get(c, "intermediate-key"));
                break;
            case "intermediate-cert":
                add(...get(c, "intermediate-csr"), ...get(undefined, "root-key"), ...get(undefined, "root-cert"));
                break;
            case "platform-k8s":
                // Platform add-ons inside the cluster (MetalLB): their own order, and nodes for their pods.
                add(...recorded().filter((j) => classes[j].role === "platform-k8s" && classes[j].cluster === c), ...get(c, "node-pool"));
                break;
            case "k8s-provider":
                // The cluster and its credentials; not its node pools or access entries.
                add(
                    ...recorded().filter(
                        (j) => isPlatform(j) && classes[j].role !== "node-pool" && !/accessEntry|accessPolicy/.test(nodes[j].type),
                    ),
                );
                break;
            case "platform":
            case "node-pool":
                add(...recorded().filter(isPlatform));
                break;
        }
    });
    return { nodes, classes, preds: preds.map((ps) => [...new Set(ps)]) };
}

export interface LongestPath {
    /** Simulated seconds. */
    length: number;
    /** Node indices, first to last. */
    path: number[];
    /** Earliest finish of every node. */
    finish: number[];
}

/** The longest weighted path of a DAG (node weights); throws on a cycle. */
export function longestPath(g: Graph, weight: (i: number) => number): LongestPath {
    const n = g.nodes.length;
    const succ: number[][] = Array.from({ length: n }, () => []);
    const indeg = new Array<number>(n).fill(0);
    g.preds.forEach((ps, i) => {
        for (const p of ps) {
            succ[p].push(i);
            indeg[i]++;
        }
    });
    const finish = new Array<number>(n).fill(0);
    const via = new Array<number>(n).fill(-1);
    const queue: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
    let seen = 0;
    for (let h = 0; h < queue.length; h++) {
        const i = queue[h];
        seen++;
        let start = 0;
        for (const p of g.preds[i]) {
            if (finish[p] > start || (finish[p] === start && via[i] === -1)) {
                start = finish[p];
                via[i] = p;
            }
        }
        finish[i] = start + weight(i);
        for (const s of succ[i]) if (--indeg[s] === 0) queue.push(s);
    }
    if (seen !== n) throw new Error(`the dependency graph has a cycle (${n - seen} nodes on or behind it)`);
    let last = 0;
    for (let i = 1; i < n; i++) if (finish[i] > finish[last]) last = i;
    const path: number[] = [];
    for (let i = n > 0 ? last : -1; i !== -1; i = via[i]) path.unshift(i);
    return { length: n > 0 ? finish[last] : 0, path, finish };
}

/**
 * The critical path the run actually took: from the last resource to finish, back through the
 * dependency that finished last before it started. `gap` is time a stage waited after its last
 * dependency finished (non-zero means it waited for something the engine cannot see).
 */
export function observedCriticalPath(g: Graph): { path: number[]; gaps: number[] } {
    const n = g.nodes.length;
    if (n === 0) return { path: [], gaps: [] };
    let last = 0;
    for (let i = 1; i < n; i++) if (g.nodes[i].end > g.nodes[last].end) last = i;
    const path: number[] = [];
    const gaps: number[] = [];
    const seen = new Set<number>();
    for (let i = last; i !== -1 && !seen.has(i);) {
        seen.add(i);
        path.unshift(i);
        let best = -1;
        for (const p of g.preds[i]) if (best === -1 || g.nodes[p].end > g.nodes[best].end) best = p;
        gaps.unshift(best === -1 ? g.nodes[i].start : g.nodes[i].start - g.nodes[best].end);
        i = best;
    }
    return { path, gaps };
}

/** All nodes from which `to` is reachable in g (its transitive prerequisites). */
export function ancestors(g: Graph, to: number): Set<number> {
    const out = new Set<number>();
    const stack = [...g.preds[to]];
    while (stack.length) {
        const i = stack.pop()!;
        if (out.has(i)) continue;
        out.add(i);
        stack.push(...g.preds[i]);
    }
    return out;
}

/** A short label for a stage: `<cluster> <role>` plus what varies (chart, pair). */
export function stageLabel(g: Graph, i: number): string {
    const k = g.classes[i];
    const r = g.nodes[i];
    const where = k.cluster ?? "mesh";
    switch (k.role) {
        case "reader-token":
            return `${where} reader token for ${k.peers?.join(",")}`;
        case "remote-secret":
            return `${where} remote secret of ${k.peers && k.peers.length > 3 ? `${k.peers.length} clusters` : k.peers?.join(",")}`;
        case "platform":
        case "node-pool":
        case "platform-k8s":
            // A command (kind's `kind create cluster`, `docker inspect`) by what it runs.
            return `${where} ${r.type.split(":").pop()}${
                typeof r.inputs?.create === "string" ? ` (${String(r.inputs.create).split(" ").slice(0, 3).join(" ")})` : ""
            }`;
        default:
            return `${where} ${k.role}`;
    }
}

export interface Extra {
    /** Role pair of the edge, e.g. `k8s-provider → namespace`. */
    kind: string;
    count: number;
    example: string;
}

/** The program graph without the given edges (u → v pairs, by node index). */
export function withoutEdges(g: Graph, drop: (u: number, v: number) => boolean): Graph {
    return { ...g, preds: g.preds.map((ps, v) => ps.filter((u) => !drop(u, v))) };
}

export interface EdgeAudit {
    /** Program edges no Istio fact requires, by role pair, with the makespan they cost (simulated s). */
    unrequired: (Extra & { costSeconds: number })[];
    /** Required orderings the program does not enforce (u is not a prerequisite of v in the program). */
    missing: Extra[];
    /** Longest path of the program graph with every unrequired edge removed. */
    prunedSeconds: number;
}

/**
 * Compare the program's edges with the required ones: which program edges are not implied by the
 * facts (and what each group costs the makespan), and which required orderings are missing.
 */
export function auditEdges(program: Graph, required: Graph, weight: (i: number) => number): EdgeAudit {
    // Costs are measured on program ∪ required, so dropping an edge never drops a required ordering
    // that the program happened to enforce only through it.
    const union: Graph = { ...program, preds: program.preds.map((ps, i) => [...new Set([...ps, ...required.preds[i]])]) };
    const base = longestPath(union, weight).length;
    const reqAnc = new Map<number, Set<number>>();
    const progAnc = new Map<number, Set<number>>();
    const implied = (u: number, v: number) => {
        if (!reqAnc.has(v)) reqAnc.set(v, ancestors(required, v));
        return reqAnc.get(v)!.has(u);
    };
    const kindOf = (g: Graph, u: number, v: number) => `${g.classes[u].role} → ${g.classes[v].role}`;
    const isExtra = (u: number, v: number) => program.nodes[u].custom && program.nodes[v].custom && !implied(u, v);
    const extra = new Set<string>();
    const groups = new Map<string, Extra & { costSeconds: number }>();
    program.preds.forEach((ps, v) => {
        for (const u of ps) {
            if (!isExtra(u, v)) continue;
            extra.add(`${u}>${v}`);
            const kind = kindOf(program, u, v);
            const e = groups.get(kind) ?? {
                kind,
                count: 0,
                example: `${program.nodes[u].name} → ${program.nodes[v].name}`,
                costSeconds: 0,
            };
            e.count++;
            groups.set(kind, e);
        }
    });
    for (const e of groups.values()) {
        const g = withoutEdges(union, (u, v) => extra.has(`${u}>${v}`) && kindOf(program, u, v) === e.kind);
        e.costSeconds = base - longestPath(g, weight).length;
    }
    const prunedSeconds = longestPath(
        withoutEdges(union, (u, v) => extra.has(`${u}>${v}`)),
        weight,
    ).length;
    const missing = new Map<string, Extra>();
    required.preds.forEach((ps, v) => {
        for (const u of ps) {
            if (!progAnc.has(v)) progAnc.set(v, ancestors(program, v));
            if (progAnc.get(v)!.has(u)) continue;
            const kind = kindOf(required, u, v);
            const e = missing.get(kind) ?? { kind, count: 0, example: `${required.nodes[u].name} → ${required.nodes[v].name}` };
            e.count++;
            missing.set(kind, e);
        }
    });
    return {
        unrequired: [...groups.values()].sort((a, b) => b.costSeconds - a.costSeconds || b.count - a.count),
        missing: [...missing.values()].sort((a, b) => b.count - a.count),
        prunedSeconds,
    };
}
