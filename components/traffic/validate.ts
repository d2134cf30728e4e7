// Every rule of the `traffic` block, each problem with its config path, all reported in one run
// (validateMeshConfig calls this before anything is registered). Istio's own rules for what the
// block compiles to are in istioRules.ts; after the config-level checks pass, the compiled objects
// go through them too, so nothing istiod would reject or ignore reaches a cluster.
import {
    DEFAULT_SIDECAR,
    DNS_CAPTURE_ENV,
    EASTWEST_SELECTOR,
    ISTIO_NAMESPACE,
    ISTIO_OBJECTS,
    KUBERNETES_NAMESPACES,
    LOCALITY_LABELS,
    ROOT_NAMESPACE,
    TRAFFIC_OBJECT_GROUPS,
} from "../istio";
import { platformOf } from "../platforms/registry";
import type { LooseCluster, PlatformCluster } from "../platforms/types";
import { compileTraffic, destinationRuleName, IstioObject } from "./compile";
import {
    destinationRuleLocalityProblems,
    hostProblem,
    isDns1123Label,
    localityLbProblems,
    outlierDetectionProblems,
    sidecarHostProblem,
} from "./istioRules";
import type { TrafficConfig } from "./schema";
// The CRD schemas of the pinned Istio minor (components/data/istio/<minor>/crd-schemas.json, derived by
// npm run istio:facts), through the one validator the render command uses too; the config checks pass
// the pinned version's (components/meshConfig.ts), the default minor's is the fallback.
import { istioObjectProblems as crdSchemaProblems } from "../istioCrdSchemas";

type Say = (path: string, msg: string) => void;

/** A cluster entry as far as it parsed: the one loose cluster shape (components/platforms/types.ts). */
export type LooseTrafficCluster = LooseCluster;

const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A cluster's region: `region` from config (existing, kind, and clusters the caller built), or what
 * a created cluster's platform derives it from (gke.location, eks.region).
 */
export function clusterRegion(c: LooseTrafficCluster, clustersBuilt = false): string | undefined {
    if (typeof c.region === "string" && c.region !== "") return c.region;
    if (clustersBuilt) return undefined;
    const p = platformOf(typeof c.platform === "string" ? c.platform : undefined);
    if (!p?.localityFrom) return undefined;
    try {
        return p.locality(c as PlatformCluster).region;
    } catch {
        // The platform block did not parse; its own checks report it.
        return undefined;
    }
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Problems of the traffic block (`t` may be partial when the schema found problems elsewhere). */
/** What every part of the traffic checks shares: the block, its clusters and regions, its namespaces, and `say`. */
interface TrafficCheck {
    t: Partial<TrafficConfig>;
    at: string;
    say: Say;
    ctx: TrafficContext;
    /** Every cluster entry, as far as it parsed (for paths: mesh.clusters[i]). */
    clusters: LooseTrafficCluster[];
    named: (LooseTrafficCluster & { name: string })[];
    names: string[];
    /** The clusters whose istiod reads Istio configuration (the primaries). */
    configClusters: string[];
    regionOf: Map<string, string | undefined>;
    regions: Map<string, string[]>;
    regionList: () => string;
    policies: NonNullable<TrafficConfig["policies"]>;
    namespaces: NonNullable<TrafficConfig["namespaces"]>;
    objects: NonNullable<TrafficConfig["objects"]>;
    /** namespace name → its index in `namespaces` (filled by checkNamespaces). */
    nsIndex: Map<string, number>;
    namespaceProblem: (ns: string) => string | undefined;
    /** How many problems were reported: the compiled objects are checked only when none was. */
    reported: { n: number };
}

type TrafficContext = {
    say: Say;
    clustersBuilt?: boolean;
    istioValues?: Record<string, unknown>;
    istioObjectProblems?: (o: IstioObject) => string[];
};

/** Problems of the traffic block (`t` may be partial when the schema found problems elsewhere). */
export function validateTraffic(t: Partial<TrafficConfig> | undefined, clusters: LooseTrafficCluster[], ctx: TrafficContext): void {
    if (!t || typeof t !== "object") return;
    const reported = { n: 0 };
    const say: Say = (path, msg) => {
        reported.n++;
        ctx.say(path, msg);
    };
    const at = "mesh.traffic";
    const named = clusters.filter((c) => typeof c.name === "string") as (LooseTrafficCluster & { name: string })[];
    const names = named.map((c) => c.name);
    const configClusters = named.filter((c) => (c.role ?? "primary") === "primary").map((c) => c.name);
    const regionOf = new Map(named.map((c) => [c.name, clusterRegion(c, ctx.clustersBuilt)]));
    const regions = new Map<string, string[]>();
    for (const [c, r] of regionOf) if (r) regions.set(r, [...(regions.get(r) ?? []), c]);
    const regionList = () =>
        regions.size === 0
            ? "no cluster has a region"
            : `regions: ${[...regions]
                  .sort()
                  .map(([r, cs]) => `${r} (${cs.join(", ")})`)
                  .join(", ")}`;
    const policies = Array.isArray(t.policies) ? t.policies : [];
    const namespaces = Array.isArray(t.namespaces) ? t.namespaces : [];

    const objects = Array.isArray(t.objects) ? t.objects : [];
    const nsIndex = new Map<string, number>();
    const namespaceProblem = (ns: string): string | undefined => {
        if (ns === ROOT_NAMESPACE) return undefined;
        const i = nsIndex.get(ns);
        if (i === undefined) {
            return (
                `namespace "${ns}" is not in ${at}.namespaces; add it there (this program then creates it in every cluster whose ` +
                `istiod reads the object: ${configClusters.join(", ")}), or write the object into a namespace that exists`
            );
        }
        const listed = namespaces[i].clusters;
        const missing = listed ? configClusters.filter((c) => !listed.includes(c)) : [];
        if (missing.length > 0) {
            return (
                `namespace "${ns}" (${at}.namespaces[${i}]) is not created in ${missing.join(", ")}, whose istiod reads this ` +
                `object; add ${missing.length > 1 ? "them" : "it"} to its clusters`
            );
        }
        return undefined;
    };
    const v: TrafficCheck = {
        ...{ t, at, say, ctx, clusters, named, names, configClusters, regionOf, regions, regionList },
        ...{ policies, namespaces, objects, nsIndex, namespaceProblem, reported },
    };
    checkNamespaces(v);
    checkClusterLocal(v);
    checkPolicies(v);
    checkDependencies(v);
    checkObjects(v);
    checkOverriddenValues(v);
    checkClashes(v);
    checkCompiled(v);
}

/** Namespaces: names Kubernetes and Istio own are refused (their Namespace objects exist already); each listed once, on clusters of the mesh. */
function checkNamespaces(v: TrafficCheck): void {
    const { at, say, names, namespaces, nsIndex } = v;
    // Namespaces: names Kubernetes and Istio own are refused (their Namespace objects exist already).
    namespaces.forEach((ns, i) => {
        if (!ns || typeof ns.name !== "string") return;
        const p = `${at}.namespaces[${i}]`;
        if (!isDns1123Label(ns.name))
            say(`${p}.name`, `"${ns.name}" is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`);
        if (ns.name === ISTIO_NAMESPACE || KUBERNETES_NAMESPACES.includes(ns.name)) {
            say(
                `${p}.name`,
                `"${ns.name}" already exists in every cluster ` +
                    `(${ns.name === ISTIO_NAMESPACE ? "this program makes it" : "Kubernetes makes it"}); list only application namespaces`,
            );
        }
        if (nsIndex.has(ns.name))
            say(
                `${p}.name`,
                `"${ns.name}" is listed twice (also ${at}.namespaces[${nsIndex.get(ns.name)}]); list each namespace once, with all its ` +
                    `clusters`,
            );
        else nsIndex.set(ns.name, i);
        if (ns.clusters !== undefined) {
            if (ns.clusters.length === 0) say(`${p}.clusters`, "is empty; leave it out for every cluster, or name the clusters");
            ns.clusters.forEach((c, j) => {
                if (!names.includes(c))
                    say(`${p}.clusters[${j}]`, `"${c}" is not a cluster of this mesh; name one of: ${names.join(", ")}`);
                else if (ns.clusters!.indexOf(c) !== j) say(`${p}.clusters[${j}]`, `"${c}" is listed twice`);
            });
        }
    });
    /** A namespace that objects go into must exist in every config cluster: the root namespace, or one of `namespaces` there. */
}

/** Cluster-local hosts. */
function checkClusterLocal(v: TrafficCheck): void {
    const { t, at, say } = v;
    // Hosts: cluster-local ones.
    (Array.isArray(t.clusterLocal) ? t.clusterLocal : []).forEach((h, i) => {
        const p = typeof h === "string" ? hostProblem(h) : undefined;
        if (p) say(`${at}.clusterLocal[${i}]`, p);
    });
}

/** Policies: hosts, modes, regions, failover, weights, outlier detection (Istio's locality rules, components/traffic/istioRules.ts). */
function checkPolicies(v: TrafficCheck): void {
    const { t, at, say, ctx, clusters, named, regionOf, regions, regionList, policies, namespaceProblem } = v;
    // Policies.
    const hostAt = new Map<string, number>();
    // A cluster without a region is reported once, at the first policy that needs it.
    const regionless = new Set<string>();
    const nameAt = new Map<string, number>();
    const meshOutlier = isObject(t.outlierDetection) ? t.outlierDetection : {};
    for (const o of outlierDetectionProblems(meshOutlier)) say(`${at}.outlierDetection.${o.field}`, o.problem);
    policies.forEach((pol, i) => {
        if (!pol || typeof pol !== "object") return;
        const p = `${at}.policies[${i}]`;
        const mode = pol.mode;
        if (typeof pol.host === "string") {
            const hp = hostProblem(pol.host);
            if (hp) say(`${p}.host`, hp);
            const key = `${pol.namespace ?? ROOT_NAMESPACE}/${pol.host}`;
            const name = `${pol.namespace ?? ROOT_NAMESPACE}/${destinationRuleName(pol.host)}`;
            if (hostAt.has(key))
                say(`${p}.host`, `"${pol.host}" already has a policy (${at}.policies[${hostAt.get(key)}]); one policy per host`);
            else if (nameAt.has(name))
                say(
                    `${p}.host`,
                    `compiles to the same DestinationRule name as ${at}.policies[${nameAt.get(name)}] (${name}); one of them needs ` +
                        `another namespace`,
                );
            hostAt.set(key, i);
            nameAt.set(name, i);
        }
        if (typeof pol.namespace === "string") {
            const np = namespaceProblem(pol.namespace);
            if (np) say(`${p}.namespace`, np);
        }
        // Fields that belong to another mode would be silently ignored: refuse them.
        if (mode !== "failover" && pol.failover !== undefined)
            say(`${p}.failover`, `is only for mode failover (this policy is mode ${mode}); remove it`);
        if (mode !== "weighted" && pol.weights !== undefined)
            say(`${p}.weights`, `is only for mode weighted (this policy is mode ${mode}); remove it`);
        if (mode === "weighted" && pol.failoverPriority !== undefined) {
            say(
                `${p}.failoverPriority`,
                "is ignored with weights (Istio applies distribute and skips failover priority); remove it, or use mode locality",
            );
        }
        const needsRegions = mode === "failover" || mode === "weighted";
        const knownRegion = (r: string, path: string) => {
            if (regions.size > 0 && !regions.has(r)) say(path, `"${r}" is not the region of any cluster (${regionList()})`);
        };
        if (mode === "failover") {
            const pairs = Array.isArray(pol.failover) ? pol.failover : [];
            if (pairs.length === 0) say(`${p}.failover`, "is required for mode failover: list {from, to} region pairs");
            const froms = new Map<string, number>();
            pairs.forEach((f, j) => {
                if (!f) return;
                const fp = `${p}.failover[${j}]`;
                if (f.from === f.to)
                    say(fp, `from and to are both "${f.from}"; locality lb failover settings must specify different regions`);
                for (const k of ["from", "to"] as const) {
                    const r = f[k];
                    if (typeof r !== "string") continue;
                    if (r.includes("/")) say(`${fp}.${k}`, `"${r}": locality lb failover only specify region (no zone)`);
                    else if (r.includes("*")) say(`${fp}.${k}`, `"${r}": locality lb failover region should not contain '*' wildcard`);
                    else knownRegion(r, `${fp}.${k}`);
                }
                if (typeof f.from === "string") {
                    if (froms.has(f.from))
                        say(
                            `${fp}.from`,
                            `"${f.from}" already fails over (${p}.failover[${froms.get(f.from)}]); give each region one target`,
                        );
                    else froms.set(f.from, j);
                }
            });
        }
        if (mode === "weighted") {
            const w = isObject(pol.weights) ? (pol.weights as Record<string, unknown>) : undefined;
            if (!w || Object.keys(w).length === 0)
                say(`${p}.weights`, "is required for mode weighted: a share per region, e.g. { us-east1: 80, us-west1: 20 }");
            else {
                let total = 0;
                for (const [r, v] of Object.entries(w)) {
                    const wp = `${p}.weights.${r}`;
                    if (r.includes("/") || r.includes("*"))
                        say(wp, `"${r}": name a region only (no zone, no '*': the compiled locality is "${r}/*")`);
                    else knownRegion(r, wp);
                    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 100)
                        say(wp, `${String(v)}: locality weight must be a whole number in range [1, 100]`);
                    total += typeof v === "number" ? v : 0;
                }
                if (total !== 100) say(`${p}.weights`, `total locality weight ${total} != 100; the shares must add up to 100`);
            }
        }
        if (Array.isArray(pol.failoverPriority)) {
            const topology: string[] = [LOCALITY_LABELS.region, LOCALITY_LABELS.zone, LOCALITY_LABELS.subzone];
            pol.failoverPriority.forEach((l, j) => {
                const label = l.split("=")[0];
                if (!LABEL_NAME.test(label) || label.length > 316)
                    say(`${p}.failoverPriority[${j}]`, `"${l}" is not a label name (or label=value)`);
                else if (mode === "failover" && topology.includes(label)) {
                    say(
                        `${p}.failoverPriority[${j}]`,
                        `can not simultaneously set 'failover' and topology label '${label}' in 'failover_priority'; drop it (failover ` +
                            `already orders regions)`,
                    );
                }
            });
        }
        // Regions: a created cluster knows its own; existing and kind clusters must say theirs.
        if (needsRegions) {
            named.forEach((c) => {
                if (regionOf.get(c.name) !== undefined || regionless.has(c.name)) return;
                const plat = typeof c.platform === "string" ? c.platform : "existing";
                // A created cluster without its location: its platform block's own checks report it.
                if (platformOf(plat)?.localityFrom && !ctx.clustersBuilt) return;
                regionless.add(c.name);
                say(
                    `mesh.clusters[${clusters.indexOf(c)}].region`,
                    `is required: ${p} (mode ${mode}) routes between regions, and ${/^[aeiou]/.test(plat) ? "an" : "a"} ${plat} cluster takes its region from config; set ` +
                        `the region its nodes carry in ${LOCALITY_LABELS.region}`,
                );
            });
        }
        const od = isObject(pol.outlierDetection) ? pol.outlierDetection : {};
        for (const o of outlierDetectionProblems(od)) say(`${p}.outlierDetection.${o.field}`, o.problem);
        const eff = { ...meshOutlier, ...od } as Record<string, unknown>;
        const five = eff.consecutive5xxErrors ?? 5;
        const gw = eff.consecutiveGatewayErrors ?? 0;
        if (five === 0 && gw === 0) {
            say(
                `${p}.outlierDetection`,
                "consecutive5xxErrors and consecutiveGatewayErrors are both 0, so no endpoint is ever ejected and traffic never fails " +
                    "over; set one of them",
            );
        }
    });
}

/** Dependencies, which become Sidecars: the client's namespace and the hosts it calls. */
function checkDependencies(v: TrafficCheck): void {
    const { t, at, say, namespaceProblem } = v;
    // Dependencies → Sidecars.
    (Array.isArray(t.dependencies) ? t.dependencies : []).forEach((d, i) => {
        if (!d) return;
        const p = `${at}.dependencies[${i}]`;
        const ns = d.client?.namespace;
        if (typeof ns === "string") {
            if (!isDns1123Label(ns)) say(`${p}.client.namespace`, `"${ns}" is not a DNS-1123 label`);
            else if (ns === ROOT_NAMESPACE)
                say(
                    `${p}.client.namespace`,
                    `a Sidecar in the root namespace ${ns} applies to every namespace; name the client's own namespace`,
                );
            else {
                const np = namespaceProblem(ns);
                if (np) say(`${p}.client.namespace`, np);
            }
        }
        const calls = Array.isArray(d.calls) ? d.calls : [];
        if (calls.length === 0)
            say(`${p}.calls`, "is empty; list the hosts the client calls (a client that calls nothing needs no dependency)");
        calls.forEach((h, j) => {
            const hp = typeof h === "string" ? hostProblem(h) : undefined;
            if (hp) say(`${p}.calls[${j}]`, hp);
        });
    });
}

/** Objects written as given: their groups, the kinds the program owns, and the CRD schemas. */
function checkObjects(v: TrafficCheck): void {
    const { at, say, ctx, namespaceProblem, objects } = v;
    // Objects written as given: their groups, the kinds the program owns, and the CRD schemas.
    const compiledNames = new Set<string>();
    objects.forEach((o, i) => {
        const p = `${at}.objects[${i}]`;
        if (!isObject(o)) return;
        const apiVersion = typeof o.apiVersion === "string" ? o.apiVersion : "";
        const kind = typeof o.kind === "string" ? o.kind : "";
        const group = apiVersion.split("/")[0];
        if (!TRAFFIC_OBJECT_GROUPS.includes(group) || !apiVersion.includes("/")) {
            say(
                `${p}.apiVersion`,
                `"${apiVersion}" is not in ${TRAFFIC_OBJECT_GROUPS.join(" or ")} (e.g. networking.istio.io/v1); only Istio's traffic ` +
                    `and security objects go here`,
            );
            return;
        }
        if (kind === "") say(`${p}.kind`, "is required");
        const meta = isObject(o.metadata) ? o.metadata : {};
        const name = meta.name;
        if (typeof name !== "string" || !DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
            say(`${p}.metadata.name`, name === undefined ? "is required" : `"${String(name)}" is not a DNS-1123 subdomain`);
        }
        const ns = typeof meta.namespace === "string" ? meta.namespace : ROOT_NAMESPACE;
        if (meta.namespace !== undefined && (typeof meta.namespace !== "string" || !isDns1123Label(meta.namespace))) {
            say(`${p}.metadata.namespace`, `"${String(meta.namespace)}" is not a namespace name`);
        } else {
            const np = namespaceProblem(ns);
            if (np) say(`${p}.metadata.namespace`, np);
        }
        const owned = Object.values(ISTIO_OBJECTS) as string[];
        if (ns === ISTIO_NAMESPACE && typeof name === "string" && owned.includes(name)) {
            say(`${p}.metadata.name`, `${ns}/${name} is an object this program owns (the east-west gateway's); it cannot be given here`);
        }
        const selector = isObject(o.spec) && isObject(o.spec.selector) ? o.spec.selector : undefined;
        if (kind === "Gateway" && selector && selector.istio === EASTWEST_SELECTOR.istio) {
            say(
                `${p}.spec.selector`,
                `selects the east-west gateway (istio: ${EASTWEST_SELECTOR.istio}), whose Gateway objects this program owns; select ` +
                    `another gateway`,
            );
        }
        // A DestinationRule given as is passes the same locality rules as a compiled one (M9).
        if (kind === "DestinationRule" && isObject(o.spec))
            for (const d of destinationRuleLocalityProblems(o.spec)) say(`${p}.spec.${d.at}`, d.problem);
        const key = `${kind}/${ns}/${String(name)}`;
        if (compiledNames.has(key)) say(`${p}.metadata.name`, `${kind} ${ns}/${String(name)} is given twice`);
        compiledNames.add(key);
        if (kind !== "") {
            const obj = { ...o, metadata: { ...meta, namespace: ns } } as unknown as IstioObject;
            for (const sp of (ctx.istioObjectProblems ?? crdSchemaProblems)(obj))
                say(p, `does not pass the Istio ${kind} CRD schema: ${sp}`);
        }
    });
}

/** Settings the user's istio.values would override silently (they are merged last). */
function checkOverriddenValues(v: TrafficCheck): void {
    const { t, at, say, ctx } = v;
    // Settings the user's istio.values would override silently (they are merged last).
    const meshConfig = isObject(ctx.istioValues?.meshConfig) ? ctx.istioValues!.meshConfig : undefined;
    if (meshConfig && Array.isArray(t.clusterLocal) && t.clusterLocal.length > 0 && meshConfig.serviceSettings !== undefined) {
        say(
            "mesh.istio.values.meshConfig.serviceSettings",
            `would replace ${at}.clusterLocal (Helm replaces lists whole); move these service settings into one of them`,
        );
    }
    const proxyMetadata =
        isObject(meshConfig?.defaultConfig) && isObject(meshConfig.defaultConfig.proxyMetadata)
            ? meshConfig.defaultConfig.proxyMetadata
            : {};
    if (t.dnsProxying === true && proxyMetadata[DNS_CAPTURE_ENV] !== undefined && proxyMetadata[DNS_CAPTURE_ENV] !== "true") {
        say(
            `mesh.istio.values.meshConfig.defaultConfig.proxyMetadata.${DNS_CAPTURE_ENV}`,
            `is ${JSON.stringify(proxyMetadata[DNS_CAPTURE_ENV])} and would turn off ${at}.dnsProxying (istio.values are merged last); ` +
                `remove one of them`,
        );
    }
}

/** Given objects that are also compiled (the same kind, namespace and name) would overwrite each other. */
function checkClashes(v: TrafficCheck): void {
    const { t, at, say, policies, objects } = v;
    // Given objects that are also compiled (the same kind, namespace and name) would overwrite each other.
    const compiled = [
        ...policies
            .filter((x) => x && typeof x.host === "string")
            .map((x) => `DestinationRule/${x.namespace ?? ROOT_NAMESPACE}/${destinationRuleName(x.host)}`),
        ...(Array.isArray(t.dependencies) ? t.dependencies : []).map((d) => `Sidecar/${String(d?.client?.namespace)}/${DEFAULT_SIDECAR}`),
    ];
    objects.forEach((o, i) => {
        if (!isObject(o)) return;
        const meta = isObject(o.metadata) ? o.metadata : {};
        const key = `${String(o.kind)}/${typeof meta.namespace === "string" ? meta.namespace : ROOT_NAMESPACE}/${String(meta.name)}`;
        if (compiled.includes(key)) {
            say(
                `${at}.objects[${i}].metadata.name`,
                `${key.replace(/\//, " ")} is also compiled from ${at}.policies or ${at}.dependencies; keep one of them`,
            );
        }
    });
}

/** Istio's own rules on what compiles: a second line of defence, run only when nothing else was reported. */
function checkCompiled(v: TrafficCheck): void {
    const { t, at, say, named, regionOf, policies, objects, reported } = v;
    // Istio's own rules on what compiles (a second line of defence: the rules above already refuse
    // everything they would catch), and clashes between compiled and given objects.
    if (reported.n > 0) return;
    if (!Array.isArray(t.policies) || !Array.isArray(t.dependencies) || !Array.isArray(t.objects) || !Array.isArray(t.namespaces)) return;
    const plan = compileTraffic(
        t as TrafficConfig,
        named.map((c) => ({ name: c.name, role: c.role === "remote" ? "remote" : "primary", region: regionOf.get(c.name) })),
    );
    plan.objects.forEach((o, k) => {
        const policyIndex = k < policies.length ? k : undefined;
        const where = policyIndex !== undefined ? `${at}.policies[${policyIndex}]` : `${at}`;
        if (o.kind === "DestinationRule" && policyIndex !== undefined) {
            const lb = ((o.spec.trafficPolicy as Record<string, unknown>).loadBalancer as Record<string, unknown>).localityLbSetting;
            for (const e of localityLbProblems(lb as never, true).errors)
                say(where, `Istio would reject the compiled DestinationRule: ${e}`);
        }
        if (o.kind === "Sidecar" && k >= policies.length && k < plan.objects.length - objects.length) {
            const hosts = ((o.spec.egress as { hosts: string[] }[])[0]?.hosts ?? []) as string[];
            for (const h of hosts) {
                const hp = sidecarHostProblem(h);
                if (hp)
                    say(
                        `${at}.dependencies`,
                        `Istio would reject egress host "${h}" of Sidecar ${o.metadata.namespace}/${o.metadata.name}: ${hp}`,
                    );
            }
        }
    });
}
