// The real manifests: run the offline plan for a stack, then `helm template` every Istio release of
// every cluster with a real Helm 3 and the official charts, with the exact release names, namespaces
// and values the program hands pulumi-kubernetes' helm.v3.Release, and write
// out/<stack>/<cluster>/manifests/<release>.yaml. Then check the rendered objects and the program's own
// objects (objects.yaml): the mesh checks of checks.ts, and schema validation for the cluster's
// Kubernetes version and Istio's CRDs.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CHARTS, ISTIO_CHART_NAMES, ISTIO_VERSION, unsupportedIstio } from "../../components/istio";
import { factsLabel } from "../../components/istioFacts";
import { chartSource } from "../../components/istioSource";
import { platformOf } from "../../components/platforms/registry";
import type { LooseCluster } from "../../components/platforms/types";
import { plan as runPlan, readStackFile } from "../offlinePlan";
import type { PlanFile } from "../planFile";
import { ChartsLookup, locateCharts, CHART_KEYS, IstioChart } from "./charts";
import { checkCluster, checkImages, ClusterModel, Finding, formatFinding, K8sObject, ObjectSource } from "./checks";
import { checkClusterRevisions, checkRemoteRoutes, checkRevisionImages, layoutsOf, renderTagTemplate } from "./revisionChecks";
import { istiodName } from "../../components/upgrade";
import { HELM_VERSION, helmBinary, runHelm } from "./helm";
import { objectSchemaProblems } from "./schemas";

/**
 * The Kubernetes version assumed where the config names none: kind's default node image
 * (kindest/node:v1.33.1), and what GKE's REGULAR channel and `existing` clusters are taken to run.
 */
export const DEFAULT_KUBE_VERSION = "1.33";

export const EXIT = { ok: 0, checksFailed: 1, error: 2, noCharts: 3 } as const;

/** The header the plan writes on each values file: `# chart <chart> <version> from <repo>, release <release> in <namespace>`. */
const VALUES_HEADER = /^# chart (\S+) (\S+) from (.+), release (\S+) in (\S+)$/;

export interface ValuesFile {
    file: string;
    chart: string;
    version: string;
    repository: string;
    release: string;
    namespace: string;
}

export function readValuesHeader(file: string): ValuesFile {
    const first = fs.readFileSync(file, "utf8").split("\n", 1)[0] ?? "";
    const m = VALUES_HEADER.exec(first);
    if (!m) throw new Error(`${file}: first line is not the plan's "# chart … release … in …" header`);
    return { file, chart: m[1]!, version: m[2]!, repository: m[3]!, release: m[4]!, namespace: m[5]! };
}

/** Each cluster's Kubernetes version, from the stack config, as its platform says (kind's node image tag, eks.version), or the default. */
export function clusterKubeVersions(stack: string, stackDir?: string): Record<string, string> {
    const cfg = (stackDir ? readStackFile(stack, stackDir) : readStackFile(stack)).config;
    const mesh = Object.entries(cfg).find(([k]) => k.endsWith(":mesh"))?.[1] as { clusters?: LooseCluster[] } | undefined;
    const out: Record<string, string> = {};
    for (const c of mesh?.clusters ?? []) out[String(c.name)] = platformOf(c.platform)?.kubeVersion(c) ?? DEFAULT_KUBE_VERSION;
    return out;
}

/** Split a multi-document YAML stream into its non-empty documents, each kept as text and parsed. */
export function splitManifest(text: string): { text: string; obj: K8sObject }[] {
    const docs: { text: string; obj: K8sObject }[] = [];
    for (const part of text.split(/^---\s*$/m)) {
        const obj = YAML.parse(part) as K8sObject | null;
        if (obj && typeof obj === "object") docs.push({ text: part.replace(/^\n+/, "").replace(/\s+$/, ""), obj });
    }
    return docs;
}

function sortKey(o: K8sObject): string {
    return `${o.kind}\u0000${o.metadata?.namespace ?? ""}\u0000${o.metadata?.name ?? ""}\u0000${o.apiVersion}`;
}

export interface ReleaseRender {
    release: string;
    chart: string;
    objects: number;
    file: string;
    milliseconds: number;
}

export interface ClusterRender {
    name: string;
    kubeVersion: string;
    releases: ReleaseRender[];
    /** Objects validated: rendered plus objects.yaml. */
    checked: number;
}

export interface RenderResult {
    exit: (typeof EXIT)[keyof typeof EXIT];
    stack: string;
    /** The Istio version the stack pins, and the version of the charts rendered (another patch of the same minor when the exact ones are not at hand). */
    istioVersion?: string;
    chartsVersion?: string;
    /** Per cluster, the image each istiod and east-west gateway Deployment runs (`auto` resolved through the injector's values). */
    images: Record<string, Record<string, string>>;
    clusters: ClusterRender[];
    findings: Finding[];
    notes: string[];
    errors: string[];
    rendered: number;
    checked: number;
    seconds: number;
}

export interface RenderOptions {
    outDir: string;
    /** Defaults to ISTIO_CHARTS_DIR, then the charts:pull cache. */
    chartsDir?: string;
    /** Use the plan already in outDir instead of planning again. */
    reusePlan?: boolean;
    /** The program loader passed to the plan (tests load index.ts through their own module system). */
    load?: Parameters<typeof runPlan>[2];
    /** Passed to the plan (tests use canned TLS). */
    planOptions?: Parameters<typeof runPlan>[3];
}

export function modelsOf(planFile: PlanFile, gatewayAddresses: Record<string, string>): ClusterModel[] {
    return planFile.clusters.map((c) => ({
        name: c.name,
        role: c.role === "remote" ? "remote" : "primary",
        primary: c.primary,
        network: c.network,
        meshId: planFile.meshId,
        topology: planFile.topology === "primary-remote" ? "primary-remote" : "multi-primary",
        multiNetwork: planFile.networks.length > 1,
        primaryAddress: c.primary ? gatewayAddresses[c.primary] : undefined,
        ownAddress: gatewayAddresses[c.name],
    }));
}

/**
 * The files a chart folder needs before Helm (or the staging of a source checkout) reads it, each
 * missing one named by its path: Chart.yaml, values.yaml and templates/ of base, istiod and gateway.
 * A folder with none of the charts is left to locateCharts, which says how to get them.
 */
export function chartFilesProblems(dir: string): string[] {
    const root = path.resolve(dir);
    const present = CHART_KEYS.filter((k) => fs.existsSync(path.join(root, CHARTS[k].chart)));
    const out: string[] = [];
    for (const k of present) {
        for (const f of ["Chart.yaml", "values.yaml", "templates"]) {
            const p = path.join(root, CHARTS[k].chart, f);
            const want = f === "templates" ? "a folder" : "a file";
            let ok: boolean;
            try {
                const st = fs.statSync(p);
                ok = f === "templates" ? st.isDirectory() : st.isFile();
            } catch {
                ok = false;
            }
            if (!ok)
                out.push(
                    `chart ${CHARTS[k].chart}: ${p} is missing (${want} every Helm chart has); restore the chart from the Istio ` +
                        "release or checkout it came from",
                );
        }
    }
    return out;
}

export async function render(stack: string, options: RenderOptions): Promise<RenderResult> {
    const started = performance.now();
    const result: RenderResult = {
        exit: EXIT.ok,
        stack,
        clusters: [],
        images: {},
        findings: [],
        notes: [],
        errors: [],
        rendered: 0,
        checked: 0,
        seconds: 0,
    };
    const done = (exit: RenderResult["exit"]): RenderResult => {
        result.exit = exit;
        result.seconds = (performance.now() - started) / 1000;
        return result;
    };
    // The stack's pinned version and chart source decide which charts render it.
    const stackDir = options.planOptions?.stackDir;
    const pinned = pinnedIstio(stack, stackDir);
    if (pinned.problem) {
        result.errors.push(pinned.problem);
        return done(EXIT.error);
    }
    const chartsDir = options.chartsDir ?? process.env.ISTIO_CHARTS_DIR;
    // A chart folder missing one of its files is named by path, before Helm reads it.
    const lacking = [chartsDir, pinned.localRepository, pinned.upgrade?.localRepository].flatMap((d) => (d ? chartFilesProblems(d) : []));
    if (lacking.length) {
        result.errors.push(...lacking);
        return done(EXIT.noCharts);
    }
    const charts: ChartsLookup = locateCharts(pinned.version, { dir: chartsDir, localRepository: pinned.localRepository });
    if (!charts.ok) {
        result.errors.push(charts.message);
        return done(EXIT.noCharts);
    }
    result.istioVersion = charts.version;
    result.chartsVersion = charts.chartsVersion;
    result.notes.push(`charts ${charts.chartsVersion} from ${charts.origin}`, ...charts.notes);
    if (unsupportedIstio(charts.version) === undefined)
        result.notes.push(`objects checked against the CRDs of ${factsLabel(charts.version)}`);
    // During a revision-based upgrade the new version's charts render its releases (components/upgrade.ts).
    const chartsByVersion = new Map<string, Extract<ChartsLookup, { ok: true }>>([[charts.version, charts]]);
    if (pinned.upgrade) {
        const next = locateCharts(pinned.upgrade.version, { dir: chartsDir, localRepository: pinned.upgrade.localRepository });
        if (!next.ok) {
            result.errors.push(next.message);
            return done(EXIT.noCharts);
        }
        chartsByVersion.set(next.version, next);
        result.notes.push(`upgrade: charts ${next.chartsVersion} from ${next.origin}`, ...next.notes);
    }
    let helm: string;
    try {
        helm = await helmBinary();
    } catch (e) {
        result.errors.push((e as Error).message);
        return done(EXIT.error);
    }
    const dir = path.join(options.outDir, stack);
    let planFile: PlanFile;
    if (options.reusePlan && fs.existsSync(path.join(dir, "plan.json"))) {
        planFile = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as PlanFile;
    } else {
        // The plan's errors are this command's: reported once, below, not by the plan too.
        const planned = await runPlan(stack, options.outDir, options.load, { ...options.planOptions, reportErrors: false });
        if (!planned.ok || !planned.planFile) {
            result.errors.push(...planned.errors.map((e) => `plan: ${e}`));
            return done(EXIT.error);
        }
        planFile = planned.planFile;
    }
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, "outputs.json"), "utf8")) as { gatewayAddresses?: Record<string, string> };
    const versions = clusterKubeVersions(stack, stackDir);
    const chartByName = new Map<string, IstioChart>(CHART_KEYS.map((k) => [CHARTS[k].chart, k]));
    const models = modelsOf(planFile, outputs.gatewayAddresses ?? {});
    const rendered: { model: ClusterModel; sources: ObjectSource[]; versions: Record<string, string> }[] = [];
    // What the plan's revision record implies per cluster (offline/render/revisionChecks.ts); absent in older plans.
    const layouts = layoutsOf(planFile);

    for (const model of models) {
        const kubeVersion = versions[model.name] ?? DEFAULT_KUBE_VERSION;
        const clusterDir = path.join(dir, model.name);
        const manifestsDir = path.join(clusterDir, "manifests");
        fs.rmSync(manifestsDir, { recursive: true, force: true });
        fs.mkdirSync(manifestsDir, { recursive: true });
        const sources: ObjectSource[] = [];
        // Per release: the version it pins and its values file (the revision checks render a tag with them).
        const releaseVersions: Record<string, string> = {};
        const releaseValues: Record<string, string> = {};
        const cr: ClusterRender = { name: model.name, kubeVersion, releases: [], checked: 0 };
        const helmDir = path.join(clusterDir, "helm");
        const valueFiles = fs.existsSync(helmDir)
            ? fs
                  .readdirSync(helmDir)
                  .filter((f) => f.endsWith(".values.yaml"))
                  .sort()
            : [];
        for (const f of valueFiles) {
            let v: ValuesFile;
            try {
                v = readValuesHeader(path.join(helmDir, f));
            } catch (e) {
                result.errors.push((e as Error).message);
                continue;
            }
            const key = chartByName.get(v.chart);
            if (!key) {
                const why = ISTIO_CHART_NAMES.includes(v.chart)
                    ? "an Istio chart this program does not install"
                    : "not an Istio chart, and not in the chart cache";
                result.notes.push(
                    `cluster ${model.name}: release ${v.release} (chart ${v.chart} ${v.version} from ${v.repository}) not rendered: ${why}`,
                );
                continue;
            }
            const charts = chartsByVersion.get(v.version);
            if (!charts) {
                result.errors.push(
                    `cluster ${model.name}: release ${v.release} pins ${v.chart} ${v.version}, the charts at hand are ${[...chartsByVersion.keys()].join(", ")}`,
                );
                continue;
            }
            releaseVersions[v.release] = v.version;
            releaseValues[v.release] = v.file;
            const located = charts.charts[key];
            const t0 = performance.now();
            let stdout: string;
            try {
                stdout = await runHelm(helm, [
                    "template",
                    v.release,
                    located.dir,
                    "-n",
                    v.namespace,
                    "-f",
                    v.file,
                    "--kube-version",
                    kubeVersion,
                ]);
            } catch (e) {
                result.errors.push(`cluster ${model.name}: ${(e as Error).message}`);
                continue;
            }
            const docs = splitManifest(stdout).sort((a, b) => sortKey(a.obj).localeCompare(sortKey(b.obj)));
            const header = [
                `# helm template ${v.release} ${v.chart} ${charts.chartsVersion} -n ${v.namespace} -f helm/${f} --kube-version ${kubeVersion}`,
                `# rendered offline by Helm v${HELM_VERSION} (npm run render); chart ${v.chart} ${charts.chartsVersion} from ${charts.origin}` +
                    (charts.exact
                        ? ""
                        : ` (the stack pins ${charts.version} from ${v.repository}; its exact charts were not at hand, so these are the same minor's ${charts.chartsVersion} charts)`),
            ].join("\n");
            const file = path.join(manifestsDir, `${v.release}.yaml`);
            fs.writeFileSync(file, `${header}\n---\n${docs.map((d) => d.text).join("\n---\n")}\n`);
            cr.releases.push({ release: v.release, chart: v.chart, objects: docs.length, file, milliseconds: performance.now() - t0 });
            result.rendered += docs.length;
            sources.push({ release: v.release, chart: v.chart, namespace: v.namespace, objects: docs.map((d) => d.obj) });
        }
        const objectsFile = path.join(clusterDir, "objects.yaml");
        const planned = fs.existsSync(objectsFile) ? splitManifest(fs.readFileSync(objectsFile, "utf8")).map((d) => d.obj) : [];
        sources.push({ release: "objects.yaml", chart: null, namespace: "default", objects: planned });

        const layout = layouts?.[model.name];
        if (layout) {
            // Each tag object against the chart's own template, rendered with its target revision's release values.
            const target = istiodName(layout.tagTarget);
            const renderedTags: Record<string, K8sObject | string> = {};
            for (const tag of layout.tagObjects) {
                const tc = chartsByVersion.get(releaseVersions[target] ?? "");
                renderedTags[tag] = tc
                    ? await renderTagTemplate(
                          (a) => runHelm(helm, a),
                          tc.charts.istiod.dir,
                          target,
                          releaseValues[target],
                          tag,
                          layout.tagTarget,
                          kubeVersion,
                          (t) => splitManifest(t).map((d) => d.obj),
                      )
                    : `no values rendered for release ${target}`;
            }
            result.findings.push(...checkClusterRevisions(model, sources, layout, renderedTags, releaseVersions));
        } else result.findings.push(...checkCluster(model, sources));
        rendered.push({ model, sources, versions: releaseVersions });
        for (const s of sources) {
            // Istio objects against the CRDs base installs; a release's objects against its own version's.
            const schemaVersion = releaseVersions[s.release] ?? releaseVersions[CHARTS.base.release] ?? charts.version;
            for (const o of s.objects) {
                const r = await objectSchemaProblems(o as unknown as Record<string, unknown>, kubeVersion, schemaVersion);
                cr.checked++;
                for (const p of r.problems) {
                    result.findings.push({
                        cluster: model.name,
                        release: s.release,
                        object: `${o.kind}/${o.metadata?.name}`,
                        field: "schema",
                        message: `${p} (Kubernetes ${kubeVersion})`,
                    });
                }
                if (r.unchecked) result.notes.push(`cluster ${model.name}: ${s.release} ${o.kind}/${o.metadata?.name}: ${r.unchecked}`);
            }
        }
        result.checked += cr.checked;
        result.clusters.push(cr);
    }
    // Every istiod and east-west gateway runs an image under the configured hub, at the pinned version.
    const hub = planFile.istio?.hubs.length === 1 ? planFile.istio.hubs[0] : undefined;
    if (hub !== undefined) {
        const images = layouts ? checkRevisionImages(rendered, layouts, hub) : checkImages(rendered, { hub, tag: charts.version });
        result.findings.push(...images.findings);
        result.images = images.images;
    } else {
        result.notes.push(`images not checked: the plan names ${planFile.istio?.hubs.length ?? 0} image hubs (expected one)`);
    }
    // Every revision a remote runs is routed by its primary (revisionChecks.ts).
    if (layouts) result.findings.push(...checkRemoteRoutes(rendered));
    writeSummary(dir, result);
    if (result.errors.length > 0) return done(EXIT.error);
    return done(result.findings.length > 0 ? EXIT.checksFailed : EXIT.ok);
}

/** The Istio version a stack pins and, when its istio.repository is a local folder, that folder (what the release installs). */
export function pinnedIstio(
    stack: string,
    stackDir?: string,
): { version: string; localRepository?: string; problem?: string; upgrade?: { version: string; localRepository?: string } } {
    let cfg: Record<string, unknown>;
    try {
        cfg = (stackDir ? readStackFile(stack, stackDir) : readStackFile(stack)).config;
    } catch (e) {
        // Reported once, by the caller, before any chart is looked for.
        return { version: ISTIO_VERSION, problem: (e as Error).message };
    }
    const mesh = Object.entries(cfg).find(([k]) => k.endsWith(":mesh"))?.[1] as
        { istio?: { version?: unknown; repository?: unknown; upgrade?: { version?: unknown; repository?: unknown } } } | undefined;
    const version = typeof mesh?.istio?.version === "string" ? mesh.istio.version : ISTIO_VERSION;
    const local = (repo: unknown) => {
        const source = typeof repo === "string" ? chartSource(repo) : undefined;
        return source && "kind" in source && source.kind === "local" ? source.dir : undefined;
    };
    // A revision-based upgrade in progress: the new version's charts too (its own repository, else istio.repository).
    const u = mesh?.istio?.upgrade;
    const upgrade =
        u && typeof u.version === "string"
            ? { version: u.version, localRepository: local(u.repository ?? mesh?.istio?.repository) }
            : undefined;
    return { version, localRepository: local(mesh?.istio?.repository), ...(upgrade ? { upgrade } : {}) };
}

const RENDER_HEADING = "### Render (npm run render)";

/** The render's section of out/<stack>/summary.md (replaced on every render): the charts used, and any note that they are another patch's. */
function writeSummary(dir: string, r: RenderResult): void {
    const file = path.join(dir, "summary.md");
    if (!fs.existsSync(file)) return;
    const text = fs.readFileSync(file, "utf8");
    const kept = text.includes(RENDER_HEADING) ? text.slice(0, text.indexOf(RENDER_HEADING)).trimEnd() + "\n" : text;
    const lines = [RENDER_HEADING, ""];
    lines.push(
        r.chartsVersion === r.istioVersion
            ? `Rendered with the Istio ${r.chartsVersion} charts.`
            : `**Rendered with the Istio ${r.chartsVersion} charts: the stack pins ${r.istioVersion}, whose exact charts were not at hand.**`,
    );
    for (const n of r.notes) lines.push(`- ${n}`);
    for (const [cluster, images] of Object.entries(r.images).sort()) {
        if (Object.keys(images).length === 0) continue;
        lines.push(
            `- ${cluster} images: ${Object.entries(images)
                .map(([d, i]) => `${d} ${i}`)
                .join(", ")}`,
        );
    }
    lines.push(`- ${r.rendered} objects rendered, ${r.checked} checked, ${r.findings.length} failing checks`);
    fs.writeFileSync(file, `${kept}\n${lines.join("\n")}\n`);
}

/** The report the command prints: per cluster and release, the objects rendered; then every finding. */
export function formatRender(r: RenderResult): string {
    const lines: string[] = [];
    for (const c of r.clusters) {
        lines.push(`cluster ${c.name} (Kubernetes ${c.kubeVersion}): ${c.checked} objects checked`);
        for (const rel of c.releases)
            lines.push(
                `  ${rel.release} (${rel.chart}): ${rel.objects} objects in ${path.relative(process.cwd(), rel.file)} ` +
                    `(${rel.milliseconds.toFixed(0)} ms)`,
            );
    }
    for (const [cluster, images] of Object.entries(r.images).sort())
        if (Object.keys(images).length > 0)
            lines.push(
                `images in ${cluster}: ${Object.entries(images)
                    .map(([d, i]) => `${d} ${i}`)
                    .join(", ")}`,
            );
    for (const n of r.notes) lines.push(`note: ${n}`);
    for (const f of r.findings) lines.push(`FAIL ${formatFinding(f)}`);
    for (const e of r.errors) lines.push(`error: ${e}`);
    if (r.exit === EXIT.noCharts) return `${lines.join("\n")}\n`;
    lines.push(
        `stack ${r.stack}: ${r.rendered} objects rendered, ${r.checked} checked, ${r.findings.length} ` +
            `failing check${r.findings.length === 1 ? "" : "s"} in ${r.seconds.toFixed(1)} s`,
    );
    return `${lines.join("\n")}\n`;
}
