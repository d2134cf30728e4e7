// One topology's run through the real engine, as a sequence of vitest tests: preview and up, an empty
// second up, a series of config changes (each previewed and compared with the offline change plan,
// resource by resource, then applied), live checks after every up, and a destroy that leaves only
// Istio's CRDs. Shared by multiPrimary.e2e.ts and primaryRemote.e2e.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { checkMesh, type CheckReport } from "../../components/check/checks";
import { formatReport } from "../../components/check/format";
import { request, targetOf } from "../../components/check/kube";
import {
    CACERTS_KEYS,
    CACERTS_SECRET,
    ISTIO_NAMESPACE,
    NETWORK_LABEL,
    NETWORKING_API,
    readerTokenName,
    remoteSecretName,
} from "../../components/istio";
import { trustInit } from "../../offline/trustInit";
import { ROOT } from "../../e2e/tools";
import type { ClusterInfo } from "../../e2e/clusters";
import { changePlanSteps, engineSteps, setDiff, type EngineRun } from "../../e2e/harness";
import { intentFromPlan } from "../../offline/checkIntent";
import { parsePlanFile } from "../../offline/planFile";
import { E2E_ISTIO_VERSION, environment, printTimes, providedTrust, timed, topology, type Env, type Topology } from "./setup";

export interface MeshCluster {
    name: string;
    network: string;
    role?: "primary" | "remote";
    primary?: string;
    /** Another kubeconfig for the same cluster (respelled server, rotated credentials). */
    kubeconfig?: string;
    /** `identity:` (components/platforms/identity.ts). */
    identity?: string;
}

export interface Change {
    name: string;
    /** The new state, given the live clusters and the run folder. */
    clusters: (live: Record<string, ClusterInfo>, dir: string) => MeshCluster[];
    traffic?: unknown;
    /** Engine steps this change may show that the change plan does not, with why (documented limits). */
    knownDifferences?: { step: RegExp; why: string }[];
    /** Cluster whose objects must keep their UIDs (no replacement). */
    keepsUids?: string;
    /** The program must refuse the change before anything runs, with this message; the config is then put back. */
    refused?: RegExp;
}

export interface TopologySpec {
    name: string;
    topology: "multi-primary" | "primary-remote";
    /** Every cluster the run will use (started up front), in address order. */
    clusterNames: string[];
    initial: MeshCluster[];
    changes: Change[];
    /** Where the charts come from: a local folder (air-gapped installs) or a Helm repository over HTTP. */
    charts: "local folder" | "helm repository";
    /** mesh.check.gate: every up runs the post-deploy check (components/check/gate.ts). */
    gate?: boolean;
    /** Inject faults into the deployed mesh, one after the other, and check that `npm run check` names each. */
    faults?: boolean;
}

/** Differences every run shows between the engine and the change plan, and why (docs/change-rules.md). */
const ALWAYS: { step: RegExp; why: string }[] = [
    {
        // The engine makes a default instance of its builtin provider for the StackReference read
        // (pkg/resource/deploy/builtins.go); the mock runtime has no providers of its own.
        step: /^engine only: create pulumi:providers:pulumi default$/,
        why: "the engine's default builtin provider (for the StackReference the program reads)",
    },
];

export function driveTopology(spec: TopologySpec): void {
    let env: Env;
    let t: Topology;
    let live: Record<string, ClusterInfo>;
    let bundles: Record<string, unknown>;
    let rootCertPem: string;
    let lastPlan = "";
    let planNo = 0;
    let traffic: unknown;
    let current: MeshCluster[] = spec.initial;
    const report: string[] = [];
    /** What `npm run check` printed (healthy, then after each fault), kept in the run folder. */
    const checkOutputs: string[] = [];
    const failed = (r: { report?: CheckReport }, cluster: string, check: string) =>
        (r.report?.results ?? []).filter((x) => x.cluster === cluster && x.check === check && !x.ok).map((x) => x.message);
    const lastIntent = () => intentFromPlan(parsePlanFile(fs.readFileSync(lastPlan, "utf8"), lastPlan));
    // The suite's API servers run inside the netns scripts/e2e.ts made (e2e/clusters.ts); a fault stops one by PID.
    const apiServerPid = (cluster: string) => t.clusters.processes.find((p) => p.name === `${cluster}/kube-apiserver`)!.pid;

    const mesh = (clusters: MeshCluster[]) => ({
        meshId: "e2e",
        topology: spec.topology,
        istio: { version: E2E_ISTIO_VERSION, repository: spec.charts === "local folder" ? env.chartDir : env.chartRepo },
        trust: { mode: "provided" },
        clusters: clusters.map((c) => ({
            name: c.name,
            network: c.network,
            role: c.role ?? "primary",
            ...(c.primary ? { primary: c.primary } : {}),
            platform: "existing",
            ...(c.identity ? { identity: c.identity } : {}),
            kubeconfig: c.kubeconfig ?? live[c.name].kubeconfig,
            context: live[c.name].context,
            // Fixed, so a kubeconfig that spells the server differently changes only the provider.
            apiServer: live[c.name].apiServer,
            // The locality of its node (e2e/clusters.ts), for failover rules.
            region: live[c.name].region,
            zone: live[c.name].zone,
        })),
        ...(traffic ? { traffic } : {}),
        ...(spec.gate ? { check: { gate: true, timeoutSeconds: 120 } } : {}),
    });

    async function configure(clusters: MeshCluster[]): Promise<void> {
        current = clusters;
        t.stack.writeMesh(mesh(clusters));
        const mine = Object.fromEntries(clusters.filter((c) => (c.role ?? "primary") === "primary").map((c) => [c.name, bundles[c.name]]));
        await t.stack.setConfig("multicluster-mesh:rootCertPem", rootCertPem, false);
        await t.stack.setConfig("multicluster-mesh:caBundles", JSON.stringify(mine), true);
    }

    async function offlinePlan(): Promise<{ dir: string; code: number }> {
        const out = path.join(t.dir, `plan-${++planNo}`);
        const r = await t.stack.plan(out, lastPlan || undefined);
        if (r.code !== 0 && r.code !== 2) throw new Error(`offline plan failed (${r.code}):\n${r.stderr}`);
        lastPlan = path.join(r.dir, "plan.json");
        return { dir: r.dir, code: r.code };
    }

    async function liveCheck(when: string): Promise<CheckReport> {
        const plan = parsePlanFile(fs.readFileSync(lastPlan, "utf8"), lastPlan);
        const access = current.map((c) => ({ name: c.name, kubeconfig: live[c.name].kubeconfig, context: live[c.name].context }));
        const r = await checkMesh(intentFromPlan(plan), access);
        const failed = r.results.filter((x) => !x.ok && x.severity === "error");
        report.push(
            `${when}: ${r.results.filter((x) => x.ok).length} checks passed, ${failed.length} failed, ${r.results.filter((x) => !x.ok && x.severity === "warning").length} warnings`,
        );
        expect(r.unreachable, "every cluster answers").toEqual([]);
        expect(failed.map((f) => `${f.cluster} ${f.check}: ${f.message}`)).toEqual([]);
        // Every kind of check ran.
        const kinds = new Set(r.results.map((x) => x.check));
        for (const k of ["network-label", "cacerts", "remote-secret", "reader-token", "webhooks", "istiod-available"])
            expect(kinds, `check ${k} ran`).toContain(k);
        return r;
    }

    /** With mesh.check.gate, the up ran the post-deploy check and it passed (the stack output says so). */
    function gatePassed(up: EngineRun): void {
        if (!spec.gate) return;
        expect(String(up.outputs.postDeployCheck), "the deploy gate ran inside up").toMatch(
            /^post-deploy check passed: \d+ checks in \d+ clusters/,
        );
        report.push(`deploy gate: ${String(up.outputs.postDeployCheck)}`);
    }

    async function uids(cluster: string): Promise<Record<string, string>> {
        const tg = targetOf(live[cluster].kubeconfig);
        const out: Record<string, string> = {};
        const ns = await request(tg, "GET", `/api/v1/namespaces/${ISTIO_NAMESPACE}`);
        out[`namespace/${ISTIO_NAMESPACE}`] = ns.metadata.uid;
        for (const kind of ["secrets", "configmaps", "services", "serviceaccounts"]) {
            const list = await request(tg, "GET", `/api/v1/namespaces/${ISTIO_NAMESPACE}/${kind}`);
            for (const o of list.items ?? []) out[`${kind}/${o.metadata.name}`] = o.metadata.uid;
        }
        const deps = await request(tg, "GET", `/apis/apps/v1/namespaces/${ISTIO_NAMESPACE}/deployments`);
        for (const o of deps.items ?? []) out[`deployments/${o.metadata.name}`] = o.metadata.uid;
        return out;
    }

    function compare(change: string, enginePreview: string[], changesJson: string, known: { step: RegExp; why: string }[]): void {
        const planned = changePlanSteps(changesJson);
        const d = setDiff(enginePreview, planned);
        const explained = (s: string) => [...ALWAYS, ...known].find((k) => k.step.test(s));
        const unexplained = [...d.onlyA.map((s) => `engine only: ${s}`), ...d.onlyB.map((s) => `change plan only: ${s}`)].filter(
            (s) => !explained(s),
        );
        for (const s of [...d.onlyA, ...d.onlyB]) {
            const k = explained(s);
            if (k) report.push(`${change}: ${s} — known: ${k.why}`);
        }
        report.push(
            `${change}: engine ${enginePreview.length} steps, change plan ${planned.length}, ${unexplained.length} unexplained differences`,
        );
        expect(unexplained, `${change}: the engine's preview and the change plan agree resource by resource`).toEqual([]);
    }

    beforeAll(async () => {
        env = await environment();
        t = await timed(spec.name, `clusters (${spec.clusterNames.length}, started by the suite)`, () =>
            topology(env, spec.name, spec.clusterNames),
        );
        live = Object.fromEntries(t.clusters.clusters.map((c) => [c.name, c]));
        // One root and an intermediate for every cluster the run may make a primary.
        const trust = await providedTrust(t, {
            ...mesh(spec.clusterNames.map((n) => ({ name: n, network: "n" }))),
            topology: "multi-primary",
        });
        bundles = trust.bundles;
        rootCertPem = trust.rootCertPem;
    });

    // Each phase builds on the one before: after a failure the rest would only repeat it.
    let broken: string | undefined;
    afterEach((ctx) => {
        if (ctx.task.result?.state === "fail" && !broken) broken = ctx.task.name;
    });
    const phase = (name: string, fn: () => Promise<void>) =>
        it(name, async () => {
            if (broken) throw new Error(`not run: an earlier phase failed (${broken})`);
            await fn();
        });

    afterAll(async () => {
        console.log(`\n[e2e] ${spec.name}:\n  ${report.join("\n  ")}`);
        if (checkOutputs.length && t) fs.writeFileSync(path.join(t.dir, "check-outputs.txt"), checkOutputs.join("\n\n") + "\n");
        printTimes(path.join(env?.work ?? "/tmp", "times.md"));
        await t?.stop();
        await env?.close();
    });

    phase("previews and deploys the mesh; the preview creates what the offline plan lists", async () => {
        await configure(spec.initial);
        const [plan, preview] = await Promise.all([
            timed(spec.name, "offline plan", offlinePlan),
            timed(spec.name, "preview", () => t.stack.engine("preview")),
        ]);
        // Reads (the StackReference to the stack itself) are not creates.
        const resources = JSON.parse(fs.readFileSync(path.join(plan.dir, "plan.json"), "utf8")).resources as {
            type: string;
            name: string;
            read: boolean;
        }[];
        const planned = resources.filter((r) => !r.read).map((r) => `create ${r.type} ${r.name}`);
        expect(preview.ok, preview.log.slice(-3000)).toBe(true);
        report.push(`preview: ${JSON.stringify(preview.counts)}; offline plan: ${planned.length} resources`);
        const created = engineSteps(preview.steps).filter((s) => s.startsWith("create "));
        const d = setDiff(created, planned);
        const known = d.onlyA.filter((s) => ALWAYS.some((k) => k.step.test(`engine only: ${s}`)));
        expect(
            { engineOnly: d.onlyA.filter((s) => !known.includes(s)), planOnly: d.onlyB },
            "the preview creates exactly what the offline plan lists",
        ).toEqual({ engineOnly: [], planOnly: [] });
        const up = await timed(spec.name, "up", () => t.stack.engine("up"));
        expect(up.ok, up.log.slice(-3000)).toBe(true);
        gatePassed(up);
        expect(
            engineSteps(up.steps)
                .filter((s) => s.startsWith("create "))
                .sort(),
        ).toEqual(created.sort());
        await timed(spec.name, "live checks", () => liveCheck("after up"));
    });

    phase("runs a second up with no changes (M10)", async () => {
        const again = await timed(spec.name, "second up (expect no changes)", () => t.stack.engine("up", { expectNoChanges: true }));
        expect(again.ok, again.log.slice(-3000)).toBe(true);
        // A read (the StackReference to the stack itself) runs on every update and changes nothing.
        expect(again.steps.filter((s) => s.op !== "read")).toEqual([]);
        expect(again.counts.same ?? 0).toBeGreaterThan(0);
    });

    phase("npm run check passes on the healthy mesh (tier 2 skipped: the clusters run a stand-in, not istiod)", async () => {
        const r = await timed(spec.name, "npm run check", () => t.stack.check());
        expect(r.report, r.stderr).toBeDefined();
        expect(
            r.report!.results.filter((x) => !x.ok && x.severity === "error").map((x) => `${x.cluster} ${x.check}: ${x.message}`),
        ).toEqual([]);
        expect(r.code).toBe(0);
        // Tier 2 is a warning, never a pass, where istiod cannot be reached.
        expect(
            r
                .report!.results.filter((x) => x.check === "istiod-debug")
                .every((x) => !x.ok && x.severity === "warning" && /^tier 2 skipped: istiod not reachable/.test(x.message)),
        ).toBe(true);
        checkOutputs.push(`--- healthy mesh (exit ${r.code}) ---\n${formatReport(r.report!)}`);
    });

    for (const change of spec.changes) {
        phase(`change: ${change.name}: the preview matches the change plan, and up applies it`, async () => {
            if (change.traffic !== undefined) traffic = change.traffic;
            const before = change.keepsUids ? await uids(change.keepsUids) : undefined;
            if (change.refused) {
                const previous = current;
                await configure(change.clusters(live, t.dir));
                const preview = await timed(spec.name, `${change.name}: preview`, () => t.stack.engine("preview"));
                const up = await timed(spec.name, `${change.name}: up`, () => t.stack.engine("up"));
                for (const r of [preview, up]) {
                    expect(r.ok).toBe(false);
                    expect(r.log).toMatch(change.refused);
                    // Refused before any resource was registered: only the read of the previous run's outputs.
                    expect(r.steps.filter((x) => x.op !== "read")).toEqual([]);
                }
                report.push(`${change.name}: refused by preview and up, nothing registered`);
                await configure(previous);
                return;
            }
            await configure(change.clusters(live, t.dir));
            // The offline plan and the engine's preview are independent: run them side by side.
            const [plan, preview] = await Promise.all([
                timed(spec.name, `${change.name}: offline plan`, offlinePlan),
                timed(spec.name, `${change.name}: preview`, () => t.stack.engine("preview")),
            ]);
            expect(preview.ok, preview.log.slice(-3000)).toBe(true);
            compare(change.name, engineSteps(preview.steps), path.join(plan.dir, "changes.json"), change.knownDifferences ?? []);
            const up = await timed(spec.name, `${change.name}: up`, () => t.stack.engine("up"));
            expect(up.ok, up.log.slice(-3000)).toBe(true);
            gatePassed(up);
            if (before) {
                expect(
                    up.steps.filter((s) => s.op === "replace" || s.op === "delete"),
                    "nothing replaced or deleted",
                ).toEqual([]);
                expect(await uids(change.keepsUids!), "every object keeps its UID").toEqual(before);
            }
            await timed(spec.name, `${change.name}: live checks`, () => liveCheck(`after ${change.name}`));
        });
    }

    if (spec.faults) {
        // Each fault is injected for real through the API (as an operator's mistake or an attacker would),
        // then `npm run check` must name it; the faults add up, so each test looks for its own.
        const admin = (c: string) => targetOf(live[c].kubeconfig);
        const [a, b, c3, d] = spec.clusterNames; // east, west, central, north
        const faults: {
            name: string;
            inject: () => Promise<void>;
            expect: (r: { code: number; report?: CheckReport }) => void;
            restore?: () => Promise<void>;
        }[] = [
            {
                name: `delete one remote secret (${b}'s, in ${a})`,
                inject: () => request(admin(a), "DELETE", `/api/v1/namespaces/${ISTIO_NAMESPACE}/secrets/${remoteSecretName(b)}`),
                expect: (r) =>
                    expect(failed(r, a, "remote-secret")).toContainEqual(
                        expect.stringMatching(new RegExp(`remote secret ${remoteSecretName(b)} \\(to read ${b}\\) is missing`)),
                    ),
            },
            {
                name: `replace ${c3}'s root`,
                inject: async () => {
                    const rogue = await trustInit({
                        stack: "rogue",
                        out: path.join(t.dir, "rogue-trust"),
                        repoRoot: ROOT,
                        mesh: { ...mesh(current), trust: { mode: "provided" } },
                    });
                    const bundle = rogue.bundles[c3];
                    const b64 = (x: string) => Buffer.from(x).toString("base64");
                    await request(admin(c3), "PATCH", `/api/v1/namespaces/${ISTIO_NAMESPACE}/secrets/${CACERTS_SECRET}`, {
                        contentType: "application/merge-patch+json",
                        body: {
                            data: {
                                [CACERTS_KEYS.caCert]: b64(bundle.caCertPem),
                                [CACERTS_KEYS.caKey]: b64(bundle.caKeyPem),
                                [CACERTS_KEYS.rootCert]: b64(bundle.rootCertPem),
                                [CACERTS_KEYS.certChain]: b64(bundle.certChainPem),
                            },
                        },
                    });
                },
                expect: (r) =>
                    expect(failed(r, c3, "root-of-trust")).toContainEqual(
                        expect.stringMatching(/^root-cert\.pem differs from .*: mTLS between them fails$/),
                    ),
            },
            {
                name: `remove ${b}'s network label`,
                inject: () =>
                    request(admin(b), "PATCH", `/api/v1/namespaces/${ISTIO_NAMESPACE}`, {
                        contentType: "application/merge-patch+json",
                        body: { metadata: { labels: { [NETWORK_LABEL]: null } } },
                    }),
                expect: (r) =>
                    expect(failed(r, b, "network-label")).toContainEqual(
                        expect.stringMatching(new RegExp(`^${ISTIO_NAMESPACE} has ${NETWORK_LABEL}=\\(none\\), the plan says net-`)),
                    ),
            },
            {
                name: `revoke the reader token ${a} holds for ${d}`,
                // Deleting a service-account token Secret invalidates its token (the API server looks the Secret up).
                inject: () => request(admin(d), "DELETE", `/api/v1/namespaces/${ISTIO_NAMESPACE}/secrets/${readerTokenName(a)}`),
                expect: (r) =>
                    expect(failed(r, a, "reader-token")).toContainEqual(
                        expect.stringMatching(
                            new RegExp(`^the token in ${remoteSecretName(d)} does not authenticate on ${d} .*: revoked or deleted$`),
                        ),
                    ),
            },
            {
                name: `change a traffic object in ${d} only`,
                inject: async () => {
                    const dr = (lastIntent().istioObjects[d] ?? []).find((x) => x.startsWith("DestinationRule/"))!;
                    const [, ns, name] = dr.split("/");
                    await request(admin(d), "PATCH", `/apis/${NETWORKING_API}/namespaces/${ns}/destinationrules/${name}`, {
                        contentType: "application/merge-patch+json",
                        body: { spec: { trafficPolicy: { outlierDetection: { consecutive5xxErrors: 50 } } } },
                    });
                },
                expect: (r) =>
                    expect(failed(r, d, "istio-objects")).toContainEqual(
                        expect.stringMatching(/^DestinationRule\/.* differs from .*'s: each istiod reads only its own cluster's config/),
                    ),
            },
            {
                name: `make ${b}'s API server unreachable`,
                inject: async () => void process.kill(apiServerPid(b), "SIGSTOP"),
                expect: (r) => {
                    expect(r.code).toBe(2);
                    expect(r.report!.unreachable.map((u) => u.cluster)).toEqual([b]);
                },
                restore: async () => void process.kill(apiServerPid(b), "SIGCONT"),
            },
        ];
        for (const f of faults)
            phase(`fault: ${f.name}: npm run check names it`, async () => {
                await f.inject();
                try {
                    const r = await timed(spec.name, `check after fault: ${f.name}`, () => t.stack.check(3));
                    expect(r.report, r.stderr).toBeDefined();
                    if (f.name.includes("unreachable")) expect(r.code).toBe(2);
                    else expect(r.code).toBe(1);
                    f.expect(r);
                    checkOutputs.push(`--- after: ${f.name} (exit ${r.code}) ---\n${formatReport(r.report!)}`);
                } finally {
                    await f.restore?.();
                }
            });
    }

    phase("destroys the mesh, leaving only Istio's CRDs", async () => {
        const r = await timed(spec.name, "destroy", () => t.stack.engine("destroy"));
        expect(r.ok, r.log.slice(-3000)).toBe(true);
        for (const c of t.clusters.clusters) {
            const tg = targetOf(c.kubeconfig);
            const left: string[] = [];
            const ns = await request(tg, "GET", "/api/v1/namespaces");
            for (const n of ns.items ?? [])
                if (!["default", "kube-system", "kube-public", "kube-node-lease"].includes(n.metadata.name))
                    left.push(`namespace ${n.metadata.name} (${n.status?.phase})`);
            for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
                const l = await request(tg, "GET", `/apis/admissionregistration.k8s.io/v1/${kind}`);
                for (const o of l.items ?? []) left.push(`${kind}/${o.metadata.name}`);
            }
            for (const kind of ["clusterroles", "clusterrolebindings"]) {
                const l = await request(tg, "GET", `/apis/rbac.authorization.k8s.io/v1/${kind}`);
                for (const o of l.items ?? []) if (/istio/.test(o.metadata.name)) left.push(`${kind}/${o.metadata.name}`);
            }
            const terminating = left.filter((l) => l.includes("(Terminating)"));
            expect(
                left.filter((l) => !l.includes("(Terminating)")),
                `${c.name}: nothing of the mesh is left`,
            ).toEqual([]);
            if (terminating.length) report.push(`${c.name}: still terminating after destroy: ${terminating.join(", ")}`);
            const crds = await request(tg, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
            const istio = (crds.items ?? []).filter((x: any) => /istio\.io$/.test(x.spec.group)).length;
            report.push(`${c.name}: after destroy, ${istio} Istio CRDs kept (the base chart's resource policy)`);
        }
    });
}
