// Where the Istio charts and images of a mesh come from, and the checks on it (docs/istio-sources.md):
//   - `istio.repository`: an https Helm repository (default Istio's own), an `oci://` reference, or a
//     local folder of unpacked charts (air-gapped installs, the project's own tests);
//   - `istio.hub` (default docker.io/istio) and `istio.imagePullSecrets`: written explicitly into
//     every release, so no install depends on a hub a chart's defaults name;
//   - retired locations are refused before anything is built, naming the config path and the
//     replacement. This file is the one place that names them (test/istioSources.test.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { z } from "zod";
import { CHARTS, ISTIO_HUB, ISTIO_OCI_REPOSITORY, ISTIO_REPOSITORY, ISTIO_VERSION, minorOf, unsupportedIstio } from "./istio";
import { FACTS_CHARTS, istioFacts, type FactsChart } from "./istioFacts";
import { revisionFields } from "./upgrade";

/**
 * Locations Istio no longer publishes to (Istio 1.31 upgrade notes, "GCP infrastructure":
 * https://istio.io/latest/news/releases/1.31.x/announcing-1.31/upgrade-notes/). They go away after a
 * last brown-out on 2026-12-08/09; an install that still names one then fails to pull. The bucket
 * is also reachable by path on storage.googleapis.com: the same retired bucket.
 */
export const RETIRED_ISTIO_LOCATIONS: readonly { location: string; charts: string; images: string }[] = [
    { location: "istio-release.storage.googleapis.com", charts: ISTIO_REPOSITORY, images: ISTIO_HUB },
    { location: "storage.googleapis.com/istio-release", charts: ISTIO_REPOSITORY, images: ISTIO_HUB },
    { location: "gcr.io/istio-release", charts: ISTIO_OCI_REPOSITORY, images: ISTIO_HUB },
    { location: "registry.istio.io", charts: ISTIO_OCI_REPOSITORY, images: ISTIO_HUB },
];
const RETIRED_NOTE = "nothing is published there since Istio 1.31 and it goes away after 2026-12-09 (Istio 1.31 upgrade notes)";

/** The retired location a string names (a URL, an OCI reference, a hub, an image), if any. */
export function retiredLocation(s: string): (typeof RETIRED_ISTIO_LOCATIONS)[number] | undefined {
    const text = s.toLowerCase();
    return RETIRED_ISTIO_LOCATIONS.find((r) => {
        const at = new RegExp(`(^|[^a-z0-9.-])${r.location.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}($|[/:?#\\s"'])`);
        return at.test(text);
    });
}

// ---- istio.repository ----

export type ChartSource = { kind: "helm"; url: string } | { kind: "oci"; ref: string } | { kind: "local"; dir: string };

/**
 * What `istio.repository` names: `oci://…` an OCI registry path holding base, istiod and gateway;
 * `http(s)://…` a Helm repository (with an index.yaml); anything else (or `file://…`) a local
 * folder, relative to the directory the program runs in (Pulumi runs the program and its providers
 * in the project directory: ctx.Pwd in pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go).
 */
export function chartSource(repository: string, cwd: string = process.cwd()): ChartSource | { problem: string } {
    const r = repository.trim();
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(r)?.[1]?.toLowerCase();
    if (scheme === "oci") {
        const ref = r.replace(/\/+$/, "");
        return /^oci:\/\/[^/\s]+\/\S+$/.test(ref)
            ? { kind: "oci", ref }
            : { problem: `"${repository}" is not an OCI reference such as ${ISTIO_OCI_REPOSITORY}` };
    }
    if (scheme === "https" || scheme === "http") {
        try {
            if (new URL(r).hostname !== "") return { kind: "helm", url: r.replace(/\/+$/, "") };
        } catch {
            // reported below
        }
        return { problem: `"${repository}" is not a Helm repository URL such as ${ISTIO_REPOSITORY}` };
    }
    if (scheme === "file") return { kind: "local", dir: path.resolve(cwd, r.slice("file://".length)) };
    if (scheme !== undefined) {
        return {
            problem:
                `"${repository}" is neither a Helm repository (https://…), an OCI reference (oci://…) nor a local folder; ` +
                `the default is ${ISTIO_REPOSITORY}`,
        };
    }
    if (r === "") return { problem: `is empty; the default is ${ISTIO_REPOSITORY}` };
    const home = r === "~" || r.startsWith("~/") ? path.join(os.homedir(), r.slice(1)) : r;
    return { kind: "local", dir: path.resolve(cwd, home) };
}

/** A chart source in one line, as the plan files and messages show it. */
export function sourceText(s: ChartSource): string {
    return s.kind === "helm" ? s.url : s.kind === "oci" ? s.ref : s.dir;
}

/**
 * The `chart` and `repositoryOpts` of a helm.v3.Release for one chart of a source, as
 * pulumi-kubernetes resolves them (provider/pkg/provider/helm_release.go, `chartPathOptionsFromRelease`,
 * `resolveChartName` and `locateChart`): an OCI chart is the full `oci://…/<chart>` reference with no
 * repositoryOpts (a repositoryOpts.repo would be read as a Helm repository and fetched for an
 * index.yaml); a local chart is the chart folder's path with no repositoryOpts, which `localChart`
 * loads when it holds a Chart.yaml, without any network; an https repository goes in repositoryOpts.repo.
 */
export function releaseChart(source: ChartSource, chart: string): { chart: string; repositoryOpts?: { repo: string } } {
    if (source.kind === "oci") return { chart: `${source.ref}/${chart}` };
    if (source.kind === "local") return { chart: path.join(source.dir, chart) };
    return { chart, repositoryOpts: { repo: source.url } };
}

/** The chart name and source of a Release's inputs (the inverse of releaseChart, for plans and policies). */
export function describeReleaseChart(inputs: { chart?: unknown; repositoryOpts?: { repo?: unknown } }): {
    name: string;
    source: string | null;
} {
    const chart = typeof inputs.chart === "string" ? inputs.chart : "";
    const repo = typeof inputs.repositoryOpts?.repo === "string" ? inputs.repositoryOpts.repo : undefined;
    if (repo !== undefined) return { name: chart, source: repo };
    if (chart.startsWith("oci://") || chart.startsWith("/") || chart.startsWith(".") || /^[A-Za-z]:[\\/]/.test(chart)) {
        const cut = chart.replace(/\/+$/, "").lastIndexOf("/");
        return { name: chart.slice(cut + 1), source: chart.slice(0, cut) };
    }
    return { name: chart, source: null };
}

// ---- istio.hub and the image values every release gets ----

const HUB = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type Values = Record<string, unknown>;

/**
 * The image settings each release gets, so no install depends on a hub a chart's defaults name:
 *   - istiod: `hub` and `global.hub` (istiod's own image, manifests/charts/istio-control/istio-discovery/
 *     templates/deployment.yaml; `global.hub` also goes into the injector's values, from which every
 *     injected proxy gets its image: pkg/kube/inject/inject.go `ProxyImage`), and `tag`/`global.tag`
 *     = the pinned version, so a local or source chart installs exactly that version's images;
 *   - the gateway chart has no hub of its own: its pods say `image: auto` and the injector above
 *     fills it (manifests/charts/gateway/templates/deployment.yaml); its image setting is
 *     `imagePullSecrets` (a list of `{name}`);
 *   - `global.imagePullSecrets` (names) for istiod's and the reader's ServiceAccounts and the injected pods.
 */
export function imageValues(istio: { version: string; hub: string; imagePullSecrets: readonly string[] }): {
    base: Values;
    istiod: Values;
    gateway: Values;
} {
    const secrets = [...istio.imagePullSecrets];
    const pull = secrets.length > 0 ? { imagePullSecrets: secrets } : {};
    return {
        base: secrets.length > 0 ? { global: { imagePullSecrets: secrets } } : {},
        istiod: { hub: istio.hub, tag: istio.version, global: { hub: istio.hub, tag: istio.version, ...pull } },
        gateway: secrets.length > 0 ? { imagePullSecrets: secrets.map((name) => ({ name })) } : {},
    };
}

// ---- the config block ----

export const istioSchema = z
    .strictObject({
        /** The exact Istio version: every chart and every image (no ranges). */
        version: z.string().default(ISTIO_VERSION),
        /** An https Helm repository, an oci:// reference, or a local folder of unpacked charts. */
        repository: z.string().default(ISTIO_REPOSITORY),
        /** Where the images come from: Istio's Docker Hub, or a private mirror (registry/path, no tag). */
        hub: z.string().default(ISTIO_HUB),
        /** Secrets (in istio-system) to pull the images with. */
        imagePullSecrets: z.array(z.string()).default([]),
        /** Helm values for the istiod chart, merged last. */
        values: z.record(z.string(), z.unknown()).default({}),
        // The running revision, named tags, and a revision-based upgrade in progress (components/upgrade.ts).
        ...revisionFields,
    })
    .default({
        version: ISTIO_VERSION,
        repository: ISTIO_REPOSITORY,
        hub: ISTIO_HUB,
        imagePullSecrets: [],
        values: {},
        revision: "",
        tags: [],
    });

/**
 * Values this program sets from `istio.*` (components/meshConfig.ts refuses them in `istio.values`,
 * also under `pilot.`). The reader ServiceAccount (1.31's `global.readerServiceAccount`) stays the
 * charts' own: the remote secrets hold tokens of istio-reader-service-account (docs/reader-rbac.md).
 */
export const ISTIO_SOURCE_OWNED_VALUES: [string[], string][] = [
    [["hub"], "set mesh.istio.hub instead"],
    [["global", "hub"], "set mesh.istio.hub instead"],
    [["tag"], "the images follow mesh.istio.version"],
    [["global", "tag"], "the images follow mesh.istio.version"],
    [["global", "imagePullSecrets"], "set mesh.istio.imagePullSecrets instead"],
    [["global", "readerServiceAccount"], "the remote secrets use the reader tokens this program creates, docs/reader-rbac.md"],
];

type Say = (path: string, msg: string) => void;

/** The version whose facts the checks read: the pinned one when it is supported, else the default. */
export function factsVersion(version: unknown): string {
    return typeof version === "string" && unsupportedIstio(version) === undefined ? version : ISTIO_VERSION;
}
type LooseIstio = { version?: unknown; repository?: unknown; hub?: unknown; imagePullSecrets?: unknown; values?: unknown };

const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const SOURCE_PLACEHOLDER_VERSION = "1.0.0";

function stringLeaves(v: unknown, at: string, out: [string, string][] = []): [string, string][] {
    if (typeof v === "string") out.push([at, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => stringLeaves(x, `${at}[${i}]`, out));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) stringLeaves(x, `${at}.${k}`, out);
    return out;
}

function leafPaths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
        for (const [k, x] of Object.entries(v)) leafPaths(x, [...prefix, k], out);
    } else if (prefix.length > 0) out.push(prefix);
    return out;
}

function readIfExists(p: string): string | undefined {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return undefined;
    }
}

/** A local chart folder: base/, istiod/ and gateway/ (as `helm pull --untar` writes them), each of the pinned version. */
export function localChartProblems(
    dir: string,
    version: string | undefined,
    readFile: (p: string) => string | undefined = readIfExists,
): string[] {
    const problems: string[] = [];
    const fix = `put the charts there with npm run charts:pull -- --stack <stack> --into ${dir} (docs/istio-sources.md)`;
    for (const key of FACTS_CHARTS) {
        const name = CHARTS[key].chart;
        const file = path.join(dir, name, "Chart.yaml");
        const text = readFile(file);
        if (text === undefined) {
            problems.push(`${dir} has no ${name}/Chart.yaml: a local chart folder holds base/, istiod/ and gateway/; ${fix}`);
            continue;
        }
        let meta: { name?: unknown; version?: unknown };
        try {
            meta = (YAML.parse(text) ?? {}) as typeof meta;
        } catch (e) {
            problems.push(`${file} is not YAML (${(e as Error).message.split("\n")[0]})`);
            continue;
        }
        if (meta.name !== name) problems.push(`${file} names chart ${JSON.stringify(meta.name)}, expected "${name}"`);
        const declared = String(meta.version ?? "");
        if (version === undefined || declared === version) continue;
        if (declared === SOURCE_PLACEHOLDER_VERSION) {
            problems.push(
                `${file} says version ${declared}, the placeholder of a source checkout of istio/istio: stage the charts of a ` +
                    `tag as a release with npm run charts:pull -- --source <checkout> --tag ${version} --into ${dir}`,
            );
        } else {
            problems.push(`${file} is version ${declared}, the stack pins ${version}: ${fix}, or pin ${declared}`);
        }
    }
    return problems;
}

/**
 * The checks of `mesh.istio` and of every `istio.values`: the version, the chart source (a local
 * folder must hold the pinned version's charts), the hub, the pull secrets, no retired location
 * anywhere, and no chart option the pinned minor does not have.
 */
export function checkIstioSource(
    istio: LooseIstio | undefined,
    clusters: { istio?: { values?: unknown } }[],
    env: { readFile?: (p: string) => string | undefined },
    say: Say,
): void {
    const version = typeof istio?.version === "string" ? istio.version : ISTIO_VERSION;
    let pinned: string | undefined = version;
    if (istio && typeof istio.version === "string") {
        if (!SEMVER.test(istio.version)) {
            say(
                "mesh.istio.version",
                `"${istio.version}" is not a pinned chart version; give an exact version such as ` +
                    `"${ISTIO_VERSION}" (ranges would let clusters drift apart)`,
            );
            pinned = undefined;
        } else {
            const outside = unsupportedIstio(istio.version);
            if (outside) {
                say("mesh.istio.version", outside);
                pinned = undefined;
            }
        }
    }
    if (istio && typeof istio.repository === "string") {
        const retired = retiredLocation(istio.repository);
        const source = chartSource(istio.repository);
        if (retired) {
            say(
                "mesh.istio.repository",
                `"${istio.repository}" is a retired Istio location (${retired.location}): ${RETIRED_NOTE}; use ${retired.charts}`,
            );
        } else if ("problem" in source) {
            say("mesh.istio.repository", source.problem);
        } else if (source.kind === "local") {
            for (const p of localChartProblems(source.dir, pinned, env.readFile)) say("mesh.istio.repository", p);
        }
    }
    if (istio && typeof istio.hub === "string") {
        const retired = retiredLocation(istio.hub);
        if (retired) {
            say(
                "mesh.istio.hub",
                `"${istio.hub}" is a retired Istio location (${retired.location}): ${RETIRED_NOTE}; use ${retired.images} or your mirror of it`,
            );
        } else if (!HUB.test(istio.hub)) {
            say(
                "mesh.istio.hub",
                `"${istio.hub}" is not an image registry path such as ${ISTIO_HUB} or registry.example.com/istio ` +
                    `(no scheme, no tag: the images are <hub>/pilot:<version> and <hub>/proxyv2:<version>)`,
            );
        }
    }
    if (istio && Array.isArray(istio.imagePullSecrets)) {
        istio.imagePullSecrets.forEach((s, i) => {
            if (typeof s === "string" && (!DNS1123_SUBDOMAIN.test(s) || s.length > 253))
                say(`mesh.istio.imagePullSecrets[${i}]`, `"${s}" is not a Secret name (a DNS-1123 subdomain)`);
        });
    }
    const valueSets: [string, unknown][] = [["mesh.istio.values", istio?.values]];
    clusters.forEach((c, i) => valueSets.push([`mesh.clusters[${i}].istio.values`, c?.istio?.values]));
    for (const [at, values] of valueSets) {
        for (const [p, s] of stringLeaves(values, at)) {
            const retired = retiredLocation(s);
            if (retired) say(p, `"${s}" names a retired Istio location (${retired.location}): ${RETIRED_NOTE}; use ${retired.images}`);
        }
        if (pinned !== undefined) for (const [p, m] of minorOnlyOptions(values, "istiod", pinned)) say(`${at}.${p}`, m);
    }
}

/**
 * Keys of the user's values that only another supported minor's chart has: the pinned charts would
 * silently ignore them (Helm drops unknown keys). `pilot.x` is read as `x` (the istiod chart merges
 * it over the top level). Keys this program owns are reported by their own check.
 */
export function minorOnlyOptions(values: unknown, chart: FactsChart, version: string): [string, string][] {
    const mine = istioFacts(version);
    const known = new Set(mine.chartKeys[chart]);
    const owned = ISTIO_SOURCE_OWNED_VALUES.map(([p]) => p.join("."));
    const out: [string, string][] = [];
    for (const leaf of leafPaths(values)) {
        const full = leaf.join(".");
        const key = chart === "istiod" && leaf[0] === "pilot" ? leaf.slice(1).join(".") : full;
        if (owned.some((o) => key === o || key.startsWith(`${o}.`))) continue;
        if (known.has(key)) continue;
        for (const other of mine.minorOnly.comparedWith) {
            const only = istioFacts(other).minorOnly[chart];
            const hit = only.find((o) => key === o || key.startsWith(`${o}.`));
            if (hit) {
                out.push([
                    full,
                    `exists only in Istio ${other}'s ${chart} chart (${hit}); the ${minorOf(version)} charts of the pinned ` +
                        `${version} ignore it: pin a ${other}.x version, or remove it`,
                ]);
                break;
            }
        }
    }
    return out;
}
