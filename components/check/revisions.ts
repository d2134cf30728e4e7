// Which workloads still use an Istio revision, through each cluster's Kubernetes API: the part of the
// post-deploy check that a revision's removal needs (components/upgrade.ts, docs/upgrades.md).
//
// An injected pod records the revision that injected it in its annotation `istio.io/rev` (and in the
// `revision` of its `sidecar.istio.io/status` annotation): manifests/charts/istio-control/
// istio-discovery/files/injection-template.yaml and pkg/kube/inject/webhook.go getInjectionStatus at
// 1.30.3 and 1.31.0-rc.0 ("Rather than setting istio.io/rev label on injected pods include them here
// in status annotation"). The pod *label* `istio.io/rev`, where a user set one, names the tag or
// revision asked for, which is not the one that injected a pod that has not restarted since the tag
// moved: so pods are counted by the annotation. A pod that has finished (Succeeded, Failed) runs no
// proxy and is not counted. Needs `list pods` in every namespace (docs/check.md).
import type { RevisionRecord } from "../upgrade";
import type { CheckResult, ClusterAccess } from "./checks";
import { request, targetOf } from "./kube";

/** What the count found, per cluster. */
export interface RevisionPods {
    /** Cluster → revision (`default` for the unrevisioned istiod) → running pods it injected. */
    counts: Record<string, Record<string, number>>;
    /** Cluster → revision → up to five of those pods, as namespace/name. */
    examples: Record<string, Record<string, string[]>>;
    unreachable: { cluster: string; why: string }[];
    /** The revision an upgrade's next removal takes away (from `revisions`), if any. */
    removing?: string;
    /** One result per cluster, check `revision-pods`: an error where the revision to be removed still injects pods. */
    results: CheckResult[];
    /** The commands that record the counts in the stack config, for the phase that removes the revision (remove-old or abandon). */
    record: string[];
}

/**
 * Count, in every cluster, the running pods each Istio revision injected. With `revisions` (the
 * stack's record: plan.json istio.revisions or the stack output istioRevisions), the revision the
 * upgrade removes next is judged: in phase gateways (and remove-old) the old one, in phase install
 * (before abandon) the new one. The program refuses that removal unless the config records a count
 * of 0 for every cluster (mesh.istio.upgrade.removedRevisionPods) or overrides it (removeInUse).
 */
export async function revisionPods(
    access: ClusterAccess[],
    opts: { revisions?: RevisionRecord; timeoutMs?: number; pageSize?: number } = {},
): Promise<RevisionPods> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const u = opts.revisions?.upgrade;
    const key = (r: string) => (r === "" ? "default" : r);
    const removing = !u
        ? undefined
        : u.phase === "gateways" || u.phase === "remove-old"
          ? key(opts.revisions!.revision)
          : u.phase === "install" || u.phase === "abandon"
            ? key(u.revision)
            : undefined;
    const out: RevisionPods = { counts: {}, examples: {}, unreachable: [], ...(removing ? { removing } : {}), results: [], record: [] };
    for (const c of access) {
        const counts: Record<string, number> = {};
        const examples: Record<string, string[]> = {};
        try {
            const t = targetOf(c.kubeconfig, c.context);
            let cont: string | undefined;
            do {
                const q = new URLSearchParams({ limit: String(opts.pageSize ?? 500), ...(cont ? { continue: cont } : {}) });
                const list = await request(t, "GET", `/api/v1/pods?${q}`, { timeoutMs });
                for (const p of list?.items ?? []) {
                    const phase = p?.status?.phase;
                    if (phase === "Succeeded" || phase === "Failed") continue;
                    const ann = (p?.metadata?.annotations ?? {}) as Record<string, string>;
                    let rev: string | undefined = ann["istio.io/rev"];
                    if (rev === undefined && ann["sidecar.istio.io/status"] !== undefined) {
                        try {
                            rev = (JSON.parse(ann["sidecar.istio.io/status"]) as { revision?: string }).revision ?? "default";
                        } catch {
                            rev = "default";
                        }
                    }
                    if (rev === undefined) continue;
                    counts[rev] = (counts[rev] ?? 0) + 1;
                    const ex = (examples[rev] ??= []);
                    if (ex.length < 5) ex.push(`${p.metadata?.namespace}/${p.metadata?.name}`);
                }
                cont = list?.metadata?.continue || undefined;
            } while (cont);
        } catch (e) {
            out.unreachable.push({ cluster: c.name, why: (e as Error).message });
            continue;
        }
        out.counts[c.name] = counts;
        out.examples[c.name] = examples;
        const text = Object.keys(counts).length
            ? Object.entries(counts)
                  .sort(([a], [b]) => (a < b ? -1 : 1))
                  .map(([r, n]) => `${n} pod${n === 1 ? "" : "s"} injected by revision ${r}`)
                  .join(", ")
            : "no injected pods";
        const inUse = removing ? (counts[removing] ?? 0) : 0;
        out.results.push({
            cluster: c.name,
            check: "revision-pods",
            ok: inUse === 0,
            severity: "error",
            message:
                inUse === 0
                    ? `${text}${removing ? `; revision ${removing}, which the upgrade removes next, injects none` : ""}`
                    : `${text}: revision ${removing}, which the upgrade removes next, still injects ${inUse} (${examples[removing!]!.join(", ")}${inUse > 5 ? ", …" : ""})`,
            ...(inUse > 0
                ? {
                      fix:
                          `restart them (kubectl rollout restart deployment -n <namespace>) so the tags' revision injects them, then ` +
                          `check again; removing ${removing} now leaves them without a control plane`,
                  }
                : {}),
        });
    }
    if (removing && out.unreachable.length === 0)
        for (const c of access)
            out.record.push(
                `pulumi config set --path 'mesh.istio.upgrade.removedRevisionPods.${c.name}' ${out.counts[c.name]?.[removing] ?? 0}`,
            );
    return out;
}
