// What the offline plan says about Istio versions and revisions (components/upgrade.ts, docs/upgrades.md):
//   - in the mesh diff: the upgrade phase moving, the steps refused (a skipped phase, tags out of
//     order, a finish that does not land on the new revision, an in-place minor downgrade), and the
//     warning of an in-place upgrade: what restarts where;
//   - in the change plan: what the phase creates, upgrades and deletes, and what the user must restart;
//   - with the plan's summary: the commands that check the current phase in every cluster,
//     including, before a revision is removed, the count of the pods it still injects.
// Pure: plan files in, lines out.
import { CHARTS, ISTIO_CHART_NAMES, ISTIO_NAMESPACE, minorOf } from "../components/istio";
import { shellWord } from "../components/rotation";
import {
    DEFAULT_TAG,
    istiodName,
    phaseEffects,
    type RevisionRecord,
    revisionKey,
    tagWebhookName,
    UPGRADE_DOC,
    upgradeStepProblems,
} from "../components/upgrade";
import type { ResourceChange } from "./changes";
import type { PlanFile } from "./planFile";
import { TYPES } from "../components/pulumiTypes";

const RELEASE = TYPES.release;
const TAG = TYPES.mutatingWebhook;

function revisionsOf(p: PlanFile): RevisionRecord | undefined {
    return p.istio?.revisions;
}

/** An upgrade is in progress in either plan: the charts of two versions are expected side by side. */
export function upgradeInProgress(before: PlanFile, after: PlanFile): boolean {
    return !!revisionsOf(before)?.upgrade || !!revisionsOf(after)?.upgrade;
}

function istioVersions(p: PlanFile): string[] {
    const charts = p.clusters.flatMap((c) => Object.values(c.charts)).filter((ch) => ISTIO_CHART_NAMES.includes(ch.chart));
    return [...new Set(charts.map((ch) => ch.version))].sort();
}

export interface RevisionDiff {
    lines: string[];
    warnings: string[];
    refusals: string[];
}

/** The mesh diff's part about versions and revisions. */
export function revisionDiff(before: PlanFile, after: PlanFile): RevisionDiff {
    const out: RevisionDiff = { lines: [], warnings: [], refusals: [] };
    const a = revisionsOf(before);
    const b = revisionsOf(after);
    if (a && b) out.refusals.push(...upgradeStepProblems(a, b));
    if (b?.upgrade) {
        const u = b.upgrade;
        const was = a?.upgrade ? (a.upgrade.phase === "tags" ? `tags (${a.upgrade.moved.join(", ")})` : a.upgrade.phase) : "none";
        const now = u.phase === "tags" ? `tags (${u.moved.join(", ")})` : u.phase;
        out.lines.push(`istio upgrade ${b.version} (${revisionKey(b.revision)}) → ${u.version} (${u.revision}): phase ${was} → ${now}`);
        for (const e of phaseEffects(b, after.clusters).does) out.lines.push(`istio upgrade: ${e}`);
    } else if (a?.upgrade && b) {
        out.lines.push(
            `istio upgrade ${a.version} → ${a.upgrade.version} finished: revision ${revisionKey(b.revision)} (${b.version}) runs everywhere`,
        );
    }
    if (!upgradeInProgress(before, after)) {
        const w = inPlaceWarning(before, after);
        if (w) out.warnings.push(w);
    }
    return out;
}

/**
 * An in-place change of the version (no upgrade block before or after): every cluster's releases move
 * to the new charts in one deploy. A patch is how Istio moves within a minor; a minor is better done
 * by revisions. Either way: what restarts, where, and what the user restarts afterwards.
 */
export function inPlaceWarning(before: PlanFile, after: PlanFile): string | undefined {
    const [was, now] = [istioVersions(before), istioVersions(after)];
    if (was.length === 0 || now.length === 0 || was.join() === now.join()) return undefined;
    const kept = new Set(before.clusters.map((c) => c.name));
    const common = after.clusters.filter((c) => kept.has(c.name));
    const primaries = common.filter((c) => c.runsIstiod).map((c) => c.name);
    const gateways = common.filter((c) => c.gateway).map((c) => c.name);
    const restarts =
        `istiod restarts in ${primaries.length ? primaries.join(", ") : "no cluster"}; the east-west gateways roll in ` +
        `${gateways.length ? gateways.join(", ") : "no cluster"} (their pods are injected again, with the new proxy); every ` +
        `sidecar keeps its old proxy until its pod restarts: afterwards restart workloads namespace by namespace ` +
        `(kubectl rollout restart deployment -n <ns>) and watch istioctl proxy-status`;
    const minors = (vs: string[]) => [...new Set(vs.map(minorOf))].join();
    if (minors(was) === minors(now))
        return (
            `ISTIO PATCH UPGRADE IN PLACE (${was.join(", ")} → ${now.join(", ")}): the base, istiod and east-west gateway releases of ` +
            `${common.length === 1 ? "the cluster" : `all ${common.length} clusters`} (${common.map((c) => c.name).join(", ")}) move to the ` +
            `new patch in this deploy: ${restarts}.`
        );
    return (
        `ISTIO MINOR VERSION CHANGES (${was.join(", ")} → ${now.join(", ")}): this deploy upgrades every control plane ` +
        `in place at once: the base, istiod and east-west gateway releases of ${common.length === 1 ? "the cluster" : `all ${common.length} clusters`} ` +
        `(${common.map((c) => c.name).join(", ")}) move to the new charts together, with no canary revision to compare against or ` +
        `roll back to; ${restarts}. A revision-based upgrade moves one cluster at a time instead (istio.upgrade, ${UPGRADE_DOC}).`
    );
}

/**
 * The change plan's summary of an upgrade phase: the Istio releases and tags it creates, upgrades and
 * deletes (from the classified changes), then what the user must restart.
 */
export function upgradeChangeLines(before: PlanFile, after: PlanFile, changes: ResourceChange[]): string[] {
    const b = revisionsOf(after);
    const a = revisionsOf(before);
    if (!b?.upgrade && !a?.upgrade) return [];
    const kinds: Record<string, string[]> = { create: [], update: [], replace: [], delete: [] };
    for (const ch of changes) {
        if (!(ch.kind in kinds)) continue;
        if (ch.type === RELEASE || ch.type === TAG || /VirtualService$/.test(ch.type)) kinds[ch.kind].push(ch.name);
    }
    const phase = b?.upgrade ? (b.upgrade.phase === "tags" ? `tags (${b.upgrade.moved.join(", ")})` : b.upgrade.phase) : "finish";
    const out = [`istio upgrade phase ${phase}:`];
    for (const [k, names] of Object.entries(kinds)) if (names.length) out.push(`  ${k}s ${names.length}: ${names.sort().join(", ")}`);
    if (out.length === 1) out.push("  no Istio release, tag or expose route changes");
    const effects = b?.upgrade ? phaseEffects(b, after.clusters) : { does: [], then: [] };
    for (const e of effects.then) out.push(`  then you: ${e}`);
    return out;
}

/** A command line addressed to a cluster's kubectl context. */
function kubectl(contexts: Record<string, string>, c: string): string {
    return `kubectl --context ${shellWord(contexts[c] ?? c)}`;
}

/** The command that counts, in one cluster, the pods a revision injected (their annotation istio.io/rev; components/check/revisions.ts does the same). */
export function podsOfRevisionCommand(contexts: Record<string, string>, c: string, revision: string): string {
    return (
        `${kubectl(contexts, c)} get pods -A -o json | jq '[.items[] | select(.metadata.annotations["istio.io/rev"] == ` +
        `"${revisionKey(revision)}" and (.status.phase != "Succeeded" and .status.phase != "Failed"))] | length'`
    );
}

/** The commands that show, in one cluster, what uses a revision (components/check/revisions.ts counts the same), each expecting none. */
export function revisionUseCommands(contexts: Record<string, string>, c: string, revision: string): string[] {
    const key = revisionKey(revision);
    return [
        `${podsOfRevisionCommand(contexts, c, revision)}  # 0 running pods it injected`,
        ...(key === DEFAULT_TAG
            ? []
            : [
                  `${kubectl(contexts, c)} get namespaces -l istio.io/rev=${key}  # none asks for it`,
                  `${kubectl(contexts, c)} get pods -A -l istio.io/rev=${key}  # none asks for it`,
              ]),
        `${kubectl(contexts, c)} get mutatingwebhookconfigurations -l istio.io/tag,istio.io/rev=${key}  # no tag points at it`,
    ];
}

/**
 * What to check in every cluster once the current phase is deployed, before planning the next one,
 * as commands (with the expected answer after `#`).
 */
export function upgradeChecks(plan: PlanFile, contexts: Record<string, string> = {}): string[] {
    const r = revisionsOf(plan);
    const u = r?.upgrade;
    if (!r || !u) return [];
    const out: string[] = [];
    const names = plan.clusters.map((c) => c.name);
    const primaries = plan.clusters.filter((c) => c.runsIstiod).map((c) => c.name);
    const remotes = plan.clusters.filter((c) => c.role === "remote").map((c) => c.name);
    const rev = u.revision;
    const tagRev = `-o jsonpath='{.metadata.labels.istio\\.io/rev}'`;
    switch (u.phase) {
        case "install":
            for (const c of primaries)
                out.push(
                    `${kubectl(contexts, c)} -n ${ISTIO_NAMESPACE} rollout status deployment/${istiodName(rev)}  # successfully rolled out`,
                );
            for (const c of remotes)
                out.push(
                    `${kubectl(contexts, c)} -n ${ISTIO_NAMESPACE} get endpointslices -l kubernetes.io/service-name=${istiodName(rev)} ` +
                        `-o jsonpath='{..addresses}'  # ${plan.clusters.find((x) => x.name === c)?.primary ?? "the primary"}'s east-west address`,
                );
            for (const c of names)
                out.push(
                    `${kubectl(contexts, c)} get mutatingwebhookconfigurations -l istio.io/rev=${rev}  # istio-sidecar-injector-${rev}`,
                );
            out.push(
                `try the new revision: kubectl label namespace <test> istio.io/rev=${rev} --overwrite, restart its pods, istioctl proxy-status`,
            );
            break;
        case "tags": {
            const c = u.moved[u.moved.length - 1];
            out.push(`${kubectl(contexts, c)} get mutatingwebhookconfiguration ${tagWebhookName(DEFAULT_TAG)} ${tagRev}  # ${rev}`);
            for (const t of r.tags)
                out.push(`${kubectl(contexts, c)} get mutatingwebhookconfiguration ${tagWebhookName(t)} ${tagRev}  # ${rev}`);
            if (r.revision === "")
                out.push(
                    `${kubectl(contexts, c)} get mutatingwebhookconfiguration istio-sidecar-injector  # NotFound: the default tag replaced it`,
                );
            out.push(`${kubectl(contexts, c)} rollout restart deployment -n <each namespace with injected pods>`);
            out.push(`${podsOfRevisionCommand(contexts, c, r.revision)}  # falls to 0 as pods restart`);
            break;
        }
        case "gateways":
            for (const c of plan.clusters.filter((x) => x.gateway).map((x) => x.name))
                out.push(
                    `${kubectl(contexts, c)} -n ${ISTIO_NAMESPACE} get pods -l app=${CHARTS.gateway.release} ` +
                        `-o jsonpath='{.items[*].metadata.annotations.istio\\.io/rev}'  # ${rev} for every pod`,
                );
            out.push(
                `before remove-old, in every cluster, nothing may use ${revisionKey(r.revision)} (npm run check counts the same; ` +
                    `pulumi up of remove-old counts again and refuses while anything does, override mesh.istio.upgrade.removeInUse):`,
            );
            for (const c of names) out.push(...revisionUseCommands(contexts, c, r.revision).map((x) => `  ${x}`));
            break;
        case "remove-old":
            for (const c of primaries)
                out.push(`${kubectl(contexts, c)} -n ${ISTIO_NAMESPACE} get deployment ${istiodName(r.revision)}  # NotFound`);
            for (const c of names) out.push(`${podsOfRevisionCommand(contexts, c, rev)}  # every injected pod`);
            break;
        case "abandon":
            for (const c of primaries)
                out.push(`${kubectl(contexts, c)} -n ${ISTIO_NAMESPACE} get deployment ${istiodName(rev)}  # NotFound`);
            break;
    }
    return out;
}

/** The plan summary's lines about revisions: the running one, the upgrade phase, and the checks of the phase. */
export function upgradeSummary(plan: PlanFile, contexts: Record<string, string> = {}): string[] {
    const r = revisionsOf(plan);
    if (!r) return [];
    const tags = [DEFAULT_TAG, ...r.tags].join(", ");
    if (!r.upgrade)
        return r.revision === "" && r.tags.length === 0 ? [] : [`istio revision ${revisionKey(r.revision)} (${r.version}); tags ${tags}`];
    const u = r.upgrade;
    const phase = u.phase === "tags" ? `tags, moved in ${u.moved.join(", ")}` : u.phase;
    const checks = upgradeChecks(plan, contexts);
    return [
        `istio upgrade ${revisionKey(r.revision)} (${r.version}) → ${u.revision} (${u.version}), phase ${phase} (${UPGRADE_DOC}); tags ${tags} move in the order ${u.order.join(", ")}`,
        ...(checks.length ? ["before the next phase, check:", ...checks.map((c) => `  ${c}`)] : []),
    ];
}
