// A revision-based Istio upgrade across every cluster, in reviewed phases (docs/upgrades.md): the
// new revision's istiod beside the old one, the revision tags moved cluster by cluster in an order
// the config states, the gateways after their tag, and the old revision removed only when nothing
// uses it. Pure: the config's shape, the names, each cluster's layout in each phase, the rules a
// phase change must follow, and what each phase asks of the user. The components (controlPlane.ts,
// eastWestGateway.ts) map the layout to resources; the plan (offline/upgradePlan.ts) prints it.
//
// Istio's facts this follows (istio/istio at tags 1.30.3 and 1.31.0-rc.0, the same in both):
//   - a revision's istiod, its Service, Deployment and own injection webhook are `istiod-<rev>` and
//     `istio-sidecar-injector-<rev>`; without a revision they are `istiod` and `istio-sidecar-injector`
//     (manifests/charts/istio-control/istio-discovery/templates/{deployment,service,mutatingwebhook}.yaml);
//   - a revision tag is a MutatingWebhookConfiguration `istio-revision-tag-<tag>` labelled
//     `istio.io/tag` and `istio.io/rev` (templates/revision-tags-mwc.yaml); the tag `default` also
//     serves `istio-injection=enabled` and `sidecar.istio.io/inject=true`, the selectors of an
//     unrevisioned istiod's own webhook, which must then go ("remove the old
//     MutatingWebhookConfiguration … to avoid having both the older and newer control planes attempt
//     injection": istio.io content/en/boilerplates/revision-tags-default-outro.md);
//   - each istiod patches the caBundle of every webhook configuration labelled with its own
//     revision, in its cluster and in the remotes it leads (pkg/webhooks/webhookpatch.go,
//     pilot/pkg/serviceregistry/kube/controller/multicluster.go);
//   - the base chart's `istiod-default-validator` calls `istiod-<defaultRevision>`
//     (manifests/charts/base/templates/defaultrevision-validatingwebhookconfiguration.yaml);
//   - an injected pod records the revision that injected it in its annotation `istio.io/rev` and in
//     `sidecar.istio.io/status` (files/injection-template.yaml, pkg/kube/inject/webhook.go
//     getInjectionStatus: "Rather than setting istio.io/rev label on injected pods"): the pod label
//     `istio.io/rev`, where there is one, names the tag or revision the user asked for, not the one
//     that injected it. components/check/revisions.ts counts pods by the annotation;
//   - a remote's revisioned release renders Service and EndpointSlice `istiod-<rev>` and webhook
//     `istio-sidecar-injector-<rev>` (templates/remote-istiod-{service,endpointslices}.yaml); its
//     primary routes that name through the east-west gateway with the revisioned expose
//     VirtualService (samples/multicluster/expose-istiod-rev.yaml.tmpl: `istiod-vs-<rev>`, SNI
//     `istiod-<rev>.istio-system.svc`);
//   - skew: the control plane may be ahead of its data plane, never behind
//     (https://istio.io/latest/docs/releases/supported-releases/#control-planedata-plane-skew).
import { z } from "zod";
import { compareVersions, ISTIO_NAMESPACE, ISTIOD_SERVICE, KUBERNETES_NAMESPACES, minorOf, PORTS } from "./istio";

export const UPGRADE_DOC = "docs/upgrades.md";
export const UPGRADE_PHASES = ["install", "tags", "gateways", "remove-old", "abandon"] as const;
export type UpgradePhase = (typeof UPGRADE_PHASES)[number];
/** What Istio calls the unrevisioned istiod in labels (`istio.io/rev: default`), and the tag every mesh has. */
export const DEFAULT_REVISION = "default";
export const DEFAULT_TAG = "default";

/** `istiod-<rev>-remote` (templates/remote-istiod-service.yaml) must stay a 63-character label. */
export const MAX_REVISION_LENGTH = 63 - "istiod--remote".length;

export const upgradeSchema = z.strictObject({
    /** The exact version of the new revision. */
    version: z.string(),
    /** The new revision's name (default: the version with dots as dashes, e.g. 1-31-1). */
    revision: z.string().optional(),
    /** Where the new version's charts come from (default: istio.repository). */
    repository: z.string().optional(),
    phase: z.enum(UPGRADE_PHASES, { error: `must be one of ${UPGRADE_PHASES.join(", ")}` }),
    /** The order the tags move in, one cluster per `up`: every cluster once, a remote after its primary. */
    order: z.array(z.string()),
    /** Phase tags: the clusters whose tags have moved so far (the first ones of `order`). */
    moved: z.array(z.string()).optional(),
    /** Phases remove-old and abandon, optional: what the post-deploy check counted, per cluster, of pods the removed revision injected (a record for the review; `pulumi up` counts again before it removes). */
    removedRevisionPods: z.record(z.string(), z.number().int()).optional(),
    /** Remove the revision although the check counted pods that still use it (they lose their control plane). */
    removeInUse: z.boolean().default(false),
});
export type UpgradeConfig = z.output<typeof upgradeSchema>;

/** The fields `mesh.istio` gets for revisions (components/istioSource.ts istioSchema spreads them). */
export const revisionFields = {
    /** The revision the running istiod was installed with ("" = none, as this program installed it before revisions). */
    revision: z.string().default(""),
    /** Named revision tags besides `default`, pointing at the running revision. */
    tags: z.array(z.string()).default([]),
    /** A revision-based upgrade in progress (docs/upgrades.md). */
    upgrade: upgradeSchema.optional(),
};

/** The istiod values this program sets for revisions: refused in `istio.values` (components/meshConfig.ts). */
export const UPGRADE_OWNED_VALUES: [string[], string][] = [
    [["revision"], "set mesh.istio.revision, or mesh.istio.upgrade for a new revision"],
    [["revisionTags"], "set mesh.istio.tags; this program writes the tags' webhooks itself"],
    [["global", "operatorManageWebhooks"], "this program removes the unrevisioned injector when the default tag moves"],
    [["defaultRevision"], "the default tag decides it"],
];

/** The revision name Istio's docs derive from a version: 1.31.0-rc.0 → 1-31-0-rc-0. */
export function revisionName(version: string): string {
    return version.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
/** A revision as Istio labels it: "" is `default`. */
export function revisionKey(revision: string): string {
    return revision === "" ? DEFAULT_REVISION : revision;
}
/** istiod's Service, Deployment and Helm release: `istiod` or `istiod-<rev>`. */
export function istiodName(revision: string): string {
    return revision === "" ? ISTIOD_SERVICE : `${ISTIOD_SERVICE}-${revision}`;
}
export function istiodHost(revision: string): string {
    return `${istiodName(revision)}.${ISTIO_NAMESPACE}.svc`;
}
export function tagWebhookName(tag: string): string {
    return `istio-revision-tag-${tag}`;
}

/** What a stack records of its revisions (an output, and plan.json's istio.revisions), for the next run to compare. */
export interface RevisionRecord {
    version: string;
    revision: string;
    tags: string[];
    upgrade: { version: string; revision: string; phase: UpgradePhase; order: string[]; moved: string[] } | null;
}

export interface IstioRevisions {
    version: string;
    repository: string;
    revision: string;
    tags: string[];
    upgrade?: UpgradeConfig;
}

export function newRevision(u: UpgradeConfig): string {
    return u.revision ?? revisionName(u.version);
}

export function revisionRecord(istio: IstioRevisions): RevisionRecord {
    const u = istio.upgrade;
    return {
        version: istio.version,
        revision: istio.revision,
        tags: [...istio.tags],
        upgrade: u
            ? {
                  version: u.version,
                  revision: newRevision(u),
                  phase: u.phase,
                  order: [...u.order],
                  moved: movedClusters(u),
              }
            : null,
    };
}

/** The clusters whose tags point at the new revision in this phase. */
export function movedClusters(u: Pick<UpgradeConfig, "phase" | "order" | "moved">): string[] {
    if (u.phase === "tags") return [...(u.moved ?? [])];
    if (u.phase === "gateways" || u.phase === "remove-old") return [...u.order];
    return [];
}

// ---- each cluster's layout in a phase ----

export interface ChartAt {
    version: string;
    /** istio.repository ("current") or the upgrade's ("upgrade"). */
    from: "current" | "upgrade";
}

export interface RevisionRelease extends ChartAt {
    /** "" for the unrevisioned istiod. */
    revision: string;
    /** False when the unrevisioned istiod's own injection webhook must go: the default tag has moved away from it. */
    ownWebhook: boolean;
}

export interface ClusterRevisions {
    /** One istiod release per revision (a remote's: the remote profile), old first. */
    releases: RevisionRelease[];
    /** The revision the tags (`default` and the named ones) point at here. */
    tagTarget: string;
    /** Tags written as webhook objects by this program: `default` unless an unrevisioned istiod serves it itself, and the named tags. */
    tagObjects: string[];
    base: ChartAt & { defaultRevision?: string };
    /** The east-west gateway's chart, and the revision its pods were last restarted for (a pod annotation, set once revisions are in use). */
    gateway: ChartAt & { restartedFor?: string };
    /**
     * A primary that exposes istiod to remotes: the revision the catch-all route (`istiod-vs`, every SNI)
     * leads to, and the revisions with a route of their own (`istiod-vs-<rev>`, by SNI).
     */
    expose?: { catchAll: string; byRevision: string[] };
}

/** What the upgrade block says about one cluster (a pure function of the validated config). */
export function clusterRevisions(istio: IstioRevisions, cluster: { name: string; exposeIstiod: boolean }): ClusterRevisions {
    const current: ChartAt = { version: istio.version, from: "current" };
    const u = istio.upgrade;
    const named = istio.tags;
    const tagObjectsFor = (target: string) => (target === "" ? [...named] : [DEFAULT_TAG, ...named]);
    const exposeFor = (releases: RevisionRelease[], catchAll: string) =>
        cluster.exposeIstiod
            ? { catchAll, byRevision: releases.map((r) => r.revision).filter((r) => r !== "" || releases.length > 1) }
            : undefined;
    if (!u) {
        const releases: RevisionRelease[] = [{ ...current, revision: istio.revision, ownWebhook: true }];
        return {
            releases,
            tagTarget: istio.revision,
            tagObjects: tagObjectsFor(istio.revision),
            base: { ...current, ...(istio.revision !== "" ? { defaultRevision: istio.revision } : {}) },
            gateway: { ...current, ...(istio.revision !== "" ? { restartedFor: istio.revision } : {}) },
            expose: exposeFor(releases, istio.revision),
        };
    }
    const next = newRevision(u);
    const upgraded: ChartAt = { version: u.version, from: "upgrade" };
    const moved = movedClusters(u).includes(cluster.name);
    const old = istio.revision;
    const target = moved ? next : old;
    const oldRelease: RevisionRelease = { ...current, revision: old, ownWebhook: !(old === "" && moved) };
    const newRelease: RevisionRelease = { ...upgraded, revision: next, ownWebhook: true };
    const releases = u.phase === "remove-old" ? [newRelease] : u.phase === "abandon" ? [oldRelease] : [oldRelease, newRelease];
    const gatewayMoved = u.phase === "gateways" || u.phase === "remove-old";
    return {
        releases,
        tagTarget: target,
        tagObjects: tagObjectsFor(target),
        // base first: the new version's CRDs from the install phase on (back to the old ones when abandoning).
        base: { ...(u.phase === "abandon" ? current : upgraded), ...(target !== "" ? { defaultRevision: target } : {}) },
        gateway: gatewayMoved ? { ...upgraded, restartedFor: next } : { ...current, ...(old !== "" ? { restartedFor: old } : {}) },
        expose: exposeFor(releases, target),
    };
}

/** The layout a recorded phase implies for one cluster (the same function the program used): for the render's and the live check's expectations. */
export function layoutFromRecord(r: RevisionRecord, cluster: { name: string; exposeIstiod: boolean }): ClusterRevisions {
    return clusterRevisions(
        {
            version: r.version,
            repository: "",
            revision: r.revision,
            tags: r.tags,
            upgrade: r.upgrade ? { ...r.upgrade, removeInUse: false } : undefined,
        },
        cluster,
    );
}

/** Values for one revision's istiod release: its revision, and its webhook left out where the default tag replaced it. */
export function revisionValues<T extends Record<string, unknown>>(values: T, release: RevisionRelease): T {
    const out: Record<string, unknown> = { ...values };
    if (release.revision !== "") out.revision = release.revision;
    if (!release.ownWebhook) {
        const global = (out.global ?? {}) as Record<string, unknown>;
        out.global = { ...global, operatorManageWebhooks: true };
    }
    return out as T;
}

/** The base chart's values with the default revision its validating webhook calls. */
export function baseRevisionValues<T extends Record<string, unknown>>(values: T, base: ClusterRevisions["base"]): T {
    return base.defaultRevision ? ({ ...values, defaultRevision: base.defaultRevision } as T) : values;
}

/** The annotation that rolls the east-west gateway's pods, so the default tag's injector gives them its proxy. */
export const GATEWAY_REVISION_ANNOTATION = "multicluster-mesh.io/injected-by-revision";
export function gatewayRevisionValues<T extends Record<string, unknown>>(values: T, gateway: ClusterRevisions["gateway"]): T {
    if (gateway.restartedFor === undefined) return values;
    const podAnnotations = { ...((values.podAnnotations ?? {}) as Record<string, string>) };
    podAnnotations[GATEWAY_REVISION_ANNOTATION] = gateway.restartedFor;
    return { ...values, podAnnotations } as T;
}

// ---- the objects this program writes for revisions ----

type Values = Record<string, unknown>;
const at = (v: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>((cur, k) => (cur && typeof cur === "object" ? (cur as Values)[k] : undefined), v);

/**
 * The revision tag `tag` pointing at `revision`, as the istiod chart's templates/revision-tags-mwc.yaml
 * renders it with `revisionTags: [tag]` and the release's values (istio.io's Helm upgrade guide applies
 * exactly that template with kubectl). `values` are the target revision's istiod values in this
 * cluster: a remote's name its injection path or URL (istiodRemote). No caBundle: the target
 * revision's istiod patches it (pkg/webhooks/webhookpatch.go), as it does the chart's.
 * offline/render/revisionChecks.ts compares this with the real template's output.
 */
export function tagWebhookConfiguration(tag: string, revision: string, values: Values): Record<string, unknown> {
    const url = at(values, "istiodRemote", "injectionURL");
    const path = at(values, "istiodRemote", "injectionPath");
    const reinvocation = at(values, "sidecarInjectorWebhook", "reinvocationPolicy");
    const byDefault = at(values, "sidecarInjectorWebhook", "enableNamespacesByDefault") === true;
    const clientConfig =
        typeof url === "string" && url !== ""
            ? { url }
            : {
                  service: {
                      name: istiodName(revision),
                      namespace: ISTIO_NAMESPACE,
                      path: typeof path === "string" && path !== "" ? path : "/inject",
                      port: PORTS.webhookService,
                  },
              };
    const core = (prefix: string, namespaceSelector: Values, objectSelector: Values): Values => ({
        name: `${prefix}sidecar-injector.istio.io`,
        clientConfig,
        sideEffects: "None",
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
        failurePolicy: "Fail",
        reinvocationPolicy: typeof reinvocation === "string" && reinvocation !== "" ? reinvocation : "Never",
        admissionReviewVersions: ["v1"],
        namespaceSelector,
        objectSelector,
    });
    const expr = (key: string, operator: string, values?: string[]) => ({ key, operator, ...(values ? { values } : {}) });
    const sel = (...e: Values[]) => ({ matchExpressions: e });
    const notDisabled = expr("sidecar.istio.io/inject", "NotIn", ["false"]);
    const webhooks = [
        core("rev.namespace.", sel(expr("istio.io/rev", "In", [tag]), expr("istio-injection", "DoesNotExist")), sel(notDisabled)),
        core(
            "rev.object.",
            sel(expr("istio.io/rev", "DoesNotExist"), expr("istio-injection", "DoesNotExist")),
            sel(notDisabled, expr("istio.io/rev", "In", [tag])),
        ),
    ];
    if (tag === DEFAULT_TAG) {
        webhooks.push(
            core("namespace.", sel(expr("istio-injection", "In", ["enabled"])), sel(notDisabled)),
            core(
                "object.",
                sel(expr("istio-injection", "DoesNotExist"), expr("istio.io/rev", "DoesNotExist")),
                sel(expr("sidecar.istio.io/inject", "In", ["true"]), expr("istio.io/rev", "DoesNotExist")),
            ),
        );
        if (byDefault)
            webhooks.push(
                core(
                    "auto.",
                    sel(
                        expr("istio-injection", "DoesNotExist"),
                        expr("istio.io/rev", "DoesNotExist"),
                        expr("kubernetes.io/metadata.name", "NotIn", [
                            ...KUBERNETES_NAMESPACES.filter((n) => n !== "default"),
                            "local-path-storage",
                        ]),
                    ),
                    sel(expr("sidecar.istio.io/inject", "DoesNotExist"), expr("istio.io/rev", "DoesNotExist")),
                ),
            );
    }
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: {
            name: tagWebhookName(tag),
            labels: {
                "istio.io/tag": tag,
                "istio.io/rev": revisionKey(revision),
                app: "sidecar-injector",
                "app.kubernetes.io/name": "istiod",
                "app.kubernetes.io/part-of": "istio",
                "operator.istio.io/component": "Pilot",
            },
        },
        webhooks,
    };
}

/** The expose-istiod VirtualService name of a revision (the catch-all one is ISTIO_OBJECTS.istiodVirtualService). */
export function revisionVirtualServiceName(base: string, revision: string): string {
    return `${base}-${revisionKey(revision)}`;
}

/**
 * samples/multicluster/expose-istiod-rev.yaml.tmpl: xDS (15012) and webhooks (15017) whose SNI names
 * the revision's istiod go to it. For the unrevisioned istiod (only while another revision runs
 * beside it) the SNI is `istiod.istio-system.svc`, so its remotes' proxies stay on it.
 */
export function revisionVirtualServiceSpec(gateway: string, revision: string): Values {
    const host = istiodHost(revision);
    const sni = [host, `${host}.cluster.local`];
    const route = (port: number, to: number) => ({
        match: [{ port, sniHosts: sni }],
        route: [{ destination: { host: `${host}.cluster.local`, port: { number: to } } }],
    });
    return { hosts: ["*"], gateways: [gateway], tls: [route(PORTS.xds, PORTS.xds), route(PORTS.webhook, PORTS.webhookService)] };
}

// ---- the rules between two phases ----

const NEXT: Record<UpgradePhase | "none", string> = {
    none: "install",
    install: "tags (the first cluster of upgrade.order)",
    tags: "tags (the next cluster of upgrade.order), or gateways once every cluster moved",
    gateways: "remove-old",
    "remove-old": "none: finish with istio.version and istio.revision set to the new ones and the upgrade block removed",
    abandon: "none: finish with the upgrade block removed",
};

/** Position of a record in the walk: none 0, install 1, tags 1+k, gateways n+2, remove-old n+3. */
function position(r: RevisionRecord): number | undefined {
    const u = r.upgrade;
    if (!u) return 0;
    const n = u.order.length;
    switch (u.phase) {
        case "install":
            return 1;
        case "tags":
            return 1 + u.moved.length;
        case "gateways":
            return n + 2;
        case "remove-old":
            return n + 3;
        case "abandon":
            return undefined;
    }
}

function describe(r: RevisionRecord): string {
    const u = r.upgrade;
    if (!u) return `no upgrade (Istio ${r.version}, revision ${revisionKey(r.revision)})`;
    const what = u.phase === "tags" ? `tags moved in ${u.moved.join(", ") || "no cluster"}` : `phase ${u.phase}`;
    return `upgrade ${r.version} → ${u.version}, ${what}`;
}

/**
 * Problems with moving from the recorded phase `before` (the last plan, or the stack's last deploy)
 * to `after` in one `up`: a skipped phase, tags moved out of the stated order or several at once, a
 * finish that does not land on the new revision, the versions changed mid-upgrade, an in-place
 * change of the minor backwards (a control plane behind its data plane). Each names the fix.
 */
export function upgradeStepProblems(before: RevisionRecord, after: RevisionRecord): string[] {
    const out: string[] = [];
    const b = before.upgrade;
    const a = after.upgrade;
    const follow = `follow the phases in ${UPGRADE_DOC}`;
    if (!b && !a) {
        if (before.revision !== after.revision)
            out.push(
                `istio.revision changes from ${revisionKey(before.revision)} to ${revisionKey(after.revision)} with no upgrade: ` +
                    `the istiod release of the old revision would be deleted and the new one installed in the same up, with no ` +
                    `control plane for the proxies of the old one; set istio.upgrade instead (${follow})`,
            );
        else if (compareVersions(after.version, before.version) < 0 && minorOf(after.version) !== minorOf(before.version))
            out.push(
                `istio.version goes back from ${before.version} to ${after.version} in place: the control plane would be behind the ` +
                    `proxies it serves (Istio supports a control plane ahead of its data plane, never behind). Roll back by ` +
                    `moving the tags back during an upgrade, or upgrade to a fixed patch instead (${follow})`,
            );
        return out;
    }
    if (b && a) {
        if (b.version !== a.version || b.revision !== a.revision || before.version !== after.version || before.revision !== after.revision)
            out.push(
                `the versions change in the middle of an upgrade (${before.version}/${revisionKey(before.revision)} → ${b.version}/` +
                    `${b.revision} before, ${after.version}/${revisionKey(after.revision)} → ${a.version}/${a.revision} now): finish ` +
                    `or abandon this upgrade first (${follow})`,
            );
        if (JSON.stringify(b.order) !== JSON.stringify(a.order) && (b.moved.length > 0 || a.moved.length > 0))
            out.push(
                `upgrade.order changes after tags have moved (${b.order.join(", ")} → ${a.order.join(", ")}): the order is fixed ` +
                    `once the first cluster moved`,
            );
        if (out.length) return out;
        if (a.phase === "abandon" || b.phase === "abandon") {
            if (!(b.phase === "install" && a.phase === "abandon") && b.phase !== a.phase)
                out.push(
                    `upgrade.phase moves from ${b.phase} to ${a.phase}: abandon follows install only (move every tag back first), ` +
                        `and is finished by removing the upgrade block (${follow})`,
                );
            return out;
        }
        const pb = position(before)!;
        const pa = position(after)!;
        const movedBack = pa < pb;
        if (Math.abs(pa - pb) > 1) {
            out.push(
                `upgrade.phase jumps from ${describe(before)} to ${describe(after)}: one step per up, each deployed and checked ` +
                    `in every cluster before the next (next is ${NEXT[b.phase]}); ${follow}`,
            );
        } else if (
            a.phase === "tags" &&
            b.phase === "tags" &&
            !movedBack &&
            !a.moved.slice(0, b.moved.length).every((c, i) => c === b.moved[i])
        ) {
            out.push(
                `upgrade.moved changes ${b.moved.join(", ")} → ${a.moved.join(", ")}: tags move one cluster at a time, in upgrade.order`,
            );
        }
        if (movedBack && b.phase === "remove-old")
            out.push(`upgrade.phase goes back from remove-old: the old revision is gone; finish the upgrade, or upgrade again to go back`);
        return out;
    }
    if (!b && a) {
        if (after.version !== before.version || after.revision !== before.revision)
            out.push(
                `an upgrade starts while istio.version or istio.revision also changes (${before.version}/${revisionKey(before.revision)} → ` +
                    `${after.version}/${revisionKey(after.revision)}): they name the running revision; change them only to finish (${follow})`,
            );
        else if (a.phase !== "install")
            out.push(`upgrade.phase starts at ${a.phase}: an upgrade starts with install, then ${NEXT.install} (${follow})`);
        return out;
    }
    // b && !a: finishing.
    if (b!.phase === "remove-old") {
        if (after.version !== b!.version || after.revision !== b!.revision)
            out.push(
                `the upgrade block is removed after remove-old, but istio.version/revision say ${after.version}/` +
                    `${revisionKey(after.revision)}: finish with istio.version ${b!.version} and istio.revision ${b!.revision} ` +
                    `(the revision that now runs everywhere)`,
            );
        if (JSON.stringify(after.tags) !== JSON.stringify(before.tags))
            out.push(`istio.tags change while finishing an upgrade; change them in an up of their own`);
    } else if (b!.phase === "abandon") {
        if (after.version !== before.version || after.revision !== before.revision)
            out.push(
                `finishing an abandoned upgrade keeps istio.version ${before.version} and istio.revision ${revisionKey(before.revision)}`,
            );
    } else {
        out.push(
            `the upgrade block is removed in phase ${b!.phase}: that would ${
                after.version === b!.version ? "remove the old revision without the check that nothing uses it" : "remove the new revision"
            } and move every tag at once; go on to ${NEXT[b!.phase]}, or move the tags back and abandon (${follow})`,
        );
    }
    return out;
}

// ---- what a phase asks of the user ----

/** The revision a phase removes (its pods lose their control plane), if any. */
export function removedRevision(r: RevisionRecord): string | undefined {
    const u = r.upgrade;
    if (!u) return undefined;
    if (u.phase === "remove-old") return r.revision;
    if (u.phase === "abandon") return u.revision;
    return undefined;
}

/**
 * What a phase does (`does`: what it installs, moves, upgrades and removes) and what the user must do
 * once it is deployed (`then`: pods keep the proxy they were injected with until they restart).
 */
export function phaseEffects(
    r: RevisionRecord,
    clusters: { name: string; role: string; primary?: string | null }[],
): { does: string[]; then: string[] } {
    const u = r.upgrade;
    if (!u) return { does: [], then: [] };
    const old = revisionKey(r.revision);
    const all = clusters.map((c) => c.name).join(", ");
    const remotes = clusters.filter((c) => c.role === "remote").map((c) => c.name);
    const primaries = clusters.filter((c) => c.role !== "remote").map((c) => c.name);
    switch (u.phase) {
        case "install":
            return {
                does: [
                    `upgrades base to ${u.version} (CRDs and the default validator) in ${all}`,
                    `installs istiod revision ${u.revision} (${u.version}) beside ${old} (${r.version}) in ${primaries.join(", ")}` +
                        (remotes.length
                            ? `, and its remote release (Service and webhook ${istiodName(u.revision)}) in ${remotes.join(", ")}`
                            : ""),
                    `moves no tag: new pods are still injected by ${old}`,
                ],
                then: [`restart nothing; to try ${u.revision}, label a test namespace istio.io/rev=${u.revision} and restart its pods`],
            };
        case "tags": {
            const last = u.moved[u.moved.length - 1];
            const left = u.order.filter((c) => !u.moved.includes(c));
            return {
                does: [
                    `moves the tags (${[DEFAULT_TAG, ...r.tags].join(", ")}) of ${last} to ${u.revision}` +
                        (r.revision === ""
                            ? ` and removes ${last}'s unrevisioned injector webhook (the default tag serves its selectors)`
                            : "") +
                        `; moved so far: ${u.moved.join(", ")}; still on ${old}: ${left.join(", ") || "none"}`,
                ],
                then: [
                    `restart the workloads of ${last} namespace by namespace (kubectl rollout restart deployment -n <ns>): each pod gets ` +
                        `the ${u.version} proxy when it restarts and keeps the ${r.version} one until then`,
                ],
            };
        }
        case "gateways":
            return {
                does: [
                    `upgrades the east-west gateway releases to ${u.version}: their pods roll, and the default tag's revision ` +
                        `(${u.revision}) injects them with the ${u.version} proxy`,
                ],
                then: [
                    `run the post-deploy check (npm run check): it counts, per cluster, the pods ${old} still injects, the namespaces ` +
                        `and pods labelled for it and the tags pointing at it; restart or relabel those until nothing uses ${old}. ` +
                        `pulumi up of phase remove-old counts again and refuses while anything does (override: ` +
                        `mesh.istio.upgrade.removeInUse)`,
                ],
            };
        case "remove-old":
            return {
                does: [
                    `removes istiod revision ${old} (${r.version}) from ${primaries.join(", ")}` +
                        (remotes.length ? ` and its remote releases from ${remotes.join(", ")}` : ""),
                ],
                then: [`restart nothing; finish next: istio.version ${u.version}, istio.revision ${u.revision}, istio.upgrade removed`],
            };
        case "abandon":
            return {
                does: [`removes the new revision ${u.revision} everywhere and takes base back to ${r.version}; every tag stays on ${old}`],
                then: [`restart nothing; finish next: remove istio.upgrade`],
            };
    }
}
