// The library as another Pulumi program uses it: a consumer builds its own k8s.Providers and gets
// the same Istio resources, values and secret matrix as the equivalent stack config; bad args get
// the stack config's messages with paths relative to the args; `npm pack` ships compiled JS and types.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { runProgram, RunResult } from "../offline/runProgram";
import type { Registration } from "../simulator/simulator";
import { cluster, runMesh } from "./support/harness";

const execFileAsync = promisify(execFile);

const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false };
const ROOT = path.resolve(__dirname, "..");

async function runConsumer(): Promise<RunResult> {
    vi.resetModules();
    return runProgram({ config: {}, load: () => import("./fixtures/consumer/index.js") });
}

/** What decides the mesh, per cluster: the Istio objects and releases (type, name in the cluster, values or spec). */
function istioShape(regs: Registration[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const r of regs) {
        if (!r.type.startsWith("kubernetes:") || r.read || r.type === "pulumi:providers:kubernetes") continue;
        const what =
            r.type === "kubernetes:helm.sh/v3:Release"
                ? `${r.type} ${r.inputs.name} ${r.inputs.chart}@${r.inputs.version} ${JSON.stringify(r.inputs.values)}`
                : `${r.type} ${r.inputs.metadata?.namespace ?? ""}/${r.inputs.metadata?.name} ${JSON.stringify(r.inputs.metadata?.labels ?? {})} ` +
                  `${JSON.stringify(r.inputs.spec ?? {})}`;
        (out[r.cluster] ??= []).push(what);
    }
    for (const k of Object.keys(out)) out[k].sort();
    return out;
}

/** The remote-secret matrix: `source → target` for every Secret labelled istio/multiCluster. */
function matrix(regs: Registration[]): string[] {
    return regs
        .filter((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.labels?.["istio/multiCluster"] === "true")
        .map((r) => `${r.inputs.metadata.annotations["networking.istio.io/cluster"]} → ${r.cluster}`)
        .sort();
}

describe("the library, used from another Pulumi program", () => {
    it("builds the same Istio resources, values and secret matrix with the caller's own providers as the stack config does", async () => {
        const consumer = await runConsumer();
        expect(consumer.error).toBeUndefined();
        const program = await runMesh({
            meshId: "mesh1",
            topology: "multi-primary",
            trust: FAST,
            clusters: [cluster("east", 1, { network: "net-east" }), cluster("west", 2, { network: "net-west" })],
        });
        expect(program.error).toBeUndefined();

        // The consumer's providers are its own; every object went through one of them.
        const providers = consumer.sim.registrations.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => r.name);
        expect(providers.sort()).toEqual(["east", "west"]);
        for (const r of consumer.sim.registrations.filter((x) => x.type.startsWith("kubernetes:")))
            expect(["east", "west"]).toContain(r.cluster);

        const a = istioShape(consumer.sim.registrations);
        const b = istioShape(program.sim.registrations);
        expect(Object.keys(a).sort()).toEqual(["east", "west"]);
        // Values and objects match cluster by cluster, but for the per-run generated certificates
        // (the Secrets' data is not part of the shape) and the simulated addresses.
        expect(a).toEqual(b);
        expect(matrix(consumer.sim.registrations)).toEqual(["east → west", "west → east"]);
        expect(matrix(consumer.sim.registrations)).toEqual(matrix(program.sim.registrations));
        // And the same resource names, so a stack can move between the two forms with aliases only where it renames.
        const names = (r: RunResult) =>
            r.sim.registrations
                .filter((x) => x.type.startsWith("kubernetes:") && x.type !== "pulumi:providers:kubernetes")
                .map((x) => x.name)
                .sort();
        expect(names(consumer)).toEqual(names(program));
        expect(Object.keys(consumer.outputs.gatewayAddresses as object).sort()).toEqual(["east", "west"]);
    });

    it("refuses bad args before registering anything, with the stack config's messages and paths relative to the args", async () => {
        vi.resetModules();
        const { Mesh } = await import("../components/index.js");
        const k8s = await import("@pulumi/kubernetes");
        const r = await runProgram({
            config: {},
            load: async () => {
                const p = new k8s.Provider("x", { kubeconfig: "{}" });
                new Mesh("m", {
                    meshId: "Mesh_1",
                    topology: "multi-primary",
                    clusters: [{ name: "x", role: "remote", provider: p, apiServer: "https://10.0.0.1:6443" }],
                });
                return {};
            },
        });
        expect(r.error?.name).toBe("ConfigError");
        expect(r.error?.message).toContain('meshId: "Mesh_1" is not a DNS-1123 label');
        expect(r.error?.message).toContain('clusters[0].role: "remote" is not allowed with topology multi-primary');
        expect(r.error?.message).not.toContain("mesh.clusters");
        expect(
            r.sim.registrations.filter((x) => x.type !== "pulumi:providers:kubernetes" && x.type !== "multicluster-mesh:index:Mesh"),
        ).toEqual([]);
    });
});

describe("the package", () => {
    it("packs the compiled entry point and its types (npm pack --dry-run)", async () => {
        // Asynchronously: a long synchronous command blocks the vitest worker, which then misses its RPC deadline.
        const { stdout: out } = await execFileAsync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts=false"], {
            cwd: ROOT,
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        const files: string[] = (JSON.parse(out.slice(out.indexOf("["))) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
        expect(files).toContain("dist/components/index.js");
        expect(files).toContain("dist/components/index.d.ts");
        expect(files).toContain("dist/components/mesh.d.ts");
        // Only the library: no program, tests, simulator or offline tooling.
        expect(files.filter((f) => /^(test|offline|simulator|scripts)\/|^index\.ts$|^config\.ts$/.test(f))).toEqual([]);
        const pkg = JSON.parse(execFileSync("node", ["-p", "JSON.stringify(require('./package.json'))"], { cwd: ROOT, encoding: "utf8" }));
        expect(pkg.exports["."]).toEqual({ types: "./dist/components/index.d.ts", default: "./dist/components/index.js" });
        expect(pkg.private).toBeUndefined();
    }, 120_000);
});
