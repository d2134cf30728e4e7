// The only place stack config is read. `multicluster-mesh:mesh` is parsed with a zod schema and
// then checked as a whole; every problem is reported at once, each with its config path and the
// fix, before any resource is registered.
import * as net from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CaBundle, verifyCaBundle } from "./components/caBundle";
import { Cidr, formatCidr, overlaps, parseCidr } from "./components/cidr";
import { contextServer, isLoopbackUrl, KubeconfigSource, resolveKubeconfig } from "./components/kubeconfig";

export const PROJECT = "multicluster-mesh";
/** Istio's own default chart repository (istio-multicluster.md §1). */
export const ISTIO_REPOSITORY = "https://istio-release.storage.googleapis.com/charts";
/** The Istio release this program is written and tested against. */
export const ISTIO_VERSION = "1.30.3";
/** Network name used when every cluster shares one network and none is named (Istio's docs use `network1`). */
export const DEFAULT_NETWORK = "network1";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

const eastWestGatewaySchema = z.strictObject({
    /** Annotations for the gateway's LoadBalancer Service (e.g. an internal or NLB load balancer). */
    serviceAnnotations: z.record(z.string(), z.string()).default({}),
    /** A fixed load-balancer IP, when the platform supports requesting one. */
    loadBalancerIP: z.string().default(""),
});

const gkeSchema = z.strictObject({
    /** GCP project ID. */
    project: z.string(),
    /** A region (regional cluster, nodes in each zone) or a zone (zonal cluster). */
    location: z.string(),
    /** An existing VPC network name; when absent one VPC per mesh network and project is created. */
    network: z.string().optional(),
    subnetCidr: z.string(),
    podCidr: z.string(),
    serviceCidr: z.string(),
    nodePool: z
        .strictObject({
            machineType: z.string().default("e2-standard-4"),
            /** Nodes per zone (a regional cluster multiplies it by the number of zones). */
            nodesPerZone: z.number().int().default(1),
            autoscaling: z.strictObject({ minNodesPerZone: z.number().int(), maxNodesPerZone: z.number().int() }).optional(),
        })
        .default({ machineType: "e2-standard-4", nodesPerZone: 1 }),
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"], { error: "must be RAPID, REGULAR, STABLE or EXTENDED" }).default("REGULAR"),
    deletionProtection: z.boolean().default(false),
});

const eksSchema = z.strictObject({
    region: z.string(),
    vpcCidr: z.string(),
    /** Explicit availability zones; by default the first `azCount` available ones. */
    availabilityZones: z.array(z.string()).optional(),
    azCount: z.number().int().default(2),
    /** The Kubernetes Service range (EKS picks 10.100.0.0/16 or 172.20.0.0/16 when unset). */
    serviceCidr: z.string().default("172.20.0.0/16"),
    version: z.string().default("1.33"),
    nodeGroup: z
        .strictObject({
            instanceTypes: z.array(z.string()).min(1).default(["m6i.large"]),
            desired: z.number().int().default(2),
            min: z.number().int().default(2),
            max: z.number().int().default(4),
        })
        .default({ instanceTypes: ["m6i.large"], desired: 2, min: 2, max: 4 }),
    endpointPublicAccess: z.boolean().default(true),
    /** Nodes in private subnets behind one NAT gateway (load balancers stay in the public subnets). */
    privateSubnets: z.boolean().default(false),
    /** IAM principals (role or user ARNs) given cluster-admin through EKS access entries. */
    accessEntries: z.array(z.string()).default([]),
});

const kindSchema = z.strictObject({
    podSubnet: z.string().optional(),
    serviceSubnet: z.string().optional(),
    /** The kind node image; pin it to pin the Kubernetes version. */
    nodeImage: z.string().default("kindest/node:v1.33.1"),
});

const clusterSchema = z.strictObject({
    name: z.string(),
    network: z.string().optional(),
    role: z.enum(["primary", "remote"], { error: "must be primary or remote" }).default("primary"),
    primary: z.string().optional(),
    platform: z.enum(["existing", "gke", "eks", "kind"], { error: "must be existing, gke, eks or kind" }).default("existing"),
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    apiServer: z.string().optional(),
    region: z.string().optional(),
    zone: z.string().optional(),
    /** `protect` the cloud cluster so no `up` or `destroy` removes it by accident (production). */
    protect: z.boolean().default(false),
    gke: gkeSchema.optional(),
    eks: eksSchema.optional(),
    kind: kindSchema.optional(),
    eastWestGateway: eastWestGatewaySchema.default({ serviceAnnotations: {}, loadBalancerIP: "" }),
});

const trustSchema = z.strictObject({
    mode: z.enum(["generated", "provided"], { error: "must be generated or provided" }).default("generated"),
    keyAlgorithm: z.enum(["RSA", "ECDSA"], { error: "must be RSA or ECDSA" }).default("RSA"),
    rsaBits: z.number().int().default(4096),
    ecdsaCurve: z.string().default("P256"),
    rootValidityDays: z.number().int().default(3650),
    intermediateValidityDays: z.number().int().default(730),
    /** Organization (O) of the generated certificates; Istio's tooling uses "Istio". */
    organization: z.string().default("Istio"),
    /** `protect` the root key and certificate so no `up` can replace them by accident (security-bar M5). */
    protectRoot: z.boolean().default(true),
    /** Bump to re-issue every intermediate (explicit renewal; istiod hot-reloads a new intermediate). */
    intermediateGeneration: z.number().int().default(1),
});

const meshSchema = z.strictObject({
    meshId: z.string(),
    topology: z.enum(["multi-primary", "primary-remote"], { error: "must be multi-primary or primary-remote" }),
    istio: z
        .strictObject({
            version: z.string().default(ISTIO_VERSION),
            repository: z.string().default(ISTIO_REPOSITORY),
            values: z.record(z.string(), z.unknown()).default({}),
        })
        .default({ version: ISTIO_VERSION, repository: ISTIO_REPOSITORY, values: {} }),
    trust: trustSchema.default(trustSchema.parse({})),
    remoteSecrets: z
        .strictObject({
            /** One reader token per reading cluster (revocable per pair) instead of one per source cluster. */
            tokenPerReader: z.boolean().default(false),
        })
        .default({ tokenPerReader: false }),
    /** Per network: `routable: true` declares that clusters on different clouds or VPCs can reach each other's pods directly (peering, VPN). */
    networks: z.record(z.string(), z.strictObject({ routable: z.boolean().default(false) })).default({}),
    clusters: z.array(clusterSchema).min(1, { error: "list at least one cluster" }),
});

export type ClusterConfig = z.output<typeof clusterSchema> & { network: string };
export type TrustConfig = z.output<typeof trustSchema>;
export type MeshConfig = Omit<z.output<typeof meshSchema>, "clusters"> & { clusters: ClusterConfig[] };

/** Secret inputs of `provided` trust mode, read from their own config keys. */
export interface ProvidedTrust {
    /** `multicluster-mesh:rootCertPem`: the root certificate (public; its key stays offline). */
    rootCertPem?: string;
    /** `multicluster-mesh:caBundles` (secret): per cluster `{caCertPem, caKeyPem, certChainPem}`. */
    caBundles?: Record<string, unknown>;
}

/** What the checks may look at besides the config itself (injected, so tests stay pure). */
export interface ValidationEnv {
    readFile?: (p: string) => string | undefined;
    provided?: ProvidedTrust;
    now?: Date;
}

/** A validated config plus what was resolved while checking it. */
export interface LoadedConfig {
    mesh: MeshConfig;
    /** Per existing cluster: its kubeconfig and the API server peers will use. */
    kubeconfigs: Record<string, KubeconfigSource & { context?: string; apiServer: string }>;
    /** `provided` mode: the root certificate and, per istiod cluster, the checked bundle (caKeyPem is secret). */
    provided?: { rootCertPem: string; bundles: Record<string, CaBundle> };
}

export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(
            `the stack config has ${problems.length} problem${problems.length === 1 ? "" : "s"} (nothing was deployed):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function zodPath(p: PropertyKey[]): string {
    return p.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`), "mesh");
}

function zodMessage(issue: z.core.$ZodIssue): string {
    if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; remove or correct ${issue.keys.length > 1 ? "them" : "it"} (see README, "Config reference")`;
    if (issue.code === "invalid_type" && issue.input === undefined) return `is required`;
    return issue.message;
}

/** Who reads whom: a target cluster's istiod watches a source cluster's API server. */
export function remoteSecretPairs(clusters: { name: string; role: string }[]): { source: string; target: string }[] {
    // Every primary reads every other cluster: the primaries of a multi-primary mesh read each
    // other, and a primary reads the remotes (its own to control them, the others' for endpoint
    // discovery; only the primary named in a remote's `controlPlaneClusters` annotation leads it).
    // Remotes run no istiod and receive nothing.
    const pairs: { source: string; target: string }[] = [];
    for (const target of clusters) {
        if (target.role !== "primary") continue;
        for (const source of clusters) if (source.name !== target.name) pairs.push({ source: source.name, target: target.name });
    }
    return pairs;
}

function isHttpsUrl(u: string): boolean {
    try {
        const url = new URL(u);
        return url.protocol === "https:" && url.hostname !== "";
    } catch {
        return false;
    }
}

function isRepoUrl(u: string): boolean {
    try {
        const url = new URL(u);
        return ["https:", "http:", "oci:"].includes(url.protocol) && url.hostname !== "";
    } catch {
        return false;
    }
}

function getPath(obj: unknown, path: string[]): unknown {
    let cur: unknown = obj;
    for (const k of path) {
        if (!cur || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
}

/**
 * Parse and check `multicluster-mesh:mesh`. Pure apart from reading kubeconfig files through
 * `env.readFile`. Returns every problem, each starting with its config path.
 */
export function validateMeshConfig(raw: unknown, env: ValidationEnv = {}): { ok: true; config: LoadedConfig } | { ok: false; problems: string[] } {
    const problems: string[] = [];
    const say = (path: string, msg: string) => problems.push(`${path}: ${msg}`);
    const parsed = meshSchema.safeParse(raw);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) say(zodPath(issue.path), zodMessage(issue));
    }
    // Keep checking what did parse, so one run shows every problem. `loose` may be partial.
    const loose = (parsed.success ? parsed.data : (raw ?? {})) as Partial<z.output<typeof meshSchema>>;
    const clusters = Array.isArray(loose.clusters) ? loose.clusters.filter((c) => c && typeof c === "object") : [];
    const topology = loose.topology;

    if (typeof loose.meshId === "string" && !DNS1123_LABEL.test(loose.meshId)) {
        say("mesh.meshId", `"${loose.meshId}" is not a DNS-1123 label; use lower-case letters, digits and '-' (at most 63 characters)`);
    }

    // Cluster names: DNS-1123 labels, unique, never istiod's default cluster ID.
    const seen = new Map<string, number>();
    clusters.forEach((c, i) => {
        const name = c.name;
        if (typeof name !== "string") return;
        if (!DNS1123_LABEL.test(name) || name.length > 63) {
            say(`mesh.clusters[${i}].name`, `"${name}" is not a DNS-1123 label; use lower-case letters, digits and '-' (at most 63 characters), as istiod's cluster IDs must be`);
        }
        if (name.toLowerCase() === "kubernetes") {
            say(`mesh.clusters[${i}].name`, `"${name}" is istiod's default cluster ID; remote secrets named after it are ignored, so pick another name`);
        }
        if (seen.has(name)) say(`mesh.clusters[${i}].name`, `"${name}" is used twice (also mesh.clusters[${seen.get(name)}]); cluster names must be unique`);
        else seen.set(name, i);
    });

    // Roles and topology.
    const primaries = clusters.filter((c) => (c.role ?? "primary") === "primary").map((c) => c.name);
    clusters.forEach((c, i) => {
        const role = c.role ?? "primary";
        if (topology === "multi-primary" && role === "remote") {
            say(`mesh.clusters[${i}].role`, `"remote" is not allowed with topology multi-primary; set role: primary, or use topology: primary-remote`);
        }
        if (role === "primary" && c.primary !== undefined) {
            say(`mesh.clusters[${i}].primary`, `only a remote names its primary; remove it, or set role: remote`);
        }
        if (topology === "primary-remote" && role === "remote") {
            if (c.primary !== undefined) {
                const target = clusters.find((o) => o.name === c.primary);
                if (!target) say(`mesh.clusters[${i}].primary`, `"${c.primary}" is not a cluster of this mesh; name one of: ${primaries.join(", ") || "(no primaries)"}`);
                else if ((target.role ?? "primary") !== "primary") say(`mesh.clusters[${i}].primary`, `"${c.primary}" is a remote; a remote must be controlled by a primary (${primaries.join(", ") || "none declared"})`);
            } else if (primaries.length > 1) {
                say(`mesh.clusters[${i}].primary`, `is required when the mesh has several primaries (${primaries.join(", ")}); name the one that controls this remote`);
            }
        }
    });
    if (topology === "primary-remote" && clusters.length > 0) {
        if (primaries.length === 0) say("mesh.clusters", "primary-remote needs at least one cluster with role: primary");
        if (!clusters.some((c) => c.role === "remote")) say("mesh.clusters", "primary-remote needs at least one cluster with role: remote; without remotes use topology: multi-primary");
    }

    // Networks: one shared network may stay unnamed; several must be named everywhere.
    const networks = new Set(clusters.map((c) => c.network).filter((n): n is string => typeof n === "string"));
    clusters.forEach((c, i) => {
        if (typeof c.network === "string" && (!LABEL_VALUE.test(c.network) || c.network.length > 63 || c.network === "")) {
            say(`mesh.clusters[${i}].network`, `"${c.network}" is not a valid label value (it becomes topology.istio.io/network); use letters, digits, '-', '_' or '.' (at most 63 characters)`);
        }
        if (networks.size > 1 && c.network === undefined) {
            say(`mesh.clusters[${i}].network`, `is required: the mesh spans several networks (${[...networks].sort().join(", ")}), so every cluster must name its own`);
        } else if (networks.size === 1 && c.network === undefined) {
            say(`mesh.clusters[${i}].network`, `is required: other clusters name network "${[...networks][0]}"; name the network on every cluster, or on none (then all share "${DEFAULT_NETWORK}")`);
        }
    });

    // Who will read whose API server (decides which addresses must be reachable from elsewhere).
    const named = clusters.filter((c) => typeof c.name === "string").map((c) => ({ name: c.name, role: c.role ?? "primary" }));
    const readBy = new Map<string, string[]>();
    for (const p of remoteSecretPairs(named)) readBy.set(p.source, [...(readBy.get(p.source) ?? []), p.target]);

    // Platforms: existing clusters come through a kubeconfig; gke, eks and kind are created here.
    const kubeconfigs: LoadedConfig["kubeconfigs"] = {};
    const targets = new Map<string, number>();
    clusters.forEach((c, i) => {
        const at = `mesh.clusters[${i}]`;
        const platform = c.platform ?? "existing";
        const readers = typeof c.name === "string" ? readBy.get(c.name) ?? [] : [];
        for (const other of ["gke", "eks", "kind"] as const) {
            if (other !== platform && c[other] !== undefined) say(`${at}.${other}`, `is set but platform is "${platform}"; remove it, or set platform: ${other}`);
        }
        const lbip = c.eastWestGateway?.loadBalancerIP;
        if (typeof lbip === "string" && lbip !== "" && net.isIP(lbip) === 0) {
            say(`${at}.eastWestGateway.loadBalancerIP`, `"${lbip}" is not an IP address; leave it empty to let the platform assign one`);
        }
        if (platform !== "existing") {
            for (const k of ["kubeconfig", "context", "apiServer"] as const) {
                if (c[k] !== undefined) say(`${at}.${k}`, `is only for platform existing; a ${platform} cluster's kubeconfig and API server come from the cluster this program creates`);
            }
            if (platform !== "kind") {
                for (const k of ["region", "zone"] as const) if (c[k] !== undefined) say(`${at}.${k}`, `is derived from ${platform === "gke" ? "gke.location" : "eks.region"} for platform ${platform}; remove it`);
            }
            if (c[platform] === undefined && platform !== "kind") {
                say(`${at}.${platform}`, `is required for platform ${platform} (${platform === "gke" ? "project, location, subnetCidr, podCidr, serviceCidr" : "region, vpcCidr"}; see README, "Config reference")`);
            }
            if (platform === "gke" && c.gke) checkGke(c.gke, `${at}.gke`, say);
            if (platform === "eks" && c.eks) checkEks(c.eks, `${at}.eks`, say);
            if (platform === "kind") checkKind(c.kind ?? {}, `${at}.kind`, say);
            return;
        }
        if (c.apiServer !== undefined && !isHttpsUrl(c.apiServer)) {
            say(`${at}.apiServer`, `"${c.apiServer}" is not an https:// URL; give the address other clusters' istiod use, e.g. https://10.0.0.5:6443`);
        }
        if (typeof c.kubeconfig !== "string" || c.kubeconfig.trim() === "") {
            say(`${at}.kubeconfig`, `is required for platform existing; give a kubeconfig path (e.g. ~/.kube/config) or its content`);
            return;
        }
        const src = resolveKubeconfig(c.kubeconfig, env.readFile);
        let server: string | undefined = c.apiServer;
        if (src.missing) {
            if (c.apiServer === undefined) {
                say(`${at}.kubeconfig`, `file ${src.path} does not exist; fix the path, or set apiServer so the mesh can still be planned offline`);
            }
        } else {
            const found = contextServer(src.content!, c.context);
            if (!found.ok) {
                say(c.context !== undefined && found.problem.includes("context") ? `${at}.context` : `${at}.kubeconfig`, `the kubeconfig ${found.problem}`);
            } else {
                server ??= found.server;
                const key = `${src.path ?? "inline:" + c.kubeconfig}#${found.context}`;
                if (targets.has(key)) say(`${at}.context`, `points at the same kubeconfig context as mesh.clusters[${targets.get(key)}] ("${found.context}"); each cluster needs its own`);
                else targets.set(key, i);
            }
        }
        if (server !== undefined && readers.length > 0 && isLoopbackUrl(server)) {
            const from = c.apiServer !== undefined ? "apiServer" : "the kubeconfig's server";
            say(
                `${at}.apiServer`,
                `${from} ${server} is a loopback address, which istiod in ${readers.join(", ")} cannot reach; set apiServer to an address reachable from those clusters (for kind: https://<control-plane container IP>:6443)`,
            );
        }
        if (server !== undefined && typeof c.name === "string") {
            kubeconfigs[c.name] = { ...src, context: c.context, apiServer: server };
        }
        if (c.region !== undefined && c.zone !== undefined && !c.zone.startsWith(c.region)) {
            say(`${at}.zone`, `"${c.zone}" is not in region "${c.region}"; a zone name starts with its region's name`);
        }
    });
    checkSharedNetworks(clusters, loose.networks ?? {}, loose.meshId, say);

    // Istio chart settings.
    const istio = loose.istio;
    if (istio) {
        if (typeof istio.version === "string" && !SEMVER.test(istio.version)) {
            say("mesh.istio.version", `"${istio.version}" is not a pinned chart version; give an exact version such as "${ISTIO_VERSION}" (ranges would let clusters drift apart)`);
        }
        if (typeof istio.repository === "string" && !isRepoUrl(istio.repository)) {
            say("mesh.istio.repository", `"${istio.repository}" is not a chart repository URL; the default is ${ISTIO_REPOSITORY}`);
        }
        const owned: [string[], string][] = [
            [["global", "meshID"], "set mesh.meshId instead"],
            [["global", "multiCluster", "clusterName"], "it is each cluster's name"],
            [["global", "network"], "set mesh.clusters[].network instead"],
            [["global", "remotePilotAddress"], "it is read from the primary's east-west gateway"],
            [["profile"], "the role decides the profile"],
        ];
        for (const [p, why] of owned) {
            if (getPath(istio.values, p) !== undefined) say(`mesh.istio.values.${p.join(".")}`, `is managed by this program per cluster; remove it (${why})`);
        }
        if (getPath(istio.values, ["pilot", "env"]) !== undefined) {
            say("mesh.istio.values.pilot.env", "the istiod chart never reads pilot.env (it is an IstioOperator path); move these variables to top-level env");
        }
    }

    // Trust.
    const trust = loose.trust;
    let providedBundles: Record<string, CaBundle> | undefined;
    if (trust) {
        const algo = trust.keyAlgorithm ?? "RSA";
        if (algo === "RSA" && typeof trust.rsaBits === "number" && trust.rsaBits < 3072) {
            say("mesh.trust.rsaBits", `${trust.rsaBits} is too small: the root key needs at least 3072 bits (intermediates at least 2048); use 4096 as Istio's tooling does`);
        }
        if (algo === "ECDSA" && typeof trust.ecdsaCurve === "string" && !["P256", "P384"].includes(trust.ecdsaCurve)) {
            say("mesh.trust.ecdsaCurve", `"${trust.ecdsaCurve}" is not allowed; use P256 or P384 (Istio supports only these; never the provider default P224)`);
        }
        for (const k of ["rootValidityDays", "intermediateValidityDays"] as const) {
            if (typeof trust[k] === "number" && trust[k] <= 0) say(`mesh.trust.${k}`, `must be a positive number of days`);
        }
        if (typeof trust.rootValidityDays === "number" && typeof trust.intermediateValidityDays === "number" && trust.intermediateValidityDays >= trust.rootValidityDays) {
            say("mesh.trust.intermediateValidityDays", `${trust.intermediateValidityDays} must be shorter than rootValidityDays (${trust.rootValidityDays}), so an intermediate can be re-issued without touching the root`);
        }
        if (typeof trust.intermediateGeneration === "number" && trust.intermediateGeneration < 1) say("mesh.trust.intermediateGeneration", "must be 1 or more");
        if (typeof trust.organization === "string" && trust.organization.trim() === "") say("mesh.trust.organization", "must not be empty (a CA certificate needs a subject)");

        if (trust.mode === "provided") {
            providedBundles = checkProvided(named, env, say);
        }
    }

    if (problems.length > 0 || !parsed.success) return { ok: false, problems };
    let kindIndex = 0;
    const mesh: MeshConfig = {
        ...parsed.data,
        clusters: parsed.data.clusters.map((c) => {
            const filled: ClusterConfig = { ...c, network: c.network ?? DEFAULT_NETWORK };
            if (c.platform === "kind") filled.kind = { ...kindSubnets(kindIndex++), ...(c.kind ?? { nodeImage: "kindest/node:v1.33.1" }) } as ClusterConfig["kind"];
            return filled;
        }),
    };
    const provided = providedBundles && { rootCertPem: env.provided!.rootCertPem!, bundles: providedBundles };
    return { ok: true, config: { mesh, kubeconfigs, provided } };
}

const GCP_REGION = /^[a-z]+-[a-z]+\d+$/;
const GCP_ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const AWS_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/;

type Say = (path: string, msg: string) => void;

function checkCidr(value: unknown, path: string, say: Say, maxPrefix = 29): Cidr | undefined {
    if (typeof value !== "string") return undefined;
    const c = parseCidr(value);
    if (!c) say(path, `"${value}" is not an IPv4 CIDR (a.b.c.d/n with no host bits set, n ≤ 32)`);
    else if (c.prefix > maxPrefix) say(path, `"${value}" is too small; use /${maxPrefix} or larger`);
    return c;
}

function checkDisjoint(entries: [string, Cidr | undefined][], say: Say): void {
    for (let i = 0; i < entries.length; i++) {
        for (let j = i + 1; j < entries.length; j++) {
            const [pa, a] = entries[i];
            const [pb, b] = entries[j];
            if (a && b && overlaps(a, b)) say(pb, `${formatCidr(b)} overlaps ${pa} (${formatCidr(a)}); give each range its own addresses`);
        }
    }
}

function checkGke(g: Partial<z.output<typeof gkeSchema>>, at: string, say: Say): void {
    if (typeof g.location === "string" && !GCP_REGION.test(g.location) && !GCP_ZONE.test(g.location)) {
        say(`${at}.location`, `"${g.location}" is not a GCP region (us-central1) or zone (us-central1-a)`);
    }
    if (typeof g.project === "string" && !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(g.project)) say(`${at}.project`, `"${g.project}" is not a GCP project ID (6-30 lower-case letters, digits, '-')`);
    checkDisjoint(
        [
            [`${at}.subnetCidr`, checkCidr(g.subnetCidr, `${at}.subnetCidr`, say)],
            [`${at}.podCidr`, checkCidr(g.podCidr, `${at}.podCidr`, say, 21)],
            [`${at}.serviceCidr`, checkCidr(g.serviceCidr, `${at}.serviceCidr`, say, 27)],
        ],
        say,
    );
    const np = g.nodePool;
    if (np) {
        if (np.nodesPerZone !== undefined && np.nodesPerZone < 1) say(`${at}.nodePool.nodesPerZone`, "must be 1 or more (Istio's control plane and gateways need nodes)");
        if (np.autoscaling && np.autoscaling.minNodesPerZone > np.autoscaling.maxNodesPerZone) say(`${at}.nodePool.autoscaling`, "minNodesPerZone is larger than maxNodesPerZone");
    }
}

function checkEks(e: Partial<z.output<typeof eksSchema>>, at: string, say: Say): void {
    if (typeof e.region === "string" && !AWS_REGION.test(e.region)) say(`${at}.region`, `"${e.region}" is not an AWS region (e.g. us-east-1)`);
    for (const [k, az] of (e.availabilityZones ?? []).entries()) {
        if (typeof e.region === "string" && !new RegExp(`^${e.region}[a-z]$`).test(az)) say(`${at}.availabilityZones[${k}]`, `"${az}" is not a zone of region ${e.region} (e.g. ${e.region}a)`);
    }
    const zones = e.availabilityZones?.length ?? e.azCount ?? 2;
    if (zones < 2) say(e.availabilityZones ? `${at}.availabilityZones` : `${at}.azCount`, "EKS needs subnets in at least two availability zones");
    const vpc = checkCidr(e.vpcCidr, `${at}.vpcCidr`, say, 24);
    checkDisjoint([[`${at}.vpcCidr`, vpc], [`${at}.serviceCidr`, checkCidr(e.serviceCidr, `${at}.serviceCidr`, say, 24)]], say);
    if (vpc && vpc.prefix > 20) say(`${at}.vpcCidr`, `/${vpc.prefix} leaves too few addresses for pods (the VPC CNI gives pods VPC addresses); use /20 or larger`);
    const ng = e.nodeGroup;
    if (ng && !(ng.min <= ng.desired && ng.desired <= ng.max && ng.min >= 1)) say(`${at}.nodeGroup`, `needs 1 ≤ min ≤ desired ≤ max (got min ${ng.min}, desired ${ng.desired}, max ${ng.max})`);
    for (const [k, arn] of (e.accessEntries ?? []).entries()) if (!AWS_ARN.test(arn)) say(`${at}.accessEntries[${k}]`, `"${arn}" is not an IAM role or user ARN`);
}

function checkKind(k: Partial<z.output<typeof kindSchema>>, at: string, say: Say): void {
    checkDisjoint([[`${at}.podSubnet`, checkCidr(k.podSubnet, `${at}.podSubnet`, say)], [`${at}.serviceSubnet`, checkCidr(k.serviceSubnet, `${at}.serviceSubnet`, say)]], say);
}

/** Default kind subnets, per kind cluster, as Istio's multicluster CI numbers them (§11). */
export function kindSubnets(index: number): { podSubnet: string; serviceSubnet: string } {
    return { podSubnet: `10.${10 + index * 10}.0.0/16`, serviceSubnet: `10.255.${10 + index * 10}.0/24` };
}

type LooseCluster = Partial<z.output<typeof clusterSchema>>;

/** Where a cluster's pods live, for the shared-network rule: same domain = directly routable. */
function routingDomain(c: LooseCluster, meshId: unknown): string | undefined {
    if (c.platform === "gke" && c.gke) return `GCP VPC ${c.gke.project}/${c.gke.network ?? `${String(meshId)}-${c.network ?? DEFAULT_NETWORK}`}`;
    if (c.platform === "eks") return `the AWS VPC of ${c.name}`;
    if (c.platform === "kind") return "the local kind Docker network";
    return undefined; // existing clusters: the user knows their network
}

function podRanges(c: LooseCluster, kindIndex: number): [string, string | undefined][] {
    if (c.platform === "gke" && c.gke) return [["gke.subnetCidr", c.gke.subnetCidr], ["gke.podCidr", c.gke.podCidr], ["gke.serviceCidr", c.gke.serviceCidr]];
    if (c.platform === "eks" && c.eks) return [["eks.vpcCidr", c.eks.vpcCidr], ["eks.serviceCidr", c.eks.serviceCidr]];
    if (c.platform === "kind") {
        const d = kindSubnets(kindIndex);
        return [["kind.podSubnet", c.kind?.podSubnet ?? d.podSubnet], ["kind.serviceSubnet", c.kind?.serviceSubnet ?? d.serviceSubnet]];
    }
    return [];
}

/**
 * Clusters that share a mesh network must reach each other's pods directly (§3.1): that holds
 * inside one GCP VPC, not across clouds or VPCs unless the user connected them; kind clusters
 * would need node routes this program does not build. Their ranges must not overlap either.
 */
function checkSharedNetworks(clusters: LooseCluster[], networks: Record<string, { routable?: boolean }>, meshId: unknown, say: Say): void {
    const byNetwork = new Map<string, number[]>();
    clusters.forEach((c, i) => {
        const n = typeof c.network === "string" ? c.network : DEFAULT_NETWORK;
        byNetwork.set(n, [...(byNetwork.get(n) ?? []), i]);
    });
    let kindIndex = 0;
    const kindIndexOf = new Map<number, number>();
    clusters.forEach((c, i) => {
        if (c.platform === "kind") kindIndexOf.set(i, kindIndex++);
    });
    for (const [name, members] of byNetwork) {
        if (members.length < 2) continue;
        const routable = networks[name]?.routable === true;
        const kinds = members.filter((i) => clusters[i].platform === "kind");
        if (kinds.length > 1 && !routable) {
            say(`mesh.clusters[${kinds[1]}].network`, `kind clusters ${kinds.map((i) => clusters[i].name).join(", ")} share network "${name}", which needs node routes between them that this program does not build; give each kind cluster its own network`);
        }
        const domains = new Map<string, number>();
        for (const i of members) {
            const d = routingDomain(clusters[i], meshId);
            if (d !== undefined && !domains.has(d)) domains.set(d, i);
        }
        if (domains.size > 1 && !routable) {
            const [first, ...rest] = [...domains.entries()];
            for (const [d, i] of rest) {
                say(
                    `mesh.clusters[${i}].network`,
                    `"${name}" joins ${d} with ${first[0]} (mesh.clusters[${first[1]}]), whose pods it cannot reach directly; give it its own network, or declare mesh.networks.${name}.routable: true once they are connected (VPC peering, VPN)`,
                );
            }
        }
        // Pod and Service ranges of clusters on one network must not overlap (§3.1, security-bar M8).
        const ranges: [string, Cidr | undefined][] = [];
        for (const i of members) {
            for (const [k, v] of podRanges(clusters[i], kindIndexOf.get(i) ?? 0)) {
                const parsed = typeof v === "string" ? parseCidr(v) : undefined;
                if (parsed) ranges.push([`mesh.clusters[${i}].${k}`, parsed]);
            }
        }
        const clusterPath = (p: string) => p.slice(0, p.indexOf("]") + 1);
        for (let a = 0; a < ranges.length; a++) {
            for (let b = a + 1; b < ranges.length; b++) {
                const [pa, ca] = ranges[a];
                const [pb, cb] = ranges[b];
                if (clusterPath(pa) !== clusterPath(pb) && ca && cb && overlaps(ca, cb)) {
                    say(pb, `${formatCidr(cb)} overlaps ${pa} (${formatCidr(ca)}) on the shared network "${name}"; clusters on one network need distinct pod and service ranges`);
                }
            }
        }
    }
}

function checkProvided(clusters: { name: string; role: string }[], env: ValidationEnv, say: (p: string, m: string) => void): Record<string, CaBundle> | undefined {
    const root = env.provided?.rootCertPem;
    const bundles = env.provided?.caBundles;
    const hint = "see README, \"Bring your own CA\"";
    if (typeof root !== "string" || root.trim() === "") {
        say("multicluster-mesh:rootCertPem", `is required with trust.mode provided; set it with \`pulumi config set rootCertPem -- "$(cat root-cert.pem)"\` (${hint})`);
    }
    if (!bundles || typeof bundles !== "object") {
        say("multicluster-mesh:caBundles", `is required with trust.mode provided; set it with \`pulumi config set --secret --path 'caBundles.<cluster>.caKeyPem' ...\` (${hint})`);
        return undefined;
    }
    const out: Record<string, CaBundle> = {};
    const istiodClusters = clusters.filter((c) => c.role === "primary").map((c) => c.name);
    for (const name of Object.keys(bundles)) {
        if (!clusters.some((c) => c.name === name)) say(`multicluster-mesh:caBundles.${name}`, `is not a cluster of this mesh; remove it or fix the name`);
        else if (!istiodClusters.includes(name)) say(`multicluster-mesh:caBundles.${name}`, `is a remote cluster, which runs no istiod and takes no cacerts; remove it`);
    }
    for (const name of istiodClusters) {
        const b = bundles[name] as Partial<CaBundle> | undefined;
        if (!b || typeof b !== "object") {
            say(`multicluster-mesh:caBundles.${name}`, `is missing: every cluster that runs istiod needs caCertPem, caKeyPem and certChainPem (${hint})`);
            continue;
        }
        const missing = (["caCertPem", "caKeyPem", "certChainPem"] as const).filter((k) => typeof b[k] !== "string" || b[k]!.trim() === "");
        if (missing.length) {
            say(`multicluster-mesh:caBundles.${name}`, `lacks ${missing.join(", ")} (${hint})`);
            continue;
        }
        if (typeof root !== "string" || root.trim() === "") continue;
        const bundle: CaBundle = { caCertPem: b.caCertPem!, caKeyPem: b.caKeyPem!, certChainPem: b.certChainPem!, rootCertPem: root };
        // The bundle is checked exactly as istiod will check it, before anything is deployed.
        for (const p of verifyCaBundle(bundle, env.now)) say(`multicluster-mesh:caBundles.${name}`, p);
        out[name] = bundle;
    }
    return out;
}

/** Read and check the stack config. Throws a ConfigError listing every problem. */
export function loadConfig(): LoadedConfig {
    const cfg = new pulumi.Config(PROJECT);
    const raw = cfg.getObject<unknown>("mesh");
    if (raw === undefined) throw new ConfigError([`multicluster-mesh:mesh: is not set; copy Pulumi.dev.yaml as a starting point (see README, "Config reference")`]);
    // Read as plain values only to check them; the key material is re-wrapped as secret where it is used.
    const provided: ProvidedTrust = { rootCertPem: cfg.get("rootCertPem"), caBundles: cfg.getObject<Record<string, unknown>>("caBundles") };
    const result = validateMeshConfig(raw, { provided });
    if (!result.ok) throw new ConfigError(result.problems);
    return result.config;
}
