// The walk of a revision-based upgrade (test/support/upgradeWalk.ts) as a vitest suite, one file per
// topology so the two run side by side: each phase planned against the one before (the mesh diff
// refuses nothing, the change plan creates, updates and deletes exactly the phase's resources), then
// rendered with the real charts of both versions and checked (offline/render/revisionChecks.ts), and
// the objects the issue names looked at directly in the rendered manifests.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EXIT, modelsOf, render, splitManifest } from "../../offline/render/render";
import { type ClusterModel, formatFinding, type K8sObject, type ObjectSource } from "../../offline/render/checks";
import { checkClusterRevisions, checkRemoteRoutes, layoutsOf } from "../../offline/render/revisionChecks";
import type { ClusterRevisions } from "../../components/upgrade";
import type { PlanFile } from "../../offline/planFile";
import { planStack, tempDir } from "./planRun";
import { type Phase, type Topology, walkCharts, writeWalk } from "./upgradeWalk";

/** Per phase (stack name): the resources the change plan creates, updates and deletes (names), and the user's next step. */
export interface PhaseChanges {
    create: string[];
    update: string[];
    delete: string[];
    /** A word the change plan's `then you:` line holds (what to restart), or "" for no Istio line at all. */
    then: RegExp;
}

/** Per phase and cluster: the webhook configurations, istiod Services and EndpointSlices and expose routes rendered there. */
export type PhaseObjects = Record<string, string>;

const fresh = {
    load: async () => {
        vi.resetModules();
        return import("../../index.js");
    },
    planOptions: { sim: { cannedTls: true } },
};

/** The objects the render checks are about, in one cluster's manifests and objects.yaml, as one sorted line. */
export function revisionObjects(clusterDir: string): string {
    const files = [
        ...(fs.existsSync(path.join(clusterDir, "manifests"))
            ? fs.readdirSync(path.join(clusterDir, "manifests")).map((f) => path.join(clusterDir, "manifests", f))
            : []),
        path.join(clusterDir, "objects.yaml"),
    ];
    const names: string[] = [];
    for (const f of files.filter((x) => fs.existsSync(x)))
        for (const { obj } of splitManifest(fs.readFileSync(f, "utf8")) as { obj: K8sObject }[]) {
            const n = obj.metadata?.name ?? "";
            if (obj.kind === "MutatingWebhookConfiguration") names.push(`MWC/${n}`);
            else if (obj.kind === "VirtualService") names.push(`VS/${n}`);
            else if ((obj.kind === "Service" || obj.kind === "EndpointSlice") && n.startsWith("istiod")) names.push(`${obj.kind}/${n}`);
        }
    return names.sort().join(" ");
}

export function walkSuite(
    topology: Topology,
    changes: Record<string, PhaseChanges>,
    objects: Record<string, PhaseObjects>,
    tampers: Tamper[] = [],
): void {
    const charts = walkCharts();
    const why = charts.ok ? undefined : `skipped: ${charts.why}`;
    if (why) console.warn(`upgrade walk (${topology}) ${why}`);
    describe.skipIf(!charts.ok)(
        `a 1.30 → 1.31 upgrade of a ${topology} mesh, phase by phase, with the real charts${why ? ` (${why})` : ""}`,
        () => {
            const dir = tempDir(`walk-${topology}-`);
            const out = path.join(dir, "out");
            const saved = path.join(dir, "saved");
            const walk: Phase[] = charts.ok ? writeWalk(dir, topology, charts) : [];
            const times: string[] = [];
            // The two versions on this machine have known defects (1.30.3, 1.31.0-rc.0): their warnings are expected here.
            let warn: ReturnType<typeof vi.spyOn> | undefined;
            beforeAll(() => {
                const real = console.warn.bind(console);
                warn = vi.spyOn(console, "warn").mockImplementation((...a: unknown[]) => {
                    if (!String(a[0]).includes("has a known multicluster defect")) real(...a);
                });
            });
            afterAll(() => warn?.mockRestore());
            walk.forEach((p, i) => {
                it(`${p.stack} ${p.title}: plans against the phase before, renders with both versions' charts, passes the render checks`, async () => {
                    const against = i > 0 ? path.join(saved, walk[i - 1].stack, "plan.json") : undefined;
                    const planned = await planStack(p.stack, out, {
                        stackDir: dir,
                        sim: { cannedTls: true },
                        ...(against ? { against } : {}),
                    });
                    expect(planned.errors).toEqual([]);
                    expect(planned.ok).toBe(true);
                    if (against) {
                        expect(planned.diff?.refusals).toBeUndefined();
                        const want = changes[p.stack];
                        const names = (kind: string) =>
                            planned
                                .changes!.changes.filter((c) => c.kind === kind)
                                .map((c) => c.name)
                                .sort();
                        expect({
                            create: names("create"),
                            update: names("update"),
                            delete: names("delete"),
                            replace: names("replace"),
                        }).toEqual({
                            create: want.create,
                            update: want.update,
                            delete: want.delete,
                            replace: [],
                        });
                        // The change plan's upgrade section names the same resources, and the user's next step.
                        const lines = (planned.changes!.upgrade ?? []).join("\n");
                        for (const n of [...want.create, ...want.update, ...want.delete].filter((x) => !/metallb/.test(x)))
                            expect(lines).toContain(n);
                        expect(lines).toMatch(want.then);
                    }
                    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
                    const r = await render(p.stack, {
                        outDir: out,
                        reusePlan: true,
                        ...fresh,
                        planOptions: { ...fresh.planOptions, stackDir: dir },
                    }).finally(() => log.mockRestore());
                    expect(r.errors).toEqual([]);
                    expect(r.findings.map(formatFinding)).toEqual([]);
                    expect(r.exit).toBe(EXIT.ok);
                    times.push(`${p.stack} ${r.rendered} objects ${r.seconds.toFixed(1)} s`);
                    for (const [cluster, want] of Object.entries(objects[p.stack] ?? {}))
                        expect(`${cluster}: ${revisionObjects(path.join(out, p.stack, cluster))}`).toBe(`${cluster}: ${want}`);
                    fs.cpSync(path.join(out, p.stack), path.join(saved, p.stack), { recursive: true });
                    if (i === walk.length - 1) console.log(`upgrade walk ${topology}: ${times.join(", ")}`);
                });
            });
            // The refusals, through the plan (the mesh diff) and through the program against its last deploy (pulumi up).
            it("the plan refuses a skipped phase: install → tags of every cluster at once", async () => {
                const planned = await planStack("p3", path.join(dir, "refused"), {
                    stackDir: dir,
                    sim: { cannedTls: true },
                    against: path.join(saved, "p1", "plan.json"),
                });
                expect(planned.ok).toBe(false);
                expect(planned.errors).toEqual([
                    expect.stringMatching(/^upgrade.phase jumps from .*phase install to .*tags moved in .*: one step per up/),
                ]);
                expect(planned.diff?.refusals).toEqual(planned.errors);
            });
            it("pulumi up refuses a skipped phase against the last deploy's istioRevisions output, before any resource", async () => {
                const last = JSON.parse(fs.readFileSync(path.join(saved, "p1", "outputs.json"), "utf8")).istioRevisions;
                const planned = await planStack("p4", path.join(dir, "refused"), {
                    stackDir: dir,
                    sim: { cannedTls: true, previousOutputs: { istioRevisions: last } },
                });
                expect(planned.ok).toBe(false);
                expect(planned.errors.join("\n")).toMatch(
                    /mesh.istio.upgrade: upgrade.phase jumps from .*phase install to .*phase gateways/,
                );
            });
            it("pulumi up of remove-old counts what uses the old revision first, and refuses when a cluster does not answer, naming the override", async () => {
                const last = JSON.parse(fs.readFileSync(path.join(saved, "p4", "outputs.json"), "utf8")).istioRevisions;
                // The last deploy's kubeconfigs, pointing at a loopback port nothing listens on.
                const kubeconfig = [
                    "apiVersion: v1",
                    "kind: Config",
                    "current-context: c",
                    "contexts: [{name: c, context: {cluster: c, user: u}}]",
                    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]",
                    "users: [{name: u, user: {token: t}}]",
                    "",
                ].join("\n");
                const kubeconfigs = Object.fromEntries(walk[0] ? ["east", "west"].map((c) => [c, kubeconfig]) : []);
                const planned = await planStack("p5", path.join(dir, "refused"), {
                    stackDir: dir,
                    sim: { cannedTls: true, previousOutputs: { istioRevisions: last, kubeconfigs } },
                });
                expect(planned.ok).toBe(false);
                const text = planned.errors.join("\n");
                expect(text).toMatch(
                    /mesh.istio.upgrade.phase: remove-old removes istiod revision default, and the post-deploy count says it is still in use/,
                );
                expect(text).toMatch(/cluster east did not answer the count of what uses revision default/);
                expect(text).toMatch(/or set mesh.istio.upgrade.removeInUse: true to remove it anyway/);
            });
            // The revision checks bite: each tamper of a rendered phase (the walk's own output) gives exactly the findings named.
            for (const t of tampers)
                it(`the checks catch a broken ${t.stack} (${walk.find((p) => p.stack === t.stack)?.title}) in ${t.cluster}: ${t.what}`, () => {
                    const rendered = loadRendered(path.join(saved, t.stack));
                    const check = () =>
                        [
                            ...rendered.clusters.flatMap((c) => checkClusterRevisions(c.model, c.sources, c.layout)),
                            ...checkRemoteRoutes(rendered.clusters),
                        ].map(formatFinding);
                    expect(check()).toEqual([]);
                    t.change(rendered.clusters.find((c) => c.model.name === t.cluster)!.sources);
                    const found = check();
                    expect(found, JSON.stringify(found, null, 1)).toHaveLength(t.findings.length);
                    for (const f of t.findings)
                        expect(
                            found.some((x) => f.test(x)),
                            `${f} in ${JSON.stringify(found)}`,
                        ).toBe(true);
                });
        },
    );
}

/** A mutation of one phase's rendered objects, and the finding the checks must then report. */
export interface Tamper {
    /** The phase (stack) whose render is changed, and the cluster. */
    stack: string;
    cluster: string;
    what: string;
    change: (sources: ObjectSource[]) => void;
    /** Every finding expected, formatted (formatFinding), as patterns. */
    findings: RegExp[];
}

const CHART_OF: Record<string, string> = { "istio-base": "base", "istio-eastwestgateway": "gateway" };

/** One rendered phase as the render's checks see it: each cluster's model, sources and layout. */
export function loadRendered(dir: string): {
    clusters: { model: ClusterModel; sources: ObjectSource[]; layout: ClusterRevisions }[];
} {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as PlanFile;
    const outputs = JSON.parse(fs.readFileSync(path.join(dir, "outputs.json"), "utf8")) as { gatewayAddresses?: Record<string, string> };
    const layouts = layoutsOf(plan)!;
    return {
        clusters: modelsOf(plan, outputs.gatewayAddresses ?? {}).map((model) => {
            const cdir = path.join(dir, model.name);
            const sources: ObjectSource[] = fs
                .readdirSync(path.join(cdir, "manifests"))
                .sort()
                .map((f) => {
                    const release = f.replace(/\.yaml$/, "");
                    return {
                        release,
                        chart: CHART_OF[release] ?? "istiod",
                        namespace: "istio-system",
                        objects: splitManifest(fs.readFileSync(path.join(cdir, "manifests", f), "utf8")).map((d) => d.obj),
                    };
                });
            sources.push({
                release: "objects.yaml",
                chart: null,
                namespace: "default",
                objects: splitManifest(fs.readFileSync(path.join(cdir, "objects.yaml"), "utf8")).map((d) => d.obj),
            });
            return { model, sources, layout: layouts[model.name] };
        }),
    };
}
