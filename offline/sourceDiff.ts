// What a change of where Istio comes from does, in the mesh diff (docs/istio-sources.md): a new
// chart source, image hub or pull secrets. Pure: istioSourceLines(before, after).
//   - Every Istio release is upgraded in place: a helm.v3.Release is replaced only when its name or
//     namespace changes (pulumi-kubernetes provider/pkg/provider/helm_release.go `Diff`,
//     forceNewFields), so a new `chart`/`repositoryOpts` is a `helm upgrade` of the same release.
//   - Which pods roll follows from what the upgrade changes in the rendered objects: istiod's
//     Deployment names `<hub>/pilot:<version>` (so a new hub restarts istiod); the east-west
//     gateway's pods say `image: auto` and get their image from the injector when they are created
//     (manifests/charts/gateway/templates/deployment.yaml), so a new hub does not roll them, nor any
//     sidecar; the gateway Deployment's `imagePullSecrets` (new pull secrets) do roll its pods.
import { CHARTS, ISTIO_CHART_NAMES } from "../components/istio";
import type { PlanChart, PlanFile } from "./planFile";

type Facts = { sources: string[]; hubs: string[]; secrets: string[]; gatewaySecrets: Record<string, string>; versions: string[] };

function factsOf(p: PlanFile): Facts {
    const uniq = (xs: (string | null | undefined)[]) => [...new Set(xs.filter((x): x is string => typeof x === "string"))].sort();
    const charts: [string, PlanChart][] = p.clusters.flatMap((c) =>
        Object.values(c.charts)
            .filter((ch) => ISTIO_CHART_NAMES.includes(ch.chart))
            .map((ch) => [c.name, ch] as [string, PlanChart]),
    );
    const global = (ch: PlanChart) => (ch.values.global ?? {}) as { hub?: string; imagePullSecrets?: string[] };
    const istiods = charts.filter(([, ch]) => ch.chart === CHARTS.istiod.chart).map(([, ch]) => ch);
    const gateways = charts.filter(([, ch]) => ch.chart === CHARTS.gateway.chart);
    return {
        sources: uniq(charts.map(([, ch]) => ch.repository)),
        versions: uniq(charts.map(([, ch]) => ch.version)),
        hubs: uniq(istiods.flatMap((ch) => [ch.values.hub as string | undefined, global(ch).hub])),
        secrets: uniq(istiods.flatMap((ch) => global(ch).imagePullSecrets ?? [])),
        gatewaySecrets: Object.fromEntries(gateways.map(([c, ch]) => [c, JSON.stringify(ch.values.imagePullSecrets ?? [])])),
    };
}

const list = (xs: string[]) => (xs.length ? xs.join(", ") : "(chart defaults)");

/** Lines for the mesh diff when the chart source, the image hub or the pull secrets change. */
export function istioSourceLines(before: PlanFile, after: PlanFile): string[] {
    const a = factsOf(before);
    const b = factsOf(after);
    const kept = new Set(before.clusters.map((c) => c.name));
    const common = after.clusters.filter((c) => kept.has(c.name));
    const releases = common.flatMap((c) =>
        Object.keys(c.charts)
            .filter((r) => ISTIO_CHART_NAMES.includes(c.charts[r].chart))
            .map((r) => `${c.name}/${r}`),
    );
    const primaries = common.filter((c) => c.runsIstiod).map((c) => c.name);
    const withGateway = common.filter((c) => c.gateway).map((c) => c.name);
    const sameVersion = a.versions.join() === b.versions.join();
    const lines: string[] = [];
    if (a.sources.join() !== b.sources.join() && releases.length > 0) {
        lines.push(
            `istio source: charts from ${list(a.sources)} → ${list(b.sources)}: every Istio release (${releases.length}: ` +
                `${releases.join(", ")}) is upgraded in place (helm upgrade; a release is replaced only when its name or namespace changes)` +
                (sameVersion
                    ? `; the same version ${b.versions.join(", ")} from the new source renders the same objects, so no pod rolls unless the ` +
                      `new source serves different charts under that version`
                    : "; the version changes too (see the chart version lines)"),
        );
    }
    if (a.hubs.join() !== b.hubs.join() && primaries.length > 0) {
        lines.push(
            `istio source: images from ${list(a.hubs)} → ${list(b.hubs)}: istiod restarts in ${primaries.join(", ")} (its image moves to ` +
                `${b.hubs[0] ?? "?"}/pilot); pods injected from now on pull from the new hub, but the running east-west gateways ` +
                `(${withGateway.join(", ") || "none"}) and sidecars keep the image they were injected with until they restart: ` +
                `restart them (kubectl -n istio-system rollout restart deployment/${CHARTS.gateway.release}; then your workloads) ` +
                `while the old hub still serves`,
        );
    }
    const gwRoll = withGateway.filter((c) => (a.gatewaySecrets[c] ?? "[]") !== (b.gatewaySecrets[c] ?? "[]"));
    if (a.secrets.join() !== b.secrets.join() || gwRoll.length > 0) {
        lines.push(
            `istio source: image pull secrets ${list(a.secrets)} → ${list(b.secrets)}: the east-west gateway pods roll in ` +
                `${gwRoll.join(", ") || "no cluster"} (their Deployment's imagePullSecrets change); istiod's and the reader's ` +
                `ServiceAccounts change without a restart; injected pods get the new secrets when they restart`,
        );
    }
    return lines;
}
