// The policies of the multicluster-mesh pack, as plain functions over what the engine hands a policy
// (no Pulumi CLI needed to test them: see testing.ts). index.ts wraps them in a PolicyPack.
//
//   kubernetes-explicit-provider     every Kubernetes object names its cluster's provider
//   cacerts-before-istiod            istiod depends on the cacerts Secret of its own cluster
//   loadbalancer-only-east-west      no LoadBalancer Service other than the east-west gateways
//   production-deletion-protection   GKE/EKS clusters of production stacks cannot be deleted by accident
//   istio-version-uniform            one Istio chart version in every cluster
//   no-secret-in-plain-output        no private key, token or credential kubeconfig in a stack output
//   locality-needs-outlier-detection a DestinationRule with locality failover or distribute has outlierDetection
//   destination-rules-identical      DestinationRules for one host are identical in every cluster whose istiod reads them
//   root-of-trust-expiry(-warning)   the root has 30 (fail) / 180 (warn) days left, else rotate it (docs/root-rotation.md)
//   root-rotation-phase              each cacerts holds what its rotation phase requires, the same roots everywhere
//   production-root-key-offline      production stacks keep no root CA key in state (trust.mode provided, trust:init)
//   istio-artifact-source            Istio charts and images come from a current location, the images from an explicit hub
//   production-istio-known-defect    production stacks pin no Istio version with a known multicluster defect
//   production-environment-declared  (advisory) production guessed from the stack name: say it in mesh.environment
//
// What a policy can see (@pulumi/policy 1.21): resource policies get the inputs, `opts.protect` and
// the provider; stack policies get outputs, `dependencies` and the provider. Secret values reach
// policies already decrypted (the SDK unwraps them: deserializeProperties(…, false)), so
// no-secret-in-plain-output cannot tell an output marked secret from a plain one: it flags every
// secret-looking value in an output, except outputs listed in its `allowedOutputs` config. Its
// default lists `kubeconfigs`, which index.ts exports wrapped in pulumi.secret (the tests check that
// every default entry is a secret Output of the real program); any other hit is a leak to fix, or a
// new secret output to list there.
// Values unknown during preview are skipped per resource, never failing the whole policy.
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as crypto from "node:crypto";
import * as YAML from "yaml";
import {
    CACERTS_KEYS,
    CACERTS_SECRET,
    CHARTS,
    EASTWEST_NAME,
    ISTIO_CHART_NAMES,
    ISTIO_NAMESPACE,
    MULTIROOT_ENV,
} from "../components/istio";
import type { RevisionRecord } from "../components/upgrade";
import {
    certPems,
    normalizePem,
    PHASES,
    ROOT_FAIL_DAYS,
    ROOT_WARN_DAYS,
    rootExpiryFinding,
    ROTATION_DOC,
    TRUST_PHASE_ANNOTATION,
    type TrustPhase,
} from "../components/rotation";
import { parseClusterIdentifier } from "../components/platforms/clusterIdentifier";
import { compareVersions, KNOWN_DEFECTS, knownDefects, minorOf } from "../components/istio";
import { describeReleaseChart, retiredLocation } from "../components/istioSource";
import { destinationRuleLocalityProblems } from "../components/traffic/istioRules";
import { PLATFORMS } from "../components/platforms/registry";
import { TYPES } from "../components/pulumiTypes";

export const RELEASE = TYPES.release;
export const SECRET = TYPES.secret;
export const SERVICE = TYPES.service;
export const STACK = TYPES.stack;
export const TLS_PRIVATE_KEY = TYPES.privateKey;
/** Cloud clusters that production stacks must protect, from each platform (components/platforms/<name>/). */
export const PROTECTED_CLUSTER_TYPES = PLATFORMS.flatMap((p) => p.policy?.clusterTypes ?? []);
/** Istio's own charts (others, such as MetalLB on kind, version independently). */
export const ISTIO_CHARTS = [...ISTIO_CHART_NAMES];
export { EASTWEST_NAME };

/** Pulumi's wire marker for secret values, in case an engine or SDK hands one over still wrapped. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface PolicyEnv {
    /** The stack being previewed or updated. */
    stackName(): string;
}

/** The engine passes the stack to a policy pack in PULUMI_NODEJS_STACK. */
export const processEnv: PolicyEnv = {
    stackName: () => process.env.PULUMI_NODEJS_STACK ?? process.env.PULUMI_STACK ?? "",
};

/** True for the SDK's "value unknown during preview" error (its class is internal to the SDK). */
function isUnknown(e: unknown): boolean {
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}

/** Evaluate `f`, or return `fallback` when it touches a value that is unknown during preview. */
function known<T>(f: () => T, fallback: T): T {
    try {
        return f();
    } catch (e) {
        if (isUnknown(e)) return fallback;
        throw e;
    }
}

function providerLabel(r: { provider?: { name: string } }): string {
    return r.provider?.name ? `provider ${r.provider.name}` : "no provider";
}

function isDefaultProvider(p: { urn: string; name: string } | undefined): boolean {
    if (!p) return true;
    const name = p.name || p.urn.split("::").pop() || "";
    return name === "default" || name.startsWith("default_");
}

export const explicitProvider: ResourceValidationPolicy = {
    name: "kubernetes-explicit-provider",
    description:
        "Every Kubernetes object names its cluster's provider; none may fall back to the default provider (the current kube context).",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!args.type.startsWith("kubernetes:")) return;
        if (isDefaultProvider(args.provider)) {
            report(
                `${args.type} ${args.name} has no explicit Kubernetes provider (${args.provider ? `default provider ${args.provider.name}` : "none"}); ` +
                    "it would be applied to whatever cluster the current kube context points at. Pass { provider: cluster.provider }.",
            );
        }
    },
};

export const cacertsBeforeIstiod: StackValidationPolicy = {
    name: "cacerts-before-istiod",
    description:
        "In each cluster that runs istiod, the istiod release depends on that cluster's cacerts " +
        "Secret (otherwise istiod starts as a self-signed CA of its own).",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const secrets = args.resources.filter((r) => r.type === SECRET);
        for (const rel of args.resources.filter((r) => r.type === RELEASE)) {
            const facts = known(
                () => ({
                    chart: chartName(rel.props),
                    name: rel.props.name as string | undefined,
                    namespace: (rel.props.namespace as string | undefined) ?? "default",
                    profile: rel.props.values?.profile as string | undefined,
                }),
                undefined,
            );
            if (!facts || (facts.chart !== CHARTS.istiod.chart && facts.name !== CHARTS.istiod.release)) continue;
            // A remote's istiod chart (profile: remote) runs no istiod and needs no cacerts.
            if (facts.profile === "remote") continue;
            const cacerts = secrets.filter(
                (s) =>
                    known(
                        () => s.props.metadata?.name === CACERTS_SECRET && (s.props.metadata?.namespace ?? "default") === facts.namespace,
                        false,
                    ) && s.provider?.urn === rel.provider?.urn,
            );
            if (cacerts.length === 0) {
                report(
                    `istiod release ${rel.name} (${providerLabel(rel)}) has no cacerts Secret in namespace ` +
                        `${facts.namespace} of the same cluster; istiod would issue certificates from a self-signed ` +
                        `root of its own`,
                    rel.urn,
                );
            } else if (!cacerts.some((c) => rel.dependencies.some((d) => d.urn === c.urn))) {
                report(
                    `istiod release ${rel.name} (${providerLabel(rel)}) does not depend on ${cacerts.map((c) => c.name).join(", ")}; ` +
                        `istiod could start before its CA exists. Add the Secret to dependsOn.`,
                    rel.urn,
                );
            }
        }
    },
};

export interface LoadBalancerConfig {
    /** Names of Services and gateway releases allowed to be LoadBalancers. */
    allowedNames?: string[];
}

export const loadBalancerOnlyEastWest: ResourceValidationPolicy = {
    name: "loadbalancer-only-east-west",
    description:
        "No Service of type LoadBalancer other than the east-west gateways (each one is a " +
        "cloud load balancer that costs money and opens an address).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowedNames: { type: "array", items: { type: "string" }, default: [EASTWEST_NAME] } } },
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const allowed = new Set(args.getConfig<LoadBalancerConfig>().allowedNames ?? [EASTWEST_NAME]);
        if (args.type === SERVICE) {
            const svc = known(
                () => ({
                    type: args.props.spec?.type as string | undefined,
                    name: args.props.metadata?.name as string | undefined,
                    namespace: (args.props.metadata?.namespace as string | undefined) ?? "default",
                }),
                undefined,
            );
            if (!svc || svc.type !== "LoadBalancer") return;
            // Its name in istio-system, where this program makes it; a label anyone can copy proves nothing.
            if (svc.name && allowed.has(svc.name) && svc.namespace === ISTIO_NAMESPACE) return;
            report(
                `Service ${svc.namespace}/${svc.name ?? args.name} is a LoadBalancer; only the east-west gateways ` +
                    `(${[...allowed].map((n) => `${ISTIO_NAMESPACE}/${n}`).join(", ")}) may be. Use ClusterIP, or route through the gateways.`,
            );
            return;
        }
        if (args.type === RELEASE) {
            const rel = known(
                () => ({
                    chart: chartName(args.props),
                    name: args.props.name as string | undefined,
                    namespace: (args.props.namespace as string | undefined) ?? "default",
                    serviceType: args.props.values?.service?.type as string | undefined,
                }),
                undefined,
            );
            // Istio's gateway chart renders a LoadBalancer Service unless told otherwise.
            if (!rel || rel.chart !== CHARTS.gateway.chart) return;
            if ((rel.serviceType ?? "LoadBalancer") !== "LoadBalancer") return;
            // An allowed release name in istio-system; networkGateway is a value anyone can set.
            if (rel.name && allowed.has(rel.name) && rel.namespace === ISTIO_NAMESPACE) return;
            report(
                `gateway release ${rel.name ?? args.name} would create a LoadBalancer Service; only ` +
                    `the east-west gateways (${[...allowed].join(", ")}) may. Set service.type: ClusterIP.`,
            );
        }
    },
};

export interface ProductionConfig {
    /** A regular expression: stacks whose name matches are production, when the config does not say (a fallback that warns). */
    productionStackPattern?: string;
}

/** The stack output index.ts exports from `mesh.environment`. */
export const ENVIRONMENT_OUTPUT = "environment";

export interface ProductionVerdict {
    production: boolean;
    /** Said in config (mesh.environment), or guessed from the stack's name. */
    declared: boolean;
    /** Why, for messages. */
    why: string;
}

/**
 * Whether a stack is production: said once, in config (`mesh.environment: production`, exported as the
 * stack output `environment`). Only where the config says nothing does the stack name decide, by
 * productionStackPattern (default /prod/), and the advisory policy production-environment-declared
 * warns that it was guessed. Every production rule calls this one helper.
 */
export function isProductionStack(
    resources: readonly { type: string; props: Record<string, any> }[],
    stack: string,
    pattern = "prod",
): ProductionVerdict {
    const root = resources.find((r) => r.type === STACK);
    const said = known(() => root?.props?.[ENVIRONMENT_OUTPUT], undefined);
    if (typeof said === "string" && said !== "")
        return { production: said === "production", declared: true, why: `mesh.environment is ${said}` };
    let matches: boolean;
    try {
        matches = new RegExp(pattern).test(stack);
    } catch {
        matches = stack.includes(pattern);
    }
    return {
        production: matches,
        declared: false,
        why: `stack name ${JSON.stringify(stack)} ${matches ? "matches" : "does not match"} /${pattern}/`,
    };
}

const PATTERN_SCHEMA = { properties: { productionStackPattern: { type: "string", default: "prod" } } } as const;

export function makeProductionDeletionProtection(env: PolicyEnv = processEnv): StackValidationPolicy {
    return {
        name: "production-deletion-protection",
        description:
            "In production stacks (mesh.environment: production; or, when unset, a stack name matching productionStackPattern) " +
            "every GKE and EKS cluster has deletion protection: `protect`, or the cloud's deletionProtection.",
        enforcementLevel: "mandatory",
        configSchema: PATTERN_SCHEMA,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const stack = env.stackName();
            const verdict = isProductionStack(args.resources, stack, args.getConfig<ProductionConfig>().productionStackPattern ?? "prod");
            if (!verdict.production) return;
            for (const r of args.resources) {
                const kind = PROTECTED_CLUSTER_TYPES.find((t) => t.type === r.type);
                if (!kind || r.opts?.protect) continue;
                const dp = known(() => r.props.deletionProtection as boolean | undefined, undefined);
                // Where the provider's default is true (GKE, gcp >= 5) only an explicit false is unprotected;
                // where it is false (EKS) it must be set.
                if (kind.deletionProtectionDefault ? dp !== false : dp === true) continue;
                report(
                    `${kind.label} cluster ${r.name} in production stack ${stack} (${verdict.why}) can be deleted by ` +
                        `a deploy or destroy: set ${kind.fix} on the cluster in the stack config.`,
                    r.urn,
                );
            }
        },
    };
}

/** Advisory: production guessed from the stack name, because the config does not say. */
export function makeProductionDeclared(env: PolicyEnv = processEnv): StackValidationPolicy {
    return {
        name: "production-environment-declared",
        description:
            "Warns when a stack is treated as production only because its name matches productionStackPattern: " +
            "say it once in config (mesh.environment: production), so a production stack named `live` is one too.",
        enforcementLevel: "advisory",
        configSchema: PATTERN_SCHEMA,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const stack = env.stackName();
            const verdict = isProductionStack(args.resources, stack, args.getConfig<ProductionConfig>().productionStackPattern ?? "prod");
            if (verdict.declared || !verdict.production) return;
            report(
                `stack ${stack} is treated as production because its ${verdict.why}; mesh.environment is not set. Set ` +
                    `mesh.environment: production (or another environment) in the stack config: the name rule is only a fallback.`,
            );
        },
    };
}

/**
 * The mesh cluster a resource goes to, for messages: from its provider's clusterIdentifier
 * (components/platforms/provider.ts); during a first preview that value is unknown, and the
 * provider's resource name stands in.
 */
function clusterOf(r: PolicyResource): string {
    const id = known(() => parseClusterIdentifier(r.provider?.props?.clusterIdentifier), undefined);
    return id?.cluster ?? r.provider?.name ?? "?";
}

export const istioVersionUniform: StackValidationPolicy = {
    name: "istio-version-uniform",
    description:
        "Every Istio chart (base, istiod, gateway, cni, ztunnel) has the same version in every cluster; during a revision-based " +
        "upgrade, one version per chart and revision, the running or the new one.",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const releases = args.resources
            .filter((r) => r.type === RELEASE)
            .map((r) => ({
                r,
                // An OCI or local chart is named by its full reference (components/istioSource.ts releaseChart).
                chart: known(() => describeReleaseChart(r.props).name || undefined, undefined),
                version: known(() => r.props.version as string | undefined, undefined),
            }))
            .filter(
                (x): x is { r: PolicyResource; chart: string; version: string } =>
                    !!x.chart && ISTIO_CHARTS.includes(x.chart) && typeof x.version === "string",
            );
        // During a revision-based upgrade (the stack output istioRevisions, components/upgrade.ts) the old and the
        // new version run side by side: each chart and revision has one version everywhere, and only those two.
        const upgrade = known(
            () => args.resources.find((r) => r.type === STACK)?.props.istioRevisions as RevisionRecord | undefined,
            undefined,
        );
        if (upgrade?.upgrade) {
            const allowed = [upgrade.version, upgrade.upgrade.version];
            const groups = new Map<string, Set<string>>();
            for (const x of releases) {
                const rev = known(() => (x.r.props.values?.revision as string | undefined) ?? "", "");
                const group = `${x.chart}${x.chart === CHARTS.istiod.chart ? ` revision ${rev || "default"}` : ""}`;
                groups.set(group, (groups.get(group) ?? new Set()).add(x.version));
                if (!allowed.includes(x.version))
                    report(
                        `${x.chart} ${x.version} in cluster ${clusterOf(x.r)} is neither the running ${allowed[0]} nor the upgrade's ` +
                            `${allowed[1]} (docs/upgrades.md).`,
                        x.r.urn,
                    );
            }
            for (const [group, versions] of groups)
                if (versions.size > 1)
                    report(
                        `${group} has versions ${[...versions].sort().join(", ")} across clusters; one phase deploys one version of it everywhere.`,
                    );
            return;
        }
        const count = new Map<string, number>();
        for (const x of releases) count.set(x.version, (count.get(x.version) ?? 0) + 1);
        if (count.size <= 1) return;
        const majority = [...count.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
        const byCluster = [...new Set(releases.map((x) => `${clusterOf(x.r)} ${x.chart} ${x.version}`))].sort().join(", ");
        for (const x of releases.filter((y) => y.version !== majority)) {
            report(
                `${x.chart} ${x.version} in cluster ${clusterOf(x.r)} differs from ${majority} elsewhere ` +
                    `(${byCluster}); one mesh runs one Istio version (set istio.version once).`,
                x.r.urn,
            );
        }
    },
};

/** A Release's chart name whatever its source (an OCI or local chart is named by its full reference: components/istioSource.ts). */
function chartName(props: Record<string, any>): string | undefined {
    return describeReleaseChart(props).name || undefined;
}

/** An Istio chart's Release (base, istiod, gateway, cni, ztunnel), by its chart name whatever its source. */
function istioRelease(args: { type: string; props: Record<string, any> }): { chart: string; source: string | null } | undefined {
    if (args.type !== RELEASE) return undefined;
    const ref = known(() => describeReleaseChart(args.props), undefined);
    return ref && ISTIO_CHARTS.includes(ref.name) ? { chart: ref.name, source: ref.source } : undefined;
}

function stringLeaves(v: unknown, at: string, out: [string, string][] = []): [string, string][] {
    if (typeof v === "string") out.push([at, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => stringLeaves(x, `${at}[${i}]`, out));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) stringLeaves(x, `${at}.${k}`, out);
    return out;
}

export const istioArtifactSource: ResourceValidationPolicy = {
    name: "istio-artifact-source",
    description:
        "Istio's charts and images come from where Istio publishes them now (or a mirror): no retired location " +
        "(Istio 1.31 upgrade notes), and every istiod release names its image hub (hub, global.hub) instead of a chart default.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const rel = istioRelease(args);
        if (!rel) return;
        const retiredChart = rel.source !== null ? retiredLocation(rel.source) : undefined;
        if (retiredChart) {
            report(
                `${rel.chart} release ${args.name} comes from ${rel.source}, a retired Istio location (${retiredChart.location}); ` +
                    `use ${retiredChart.charts} (set mesh.istio.repository).`,
            );
        }
        const values = known(() => (args.props.values ?? {}) as Record<string, unknown>, undefined);
        if (values === undefined) return;
        // A value unknown during preview (a remote's values wait for its primary's address) is skipped.
        for (const [at, v] of known(() => stringLeaves(values, "values"), [] as [string, string][])) {
            const retired = retiredLocation(v);
            if (retired)
                report(
                    `${rel.chart} release ${args.name}: ${at} = ${v} names a retired Istio location (${retired.location}); use ${retired.images}.`,
                );
        }
        if (rel.chart === CHARTS.istiod.chart) {
            const missing = known(() => {
                const g = (values.global ?? {}) as Record<string, unknown>;
                return [typeof values.hub === "string" ? undefined : "hub", typeof g.hub === "string" ? undefined : "global.hub"].filter(
                    Boolean,
                );
            }, []);
            if (missing.length)
                report(
                    `istiod release ${args.name} leaves ${missing.join(" and ")} to the chart's defaults; set them (mesh.istio.hub) so the ` +
                        `images come from a hub you chose.`,
                );
        }
    },
};

export function makeProductionIstioKnownDefect(env: PolicyEnv = processEnv): StackValidationPolicy {
    return {
        name: "production-istio-known-defect",
        description:
            "Production stacks (mesh.environment: production; or, when unset, a stack name matching productionStackPattern) pin no Istio " +
            `version with a known multicluster control-plane defect (components/istio.ts KNOWN_DEFECTS: ${KNOWN_DEFECTS.filter(
                (d) => d.scope === "control-plane",
            )
                .map((d) => d.issue)
                .join(", ")}).`,
        enforcementLevel: "mandatory",
        configSchema: PATTERN_SCHEMA,
        // A stack policy: production is said in the stack output `environment`, which resource policies cannot see.
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const stack = env.stackName();
            const verdict = isProductionStack(args.resources, stack, args.getConfig<ProductionConfig>().productionStackPattern ?? "prod");
            if (!verdict.production) return;
            for (const r of args.resources) {
                const rel = r.type === RELEASE ? istioRelease(r) : undefined;
                if (!rel) continue;
                const version = known(() => r.props.version as string | undefined, undefined);
                if (typeof version !== "string") continue;
                const defects = knownDefects(version).filter((d) => d.scope === "control-plane");
                if (defects.length === 0) continue;
                const fixed = defects
                    .map((d) => d.fixedIn[minorOf(version) as keyof typeof d.fixedIn]!)
                    .sort(compareVersions)
                    .pop();
                report(
                    `${rel.chart} release ${r.name} in production stack ${stack} (${verdict.why}) pins Istio ${version}, which has known ` +
                        `multicluster defects: ${defects.map((d) => `${d.issue} (${d.breaks})`).join("; ")}. Pin ${fixed} or later (mesh.istio.version).`,
                    r.urn,
                );
            }
        },
    };
}

/** Outputs the program exports as secrets (pulumi.secret) on purpose. */
export const DEFAULT_ALLOWED_OUTPUTS = ["kubeconfigs"];

export interface OutputConfig {
    /** Stack outputs that are allowed to hold secret-looking values (because they are marked secret). */
    allowedOutputs?: string[];
}

const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_+/=-]{8,}\.[A-Za-z0-9_+/=-]{8,}/;
/** Google OAuth 2.0 access tokens (what gcloud and the GKE auth-provider hand out). */
const GOOGLE_ACCESS_TOKEN = /\bya29\.[0-9A-Za-z_-]{20,}/;
/** AWS access key IDs (long-term AKIA, temporary ASIA) and secret access keys named as such. */
const AWS_ACCESS_KEY_ID = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
const AWS_SECRET_KEY = /(aws_secret_access_key|secretaccesskey|secret_access_key)["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}\b/i;
const KUBECONFIG_CREDENTIAL = /(^|\n)\s*-?\s*(token|client-key-data|password|access-token|id-token|refresh-token|client-secret)\s*:\s*\S/;
const KUBECONFIG_USER_FIELDS = new Set(["token", "client-key-data", "password"]);
/** An auth-provider's config (users[].user.auth-provider.config): tokens of the OIDC and gcp providers. */
const AUTH_PROVIDER_FIELDS = new Set(["access-token", "id-token", "refresh-token", "client-secret"]);
const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}/g;

/** A kubeconfig as data (YAML or JSON): a credential of any user, or undefined. */
function kubeconfigCredential(t: string): string | undefined {
    if (!/["']?kind["']?\s*:\s*["']?Config\b/.test(t)) return undefined;
    let doc: unknown;
    try {
        doc = YAML.parse(t);
    } catch {
        return KUBECONFIG_CREDENTIAL.test(t) ? "a kubeconfig with credentials" : undefined;
    }
    const users = (doc as { users?: { user?: Record<string, any> }[] } | null)?.users;
    for (const u of Array.isArray(users) ? users : []) {
        const user = u?.user ?? {};
        for (const f of KUBECONFIG_USER_FIELDS) if (typeof user[f] === "string" && user[f] !== "") return "a kubeconfig with credentials";
        const config = user["auth-provider"]?.config ?? {};
        for (const f of AUTH_PROVIDER_FIELDS)
            if (typeof config[f] === "string" && config[f] !== "") return "a kubeconfig with auth-provider tokens";
    }
    return undefined;
}

/** What a string looks like, when it looks like a secret. */
export function secretKind(s: string): string | undefined {
    const check = (t: string): string | undefined => {
        if (PEM_PRIVATE_KEY.test(t)) return "a PEM private key";
        if (JWT.test(t)) return "a JWT (service-account token)";
        if (GOOGLE_ACCESS_TOKEN.test(t)) return "a Google OAuth access token (ya29.)";
        if (AWS_ACCESS_KEY_ID.test(t)) return "an AWS access key ID";
        if (AWS_SECRET_KEY.test(t)) return "an AWS secret access key";
        return kubeconfigCredential(t);
    };
    const direct = check(s);
    if (direct) return direct;
    for (const m of s.match(BASE64_RUN) ?? []) {
        const decoded = Buffer.from(m, "base64").toString("utf8");
        const inner = check(decoded);
        if (inner) return `${inner}, base64-encoded`;
    }
    return undefined;
}

function isMarkedSecret(v: unknown): boolean {
    if (!v || typeof v !== "object") return false;
    // @pulumi/policy's Secret wrapper (what the SDK hands over when it keeps secrets), or the wire form.
    if (v.constructor?.name === "Secret" && "value" in (v as object)) return true;
    return (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

function scan(v: unknown, path: string, hits: { path: string; kind: string }[]): void {
    if (isMarkedSecret(v)) return;
    if (typeof v === "string") {
        const kind = secretKind(v);
        if (kind) hits.push({ path, kind });
        return;
    }
    if (Array.isArray(v)) {
        v.forEach((x, i) => known(() => scan(x, `${path}[${i}]`, hits), undefined));
        return;
    }
    if (v && typeof v === "object") {
        for (const k of Object.keys(v).sort()) {
            const x = known(() => (v as Record<string, unknown>)[k], undefined);
            // A kubeconfig as an object: users[].user.token, client-key-data or password, or an auth-provider's tokens.
            if (/\.user$/.test(path) && KUBECONFIG_USER_FIELDS.has(k) && typeof x === "string" && x !== "") {
                hits.push({ path: `${path}.${k}`, kind: "a kubeconfig credential" });
                continue;
            }
            if (/\.auth-provider\.config$/.test(path) && AUTH_PROVIDER_FIELDS.has(k) && typeof x === "string" && x !== "") {
                hits.push({ path: `${path}.${k}`, kind: "an auth-provider token" });
                continue;
            }
            known(() => scan(x, `${path}.${k}`, hits), undefined);
        }
    }
}

export const noSecretInPlainOutput: StackValidationPolicy = {
    name: "no-secret-in-plain-output",
    description:
        "No stack output holds a secret-looking value (PEM private key, JWT, Google ya29. token, AWS key, kubeconfig with " +
        "credentials or auth-provider tokens, YAML or JSON), plain or base64-encoded, unless listed in allowedOutputs (outputs " +
        "the program marks secret; default: kubeconfigs).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { allowedOutputs: { type: "array", items: { type: "string" }, default: DEFAULT_ALLOWED_OUTPUTS } } },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const allowed = new Set(args.getConfig<OutputConfig>().allowedOutputs ?? DEFAULT_ALLOWED_OUTPUTS);
        for (const stack of args.resources.filter((r) => r.type === STACK)) {
            for (const key of Object.keys(stack.props).sort()) {
                if (allowed.has(key)) continue;
                const hits: { path: string; kind: string }[] = [];
                known(() => scan(stack.props[key], key, hits), undefined);
                for (const h of hits) {
                    report(
                        `stack output ${h.path} holds ${h.kind} in plain text; stack outputs are readable ` +
                            `by anyone with stack access. Do not export it, or wrap it in pulumi.secret() and ` +
                            `list "${key}" in allowedOutputs.`,
                        stack.urn,
                    );
                }
            }
        }
    },
};

/** A DestinationRule of any served version (networking.istio.io/v1, v1beta1, v1alpha3). */
export function isDestinationRule(type: string): boolean {
    return /^kubernetes:networking\.istio\.io\/v[0-9a-z]+:DestinationRule$/.test(type);
}

export const localityNeedsOutlierDetection: ResourceValidationPolicy = {
    name: "locality-needs-outlier-detection",
    description:
        "A DestinationRule whose locality load balancing fails over or distributes between " +
        "regions also sets outlierDetection: without it no endpoint is " +
        "ever ejected, so traffic keeps going to a failed region (pilot/pkg/networking/core/cluster_traffic_policy.go " +
        "at Istio 1.30.3; istiod only warns).",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!isDestinationRule(args.type)) return;
        const spec = known(() => args.props.spec as { host?: string } | undefined, undefined);
        if (!spec) return;
        // The traffic block's own rules (components/traffic/istioRules.ts): every level a load balancer
        // can be set (top, subsets, port-level settings), failoverPriority too, and an outlierDetection
        // that ejects nothing (consecutive5xxErrors: 0 with no gateway errors) counts as none.
        for (const d of known(() => destinationRuleLocalityProblems(spec), []))
            report(`DestinationRule ${args.name} (host ${spec.host ?? "?"}) ${d.at}: ${d.problem}`);
    },
};

/** Stable JSON (sorted keys) of a value, to compare specs across clusters. */
function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v);
}

export const destinationRulesIdentical: StackValidationPolicy = {
    name: "destination-rules-identical",
    description:
        "Every DestinationRule (namespace and host) is the same, spec for spec, in every " +
        "cluster that runs istiod: Istio does not replicate " +
        "configuration, each istiod reads its own cluster's, so clusters that disagree route the same service differently.",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        // Clusters whose istiod reads Istio config: those with an istiod release that is not a remote profile.
        const configProviders = new Set<string>();
        for (const rel of args.resources.filter((r) => r.type === RELEASE)) {
            const facts = known(
                () => ({ chart: chartName(rel.props), profile: rel.props.values?.profile as string | undefined }),
                undefined,
            );
            if (facts && facts.chart === CHARTS.istiod.chart && facts.profile !== "remote" && rel.provider?.urn)
                configProviders.add(rel.provider.urn);
        }
        const byHost = new Map<string, { r: PolicyResource; spec: string }[]>();
        for (const r of args.resources.filter((x) => isDestinationRule(x.type))) {
            const facts = known(
                () => ({
                    ns: (r.props.metadata?.namespace as string | undefined) ?? "default",
                    host: r.props.spec?.host as string | undefined,
                    spec: canonical(r.props.spec),
                }),
                undefined,
            );
            if (!facts?.host) continue;
            const key = `${facts.ns}/${facts.host}`;
            byHost.set(key, [...(byHost.get(key) ?? []), { r, spec: facts.spec }]);
        }
        const clusterName = (urn: string) => {
            const r = args.resources.find((x) => x.provider?.urn === urn);
            return r ? clusterOf(r) : (urn.split("::").pop() ?? urn);
        };
        for (const [key, rules] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
            const specs = new Set(rules.map((x) => x.spec));
            const where = (xs: { r: PolicyResource }[]) => [...new Set(xs.map((x) => clusterOf(x.r)))].sort().join(", ");
            if (specs.size > 1) {
                const groups = [...specs]
                    .map((s) => ({ s, of: rules.filter((x) => x.spec === s) }))
                    .sort((a, b) => b.of.length - a.of.length);
                const fix = "each istiod reads its own cluster's config, so write the same rule everywhere (the traffic block does).";
                if (groups[0].of.length > groups[1].of.length) {
                    // A clear majority: the clusters that differ from it.
                    for (const x of rules.filter((y) => y.spec !== groups[0].s)) {
                        report(
                            `DestinationRule ${key} in cluster ${clusterOf(x.r)} differs from the one in ${where(groups[0].of)}; ${fix}`,
                            x.r.urn,
                        );
                    }
                } else {
                    const sides = groups.map((g) => where(g.of)).sort();
                    report(`DestinationRule ${key} differs between clusters (${sides.join(" vs ")}); ${fix}`, rules[0].r.urn);
                }
            }
            const present = new Set(rules.map((x) => x.r.provider?.urn).filter((u): u is string => !!u));
            const missing = [...configProviders].filter((u) => !present.has(u));
            if (missing.length > 0 && rules.some((x) => x.r.provider?.urn && configProviders.has(x.r.provider.urn))) {
                report(
                    `DestinationRule ${key} is in ${where(rules)} but not in ${missing.map(clusterName).sort().join(", ")}, ` +
                        `whose istiod reads only its own cluster's config; ` +
                        "write it to every cluster that runs istiod.",
                    rules[0].r.urn,
                );
            }
        }
    },
};

/** The pack's policies, in the order they are reported. */
export function meshPolicies(env: PolicyEnv = processEnv): (ResourceValidationPolicy | StackValidationPolicy)[] {
    return [
        explicitProvider,
        cacertsBeforeIstiod,
        loadBalancerOnlyEastWest,
        makeProductionDeletionProtection(env),
        istioVersionUniform,
        noSecretInPlainOutput,
        localityNeedsOutlierDetection,
        destinationRulesIdentical,
        rootExpiry,
        rootExpiryWarning,
        rootRotationPhase,
        makeProductionRootKeyOffline(env),
        istioArtifactSource,
        makeProductionIstioKnownDefect(env),
        makeProductionDeclared(env),
    ];
}

/** A cacerts Secret as the policies read it (stringData as the program writes it; values unknown in a first preview are skipped). */
function cacertsFacts(r: { type: string; props: Record<string, any> }): { phase: TrustPhase; roots: string; ca: string } | undefined {
    if (r.type !== SECRET) return undefined;
    return known(() => {
        const p = r.props;
        if (p.metadata?.name !== CACERTS_SECRET) return undefined;
        const d = (p.stringData ?? {}) as Record<string, unknown>;
        const dec = (k: string) =>
            typeof d[k] === "string"
                ? (d[k] as string)
                : typeof p.data?.[k] === "string"
                  ? Buffer.from(p.data[k], "base64").toString("utf8")
                  : undefined;
        const roots = dec(CACERTS_KEYS.rootCert);
        const ca = dec(CACERTS_KEYS.caCert);
        if (!roots || !ca) return undefined;
        return { phase: (p.metadata?.annotations?.[TRUST_PHASE_ANNOTATION] ?? "none") as TrustPhase, roots, ca };
    }, undefined);
}

function rootExpiryPolicy(level: "fail" | "warn"): ResourceValidationPolicy {
    return {
        name: level === "fail" ? "root-of-trust-expiry" : "root-of-trust-expiry-warning",
        description:
            level === "fail"
                ? `The mesh root has at least ${ROOT_FAIL_DAYS} days left (outside a rotation); it ` +
                  `never renews by itself: rotate it in phases (${ROTATION_DOC}).`
                : `Warns when the mesh root has less than ${ROOT_WARN_DAYS} days left; plan the staged rotation (${ROTATION_DOC}).`,
        enforcementLevel: level === "fail" ? "mandatory" : "advisory",
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const f = cacertsFacts(args);
            if (!f) return;
            let finding: { level: string; message: string };
            try {
                finding = rootExpiryFinding(certPems(f.roots), f.phase);
            } catch {
                return; // not a certificate: the program's own checks refuse it
            }
            if (finding.level === level) report(`cacerts ${args.name}: ${finding.message}`);
        },
    };
}

export const rootExpiry = rootExpiryPolicy("fail");
export const rootExpiryWarning = rootExpiryPolicy("warn");

/**
 * Each cacerts Secret holds what its rotation phase requires (components/rotation.ts): the same
 * root-cert.pem bytes in every cluster, one root outside add-root/switch-intermediates and two
 * inside, the intermediate signed by the phase's signer (the old root up to add-root, the new one
 * from switch-intermediates), and ISTIO_MULTIROOT_MESH on every istiod from prepare on.
 *
 * What a policy cannot see: the previous deploy. @pulumi/policy hands policies only the new inputs,
 * so a phase skipped between two `up`s is refused by the offline plan's mesh diff against the
 * previous plan.json (offline/meshDiff.ts), not here.
 */
export const rootRotationPhase: StackValidationPolicy = {
    name: "root-rotation-phase",
    description:
        `Every cacerts Secret holds what its root-rotation phase requires: identical root-cert.pem ` +
        `everywhere, the phase's roots and signer, ` +
        `and ISTIO_MULTIROOT_MESH on every istiod during a rotation (${ROTATION_DOC}).`,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const secrets = args.resources
            .map((r) => ({ r, f: cacertsFacts(r) }))
            .filter((x): x is { r: PolicyResource; f: NonNullable<ReturnType<typeof cacertsFacts>> } => !!x.f);
        if (secrets.length === 0) return;
        const phases = [...new Set(secrets.map((s) => s.f.phase))];
        if (phases.length > 1)
            report(
                `cacerts Secrets are in different rotation phases (${phases.join(", ")}); every cluster ` +
                    `moves together, one phase per deploy (${ROTATION_DOC})`,
            );
        const bundles = new Set(secrets.map((s) => normalizePem(s.f.roots)));
        if (bundles.size > 1) {
            report(
                `root-cert.pem differs between clusters (${secrets.map((s) => clusterOf(s.r)).join(", ")}); ` +
                    `cross-cluster mTLS needs the same roots everywhere`,
            );
        }
        for (const { r, f } of secrets) {
            const shape = PHASES[f.phase];
            if (!shape) {
                report(`cacerts ${r.name} names an unknown rotation phase "${f.phase}"`, r.urn);
                continue;
            }
            const roots = certPems(f.roots).map((p) => new crypto.X509Certificate(p));
            if (roots.length !== shape.roots.length) {
                report(
                    `cacerts ${r.name} (phase ${f.phase}) holds ${roots.length} root(s) in root-cert.pem; ` +
                        `the phase needs ${shape.roots.length} (${shape.roots.join(" + ")})`,
                    r.urn,
                );
                continue;
            }
            const ca = new crypto.X509Certificate(f.ca);
            const signerAt = shape.roots.indexOf(shape.signer);
            const issuer = roots.findIndex((x) => ca.checkIssued(x) && ca.verify(x.publicKey));
            if (issuer !== signerAt) {
                const want = `the ${shape.signer} root`;
                report(
                    `cacerts ${r.name} (phase ${f.phase}): ca-cert.pem is ${issuer < 0 ? "signed by none of the roots" : `signed by root ${issuer + 1}`}; ` +
                        `the phase needs ${want} (${ROTATION_DOC})`,
                    r.urn,
                );
            }
        }
        const phase = phases[0];
        if (phases.length === 1 && PHASES[phase]?.multiRoot) {
            for (const rel of args.resources.filter((r) => r.type === RELEASE)) {
                const facts = known(
                    () => ({
                        chart: chartName(rel.props),
                        env: rel.props.values?.env?.[MULTIROOT_ENV],
                        profile: rel.props.values?.profile,
                    }),
                    undefined,
                );
                if (!facts || facts.chart !== CHARTS.istiod.chart || facts.profile === "remote") continue;
                if (String(facts.env) !== "true")
                    report(
                        `istiod release ${rel.name} (${providerLabel(rel)}) lacks env ${MULTIROOT_ENV}=true ` +
                            `during rotation phase ${phase}; istiod would ignore the new root`,
                        rel.urn,
                    );
            }
        }
    },
};

/** A generated root's key: the tls PrivateKey the program names `<mesh>-trust-root-key` (or `-root-r<N>-key` for later generations). */
export const ROOT_KEY_NAME = /-root(-r\d+)?-key$/;

export function makeProductionRootKeyOffline(env: PolicyEnv = processEnv): StackValidationPolicy {
    return {
        name: "production-root-key-offline",
        description:
            "Production stacks (mesh.environment: production; or, when unset, a stack name matching productionStackPattern) keep " +
            "no root CA key in state: use trust.mode provided with an offline root " +
            "(npm run trust:init prints the commands).",
        enforcementLevel: "mandatory",
        configSchema: PATTERN_SCHEMA,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
            const stack = env.stackName();
            if (!isProductionStack(args.resources, stack, args.getConfig<ProductionConfig>().productionStackPattern ?? "prod").production)
                return;
            for (const r of args.resources.filter((x) => x.type === TLS_PRIVATE_KEY && ROOT_KEY_NAME.test(x.name))) {
                report(
                    `production stack ${stack} keeps the mesh's root CA key in its state (${r.name}): ` +
                        `anyone with the stack's secrets provider can recover it and mint ` +
                        `certificates every cluster trusts. Create the root offline (npm run trust:init -- ` +
                        `--stack ${stack} --out <dir outside the repo>) and set ` +
                        `trust.mode: provided; to move an existing mesh to it without downtime, walk the ` +
                        `staged rotation (${ROTATION_DOC}).`,
                    r.urn,
                );
            }
        },
    };
}
