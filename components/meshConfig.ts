// The mesh config: its zod schema and the whole-config checks. Stack config (config.ts) and the
// library's `Mesh` args (mesh.ts) both go through `validateMeshConfig`, so they get the same
// messages. Every problem is reported at once, each with its path and the fix, before any
// resource is registered. Platform-specific rules live with their platform (platforms/<name>/).
import * as net from "node:net";
import { RunError } from "@pulumi/pulumi/errors";
import { z } from "zod";
import * as crypto from "node:crypto";
import { CaBundle, pemBlocks, verifyCaBundle } from "./caBundle";
import { ROTATION_PHASES, ROTATION_PROCEDURE, TrustPhase } from "./rotation";
import { Cidr, formatCidr, overlaps, parseCidr } from "./cidr";
import { PARSE_OPTIONS, issueMessages } from "./configMessages";
import { placeGateways } from "./gatewayPlacement";
import { CACERTS_KEYS, ISTIO_REPOSITORY, ISTIO_VERSION, remoteSecretPairs } from "./istio";
import { istioObjectProblems } from "./istioCrdSchemas";
import { checkIstioSource, factsVersion, ISTIO_SOURCE_OWNED_VALUES, istioSchema } from "./istioSource";
import { checkMeshHardening } from "./meshChecks";
import { checkMeshExtras } from "./configChecks";
import { UPGRADE_OWNED_VALUES } from "./upgrade";
import { checkIstioRevisions } from "./upgradeChecks";
import type { KubeconfigSource } from "./kubeconfig";
import { PLATFORM_NAMES, PLATFORMS, platformIndexes, platformOf } from "./platforms/registry";
import { isUndecryptedSecret } from "./secretPlaceholder";
import type { CheckContext, LooseCluster } from "./platforms/types";
import { trafficSchema, TRAFFIC_DEFAULT } from "./traffic/schema";
import { validateTraffic } from "./traffic/validate";

export { ISTIO_REPOSITORY, ISTIO_VERSION, remoteSecretPairs };
/** Network name used when every cluster shares one network and none is named (Istio's docs use `network1`). */
export const DEFAULT_NETWORK = "network1";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const eastWestGatewaySchema = z.strictObject({
    /** Annotations for the gateway's LoadBalancer Service (e.g. an internal or NLB load balancer). */
    serviceAnnotations: z.record(z.string(), z.string()).default({}),
    /** A fixed load-balancer IP, when the platform supports requesting one. */
    loadBalancerIP: z.string().default(""),
    /** auto (default): only where a network or istiod needs it (components/gatewayPlacement.ts); true forces one; false refuses one. */
    enabled: z.literal(["auto", true, false], { error: "must be auto, true or false" }).default("auto"),
});
/** Helm values for the istiod chart: mesh-wide (`istio.values`) or one cluster's (`clusters[].istio.values`, merged after). */
const istioValuesSchema = z.record(z.string(), z.unknown());

const clusterSchema = z.strictObject({
    name: z.string(),
    network: z.string().optional(),
    role: z.enum(["primary", "remote"], { error: "must be primary or remote" }).default("primary"),
    primary: z.string().optional(),
    platform: z
        .enum(PLATFORM_NAMES, {
            error: `must be ${PLATFORM_NAMES.slice(0, -1).join(", ")} or ${PLATFORM_NAMES[PLATFORM_NAMES.length - 1]}`,
        })
        .default("existing"),
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    apiServer: z.string().optional(),
    region: z.string().optional(),
    zone: z.string().optional(),
    /** `protect` the cloud cluster so no `up` or `destroy` removes it by accident (production). */
    protect: z.boolean().default(false),
    /**
     * For destroying a mesh whose cluster is already gone: the Kubernetes provider then drops that
     * cluster's objects from state instead of failing on an unreachable API server
     * (https://www.pulumi.com/registry/packages/kubernetes/api-docs/provider/#deleteunreachable_nodejs).
     * Leave it off otherwise: a cluster that is only briefly unreachable would lose its state too.
     */
    deleteUnreachable: z.boolean().default(false),
    /**
     * Pins this cluster's provider identity (the instance part of its clusterIdentifier,
     * components/platforms/provider.ts) instead of deriving it from the cluster. Set it to the current
     * value before an operation that changes the derived one without replacing the cluster (a GKE
     * credential or control-plane IP rotation changes its CA and endpoint), so the provider and
     * every object in the cluster stay; change it to force their replacement.
     */
    identity: z.string().min(1).optional(),
    // Each platform's own block (`gke:`, `eks:`, `kind:`), from the registry.
    ...Object.fromEntries(PLATFORMS.filter((p) => p.block).map((p) => [p.name, p.block!.optional()])),
    eastWestGateway: eastWestGatewaySchema.default({ serviceAnnotations: {}, loadBalancerIP: "", enabled: "auto" }),
    /** This cluster's istiod values, merged after the mesh-level `istio.values` (same owned-key rules). */
    istio: z.strictObject({ values: istioValuesSchema.default({}) }).optional(),
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
    /** `protect` the root key and certificate so no `up` can replace them by accident (docs/istio-notes.md, "Security rules"). */
    protectRoot: z.boolean().default(true),
    /** Bump to re-issue every intermediate (explicit renewal; istiod hot-reloads a new intermediate). */
    intermediateGeneration: z.number().int().default(1),
    /**
     * Re-issue each intermediate this many days before it expires (the tls provider's
     * earlyRenewalHours): the first `up` inside the window replaces it under the same root. Default: a
     * third of intermediateValidityDays (243 of 730), so a monthly `up` has months of margin.
     */
    intermediateRenewBeforeDays: z.number().int().optional(),
    /** Generated mode: which generation of root is in use; it names the root's tls resources. Changed only by finishing a rotation. */
    rootGeneration: z.number().int().default(1),
    /** A staged root rotation in progress (docs/root-rotation.md): one phase per `up`. */
    rotation: z
        .strictObject({
            phase: z.enum(ROTATION_PHASES, { error: `must be one of ${ROTATION_PHASES.join(", ")}` }),
            /** Generated mode: the new root's generation (default rootGeneration + 1). */
            newRootGeneration: z.number().int().optional(),
        })
        .optional(),
});

export const meshSchema = z.strictObject({
    meshId: z.string(),
    /** What the stack is for, said once; `production` turns on the policy pack's production rules (policy/policies.ts, isProductionStack). */
    environment: z
        .enum(["production", "staging", "development", "test"], { error: "must be production, staging, development or test" })
        .optional(),
    topology: z.enum(["multi-primary", "primary-remote"], { error: "must be multi-primary or primary-remote" }),
    /** Version, chart source, image hub and values (components/istioSource.ts, docs/istio-sources.md). */
    istio: istioSchema,
    trust: trustSchema.default(trustSchema.parse({})),
    remoteSecrets: z
        .strictObject({
            /**
             * `perReader` (default): one reader token per (source, reading cluster) pair, so deleting one
             * revokes exactly that pair. `perSource`: one token per source cluster shared by every reader,
             * as istioctl does (fewer Secrets, for very large meshes). docs/reader-rbac.md.
             */
            tokens: z.enum(["perReader", "perSource"], { error: "must be perReader or perSource" }).optional(),
            /** Older spelling: true = perReader, false = perSource. */
            tokenPerReader: z.boolean().optional(),
        })
        .default({})
        .transform((r) => ({ tokens: r.tokens ?? (r.tokenPerReader === false ? ("perSource" as const) : ("perReader" as const)) })),
    /** Per network: `routable: true` declares that clusters on different clouds or VPCs can reach each other's pods directly (peering, VPN). */
    networks: z.record(z.string(), z.strictObject({ routable: z.boolean().default(false) })).default({}),
    clusters: z.array(clusterSchema).min(1, { error: "list at least one cluster" }),
    /** Traffic policy compiled to plain Istio objects in every config cluster (components/traffic/, docs/traffic.md). */
    traffic: trafficSchema.default(TRAFFIC_DEFAULT),
    /**
     * The post-deploy check (docs/check.md). `gate: true`: `pulumi up` runs tier 1 once every object
     * exists and fails with the check's report when a check still fails after `timeoutSeconds`.
     */
    check: z
        .strictObject({
            gate: z.boolean().default(false),
            timeoutSeconds: z
                .number()
                .int()
                .min(10, { error: "must be at least 10 (seconds)" })
                .max(3600, { error: "must be at most 3600 (an hour)" })
                .default(300),
        })
        .default({ gate: false, timeoutSeconds: 300 }),
});

/** A cluster entry after validation; its platform's block (`gke:`, `eks:`, `kind:`) is typed by the platform's own code. */
export type ClusterConfig = z.output<typeof clusterSchema> & {
    network: string;
    [block: string]: unknown;
};
export type TrustConfig = z.output<typeof trustSchema>;
export type MeshConfig = Omit<z.output<typeof meshSchema>, "clusters"> & { clusters: ClusterConfig[] };

/** Secret inputs of `provided` trust mode, read from their own config keys. */
export interface ProvidedTrust {
    /** `multicluster-mesh:rootCertPem`: the root certificate (public; its key stays offline). */
    rootCertPem?: string;
    /** `multicluster-mesh:caBundles` (secret): per cluster `{caCertPem, caKeyPem, certChainPem}`. */
    caBundles?: Record<string, unknown>;
    /** `multicluster-mesh:newRootCertPem`: during a rotation (add-root and later), the new root. */
    newRootCertPem?: string;
    /** `multicluster-mesh:newCaBundles` (secret): during a rotation (switch-intermediates and later), bundles signed by the new root. */
    newCaBundles?: Record<string, unknown>;
}

/** What the checks may look at besides the config itself (injected, so tests stay pure). */
export interface ValidationEnv {
    /** The clusters come built, each with its provider (the library's `Mesh` args): skip the platform checks. */
    clustersBuilt?: boolean;
    readFile?: (p: string) => string | undefined;
    provided?: ProvidedTrust;
    now?: Date;
    /** Library use: each cluster's own args, for the checks of its apiServer and provider (components/configChecks.ts). */
    builtClusters?: { apiServer?: unknown; provider?: unknown }[];
}

/** A validated config plus what was resolved while checking it. */
export interface LoadedConfig {
    mesh: MeshConfig;
    /** Per existing cluster: its kubeconfig and the API server peers will use. */
    kubeconfigs: Record<string, KubeconfigSource & { context?: string; apiServer: string }>;
    /** `provided` mode: the root certificate and, per istiod cluster, the checked bundle (caKeyPem is secret). */
    provided?: { rootCertPem: string; bundles: Record<string, CaBundle>; newRootCertPem?: string; newBundles?: Record<string, CaBundle> };
}

/** The phase of the root of trust: a rotation's phase, or "none". */
export function trustPhase(trust: TrustConfig): TrustPhase {
    return trust.rotation?.phase ?? "none";
}

/** The days before expiry at which an intermediate is re-issued: the configured value, or a third of its validity. */
export function renewBeforeDays(trust: Pick<TrustConfig, "intermediateRenewBeforeDays" | "intermediateValidityDays">): number {
    return trust.intermediateRenewBeforeDays ?? Math.floor(trust.intermediateValidityDays / 3);
}

/** Every problem of a config, each with its path; as pulumi.RunError, the engine prints it without a stack trace. */
export class ConfigError extends RunError {
    /** `subject`: what has the problems, "the stack config" (config.ts) or "the Mesh args" (the library). */
    constructor(
        public readonly problems: string[],
        subject = "the stack config",
    ) {
        super(
            `${subject} ${subject.endsWith("s") ? "have" : "has"} ${problems.length} problem${problems.length === 1 ? "" : "s"} (nothing was deployed):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function zodPath(p: PropertyKey[]): string {
    return p.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${String(k)}`), "mesh");
}

/** The platform blocks (`gke:`, …) of a cluster with an unknown `platform` are not checked: one line names it and the allowed values. */
function platformKnockOn(issues: readonly z.core.$ZodIssue[]): (issue: z.core.$ZodIssue) => boolean {
    const blocks = new Set(PLATFORMS.filter((p) => p.block).map((p) => p.name));
    const isPlatform = (i: z.core.$ZodIssue) =>
        i.code === "invalid_value" && i.path.length === 3 && i.path[0] === "clusters" && i.path[2] === "platform";
    const bad = new Set(issues.filter(isPlatform).map((i) => i.path[1]));
    return (i) => i.path.length >= 3 && i.path[0] === "clusters" && bad.has(i.path[1]) && blocks.has(String(i.path[2]));
}

function getPath(obj: unknown, path: string[]): unknown {
    let cur: unknown = obj;
    for (const k of path) {
        if (!cur || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
}

/** The cluster entries as far as they parsed (checks run on partial input too, so every problem shows at once). */
type LooseClusters = NonNullable<Partial<z.output<typeof meshSchema>>["clusters"]>;

/** The mesh ID: a DNS-1123 label of at most 63 characters. */
function checkMeshId(loose: Partial<z.output<typeof meshSchema>>, say: Say): void {
    if (typeof loose.meshId === "string" && loose.meshId.length > 63) {
        say(
            "mesh.meshId",
            `has ${loose.meshId.length} characters; a mesh ID is a DNS-1123 label of at most ` +
                `63 (it becomes part of resource, VPC and tag names)`,
        );
    } else if (typeof loose.meshId === "string" && !DNS1123_LABEL.test(loose.meshId)) {
        say("mesh.meshId", `"${loose.meshId}" is not a DNS-1123 label; use lower-case letters, digits and '-' (at most 63 characters)`);
    }
}

/** Cluster names: DNS-1123 labels, unique, never istiod's default cluster ID. */
function checkClusterNames(clusters: LooseClusters, say: Say): void {
    const seen = new Map<string, number>();
    clusters.forEach((c, i) => {
        const name = c.name;
        if (typeof name !== "string") return;
        if (!DNS1123_LABEL.test(name) || name.length > 63) {
            say(
                `mesh.clusters[${i}].name`,
                `"${name}" is not a DNS-1123 label; use lower-case letters, digits and '-' (at most ` +
                    `63 characters), as istiod's cluster IDs must be`,
            );
        }
        if (name.toLowerCase() === "kubernetes") {
            say(
                `mesh.clusters[${i}].name`,
                `"${name}" is istiod's default cluster ID; remote secrets named after it are ignored, so pick another name`,
            );
        }
        if (seen.has(name))
            say(
                `mesh.clusters[${i}].name`,
                `"${name}" is used twice (also mesh.clusters[${seen.get(name)}]); cluster names must be unique`,
            );
        else seen.set(name, i);
    });
}

/** Roles and topology: remotes only in primary-remote, each with a primary that is one. */
function checkRoles(clusters: LooseClusters, topology: Partial<z.output<typeof meshSchema>>["topology"], say: Say): void {
    const primaries = clusters.filter((c) => (c.role ?? "primary") === "primary").map((c) => c.name);
    clusters.forEach((c, i) => {
        const role = c.role ?? "primary";
        if (topology === "multi-primary" && role === "remote") {
            say(
                `mesh.clusters[${i}].role`,
                `"remote" is not allowed with topology multi-primary; set role: primary, or use topology: primary-remote`,
            );
        }
        if (role === "primary" && c.primary !== undefined) {
            say(`mesh.clusters[${i}].primary`, `only a remote names its primary; remove it, or set role: remote`);
        }
        if (topology === "primary-remote" && role === "remote") {
            if (c.primary !== undefined) {
                const target = clusters.find((o) => o.name === c.primary);
                if (!target)
                    say(
                        `mesh.clusters[${i}].primary`,
                        `"${c.primary}" is not a cluster of this mesh; name one of: ${primaries.join(", ") || "(no primaries)"}`,
                    );
                else if ((target.role ?? "primary") !== "primary")
                    say(
                        `mesh.clusters[${i}].primary`,
                        `"${c.primary}" is a remote; a remote must be controlled by a primary (${primaries.join(", ") || "none declared"})`,
                    );
            } else if (primaries.length > 1) {
                say(
                    `mesh.clusters[${i}].primary`,
                    `is required when the mesh has several primaries (${primaries.join(", ")}); name the one that controls this remote`,
                );
            }
        }
    });
    if (topology === "primary-remote" && clusters.length > 0) {
        if (primaries.length === 0) say("mesh.clusters", "primary-remote needs at least one cluster with role: primary");
        if (!clusters.some((c) => c.role === "remote"))
            say(
                "mesh.clusters",
                "primary-remote needs at least one cluster with role: remote; without remotes use topology: multi-primary",
            );
    }
}

/** Networks: one shared network may stay unnamed; several must be named everywhere. */
function checkNetworks(clusters: LooseClusters, say: Say): void {
    const networks = new Set(clusters.map((c) => c.network).filter((n): n is string => typeof n === "string"));
    clusters.forEach((c, i) => {
        if (typeof c.network === "string" && (!LABEL_VALUE.test(c.network) || c.network.length > 63 || c.network === "")) {
            say(
                `mesh.clusters[${i}].network`,
                `"${c.network}" is not a valid label value (it becomes topology.istio.io/network); ` +
                    `use letters, digits, '-', '_' or '.' (at most 63 characters)`,
            );
        }
        if (networks.size > 1 && c.network === undefined) {
            say(
                `mesh.clusters[${i}].network`,
                `is required: the mesh spans several networks (${[...networks].sort().join(", ")}), so every cluster must name its own`,
            );
        } else if (networks.size === 1 && c.network === undefined) {
            say(
                `mesh.clusters[${i}].network`,
                `is required: other clusters name network "${[...networks][0]}"; name the network ` +
                    `on every cluster, or on none (then all share "${DEFAULT_NETWORK}")`,
            );
        }
    });
}

/** Platforms: each cluster's own platform checks it (components/platforms/<name>/); what they resolve (existing clusters' kubeconfigs). */
function checkPlatforms(
    loose: Partial<z.output<typeof meshSchema>>,
    clusters: LooseClusters,
    env: ValidationEnv,
    say: Say,
): LoadedConfig["kubeconfigs"] {
    // Who will read whose API server (decides which addresses must be reachable from elsewhere).
    const named = clusters.filter((c) => typeof c.name === "string").map((c) => ({ name: c.name, role: c.role ?? "primary" }));
    const readBy = new Map<string, string[]>();
    for (const p of remoteSecretPairs(named)) readBy.set(p.source, [...(readBy.get(p.source) ?? []), p.target]);

    const kubeconfigs: LoadedConfig["kubeconfigs"] = {};
    const claimedContexts = new Map<string, number>();
    const indexes = platformIndexes(clusters);
    clusters.forEach((c, i) => {
        const at = `mesh.clusters[${i}]`;
        const platformName = c.platform ?? "existing";
        const platform = platformOf(platformName);
        const readers = typeof c.name === "string" ? (readBy.get(c.name) ?? []) : [];
        for (const other of PLATFORMS) {
            // Under an unknown platform the schema's one line says it all.
            if (platform && other.block && other.name !== platformName && (c as Record<string, unknown>)[other.name] !== undefined) {
                say(`${at}.${other.name}`, `is set but platform is "${platformName}"; remove it, or set platform: ${other.name}`);
            }
        }
        const lbip = c.eastWestGateway?.loadBalancerIP;
        if (typeof lbip === "string" && lbip !== "" && net.isIP(lbip) === 0) {
            say(`${at}.eastWestGateway.loadBalancerIP`, `"${lbip}" is not an IP address; leave it empty to let the platform assign one`);
        }
        if (!platform) return; // the schema reported the unknown platform
        if (env.clustersBuilt) {
            // The caller built the cluster and its provider (library use): nothing platform-specific to check.
            if (c.region !== undefined && c.zone !== undefined && !c.zone.startsWith(c.region)) {
                say(`${at}.zone`, `"${c.zone}" is not in region "${c.region}"; a zone name starts with its region's name`);
            }
            return;
        }
        if (!platform.takesKubeconfig) {
            for (const k of ["kubeconfig", "context", "apiServer"] as const) {
                if (c[k] !== undefined) {
                    say(
                        `${at}.${k}`,
                        `is only for platform existing; ${/^[aeiou]/.test(platformName) ? "an" : "a"} ${platformName} cluster's kubeconfig and API server ` +
                            `come from the cluster this program creates`,
                    );
                }
            }
        }
        if (platform.localityFrom) {
            for (const k of ["region", "zone"] as const)
                if (c[k] !== undefined)
                    say(`${at}.${k}`, `is derived from ${platform.localityFrom} for platform ${platformName}; remove it`);
        }
        if (platform.blockRequired && (c as Record<string, unknown>)[platformName] === undefined) {
            say(`${at}.${platformName}`, `is required for platform ${platformName} (${platform.blockRequired}; see docs/config.md)`);
        }
        const ctx: CheckContext = { meshId: loose.meshId, index: indexes[i], readers, readFile: env.readFile, claimedContexts };
        platform.check(c as LooseCluster, at, say, ctx);
        if (ctx.resolved && typeof c.name === "string") kubeconfigs[c.name] = ctx.resolved;
    });
    return kubeconfigs;
}

/**
 * Parse and check `multicluster-mesh:mesh`. Pure apart from reading kubeconfig files through
 * `env.readFile`. Returns every problem, each starting with its config path.
 */
export function validateMeshConfig(
    raw: unknown,
    env: ValidationEnv = {},
): { ok: true; config: LoadedConfig } | { ok: false; problems: string[] } {
    const problems: string[] = [];
    const say = (path: string, msg: string) => problems.push(`${path}: ${msg}`);
    // With the input in each issue, so a wrong type reads "expected a number, got \"ten\"", not "is required".
    const parsed = meshSchema.safeParse(raw, PARSE_OPTIONS);
    if (!parsed.success) {
        const issues = parsed.error.issues;
        for (const [path, message] of issueMessages(meshSchema, issues, platformKnockOn(issues))) say(zodPath(path), message);
    }
    // Keep checking what did parse, so one run shows every problem. `loose` may be partial.
    const loose = (parsed.success ? parsed.data : (raw ?? {})) as Partial<z.output<typeof meshSchema>>;
    const clusters = Array.isArray(loose.clusters) ? loose.clusters.filter((c) => c && typeof c === "object") : [];
    const topology = loose.topology;

    checkMeshId(loose, say);
    checkClusterNames(clusters, say);
    checkRoles(clusters, topology, say);
    checkNetworks(clusters, say);
    const kubeconfigs = checkPlatforms(loose, clusters, env, say);
    checkSharedNetworks(clusters, loose.networks ?? {}, loose.meshId, say);
    checkMeshExtras({
        loose,
        clusters,
        apiServers: Object.fromEntries(Object.entries(kubeconfigs).map(([k, v]) => [k, v.apiServer])),
        built: env.builtClusters,
        now: env.now,
        say,
    });
    const istioValues = loose.istio?.values as Record<string, unknown> | undefined;
    // The traffic objects are checked against the pinned minor's CRDs (components/data/istio/<minor>/).
    const pinned = factsVersion(loose.istio?.version);
    validateTraffic(loose.traffic, clusters, {
        say,
        clustersBuilt: env.clustersBuilt,
        istioValues,
        istioObjectProblems: (o) => istioObjectProblems(o, pinned),
    });

    // Istio: version, where the charts and images come from, retired locations (components/istioSource.ts).
    checkIstioSource(loose.istio, clusters, env, say);
    checkIstioRevisions(loose.istio, clusters, env, say);
    const istio = loose.istio;
    if (istio) checkIstioValues(istio.values, "mesh.istio.values", say);
    clusters.forEach((c, i) => checkIstioValues(c.istio?.values, `mesh.clusters[${i}].istio.values`, say));
    for (const p of placeGateways(clusters, topology, DEFAULT_NETWORK).problems) {
        say(`mesh.clusters[${p.index}].eastWestGateway.enabled`, p.message);
    }

    const providedBundles = checkTrust(loose, clusters, env, say);
    checkMeshHardening({ istioValues: loose.istio?.values, clusters, trust: loose.trust, provided: env.provided }, say);
    const rawSecrets = getPath(raw, ["remoteSecrets"]) as { tokens?: unknown; tokenPerReader?: unknown } | undefined;
    if (rawSecrets && rawSecrets.tokens !== undefined && typeof rawSecrets.tokenPerReader === "boolean") {
        if ((rawSecrets.tokens === "perReader") !== rawSecrets.tokenPerReader) {
            say(
                "mesh.remoteSecrets.tokenPerReader",
                `contradicts remoteSecrets.tokens: ${String(rawSecrets.tokens)}; remove tokenPerReader (tokens replaces it)`,
            );
        }
    }

    if (problems.length > 0 || !parsed.success) return { ok: false, problems };
    const filledIndexes = platformIndexes(parsed.data.clusters);
    const mesh: MeshConfig = {
        ...parsed.data,
        clusters: parsed.data.clusters.map((c, i) => {
            const filled = { ...c, network: c.network ?? DEFAULT_NETWORK } as ClusterConfig;
            const platform = platformOf(c.platform)!;
            if (platform.fill)
                filled[platform.name] = platform.fill(
                    (c as Record<string, unknown>)[platform.name] as Record<string, unknown> | undefined,
                    filledIndexes[i],
                );
            return filled;
        }),
    };
    const provided = providedBundles && {
        rootCertPem: env.provided!.rootCertPem!,
        bundles: providedBundles.bundles,
        newRootCertPem: providedBundles.newRootCertPem,
        newBundles: providedBundles.newBundles,
    };
    return { ok: true, config: { mesh, kubeconfigs, provided } };
}

type Say = (path: string, msg: string) => void;

/** Trust: key sizes and curves, validities, generations, the rotation, and provided bundles (checkProvided). */
function checkTrust(
    loose: Partial<z.output<typeof meshSchema>>,
    clusters: LooseClusters,
    env: ValidationEnv,
    say: Say,
): ProvidedResult | undefined {
    const named = clusters.filter((c) => typeof c.name === "string").map((c) => ({ name: c.name, role: c.role ?? "primary" }));
    const trust = loose.trust;
    let providedBundles: ProvidedResult | undefined;
    if (trust) {
        const algo = trust.keyAlgorithm ?? "RSA";
        if (algo === "RSA" && typeof trust.rsaBits === "number" && trust.rsaBits < 3072) {
            say(
                "mesh.trust.rsaBits",
                `${trust.rsaBits} is too small: the root key needs at least 3072 bits (intermediates ` +
                    `at least 2048); use 4096 as Istio's tooling does`,
            );
        }
        if (algo === "ECDSA" && typeof trust.ecdsaCurve === "string" && !["P256", "P384"].includes(trust.ecdsaCurve)) {
            say(
                "mesh.trust.ecdsaCurve",
                `"${trust.ecdsaCurve}" is not allowed; use P256 or P384 (Istio supports only these; never the provider default P224)`,
            );
        }
        for (const k of ["rootValidityDays", "intermediateValidityDays"] as const) {
            if (typeof trust[k] === "number" && trust[k] <= 0) say(`mesh.trust.${k}`, `must be a positive number of days`);
        }
        if (
            typeof trust.rootValidityDays === "number" &&
            typeof trust.intermediateValidityDays === "number" &&
            trust.intermediateValidityDays >= trust.rootValidityDays
        ) {
            say(
                "mesh.trust.intermediateValidityDays",
                `${trust.intermediateValidityDays} must be shorter than rootValidityDays (${trust.rootValidityDays}), ` +
                    `so an intermediate can be re-issued without touching the root`,
            );
        }
        if (typeof trust.intermediateGeneration === "number" && trust.intermediateGeneration < 1)
            say("mesh.trust.intermediateGeneration", "must be 1 or more");
        const renew = trust.intermediateRenewBeforeDays;
        if (
            typeof renew === "number" &&
            (renew <= 0 || (typeof trust.intermediateValidityDays === "number" && renew >= trust.intermediateValidityDays))
        ) {
            say(
                "mesh.trust.intermediateRenewBeforeDays",
                `${renew} must be more than 0 and less than intermediateValidityDays (${trust.intermediateValidityDays}); ` +
                    `leave it unset for a third of the validity`,
            );
        }
        if (typeof trust.rootGeneration === "number" && trust.rootGeneration < 1) say("mesh.trust.rootGeneration", "must be 1 or more");
        const rotation = trust.rotation;
        if (
            rotation &&
            trust.mode !== "provided" &&
            typeof rotation.newRootGeneration === "number" &&
            typeof trust.rootGeneration === "number"
        ) {
            if (rotation.newRootGeneration <= trust.rootGeneration) {
                say(
                    "mesh.trust.rotation.newRootGeneration",
                    `${rotation.newRootGeneration} must be above rootGeneration (${trust.rootGeneration}); ` +
                        `it names the new root's resources (default rootGeneration + 1)`,
                );
            }
        }
        if (rotation && trust.mode === "provided" && rotation.newRootGeneration !== undefined) {
            say(
                "mesh.trust.rotation.newRootGeneration",
                "is for generated trust; with provided trust the new root is multicluster-mesh:newRootCertPem",
            );
        }
        if (typeof trust.organization === "string" && trust.organization.trim() === "")
            say("mesh.trust.organization", "must not be empty (a CA certificate needs a subject)");

        if (trust.mode === "provided") {
            providedBundles = checkProvided(named, env, say, (rotation?.phase ?? "none") as TrustPhase);
        } else if (env.provided?.newRootCertPem !== undefined || env.provided?.newCaBundles !== undefined) {
            say(
                "multicluster-mesh:newRootCertPem",
                "is for provided trust; a generated rotation makes its own new root (trust.rotation.newRootGeneration)",
            );
        }
    }
    return providedBundles;
}

/**
 * Values this program sets per cluster, refused in `istio.values` and `clusters[].istio.values`;
 * also under `pilot.`, which the istiod chart merges over the top level since 1.24
 * (manifests/charts/istio-control/istio-discovery/templates/zzy_descope_legacy.yaml at 1.30.3).
 * `pilot.env` is therefore read: an earlier version of this check refused it as an IstioOperator-only
 * path, which it is not for this chart. Prefer top-level `env` (docs/config.md); where
 * both name a variable, `pilot.env` wins.
 */
function checkIstioValues(values: unknown, at: string, say: Say): void {
    const owned: [string[], string][] = [
        [["global", "meshID"], "set mesh.meshId instead"],
        [["global", "multiCluster", "clusterName"], "it is each cluster's name"],
        [["global", "network"], "set mesh.clusters[].network instead"],
        [["global", "remotePilotAddress"], "it is read from the primary's east-west gateway"],
        [["profile"], "the role decides the profile"],
        ...ISTIO_SOURCE_OWNED_VALUES,
        ...UPGRADE_OWNED_VALUES,
    ];
    for (const [p, why] of owned) {
        for (const path of [p, ["pilot", ...p]]) {
            if (getPath(values, path) === undefined) continue;
            say(`${at}.${path.join(".")}`, `is managed by this program per cluster; remove it (${why})`);
        }
    }
}

/**
 * Clusters that share a mesh network must reach each other's pods directly (docs/istio-notes.md, "Networks"): that holds
 * inside one GCP VPC, not across clouds or VPCs unless the user connected them; kind clusters
 * would need node routes this program does not build. Their ranges must not overlap either.
 */
function checkSharedNetworks(clusters: LooseCluster[], networks: Record<string, { routable?: boolean }>, meshId: unknown, say: Say): void {
    const byNetwork = new Map<string, number[]>();
    clusters.forEach((c, i) => {
        const n = typeof c.network === "string" ? c.network : DEFAULT_NETWORK;
        byNetwork.set(n, [...(byNetwork.get(n) ?? []), i]);
    });
    const indexes = platformIndexes(clusters);
    for (const [name, members] of byNetwork) {
        if (members.length < 2) continue;
        const routable = networks[name]?.routable === true;
        for (const p of PLATFORMS.filter((x) => !x.sharesNetwork)) {
            const same = members.filter((i) => (clusters[i].platform ?? "existing") === p.name);
            if (same.length > 1 && !routable) {
                say(
                    `mesh.clusters[${same[1]}].network`,
                    `${p.name} clusters ${same.map((i) => clusters[i].name).join(", ")} share network ` +
                        `"${name}", which needs node routes between them that this program does not build; ` +
                        `give each ${p.name} cluster its own network`,
                );
            }
        }
        const domains = new Map<string, number>();
        for (const i of members) {
            const d = platformOf(clusters[i].platform)?.routingDomain(clusters[i] as LooseCluster, meshId);
            if (d !== undefined && !domains.has(d)) domains.set(d, i);
        }
        if (domains.size > 1 && !routable) {
            const [first, ...rest] = [...domains.entries()];
            for (const [d, i] of rest) {
                say(
                    `mesh.clusters[${i}].network`,
                    `"${name}" joins ${d} with ${first[0]} (mesh.clusters[${first[1]}]), whose pods it ` +
                        `cannot reach directly; give it its own network, or declare mesh.networks.${name}.routable: ` +
                        `true once they are connected (VPC peering, VPN)`,
                );
            }
        }
        // Pod and Service ranges of clusters on one network must not overlap (docs/istio-notes.md, "Networks").
        const ranges: [string, Cidr | undefined][] = [];
        for (const i of members) {
            for (const [k, v] of platformOf(clusters[i].platform)?.podRanges(clusters[i] as LooseCluster, indexes[i]) ?? []) {
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
                    say(
                        pb,
                        `${formatCidr(cb)} overlaps ${pa} (${formatCidr(ca)}) on the shared network "${name}"; ` +
                            `clusters on one network need distinct pod and service ranges`,
                    );
                }
            }
        }
    }
}

type ProvidedResult = { bundles: Record<string, CaBundle>; newRootCertPem?: string; newBundles?: Record<string, CaBundle> };

function checkProvided(
    clusters: { name: string; role: string }[],
    env: ValidationEnv,
    say: (p: string, m: string) => void,
    phase: TrustPhase,
): ProvidedResult | undefined {
    const root = env.provided?.rootCertPem;
    const hint = 'see docs/trust.md, "Bring your own CA"';
    const hasText = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";
    if (!hasText(root)) {
        say(
            "multicluster-mesh:rootCertPem",
            `is required with trust.mode provided; set it with \`pulumi config set rootCertPem -- "$(cat root-cert.pem)"\` (${hint})`,
        );
    }
    const istiodClusters = clusters.filter((c) => c.role === "primary").map((c) => c.name);
    // Bundles signed by the old root are deployed until switch-intermediates; from then on, those signed by the new one.
    const signer = ["switch-intermediates", "drop-old-root"].includes(phase) ? "new" : "old";
    const newRoot = env.provided?.newRootCertPem;
    const newBundles = env.provided?.newCaBundles;
    const rotationHint = `(${ROTATION_PROCEDURE})`;
    if (phase === "none" || phase === "prepare") {
        if (phase === "none" && newRoot !== undefined)
            say(
                "multicluster-mesh:newRootCertPem",
                `is set but no rotation is in progress; set mesh.trust.rotation.phase, or remove it ${rotationHint}`,
            );
        if (phase === "none" && newBundles !== undefined)
            say(
                "multicluster-mesh:newCaBundles",
                `is set but no rotation is in progress; set mesh.trust.rotation.phase, or remove it ${rotationHint}`,
            );
    } else if (!hasText(newRoot)) {
        say(
            "multicluster-mesh:newRootCertPem",
            `is required in rotation phase ${phase}: every root-cert.pem holds the old and the new root from add-root on ${rotationHint}`,
        );
    } else if (hasText(root) && certificateSet(root) === certificateSet(newRoot)) {
        say(
            "multicluster-mesh:newRootCertPem",
            `is the same certificate as rootCertPem; a rotation needs a different root ${rotationHint}`,
        );
    }
    if (signer === "new" && (!newBundles || typeof newBundles !== "object")) {
        say(
            "multicluster-mesh:newCaBundles",
            `is required in rotation phase ${phase}: switching intermediates needs one bundle ` +
                `per istiod cluster signed by the new root (npm run trust:init prints the commands) ` +
                `${rotationHint}`,
        );
    }
    const bundles = env.provided?.caBundles;
    if (signer === "old" && (!bundles || typeof bundles !== "object")) {
        say(
            "multicluster-mesh:caBundles",
            `is required with trust.mode provided; set it with \`pulumi config set --secret --path ` +
                `'caBundles.<cluster>.caKeyPem' ...\` (${hint})`,
        );
        return undefined;
    }
    const checkSet = (
        key: string,
        set: Record<string, unknown> | undefined,
        signingRoot: string | undefined,
        required: boolean,
    ): Record<string, CaBundle> => {
        const out: Record<string, CaBundle> = {};
        if (!set || typeof set !== "object") return out;
        for (const name of Object.keys(set)) {
            if (!clusters.some((c) => c.name === name)) say(`${key}.${name}`, `is not a cluster of this mesh; remove it or fix the name`);
            else if (!istiodClusters.includes(name))
                say(`${key}.${name}`, `is a remote cluster, which runs no istiod and takes no cacerts; remove it`);
        }
        for (const name of istiodClusters) {
            const b = set[name] as Partial<CaBundle> | undefined;
            if (!b || typeof b !== "object") {
                if (required)
                    say(
                        `${key}.${name}`,
                        `is missing: every cluster that runs istiod needs caCertPem, caKeyPem and certChainPem (${hint})`,
                    );
                continue;
            }
            const missing = (["caCertPem", "caKeyPem", "certChainPem"] as const).filter((k) => !hasText(b[k]));
            if (missing.length) {
                say(`${key}.${name}`, `lacks ${missing.join(", ")} (${hint})`);
                continue;
            }
            if (!hasText(signingRoot)) continue;
            const bundle: CaBundle = {
                caCertPem: b.caCertPem!,
                caKeyPem: b.caKeyPem!,
                certChainPem: b.certChainPem!,
                rootCertPem: signingRoot,
            };
            // Checked exactly as istiod will check it, against the one root that must have signed it; a
            // secret the offline plan could not decrypt is checked at deploy (components/secretPlaceholder.ts).
            // An undecrypted key still lets the certificates be checked; only the key checks wait.
            const certsUndecrypted = [bundle.caCertPem, bundle.certChainPem, bundle.rootCertPem].some(isUndecryptedSecret);
            const keyUndecrypted = isUndecryptedSecret(bundle.caKeyPem);
            if (!certsUndecrypted) {
                for (const p of verifyCaBundle(bundle, env.now))
                    if (!(keyUndecrypted && p.startsWith(CACERTS_KEYS.caKey))) say(`${key}.${name}`, p);
            }
            out[name] = bundle;
        }
        return out;
    };
    const oldSet = checkSet("multicluster-mesh:caBundles", bundles, root, signer === "old");
    const newSet = newBundles !== undefined ? checkSet("multicluster-mesh:newCaBundles", newBundles, newRoot, signer === "new") : undefined;
    return { bundles: oldSet, newRootCertPem: hasText(newRoot) ? newRoot : undefined, newBundles: newSet };
}

/** The certificates of a PEM bundle as a canonical set (sorted DER digests), to compare roots regardless of formatting. */
function certificateSet(pem: string): string {
    return pemBlocks(pem)
        .filter((b) => b.type === "CERTIFICATE")
        .map((b) => {
            try {
                return new crypto.X509Certificate(b.text).fingerprint256;
            } catch {
                return b.text.trim();
            }
        })
        .sort()
        .join(",");
}
