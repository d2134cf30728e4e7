// The official Istio charts the render uses: from ISTIO_CHARTS_DIR (a folder with base/, istiod/ and
// gateway/), or from the cache `npm run charts:pull` fills with a real `helm pull` from the stack's
// repository. The charts are Istio's code: they are never committed here.
//
// A chart from a source checkout of istio/istio (manifests/charts at tag 1.30.3) says version 1.0.0:
// Istio's release build stamps the real version into the published charts (see the comment in
// manifests/charts/*/Chart.yaml at 1.30.3). Such a chart is accepted as the pinned version, staged
// into the cache with that version written into Chart.yaml (so the rendered `helm.sh/chart` and
// `app.kubernetes.io/version` labels are the published chart's), and the manifests say so.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CHARTS, ISTIO_REPOSITORY, ISTIO_VERSION } from "../../components/istio";
import { CACHE_DIR, runHelm } from "./helm";

export type IstioChart = keyof typeof CHARTS;
export const CHART_KEYS = Object.keys(CHARTS) as IstioChart[];
/** What a source checkout's Chart.yaml says instead of the version (istio/istio manifests/charts at a tag). */
export const SOURCE_PLACEHOLDER_VERSION = "1.0.0";

export function pulledChartsDir(version: string): string {
    return path.join(CACHE_DIR, `charts-${version}`);
}

export interface LocatedChart {
    chart: IstioChart;
    /** The directory passed to `helm template`. */
    dir: string;
    /** What the original Chart.yaml said. */
    declaredVersion: string;
    /** A source checkout (placeholder version) staged as `version`. */
    fromSource: boolean;
}

export type ChartsLookup =
    | { ok: true; version: string; origin: string; charts: Record<IstioChart, LocatedChart>; notes: string[] }
    | { ok: false; message: string };

export function chartsHowTo(version: string): string {
    return [
        `the Istio ${version} charts (base, istiod, gateway) are not available. Get them in one of two ways:`,
        `  npm run charts:pull -- --stack <name>     # helm pull from the stack's istio.repository ` +
            `into ${path.relative(process.cwd(), pulledChartsDir(version)) || "."}`,
        `  ISTIO_CHARTS_DIR=<dir> npm run render ...  # <dir> holds base/, istiod/, gateway/, e.g. from istio/istio at tag ${version}:`,
        `      git archive ${version} manifests/charts/base manifests/charts/istio-control/istio-discovery manifests/charts/gateway`,
        `      (istio-discovery is the istiod chart: put it under <dir>/istiod)`,
    ].join("\n");
}

function readChartYaml(dir: string): { name?: string; version?: string } | undefined {
    const f = path.join(dir, "Chart.yaml");
    if (!fs.existsSync(f)) return undefined;
    return (YAML.parse(fs.readFileSync(f, "utf8")) ?? {}) as { name?: string; version?: string };
}

/** Copy a source chart into the cache with the pinned version stamped into Chart.yaml. */
function stageSourceChart(src: string, chart: IstioChart, version: string): string {
    // Keyed by the source folder, so two checkouts never share a staging folder.
    const key = crypto.createHash("sha256").update(path.resolve(src)).digest("hex").slice(0, 12);
    const dest = path.join(CACHE_DIR, `charts-source-${version}-${key}`, chart);
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(src, tmp, { recursive: true });
    stampVersion(tmp, version);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
    return dest;
}

function stampVersion(dest: string, version: string): void {
    const file = path.join(dest, "Chart.yaml");
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    doc.set("version", version);
    doc.set("appVersion", version);
    fs.writeFileSync(file, doc.toString());
    // The release build also stamps the image registry and tag into istiod's defaults; a checkout says
    // registry.istio.io/testing and `latest`. Istio publishes its release images as docker.io/istio/<image>:<version>.
    const values = path.join(dest, "values.yaml");
    const v = YAML.parseDocument(fs.readFileSync(values, "utf8"));
    const defaults = ["_internal_defaults_do_not_set", "global"];
    if (v.hasIn([...defaults, "hub"])) v.setIn([...defaults, "hub"], "docker.io/istio");
    if (v.hasIn([...defaults, "tag"])) v.setIn([...defaults, "tag"], version);
    fs.writeFileSync(values, v.toString());
}

/** Find the charts for `version`: ISTIO_CHARTS_DIR (or `dir`) first, then the pull cache. */
export function locateCharts(version: string = ISTIO_VERSION, dir: string | undefined = process.env.ISTIO_CHARTS_DIR): ChartsLookup {
    const root = dir && dir !== "" ? path.resolve(dir) : pulledChartsDir(version);
    const origin = dir && dir !== "" ? `ISTIO_CHARTS_DIR=${root}` : `the charts:pull cache ${root}`;
    const missing: string[] = [];
    const problems: string[] = [];
    const notes: string[] = [];
    const charts = {} as Record<IstioChart, LocatedChart>;
    for (const key of CHART_KEYS) {
        const name = CHARTS[key].chart;
        const chartDir = path.join(root, name);
        const meta = readChartYaml(chartDir);
        if (!meta) {
            missing.push(`${name}/Chart.yaml`);
            continue;
        }
        if (meta.name !== name) problems.push(`${chartDir}/Chart.yaml names chart "${meta.name}", expected "${name}"`);
        const declared = String(meta.version ?? "");
        if (declared === version) {
            charts[key] = { chart: key, dir: chartDir, declaredVersion: declared, fromSource: false };
        } else if (declared === SOURCE_PLACEHOLDER_VERSION) {
            charts[key] = { chart: key, dir: stageSourceChart(chartDir, key, version), declaredVersion: declared, fromSource: true };
            notes.push(`${name}: a source checkout (Chart.yaml version ${declared}, Istio's placeholder), rendered as ${version}`);
        } else {
            problems.push(`${chartDir}/Chart.yaml is version ${declared}, the stack pins ${version}`);
        }
    }
    if (missing.length === CHART_KEYS.length && problems.length === 0) {
        return { ok: false, message: `${dir ? `ISTIO_CHARTS_DIR=${root} has no charts; ` : ""}${chartsHowTo(version)}` };
    }
    if (missing.length > 0) problems.push(`${root} lacks ${missing.join(", ")}`);
    if (problems.length > 0) return { ok: false, message: `${problems.join("\n")}\n${chartsHowTo(version)}` };
    return { ok: true, version, origin, charts, notes };
}

/** `helm pull` base, istiod and gateway at `version` from `repository` into the cache, untarred. */
export async function pullCharts(helm: string, version: string = ISTIO_VERSION, repository: string = ISTIO_REPOSITORY): Promise<string> {
    const dest = pulledChartsDir(version);
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
        for (const key of CHART_KEYS) {
            await runHelm(helm, ["pull", CHARTS[key].chart, "--repo", repository, "--version", version, "--untar", "--untardir", tmp]);
        }
        fs.rmSync(dest, { recursive: true, force: true });
        fs.renameSync(tmp, dest);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    return dest;
}
