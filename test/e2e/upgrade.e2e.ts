// A revision-based Istio upgrade (1.30.3 → 1.31.0-rc.0, docs/upgrades.md) of a primary-remote mesh,
// every phase's objects applied, in order, to real API servers: each phase is planned and rendered
// offline with the real charts of both versions (npm run render), then its objects (Helm's rendered
// manifests and the program's objects.yaml) are server-side applied to the suite's clusters
// `up-primary` and `up-remote` (test/e2e/globalSetup.ts) and what the phase removes is deleted, as
// `pulumi up` would leave the cluster. Every object must be accepted (schema, immutable fields such as
// a Deployment's selector across chart versions, admission) and be there afterwards.
// Between phases gateways and remove-old, the count of what uses a revision runs against the real API
// (components/check/revisions.ts): a pod the old revision injected and a tag pointing at it hold the
// removal back; gone, they no longer do.
//
// Cheaper than the engine per phase: no Pulumi run, no Helm release records; the engine's own runs
// are the other topologies' files. What only a cluster with running Istio shows (injection, proxies
// reconnecting) is not here: kwok runs no containers.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ClusterInfo, readState } from "../../e2e/clusters";
import { applyObjects, type KubeObject, type Placed, present } from "../../e2e/applyObjects";
import { request, targetOf, waitFor, type KubeTarget } from "../../components/check/kube";
import { revisionPods } from "../../components/check/revisions";
import { removalGuard } from "../../components/upgradeGuard";
import type { RevisionRecord } from "../../components/upgrade";
import { formatFinding } from "../../offline/render/checks";
import { EXIT, render, splitManifest } from "../../offline/render/render";
import { type Phase, walkCharts, writeWalk } from "../support/upgradeWalk";
import { E2E_CLUSTERS } from "./globalSetup";
import { timed } from "./setup";

const NAMES = Object.keys(E2E_CLUSTERS.upgrade);
const [PRIMARY, REMOTE] = NAMES;
const charts = walkCharts();
const work = process.env.MCM_E2E_WORK;
if (!charts.ok) console.log(`[e2e] upgrade: skipped: ${charts.why}`);

/** One cluster's objects of a rendered phase: each Helm release's manifests (in istio-system) and objects.yaml. */
/** An object's identity across two phases. */
const id = (p: Placed) => `${p.obj.apiVersion}/${p.obj.kind}/${p.obj.metadata.namespace ?? p.defaultNamespace}/${p.obj.metadata.name}`;

function phaseObjects(dir: string): Placed[] {
    const out: Placed[] = [];
    const add = (file: string, defaultNamespace: string) => {
        for (const { obj } of splitManifest(fs.readFileSync(file, "utf8"))) {
            const o = obj as unknown as KubeObject;
            if (o.metadata?.annotations?.["helm.sh/hook"]) continue; // Helm runs hooks, it does not keep them
            // The plan redacts secret values ("<redacted: n bytes>"): applied with a placeholder of the same keys.
            if (o.kind === "Secret" && o.data && typeof o.data === "object")
                o.data = Object.fromEntries(Object.keys(o.data).map((k) => [k, Buffer.from("redacted in the plan").toString("base64")]));
            out.push({ obj: o, defaultNamespace });
        }
    };
    const manifests = path.join(dir, "manifests");
    for (const f of fs.existsSync(manifests) ? fs.readdirSync(manifests).sort() : []) add(path.join(manifests, f), "istio-system");
    add(path.join(dir, "objects.yaml"), "default");
    return out;
}

describe.skipIf(!charts.ok)("a revision-based upgrade's objects, phase by phase, on real API servers", () => {
    let live: Record<string, ClusterInfo>;
    let targets: Record<string, KubeTarget>;
    let dir: string;
    let walk: Phase[] = [];
    const applied: Record<string, Placed[]> = {};
    const records: Record<string, RevisionRecord> = {};
    const summary: string[] = [];

    beforeAll(async () => {
        if (!work) throw new Error("run the end-to-end suite with npm run e2e");
        const state = readState(path.join(work, "clusters"));
        if (!state) throw new Error("the suite's clusters are not running (test/e2e/globalSetup.ts)");
        live = Object.fromEntries(state.clusters.filter((c) => NAMES.includes(c.name)).map((c) => [c.name, c]));
        targets = Object.fromEntries(Object.values(live).map((c) => [c.name, targetOf(c.kubeconfig)]));
        dir = path.join(work, "upgrade");
        fs.mkdirSync(dir, { recursive: true });
        if (!charts.ok) return;
        walk = writeWalk(dir, "primary-remote", charts, {
            order: [PRIMARY, REMOTE],
            clusters: [
                {
                    name: PRIMARY,
                    network: "net-a",
                    role: "primary",
                    kubeconfig: live[PRIMARY].kubeconfig,
                    apiServer: live[PRIMARY].apiServer,
                },
                {
                    name: REMOTE,
                    network: "net-a",
                    role: "remote",
                    primary: PRIMARY,
                    kubeconfig: live[REMOTE].kubeconfig,
                    apiServer: live[REMOTE].apiServer,
                },
            ],
        });
    });
    afterAll(() => {
        if (summary.length) console.log(`[e2e] upgrade: ${summary.join("; ")}`);
    });

    for (const stack of ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]) {
        it(`${stack}: rendered with both versions' charts, every object accepted by both API servers, what the phase removes deleted`, async () => {
            const phase = walk.find((p) => p.stack === stack)!;
            const out = path.join(dir, "out");
            const r = await timed("upgrade", `${stack} ${phase.title}: plan and render`, () =>
                render(stack, {
                    outDir: out,
                    // The program loaded afresh through vitest's module system for each plan (the mock runtime is per run).
                    load: async () => {
                        vi.resetModules();
                        return import("../../index.js");
                    },
                    planOptions: { stackDir: dir, sim: { cannedTls: true } },
                }),
            );
            expect(r.errors).toEqual([]);
            expect(r.findings.map(formatFinding)).toEqual([]);
            expect(r.exit).toBe(EXIT.ok);
            records[stack] = JSON.parse(fs.readFileSync(path.join(out, stack, "outputs.json"), "utf8")).istioRevisions;
            await timed("upgrade", `${stack} ${phase.title}: apply`, async () => {
                for (const name of NAMES) {
                    const objects = phaseObjects(path.join(out, stack, name));
                    const before = applied[name] ?? [];
                    const res = await applyObjects(targets[name], objects, before);
                    expect(res.rejected, `${name}: objects the API server refused`).toEqual({});
                    // Everything of the phase is there; what it removed (CRDs stay, as Helm keeps them) is gone.
                    const here = await present(targets[name], objects);
                    expect(Object.entries(here).filter(([, ok]) => !ok)).toEqual([]);
                    const ids = new Set(objects.map(id));
                    const removed = before.filter((p) => p.obj.kind !== "CustomResourceDefinition" && !ids.has(id(p)));
                    expect(res.deleted).toHaveLength(removed.length);
                    const left = await present(targets[name], removed);
                    expect(Object.entries(left).filter(([, ok]) => ok)).toEqual([]);
                    summary.push(`${stack} ${name}: ${res.applied.length} applied, ${res.deleted.length} deleted`);
                    applied[name] = objects;
                }
            });
            // The phase's revision objects, read back from the API servers.
            const mwc = async (c: string) =>
                (await request(targets[c], "GET", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations")).items
                    .map((o: KubeObject) => o.metadata.name)
                    .filter((n: string) => n.startsWith("istio-"))
                    .sort();
            const injectors = ["istio-sidecar-injector", "istio-sidecar-injector-1-31-0-rc-0"];
            const tagged = ["istio-revision-tag-default", "istio-sidecar-injector-1-31-0-rc-0"];
            const want: Record<string, Record<string, string[]>> = {
                p0: { [PRIMARY]: ["istio-sidecar-injector"], [REMOTE]: ["istio-sidecar-injector"] },
                p1: { [PRIMARY]: injectors, [REMOTE]: injectors },
                p2: { [PRIMARY]: tagged, [REMOTE]: injectors },
                p3: { [PRIMARY]: tagged, [REMOTE]: tagged },
                p4: { [PRIMARY]: tagged, [REMOTE]: tagged },
                p5: { [PRIMARY]: tagged, [REMOTE]: tagged },
                p6: { [PRIMARY]: tagged, [REMOTE]: tagged },
            };
            for (const c of NAMES) expect(`${c}: ${(await mwc(c)).join(" ")}`).toBe(`${c}: ${want[stack][c].join(" ")}`);
        });
        if (stack === "p4")
            it("after gateways: a pod the old revision injected and a tag pointing at it hold remove-old back, counted through the real API", async () => {
                const t = targets[REMOTE];
                const access = NAMES.map((n) => ({ name: n, kubeconfig: live[n].kubeconfig }));
                await request(t, "POST", "/api/v1/namespaces", {
                    body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
                });
                const pod = {
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: "cart-0", namespace: "shop", annotations: { "istio.io/rev": "default" } },
                    spec: { containers: [{ name: "cart", image: "registry.invalid/cart:1" }] },
                };
                // The namespace's default ServiceAccount comes from the controller manager, shortly.
                await waitFor(
                    "pod created",
                    async () => (await request(t, "POST", "/api/v1/namespaces/shop/pods", { body: pod }), true),
                    30_000,
                    500,
                );
                const tag = {
                    apiVersion: "admissionregistration.k8s.io/v1",
                    kind: "MutatingWebhookConfiguration",
                    metadata: { name: "istio-revision-tag-canary", labels: { "istio.io/tag": "canary", "istio.io/rev": "default" } },
                    webhooks: [],
                };
                await request(t, "POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", { body: tag });

                // Page size 1: the count follows the API's continue tokens.
                const found = await revisionPods(access, records.p4, { pageSize: 1 });
                expect(found.unreachable).toEqual([]);
                expect(found.use[REMOTE].default).toEqual({
                    pods: 1,
                    examples: ["shop/cart-0"],
                    namespaces: [],
                    labelledPods: [],
                    tags: ["canary"],
                });
                expect(found.use[PRIMARY].default.pods).toBe(0);
                expect(found.results.find((x) => x.cluster === REMOTE)).toMatchObject({ check: "revision-in-use", ok: false });
                const removeOld: RevisionRecord = { ...records.p4, upgrade: { ...records.p4.upgrade!, phase: "remove-old" } };
                const refused = await removalGuard(removeOld, false, access);
                expect(refused[1]).toBe(
                    `${REMOTE}: revision default is in use: 1 running pod it injected (shop/cart-0); tag canary pointing at it`,
                );
                expect(refused.join("\n")).toMatch(/set mesh.istio.upgrade.removeInUse: true/);

                await request(t, "DELETE", "/api/v1/namespaces/shop/pods/cart-0?gracePeriodSeconds=0");
                await request(t, "DELETE", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-revision-tag-canary");
                await waitFor("pod gone", async () => (await revisionPods(access, records.p4)).use[REMOTE].default.pods === 0, 30_000, 500);
                expect(await removalGuard(removeOld, false, access)).toEqual([]);
            });
    }
});
