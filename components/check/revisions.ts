// Which workloads still use an Istio revision, through each cluster's Kubernetes API: the part of the
// post-deploy check that a revision's removal needs (components/upgrade.ts, docs/upgrades.md), and
// what the program asks before it removes one (components/upgradeGuard.ts).
//
// What uses a revision `r` in a cluster:
//   - running pods it injected. An injected pod records the revision that injected it in its
//     annotation `istio.io/rev` (and in the `revision` of its `sidecar.istio.io/status` annotation):
//     manifests/charts/istio-control/istio-discovery/files/injection-template.yaml and
//     pkg/kube/inject/webhook.go getInjectionStatus at 1.30.3 and 1.31.0-rc.0 ("Rather than setting
//     istio.io/rev label on injected pods include them here in status annotation"). The pod *label*
//     `istio.io/rev`, where a user set one, names the tag or revision asked for, not the one that
//     injected a pod that has not restarted since the tag moved: so injected pods are counted by the
//     annotation. A pod that has finished (Succeeded, Failed) runs no proxy and is not counted;
//   - namespaces and pods labelled `istio.io/rev=r` (their next pods ask for r by name: once r's
//     webhook is gone they start without a sidecar). For the unrevisioned istiod (`default`) that
//     label names the default tag, which follows the tags, so it is not counted;
//   - revision tags pointing at r: MutatingWebhookConfigurations labelled `istio.io/tag` with
//     `istio.io/rev=r` (templates/revision-tags-mwc.yaml; `istioctl tag set` writes the same).
// Needs `list` on pods, namespaces and mutatingwebhookconfigurations in every cluster (docs/check.md).
import { DEFAULT_REVISION, removedRevision, revisionKey, type RevisionRecord } from "../upgrade";
import type { CheckResult, ClusterAccess, Severity } from "./checks";
import { type KubeTarget, request, targetOf } from "./kube";

/** What uses one revision in one cluster. */
export interface RevisionUse {
    /** Running pods the revision injected (annotation istio.io/rev). */
    pods: number;
    /** Up to five of them, as namespace/name. */
    examples: string[];
    /** Namespaces labelled istio.io/rev=<revision> (not counted for `default`: that label is the default tag). */
    namespaces: string[];
    /** Pods labelled istio.io/rev=<revision> that no other count holds (same rule). */
    labelledPods: string[];
    /** Revision tags (their webhook configurations) pointing at the revision. */
    tags: string[];
}

export function inUse(u: RevisionUse): boolean {
    return u.pods > 0 || u.namespaces.length > 0 || u.labelledPods.length > 0 || u.tags.length > 0;
}

/** One line: what uses the revision, or that nothing does. */
export function describeUse(revision: string, u: RevisionUse): string {
    if (!inUse(u))
        return `nothing uses revision ${revision}: no pod it injected runs, no namespace or pod asks for it, no tag points at it`;
    const parts: string[] = [];
    if (u.pods > 0)
        parts.push(
            `${u.pods} running pod${u.pods === 1 ? "" : "s"} it injected (${u.examples.join(", ")}${u.pods > u.examples.length ? ", …" : ""})`,
        );
    if (u.namespaces.length)
        parts.push(`namespace${u.namespaces.length === 1 ? "" : "s"} ${u.namespaces.join(", ")} labelled istio.io/rev=${revision}`);
    if (u.labelledPods.length)
        parts.push(`pod${u.labelledPods.length === 1 ? "" : "s"} ${u.labelledPods.join(", ")} labelled istio.io/rev=${revision}`);
    if (u.tags.length) parts.push(`tag${u.tags.length === 1 ? "" : "s"} ${u.tags.join(", ")} pointing at it`);
    return `revision ${revision} is in use: ${parts.join("; ")}`;
}

async function list(t: KubeTarget, path: string, timeoutMs: number, pageSize: number): Promise<any[]> {
    const items: any[] = [];
    let cont: string | undefined;
    do {
        const sep = path.includes("?") ? "&" : "?";
        const q = new URLSearchParams({ limit: String(pageSize), ...(cont ? { continue: cont } : {}) });
        const page = await request(t, "GET", `${path}${sep}${q}`, { timeoutMs });
        items.push(...(page?.items ?? []));
        cont = page?.metadata?.continue || undefined;
    } while (cont);
    return items;
}

/** The revision that injected a pod (its annotation, else its sidecar status), or undefined when not injected. */
export function injectedBy(pod: any): string | undefined {
    const ann = (pod?.metadata?.annotations ?? {}) as Record<string, string>;
    if (ann["istio.io/rev"] !== undefined) return ann["istio.io/rev"];
    if (ann["sidecar.istio.io/status"] === undefined) return undefined;
    try {
        return (JSON.parse(ann["sidecar.istio.io/status"]) as { revision?: string }).revision || DEFAULT_REVISION;
    } catch {
        return DEFAULT_REVISION;
    }
}

/** Everything that uses each of `revisions` (keys as Istio labels them: `default` for the unrevisioned istiod) in one cluster. */
export async function revisionUse(
    t: KubeTarget,
    revisions: string[],
    opts: { timeoutMs?: number; pageSize?: number } = {},
): Promise<Record<string, RevisionUse>> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const pageSize = opts.pageSize ?? 500;
    const out: Record<string, RevisionUse> = Object.fromEntries(
        revisions.map((r) => [r, { pods: 0, examples: [], namespaces: [], labelledPods: [], tags: [] }]),
    );
    const pods = await list(t, "/api/v1/pods", timeoutMs, pageSize);
    const id = (o: any) => `${o?.metadata?.namespace}/${o?.metadata?.name}`;
    for (const p of pods) {
        const phase = p?.status?.phase;
        if (phase === "Succeeded" || phase === "Failed") continue;
        const by = injectedBy(p);
        if (by !== undefined && out[by]) {
            out[by].pods++;
            if (out[by].examples.length < 5) out[by].examples.push(id(p));
            continue;
        }
        const asked = p?.metadata?.labels?.["istio.io/rev"];
        if (asked !== undefined && asked !== DEFAULT_REVISION && out[asked]) out[asked].labelledPods.push(id(p));
    }
    const named = revisions.filter((r) => r !== DEFAULT_REVISION);
    if (named.length) {
        const sel = encodeURIComponent(`istio.io/rev in (${named.join(",")})`);
        for (const ns of await list(t, `/api/v1/namespaces?labelSelector=${sel}`, timeoutMs, pageSize))
            out[ns.metadata.labels["istio.io/rev"]]?.namespaces.push(ns.metadata.name);
    }
    const tags = await list(
        t,
        `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?labelSelector=${encodeURIComponent("istio.io/tag")}`,
        timeoutMs,
        pageSize,
    );
    for (const w of tags) out[w.metadata?.labels?.["istio.io/rev"]]?.tags.push(w.metadata.labels["istio.io/tag"]);
    for (const u of Object.values(out)) {
        u.namespaces.sort();
        u.labelledPods.sort();
        u.tags.sort();
    }
    return out;
}

/** What the count found across the mesh. */
export interface RevisionPods {
    /** Cluster → revision (`default` for the unrevisioned istiod) → what uses it. */
    use: Record<string, Record<string, RevisionUse>>;
    unreachable: { cluster: string; why: string }[];
    /** The revision the upgrade's current or next phase removes (removeTarget), if any. */
    removing?: string;
    /** One result per reachable cluster, check `revision-in-use`: not ok where the revision to be removed is still in use. */
    results: CheckResult[];
}

/**
 * The revision an upgrade takes away in the phase after `r` or in `r` itself: the old one in phases
 * gateways and remove-old (remove-old removes it), the new one in phase abandon.
 */
export function removeTarget(r: RevisionRecord | undefined): string | undefined {
    const u = r?.upgrade;
    if (!r || !u) return undefined;
    if (u.phase === "gateways" || u.phase === "remove-old") return revisionKey(r.revision);
    if (u.phase === "abandon") return revisionKey(u.revision);
    return undefined;
}

/**
 * In every cluster, what uses the revisions of `revisions` (the stack's record: plan.json's
 * istio.revisions or the stack output istioRevisions), judged for the revision the upgrade removes
 * (removeTarget). `severity`: `warning` in the post-deploy check (in phase gateways pods still run the
 * old proxy until the user restarts them: that is the next step, not a broken deploy), `error` where
 * the removal is about to happen (components/upgradeGuard.ts).
 */
export async function revisionPods(
    access: ClusterAccess[],
    revisions: RevisionRecord,
    opts: { timeoutMs?: number; pageSize?: number; severity?: Severity } = {},
): Promise<RevisionPods> {
    const removing = removeTarget(revisions);
    const out: RevisionPods = { use: {}, unreachable: [], ...(removing ? { removing } : {}), results: [] };
    for (const c of access) {
        let use: Record<string, RevisionUse>;
        try {
            use = await revisionUse(targetOf(c.kubeconfig, c.context), revisionKeys(revisions), opts);
        } catch (e) {
            out.unreachable.push({ cluster: c.name, why: (e as Error).message });
            continue;
        }
        out.use[c.name] = use;
        out.results.push(revisionUseResult(c.name, use, revisions, opts.severity ?? "warning"));
    }
    return out;
}

/** The revisions a record runs, as Istio labels them. */
export function revisionKeys(r: RevisionRecord): string[] {
    return [revisionKey(r.revision), ...(r.upgrade ? [revisionKey(r.upgrade.revision)] : [])];
}

/** The check `revision-in-use` of one cluster: the pods each revision injected, and what uses the revision the upgrade removes. */
export function revisionUseResult(
    cluster: string,
    use: Record<string, RevisionUse>,
    revisions: RevisionRecord,
    severity: Severity,
): CheckResult {
    const removing = removeTarget(revisions);
    const counts = revisionKeys(revisions)
        .map((k) => `${use[k]?.pods ?? 0} pod${use[k]?.pods === 1 ? "" : "s"} injected by ${k}`)
        .join(", ");
    const gone = removing ? use[removing] : undefined;
    const busy = gone !== undefined && inUse(gone);
    return {
        cluster,
        check: "revision-in-use",
        ok: !busy,
        severity,
        message: removing
            ? `${counts}; ${busy ? describeUse(removing, gone!) : `nothing uses revision ${removing}, which the upgrade removes`}`
            : counts,
        ...(busy
            ? {
                  fix:
                      `restart those pods (kubectl rollout restart deployment -n <namespace>) so the tags' revision injects them, ` +
                      `relabel the namespaces (istio.io/rev=<a tag>), move the tags; then check again. Removing ${removing} now ` +
                      `leaves them without a control plane`,
              }
            : {}),
    };
}

/** Whether the removal in phase `r` (remove-old or abandon) would take a revision something uses. */
export function removalProblems(r: RevisionRecord, found: RevisionPods): string[] {
    const gone = removedRevision(r);
    if (gone === undefined) return [];
    const key = revisionKey(gone);
    const out: string[] = [];
    for (const u of found.unreachable) out.push(`cluster ${u.cluster} did not answer the count of what uses revision ${key}: ${u.why}`);
    for (const [cluster, use] of Object.entries(found.use))
        if (use[key] && inUse(use[key])) out.push(`${cluster}: ${describeUse(key, use[key])}`);
    return out;
}
