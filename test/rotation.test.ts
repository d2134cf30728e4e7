// Root rotation and intermediate renewal, run through the real program under the simulator:
//   - a rotation from one generated root to another and from one provided (openssl) root to another,
//     planned phase by phase: each phase's cacerts (root-cert.pem parsed and every bundle verified
//     with real crypto) and istiod values; the plan's record of each phase, and a skipped phase or a
//     one-step root swap refused by the mesh diff;
//   - intermediates re-issued once inside their renewal window, under the same root, and kept before it.
import * as crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCaBundle } from "../components/caBundle";
import { CACERTS_KEYS, MULTIROOT_ENV, PROXY_XDS_AGENT_METADATA } from "../components/istio";
import { certPems, phaseChecks, TRUST_PHASE_ANNOTATION, type TrustPhase } from "../components/rotation";
import { diffPlans, formatDiff } from "../offline/meshDiff";
import { buildPlanFile, type PlanFile } from "../offline/planFile";
import { tlsStateOf } from "../simulator/simulator";
import { readyForRenewal } from "../simulator/tlsSim";
import { cluster, MeshRun, one, runMesh } from "./support/harness";
import { EXT, Issued, OpensslCa } from "./support/opensslCa";

const CLUSTERS = ["east", "west"];
const TRUST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: true };
const meshOf = (trust: Record<string, unknown>) => ({
    meshId: "mesh1",
    topology: "multi-primary",
    trust,
    clusters: CLUSTERS.map((c, i) => cluster(c, i + 1, { network: `n${i + 1}` })),
});

interface Cacerts {
    roots: crypto.X509Certificate[];
    rootPem: string;
    ca: crypto.X509Certificate;
    bundle: { caCertPem: string; caKeyPem: string; rootCertPem: string; certChainPem: string };
    phase: string;
}

function cacertsOf(run: MeshRun, c: string): Cacerts {
    const s = one(run, `mesh1-${c}-cacerts`);
    const d = s.inputs.stringData as Record<string, string>;
    const bundle = {
        caCertPem: d[CACERTS_KEYS.caCert],
        caKeyPem: d[CACERTS_KEYS.caKey],
        rootCertPem: d[CACERTS_KEYS.rootCert],
        certChainPem: d[CACERTS_KEYS.certChain],
    };
    return {
        roots: certPems(bundle.rootCertPem).map((p) => new crypto.X509Certificate(p)),
        rootPem: bundle.rootCertPem,
        ca: new crypto.X509Certificate(bundle.caCertPem),
        bundle,
        phase: s.inputs.metadata.annotations?.[TRUST_PHASE_ANNOTATION] ?? "none",
    };
}

function istiodValues(run: MeshRun, c: string): Record<string, any> {
    return one(run, `mesh1-${c}-istiod`).inputs.values;
}

const signedBy = (cert: crypto.X509Certificate, root: crypto.X509Certificate) => cert.checkIssued(root) && cert.verify(root.publicKey);

/** What every phase must look like in every cluster: roots (by fingerprint, in order), signer, istiod values, a bundle istiod accepts. */
function expectPhase(run: MeshRun, phase: TrustPhase, roots: string[], signer: string) {
    expect(run.error, String(run.error?.message)).toBeUndefined();
    const seen = CLUSTERS.map((c) => cacertsOf(run, c));
    for (const [i, cc] of seen.entries()) {
        const c = CLUSTERS[i];
        expect(cc.phase).toBe(phase);
        expect(
            cc.roots.map((r) => r.fingerprint256),
            `${c} root-cert.pem`,
        ).toEqual(roots);
        const issuer = cc.roots.find((r) => signedBy(cc.ca, r));
        expect(issuer?.fingerprint256, `${c} intermediate signer`).toBe(signer);
        // cert-chain.pem ends with the root that signed the intermediate; the bundle passes istiod's checks.
        expect(certPems(cc.bundle.certChainPem).map((p) => new crypto.X509Certificate(p).fingerprint256)).toEqual([
            cc.ca.fingerprint256,
            signer,
        ]);
        expect(verifyCaBundle(cc.bundle)).toEqual([]);
        const v = istiodValues(run, c);
        const multiRoot = phase !== "none";
        expect(v.env?.[MULTIROOT_ENV]).toBe(multiRoot ? "true" : undefined);
        expect(v.meshConfig?.defaultConfig?.proxyMetadata?.[PROXY_XDS_AGENT_METADATA]).toBe(multiRoot ? "true" : undefined);
    }
    // Byte-identical root-cert.pem in every cluster (istiod < 1.31 compares bytes).
    expect(new Set(seen.map((s) => s.rootPem)).size).toBe(1);
}

const planOf = (run: MeshRun): PlanFile => buildPlanFile({ stack: "t", outputs: run.outputs, registrations: run.sim.registrations });
const fp = (pem: string) => new crypto.X509Certificate(pem).fingerprint256;

describe("generated root rotation, phase by phase", () => {
    const runs: Partial<Record<TrustPhase | "finished", MeshRun>> = {};
    const trustAt = (phase: TrustPhase | "finished") =>
        phase === "none" ? TRUST : phase === "finished" ? { ...TRUST, rootGeneration: 2 } : { ...TRUST, rotation: { phase } };

    beforeAll(async () => {
        // Each phase is planned on the state the previous one left (the same keys and certificates), as each `up` would be.
        let prior: ReturnType<typeof tlsStateOf> | undefined;
        for (const phase of ["none", "prepare", "add-root", "switch-intermediates", "drop-old-root", "finished"] as const) {
            runs[phase] = await runMesh(meshOf(trustAt(phase)), { sim: { priorTls: prior } });
            prior = tlsStateOf(runs[phase]!.sim.registrations);
        }
    }, 120_000);

    it("walks root A → A+B → B with the intermediates moving to B in between", () => {
        const rootA = fp(one(runs.none!, "mesh1-trust-root-cert").state.certPem);
        expectPhase(runs.none!, "none", [rootA], rootA);
        expectPhase(runs.prepare!, "prepare", [rootA], rootA);
        const rootB = fp(one(runs["add-root"]!, "mesh1-trust-root-r2-cert").state.certPem);
        expect(rootB).not.toBe(rootA);
        expectPhase(runs["add-root"]!, "add-root", [rootA, rootB], rootA);
        expectPhase(runs["switch-intermediates"]!, "switch-intermediates", [rootA, rootB], rootB);
        expectPhase(runs["drop-old-root"]!, "drop-old-root", [rootB], rootB);
        // Finishing (rootGeneration: 2, no rotation): the same root B, istiod back to its defaults.
        expectPhase(runs.finished!, "none", [rootB], rootB);
    });

    it("keeps intermediates through prepare and add-root and re-issues them under the new root at switch", () => {
        const inter = (r: MeshRun) => cacertsOf(r, "east").ca.fingerprint256;
        expect(inter(runs.prepare!)).toBe(inter(runs.none!));
        expect(inter(runs["add-root"]!)).toBe(inter(runs.none!));
        expect(inter(runs["switch-intermediates"]!)).not.toBe(inter(runs.none!));
        expect(inter(runs["drop-old-root"]!)).toBe(inter(runs["switch-intermediates"]!));
        // add-root changes root-cert.pem only; switch changes the intermediate but not root-cert.pem.
        expect(cacertsOf(runs["switch-intermediates"]!, "east").rootPem).toBe(cacertsOf(runs["add-root"]!, "east").rootPem);
    });

    it("keeps the old root protected until drop-old-root, then unprotected so finishing can delete it", () => {
        expect(one(runs["add-root"]!, "mesh1-trust-root-cert").protect).toBe(true);
        expect(one(runs["add-root"]!, "mesh1-trust-root-r2-cert").protect).toBe(true);
        expect(one(runs["drop-old-root"]!, "mesh1-trust-root-cert").protect).toBe(false);
        expect(runs.finished!.sim.registrations.some((r) => r.name === "mesh1-trust-root-cert")).toBe(false);
        // New roots carry pathlen:1: nothing below an intermediate can act as a CA.
        const b = one(runs["add-root"]!, "mesh1-trust-root-r2-cert");
        expect(b.inputs.maxPathLength).toBe(1);
    });

    it("records each phase in plan.json; the mesh diff allows one step and refuses a skipped phase", () => {
        const plans = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, planOf(r!)]));
        expect(plans["add-root"].trust.rotation).toMatchObject({
            phase: "add-root",
            roots: ["generated root g1 (ECDSA-P256, O=Istio, 3650 d)", "generated root g2 (ECDSA-P256, O=Istio, 3650 d)"],
        });
        const order = ["none", "prepare", "add-root", "switch-intermediates", "drop-old-root", "finished"];
        for (let i = 1; i < order.length; i++)
            expect(diffPlans(plans[order[i - 1]], plans[order[i]]).refusals ?? [], `${order[i - 1]} → ${order[i]}`).toEqual([]);
        const skip = diffPlans(plans.prepare, plans["switch-intermediates"]);
        expect(skip.refusals!.join("\n")).toContain("jumps from prepare to switch-intermediates");
        expect(skip.refusals!.join("\n")).toContain("docs/root-rotation.md");
        expect(formatDiff(skip, "old/plan.json")).toContain("!! REFUSED:");
        // none → finished is the direct swap A → B.
        const swap = diffPlans(plans.none, plans.finished);
        expect(swap.refusals!.join("\n")).toMatch(/neither a subset nor a superset[\s\S]*docs\/root-rotation\.md/);
    });

    it("refuses a direct change of the generated root's definition without a rotation", async () => {
        const before = planOf(runs.none!);
        const changed = await runMesh(meshOf({ ...TRUST, protectRoot: false, ecdsaCurve: "P384" }));
        expect(changed.error).toBeUndefined();
        expect(diffPlans(before, planOf(changed)).refusals!.join("\n")).toContain("in one step");
    });

    it("prints runnable checks for the phase", () => {
        expect(phaseChecks("add-root", ["east"]).join("\n")).toContain("kubectl --context east -n istio-system get secret cacerts");
        expect(phaseChecks("none", ["east"])).toEqual([]);
    });
});

describe("provided root rotation, phase by phase", () => {
    let ca: OpensslCa;
    let rootA: Issued;
    let rootB: Issued;
    const bundlesOf = (root: Issued, tag: string) =>
        Object.fromEntries(
            CLUSTERS.map((c) => {
                const i = ca.cert(`${c}-${tag}`, `/O=Istio/CN=Intermediate CA/L=${c}`, {
                    issuer: root.name,
                    ext: EXT.intermediate,
                    days: 730,
                });
                return [c, { caCertPem: i.certPem, caKeyPem: i.keyPem, certChainPem: i.certPem + root.certPem }];
            }),
        );
    let oldBundles: Record<string, unknown>;
    let newBundles: Record<string, unknown>;
    const secretKeys = ["multicluster-mesh:caBundles", "multicluster-mesh:newCaBundles"];
    const runPhase = (phase: TrustPhase, config: Record<string, unknown>) =>
        runMesh(meshOf(phase === "none" ? { mode: "provided" } : { mode: "provided", rotation: { phase } }), { config, secretKeys });

    beforeAll(() => {
        ca = new OpensslCa();
        rootA = ca.cert("rootA", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
        rootB = ca.cert("rootB", "/O=Istio/CN=Root CA 2", { ext: EXT.root, days: 3650 });
        oldBundles = bundlesOf(rootA, "a");
        newBundles = bundlesOf(rootB, "b");
    });
    afterAll(() => ca?.cleanup());

    it("walks root A → A+B → B and the plan refuses a skipped phase", async () => {
        const A = fp(rootA.certPem);
        const B = fp(rootB.certPem);
        const base = { "multicluster-mesh:rootCertPem": rootA.certPem, "multicluster-mesh:caBundles": oldBundles };
        const withNew = { ...base, "multicluster-mesh:newRootCertPem": rootB.certPem };
        const runs = {
            none: await runPhase("none", base),
            prepare: await runPhase("prepare", base),
            "add-root": await runPhase("add-root", withNew),
            "switch-intermediates": await runPhase("switch-intermediates", { ...withNew, "multicluster-mesh:newCaBundles": newBundles }),
            "drop-old-root": await runPhase("drop-old-root", { ...withNew, "multicluster-mesh:newCaBundles": newBundles }),
            finished: await runPhase("none", { "multicluster-mesh:rootCertPem": rootB.certPem, "multicluster-mesh:caBundles": newBundles }),
        };
        expectPhase(runs.none, "none", [A], A);
        expectPhase(runs.prepare, "prepare", [A], A);
        expectPhase(runs["add-root"], "add-root", [A, B], A);
        expectPhase(runs["switch-intermediates"], "switch-intermediates", [A, B], B);
        expectPhase(runs["drop-old-root"], "drop-old-root", [B], B);
        expectPhase(runs.finished, "none", [B], B);
        // The provided intermediates go to cacerts unchanged.
        expect(cacertsOf(runs["switch-intermediates"], "west").bundle.caCertPem).toBe((newBundles.west as { caCertPem: string }).caCertPem);

        const plans = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, planOf(r)]));
        expect(plans["add-root"].trust.rotation).toEqual({
            phase: "add-root",
            roots: [A, B].map((f) => f.replace(/:/g, "").toLowerCase()),
            signer: A.replace(/:/g, "").toLowerCase(),
        });
        const order = Object.keys(runs);
        for (let i = 1; i < order.length; i++)
            expect(diffPlans(plans[order[i - 1]], plans[order[i]]).refusals ?? [], `${order[i - 1]} → ${order[i]}`).toEqual([]);
        expect(diffPlans(plans.none, plans["add-root"]).refusals!.join("\n")).toContain("jumps from none to add-root");
        // A direct swap of rootCertPem without a rotation.
        expect(diffPlans(plans.none, plans.finished).refusals!.join("\n")).toContain("neither a subset nor a superset");
    }, 120_000);

    it("validates each phase's config: the new root from add-root on, bundles signed by it from switch-intermediates on", async () => {
        const base = { "multicluster-mesh:rootCertPem": rootA.certPem, "multicluster-mesh:caBundles": oldBundles };
        const noNewRoot = await runPhase("add-root", base);
        expect(noNewRoot.error?.message).toContain("multicluster-mesh:newRootCertPem: is required in rotation phase add-root");
        const noNewBundles = await runPhase("switch-intermediates", { ...base, "multicluster-mesh:newRootCertPem": rootB.certPem });
        expect(noNewBundles.error?.message).toContain("multicluster-mesh:newCaBundles: is required in rotation phase switch-intermediates");
        // Bundles signed by the old root offered as the new ones: refused (they must chain to the new root).
        const wrongSigner = await runPhase("switch-intermediates", {
            ...base,
            "multicluster-mesh:newRootCertPem": rootB.certPem,
            "multicluster-mesh:newCaBundles": oldBundles,
        });
        expect(wrongSigner.error?.message).toContain("multicluster-mesh:newCaBundles.east");
        const same = await runPhase("add-root", { ...base, "multicluster-mesh:newRootCertPem": rootA.certPem });
        expect(same.error?.message).toContain("is the same certificate as rootCertPem");
        const stray = await runPhase("none", { ...base, "multicluster-mesh:newRootCertPem": rootB.certPem });
        expect(stray.error?.message).toContain("no rotation is in progress");
        for (const r of [noNewRoot, noNewBundles, wrongSigner, same, stray]) expect(r.sim.registrations).toEqual([]);
    }, 120_000);
});

describe("intermediates renew themselves under the same root", () => {
    it("follows the provider's rule: ready once validityEndTime − earlyRenewalHours has passed", () => {
        const state = { validityEndTime: "2030-01-31T00:00:00Z", earlyRenewalHours: 24 * 10 };
        expect(readyForRenewal(state, new Date("2030-01-20T23:59:59Z"))).toBe(false);
        expect(readyForRenewal(state, new Date("2030-01-21T00:00:00Z"))).toBe(true);
        expect(readyForRenewal({ validityEndTime: "2030-01-31T00:00:00Z", earlyRenewalHours: 0 }, new Date("2030-01-30T00:00:00Z"))).toBe(
            false,
        );
    });

    it("sets earlyRenewalHours to a third of the validity by default, or trust.intermediateRenewBeforeDays", async () => {
        const dflt = await runMesh(meshOf(TRUST));
        expect(one(dflt, "mesh1-trust-east-intermediate-cert").inputs.earlyRenewalHours).toBe(243 * 24);
        expect(one(dflt, "mesh1-trust-root-cert").inputs.earlyRenewalHours).toBe(0);
        const set = await runMesh(meshOf({ ...TRUST, intermediateRenewBeforeDays: 60 }));
        expect(one(set, "mesh1-trust-east-intermediate-cert").inputs.earlyRenewalHours).toBe(60 * 24);
        const bad = await runMesh(meshOf({ ...TRUST, intermediateRenewBeforeDays: 730 }));
        expect(bad.error?.message).toContain(
            "mesh.trust.intermediateRenewBeforeDays: 730 must be more than 0 and less than intermediateValidityDays",
        );
    }, 60_000);

    it("re-issues each intermediate on the first plan inside the window, with the same key and root, and not before", async () => {
        // The program checks each bundle against the real clock, so the first deploy is placed 488 days back.
        const day = 86_400_000;
        const t0 = new Date(Date.now() - 488 * day);
        const first = await runMesh(meshOf(TRUST), { sim: { now: t0 } });
        const prior = tlsStateOf(first.sim.registrations);
        // 730-day intermediates, renewed 243 days before expiry: the window opens on day 487.
        const before = await runMesh(meshOf(TRUST), { sim: { priorTls: prior, now: new Date(t0.getTime() + 486 * day) } });
        const inside = await runMesh(meshOf(TRUST), { sim: { priorTls: prior, now: new Date() } });
        for (const c of CLUSTERS) {
            const a = cacertsOf(first, c);
            const b = cacertsOf(before, c);
            const n = cacertsOf(inside, c);
            expect(b.ca.fingerprint256, `${c} before the window`).toBe(a.ca.fingerprint256);
            expect(n.ca.fingerprint256, `${c} inside the window`).not.toBe(a.ca.fingerprint256);
            // Same root, same key, a fresh validity from the renewal day: istiod hot-reloads it.
            expect(n.rootPem).toBe(a.rootPem);
            expect(n.bundle.caKeyPem).toBe(a.bundle.caKeyPem);
            expect(signedBy(n.ca, a.roots[0])).toBe(true);
            expect(new Date(n.ca.validFrom).getTime()).toBeGreaterThan(t0.getTime() + 487 * day);
            // The Secret keeps its name and type, so the provider patches it in place (enableSecretMutable).
            expect(one(inside, `mesh1-${c}-cacerts`).inputs.metadata.name).toBe("cacerts");
        }
        // The root is never renewed early.
        expect(one(inside, "mesh1-trust-root-cert").state.certPem).toBe(one(first, "mesh1-trust-root-cert").state.certPem);
    }, 60_000);
});
