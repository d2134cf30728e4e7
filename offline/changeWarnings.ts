// The change plan's warnings: one `!! WARNING` line per disruptive change, each saying what breaks
// and for how long, so that no replacement, deletion or delete-first step can pass as "no change".
// Pure: the classified changes (offline/changes.ts) and the two plan files they came from.
//
// The classes:
//   - CLUSTER REPLACED / CLUSTER DELETED: what its platform calls the cluster (a GKE or EKS cluster,
//     a kind cluster's create command: components/platforms/<name>/, `resources.isCluster`);
//   - CLUSTER LEAVES THE MESH: a cluster's Kubernetes provider is deleted (an `existing` cluster
//     removed or renamed): Istio is uninstalled from it;
//   - PROVIDER REPLACED: a cluster's Kubernetes provider is replaced while the cluster is not, so
//     every object in it is replaced create-first under the same names (see SAME_NAME_CREATE_FIRST);
//   - ISTIOD REMOVED: a cluster stays but stops running istiod (primary → remote);
//   - ROOT OF TRUST REPLACED / INTERMEDIATE CA RE-ISSUED: trust changes;
//   - SAME-NAME REPLACEMENT, CREATE-FIRST and … DELETED BEFORE ITS REPLACEMENT: a fixed-name object
//     (a Helm release, a Namespace, a Secret with its own metadata.name) replaced outside the classes above;
//   - PROTECTED RESOURCE IN THE WAY: the deploy stops.
import { parseClusterIdentifier } from "../components/platforms/clusterIdentifier";
import { PLATFORMS } from "../components/platforms/registry";
import { TYPES } from "../components/pulumiTypes";
import { shellWord } from "../components/rotation";
import type { ResourceChange } from "./changes";
import type { PlanCluster, PlanFile } from "./planFile";
import type { PlanResource } from "./planResources";

const ROOT_TYPES = new Set<string>([TYPES.selfSignedCert]);
const INTERMEDIATE_TYPE = TYPES.locallySignedCert;
const K8S_PROVIDER = TYPES.k8sProvider;
const RELEASE = TYPES.release;
const SECRET = TYPES.secret;
const NAMESPACE = TYPES.namespace;

/**
 * What a create-first replacement of an object whose name stays does on the same cluster. The
 * provider @pulumi/kubernetes 4.34.2 runs creates client-side since pulumi-kubernetes 4.29.0
 * (PR #4278, CHANGELOG "#2926 Use client-side create for new resources"): the create of an object
 * that exists fails with AlreadyExists. Before it (the v4.25.0 source that the local end-to-end
 * engine builds; provider/pkg/await/await.go there: "we currently always upsert the object") the
 * create takes the live object over, and the engine's delete of the old resource then deletes it.
 * Helm refuses to install a release whose name is in use. Seen on a real engine:
 * docs/change-rules.md.
 */
export const SAME_NAME_CREATE_FIRST =
    "a create-first replacement of an object whose name stays makes no second object on the same cluster. With " +
    "pulumi-kubernetes 4.34.2 (what @pulumi/kubernetes 4.34.2 runs; client-side create since 4.29.0, PR #4278) the create fails " +
    'with AlreadyExists and a Helm release with "cannot re-use a name that is still in use": `up` stops and the stack is left ' +
    "with pending replacements. With a provider before 4.29 (or upsertExistingObjects: true) the create takes over the live " +
    "object and the delete of the old resource then deletes it: the objects are gone from the cluster while the state says " +
    "they exist, until a refresh and another `up`";

/** A resource that is a Kubernetes cluster, as its platform says (e.g. a GKE or EKS cluster, a kind cluster's create Command). */
export function isCluster(r: PlanResource): boolean {
    return PLATFORMS.some((p) => p.resources.isCluster(r));
}

/**
 * The name an object has in its cluster, when the program fixes it: `namespace/name` of a Kubernetes
 * object with `metadata.name`, or of a Helm release. Undefined for auto-named objects and non-Kubernetes resources.
 */
export function fixedName(r: PlanResource): string | undefined {
    const [name, ns] =
        r.type === RELEASE ? [r.decisive.name, r.decisive.namespace] : [r.decisive["metadata.name"], r.decisive["metadata.namespace"]];
    if (!r.type.startsWith("kubernetes:") || typeof name !== "string") return undefined;
    return `${typeof ns === "string" ? `${ns}/` : ""}${name}`;
}

/** How a reviewer names an object: `Secret istio-system/cacerts`, `Helm release istio-system/istiod`. */
function objectLabel(r: PlanResource): string {
    const kind = r.type === RELEASE ? "Helm release" : r.type.split(":").pop();
    return `${kind} ${fixedName(r) ?? r.name}`;
}

/** At most `n` items, then how many more. */
function some(items: string[], n = 6): string {
    return items.length <= n ? items.join(", ") : `${items.slice(0, n).join(", ")} and ${items.length - n} more`;
}

function roleText(c: PlanCluster): string {
    return c.role === "remote" ? `remote of ${c.primary ?? "?"}` : c.role;
}

export interface WarningInput {
    changes: ResourceChange[];
    before: PlanFile;
    after: PlanFile;
    news: Map<string, PlanResource>;
    olds: Map<string, PlanResource>;
    /** Each cluster's kubectl context, for the commands the warnings print (offline/contexts.ts). */
    contexts?: Record<string, string>;
}

export function changeWarnings({ changes, before, after, news, olds, contexts = {} }: WarningInput): string[] {
    const out: string[] = [];
    const byKey = new Map(changes.map((c) => [c.key, c]));
    const res = (key: string): PlanResource | undefined => news.get(key) ?? olds.get(key);
    /** The mesh cluster behind a Kubernetes provider: from its clusterIdentifier, else its name. */
    const clusterOf = (providerKey: string | null | undefined): string | undefined => {
        if (!providerKey) return undefined;
        const p = res(providerKey);
        if (!p) return undefined;
        return parseClusterIdentifier(p.decisive.clusterIdentifier)?.cluster ?? p.name.replace(/-k8s$/, "");
    };
    const objectsOn = (providerKey: string, map: Map<string, PlanResource>) =>
        [...map.values()].filter((x) => x.provider === providerKey && x.custom && !x.read);
    /** The replacements a change follows from (its cause, that one's cause, …). */
    const causes = (ch: ResourceChange): ResourceChange[] => {
        const chain: ResourceChange[] = [];
        for (let c = ch.cause ? byKey.get(ch.cause) : undefined; c && !chain.includes(c); c = c.cause ? byKey.get(c.cause) : undefined)
            chain.push(c);
        return chain;
    };
    const clusterReplaced = (ch: ResourceChange) => causes(ch).some((c) => isCluster(res(c.key)!));
    const providerReplaced = (ch: ResourceChange) => causes(ch).some((c) => c.type === K8S_PROVIDER && c.kind === "replace");
    const clusterNameOfResource = (r: PlanResource): string => {
        const provider = [...news.values(), ...olds.values()].find(
            (p) => p.type === K8S_PROVIDER && p.options.dependsOn.includes(r.key) && clusterOf(p.key),
        );
        return (provider && clusterOf(provider.key)) ?? r.name.replace(/-cluster$/, "");
    };

    // Clusters replaced or deleted (the cloud resource, or a kind cluster's create command).
    for (const ch of changes) {
        const r = res(ch.key)!;
        if (!isCluster(r) || (ch.kind !== "replace" && ch.kind !== "delete")) continue;
        const cluster = clusterNameOfResource(r);
        if (ch.kind === "delete") {
            const providers = [...olds.values()].filter((p) => p.type === K8S_PROVIDER && p.options.dependsOn.includes(r.key));
            const objects = providers.flatMap((p) => objectsOn(p.key, olds)).length;
            const renamed = changes.some((c) => c.kind === "create" && isCluster(res(c.key)!));
            out.push(
                `CLUSTER DELETED: ${cluster} (${r.name} is no longer registered${renamed ? "; a cluster is created in the same update: a rename is a delete and a create" : ""}). ` +
                    `The cluster and everything in it, your workloads included, is deleted, after the ${objects} mesh objects on it. ` +
                    `Permanent: the clusters that read ${cluster} delete its remote secret and lose its endpoints at once.`,
            );
            continue;
        }
        const providers = [...news.values()].filter((p) => p.type === K8S_PROVIDER && p.options.dependsOn.includes(r.key));
        const kept = providers.filter((p) => byKey.get(p.key)?.kind !== "replace");
        const objects = providers.flatMap((p) => objectsOn(p.key, news)).length;
        const head = `CLUSTER REPLACED: ${cluster} (${r.name}: ${ch.reasons.join("; ")}), ${ch.order}. A new, empty cluster takes its place`;
        if (kept.length) {
            out.push(
                `${head}, but its Kubernetes provider ${kept.map((p) => p.name).join(", ")} is NOT replaced (clusterIdentifier unchanged): ` +
                    `state will say the ${objects} objects it manages exist in the new cluster, and no deploy re-creates them.`,
            );
            continue;
        }
        const when =
            ch.order === "delete-first"
                ? `Delete-first: the engine deletes those objects, then the cluster, before it creates the new one, so ${cluster} and ` +
                  "its workloads are out of the mesh from the start of the update until the new cluster, Istio and your workloads are up " +
                  "(the cluster's create time plus Istio's: offline/bench/model.ts)."
                : `Create-first: the old cluster serves until the update deletes it at the end; its peers move to the new API server as ` +
                  "their remote secrets are rewritten.";
        out.push(
            `${head}; its Kubernetes provider is replaced, so the ${objects} mesh objects on it are created again in the new cluster, ` +
                `but your own workloads are not: deploy them there again. ${when}`,
        );
    }

    // Kubernetes providers deleted or replaced where the cluster itself is not.
    for (const ch of changes) {
        if (ch.type !== K8S_PROVIDER) continue;
        const cluster = clusterOf(ch.key) ?? ch.name;
        if (ch.kind === "delete") {
            const p = olds.get(ch.key)!;
            if (p.options.dependsOn.some((d) => byKey.get(d)?.kind === "delete" && isCluster(res(d)!))) continue; // CLUSTER DELETED says it
            const objects = objectsOn(ch.key, olds);
            const named = objects.map((o) => (fixedName(o) ? objectLabel(o) : "")).filter(Boolean);
            out.push(
                `CLUSTER LEAVES THE MESH: ${cluster}: its provider ${ch.name} and the ${objects.length} objects on it are deleted ` +
                    `(${some(named)}), so Istio is uninstalled from ${cluster}; deleting a Namespace deletes everything in it. At once and for ` +
                    `good: ${cluster}'s sidecars lose their control plane (they keep their last configuration and certificates, 24 h by ` +
                    `default, and get no updates), and the clusters that read ${cluster} delete its remote secret, so its endpoints leave ` +
                    `their registries. The cluster itself stays. A renamed cluster is a removal and a new cluster.`,
            );
            continue;
        }
        if (ch.kind !== "replace" || clusterReplaced(ch)) continue;
        const oldP = olds.get(ch.from ?? ch.key);
        const newP = news.get(ch.key)!;
        const objects = objectsOn(ch.key, news);
        const sameNamed = objects.filter((o) => {
            const was = olds.get(byKey.get(o.key)?.from ?? o.key);
            return fixedName(o) !== undefined && was && fixedName(was) === fixedName(o);
        });
        const orders = new Set(objects.map((o) => byKey.get(o.key)?.order).filter(Boolean));
        const order = orders.size === 1 ? [...orders][0] : "create-first or delete-first";
        const oldId = parseClusterIdentifier(oldP?.decisive.clusterIdentifier);
        const newId = parseClusterIdentifier(newP.decisive.clusterIdentifier);
        const fix =
            oldId && newId && oldId.instance !== newId.instance
                ? `If ${cluster} is the same cluster, keep its identity: set identity: "${oldId.instance}" on cluster ${cluster} ` +
                  `(its current value; docs/deploy.md, "A real deploy"), or undo the change.`
                : `If ${cluster} is the same cluster, undo the change of its kubeconfig, context or clusterIdentifier.`;
        // What the same-named objects' order does on the same API server (deleteBeforeReplace set on them, or not).
        const createFirst = sameNamed.filter((o) => byKey.get(o.key)?.order !== "delete-first");
        const consequence = createFirst.length
            ? SAME_NAME_CREATE_FIRST
            : "the same-named objects are deleted and created again on the same API server: the mesh in that cluster is down " +
              "from their delete until the update re-creates them, and deleting a Namespace deletes everything else in it too";
        out.push(
            `PROVIDER REPLACED: ${ch.name} (cluster ${cluster}; ${ch.reasons.join("; ")}). All ${objects.length} objects on it are ` +
                `replaced ${order}, ${sameNamed.length} under the names they have (${some(sameNamed.map(objectLabel))}). Unless ` +
                `${cluster} really is a new, empty cluster, ${consequence}. ${fix}`,
        );
    }

    // A cluster that stays but stops running istiod (a topology switch, primary → remote).
    const afterByName = new Map(after.clusters.map((c) => [c.name, c]));
    for (const b of before.clusters ?? []) {
        const a = afterByName.get(b.name);
        if (!a || !b.runsIstiod || a.runsIstiod) continue;
        const primary = a.primary ?? "its primary";
        out.push(
            `ISTIOD REMOVED: ${b.name} stops running istiod (${roleText(b)} → ${roleText(a)}): its istiod release becomes the ` +
                `remote profile and its cacerts and intermediate CA are deleted. From that upgrade until ${b.name}'s sidecars and ` +
                `gateways reach ${primary}'s istiod through ${primary}'s east-west gateway (set up in the same update), ${b.name} gets ` +
                `no configuration or certificate updates and pod injection there depends on that path; running pods keep their last ` +
                `configuration and certificates (24 h by default) and then get them from ${primary}'s intermediate under the same ` +
                `root. Check \`istioctl --context ${shellWord(contexts[primary] ?? primary)} proxy-status\` afterwards.`,
        );
    }

    // Trust: the root replaced; an intermediate re-issued in a cluster that keeps istiod.
    const keepsIstiod = new Set(after.clusters.filter((c) => c.runsIstiod).map((c) => c.name));
    const reissued = new Set<string>();
    for (const ch of changes) {
        const r = res(ch.key)!;
        if ((ch.kind === "replace" || ch.kind === "delete") && ROOT_TYPES.has(r.type)) {
            out.push(
                `ROOT OF TRUST ${ch.kind === "delete" ? "DELETED" : "REPLACED"}: ${r.name} (${ch.reasons.join("; ")}). ` +
                    "Every workload must get a certificate from the new root; until all have, mTLS between old and new fails.",
            );
        }
        if (ch.kind === "create" && ROOT_TYPES.has(r.type) && [...olds.values()].some((o) => ROOT_TYPES.has(o.type) && !news.has(o.key))) {
            out.push(
                `ROOT OF TRUST REPLACED: ${r.name} is a new root (the old one is deleted). ` +
                    "Every workload must get a certificate from the new root; until all have, mTLS between old and new fails.",
            );
        }
        if (r.type === INTERMEDIATE_TYPE && (ch.kind === "replace" || ch.kind === "create")) {
            const cluster = /-trust-(.+?)(?:-g\d+)?-intermediate-cert$/.exec(r.name)?.[1];
            const had = [...olds.values()].some((o) => o.type === INTERMEDIATE_TYPE && o.name.includes(`-trust-${cluster}-`));
            if (cluster && keepsIstiod.has(cluster) && (ch.kind === "replace" || had) && !reissued.has(cluster)) {
                reissued.add(cluster);
                out.push(
                    `INTERMEDIATE CA RE-ISSUED: ${cluster} (${r.name} ${ch.kind === "replace" ? "replaced" : "created, the old one deleted"}): ` +
                        `${cluster}'s cacerts is rewritten and istiod there loads the new intermediate; workloads in ${cluster} get ` +
                        "certificates from it as theirs rotate (24 h). Under the same root traffic keeps flowing.",
                );
            }
        }
    }

    // Fixed-name objects replaced outside a provider or cluster replacement.
    for (const ch of changes) {
        if (ch.kind !== "replace" || clusterReplaced(ch) || providerReplaced(ch)) continue;
        const r = news.get(ch.key)!;
        const was = olds.get(ch.from ?? ch.key);
        const name = fixedName(r);
        if (!name || !was || fixedName(was) !== name) continue;
        const where = clusterOf(r.provider) ? ` in ${clusterOf(r.provider)}` : "";
        if (ch.order === "create-first") {
            out.push(
                `SAME-NAME REPLACEMENT, CREATE-FIRST: ${objectLabel(r)}${where} (${r.name}: ${ch.reasons.join("; ")}): ${SAME_NAME_CREATE_FIRST}. ` +
                    "Set deleteBeforeReplace on it, or avoid the change.",
            );
        } else if (r.type === SECRET) {
            out.push(
                `SECRET DELETED BEFORE ITS REPLACEMENT: ${r.name} (${ch.reasons.join("; ")}). ` +
                    "Between the delete and the create the Secret does not exist " +
                    "(for cacerts, an istiod that restarts then falls back to a self-signed CA; for a remote secret, the peer drops). " +
                    "Set enableSecretMutable on the Kubernetes provider to update it in place.",
            );
        } else if (r.type === NAMESPACE) {
            out.push(
                `NAMESPACE DELETED BEFORE ITS REPLACEMENT: ${name}${where} (${r.name}: ${ch.reasons.join("; ")}): deleting a Namespace ` +
                    "deletes every object in it (for istio-system: istiod, the gateways, cacerts, the remote secrets), and none of it " +
                    "is back until the update re-creates what this program manages; anything else there is lost.",
            );
        } else {
            out.push(
                `DELETED BEFORE ITS REPLACEMENT: ${objectLabel(r)}${where} (${r.name}: ${ch.reasons.join("; ")}): it does not exist ` +
                    "between the delete and the create.",
            );
        }
    }

    for (const ch of changes) {
        if (!ch.blocked) continue;
        const r = res(ch.key)!;
        out.push(
            `PROTECTED RESOURCE IN THE WAY: ${r.name} (${r.type}) would be ${ch.kind === "delete" ? "deleted" : "replaced"}: ${ch.blocked}.`,
        );
    }
    return out;
}
