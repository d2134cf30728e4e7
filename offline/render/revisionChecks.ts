// The render's checks of Istio revisions (components/upgrade.ts, docs/upgrades.md), on the objects
// the real charts rendered and the program's own (objects.yaml), per cluster and across clusters:
//   - each revision's istiod release passes checks.ts's checkCluster as that revision (its Deployment,
//     ConfigMaps, a remote's Service and EndpointSlice `istiod-<rev>`, every webhook calling the istiod
//     of the revision it is labelled with);
//   - no object of one revision's release collides with another's;
//   - the tags: each tag object the plan holds equals what the istiod chart's templates/revision-tags-mwc.yaml
//     renders for that tag, revision and release values, and it is labelled with its revision;
//   - exactly one webhook configuration serves the default selectors (istio-injection=enabled), so no
//     two revisions inject the same pod, and the unrevisioned istiod's own webhook is gone where the
//     default tag moved;
//   - the base chart's default validator calls the tags' revision;
//   - the east-west gateway's chart version and pod annotation follow the phase;
//   - on a primary that exposes istiod: the catch-all route leads to the tags' revision and each
//     revision has its SNI route; every remote's revision is routed by its primary;
//   - every istiod Deployment runs `<hub>/pilot:<its release's version>`, and each gateway the proxy of
//     the revision its injector is.
import { CHARTS, EASTWEST_NAME, ISTIO_NAMESPACE, ISTIO_OBJECTS, PORTS, RENDERED } from "../../components/istio";
import {
    type ClusterRevisions,
    GATEWAY_REVISION_ANNOTATION,
    istiodHost,
    istiodName,
    layoutFromRecord,
    revisionKey,
    type RevisionRecord,
    revisionVirtualServiceName,
    tagWebhookName,
} from "../../components/upgrade";
import { type PlanFile, stableStringify } from "../planFile";
import { checkCluster, type ClusterModel, type Finding, injectedProxyImage, type K8sObject, type ObjectSource } from "./checks";

/** The layout the plan's record implies for each cluster (the same function the program used). */
export function layoutsOf(plan: PlanFile): Record<string, ClusterRevisions> | undefined {
    const r: RevisionRecord | undefined = plan.istio?.revisions;
    if (!r) return undefined;
    return Object.fromEntries(
        plan.clusters.map((c) => [
            c.name,
            layoutFromRecord(r, { name: c.name, exposeIstiod: plan.topology === "primary-remote" && c.role !== "remote" }),
        ]),
    );
}

/** The revision of an istiod release by its name (`istiod` → "", `istiod-<rev>` → rev), if it is one. */
export function releaseRevision(source: ObjectSource): string | undefined {
    if (source.chart !== CHARTS.istiod.chart) return undefined;
    if (source.release === CHARTS.istiod.release) return "";
    const prefix = `${CHARTS.istiod.release}-`;
    return source.release.startsWith(prefix) ? source.release.slice(prefix.length) : undefined;
}

const webhookConfigs = (s: ObjectSource) => s.objects.filter((o) => o.kind === "MutatingWebhookConfiguration");
type Webhook = { name: string; namespaceSelector?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] } };

/**
 * Every check of one cluster: checkCluster once per revision (with the other revisions' releases left
 * out, so each webhook and Service is judged by its own revision), then the revision checks. Without
 * a second revision and without revisions at all this is checkCluster alone.
 */
export function checkClusterRevisions(
    model: ClusterModel,
    sources: ObjectSource[],
    layout: ClusterRevisions | undefined,
    /** Per tag object: what the chart's revision-tags-mwc.yaml renders for it (renderTagTemplate), or why not. */
    renderedTags: Record<string, K8sObject | string> = {},
    /** Per release: the version it pins. */
    versions: Record<string, string> = {},
): Finding[] {
    const revisions = sources.map(releaseRevision).filter((r): r is string => r !== undefined);
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const push = (fs: Finding[]) => {
        for (const f of fs) {
            const k = JSON.stringify(f);
            if (seen.has(k)) continue;
            seen.add(k);
            findings.push(f);
        }
    };
    const passes = revisions.length ? revisions : [""];
    for (const rev of passes) {
        const mine = sources.filter((s) => releaseRevision(s) === undefined || releaseRevision(s) === rev);
        push(checkCluster({ ...model, revision: rev }, mine));
    }
    if (!layout) return findings;
    const add = (release: string, object: string, field: string, message: string) =>
        push([{ cluster: model.name, release, object, field, message }]);
    const planned = sources.find((s) => s.chart === null);
    const plannedName = planned?.release ?? "objects.yaml";

    // ---- the releases are the phase's, at their versions ----
    const want = layout.releases.map((r) => istiodName(r.revision)).sort();
    const got = sources.filter((s) => releaseRevision(s) !== undefined).map((s) => s.release);
    if (want.join() !== [...got].sort().join())
        add("(plan)", "istiod releases", "(object)", `are ${JSON.stringify(got.sort())}, the phase needs ${JSON.stringify(want)}`);

    // ---- no object of one revision collides with another's ----
    const owner = new Map<string, string>();
    for (const s of sources.filter((x) => releaseRevision(x) !== undefined)) {
        for (const o of s.objects) {
            const key = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
            const first = owner.get(key);
            if (first !== undefined && first !== s.release)
                add(
                    s.release,
                    `${o.kind}/${o.metadata?.name}`,
                    "metadata.name",
                    `also rendered by ${first}: one release would take the other's object`,
                );
            else owner.set(key, s.release);
        }
    }

    // ---- tags ----
    const tagObjects = (planned?.objects ?? []).filter(
        (o) => o.kind === "MutatingWebhookConfiguration" && o.metadata?.labels?.["istio.io/tag"],
    );
    const wantTags = layout.tagObjects.map(tagWebhookName).sort();
    const gotTags = tagObjects.map((o) => o.metadata.name).sort();
    if (wantTags.join() !== gotTags.join())
        add(
            plannedName,
            "MutatingWebhookConfiguration/istio-revision-tag-*",
            "(object)",
            `are ${JSON.stringify(gotTags)}, expected ${JSON.stringify(wantTags)}`,
        );
    for (const o of tagObjects) {
        const id = `MutatingWebhookConfiguration/${o.metadata.name}`;
        const rev = o.metadata.labels?.["istio.io/rev"];
        if (rev !== revisionKey(layout.tagTarget))
            add(
                plannedName,
                id,
                `metadata.labels["istio.io/rev"]`,
                `is ${JSON.stringify(rev)}, the tags point at ${revisionKey(layout.tagTarget)}`,
            );
        const tag = o.metadata.labels?.["istio.io/tag"] ?? "";
        const chart = renderedTags[tag];
        if (typeof chart === "string") add(plannedName, id, "webhooks", `not compared with the chart: ${chart}`);
        else if (chart) {
            const ours = stableStringify(o.webhooks).trim();
            const theirs = stableStringify(chart.webhooks).trim();
            if (ours !== theirs)
                add(
                    plannedName,
                    id,
                    "webhooks",
                    `differ from the istiod chart's templates/revision-tags-mwc.yaml: ours ${ours}, the chart's ${theirs}`,
                );
            for (const k of ["istio.io/tag", "istio.io/rev"])
                if (o.metadata.labels?.[k] !== chart.metadata?.labels?.[k])
                    add(
                        plannedName,
                        id,
                        `metadata.labels["${k}"]`,
                        `is ${JSON.stringify(o.metadata.labels?.[k])}, the chart's ${JSON.stringify(chart.metadata?.labels?.[k])}`,
                    );
        }
    }
    // ---- exactly one injector serves the default selectors ----
    const defaultServers = sources.flatMap((s) =>
        webhookConfigs(s)
            .filter((o) =>
                ((o.webhooks ?? []) as Webhook[]).some((w) =>
                    (w.namespaceSelector?.matchExpressions ?? []).some(
                        (e) => e.key === "istio-injection" && e.operator === "In" && (e.values ?? []).includes("enabled"),
                    ),
                ),
            )
            .map((o) => `${s.release}: ${o.metadata.name}`),
    );
    if (defaultServers.length !== 1)
        add(
            "(cluster)",
            "MutatingWebhookConfiguration/*",
            "webhooks[].namespaceSelector istio-injection=enabled",
            `is served by ${defaultServers.length} webhook configurations (${defaultServers.join(", ") || "none"}): exactly one must ` +
                `(two inject every pod in turn; none leaves pods without a sidecar)`,
        );
    for (const r of layout.releases.filter((x) => !x.ownWebhook)) {
        const s = sources.find((x) => x.release === istiodName(r.revision));
        for (const o of s ? webhookConfigs(s) : [])
            add(
                s!.release,
                `MutatingWebhookConfiguration/${o.metadata.name}`,
                "(object)",
                `still rendered: the default tag serves its selectors now`,
            );
    }
    // ---- the default validator calls the tags' revision ----
    const base = sources.find((s) => s.release === CHARTS.base.release);
    const validator = base?.objects.find(
        (o) => o.kind === "ValidatingWebhookConfiguration" && o.metadata?.name === "istiod-default-validator",
    );
    if (base && validator && validator.metadata.labels?.["istio.io/rev"] !== revisionKey(layout.tagTarget))
        add(
            base.release,
            "ValidatingWebhookConfiguration/istiod-default-validator",
            `metadata.labels["istio.io/rev"]`,
            `is ${JSON.stringify(validator.metadata.labels?.["istio.io/rev"])}, expected ${revisionKey(layout.tagTarget)} (the default tag's revision validates)`,
        );
    // ---- the east-west gateway follows the phase ----
    const gw = sources.find((s) => s.release === CHARTS.gateway.release);
    const gwDep = gw?.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === EASTWEST_NAME);
    if (gwDep) {
        const tpl = (gwDep.spec as { template?: { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> } } })
            .template;
        const ann = tpl?.metadata?.annotations?.[GATEWAY_REVISION_ANNOTATION];
        if (ann !== layout.gateway.restartedFor)
            add(
                gw!.release,
                `Deployment/${EASTWEST_NAME}`,
                `spec.template.metadata.annotations["${GATEWAY_REVISION_ANNOTATION}"]`,
                `is ${JSON.stringify(ann)}, expected ${JSON.stringify(layout.gateway.restartedFor)}`,
            );
        const version = versions[gw!.release];
        if (version !== undefined && version !== layout.gateway.version)
            add(
                gw!.release,
                `Deployment/${EASTWEST_NAME}`,
                "(chart version)",
                `is ${version}, the phase needs the ${layout.gateway.version} chart`,
            );
    }
    // ---- expose routes on a primary ----
    if (layout.expose) {
        const vss = (planned?.objects ?? []).filter((o) => o.kind === "VirtualService");
        const catchAll = vss.find((o) => o.metadata?.name === ISTIO_OBJECTS.istiodVirtualService);
        const hosts = (vs: K8sObject | undefined, port: number) =>
            (
                (
                    vs?.spec as {
                        tls?: { match?: { port?: number; sniHosts?: string[] }[]; route?: { destination?: { host?: string } }[] }[];
                    }
                )?.tls ?? []
            )
                .filter((t) => (t.match ?? []).some((m) => m.port === port))
                .map((t) => ({ sni: (t.match ?? []).flatMap((m) => m.sniHosts ?? []), host: t.route?.[0]?.destination?.host }));
        const wantCatchAll = `${istiodHost(layout.expose.catchAll)}.cluster.local`;
        for (const port of [PORTS.xds, PORTS.webhook]) {
            const routes = hosts(catchAll, port);
            if (routes.length !== 1 || routes[0].host !== wantCatchAll || routes[0].sni.join() !== "*")
                add(
                    plannedName,
                    `VirtualService/${ISTIO_OBJECTS.istiodVirtualService}`,
                    `spec.tls (port ${port})`,
                    `routes ${JSON.stringify(routes)}, expected every SNI to ${wantCatchAll}`,
                );
        }
        const byRev = vss.filter((o) => o.metadata?.name !== ISTIO_OBJECTS.istiodVirtualService);
        const wantNames = layout.expose.byRevision.map((r) => revisionVirtualServiceName(ISTIO_OBJECTS.istiodVirtualService, r)).sort();
        if (
            byRev
                .map((o) => o.metadata.name)
                .sort()
                .join() !== wantNames.join()
        )
            add(
                plannedName,
                "VirtualService/istiod-vs-*",
                "(object)",
                `are ${JSON.stringify(byRev.map((o) => o.metadata.name).sort())}, expected ${JSON.stringify(wantNames)}`,
            );
        for (const r of layout.expose.byRevision) {
            const name = revisionVirtualServiceName(ISTIO_OBJECTS.istiodVirtualService, r);
            const vs = byRev.find((o) => o.metadata.name === name);
            if (!vs) continue;
            const host = istiodHost(r);
            for (const port of [PORTS.xds, PORTS.webhook]) {
                const routes = hosts(vs, port);
                if (routes.length !== 1 || routes[0].host !== `${host}.cluster.local` || !routes[0].sni.includes(host))
                    add(
                        plannedName,
                        `VirtualService/${name}`,
                        `spec.tls (port ${port})`,
                        `routes ${JSON.stringify(routes)}, expected SNI ${host} to ${host}.cluster.local`,
                    );
            }
        }
    }
    return findings;
}

/**
 * Across clusters: every revision a remote runs is routed by its primary's expose routes (SNI
 * `istiod-<rev>.istio-system.svc`, or the catch-all for the unrevisioned one).
 */
export function checkRemoteRoutes(clusters: { model: ClusterModel; sources: ObjectSource[] }[]): Finding[] {
    const out: Finding[] = [];
    for (const { model, sources } of clusters.filter((c) => c.model.role === "remote" && c.model.primary)) {
        const primary = clusters.find((c) => c.model.name === model.primary);
        const vss = primary?.sources.find((s) => s.chart === null)?.objects.filter((o) => o.kind === "VirtualService") ?? [];
        for (const rev of sources.map(releaseRevision).filter((r): r is string => r !== undefined)) {
            const host = istiodHost(rev);
            const routed = vss.some(
                (vs) =>
                    JSON.stringify(vs.spec ?? {}).includes(`"${host}"`) ||
                    (rev === "" &&
                        vs.metadata?.name === ISTIO_OBJECTS.istiodVirtualService &&
                        JSON.stringify(vs.spec ?? {}).includes(`"${host}.cluster.local"`)),
            );
            if (!routed)
                out.push({
                    cluster: model.primary!,
                    release: "objects.yaml",
                    object: `VirtualService/${revisionVirtualServiceName(ISTIO_OBJECTS.istiodVirtualService, rev)}`,
                    field: "(object)",
                    message: `missing: remote ${model.name} runs revision ${revisionKey(rev)}, whose Service ${istiodName(rev)} its primary's east-west gateway must route`,
                });
        }
    }
    return out;
}

/**
 * Every istiod Deployment runs `<hub>/pilot:<its release's chart version>`; each injector's values
 * name that version; each east-west gateway (`image: auto`) resolves through the injector of the
 * revision its cluster's default tag points at (a remote's: its primary's) to `<hub>/proxyv2:<that version>`.
 */
export function checkRevisionImages(
    clusters: { model: ClusterModel; sources: ObjectSource[]; versions: Record<string, string> }[],
    layouts: Record<string, ClusterRevisions>,
    hub: string,
): { findings: Finding[]; images: Record<string, Record<string, string>> } {
    const findings: Finding[] = [];
    const images: Record<string, Record<string, string>> = {};
    const injectorOf = (c: { sources: ObjectSource[] }, rev: string) => {
        const cm = c.sources
            .find((s) => s.release === istiodName(rev))
            ?.objects.find(
                (o) =>
                    o.kind === "ConfigMap" &&
                    o.metadata?.name === (rev === "" ? RENDERED.injectorConfigMap : `${RENDERED.injectorConfigMap}-${rev}`),
            );
        const text = (cm?.data as Record<string, string> | undefined)?.[RENDERED.injectorValuesKey];
        return text === undefined ? undefined : (JSON.parse(text) as Parameters<typeof injectedProxyImage>[0]);
    };
    for (const c of clusters) {
        const { model, sources } = c;
        const mine: Record<string, string> = {};
        const add = (release: string, object: string, field: string, message: string) =>
            findings.push({ cluster: model.name, release, object, field, message });
        for (const s of sources) {
            const rev = releaseRevision(s);
            if (rev === undefined) continue;
            const version = c.versions[s.release];
            const dep = s.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === istiodName(rev));
            for (const ct of (dep?.spec as { template?: { spec?: { containers?: { name: string; image?: string }[] } } })?.template?.spec
                ?.containers ?? []) {
                mine[`Deployment/${istiodName(rev)}`] = ct.image ?? "";
                if (ct.image !== `${hub}/pilot:${version}`)
                    add(
                        s.release,
                        `Deployment/${istiodName(rev)}`,
                        `containers[${ct.name}].image`,
                        `is ${JSON.stringify(ct.image)}, expected ${hub}/pilot:${version}`,
                    );
            }
            const inj = injectorOf(c, rev);
            if (inj && (inj.global?.hub !== hub || String(inj.global?.tag ?? "") !== version))
                add(
                    s.release,
                    `ConfigMap/${RENDERED.injectorConfigMap}${rev ? `-${rev}` : ""}`,
                    "global.hub, global.tag",
                    `are ${JSON.stringify(inj.global?.hub)}, ${JSON.stringify(inj.global?.tag)}; expected "${hub}", "${version}"`,
                );
        }
        const gw = sources
            .find((s) => s.release === CHARTS.gateway.release)
            ?.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === EASTWEST_NAME);
        if (gw) {
            const by = model.role === "remote" && model.primary ? model.primary : model.name;
            const layout = layouts[model.name];
            const injector = clusters.find((x) => x.model.name === by);
            // The revision that injects the gateway: its cluster's default tag (a remote's webhook calls its primary's istiod of that revision).
            const rev = layout.tagTarget;
            const values = injector ? injectorOf(injector, rev) : undefined;
            const id = `Deployment/${EASTWEST_NAME}`;
            if (!values)
                add(
                    CHARTS.gateway.release,
                    id,
                    "image",
                    `is auto, and ${by} renders no injector of revision ${revisionKey(rev)} to resolve it`,
                );
            else {
                const image = injectedProxyImage(values);
                mine[id] = `auto → ${image} (injected by ${by}, revision ${revisionKey(rev)})`;
                const version = injector!.versions[istiodName(rev)];
                if (image !== `${hub}/proxyv2:${version}`)
                    add(CHARTS.gateway.release, id, "image", `resolves to ${JSON.stringify(image)}, expected ${hub}/proxyv2:${version}`);
            }
        }
        images[model.name] = mine;
    }
    return { findings, images };
}

/**
 * The istiod chart's own rendering of a revision tag (templates/revision-tags-mwc.yaml, as istio.io's
 * Helm upgrade guide renders it), for the release's values: the reference each tag object is compared with.
 */
export async function renderTagTemplate(
    helm: (args: string[]) => Promise<string>,
    istiodChartDir: string,
    release: string,
    valuesFile: string,
    tag: string,
    revision: string,
    kubeVersion: string,
    parse: (text: string) => K8sObject[],
): Promise<K8sObject | string> {
    try {
        const text = await helm([
            "template",
            release,
            istiodChartDir,
            "-n",
            ISTIO_NAMESPACE,
            "-f",
            valuesFile,
            "--set",
            `revisionTags={${tag}}`,
            ...(revision !== "" ? ["--set", `revision=${revision}`] : []),
            "-s",
            "templates/revision-tags-mwc.yaml",
            "--kube-version",
            kubeVersion,
        ]);
        const found = parse(text).find((o) => o.kind === "MutatingWebhookConfiguration" && o.metadata?.name === tagWebhookName(tag));
        return found ?? `the chart rendered no ${tagWebhookName(tag)}`;
    } catch (e) {
        return (e as Error).message.split("\n")[0];
    }
}
