// Config messages where the offline plan and the program run (test/configMessages.test.ts has the
// pure ones): a YAML syntax error through the plan command, and per-cluster Istio values reaching the
// Helm releases of the real program.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plan } from "../offline/offlinePlan";
import { runMesh } from "./support/harness";

type Raw = Record<string, any>;

/** Two existing clusters whose kubeconfig is not on this machine (apiServer given): valid as it is. */
function base(topology = "multi-primary"): Raw {
    return {
        meshId: "mesh1",
        topology,
        clusters: [
            { name: "east", network: "n1", kubeconfig: "/absent", apiServer: "https://10.0.0.1:6443" },
            {
                name: "west",
                network: "n2",
                kubeconfig: "/absent",
                apiServer: "https://10.0.0.2:6443",
                ...(topology === "primary-remote" ? { role: "remote" } : {}),
            },
        ],
    };
}

describe("YAML syntax errors through the offline plan", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-"));
    const file = path.join(dir, "Pulumi.broken.yaml");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    it("the offline plan prints it as one problem naming the stack file", async () => {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: multicluster-mesh\nruntime: nodejs\n");
        fs.writeFileSync(file, "config:\n  multicluster-mesh:mesh:\n    meshId: m\n    clusters: [a, b\n");
        const r = await plan("broken", path.join(dir, "out"), async () => ({}), { stackDir: dir });
        expect(r.ok).toBe(false);
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toMatch(/Pulumi\.broken\.yaml:5:1: YAML syntax error: Flow sequence in block collection must be /);
    });
});

describe("Istio values per cluster in the real program", () => {
    it("reach the Helm releases when the real program runs (stack config → Mesh → istiod chart)", async () => {
        const raw = base("primary-remote");
        raw.trust = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false };
        raw.istio = { values: { env: { A: "mesh" } } };
        raw.clusters[0].istio = { values: { pilot: { env: { B: "east" } } } };
        raw.clusters[1].istio = { values: { env: { A: "west" } } };
        const run = await runMesh(raw, { sim: { cannedTls: true } });
        expect(run.error).toBeUndefined();
        const values = (name: string) => run.sim.byName(`mesh1-${name}-istiod`).inputs.values;
        expect(values("east")).toMatchObject({ env: { A: "mesh" }, pilot: { env: { B: "east" } } });
        expect(values("west")).toMatchObject({ profile: "remote", env: { A: "west" } });
    });
});
