// The mesh-level diff of two plan files, in plain words: what a reviewer of a mesh change needs to
// see, which `pulumi preview`'s object diff does not say. Pure: diffPlans(old, new).
//   - clusters added or removed, role, primary, network and platform facts;
//   - trust edges (remote secrets: which cluster's istiod starts or stops reading which API server);
//   - east-west gateways: added, removed, a fixed address or the network it serves changing;
//   - chart versions and values per cluster; a loud warning when Istio's minor version changes;
//   - the root of trust and the intermediates: a loud warning, with what restarts and what can break.
import { phaseChecks, phaseStepProblems, ROTATION_DOC, shellWord } from "../components/rotation";
import type { PlanCertDefinition, PlanChart, PlanCluster, PlanFile, PlanGateway, PlanTrust } from "./planFile";
import { ASSIGNED_AT_DEPLOY, GENERATED_AT_DEPLOY } from "./planFile";
import { istioSourceLines } from "./sourceDiff";
import { trafficDiff } from "./trafficPlan";
import { inPlaceWarning, revisionDiff, upgradeInProgress } from "./upgradePlan";

export interface MeshDiff {
    /** True when anything in the mesh changes (lines or warnings). */
    changed: boolean;
    /** One plain sentence per change, grouped: mesh, clusters, trust edges, gateways, Istio objects, charts. */
    lines: string[];
    /** Changes of the root of trust or of an intermediate CA: what restarts and what can break. */
    warnings: string[];
    /**
     * Changes the plan refuses (the offline plan exits 1): a root-rotation phase skipped, or a root
     * set swapped in one step (components/rotation.ts). Absent when none.
     */
    refusals?: string[];
}

const show = (v: unknown): string => (v === null || v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Flatten Helm values to dotted leaf paths (arrays are leaves: Helm replaces them whole). */
export function leaves(v: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
        for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
    } else if (prefix) {
        out[prefix] = v;
    }
    return out;
}

function mapDiff(
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    describe: (key: string, a: unknown, b: unknown) => string,
): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const out: string[] = [];
    for (const k of keys) {
        const a = before[k];
        const b = after[k];
        if (!same(a, b)) out.push(describe(k, a, b));
    }
    return out;
}

function roleText(c: PlanCluster): string {
    return c.role === "remote" ? `remote of ${c.primary ?? "?"}` : c.role;
}

function gatewayText(g: PlanGateway): string {
    return g.fixed ? `fixed address ${g.address}` : `address ${ASSIGNED_AT_DEPLOY}`;
}

function certText(d: PlanCertDefinition): string {
    const key =
        d.keyAlgorithm === "RSA"
            ? `RSA ${d.rsaBits ?? "?"}`
            : d.keyAlgorithm === "ECDSA"
              ? `ECDSA ${d.ecdsaCurve ?? "?"}`
              : (d.keyAlgorithm ?? "key ?");
    return `${key}, ${d.validityDays ?? "?"} days, O=${d.organization ?? "?"}`;
}

function definitionChanges(a: PlanCertDefinition, b: PlanCertDefinition): string[] {
    const out: string[] = [];
    if (a.keyAlgorithm !== b.keyAlgorithm || a.rsaBits !== b.rsaBits || a.ecdsaCurve !== b.ecdsaCurve) {
        const k = (d: PlanCertDefinition) =>
            d.keyAlgorithm === "RSA" ? `RSA ${d.rsaBits}` : d.keyAlgorithm === "ECDSA" ? `ECDSA ${d.ecdsaCurve}` : show(d.keyAlgorithm);
        out.push(`key ${k(a)} → ${k(b)}`);
    }
    if (a.validityDays !== b.validityDays) out.push(`validity ${show(a.validityDays)} → ${show(b.validityDays)} days`);
    if (a.organization !== b.organization) out.push(`organization ${show(a.organization)} → ${show(b.organization)}`);
    return out;
}

const ROOT_CONSEQUENCES =
    "A new root CA replaces the old one. Every istiod restarts with a new cacerts Secret, " +
    "and every workload (each pod with a sidecar, each ztunnel) " +
    "must restart to get a certificate from the new root; until all have, mTLS between " +
    "workloads on the old root and workloads on the new one FAILS, " +
    "inside each cluster and across clusters. A protected root (trust.protectRoot) makes " +
    "the deploy stop before replacing it; rotate with the " +
    'multi-root procedure instead (docs/trust.md, "Renewal and rotation").';

function intermediateConsequences(cluster: string, context: string): string {
    return (
        `${cluster}'s cacerts Secret is rewritten and istiod in ${cluster} loads the new intermediate (restart it with ` +
        `\`kubectl --context ${context} -n istio-system rollout restart deployment/istiod\` if it does not hot-reload); ` +
        `workloads in ${cluster} get certificates from the new ` +
        `intermediate as theirs rotate (within 24 h) or when they restart. Under the same ` +
        `root traffic keeps flowing; it breaks if the new intermediate ` +
        `does not chain to the root every other cluster trusts, or if anything pins the old intermediate.`
    );
}

function trustDiff(
    a: PlanTrust,
    b: PlanTrust,
    lines: string[],
    warnings: string[],
    commonPrimaries: Set<string>,
    contexts: Record<string, string>,
): void {
    if (a.mode !== b.mode) {
        warnings.push(`ROOT OF TRUST CHANGES: trust mode ${a.mode} → ${b.mode}. ${ROOT_CONSEQUENCES}`);
    } else {
        const why = definitionChanges(a.root, b.root);
        if (a.root.sha256 !== b.root.sha256 && a.root.sha256 !== GENERATED_AT_DEPLOY && b.root.sha256 !== GENERATED_AT_DEPLOY) {
            why.push(`root certificate sha256 ${a.root.sha256.slice(0, 16)}… → ${b.root.sha256.slice(0, 16)}…`);
        }
        if (why.length > 0) warnings.push(`ROOT OF TRUST CHANGES (${why.join("; ")}). ${ROOT_CONSEQUENCES}`);
    }
    if (a.root.protect !== b.root.protect && a.mode === b.mode) {
        lines.push(
            b.root.protect
                ? "trust: the root key and certificate become protected (no deploy can replace or delete them)"
                : "trust: the root key and certificate are no longer protected (a deploy or destroy can now replace or delete the root)",
        );
    }
    if (a.mode !== b.mode) return;
    for (const cluster of [...commonPrimaries].sort()) {
        const x = a.intermediates[cluster];
        const y = b.intermediates[cluster];
        if (!x || !y) continue;
        const why = definitionChanges(x, y);
        if (x.generation !== y.generation) why.unshift(`generation ${show(x.generation)} → ${show(y.generation)}`);
        if (x.sha256 !== y.sha256 && x.sha256 !== GENERATED_AT_DEPLOY && y.sha256 !== GENERATED_AT_DEPLOY)
            why.push(`certificate sha256 ${x.sha256.slice(0, 16)}… → ${y.sha256.slice(0, 16)}…`);
        if (why.length > 0)
            warnings.push(
                `INTERMEDIATE CA OF ${cluster} CHANGES (${why.join("; ")}). ${intermediateConsequences(cluster, shellWord(contexts[cluster] ?? cluster))}`,
            );
    }
}

function chartDiff(cluster: string, before: Record<string, PlanChart>, after: Record<string, PlanChart>, lines: string[]): void {
    const releases = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const rel of releases) {
        const a = before[rel];
        const b = after[rel];
        if (!a && b) {
            lines.push(`${cluster}: installs Helm release ${rel} (chart ${b.chart} ${b.version})`);
            continue;
        }
        if (a && !b) {
            lines.push(`${cluster}: uninstalls Helm release ${rel} (chart ${a.chart} ${a.version})`);
            continue;
        }
        if (a.chart !== b.chart) lines.push(`${cluster}: release ${rel} changes chart ${a.chart} → ${b.chart}`);
        if (a.version !== b.version) lines.push(`${cluster}: ${rel} chart version ${a.version} → ${b.version}`);
        if (a.repository !== b.repository) lines.push(`${cluster}: ${rel} chart repository ${show(a.repository)} → ${show(b.repository)}`);
        if (a.namespace !== b.namespace) lines.push(`${cluster}: ${rel} namespace ${a.namespace} → ${b.namespace}`);
        for (const change of mapDiff(leaves(a.values), leaves(b.values), (k, x, y) =>
            x === undefined ? `sets ${k} = ${show(y)}` : y === undefined ? `drops ${k} (was ${show(x)})` : `${k} ${show(x)} → ${show(y)}`,
        )) {
            lines.push(`${cluster}: ${rel} values: ${change}`);
        }
    }
}

function gatewayDiff(cluster: string, a: PlanGateway | null, b: PlanGateway | null, lines: string[]): void {
    if (!a && !b) return;
    if (!a && b) {
        lines.push(`${cluster}: gets an east-west gateway (${gatewayText(b)}, network ${show(b.network)})`);
        return;
    }
    if (a && !b) {
        lines.push(`${cluster}: loses its east-west gateway (was ${gatewayText(a)}); traffic and control that crossed it stop`);
        return;
    }
    if (!a || !b) return;
    if (a.address !== b.address || a.fixed !== b.fixed) {
        lines.push(
            `${cluster}: east-west gateway address moves: ${gatewayText(a)} → ${gatewayText(b)}; ` +
                `whatever reaches it by address (remotes' istiod address, peers' endpoints) follows`,
        );
    }
    if (a.network !== b.network) lines.push(`${cluster}: east-west gateway serves network ${show(a.network)} → ${show(b.network)}`);
    for (const c of mapDiff(a.serviceAnnotations, b.serviceAnnotations, (k, x, y) =>
        x === undefined ? `adds ${k}=${show(y)}` : y === undefined ? `removes ${k}` : `${k} ${show(x)} → ${show(y)}`,
    )) {
        lines.push(`${cluster}: east-west gateway Service annotation ${c} (the load balancer may be re-created, with a new address)`);
    }
}

/** The mesh-level difference from `before` to `after`. */
/** `contexts`: each cluster's kubectl context, for the commands the warnings print (offline/contexts.ts). */
export function diffPlans(before: PlanFile, after: PlanFile, contexts: Record<string, string> = {}): MeshDiff {
    const lines: string[] = [];
    const warnings: string[] = [];
    if (before.meshId !== after.meshId) {
        warnings.push(
            `MESH ID CHANGES (${before.meshId} → ${after.meshId}): every istiod gets a new global.meshID ` +
                `and every workload must restart to carry it; ` +
                "until then clusters disagree on which mesh they belong to.",
        );
    }
    if (before.topology !== after.topology) lines.push(`mesh: install model ${before.topology} → ${after.topology}`);

    const oldC = new Map(before.clusters.map((c) => [c.name, c]));
    const newC = new Map(after.clusters.map((c) => [c.name, c]));
    for (const c of after.clusters) {
        if (!oldC.has(c.name)) {
            lines.push(
                `+ cluster ${c.name} joins the mesh: ${roleText(c)} on network ${c.network}${c.runsIstiod ? ", runs istiod with a new intermediate CA" : ""}${c.gateway ? `, east-west gateway ${gatewayText(c.gateway)}` : ""}`,
            );
        }
    }
    for (const c of before.clusters) {
        if (!newC.has(c.name))
            lines.push(
                `- cluster ${c.name} leaves the mesh (was ${roleText(c)} on network ${c.network}); ` +
                    `every Istio object the program put there is deleted`,
            );
    }

    const common = before.clusters.filter((c) => newC.has(c.name)).map((c) => [c, newC.get(c.name)!] as const);
    for (const [a, b] of common) {
        if (a.role !== b.role || a.primary !== b.primary) {
            lines.push(
                a.role === b.role
                    ? `${b.name}: controlled by ${show(a.primary)} → ${show(b.primary)} (istiod of ${show(b.primary)} leads it from now on)`
                    : `${b.name}: role ${roleText(a)} → ${roleText(b)}${b.runsIstiod && !a.runsIstiod ? " (starts running istiod)" : !b.runsIstiod && a.runsIstiod ? " (stops running istiod)" : ""}`,
            );
        }
        if (a.network !== b.network)
            lines.push(`${b.name}: network ${a.network} → ${b.network} (pods pick up the new network when they restart)`);
        for (const c of mapDiff(a.facts, b.facts, (k, x, y) => `${k} ${show(x)} → ${show(y)}`)) lines.push(`${b.name}: ${c}`);
        if (a.apiServer !== b.apiServer && a.apiServer !== null && b.apiServer !== null) {
            lines.push(`${b.name}: API server that peers read ${a.apiServer} → ${b.apiServer}`);
        }
        for (const c of mapDiff(a.namespace.labels, b.namespace.labels, (k, x, y) => `${k} ${show(x)} → ${show(y)}`))
            lines.push(`${b.name}: istio-system label ${c}`);
        for (const c of mapDiff(a.namespace.annotations, b.namespace.annotations, (k, x, y) => `${k} ${show(x)} → ${show(y)}`))
            lines.push(`${b.name}: istio-system annotation ${c}`);
    }

    // Trust edges: the remote-secret matrix.
    const key = (s: { source: string; target: string }) => `${s.source}>${s.target}`;
    const oldS = new Map(before.remoteSecrets.map((s) => [key(s), s]));
    const newS = new Map(after.remoteSecrets.map((s) => [key(s), s]));
    for (const s of after.remoteSecrets) {
        const o = oldS.get(key(s));
        if (!o) lines.push(`+ trust edge: ${s.target} starts reading ${s.source}'s API server (${s.secretName} in ${s.target})`);
        else if (o.server !== s.server) lines.push(`~ trust edge: ${s.target} reads ${s.source} at ${show(o.server)} → ${show(s.server)}`);
    }
    for (const s of before.remoteSecrets) {
        if (!newS.has(key(s)))
            lines.push(
                `- trust edge: ${s.target} stops reading ${s.source} (${s.secretName} deleted from ` +
                    `${s.target}; ${s.source}'s endpoints disappear from ${s.target}'s istiod)`,
            );
    }

    for (const [a, b] of common) gatewayDiff(b.name, a.gateway, b.gateway, lines);
    for (const [a, b] of common) {
        for (const o of b.istioObjects.filter((x) => !a.istioObjects.includes(x))) lines.push(`${b.name}: adds Istio ${o}`);
        for (const o of a.istioObjects.filter((x) => !b.istioObjects.includes(x))) lines.push(`${b.name}: removes Istio ${o}`);
    }
    // Traffic policy in words, grouped over the clusters it changes in (offline/trafficPlan.ts).
    lines.push(...trafficDiff(before.clusters, after.clusters));
    for (const [a, b] of common) chartDiff(b.name, a.charts, b.charts, lines);
    // A new chart source, image hub or pull secrets: every release upgraded, and which pods roll (offline/sourceDiff.ts);
    // during a revision-based upgrade two versions' sources are expected side by side.
    const phased = upgradeInProgress(before, after);
    lines.push(...istioSourceLines(before, after).filter((l) => !(phased && l.startsWith("istio source: charts from"))));
    // Versions and revisions: the upgrade phase, its refusals, the warning of an in-place upgrade (offline/upgradePlan.ts).
    const revisions = revisionDiff(before, after);
    lines.push(...revisions.lines);
    warnings.push(...revisions.warnings);

    const commonPrimaries = new Set(common.filter(([a, b]) => a.runsIstiod && b.runsIstiod).map(([, b]) => b.name));
    trustDiff(before.trust, after.trust, lines, warnings, commonPrimaries, contexts);
    const refusals = before.trust.rotation && after.trust.rotation ? phaseStepProblems(before.trust.rotation, after.trust.rotation) : [];
    refusals.push(...revisions.refusals);
    if (before.trust.rotation && after.trust.rotation && before.trust.rotation.phase !== after.trust.rotation.phase) {
        lines.push(`trust: root rotation phase ${before.trust.rotation.phase} → ${after.trust.rotation.phase}`);
    }
    return { changed: lines.length + warnings.length + refusals.length > 0, lines, warnings, ...(refusals.length ? { refusals } : {}) };
}

/** The in-place warning (offline/upgradePlan.ts inPlaceWarning), kept under its earlier name: a minor or a patch change with no upgrade block. */
export function minorUpgradeWarning(before: PlanFile, after: PlanFile): string | undefined {
    return upgradeInProgress(before, after) ? undefined : inPlaceWarning(before, after);
}

/**
 * The diff as terminal text. "no change" is said only when nothing else changes either: with
 * `belowMesh` (what the change plan does to resources), an empty mesh-level diff says that the
 * change is below the mesh level.
 */
export function formatDiff(d: MeshDiff, against: string, belowMesh?: string): string {
    if (!d.changed && belowMesh) return `mesh-level diff against ${against}: nothing at the mesh level; ${belowMesh}\n`;
    if (!d.changed) return `mesh-level diff against ${against}: no change\n`;
    const n = d.lines.length + d.warnings.length;
    const out = [`mesh-level diff against ${against}: ${n} change${n === 1 ? "" : "s"}`];
    for (const l of d.lines) out.push(`  ${l}`);
    for (const w of d.warnings) out.push(`!! WARNING: ${w}`);
    for (const r of d.refusals ?? []) out.push(`!! REFUSED: ${r}`);
    return `${out.join("\n")}\n`;
}

export function certSummary(t: PlanTrust, contexts: Record<string, string> = {}): string {
    const root =
        t.mode === "provided"
            ? `provided root ${t.root.sha256.slice(0, 16)}…`
            : `generated root ${certText(t.root)}${t.root.protect ? ", protected" : ", unprotected"}`;
    const inter = Object.entries(t.intermediates)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([c, d]) => (t.mode === "provided" ? `${c} ${d.sha256.slice(0, 12)}…` : `${c} g${d.generation}`));
    const interText =
        t.mode === "generated" && Object.values(t.intermediates)[0]
            ? `intermediates ${certText(Object.values(t.intermediates)[0])}: ${inter.join(", ")}`
            : `intermediates: ${inter.join(", ") || "-"}`;
    const r = t.rotation;
    if (!r || r.phase === "none") return `${root}; ${interText}`;
    // The checks that prove this phase done in every cluster, to run before planning the next one.
    const checks = phaseChecks(r.phase, Object.keys(t.intermediates).sort(), contexts);
    return [
        `${root}; ${interText}`,
        `root rotation phase ${r.phase} (${ROTATION_DOC}); roots: ${r.roots.join(" + ")}; intermediates signed by ${r.signer}`,
    ]
        .concat(checks.length ? ["before the next phase, check in every cluster:", ...checks.map((c) => `  ${c}`)] : [])
        .join("\n    ");
}
