// The checks of `mesh.istio.revision`, `mesh.istio.tags` and `mesh.istio.upgrade` that need nothing
// but the config (components/upgrade.ts has the phases, docs/upgrades.md the walk). Each problem
// names its config path and the fix; components/meshConfig.ts calls checkIstioRevisions once.
import { compareVersions, minorOf, unsupportedIstio } from "./istio";
import { chartSource, localChartProblems, minorOnlyOptions } from "./istioSource";
import {
    DEFAULT_REVISION,
    DEFAULT_TAG,
    MAX_REVISION_LENGTH,
    newRevision,
    revisionKey,
    UPGRADE_DOC,
    UPGRADE_PHASES,
    type UpgradeConfig,
} from "./upgrade";

type Say = (path: string, msg: string) => void;
type LooseCluster = { name?: unknown; role?: unknown; primary?: unknown };
type LooseIstio = { version?: unknown; repository?: unknown; revision?: unknown; tags?: unknown; upgrade?: unknown; values?: unknown };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

function revisionProblem(r: string): string | undefined {
    if (r === DEFAULT_REVISION)
        return `"${r}" is what Istio calls the unrevisioned istiod; leave the revision empty for that, or pick another name`;
    if (!DNS1123_LABEL.test(r) || r.length > MAX_REVISION_LENGTH)
        return (
            `"${r}" is not a revision name: a DNS-1123 label of at most ${MAX_REVISION_LENGTH} characters ` +
            `(it names istiod-<revision> and its webhooks), such as 1-31-1`
        );
    return undefined;
}

/**
 * Every static rule of the revision fields: names, the new version (supported, newer, at most one
 * minor ahead), its chart folder, the stated tag order (every cluster once, each remote after its
 * primary: a remote ahead of its primary would run proxies of a revision its control plane has not
 * taken yet), the tags moved so far (the first clusters of the order), and the proof that a
 * removed revision is unused.
 */
export function checkIstioRevisions(
    istio: LooseIstio | undefined,
    clusters: LooseCluster[],
    env: { readFile?: (p: string) => string | undefined },
    say: Say,
): void {
    if (!istio || typeof istio !== "object") return;
    const revision = typeof istio.revision === "string" ? istio.revision : "";
    if (revision !== "") {
        const p = revisionProblem(revision);
        if (p) say("mesh.istio.revision", p);
    }
    const tags = Array.isArray(istio.tags) ? istio.tags : [];
    const seen = new Set<string>();
    tags.forEach((t, i) => {
        if (typeof t !== "string") return;
        const at = `mesh.istio.tags[${i}]`;
        if (t === DEFAULT_TAG) say(at, `"default" is always there (it follows the running revision); list only named tags`);
        else if (!DNS1123_LABEL.test(t) || t.length > 63) say(at, `"${t}" is not a tag name (a DNS-1123 label, such as prod-stable)`);
        if (seen.has(t)) say(at, `"${t}" is listed twice`);
        seen.add(t);
    });
    const u = istio.upgrade as Partial<UpgradeConfig> | undefined;
    if (!u || typeof u !== "object") return;
    const version = typeof istio.version === "string" ? istio.version : undefined;
    const uv = typeof u.version === "string" ? u.version : undefined;
    let next: string | undefined;
    if (uv !== undefined) {
        if (!SEMVER.test(uv)) say("mesh.istio.upgrade.version", `"${uv}" is not an exact chart version, such as 1.31.1`);
        else if (unsupportedIstio(uv)) say("mesh.istio.upgrade.version", unsupportedIstio(uv)!);
        else if (version !== undefined && SEMVER.test(version)) {
            if (compareVersions(uv, version) <= 0)
                say(
                    "mesh.istio.upgrade.version",
                    `${uv} is not newer than istio.version ${version}: a revision-based upgrade goes forward (base, shared by both ` +
                        `revisions, is upgraded first); to go back during an upgrade, move the tags back (${UPGRADE_DOC})`,
                );
            else if (minorsApart(version, uv) > 1)
                say(
                    "mesh.istio.upgrade.version",
                    `${uv} is ${minorsApart(version, uv)} minors ahead of ${version}: upgrade one minor at a time (Istio tests ` +
                        `upgrades from the previous minor only)`,
                );
        }
        next = newRevision({ version: uv, revision: typeof u.revision === "string" ? u.revision : undefined } as UpgradeConfig);
        const p = revisionProblem(next);
        if (p) say(u.revision !== undefined ? "mesh.istio.upgrade.revision" : "mesh.istio.upgrade.version", p);
        else if (next === revision)
            say(
                u.revision !== undefined ? "mesh.istio.upgrade.revision" : "mesh.istio.upgrade.version",
                `revision ${next} is the running one (istio.revision); the new revision needs a name of its own`,
            );
        if (next && seen.has(next)) say("mesh.istio.upgrade.revision", `"${next}" is also a tag name; a revision and a tag must differ`);
    }
    if (revision !== "" && seen.has(revision))
        say("mesh.istio.revision", `"${revision}" is also a tag name; a revision and a tag must differ`);
    // The new version's charts: a local folder must hold them (the running version's are checked with istio.repository).
    const repo = typeof u.repository === "string" ? u.repository : typeof istio.repository === "string" ? istio.repository : undefined;
    if (repo !== undefined && uv !== undefined && SEMVER.test(uv)) {
        const source = chartSource(repo);
        const at = u.repository !== undefined ? "mesh.istio.upgrade.repository" : "mesh.istio.repository";
        if ("problem" in source) {
            if (u.repository !== undefined) say(at, source.problem);
        } else if (source.kind === "local") {
            const why =
                u.repository === undefined
                    ? ` (a local folder holds one version: give the new version's folder in mesh.istio.upgrade.repository)`
                    : "";
            for (const p of localChartProblems(source.dir, uv, env.readFile)) say(at, p + why);
        }
    }
    // The running values must also suit the new revision's charts.
    if (uv !== undefined && SEMVER.test(uv) && !unsupportedIstio(uv))
        for (const [p, m] of minorOnlyOptions(istio.values, "istiod", uv)) say(`mesh.istio.values.${p}`, `${m} (the new revision ${next})`);

    const names = clusters.filter((c) => typeof c?.name === "string").map((c) => c.name as string);
    const order = Array.isArray(u.order) ? u.order.filter((x): x is string => typeof x === "string") : [];
    const suggestion = suggestedOrder(clusters);
    if (Array.isArray(u.order)) {
        const unknown = order.filter((c) => !names.includes(c));
        const missing = names.filter((c) => !order.includes(c));
        const twice = order.filter((c, i) => order.indexOf(c) !== i);
        if (unknown.length || missing.length || twice.length)
            say(
                "mesh.istio.upgrade.order",
                [
                    unknown.length ? `names ${unknown.join(", ")}, not clusters of this mesh` : "",
                    missing.length ? `lacks ${missing.join(", ")}` : "",
                    twice.length ? `lists ${[...new Set(twice)].join(", ")} twice` : "",
                ]
                    .filter(Boolean)
                    .join("; ") + `: list every cluster once, in the order its tags move (for example [${suggestion.join(", ")}])`,
            );
        const primaryOf = (c: LooseCluster): string | undefined =>
            c.role === "remote"
                ? typeof c.primary === "string"
                    ? c.primary
                    : (clusters.find((x) => (x.role ?? "primary") === "primary")?.name as string | undefined)
                : undefined;
        for (const c of clusters) {
            const p = primaryOf(c);
            if (typeof c.name !== "string" || !p) continue;
            if (order.includes(c.name) && order.includes(p) && order.indexOf(c.name) < order.indexOf(p))
                say(
                    "mesh.istio.upgrade.order",
                    `moves remote ${c.name} before its primary ${p}: a remote ahead of its primary. ${c.name}'s pods would get the ` +
                        `new proxy before ${p}, whose istiod serves them, has the new revision as its default; put ${p} first ` +
                        `(for example [${suggestion.join(", ")}])`,
                );
        }
    }
    const phase = typeof u.phase === "string" && (UPGRADE_PHASES as readonly string[]).includes(u.phase) ? u.phase : undefined;
    const moved = Array.isArray(u.moved) ? u.moved.filter((x): x is string => typeof x === "string") : undefined;
    if (phase === "tags") {
        if (!moved || moved.length === 0)
            say(
                "mesh.istio.upgrade.moved",
                `is required in phase tags: the clusters whose tags have moved, starting with ${order[0] ?? "the first of upgrade.order"}`,
            );
        else {
            const prefix = order.slice(0, moved.length);
            if (moved.some((c, i) => c !== prefix[i]))
                say(
                    "mesh.istio.upgrade.moved",
                    `[${moved.join(", ")}] is not the start of upgrade.order [${order.join(", ")}]: tags move in the stated order, ` +
                        `one cluster per up (expected [${prefix.join(", ")}])`,
                );
        }
    } else if (moved !== undefined && moved.length > 0) {
        say(
            "mesh.istio.upgrade.moved",
            `is only for phase tags (${phase === "install" || phase === "abandon" ? "no tag has moved in this phase" : "every tag has moved in this phase"}); remove it`,
        );
    }
    const removes = phase === "remove-old" ? revisionKey(revision) : phase === "abandon" ? next : undefined;
    const pods = u.removedRevisionPods as Record<string, unknown> | undefined;
    if (removes === undefined) {
        if (pods !== undefined) say("mesh.istio.upgrade.removedRevisionPods", `is only for phases remove-old and abandon; remove it`);
        if (u.removeInUse === true) say("mesh.istio.upgrade.removeInUse", `is only for phases remove-old and abandon; remove it`);
        return;
    }
    const check = `run the post-deploy check (npm run check -- --stack <stack>) after the ${phase === "abandon" ? "tags moved back" : "gateways phase"} and copy its counts`;
    // Optional: a count recorded for the review. pulumi up counts again itself before removing (components/upgradeGuard.ts).
    if (!pods || typeof pods !== "object") return;
    for (const c of Object.keys(pods))
        if (!names.includes(c)) say(`mesh.istio.upgrade.removedRevisionPods.${c}`, `is not a cluster of this mesh; remove it`);
    const lacking = names.filter((c) => typeof pods[c] !== "number");
    if (lacking.length && u.removeInUse !== true)
        say("mesh.istio.upgrade.removedRevisionPods", `lacks ${lacking.join(", ")}: every cluster's count is needed; ${check}`);
    const inUse = names.filter((c) => typeof pods[c] === "number" && (pods[c] as number) > 0);
    if (inUse.length && u.removeInUse !== true)
        say(
            "mesh.istio.upgrade.removedRevisionPods",
            `revision ${removes} is still in use: ${inUse.map((c) => `${pods[c]} pod${pods[c] === 1 ? "" : "s"} in ${c}`).join(", ")}. ` +
                `Removing it leaves them without a control plane (no new configuration or certificates; their certificates expire ` +
                `within 24 h). Restart them so the tags' revision injects them, check again, and record 0; or set ` +
                `mesh.istio.upgrade.removeInUse: true to remove it anyway`,
        );
    for (const c of names.filter((x) => typeof pods[x] === "number" && (pods[x] as number) < 0))
        say(`mesh.istio.upgrade.removedRevisionPods.${c}`, `must be 0 or more (a count of pods)`);
}

function minorsApart(a: string, b: string): number {
    const [am, an] = minorOf(a).split(".").map(Number);
    const [bm, bn] = minorOf(b).split(".").map(Number);
    return am === bm ? bn - an : 99;
}

/** Primaries first, each followed by its remotes: an order no skew rule refuses. */
export function suggestedOrder(clusters: LooseCluster[]): string[] {
    const named = clusters.filter((c) => typeof c?.name === "string");
    const primaries = named.filter((c) => (c.role ?? "primary") === "primary").map((c) => c.name as string);
    const out: string[] = [];
    for (const p of primaries) {
        out.push(p);
        for (const r of named.filter((c) => c.role === "remote" && (c.primary ?? primaries[0]) === p)) out.push(r.name as string);
    }
    for (const c of named) if (!out.includes(c.name as string)) out.push(c.name as string);
    return out;
}
