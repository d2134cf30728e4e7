// Apply a set of rendered objects to a real API server, as one deploy would leave them: server-side
// apply of every object in Helm's install order (namespaces, CRDs, RBAC, Services, workloads, then
// webhooks and custom resources), each CRD waited for until Established, and the objects of the
// previous set that this one no longer holds deleted (CRDs kept, as Helm keeps them). Used by the
// end-to-end suite to prove that every phase of an Istio upgrade is accepted by a real API server
// (test/e2e/upgrade.e2e.ts). Through the check's REST client (components/check/kube.ts).
//
// Server-side apply: PATCH with `application/apply-patch+yaml` and a field manager
// (https://kubernetes.io/docs/reference/using-api/server-side-apply/); JSON is YAML.
import { KubeError, type KubeTarget, request, waitFor } from "../components/check/kube";

export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [k: string]: unknown;
}

/** An object and the namespace it lands in when it names none (a Helm release's; objects.yaml's `default`). */
export interface Placed {
    obj: KubeObject;
    defaultNamespace: string;
}

/** Helm 3's install order (pkg/releaseutil/kind_sorter.go InstallOrder); kinds it does not list come after, in their order. */
export const INSTALL_ORDER = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

function rank(kind: string): number {
    const i = INSTALL_ORDER.indexOf(kind);
    return i === -1 ? INSTALL_ORDER.length : i;
}

interface Resource {
    plural: string;
    namespaced: boolean;
}

/** The API's discovery, per group/version, re-read when a kind is not there yet (a CRD just created). */
class Discovery {
    private cache = new Map<string, Map<string, Resource>>();
    constructor(private readonly t: KubeTarget) {}
    private async load(apiVersion: string): Promise<Map<string, Resource>> {
        const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const doc = await request(this.t, "GET", path);
        const m = new Map<string, Resource>();
        for (const r of doc?.resources ?? [])
            if (!String(r.name).includes("/")) m.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        this.cache.set(apiVersion, m);
        return m;
    }
    async resource(apiVersion: string, kind: string): Promise<Resource> {
        const hit = this.cache.get(apiVersion)?.get(kind);
        if (hit) return hit;
        return waitFor(
            `${kind} in ${apiVersion} served`,
            async () => {
                try {
                    return (await this.load(apiVersion)).get(kind);
                } catch (e) {
                    if (e instanceof KubeError && e.status === 404) return undefined;
                    throw e;
                }
            },
            30_000,
            250,
        );
    }
}

/** The object's key: apiVersion, kind, namespace and name. */
export function keyOf(p: Placed, namespaced: boolean): string {
    return `${p.obj.apiVersion}/${p.obj.kind}/${namespaced ? (p.obj.metadata.namespace ?? p.defaultNamespace) : ""}/${p.obj.metadata.name}`;
}

async function pathOf(d: Discovery, p: Placed): Promise<{ path: string; key: string }> {
    const r = await d.resource(p.obj.apiVersion, p.obj.kind);
    const base = p.obj.apiVersion.includes("/") ? `/apis/${p.obj.apiVersion}` : `/api/${p.obj.apiVersion}`;
    const ns = p.obj.metadata.namespace ?? p.defaultNamespace;
    return {
        path: `${base}${r.namespaced ? `/namespaces/${ns}` : ""}/${r.plural}/${p.obj.metadata.name}`,
        key: keyOf(p, r.namespaced),
    };
}

export interface ApplyResult {
    applied: string[];
    deleted: string[];
    /** Object → the API server's answer, for every object it did not accept. */
    rejected: Record<string, string>;
}

/**
 * Apply `objects` in install order, then delete what `previous` held and `objects` does not. An
 * object a webhook or a missing CRD turns away is retried for up to `retryMs` (the istiod stand-in
 * patches the webhooks' caBundle within a second or two of their creation); what is still refused
 * is reported in `rejected`.
 */
export async function applyObjects(
    t: KubeTarget,
    objects: Placed[],
    previous: Placed[] = [],
    opts: { fieldManager?: string; retryMs?: number } = {},
): Promise<ApplyResult> {
    const d = new Discovery(t);
    const out: ApplyResult = { applied: [], deleted: [], rejected: {} };
    const sorted = [...objects].sort((a, b) => rank(a.obj.kind) - rank(b.obj.kind));
    const keys = new Set<string>();
    for (const p of sorted) {
        const { path, key } = await pathOf(d, p);
        keys.add(key);
        const body = {
            ...p.obj,
            metadata: {
                ...p.obj.metadata,
                ...(path.includes("/namespaces/") ? { namespace: p.obj.metadata.namespace ?? p.defaultNamespace } : {}),
            },
        };
        const q = `?fieldManager=${encodeURIComponent(opts.fieldManager ?? "multicluster-mesh-e2e")}&force=true`;
        const deadline = Date.now() + (opts.retryMs ?? 20_000);
        for (;;) {
            try {
                await request(t, "PATCH", path + q, { body, contentType: "application/apply-patch+yaml", timeoutMs: 15_000 });
                out.applied.push(key);
                break;
            } catch (e) {
                const status = e instanceof KubeError ? e.status : 0;
                // 422 (invalid) and 400/403 are the API server's verdict; a webhook that cannot be called yet answers 500.
                if ((status === 500 || status === 404 || status === 0) && Date.now() < deadline) {
                    await new Promise((r) => setTimeout(r, 500));
                    continue;
                }
                out.rejected[key] = (e as Error).message;
                break;
            }
        }
        if (p.obj.kind === "CustomResourceDefinition" && !out.rejected[key])
            await waitFor(
                `CRD ${p.obj.metadata.name} Established`,
                async () => {
                    const crd = await request(t, "GET", path);
                    return (crd?.status?.conditions ?? []).some((c: any) => c.type === "Established" && c.status === "True");
                },
                30_000,
                200,
            );
    }
    // What the previous set held and this one does not: deleted, in reverse install order (CRDs stay).
    const gone = [...previous].filter((p) => p.obj.kind !== "CustomResourceDefinition").sort((a, b) => rank(b.obj.kind) - rank(a.obj.kind));
    for (const p of gone) {
        const { path, key } = await pathOf(d, p);
        if (keys.has(key)) continue;
        try {
            await request(t, "DELETE", path, { timeoutMs: 15_000 });
            out.deleted.push(key);
        } catch (e) {
            if (!(e instanceof KubeError && e.status === 404)) out.rejected[`delete ${key}`] = (e as Error).message;
        }
    }
    return out;
}

/** Whether each key exists on the server (GET), as a map key → true/false. */
export async function present(t: KubeTarget, objects: Placed[]): Promise<Record<string, boolean>> {
    const d = new Discovery(t);
    const out: Record<string, boolean> = {};
    for (const p of objects) {
        const { path, key } = await pathOf(d, p);
        try {
            await request(t, "GET", path);
            out[key] = true;
        } catch (e) {
            if (e instanceof KubeError && e.status === 404) out[key] = false;
            else throw e;
        }
    }
    return out;
}
