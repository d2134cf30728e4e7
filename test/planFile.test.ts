// plan.json: written for every shipped stack, valid against docs/plan.schema.json, deterministic
// (two plans with fresh random keys are byte-identical), and honest about what only exists at
// deploy (generated fingerprints, simulated addresses) versus what the config fixes.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildPlanFile, GENERATED_AT_DEPLOY, isSimulatedAddress, parsePlanFile, PlanFile, stableStringify } from "../offline/planFile";
import { runMesh } from "./support/harness";
import { EXT, OpensslCa } from "./support/opensslCa";
import { planStack, ROOT, shippedStacks, tempDir } from "./support/planRun";

const stacks = shippedStacks();
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "docs", "plan.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const out = tempDir();
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function readPlan(dir: string, stack: string): { text: string; plan: PlanFile } {
    const text = fs.readFileSync(path.join(dir, stack, "plan.json"), "utf8");
    return { text, plan: parsePlanFile(text, `${stack}/plan.json`) };
}

describe("plan.json for every shipped stack", () => {
    for (const stack of stacks) {
        it(`${stack}: is written, valid, sorted, complete and leaks nothing`, async () => {
            const r = await planStack(stack, out, { sim: { cannedTls: true } });
            expect(r.errors).toEqual([]);
            expect(r.ok).toBe(true);
            const file = path.join(out, stack, "plan.json");
            expect(r.written).toContain(file);
            expect(r.written).toContain(path.join(out, stack, "mesh.svg"));
            expect(r.stdout).toContain(`${stack}/plan.json`);
            const { text, plan } = readPlan(out, stack);
            expect(validate(plan), JSON.stringify(validate.errors, null, 1)).toBe(true);
            // Stable form: what we read back re-serializes to the same bytes.
            expect(stableStringify(JSON.parse(text))).toBe(text);
            expect(plan.clusters.map((c) => c.name)).toEqual([...plan.clusters.map((c) => c.name)].sort());

            // Nothing secret, and nothing the simulator made up.
            expect(text).not.toMatch(/PRIVATE KEY|eyJhbGci|"token"|BEGIN CERTIFICATE/);
            expect(isSimulatedAddress(text)).toBe(false);

            // The secret matrix agrees with each cluster's view, and with the exported topology.
            const outputs = JSON.parse(fs.readFileSync(path.join(out, stack, "outputs.json"), "utf8"));
            expect(plan.meshId).toBe(outputs.meshId);
            // Secret outputs (kubeconfigs) keep their shape in outputs.json, not their content.
            expect(JSON.stringify(outputs)).not.toMatch(/client-key-data|token:|PRIVATE KEY/);
            for (const v of Object.values((outputs.kubeconfigs ?? {}) as Record<string, string>))
                expect(v).toMatch(/^<redacted: \d+ bytes>$/);
            expect(plan.clusters.map((c) => c.name)).toEqual(Object.keys(outputs.clusters).sort());
            for (const c of plan.clusters) {
                expect(c.readsFrom).toEqual(
                    plan.remoteSecrets
                        .filter((s) => s.target === c.name)
                        .map((s) => s.source)
                        .sort(),
                );
                expect(c.readBy).toEqual(
                    plan.remoteSecrets
                        .filter((s) => s.source === c.name)
                        .map((s) => s.target)
                        .sort(),
                );
                expect(c.role).toBe(outputs.clusters[c.name].role);
                expect(Object.keys(c.charts)).toContain("istiod");
                expect(c.runsIstiod).toBe(c.role === "primary");
                expect(c.name in plan.trust.intermediates).toBe(c.runsIstiod);
            }
            for (const s of plan.remoteSecrets) expect(s.secretName).toBe(`istio-remote-secret-${s.source}`);
            expect(plan.istioVersions).toHaveLength(1);
            // Generated trust: the definition, not this run's random fingerprints.
            if (plan.trust.mode === "generated") {
                expect(plan.trust.root.sha256).toBe(GENERATED_AT_DEPLOY);
                expect(plan.trust.root.keyAlgorithm).toMatch(/^(RSA|ECDSA)$/);
                expect(plan.trust.root.validityDays).toBeGreaterThan(0);
                expect(typeof plan.trust.root.protect).toBe("boolean");
                for (const i of Object.values(plan.trust.intermediates)) expect(i.generation).toBeGreaterThanOrEqual(1);
            }
        });
    }
});

describe("what exists only at deploy", () => {
    it("records a fixed gateway address, and simulated ones as assigned at deploy, also in a remote's values", async () => {
        const { plan } = await planOnce("primary-remote-multinet");
        const west = plan.clusters.find((c) => c.name === "west")!;
        const east = plan.clusters.find((c) => c.name === "east")!;
        expect(west.gateway).toMatchObject({
            address: "10.0.0.100",
            fixed: true,
            network: "net-west",
            serviceAnnotations: { "networking.gke.io/load-balancer-type": "Internal" },
        });
        expect(east.gateway).toMatchObject({ address: "assigned at deploy", fixed: false, network: "net-east" });
        // The remote's istiod points at the primary's fixed (real) address.
        expect((east.charts.istiod.values as any).global.remotePilotAddress).toBe("10.0.0.100");
        expect(west.istioObjects).toEqual(["Gateway/cross-network-gateway", "Gateway/istiod-gateway", "VirtualService/istiod-vs"]);
        expect(east.namespace.annotations["topology.istio.io/controlPlaneClusters"]).toBe("west");
        expect(plan.remoteSecrets).toEqual([
            { source: "east", target: "west", secretName: "istio-remote-secret-east", server: "https://10.1.0.10:6443" },
        ]);

        const pr = (await planOnce("primary-remote")).plan;
        const remote = pr.clusters.find((c) => c.role === "remote")!;
        expect((remote.charts.istiod.values as any).global.remotePilotAddress).toBe(
            `<${remote.primary} east-west gateway address, assigned at deploy>`,
        );
    });

    it("records hostnames the cloud assigns (AWS load balancers) as assigned at deploy", async () => {
        const run = await runMesh(
            {
                meshId: "m",
                topology: "primary-remote",
                clusters: [
                    { name: "p", network: "n1", kubeconfig: "/nonexistent/p", apiServer: "https://10.0.0.1:6443" },
                    { name: "r", role: "remote", network: "n1", kubeconfig: "/nonexistent/r", apiServer: "https://10.0.0.2:6443" },
                ],
            },
            { sim: { hostnameClusters: ["p"], cannedTls: true } },
        );
        expect(run.error).toBeUndefined();
        const plan = buildPlanFile({ stack: "t", outputs: run.outputs, registrations: run.sim.registrations });
        const text = stableStringify(plan);
        expect(text).not.toContain("simulated.example");
        expect((plan.clusters.find((c) => c.name === "r")!.charts.istiod.values as any).istiodRemote.injectionURL).toBe(
            "https://<p east-west gateway address, assigned at deploy>:15017/inject/cluster/r/net/n1",
        );
    });
});

async function planOnce(stack: string, options = { sim: { cannedTls: true } }): Promise<{ text: string; plan: PlanFile }> {
    const dir = tempDir();
    try {
        const r = await planStack(stack, dir, options);
        expect(r.errors).toEqual([]);
        return readPlan(dir, stack);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("determinism", () => {
    for (const stack of stacks) {
        it(`${stack}: a plan with fresh random keys writes the same plan.json and mesh.svg as one with other keys`, async () => {
            const a = tempDir();
            const b = tempDir();
            try {
                // Real key generation once, canned certificates once: every root and intermediate differs.
                expect((await planStack(stack, a)).ok).toBe(true);
                expect((await planStack(stack, b, { sim: { cannedTls: true } })).ok).toBe(true);
                const outA = JSON.parse(fs.readFileSync(path.join(a, stack, "outputs.json"), "utf8"));
                const outB = JSON.parse(fs.readFileSync(path.join(b, stack, "outputs.json"), "utf8"));
                if (readPlan(a, stack).plan.trust.mode === "generated") expect(outA.rootCertSha256).not.toBe(outB.rootCertSha256);
                expect(fs.readFileSync(path.join(b, stack, "plan.json"), "utf8")).toBe(
                    fs.readFileSync(path.join(a, stack, "plan.json"), "utf8"),
                );
                expect(fs.readFileSync(path.join(b, stack, "mesh.svg"), "utf8")).toBe(
                    fs.readFileSync(path.join(a, stack, "mesh.svg"), "utf8"),
                );
            } finally {
                fs.rmSync(a, { recursive: true, force: true });
                fs.rmSync(b, { recursive: true, force: true });
            }
        });
    }
});

describe("provided trust", () => {
    let ca: OpensslCa;
    beforeAll(() => {
        ca = new OpensslCa();
    });
    afterAll(() => ca.cleanup());

    it("records the SHA-256 of the provided root and of each intermediate", async () => {
        const root = ca.cert("root", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
        const east = ca.cert("east", "/O=Istio/CN=Intermediate CA/L=east", { issuer: "root", ext: EXT.intermediate, days: 730 });
        const mesh = {
            meshId: "m",
            topology: "multi-primary",
            trust: { mode: "provided" },
            clusters: [{ name: "east", kubeconfig: "/nonexistent/e", apiServer: "https://10.0.0.1:6443" }],
        };
        const config = {
            "multicluster-mesh:rootCertPem": root.certPem,
            "multicluster-mesh:caBundles": {
                east: { caCertPem: east.certPem, caKeyPem: east.keyPem, certChainPem: east.certPem + root.certPem },
            },
        };
        const plans = [];
        for (let i = 0; i < 2; i++) {
            const run = await runMesh(mesh, { config, secretKeys: ["multicluster-mesh:caBundles"] });
            expect(run.error).toBeUndefined();
            plans.push(buildPlanFile({ stack: "t", outputs: run.outputs, registrations: run.sim.registrations }));
        }
        const plan = plans[0];
        expect(plan.trust.mode).toBe("provided");
        expect(plan.trust.root.sha256).toBe(
            new (await import("node:crypto")).X509Certificate(root.certPem).fingerprint256.replace(/:/g, "").toLowerCase(),
        );
        expect(plan.trust.root.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(plan.trust.root.protect).toBeNull();
        const der = new (await import("node:crypto")).X509Certificate(east.certPem).fingerprint256.replace(/:/g, "").toLowerCase();
        expect(plan.trust.intermediates.east.sha256).toBe(der);
        expect(plan.trust.intermediates.east.organization).toContain("Intermediate CA");
        expect(stableStringify(plans[1])).toBe(stableStringify(plan));
        expect(validate(plan), JSON.stringify(validate.errors)).toBe(true);
    });
});

describe("parsePlanFile", () => {
    it("refuses what is not a plan of this format, in one line", () => {
        expect(() => parsePlanFile("{", "x.json")).toThrow(/^x.json is not JSON/);
        expect(() => parsePlanFile("{}", "x.json")).toThrow(/not a plan file/);
        expect(() => parsePlanFile(JSON.stringify({ clusters: [], trust: {}, remoteSecrets: [], formatVersion: 99 }), "x.json")).toThrow(
            /format 99/,
        );
        for (const f of [() => parsePlanFile("{", "x"), () => parsePlanFile("{}", "x")]) {
            try {
                f();
            } catch (e) {
                expect((e as Error).message).not.toContain("\n");
            }
        }
    });
});

vi.setConfig({ testTimeout: 120_000 });
