// Schema validation of rendered and planned objects: Kubernetes objects against the OpenAPI schemas
// shipped by the `kubernetes-models` package, Istio objects against the CRD schemas of the pinned
// Istio minor (components/istioCrdSchemas.ts, which the library uses too).
import type { ErrorObject } from "ajv";
import { formatErrors, istioObjectProblems } from "../../components/istioCrdSchemas";

export { formatErrors, istioObjectProblems };

// ---- Kubernetes objects ----

/**
 * API versions removed from Kubernetes, and the minor release that removed them
 * (https://kubernetes.io/docs/reference/using-api/deprecation-guide/). `kubernetes-models` merges the
 * OpenAPI documents of several releases (its own generator script), so it still knows these shapes; a
 * cluster of that version or later no longer serves them.
 */
export const REMOVED_APIS: readonly { apiVersion: string; kinds: readonly string[] | "*"; removedIn: number }[] = [
    { apiVersion: "extensions/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "apps/v1beta1", kinds: "*", removedIn: 16 },
    { apiVersion: "apps/v1beta2", kinds: "*", removedIn: 16 },
    {
        apiVersion: "admissionregistration.k8s.io/v1beta1",
        kinds: ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
        removedIn: 22,
    },
    { apiVersion: "apiextensions.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "apiregistration.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "authentication.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "authorization.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "certificates.k8s.io/v1beta1", kinds: ["CertificateSigningRequest"], removedIn: 22 },
    { apiVersion: "coordination.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "networking.k8s.io/v1beta1", kinds: ["Ingress", "IngressClass"], removedIn: 22 },
    { apiVersion: "rbac.authorization.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "scheduling.k8s.io/v1beta1", kinds: "*", removedIn: 22 },
    { apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], removedIn: 22 },
    { apiVersion: "batch/v1beta1", kinds: ["CronJob"], removedIn: 25 },
    { apiVersion: "discovery.k8s.io/v1beta1", kinds: ["EndpointSlice"], removedIn: 25 },
    { apiVersion: "events.k8s.io/v1beta1", kinds: ["Event"], removedIn: 25 },
    { apiVersion: "autoscaling/v2beta1", kinds: ["HorizontalPodAutoscaler"], removedIn: 25 },
    { apiVersion: "policy/v1beta1", kinds: ["PodDisruptionBudget", "PodSecurityPolicy"], removedIn: 25 },
    { apiVersion: "node.k8s.io/v1beta1", kinds: ["RuntimeClass"], removedIn: 25 },
    { apiVersion: "autoscaling/v2beta2", kinds: ["HorizontalPodAutoscaler"], removedIn: 26 },
    { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta1", kinds: "*", removedIn: 26 },
    { apiVersion: "storage.k8s.io/v1beta1", kinds: ["CSIStorageCapacity"], removedIn: 27 },
    { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", kinds: "*", removedIn: 29 },
    { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kinds: "*", removedIn: 32 },
];

/** API versions that became available in a minor release (the objects here need it). */
export const ADDED_APIS: readonly { apiVersion: string; kinds: readonly string[]; addedIn: number }[] = [
    { apiVersion: "policy/v1", kinds: ["PodDisruptionBudget"], addedIn: 21 },
    { apiVersion: "discovery.k8s.io/v1", kinds: ["EndpointSlice"], addedIn: 21 },
    { apiVersion: "batch/v1", kinds: ["CronJob"], addedIn: 21 },
    { apiVersion: "autoscaling/v2", kinds: ["HorizontalPodAutoscaler"], addedIn: 23 },
    {
        apiVersion: "admissionregistration.k8s.io/v1",
        kinds: ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
        addedIn: 30,
    },
];

/** The minor version of "1.33", "v1.33.1", "1.33.1-eks": 33. */
export function minorOf(version: string): number {
    const m = /^v?1\.(\d+)/.exec(version);
    if (!m) throw new Error(`not a Kubernetes 1.x version: ${version}`);
    return Number(m[1]);
}

/** Why this cluster version does not serve the object's apiVersion and kind, if it does not. */
export function servedProblem(apiVersion: string, kind: string, kubeVersion: string): string | undefined {
    const minor = minorOf(kubeVersion);
    for (const r of REMOVED_APIS) {
        if (r.apiVersion === apiVersion && (r.kinds === "*" || r.kinds.includes(kind)) && minor >= r.removedIn) {
            return `${apiVersion} ${kind} is not served by Kubernetes ${kubeVersion} (removed in 1.${r.removedIn})`;
        }
    }
    for (const a of ADDED_APIS) {
        if (a.apiVersion === apiVersion && a.kinds.includes(kind) && minor < a.addedIn) {
            return `${apiVersion} ${kind} is not served by Kubernetes ${kubeVersion} (added in 1.${a.addedIn})`;
        }
    }
    return undefined;
}

interface ModelClass {
    new (data: unknown): { validate(): void };
}
const modelCache = new Map<string, ModelClass | null>();

/** The kubernetes-models class for a built-in apiVersion/kind, or null when the package has none. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | null> {
    const key = `${apiVersion}/${kind}`;
    if (modelCache.has(key)) return modelCache.get(key) ?? null;
    let cls: ModelClass | null = null;
    // Core objects live under kubernetes-models/v1, the others under kubernetes-models/<group>/<version>.
    if (/^[A-Za-z0-9]+$/.test(kind) && /^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) {
        try {
            const mod = (await import(/* @vite-ignore */ `kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
            cls = (mod[kind] as ModelClass | undefined) ?? null;
        } catch {
            cls = null;
        }
    }
    modelCache.set(key, cls);
    return cls;
}

/** Is this an Istio API group (networking.istio.io, security.istio.io, …)? */
export function isIstioGroup(apiVersion: string): boolean {
    return /^[a-z.]+\.istio\.io\//.test(apiVersion);
}

export interface SchemaResult {
    problems: string[];
    /** Set when no schema is known for the object (a third-party kind such as metallb.io's). */
    unchecked?: string;
}

/**
 * Problems the API server of `kubeVersion` would report for the object: its apiVersion must be served,
 * and its fields must match the schema (types, required fields, enums and formats). The Kubernetes
 * OpenAPI documents leave objects open, so an unknown field of a built-in kind is not reported.
 */
export async function objectSchemaProblems(
    obj: Record<string, unknown>,
    kubeVersion: string,
    istioVersion?: string,
): Promise<SchemaResult> {
    const apiVersion = String(obj.apiVersion ?? "");
    const kind = String(obj.kind ?? "");
    if (!apiVersion || !kind) return { problems: ["(root) must have apiVersion and kind"] };
    if (isIstioGroup(apiVersion)) return { problems: istioObjectProblems(obj as { apiVersion: string; kind: string }, istioVersion) };
    const served = servedProblem(apiVersion, kind, kubeVersion);
    if (served) return { problems: [served] };
    const Model = await modelFor(apiVersion, kind);
    if (Model === null) {
        // A built-in group without a model is a mistake; a CRD-defined kind (a dotted group) is only unchecked.
        const group = apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
        if (group === "" || group.endsWith(".k8s.io") || !group.includes(".")) {
            return { problems: [`${apiVersion} ${kind}: no such kind in the Kubernetes API (kubernetes-models has no schema for it)`] };
        }
        return { problems: [], unchecked: `${apiVersion} ${kind}: no schema (a custom resource of another project)` };
    }
    try {
        new Model(obj).validate();
        return { problems: [] };
    } catch (e) {
        const errors = (e as { errors?: ErrorObject[] }).errors;
        if (Array.isArray(errors)) return { problems: formatErrors(errors, `${apiVersion} ${kind} `) };
        return { problems: [`${apiVersion} ${kind}: ${(e as Error).message}`] };
    }
}
