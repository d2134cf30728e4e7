// The platform registry: a one-cluster mesh on every registered platform, planned under the
// simulator, and every resource type its builder registers has a change rule (offline/changes.ts,
// never the catch-all), a simulator answer (never "none") and a bench latency (never the default).
// The registry here is the shipped one plus one line, a throwaway platform from
// test/fixtures/platforms/toy (never shipped): a new platform is a folder plus one registry line,
// and the offline plan, the simulator, the change plan and the bench all pick it up from there.
import { describe, expect, it, vi } from "vitest";
import { loadBuilder } from "../components/clusters";
import { PLATFORMS, type Registry } from "../components/platforms/registry";
import { latencyOf } from "../offline/bench/model";
import { NO_RULE, ruleFor } from "../offline/changes";
import { toy } from "./fixtures/platforms/toy";
import { runMesh } from "./support/harness";

vi.mock("../components/platforms/registry", async (importOriginal) => {
    const real = await importOriginal<typeof import("../components/platforms/registry.js")>();
    const { toy } = await import("./fixtures/platforms/toy/index.js");
    // The one registry line: components/platforms/registry.ts, `registryOf([existing, gke, eks, kind])`.
    const extended: Registry = real.registryOf([...real.PLATFORMS, toy]);
    return { ...real, ...extended };
});

const SHIPPED = ["existing", "gke", "eks", "kind"];

describe("the platform registry", () => {
    it("lists the shipped platforms and, here, the fixture's", () => {
        expect(PLATFORMS.map((p) => p.name)).toEqual([...SHIPPED, "toy"]);
    });

    for (const platform of PLATFORMS) {
        describe(platform.name, () => {
            it("plans a one-cluster mesh whose every registered type has a change rule, a simulator answer and a bench latency", async () => {
                const run = await runMesh({
                    meshId: "reg",
                    topology: "multi-primary",
                    trust: { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" },
                    clusters: [{ name: "c1", network: "n1", platform: platform.name, ...platform.sampleCluster() }],
                });
                expect(run.error).toBeUndefined();
                const custom = run.sim.registrations.filter((r) => r.custom && !r.read);
                const types = [...new Set(custom.map((r) => r.type))].sort();
                expect(types.length).toBeGreaterThan(0);
                const missing = types.flatMap((t) => {
                    const regs = custom.filter((r) => r.type === t);
                    return [
                        ...(ruleFor(t) === NO_RULE ? [`${t}: no change rule`] : []),
                        ...regs.filter((r) => r.answeredBy === "none").map((r) => `${t} ${r.name}: no simulator answer`),
                        ...regs
                            .filter((r) => !latencyOf({ type: r.type, name: r.name, inputs: r.inputs, read: r.read }).known)
                            .map((r) => `${t} ${r.name}: no bench latency`),
                    ];
                });
                expect(missing).toEqual([]);
                // A created cluster is one resource the change plan recognises (its replacement warns
                // that everything in it goes); an existing cluster is not the program's to replace.
                const clusters = custom.filter((r) => platform.resources.isCluster(r));
                expect(clusters.length).toBe(platform.name === "existing" ? 0 : 1);
                // Its own types were answered by the platform itself, not by a catch-all.
                const own = custom.filter((r) => r.answeredBy.startsWith("platform:"));
                expect(own.every((r) => r.answeredBy === `platform:${platform.name}`)).toBe(true);
            });
        });
    }

    it("the fixture's rule, answer and latency are the ones that decided (the registry line is all it took)", async () => {
        const run = await runMesh({
            meshId: "reg",
            topology: "multi-primary",
            trust: { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" },
            clusters: [{ name: "t1", network: "n1", platform: "toy", toy: { region: "toy-east1" } }],
        });
        expect(run.error).toBeUndefined();
        const cluster = run.sim.registrations.find((r) => r.type === "toy:index:Cluster")!;
        expect(cluster.answeredBy).toBe("platform:toy");
        expect(cluster.state.endpoint).toMatch(/^https:\/\/198\.51\.100\.\d+$/);
        expect(ruleFor("toy:index:Cluster").label).toBe("toy Cluster");
        expect(latencyOf({ type: cluster.type, name: cluster.name, inputs: cluster.inputs, read: false })).toMatchObject({
            key: "toy:index:Cluster",
            seconds: 30,
            known: true,
        });
        // Validation knows the platform's block and names its problems at their config path.
        const bad = await runMesh({
            meshId: "reg",
            topology: "multi-primary",
            clusters: [{ name: "t1", network: "n1", platform: "toy", toy: { region: "toy-east1", podCidr: "10.60.0.0/33" } }],
        });
        expect(String(bad.error?.message)).toContain("mesh.clusters[0].toy.podCidr");
        const noBlock = await runMesh({ meshId: "reg", topology: "multi-primary", clusters: [{ name: "t1", platform: "toy" }] });
        expect(String(noBlock.error?.message)).toContain("mesh.clusters[0].toy: is required for platform toy");
        // The stack outputs carry its locality and platform like any other.
        expect(run.outputs.clusters).toMatchObject({ t1: { platform: "toy", region: "toy-east1" } });
    });

    it("a platform whose SDK is not installed is refused at its config path, naming the package (a library user of existing clusters installs none)", async () => {
        const sdk = "@pulumi/toy-sdk-not-installed";
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a real failed require, as a missing peer dependency fails
        const missing = { ...toy, sdks: [sdk], builder: () => require(sdk) };
        expect(() => loadBuilder(missing, "mesh.clusters[2]")).toThrow(
            `mesh.clusters[2].platform: toy clusters are built with ${sdk}, which is not installed; install it (npm install ${sdk}`,
        );
        // Any other failure of the builder is not dressed up as a missing package.
        const broken = {
            ...toy,
            builder: () => {
                throw new Error("boom");
            },
        };
        expect(() => loadBuilder(broken, "mesh.clusters[0]")).toThrow("boom");
    });
});
