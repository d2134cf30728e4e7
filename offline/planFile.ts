// plan.json: a stable, sorted, documented description of the mesh a stack would deploy, built from
// what the real program registered under the simulator and what it exported. Two plans of the same
// config are byte-identical, so plan files can be diffed (meshDiff.ts) and committed or cached.
//
// Two kinds of values only exist at deploy, and a plan records them as such instead of inventing a
// difference on every run:
//   - generated certificates: the offline plan makes a new random root and new intermediates on
//     every run, so their fingerprints say "generated at deploy"; what defines them (mode,
//     algorithm, key size or curve, validity, organization, protection, intermediate generation)
//     is recorded and compared instead. A provided root or intermediate is fixed by the config, so
//     its SHA-256 is recorded and compared.
//   - load-balancer addresses: the simulator hands out 203.0.113.x (or *.simulated.example), which
//     the plan records as "assigned at deploy", also where they flow into Helm values (a remote's
//     remotePilotAddress). A fixed `eastWestGateway.loadBalancerIP` is a real address and is kept.
// The JSON Schema of this file is docs/plan.schema.json.
import * as crypto from "node:crypto";
import * as YAML from "yaml";
import {
    CACERTS_KEYS,
    CACERTS_SECRET,
    CLUSTER_ANNOTATION,
    ISTIO_CHART_NAMES,
    ISTIO_NAMESPACE,
    MULTICLUSTER_SECRET_LABEL,
    NETWORK_LABEL,
} from "../components/istio";
import { certPems, type PhaseRecord, TRUST_PHASE_ANNOTATION, type TrustPhase } from "../components/rotation";
import { CHARTS, knownDefects, knownDefectWarnings, minorOf, unsupportedIstio } from "../components/istio";
import { factsLabel, istioFacts } from "../components/istioFacts";
import { describeReleaseChart } from "../components/istioSource";
import type { RevisionRecord } from "../components/upgrade";
import type { Registration } from "../simulator/simulator";
import { PlanResource, planResources } from "./planResources";
import { PlanTraffic, trafficOfCluster } from "./trafficPlan";
import { TYPES } from "../components/pulumiTypes";

// 2: `resources` (every registered resource, for the change plan: offline/changes.ts).
export const PLAN_FORMAT_VERSION = 2;
export const ASSIGNED_AT_DEPLOY = "assigned at deploy";
export const GENERATED_AT_DEPLOY = "generated at deploy";

const RELEASE = TYPES.release;
const SECRET = TYPES.secret;
const NAMESPACE = TYPES.namespace;
const SERVICE = TYPES.service;
const PRIVATE_KEY = TYPES.privateKey;
const CERT_REQUEST = TYPES.certRequest;
const SELF_SIGNED = TYPES.selfSignedCert;
const LOCALLY_SIGNED = TYPES.locallySignedCert;
/** Istio's own Helm charts (other charts, e.g. MetalLB on kind, have versions of their own). */
export const ISTIO_CHARTS = new Set(ISTIO_CHART_NAMES);
const MULTICLUSTER_LABEL = MULTICLUSTER_SECRET_LABEL;
/** Addresses and hostnames only the simulator hands out (RFC 5737 TEST-NET-3 and its fake ELB domain). */
const SIMULATED = /\b203\.0\.113\.\d{1,3}\b|\.simulated\.example\b/;

export const PLAN_COMMENT =
    "Offline plan of a multicluster-mesh stack (npm run plan). Stable and sorted: two plans of the same config are byte-identical. " +
    "Generated certificate fingerprints are recorded as 'generated at deploy' (the trust definition is compared instead); " +
    "simulated load-balancer addresses as 'assigned at deploy'. Schema: docs/plan.schema.json.";

export interface PlanChart {
    chart: string;
    version: string;
    repository: string | null;
    namespace: string;
    /** The exact Helm values, with simulated addresses replaced by a note. */
    values: Record<string, unknown>;
}

export interface PlanGateway {
    /** A fixed address (eastWestGateway.loadBalancerIP), or "assigned at deploy". */
    address: string;
    fixed: boolean;
    /** The `networkGateway` the gateway serves. */
    network: string | null;
    serviceAnnotations: Record<string, string>;
}

export interface PlanCluster {
    name: string;
    role: string;
    primary: string | null;
    network: string;
    /** Every other exported fact (platform, cloud, region, zone, endpoint, …), nulls left out. */
    facts: Record<string, unknown>;
    /** The API server address the clusters that read this one use (from their remote kubeconfigs). */
    apiServer: string | null;
    runsIstiod: boolean;
    namespace: { labels: Record<string, string>; annotations: Record<string, string> };
    /** Helm releases by release name. */
    charts: Record<string, PlanChart>;
    gateway: PlanGateway | null;
    /** Istio objects applied here, as Kind/name. */
    istioObjects: string[];
    /** Traffic policy here: namespaces created, locality policies (DestinationRules), Sidecars (offline/trafficPlan.ts). */
    traffic: PlanTraffic;
    readsFrom: string[];
    readBy: string[];
}

export interface PlanCertDefinition {
    keyAlgorithm: string | null;
    rsaBits: number | null;
    ecdsaCurve: string | null;
    validityDays: number | null;
    organization: string | null;
}

export interface PlanTrust {
    mode: "generated" | "provided";
    root: PlanCertDefinition & {
        /** Generated roots: `protect`ed against replacement. Null for a provided root (not a resource). */
        protect: boolean | null;
        /** SHA-256 of the root's DER for a provided root; "generated at deploy" otherwise. */
        sha256: string;
    };
    /** One per cluster that runs istiod. */
    intermediates: Record<string, PlanCertDefinition & { generation: number | null; sha256: string }>;
    /**
     * The root-rotation phase and the roots every root-cert.pem holds (docs/root-rotation.md), so the
     * next plan can refuse a skipped phase or a direct root swap. Absent in plans written before it.
     */
    rotation?: PhaseRecord;
}

export interface PlanRemoteSecret {
    /** The cluster whose API server is read. */
    source: string;
    /** The cluster whose istiod reads it (the Secret lives here). */
    target: string;
    secretName: string;
    /** The API server URL in the remote kubeconfig (public; the token is never recorded). */
    server: string | null;
}

export interface PlanFile {
    $comment: string;
    formatVersion: number;
    stack: string;
    meshId: string;
    topology: string;
    networks: string[];
    /** Distinct Istio chart versions across all clusters (one, unless something is wrong). */
    istioVersions: string[];
    /** Where Istio's charts and images come from, the facts the checks read, and the pinned versions' known defects. Absent in older plans. */
    istio?: PlanIstio;
    trust: PlanTrust;
    clusters: PlanCluster[];
    remoteSecrets: PlanRemoteSecret[];
    /** Every registered resource, sorted by key (offline/planResources.ts). Absent in format 1 (0.1.x). */
    resources: PlanResource[];
}

export interface PlanIstio {
    /** Distinct chart sources of Istio's releases: a Helm repository URL, an oci:// reference or a local folder. */
    chartSources: string[];
    /** Distinct image hubs the istiod releases name (`hub`, `global.hub`). */
    hubs: string[];
    /** Distinct image pull secrets. */
    imagePullSecrets: string[];
    /** Per version: the istio/istio tag its minor's facts come from (components/data/istio/<minor>/source.json). */
    factsTags: Record<string, string>;
    /** Known multicluster defects of the pinned versions (components/istio.ts KNOWN_DEFECTS), each with its fix. */
    knownDefects: { version: string; issue: string; scope: string; breaks: string; fixedIn: string; sources: string[] }[];
    /** The running revision and the upgrade phase (components/upgrade.ts), for the next plan to refuse a skipped phase. Absent in older plans. */
    revisions?: RevisionRecord;
}

export interface PlanInputs {
    stack: string;
    /** Resolved stack outputs of the run. */
    outputs: Record<string, unknown>;
    registrations: Registration[];
}

type ClusterFact = { network: string; role: string; primary?: string | null } & Record<string, unknown>;

function byName<T extends { name: string }>(a: T, b: T): number {
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Replace every occurrence of `from` in every string of `v`. */
function replaceStrings(v: unknown, from: string, to: string): unknown {
    if (typeof v === "string") return v.split(from).join(to);
    if (Array.isArray(v)) return v.map((x) => replaceStrings(x, from, to));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceStrings(x, from, to)]));
    return v;
}

/** A fact that only the simulator produced (an address from the documentation range) is assigned at deploy. */
function deployTimeFact(v: unknown): unknown {
    if (typeof v === "string") return SIMULATED.test(v) ? ASSIGNED_AT_DEPLOY : v;
    if (Array.isArray(v)) return v.map(deployTimeFact);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deployTimeFact(x)]));
    return v;
}

export function isSimulatedAddress(address: string): boolean {
    return SIMULATED.test(address);
}

/** SHA-256 of a certificate's DER, lower-case hex (the same form as the `rootCertSha256` output). */
export function pemSha256(pem: string): string | null {
    try {
        return new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
    } catch {
        return null;
    }
}

/** The mesh cluster a resource went to: the simulator reads it from its provider's clusterIdentifier. */
function clusterOfProvider(r: Registration, clusters: string[]): string | undefined {
    return clusters.includes(r.cluster) ? r.cluster : undefined;
}

function certDefinition(
    key: Registration | undefined,
    cert: Registration | undefined,
    subject: Record<string, any> | undefined,
): PlanCertDefinition {
    const algorithm: string | null = key?.inputs.algorithm ?? null;
    const hours: number | undefined = cert?.inputs.validityPeriodHours;
    return {
        keyAlgorithm: algorithm,
        rsaBits: algorithm === "RSA" ? (key?.inputs.rsaBits ?? null) : null,
        ecdsaCurve: algorithm === "ECDSA" ? (key?.inputs.ecdsaCurve ?? null) : null,
        validityDays: typeof hours === "number" ? hours / 24 : null,
        organization: subject?.organization ?? null,
    };
}

/**
 * The phase (from the cacerts annotation) and the identity of each root in root-cert.pem: a provided
 * root's SHA-256; for a generated root (new on every offline run) its generation and definition.
 */
function rotationOf(inputs: PlanInputs): PhaseRecord | undefined {
    const regs = inputs.registrations;
    const cacerts = regs.filter((r) => r.type === SECRET && r.inputs.metadata?.name === CACERTS_SECRET);
    const first = cacerts[0];
    const rootsPem = first?.inputs.stringData?.[CACERTS_KEYS.rootCert];
    const caPem = first?.inputs.stringData?.[CACERTS_KEYS.caCert];
    if (!first || typeof rootsPem !== "string" || typeof caPem !== "string") return undefined;
    const generated = regs.filter((r) => r.type === SELF_SIGNED);
    const identity = (pem: string): string => {
        const der = pemSha256(pem) ?? "unknown";
        const reg = generated.find((g) => typeof g.state.certPem === "string" && pemSha256(g.state.certPem) === der);
        if (!reg) return der;
        const gen = /-root-r(\d+)-cert$/.exec(reg.name);
        const key = regs.find((r) => r.type === PRIVATE_KEY && r.name === reg.name.replace(/-cert$/, "-key"));
        const d = certDefinition(key, reg, reg.inputs.subject);
        const alg = d.keyAlgorithm === "RSA" ? `RSA-${d.rsaBits}` : `${d.keyAlgorithm}-${d.ecdsaCurve}`;
        return `generated root g${gen ? gen[1] : 1} (${alg}, O=${d.organization}, ${d.validityDays} d)`;
    };
    const roots = certPems(rootsPem);
    let signer = "unknown";
    try {
        const ca = new crypto.X509Certificate(caPem);
        const r = roots.find((p) => ca.checkIssued(new crypto.X509Certificate(p)) && ca.verify(new crypto.X509Certificate(p).publicKey));
        if (r) signer = identity(r);
    } catch {
        // An unparsable bundle was refused by the program before any plan was written.
    }
    const phase = String(first.inputs.metadata?.annotations?.[TRUST_PHASE_ANNOTATION] ?? "none") as TrustPhase;
    return { phase, roots: roots.map(identity), signer };
}

function trustOf(inputs: PlanInputs, clusters: string[]): PlanTrust {
    const rotation = rotationOf(inputs);
    const t = trustDefinitionOf(inputs, clusters);
    return rotation ? { ...t, rotation } : t;
}

function trustDefinitionOf(inputs: PlanInputs, clusters: string[]): PlanTrust {
    const regs = inputs.registrations;
    const byUrn = new Map(regs.filter((r) => r.urn).map((r) => [r.urn, r]));
    const depsOf = (r: Registration, type: string) =>
        r.dependencies.map((u) => byUrn.get(u)).filter((d): d is Registration => d?.type === type);
    const root = regs.find((r) => r.type === SELF_SIGNED);
    if (!root) {
        // Provided mode: the root and each intermediate come from config and are fixed; their hashes are facts.
        const intermediates: PlanTrust["intermediates"] = {};
        for (const s of regs.filter((r) => r.type === SECRET && r.inputs.metadata?.name === CACERTS_SECRET)) {
            const cluster = clusterOfProvider(s, clusters);
            const pem = s.inputs.stringData?.[CACERTS_KEYS.caCert];
            if (!cluster || typeof pem !== "string") continue;
            const subject = subjectOf(pem);
            intermediates[cluster] = {
                keyAlgorithm: null,
                rsaBits: null,
                ecdsaCurve: null,
                validityDays: null,
                organization: subject,
                generation: null,
                sha256: pemSha256(pem) ?? "unknown",
            };
        }
        const rootPem = inputs.outputs.rootCertPem;
        return {
            mode: "provided",
            root: {
                keyAlgorithm: null,
                rsaBits: null,
                ecdsaCurve: null,
                validityDays: null,
                organization: typeof rootPem === "string" ? subjectOf(rootPem) : null,
                protect: null,
                sha256: String(inputs.outputs.rootCertSha256 ?? (typeof rootPem === "string" ? pemSha256(rootPem) : "unknown")),
            },
            intermediates,
        };
    }
    const rootKey = depsOf(root, PRIVATE_KEY)[0] ?? regs.find((r) => r.type === PRIVATE_KEY && r.name.endsWith("-root-key"));
    const intermediates: PlanTrust["intermediates"] = {};
    for (const cert of regs.filter((r) => r.type === LOCALLY_SIGNED)) {
        const csr =
            depsOf(cert, CERT_REQUEST)[0] ?? regs.find((r) => r.type === CERT_REQUEST && r.name === cert.name.replace(/-cert$/, "-csr"));
        const key =
            (csr && depsOf(csr, PRIVATE_KEY)[0]) ??
            regs.find((r) => r.type === PRIVATE_KEY && r.name === cert.name.replace(/-cert$/, "-key"));
        const cluster: string | undefined = csr?.inputs.subject?.locality;
        if (!cluster) continue;
        // Renewal is explicit: trust.intermediateGeneration > 1 names the resources `<cluster>-g<N>-…`.
        const gen = /-g(\d+)-intermediate-cert$/.exec(cert.name);
        intermediates[cluster] = {
            ...certDefinition(key, cert, csr?.inputs.subject),
            generation: gen ? Number(gen[1]) : 1,
            sha256: GENERATED_AT_DEPLOY,
        };
    }
    return {
        mode: "generated",
        root: { ...certDefinition(rootKey, root, root.inputs.subject), protect: root.protect, sha256: GENERATED_AT_DEPLOY },
        intermediates,
    };
}

/** "O=Istio, CN=Root CA" style subject of a PEM certificate, or null. */
function subjectOf(pem: string): string | null {
    try {
        return new crypto.X509Certificate(pem).subject.split("\n").join(", ");
    } catch {
        return null;
    }
}

function serverOf(kubeconfig: unknown): string | null {
    if (typeof kubeconfig !== "string") return null;
    try {
        const doc = YAML.parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] };
        return doc?.clusters?.[0]?.cluster?.server ?? null;
    } catch {
        return null;
    }
}

/** Build the plan file from one run. Pure: the same run facts give the same object. */
export function buildPlanFile(inputs: PlanInputs): PlanFile {
    const { outputs, registrations: regs } = inputs;
    const facts = (outputs.clusters ?? {}) as Record<string, ClusterFact>;
    const names = Object.keys(facts).sort();
    const addresses = (outputs.gatewayAddresses ?? {}) as Record<string, string>;

    const remoteSecrets: PlanRemoteSecret[] = [];
    for (const s of regs.filter((r) => r.type === SECRET && r.inputs.metadata?.labels?.[MULTICLUSTER_LABEL] === "true")) {
        const target = clusterOfProvider(s, names);
        const source: string | undefined = s.inputs.metadata?.annotations?.[CLUSTER_ANNOTATION];
        if (!target || !source) continue;
        remoteSecrets.push({ source, target, secretName: s.inputs.metadata.name, server: serverOf(s.inputs.stringData?.[source]) });
    }
    remoteSecrets.sort((a, b) => (a.target + "\0" + a.source < b.target + "\0" + b.source ? -1 : 1));

    // Simulated gateway addresses, to be replaced wherever they appear (values of remotes, facts).
    const gateways: Record<string, PlanGateway> = {};
    const substitutions: [string, string][] = [];
    for (const name of names) {
        const release = regs.find(
            (r) => r.type === RELEASE && clusterOfProvider(r, names) === name && r.inputs.values?.networkGateway !== undefined,
        );
        // The gateway's LoadBalancer Service (made by the program before istiod; the chart's is off).
        const service = regs.find(
            (r) =>
                r.type === SERVICE &&
                !r.read &&
                clusterOfProvider(r, names) === name &&
                r.inputs.spec?.type === "LoadBalancer" &&
                r.inputs.metadata?.labels?.[NETWORK_LABEL] !== undefined,
        );
        const address = addresses[name];
        if (!release && address === undefined) continue;
        const requested: string = service?.inputs.spec?.loadBalancerIP ?? "";
        const fixed = requested !== "" && (address === undefined || address === requested);
        if (!fixed && address) substitutions.push([address, `<${name} east-west gateway address, ${ASSIGNED_AT_DEPLOY}>`]);
        gateways[name] = {
            address: fixed ? requested : ASSIGNED_AT_DEPLOY,
            fixed,
            network: release?.inputs.values?.networkGateway ?? null,
            serviceAnnotations: { ...(service?.inputs.metadata?.annotations ?? {}) },
        };
    }
    // A cluster the program creates (gke, eks, kind: anything but `existing`) gets its API server
    // address from the cloud at deploy; the simulator's stand-in is not a fact of the plan.
    for (const name of names) {
        const platform = facts[name].platform;
        if (platform === undefined || platform === null || platform === "existing") continue;
        const seen = new Set<string>();
        for (const s of remoteSecrets) if (s.source === name && s.server) seen.add(s.server);
        if (typeof facts[name].endpoint === "string") seen.add(facts[name].endpoint as string);
        for (const v of seen) substitutions.push([v, ASSIGNED_AT_DEPLOY]);
    }
    // A generated root is new on every offline run; where its PEM flows into values (the remotes'
    // validationCABundle), the plan records that it is generated at deploy.
    const rootPem = outputs.rootCertPem;
    if (typeof rootPem === "string" && regs.some((r) => r.type === SELF_SIGNED)) {
        substitutions.push([Buffer.from(rootPem, "utf8").toString("base64"), `<root certificate (base64), ${GENERATED_AT_DEPLOY}>`]);
        substitutions.push([rootPem, `<root certificate, ${GENERATED_AT_DEPLOY}>`]);
    }
    const scrub = <T>(v: T): T => substitutions.reduce<unknown>((acc, [from, to]) => replaceStrings(acc, from, to), v) as T;
    for (const s of remoteSecrets) s.server = scrub(s.server);

    const trust = trustOf(inputs, names);
    const clusters: PlanCluster[] = names.map((name) => {
        const f = facts[name];
        const mine = regs.filter((r) => clusterOfProvider(r, names) === name && !r.read);
        const charts: Record<string, PlanChart> = {};
        for (const r of mine.filter((x) => x.type === RELEASE)) {
            // An OCI or local chart is named by its full reference (components/istioSource.ts releaseChart).
            const ref = describeReleaseChart(r.inputs);
            charts[r.inputs.name] = {
                chart: ref.name,
                version: r.inputs.version,
                repository: ref.source,
                namespace: r.inputs.namespace,
                values: scrub(r.inputs.values ?? {}),
            };
        }
        // istio-system's (the traffic block may add application namespaces).
        const ns =
            mine.find((r) => r.type === NAMESPACE && r.inputs.metadata?.name === ISTIO_NAMESPACE) ?? mine.find((r) => r.type === NAMESPACE);
        const { network, role, primary, ...rest } = f;
        const otherFacts = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined));
        return {
            name,
            role,
            primary: primary ?? null,
            network,
            facts: scrub(deployTimeFact(otherFacts) as Record<string, unknown>),
            apiServer: remoteSecrets.find((s) => s.source === name)?.server ?? null,
            runsIstiod: name in trust.intermediates || mine.some((r) => r.type === SECRET && r.inputs.metadata?.name === CACERTS_SECRET),
            namespace: { labels: { ...(ns?.inputs.metadata?.labels ?? {}) }, annotations: { ...(ns?.inputs.metadata?.annotations ?? {}) } },
            charts,
            gateway: gateways[name] ?? null,
            istioObjects: mine
                .filter((r) => r.type.startsWith("kubernetes:networking.istio.io/") || r.type.startsWith("kubernetes:security.istio.io/"))
                .map((r) => `${r.inputs.kind}/${r.inputs.metadata?.name}`)
                .sort(),
            traffic: trafficOfCluster(mine),
            readsFrom: remoteSecrets
                .filter((s) => s.target === name)
                .map((s) => s.source)
                .sort(),
            readBy: remoteSecrets
                .filter((s) => s.source === name)
                .map((s) => s.target)
                .sort(),
        };
    });
    clusters.sort(byName);

    return {
        $comment: PLAN_COMMENT,
        formatVersion: PLAN_FORMAT_VERSION,
        stack: inputs.stack,
        meshId: String(outputs.meshId),
        topology: String(outputs.topology),
        networks: [...new Set(clusters.map((c) => c.network))].sort(),
        istioVersions: [
            ...new Set(
                clusters.flatMap((c) =>
                    Object.values(c.charts)
                        .filter((ch) => ISTIO_CHARTS.has(ch.chart))
                        .map((ch) => ch.version),
                ),
            ),
        ].sort(),
        istio: istioOf(clusters, outputs.istioRevisions as RevisionRecord | undefined),
        trust,
        clusters,
        remoteSecrets,
        resources: planResources(regs),
    };
}

/** The plan's Istio block: sources, hubs, the facts' tags and the known defects of the pinned versions. */
function istioOf(clusters: PlanCluster[], revisions: RevisionRecord | undefined): PlanIstio {
    const charts = clusters.flatMap((c) => Object.values(c.charts)).filter((ch) => ISTIO_CHARTS.has(ch.chart));
    const istiods = charts.filter((ch) => ch.chart === CHARTS.istiod.chart);
    const uniq = (xs: (string | null | undefined)[]) => [...new Set(xs.filter((x): x is string => typeof x === "string"))].sort();
    const global = (v: Record<string, unknown>) => (v.global ?? {}) as { hub?: string; imagePullSecrets?: string[] };
    const versions = uniq(charts.map((ch) => ch.version));
    return {
        chartSources: uniq(charts.map((ch) => ch.repository)),
        hubs: uniq(istiods.flatMap((ch) => [ch.values.hub as string | undefined, global(ch.values).hub])),
        imagePullSecrets: uniq(istiods.flatMap((ch) => global(ch.values).imagePullSecrets ?? [])),
        factsTags: Object.fromEntries(versions.filter((v) => unsupportedIstio(v) === undefined).map((v) => [v, istioFacts(v).source.tag])),
        knownDefects: versions.flatMap((v) =>
            knownDefects(v).map((d) => ({
                version: v,
                issue: d.issue,
                scope: d.scope,
                breaks: d.breaks,
                fixedIn: d.fixedIn[minorOf(v) as keyof typeof d.fixedIn]!,
                sources: [...d.sources],
            })),
        ),
        ...(revisions ? { revisions } : {}),
    };
}

/** The plan's lines about the pinned Istio: where the facts come from, and each known defect with its fix (components/istio.ts). */
export function istioPlanLines(plan: PlanFile): string[] {
    const lines: string[] = [];
    for (const v of plan.istioVersions) {
        if (unsupportedIstio(v) !== undefined) continue;
        // During an upgrade two versions may come from two sources: each version's own.
        const own = [
            ...new Set(
                plan.clusters
                    .flatMap((c) => Object.values(c.charts))
                    .filter((ch) => ISTIO_CHARTS.has(ch.chart) && ch.version === v)
                    .map((ch) => ch.repository),
            ),
        ].sort();
        const sources = own.length ? own : (plan.istio?.chartSources ?? []);
        lines.push(
            `istio ${v}: charts from ${sources.join(", ") || "?"}, images from ${plan.istio?.hubs.join(", ") || "?"}; checked against ${factsLabel(v)}`,
        );
        for (const w of knownDefectWarnings(v)) lines.push(`WARNING: ${w}`);
    }
    return lines;
}

/** JSON with object keys sorted at every level, two-space indent, final newline. */
export function stableStringify(v: unknown): string {
    const sort = (x: unknown): unknown => {
        if (Array.isArray(x)) return x.map(sort);
        if (x && typeof x === "object") {
            return Object.fromEntries(
                Object.keys(x)
                    .sort()
                    .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
            );
        }
        return x;
    };
    return `${JSON.stringify(sort(v), null, 2)}\n`;
}

/** Parse a plan file, refusing anything that is not one (one line of error each). */
export function parsePlanFile(text: string, where: string): PlanFile {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        // JSON.parse's message quotes the text it choked on: an --against pointed at another file
        // (a key, /etc/passwd) must not print it. Only where, never what (so no `cause` either).
        const pos = /\bposition (\d+)/.exec((e as Error).message)?.[1];
        // eslint-disable-next-line preserve-caught-error -- the cause quotes the file's bytes
        throw new Error(`${where} is not JSON${pos ? ` (syntax error at byte ${pos})` : ""}; pass the plan.json that npm run plan wrote`);
    }
    const p = doc as Partial<PlanFile>;
    if (!p || typeof p !== "object" || !Array.isArray(p.clusters) || !p.trust || !Array.isArray(p.remoteSecrets)) {
        throw new Error(`${where} is not a plan file (no clusters, trust or remoteSecrets); pass the plan.json that npm run plan wrote`);
    }
    // Format 1 (0.1.x) is format 2 without `resources`: the mesh diff reads it, the change plan cannot (offline/offlinePlan.ts says so).
    if (p.formatVersion === 1) {
        const { resources: _none, ...rest } = p;
        void _none;
        return rest as PlanFile;
    }
    if (p.formatVersion !== PLAN_FORMAT_VERSION) {
        throw new Error(
            `${where} has plan format ${String(p.formatVersion)}, this plan reads formats 1 and ${PLAN_FORMAT_VERSION}; ` +
                "plan the old config with this version for a comparable baseline " +
                "(git stash && npm run plan -- --stack <stack> --out /tmp/base && git stash pop)",
        );
    }
    if (!Array.isArray(p.resources))
        throw new Error(`${where} has plan format ${PLAN_FORMAT_VERSION} but no resources; pass the plan.json that npm run plan wrote`);
    return p as PlanFile;
}
