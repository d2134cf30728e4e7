// The traffic policy of a plan: what plan.json records per cluster (read back from the objects the
// program registered, so it shows what would be applied, not what was asked for), the mesh diff's
// sentences about it, and the picture's legend rows. Pure.
import { INJECTION_LABEL, ISTIO_NAMESPACE } from "../components/istio";
import type { Registration } from "../simulator/simulator";
import { TYPES } from "../components/pulumiTypes";

const NAMESPACE = TYPES.namespace;

export interface PlanTrafficPolicy {
    host: string;
    /** Where the DestinationRule lives. */
    namespace: string;
    /** The DestinationRule's name. */
    name: string;
    mode: "locality" | "failover" | "weighted";
    failover: { from: string; to: string }[];
    /** mode weighted: share per region (as every source region sends it). */
    weights: Record<string, number>;
    failoverPriority: string[];
    outlierDetection: Record<string, unknown>;
}

export interface PlanTraffic {
    /** Namespaces this program creates here with sidecar injection on, sorted. */
    namespaces: string[];
    /** One per DestinationRule with a locality setting, sorted by namespace and host. */
    policies: PlanTrafficPolicy[];
    /** Sidecars: the client namespace and the egress hosts its proxies see. */
    sidecars: { namespace: string; hosts: string[] }[];
}

type Spec = Record<string, any>;

/** A DestinationRule's locality policy in the traffic block's words, or undefined when it has none. */
export function policyOf(inputs: { metadata?: { name?: string; namespace?: string }; spec?: Spec }): PlanTrafficPolicy | undefined {
    const spec = inputs.spec ?? {};
    const lb = spec.trafficPolicy?.loadBalancer?.localityLbSetting;
    if (!lb || typeof spec.host !== "string") return undefined;
    const distribute: { from: string; to: Record<string, number> }[] = lb.distribute ?? [];
    const failover: { from: string; to: string }[] = lb.failover ?? [];
    const weights: Record<string, number> = {};
    for (const [k, v] of Object.entries(distribute[0]?.to ?? {})) weights[k.replace(/\/\*$/, "")] = v;
    return {
        host: spec.host,
        namespace: inputs.metadata?.namespace ?? "default",
        name: inputs.metadata?.name ?? "",
        mode: distribute.length > 0 ? "weighted" : failover.length > 0 ? "failover" : "locality",
        failover: failover.map((f) => ({ from: f.from, to: f.to })),
        weights,
        failoverPriority: [...(lb.failoverPriority ?? [])],
        outlierDetection: { ...(spec.trafficPolicy?.outlierDetection ?? {}) },
    };
}

/** The traffic facts of one cluster, from what was registered with its provider. */
export function trafficOfCluster(mine: Registration[]): PlanTraffic {
    const namespaces = mine
        .filter((r) => r.type === NAMESPACE && r.inputs.metadata?.name !== ISTIO_NAMESPACE)
        .filter((r) => Object.entries(INJECTION_LABEL).every(([k, v]) => r.inputs.metadata?.labels?.[k] === v))
        .map((r) => String(r.inputs.metadata.name))
        .sort();
    const policies = mine
        .filter((r) => r.type.startsWith("kubernetes:networking.istio.io/") && r.inputs.kind === "DestinationRule")
        .map((r) => policyOf(r.inputs))
        .filter((p): p is PlanTrafficPolicy => p !== undefined)
        .sort((a, b) => `${a.namespace}/${a.host}`.localeCompare(`${b.namespace}/${b.host}`));
    const sidecars = mine
        .filter((r) => r.type.startsWith("kubernetes:networking.istio.io/") && r.inputs.kind === "Sidecar")
        .map((r) => ({
            namespace: String(r.inputs.metadata?.namespace),
            hosts: [...((r.inputs.spec?.egress?.[0]?.hosts ?? []) as string[])],
        }))
        .sort((a, b) => a.namespace.localeCompare(b.namespace));
    return { namespaces, policies, sidecars };
}

/** "failover us-east1 → us-west1", "weighted us-east1 80, us-west1 20", "locality (failover by topology.istio.io/cluster)". */
export function describePolicy(p: PlanTrafficPolicy): string {
    if (p.mode === "failover") return `failover ${p.failover.map((f) => `${f.from} → ${f.to}`).join(", ")}`;
    if (p.mode === "weighted") {
        return `weighted ${Object.entries(p.weights)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([r, w]) => `${r} ${w}`)
            .join(", ")}`;
    }
    return `locality${p.failoverPriority.length ? ` (failover by ${p.failoverPriority.join(", ")})` : ""}`;
}

interface Side {
    name: string;
    traffic?: PlanTraffic;
}

/** Group sentences that hold for several clusters: "… in east, west". */
function grouped(facts: [sentence: string, cluster: string][], lines: string[]): void {
    const by = new Map<string, string[]>();
    for (const [s, c] of facts) by.set(s, [...(by.get(s) ?? []), c]);
    for (const [s, cs] of by) lines.push(s.replace("{clusters}", [...new Set(cs)].sort().join(", ")));
}

const show = (v: unknown) => (v === undefined ? "(default)" : typeof v === "string" ? v : JSON.stringify(v));

/**
 * The traffic changes between two plans, in words, one sentence per change and the clusters it
 * happens in: "payments: failover us-east1 → us-west1 added in east, west". Plans written before the
 * traffic block have no `traffic` and count as having none.
 */
export function trafficDiff(before: Side[], after: Side[]): string[] {
    const facts: [string, string][] = [];
    const all = [...before, ...after].flatMap((c) => c.traffic?.policies ?? []);
    const hosts = [...new Set(all.map((p) => p.host))];
    const firstLabels = hosts.map((h) => h.split(".")[0]);
    const short = (h: string) => {
        const first = h.split(".")[0];
        return first !== "*" && firstLabels.filter((x) => x === first).length === 1 ? first : h;
    };
    const names = [...new Set([...before, ...after].map((c) => c.name))].sort();
    for (const name of names) {
        const a = before.find((c) => c.name === name)?.traffic ?? { namespaces: [], policies: [], sidecars: [] };
        const b = after.find((c) => c.name === name)?.traffic ?? { namespaces: [], policies: [], sidecars: [] };
        const key = (p: PlanTrafficPolicy) => `${p.namespace}/${p.host}`;
        const old = new Map(a.policies.map((p) => [key(p), p]));
        const neu = new Map(b.policies.map((p) => [key(p), p]));
        for (const [k, p] of neu) {
            const o = old.get(k);
            if (!o) facts.push([`${short(p.host)}: ${describePolicy(p)} added in {clusters}`, name]);
            else if (describePolicy(o) !== describePolicy(p))
                facts.push([`${short(p.host)}: ${describePolicy(o)} → ${describePolicy(p)} in {clusters}`, name]);
            else {
                const fields = [...new Set([...Object.keys(o.outlierDetection), ...Object.keys(p.outlierDetection)])].sort();
                for (const f of fields) {
                    const x = o.outlierDetection[f];
                    const y = p.outlierDetection[f];
                    if (show(x) !== show(y))
                        facts.push([`${short(p.host)}: outlier detection ${f} ${show(x)} → ${show(y)} in {clusters}`, name]);
                }
            }
        }
        for (const [k, o] of old) {
            if (!neu.has(k))
                facts.push([
                    `${short(o.host)}: ${describePolicy(o)} removed from {clusters} (Istio's default locality load balancing applies ` +
                        `again)`,
                    name,
                ]);
        }
        for (const ns of b.namespaces.filter((x) => !a.namespaces.includes(x)))
            facts.push([`namespace ${ns} (sidecar injection on) added in {clusters}`, name]);
        for (const ns of a.namespaces.filter((x) => !b.namespaces.includes(x))) {
            facts.push([`namespace ${ns} removed from {clusters}: the Namespace and EVERYTHING IN IT is deleted`, name]);
        }
        const sOld = new Map(a.sidecars.map((s) => [s.namespace, s.hosts]));
        for (const s of b.sidecars) {
            const o = sOld.get(s.namespace);
            if (!o) facts.push([`${s.namespace}: sidecars see only ${s.hosts.join(", ")} (Sidecar added in {clusters})`, name]);
            else {
                const plus = s.hosts.filter((h) => !o.includes(h));
                const minus = o.filter((h) => !s.hosts.includes(h));
                if (plus.length || minus.length) {
                    const parts = [...plus.map((h) => `+${h}`), ...minus.map((h) => `-${h}`)];
                    facts.push([`${s.namespace}: sidecar egress hosts ${parts.join(" ")} in {clusters}`, name]);
                }
            }
        }
        for (const [ns] of sOld) {
            if (!b.sidecars.some((s) => s.namespace === ns))
                facts.push([`${ns}: Sidecar removed from {clusters} (its proxies see every service again)`, name]);
        }
    }
    const lines: string[] = [];
    grouped(facts, lines);
    return lines;
}

/** The picture's legend rows: one per policy, what it does and the clusters it is in. */
export function trafficLegend(clusters: Side[]): { host: string; policy: string; clusters: string[]; mode: PlanTrafficPolicy["mode"] }[] {
    const by = new Map<string, { host: string; policy: string; clusters: string[]; mode: PlanTrafficPolicy["mode"] }>();
    for (const c of clusters) {
        for (const p of c.traffic?.policies ?? []) {
            const policy = describePolicy(p);
            const key = `${p.host}\0${policy}`;
            const e = by.get(key) ?? { host: p.host, policy, clusters: [], mode: p.mode };
            e.clusters.push(c.name);
            by.set(key, e);
        }
    }
    return [...by.values()]
        .map((e) => ({ ...e, clusters: e.clusters.sort() }))
        .sort((x, y) => `${x.host} ${x.policy}`.localeCompare(`${y.host} ${y.policy}`));
}
