// The post-deploy check: Istio's multicluster troubleshooting page (istio.io/latest/docs/ops/
// diagnostic-tools/multicluster/) as code, run through each cluster's Kubernetes API against what
// the mesh is meant to be (the intent: from the offline plan, or from the stack's outputs).
// docs/check.md lists every check with the step it mirrors and what a failure means.
//
// Tier 1 reads the Kubernetes API only: `cacerts` and the root of trust, the network labels and the
// controlPlaneClusters annotation, the east-west Services and their addresses, the remote-secret
// matrix and each reader token's rights (asked of the API server as that token, through a
// SelfSubjectAccessReview: the token never reads a Secret), istiod and gateway Deployments, the
// webhooks, Services that differ across clusters (istioctl analyze IST0170), and traffic objects
// that differ between config clusters. Tier 2 (istiod's debug endpoints) is in istiodDebug.ts.
import * as crypto from "node:crypto";
import * as YAML from "yaml";
import { CaBundle, verifyCaBundle } from "../caBundle";
import {
    CACERTS_KEYS,
    CACERTS_SECRET,
    CONTROL_PLANE_ANNOTATION,
    EASTWEST_NAME,
    injectionPath,
    ISTIO_NAMESPACE,
    ISTIOD_SERVICE,
    KUBERNETES_NAMESPACES,
    MULTICLUSTER_SECRET_LABEL,
    NETWORK_LABEL,
    NETWORKING_API,
    PORTS,
    remoteSecretName,
    ROOT_CERT_CONFIGMAP,
    SECURITY_API,
} from "../istio";
import { istiodName, layoutFromRecord, type RevisionRecord } from "../upgrade";
import { checkIstiod } from "./istiodDebug";
import { revisionUse, revisionKeys, revisionUseResult } from "./revisions";
import { getOrUndefined, KubeError, KubeTarget, request, targetOf } from "./kube";

/** What the mesh is meant to be: the part of the plan the live clusters are compared with. */
export interface MeshIntent {
    meshId: string;
    clusters: {
        name: string;
        role: "primary" | "remote";
        /** A remote's primary. */
        primary?: string;
        network: string;
        runsIstiod: boolean;
        /** The cluster has an east-west gateway. */
        gateway: boolean;
    }[];
    /** Who reads whom: the Secret lives in `target`, it holds `source`'s credentials. */
    remoteSecrets: { source: string; target: string }[];
    /** Istio objects the program writes into each config cluster, as `Kind/namespace/name`. */
    istioObjects: Record<string, string[]>;
    /** During a root rotation, the phase (roots may then be a set; docs/root-rotation.md). */
    trustPhase?: string;
    /** The running revision and any upgrade in progress (components/upgrade.ts): which istiod Deployments and Services to expect, and what uses the revision an upgrade removes. */
    revisions?: RevisionRecord;
}

/** How to reach one cluster: a kubeconfig (content or path) and its context. */
export interface ClusterAccess {
    name: string;
    kubeconfig: string;
    context?: string;
}

export type Severity = "error" | "warning";

export interface CheckResult {
    cluster: string;
    /** Stable id (docs/check.md). */
    check: string;
    ok: boolean;
    severity: Severity;
    message: string;
    /** What to do about a failure. */
    fix?: string;
}

export interface CheckReport {
    results: CheckResult[];
    /** Clusters whose API server did not answer (exit code 2). */
    unreachable: { cluster: string; why: string }[];
    /** Every error-severity check passed and every cluster answered. */
    ok: boolean;
}

export interface CheckOptions {
    now?: Date;
    /** Per request (default 10 s). */
    timeoutMs?: number;
    /** Tier 2, istiod's debug endpoints through the pod proxy (default true; components/check/istiodDebug.ts). */
    tier2?: boolean;
}

const API = {
    namespace: (n: string) => `/api/v1/namespaces/${n}`,
    secret: (ns: string, n: string) => `/api/v1/namespaces/${ns}/secrets/${n}`,
    secrets: (ns: string, label: string) => `/api/v1/namespaces/${ns}/secrets?labelSelector=${encodeURIComponent(label)}`,
    configMap: (ns: string, n: string) => `/api/v1/namespaces/${ns}/configmaps/${n}`,
    service: (ns: string, n: string) => `/api/v1/namespaces/${ns}/services/${n}`,
    services: "/api/v1/services",
    deployment: (ns: string, n: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
    endpointSlices: (ns: string, svc: string) =>
        `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${svc}`)}`,
    mutating: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    ssar: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
};

function b64(s: unknown): string {
    return typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : "";
}

/** SHA-256 of each certificate's DER in a PEM bundle, sorted: a set of roots, whatever the encoding. */
export function certSet(pem: string): string[] {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks
        .map((b) => {
            try {
                return crypto.createHash("sha256").update(new crypto.X509Certificate(b).raw).digest("hex");
            } catch {
                return "unparseable";
            }
        })
        .sort();
}

/** What a reader token may do on the cluster it reads (istiod's reader role: istio-reader-clusterrole in the istiod chart). */
export const READER_MUST = [{ verb: "list", group: "discovery.k8s.io", resource: "endpointslices" }] as const;
export const READER_MUST_NOT = [{ verb: "create", group: "", resource: "secrets" }] as const;

/**
 * The credential of a remote secret's kubeconfig: a bearer token only (istiod refuses the rest:
 * pkg/kube/util.go sanitizeKubeConfig at 1.30.3). Anything else is refused before the kubeconfig is
 * used, so the check never runs an exec plugin a remote secret names (the istioctl analyze defect
 * fixed in 1.30.5: components/istio.ts KNOWN_DEFECTS).
 */
export function remoteCredential(kubeconfig: string, cluster: string): { ok: true; target: KubeTarget } | { ok: false; problem: string } {
    let doc: any;
    try {
        doc = YAML.parse(kubeconfig);
    } catch {
        return { ok: false, problem: "its kubeconfig is not YAML" };
    }
    const users = (doc?.users ?? []) as { user?: Record<string, unknown> }[];
    for (const u of users) {
        const extra = Object.keys(u.user ?? {}).filter((k) => k !== "token");
        if (extra.length > 0)
            return { ok: false, problem: `its kubeconfig authenticates with ${extra.join(", ")}, not a token only (istiod refuses it)` };
    }
    try {
        const t = targetOf(kubeconfig);
        if (!t.token) return { ok: false, problem: "its kubeconfig has no token" };
        return { ok: true, target: { ...t, context: `${cluster} (reader token)` } };
    } catch (e) {
        return { ok: false, problem: (e as Error).message };
    }
}

async function allowed(t: KubeTarget, a: { verb: string; group: string; resource: string }, timeoutMs: number): Promise<boolean> {
    const r = await request(t, "POST", API.ssar, {
        body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: { resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource } },
        },
        timeoutMs,
    });
    return r?.status?.allowed === true;
}

/** The address a LoadBalancer Service was given (IP or hostname), or undefined. */
function ingressOf(svc: any): string | undefined {
    const i = svc?.status?.loadBalancer?.ingress?.[0];
    return i?.ip || i?.hostname || undefined;
}

/** Run every tier-1 check. Never throws for a cluster problem: it becomes a result. */
export async function checkMesh(intent: MeshIntent, access: ClusterAccess[], opts: CheckOptions = {}): Promise<CheckReport> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const now = opts.now ?? new Date();
    const results: CheckResult[] = [];
    const unreachable: { cluster: string; why: string }[] = [];
    const say = (cluster: string, check: string, ok: boolean, message: string, fix?: string, severity: Severity = "error") =>
        results.push({ cluster, check, ok, severity, message, ...(ok || !fix ? {} : { fix }) });

    // Reach every cluster first: one that does not answer is reported once (exit 2), not per check.
    const targets = new Map<string, KubeTarget>();
    for (const c of intent.clusters) {
        const a = access.find((x) => x.name === c.name);
        if (!a) {
            unreachable.push({ cluster: c.name, why: "no kubeconfig given for it" });
            continue;
        }
        try {
            const t = targetOf(a.kubeconfig, a.context);
            await request(t, "GET", "/version", { timeoutMs });
            targets.set(c.name, t);
        } catch (e) {
            unreachable.push({ cluster: c.name, why: (e as Error).message });
        }
    }
    const get = (cluster: string, path: string) => getOrUndefined(targets.get(cluster)!, path);
    // istiod's Deployment and Service per revision the phase runs (`istiod` without revisions).
    const istiods = (c: MeshIntent["clusters"][number]): string[] =>
        intent.revisions
            ? layoutFromRecord(intent.revisions, { name: c.name, exposeIstiod: false }).releases.map((r) => istiodName(r.revision))
            : [ISTIOD_SERVICE];

    // Live facts several checks share.
    const roots = new Map<string, string[]>();
    const gatewayAddress = new Map<string, string>();

    for (const c of intent.clusters) {
        const t = targets.get(c.name);
        if (!t) continue;
        // --- namespace labels (troubleshooting: "the namespace network label")
        const ns = await get(c.name, API.namespace(ISTIO_NAMESPACE));
        if (!ns) say(c.name, "namespace", false, `namespace ${ISTIO_NAMESPACE} does not exist`, "run pulumi up");
        else {
            const net = ns.metadata?.labels?.[NETWORK_LABEL];
            say(
                c.name,
                "network-label",
                net === c.network,
                net === c.network
                    ? `${ISTIO_NAMESPACE} is labelled ${NETWORK_LABEL}=${net}`
                    : `${ISTIO_NAMESPACE} has ${NETWORK_LABEL}=${net ?? "(none)"}, the plan says ${c.network}`,
                `label it again with pulumi up (someone changed it by hand: kubectl label namespace ${ISTIO_NAMESPACE} ${NETWORK_LABEL}=${c.network} --overwrite)`,
            );
            if (c.role === "remote") {
                const cp = ns.metadata?.annotations?.[CONTROL_PLANE_ANNOTATION];
                say(
                    c.name,
                    "control-plane-annotation",
                    cp === c.primary,
                    cp === c.primary
                        ? `${CONTROL_PLANE_ANNOTATION}=${cp}`
                        : `${CONTROL_PLANE_ANNOTATION} is ${cp ?? "(none)"}, the plan says ${c.primary}`,
                    "run pulumi up: only the primary named there controls this remote",
                );
            }
        }
        // --- cacerts (troubleshooting: "diff the root-cert.pem of each cluster's cacerts")
        if (c.runsIstiod) {
            const s = await get(c.name, API.secret(ISTIO_NAMESPACE, CACERTS_SECRET));
            if (!s)
                say(
                    c.name,
                    "cacerts",
                    false,
                    `Secret ${CACERTS_SECRET} is missing: istiod runs as a self-signed CA of its own`,
                    "run pulumi up, then restart istiod",
                );
            else {
                const d = s.data ?? {};
                const missing = Object.values(CACERTS_KEYS).filter((k) => !d[k]);
                if (missing.length > 0)
                    say(c.name, "cacerts", false, `Secret ${CACERTS_SECRET} lacks ${missing.join(", ")}`, "run pulumi up");
                else {
                    const bundle: CaBundle = {
                        caCertPem: b64(d[CACERTS_KEYS.caCert]),
                        caKeyPem: b64(d[CACERTS_KEYS.caKey]),
                        rootCertPem: b64(d[CACERTS_KEYS.rootCert]),
                        certChainPem: b64(d[CACERTS_KEYS.certChain]),
                    };
                    const problems = verifyCaBundle(bundle, now);
                    say(
                        c.name,
                        "cacerts",
                        problems.length === 0,
                        problems.length === 0
                            ? `${CACERTS_SECRET} has its four keys and its chain verifies`
                            : `${CACERTS_SECRET} does not verify: ${problems.join("; ")}`,
                        "write a bundle that verifies (npm run trust:init for provided trust), then pulumi up",
                    );
                    roots.set(c.name, certSet(bundle.rootCertPem));
                }
            }
        }
        // --- istiod and the east-west gateway are available
        if (c.runsIstiod) for (const d of istiods(c)) await deploymentAvailable(c.name, "istiod", d);
        if (c.gateway) {
            await deploymentAvailable(c.name, "east-west gateway", EASTWEST_NAME);
            const svc = await get(c.name, API.service(ISTIO_NAMESPACE, EASTWEST_NAME));
            const address = ingressOf(svc);
            if (address) gatewayAddress.set(c.name, address);
            say(
                c.name,
                "east-west-address",
                !!address,
                address
                    ? `Service ${EASTWEST_NAME} has address ${address}`
                    : svc
                      ? `Service ${EASTWEST_NAME} has no external address yet (pending)`
                      : `Service ${EASTWEST_NAME} does not exist`,
                "the platform must hand out LoadBalancer addresses (MetalLB on bare metal or kind), or set eastWestGateway.loadBalancerIP",
            );
            if (svc) {
                const net = svc.metadata?.labels?.[NETWORK_LABEL];
                say(
                    c.name,
                    "east-west-network-label",
                    net === c.network,
                    `Service ${EASTWEST_NAME} carries ${NETWORK_LABEL}=${net ?? "(none)"}${net === c.network ? "" : `, the plan says ${c.network}`}`,
                    "run pulumi up (istiod finds a network's gateway by this label)",
                );
            }
        }
    }

    // --- one root of trust (troubleshooting: "Trust configuration"): every cluster against the set most
    // clusters hold, so the odd one out is the one named (with two clusters that disagree, both are).
    if (roots.size > 1) {
        const bySet = new Map<string, string[]>();
        for (const [name, set] of roots) bySet.set(JSON.stringify(set), [...(bySet.get(JSON.stringify(set)) ?? []), name]);
        const ranked = [...bySet.entries()].sort((a, b) => b[1].length - a[1].length);
        const majority = ranked.length > 1 && ranked[0][1].length === ranked[1][1].length ? undefined : ranked[0];
        for (const [name, set] of roots) {
            const key = JSON.stringify(set);
            const same = majority !== undefined && key === majority[0];
            const others = majority ? majority[1].filter((n) => n !== name) : [...roots.keys()].filter((n) => n !== name);
            say(
                name,
                "root-of-trust",
                same,
                same
                    ? `root-cert.pem is the mesh's (${set.length} root${set.length > 1 ? "s" : ""}, the same in ${others.join(", ") || "every cluster"})`
                    : `root-cert.pem differs from ${others.join(", ")}'s: mTLS between them fails`,
                intent.trustPhase && intent.trustPhase !== "none"
                    ? `a rotation is in phase ${intent.trustPhase}: finish the phase in every cluster (docs/root-rotation.md)`
                    : "give every cluster an intermediate of the same root (trust.mode generated, or npm run trust:init), then pulumi up",
            );
        }
    }
    // --- istio-ca-root-cert ConfigMaps (written by istiod from root-cert.pem; remotes by their primary)
    for (const c of intent.clusters) {
        if (!targets.has(c.name)) continue;
        const source = c.runsIstiod ? c.name : c.primary;
        const expected = source ? roots.get(source) : undefined;
        if (!expected) continue;
        const cm = await get(c.name, API.configMap(ISTIO_NAMESPACE, ROOT_CERT_CONFIGMAP));
        if (!cm) {
            say(
                c.name,
                "root-cert-configmap",
                false,
                `ConfigMap ${ROOT_CERT_CONFIGMAP} is not there: istiod has not written it (not running, or not reading this cluster)`,
                "check istiod's logs",
                "warning",
            );
            continue;
        }
        const live = certSet(String(cm.data?.[CACERTS_KEYS.rootCert] ?? ""));
        const same = JSON.stringify(live) === JSON.stringify(expected);
        say(
            c.name,
            "root-cert-configmap",
            same,
            same ? `${ROOT_CERT_CONFIGMAP} matches ${source}'s cacerts` : `${ROOT_CERT_CONFIGMAP} differs from ${source}'s cacerts root`,
            "restart istiod after a cacerts change",
        );
    }

    // --- remote secrets: the planned matrix, their shape, and each token's rights on its source
    for (const c of intent.clusters.filter((x) => x.runsIstiod && targets.has(x.name))) {
        const list = await request(targets.get(c.name)!, "GET", API.secrets(ISTIO_NAMESPACE, `${MULTICLUSTER_SECRET_LABEL}=true`), {
            timeoutMs,
        });
        const live = new Map<string, any>((list.items ?? []).map((s: any) => [s.metadata?.name, s]));
        const expected = intent.remoteSecrets.filter((p) => p.target === c.name);
        for (const p of expected) {
            const name = remoteSecretName(p.source);
            const s = live.get(name);
            live.delete(name);
            if (!s) {
                say(
                    c.name,
                    "remote-secret",
                    false,
                    `remote secret ${name} (to read ${p.source}) is missing: istiod here does not see ${p.source}'s endpoints`,
                    "run pulumi up (refresh first if it was deleted by hand: pulumi refresh)",
                );
                continue;
            }
            const keys = Object.keys(s.data ?? {});
            if (keys.length !== 1 || keys[0] !== p.source) {
                say(
                    c.name,
                    "remote-secret",
                    false,
                    `remote secret ${name} has data keys ${keys.join(", ") || "(none)"}; the key must be the cluster ID ${p.source}`,
                    "run pulumi up",
                );
                continue;
            }
            const cred = remoteCredential(b64(s.data[p.source]), p.source);
            if (!cred.ok) {
                say(c.name, "remote-secret", false, `remote secret ${name}: ${cred.problem}`, "run pulumi up");
                continue;
            }
            try {
                const must = await Promise.all(READER_MUST.map((a) => allowed(cred.target, a, timeoutMs)));
                const mustNot = await Promise.all(READER_MUST_NOT.map((a) => allowed(cred.target, a, timeoutMs)));
                const ok = must.every(Boolean) && !mustNot.some(Boolean);
                say(
                    c.name,
                    "reader-token",
                    ok,
                    ok
                        ? `the token in ${name} authenticates on ${p.source} (${cred.target.server}) with the reader's rights`
                        : `the token in ${name} on ${p.source}: ${must.every(Boolean) ? "" : "may not list endpointslices; "}${mustNot.some(Boolean) ? "may create secrets (more than a reader)" : ""}`.replace(
                              /; $/,
                              "",
                          ),
                    "run pulumi up (the reader role comes with the istiod chart of the source)",
                );
            } catch (e) {
                const status = e instanceof KubeError ? e.status : 0;
                say(
                    c.name,
                    "reader-token",
                    false,
                    status === 401
                        ? `the token in ${name} does not authenticate on ${p.source} (${cred.target.server}): revoked or deleted`
                        : `${p.source}'s API server (${cred.target.server}) does not answer the token in ${name}: ${(e as Error).message}`,
                    status === 401
                        ? "mint it again with pulumi up (its token Secret in the source is re-created)"
                        : `make ${cred.target.server} reachable from ${c.name}, or fix apiServer`,
                );
            }
        }
        for (const extra of live.keys())
            say(
                c.name,
                "remote-secret",
                false,
                `remote secret ${extra} is not in the plan: istiod here reads a cluster the mesh does not list`,
                `delete it: kubectl -n ${ISTIO_NAMESPACE} delete secret ${extra}`,
            );
        if (expected.length > 0 && results.filter((r) => r.cluster === c.name && r.check === "remote-secret").length === 0)
            say(
                c.name,
                "remote-secret",
                true,
                `the remote secrets are exactly the planned ones (${expected.map((p) => p.source).join(", ")})`,
            );
    }

    // --- webhooks point where the plan says
    for (const c of intent.clusters.filter((x) => targets.has(x.name) && (x.runsIstiod || x.role === "remote"))) {
        const list = await request(targets.get(c.name)!, "GET", API.mutating, { timeoutMs });
        const hooks = (list.items ?? []).flatMap((cfg: any) =>
            (cfg.webhooks ?? [])
                .filter((w: any) => String(w.name ?? "").includes("sidecar-injector"))
                .map((w: any) => ({ cfg: cfg.metadata?.name, w })),
        );
        if (hooks.length === 0) {
            say(c.name, "webhooks", false, "no sidecar injection webhook: the istiod chart is not installed", "run pulumi up");
            continue;
        }
        const wrong: string[] = [];
        for (const { cfg, w } of hooks) {
            const cc = w.clientConfig ?? {};
            if (c.role === "remote") {
                // A remote's injector is its primary's istiod, reached either through the local
                // `istiod` Service whose endpoints are the primary's east-west address (the istiod
                // chart's remote profile), or by URL (istiodRemote.injectionURL, where the address is a
                // hostname an EndpointSlice cannot hold); the path names this cluster and network.
                const want = injectionPath(c.name, c.network);
                if (cc.url) {
                    const primaryAddress = c.primary ? gatewayAddress.get(c.primary) : undefined;
                    let url: URL | undefined;
                    try {
                        url = new URL(cc.url);
                    } catch {
                        url = undefined;
                    }
                    if (!url) wrong.push(`${cfg}/${w.name} has an unparseable URL ${cc.url}`);
                    else if (primaryAddress && url.hostname !== primaryAddress.replace(/^\[|\]$/g, ""))
                        wrong.push(`${cfg}/${w.name} points at ${url.host}, not ${c.primary}'s east-west address ${primaryAddress}`);
                    else if (url.port !== String(PORTS.webhook) || !url.pathname.startsWith(want))
                        wrong.push(`${cfg}/${w.name} calls ${url.port}${url.pathname}, expected ${PORTS.webhook}${want}`);
                } else if (
                    cc.service?.namespace !== ISTIO_NAMESPACE ||
                    !istiods(c).includes(cc.service?.name) ||
                    !String(cc.service?.path ?? "").startsWith(want)
                ) {
                    wrong.push(
                        `${cfg}/${w.name} calls ${cc.service?.namespace}/${cc.service?.name}${cc.service?.path ?? ""}, expected ${ISTIO_NAMESPACE}/${istiods(c).join(" or ")}${want}`,
                    );
                }
            } else if (cc.service?.namespace !== ISTIO_NAMESPACE || !String(cc.service?.name ?? "").startsWith(ISTIOD_SERVICE)) {
                wrong.push(`${cfg}/${w.name} calls ${cc.url ?? `${cc.service?.namespace}/${cc.service?.name}`}, not the local istiod`);
            }
            if (!cc.caBundle) wrong.push(`${cfg}/${w.name} has no caBundle yet (istiod patches it when it runs)`);
        }
        say(
            c.name,
            "webhooks",
            wrong.length === 0,
            wrong.length === 0
                ? `${hooks.length} injection webhook${hooks.length > 1 ? "s" : ""} point where the plan says`
                : wrong.join("; "),
            "run pulumi up; if only caBundle is missing, check that istiod runs",
        );
    }

    // --- a remote's istiod Service routes to its primary's east-west address
    for (const c of intent.clusters.filter(
        (x) => x.role === "remote" && targets.has(x.name) && x.primary && gatewayAddress.has(x.primary),
    )) {
        for (const svc of istiods(c)) {
            const slices = await getOrUndefined(targets.get(c.name)!, API.endpointSlices(ISTIO_NAMESPACE, svc));
            const addresses = (slices?.items ?? []).flatMap((s: any) => (s.endpoints ?? []).flatMap((e: any) => e.addresses ?? []));
            const want = gatewayAddress.get(c.primary!)!;
            const ok = addresses.includes(want);
            say(
                c.name,
                "remote-pilot-address",
                ok,
                ok
                    ? `${svc} here is ${c.primary}'s east-west address ${want}`
                    : `${svc}'s endpoints here are ${addresses.join(", ") || "(none)"}, not ${c.primary}'s east-west address ${want}`,
                "run pulumi up (the remote's values follow the primary's gateway address)",
            );
        }
    }

    // --- Services of one name that differ across clusters (istioctl analyze IST0170)
    await servicesConsistent();
    // --- traffic objects identical in every config cluster
    await istioObjectsIdentical();

    // --- during an upgrade: what still uses each revision, and the one the upgrade removes (components/check/revisions.ts).
    // A warning: in phase gateways the old revision's pods run until the user restarts them (the next step, not a broken deploy).
    if (intent.revisions?.upgrade)
        for (const [name, t] of targets) {
            try {
                const use = await revisionUse(t, revisionKeys(intent.revisions), { timeoutMs });
                results.push(revisionUseResult(name, use, intent.revisions, "warning"));
            } catch (e) {
                say(
                    name,
                    "revision-in-use",
                    false,
                    `could not count what uses each revision: ${(e as Error).message}`,
                    "grant list on pods, namespaces and mutatingwebhookconfigurations",
                    "warning",
                );
            }
        }

    // --- tier 2: istiod's own view (a warning, never a pass, when istiod cannot be reached)
    if (opts.tier2 !== false)
        for (const c of intent.clusters.filter((x) => x.runsIstiod && targets.has(x.name)))
            await checkIstiod(c.name, targets.get(c.name)!, intent, (r) => results.push(r), timeoutMs);

    const ok = unreachable.length === 0 && results.every((r) => r.ok || r.severity === "warning");
    return { results, unreachable, ok };

    async function deploymentAvailable(cluster: string, what: string, name: string): Promise<void> {
        const d = await get(cluster, API.deployment(ISTIO_NAMESPACE, name));
        const available = (d?.status?.availableReplicas ?? 0) > 0;
        say(
            cluster,
            `${what.replace(/ /g, "-")}-available`,
            available,
            d
                ? `${what} Deployment ${name}: ${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? "?"} available`
                : `${what} Deployment ${name} does not exist`,
            `kubectl -n ${ISTIO_NAMESPACE} describe deployment ${name}`,
        );
    }

    async function servicesConsistent(): Promise<void> {
        const seen = new Map<string, { cluster: string; shape: string }[]>();
        for (const [cluster, t] of targets) {
            const list = await request(t, "GET", API.services, { timeoutMs });
            for (const s of list.items ?? []) {
                const ns = s.metadata?.namespace;
                if (
                    KUBERNETES_NAMESPACES.filter((n) => n !== "default").includes(ns) ||
                    (ns === "default" && s.metadata?.name === "kubernetes")
                )
                    continue;
                const shape = JSON.stringify({
                    type: s.spec?.type ?? "ClusterIP",
                    headless: s.spec?.clusterIP === "None",
                    ports: (s.spec?.ports ?? []).map((p: any) => `${p.name ?? ""}:${p.port}/${p.protocol ?? "TCP"}`).sort(),
                });
                const key = `${ns}/${s.metadata?.name}`;
                seen.set(key, [...(seen.get(key) ?? []), { cluster, shape }]);
            }
        }
        for (const [key, list] of seen) {
            if (key.startsWith(`${ISTIO_NAMESPACE}/${ISTIOD_SERVICE}`)) continue; // a remote's istiod Services (one per revision) are headless by design
            if (key === `${ISTIO_NAMESPACE}/${EASTWEST_NAME}`) continue;
            const shapes = new Set(list.map((x) => x.shape));
            if (shapes.size > 1)
                say(
                    list[0].cluster,
                    "service-consistency",
                    false,
                    `Service ${key} differs across clusters (${list.map((x) => `${x.cluster}: ${x.shape}`).join("; ")}): endpoints of one name merge across the mesh (IST0170)`,
                    "give the Service the same type, ports and headlessness in every cluster",
                    "warning",
                );
        }
    }

    async function istioObjectsIdentical(): Promise<void> {
        const config = intent.clusters.filter((c) => c.runsIstiod && targets.has(c.name));
        const all = [...new Set(config.flatMap((c) => intent.istioObjects[c.name] ?? []))].sort();
        for (const id of all) {
            const [kind, namespace, name] = id.split("/");
            const plural = ISTIO_KINDS[kind];
            if (!plural) continue;
            const specs = new Map<string, string>();
            for (const c of config) {
                if (!(intent.istioObjects[c.name] ?? []).includes(id)) continue;
                const o = await get(c.name, `/apis/${plural.group}/namespaces/${namespace}/${plural.resource}/${name}`);
                specs.set(c.name, o ? JSON.stringify(sortKeys(o.spec ?? {})) : "missing");
            }
            const missing = [...specs].filter(([, s]) => s === "missing").map(([c]) => c);
            const distinct = new Set([...specs.values()].filter((s) => s !== "missing"));
            if (missing.length > 0) for (const c of missing) say(c, "istio-objects", false, `${id} is missing here`, "run pulumi up");
            else if (distinct.size > 1) {
                const first = [...specs][0];
                const odd = [...specs].filter(([, s]) => s !== first[1]).map(([c]) => c);
                for (const c of odd)
                    say(
                        c,
                        "istio-objects",
                        false,
                        `${id} differs from ${first[0]}'s: each istiod reads only its own cluster's config, so traffic behaves differently by cluster`,
                        "run pulumi up (someone edited it by hand)",
                    );
            } else if (specs.size > 0)
                say([...specs.keys()][0], "istio-objects", true, `${id} is identical in ${[...specs.keys()].join(", ")}`);
        }
    }
}

const ISTIO_KINDS: Record<string, { group: string; resource: string }> = {
    DestinationRule: { group: NETWORKING_API, resource: "destinationrules" },
    VirtualService: { group: NETWORKING_API, resource: "virtualservices" },
    Gateway: { group: NETWORKING_API, resource: "gateways" },
    Sidecar: { group: NETWORKING_API, resource: "sidecars" },
    ServiceEntry: { group: NETWORKING_API, resource: "serviceentries" },
    PeerAuthentication: { group: SECURITY_API, resource: "peerauthentications" },
    AuthorizationPolicy: { group: SECURITY_API, resource: "authorizationpolicies" },
};

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.keys(v as object)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        );
    return v;
}
