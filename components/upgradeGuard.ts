// The program's refusal to remove an Istio revision that something still uses (docs/upgrades.md,
// "remove-old"): before any resource is registered, in phases remove-old and abandon, `pulumi up`
// counts in every cluster what uses the revision the phase removes (components/check/revisions.ts:
// running pods it injected, namespaces and pods that ask for it by label, tags pointing at it) and
// refuses while anything does, unless mesh.istio.upgrade.removeInUse says to remove it anyway.
// The clusters are reached with the kubeconfigs the stack's last deploy exported (the phase before
// a removal always deployed them). Offline there is no cluster: the plan prints the commands that
// count the same things (offline/upgradePlan.ts upgradeChecks).
import type { ClusterAccess } from "./check/checks";
import { removalProblems, revisionPods, type RevisionPods } from "./check/revisions";
import { removedRevision, revisionKey, type RevisionRecord, UPGRADE_DOC } from "./upgrade";

export const REMOVE_IN_USE_PATH = "mesh.istio.upgrade.removeInUse";

/**
 * The problems that stop this phase: one line per cluster where the removed revision is in use or
 * that did not answer, each with the fix and the override's config path. Empty outside a removal,
 * with the override set, or without any cluster to ask (offline).
 */
export async function removalGuard(
    record: RevisionRecord,
    removeInUse: boolean,
    access: ClusterAccess[],
    count: (access: ClusterAccess[], r: RevisionRecord) => Promise<RevisionPods> = (a, r) => revisionPods(a, r, { severity: "error" }),
): Promise<string[]> {
    const gone = removedRevision(record);
    if (gone === undefined || removeInUse || access.length === 0) return [];
    const problems = removalProblems(record, await count(access, record));
    if (problems.length === 0) return [];
    const key = revisionKey(gone);
    return [
        `mesh.istio.upgrade.phase: ${record.upgrade!.phase} removes istiod revision ${key}, and the post-deploy count says it is still in use:`,
        ...problems,
        `Restart those pods so the tags' revision injects them (kubectl rollout restart deployment -n <namespace>), relabel or ` +
            `delete what asks for ${key}, then run pulumi up again (npm run check shows the count); or set ${REMOVE_IN_USE_PATH}: true ` +
            `to remove it anyway: its pods keep running without a control plane (no configuration, no certificate renewal) ` +
            `until they restart (${UPGRADE_DOC}).`,
    ];
}
