// The official Istio charts the render uses, for the version a stack pins. Looked up in order:
//   1. the stack's own `istio.repository` when it is a local folder (what `pulumi up` installs);
//   2. ISTIO_CHARTS_DIR: one chart folder (base/, istiod/, gateway/) or a folder of such folders;
//   3. the cache `npm run charts:pull` fills (node_modules/.cache/multicluster-mesh/charts-<version>/),
//      from the stack's repository (https or oci) or staged from an istio/istio source checkout.
// The exact version's charts are used when at hand; otherwise the newest charts of the same minor,
// and the render says so (never pretending to be the other patch). The charts are Istio's code:
// they are never committed here.
//
// A chart in a source checkout of istio/istio says version 1.0.0 ("never actually shipped.
// istio/release-builder will replace it at build-time", manifests/charts/*/Chart.yaml). `charts:pull
// --source <checkout> --tag <tag>` does what the release build does to it: writes the tag into
// Chart.yaml's version and appVersion. The images are not the chart's business here: every release
// sets hub and tag explicitly (components/istioSource.ts imageValues).
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CHARTS, compareVersions, ISTIO_VERSION, minorOf } from "../../components/istio";
import { type ChartSource, releaseChart, sourceText } from "../../components/istioSource";
import { CACHE_DIR, runHelm } from "./helm";

export type IstioChart = keyof typeof CHARTS;
export const CHART_KEYS = Object.keys(CHARTS) as IstioChart[];
/** What a source checkout's Chart.yaml says instead of the version (istio/istio manifests/charts at a tag). */
export const SOURCE_PLACEHOLDER_VERSION = "1.0.0";
/** The chart folders of istio/istio, by the name this program installs them under. */
export const SOURCE_CHART_DIRS: Record<IstioChart, string> = {
    base: "manifests/charts/base",
    istiod: "manifests/charts/istio-control/istio-discovery",
    gateway: "manifests/charts/gateway",
};

export function pulledChartsDir(version: string): string {
    return path.join(CACHE_DIR, `charts-${version}`);
}

export interface LocatedChart {
    chart: IstioChart;
    /** The directory passed to `helm template`. */
    dir: string;
}

export type ChartsLookup =
    | {
          ok: true;
          /** The version the stack pins. */
          version: string;
          /** The version of the charts found: the pinned one, or another release of the same minor. */
          chartsVersion: string;
          exact: boolean;
          origin: string;
          charts: Record<IstioChart, LocatedChart>;
          notes: string[];
      }
    | { ok: false; message: string };

export function chartsHowTo(version: string): string {
    return [
        `the Istio ${version} charts (base, istiod, gateway), or another ${minorOf(version)}.x release's, are not available.`,
        "Get them in one of three ways:",
        `  npm run charts:pull -- --stack <name>      # helm pull from the stack's istio.repository (https or oci) ` +
            `into ${path.relative(process.cwd(), pulledChartsDir(version)) || "."}`,
        `  npm run charts:pull -- --source <istio/istio checkout at a tag> --tag <tag>   # stage the charts of a source checkout as release <tag>`,
        `  ISTIO_CHARTS_DIR=<dir> npm run render ...   # <dir> holds base/, istiod/, gateway/ of a release (or one such folder per release)`,
    ].join("\n");
}

function readChartYaml(dir: string): { name?: string; version?: string } | undefined {
    const f = path.join(dir, "Chart.yaml");
    if (!fs.existsSync(f)) return undefined;
    return (YAML.parse(fs.readFileSync(f, "utf8")) ?? {}) as { name?: string; version?: string };
}

/** One folder of base/, istiod/, gateway/: its charts' common version, or why it is not usable. */
export function chartFolder(root: string): { version: string } | { problem: string } | undefined {
    const versions = new Set<string>();
    const problems: string[] = [];
    let found = 0;
    for (const key of CHART_KEYS) {
        const name = CHARTS[key].chart;
        const meta = readChartYaml(path.join(root, name));
        if (!meta) {
            problems.push(`${root} lacks ${name}/Chart.yaml`);
            continue;
        }
        found++;
        if (meta.name !== name) problems.push(`${root}/${name}/Chart.yaml names chart "${meta.name}", expected "${name}"`);
        versions.add(String(meta.version ?? ""));
    }
    if (found === 0) return undefined;
    if (versions.has(SOURCE_PLACEHOLDER_VERSION)) {
        problems.push(
            `${root} holds charts of a source checkout (Chart.yaml version ${SOURCE_PLACEHOLDER_VERSION}, Istio's placeholder): ` +
                `stage them as a release with npm run charts:pull -- --source <checkout> --tag <tag>`,
        );
    } else if (versions.size > 1) problems.push(`${root} mixes chart versions ${[...versions].sort().join(", ")}`);
    if (problems.length > 0) return { problem: problems.join("; ") };
    return { version: [...versions][0]! };
}

/** Find the charts for `version`: the stack's local folder, ISTIO_CHARTS_DIR, then the cache; exact first, else the same minor. */
export function locateCharts(
    version: string = ISTIO_VERSION,
    options: { dir?: string; localRepository?: string; cacheDir?: string } = { dir: process.env.ISTIO_CHARTS_DIR },
): ChartsLookup {
    const candidates: { root: string; version: string; origin: string }[] = [];
    const problems: string[] = [];
    const consider = (root: string, origin: string) => {
        const f = chartFolder(root);
        if (f === undefined) return false;
        if ("problem" in f) problems.push(f.problem);
        else candidates.push({ root, version: f.version, origin });
        return true;
    };
    const below = (dir: string, origin: (sub: string) => string) => {
        if (!fs.existsSync(dir)) return;
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            if (e.isDirectory()) consider(path.join(dir, e.name), origin(path.join(dir, e.name)));
        }
    };
    if (options.localRepository)
        consider(path.resolve(options.localRepository), `the stack's istio.repository ${path.resolve(options.localRepository)}`);
    const dir = options.dir && options.dir !== "" ? path.resolve(options.dir) : undefined;
    if (dir) {
        if (!consider(dir, `ISTIO_CHARTS_DIR=${dir}`)) below(dir, (sub) => `ISTIO_CHARTS_DIR ${sub}`);
    }
    const cache = options.cacheDir ?? CACHE_DIR;
    if (fs.existsSync(cache)) {
        for (const e of fs.readdirSync(cache, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
            if (e.isDirectory() && /^charts-\d/.test(e.name) && !e.name.endsWith(".tmp")) {
                const root = path.join(cache, e.name);
                consider(root, `the charts:pull cache ${root}`);
            }
        }
    }
    const exact = candidates.find((c) => c.version === version);
    const sameMinor = candidates
        .filter((c) => minorOf(c.version) === minorOf(version))
        .sort((a, b) => compareVersions(a.version, b.version))
        .pop();
    const pick = exact ?? sameMinor;
    if (!pick) {
        const why = problems.length ? `${problems.join("\n")}\n` : "";
        return { ok: false, message: `${why}${chartsHowTo(version)}` };
    }
    const charts = Object.fromEntries(
        CHART_KEYS.map((key) => [key, { chart: key, dir: path.join(pick.root, CHARTS[key].chart) }]),
    ) as Record<IstioChart, LocatedChart>;
    const notes = exact
        ? []
        : [
              `the Istio ${version} charts are not at hand: rendered with the ${pick.version} charts of the same minor ` +
                  `(${pick.origin}); what differs between the two patches is not checked here (npm run charts:pull -- --stack <name> gets the exact ones)`,
          ];
    return { ok: true, version, chartsVersion: pick.version, exact: !!exact, origin: pick.origin, charts, notes };
}

/**
 * Fetch base, istiod and gateway at `version` from a source into `dest` (default: the cache), untarred:
 * `helm pull` from an https repository or an OCI registry, or a copy of a local folder.
 */
export async function pullCharts(
    helm: string,
    version: string,
    source: ChartSource,
    dest: string = pulledChartsDir(version),
): Promise<string> {
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        for (const key of CHART_KEYS) {
            const name = CHARTS[key].chart;
            if (source.kind === "local") {
                fs.cpSync(path.join(source.dir, name), path.join(tmp, name), { recursive: true });
                continue;
            }
            const ref = releaseChart(source, name);
            const args = ref.repositoryOpts ? ["pull", ref.chart, "--repo", ref.repositoryOpts.repo] : ["pull", ref.chart];
            await runHelm(helm, [...args, "--version", version, "--untar", "--untardir", tmp]);
        }
        const got = chartFolder(tmp);
        if (!got || "problem" in got)
            throw new Error(`the charts from ${sourceText(source)}: ${got && "problem" in got ? got.problem : "none"}`);
        if (got.version !== version) throw new Error(`${sourceText(source)} served charts of version ${got.version}, not ${version}`);
        fs.rmSync(dest, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.renameSync(tmp, dest);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return dest;
}

/**
 * Stage the charts of an istio/istio source checkout at `tag` (a tree with manifests/charts/, or a
 * folder of base/, istiod/, gateway/) as that release, into `dest` (default: the cache): the tag goes
 * into each Chart.yaml's version and appVersion, as Istio's release build does.
 */
export function stageSourceCharts(checkout: string, tag: string, dest: string = pulledChartsDir(tag)): string {
    const root = path.resolve(checkout);
    const from = (key: IstioChart) =>
        fs.existsSync(path.join(root, SOURCE_CHART_DIRS[key], "Chart.yaml"))
            ? path.join(root, SOURCE_CHART_DIRS[key])
            : path.join(root, CHARTS[key].chart);
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        for (const key of CHART_KEYS) {
            const src = from(key);
            const meta = readChartYaml(src);
            if (!meta) throw new Error(`${root}: no ${SOURCE_CHART_DIRS[key]}/Chart.yaml nor ${CHARTS[key].chart}/Chart.yaml`);
            if (meta.version !== SOURCE_PLACEHOLDER_VERSION && meta.version !== tag) {
                throw new Error(
                    `${src}/Chart.yaml is version ${meta.version}: not a source checkout (placeholder ${SOURCE_PLACEHOLDER_VERSION}) nor ${tag}`,
                );
            }
            const out = path.join(tmp, CHARTS[key].chart);
            fs.cpSync(src, out, { recursive: true });
            const file = path.join(out, "Chart.yaml");
            const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
            doc.set("version", tag);
            doc.set("appVersion", tag);
            fs.writeFileSync(file, doc.toString());
        }
        fs.rmSync(dest, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.renameSync(tmp, dest);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return dest;
}
