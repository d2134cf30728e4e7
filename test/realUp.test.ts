// What a real `pulumi up` decides that the mock runtime would not: names the engine or the clouds
// refuse, options the providers act on (delete-first, in-place Secrets, destroy of a gone cluster),
// and the order in which a remote's reader token may be minted. The rules are the engine's and the
// providers' (cited where the program sets them); each test fails on the behaviour it guards against.
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { instanceDigest } from "../components/platforms/provider";
import { validateMeshConfig } from "../config";
import { runProgram } from "../offline/runProgram";
import { cluster, dependsOn, one, runMesh } from "./support/harness";

const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false };
const gke = (name: string, project: string, n: number, extra: Record<string, unknown> = {}) => ({
    name,
    platform: "gke",
    network: "shared",
    gke: {
        project,
        location: "us-central1",
        network: "corp-vpc",
        subnetCidr: `10.${n}.0.0/20`,
        podCidr: `10.${100 + n * 4}.0.0/14`,
        serviceCidr: `10.${n}.16.0/20`,
    },
    ...extra,
});

function problems(mesh: Record<string, unknown>): string[] {
    const r = validateMeshConfig(mesh, { readFile: () => undefined });
    return r.ok ? [] : r.problems;
}

describe("names the engine or the clouds refuse", () => {
    it("the simulator refuses a duplicate URN, as the engine does", async () => {
        const k8s = await import("@pulumi/kubernetes");
        const r = await runProgram({
            config: {},
            load: async () => {
                new k8s.Provider("same", { kubeconfig: "{}" });
                new k8s.Provider("same", { kubeconfig: "{}" });
                return {};
            },
        });
        expect(r.error?.message).toMatch(/Duplicate resource URN/);
    });

    it("gives two projects' VPCs of one name their own GcpNetwork (no duplicate URN)", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            networks: { shared: { routable: true } },
            clusters: [gke("a", "project-one", 1), gke("b", "project-two", 2)],
        });
        expect(run.error).toBeUndefined();
        const vpcs = run.sim.ofType("multicluster-mesh:cluster:GcpNetwork").map((r) => r.name);
        expect(vpcs.sort()).toEqual(["m-project-one-corp-vpc", "m-project-two-corp-vpc"]);
    });

    it("refuses names over the clouds' limits, with the limit in the message", () => {
        const long = (n: number) => "c" + "x".repeat(n - 1);
        expect(problems({ meshId: long(64), topology: "multi-primary", clusters: [cluster("a", 1)] })).toEqual([
            expect.stringMatching(/^mesh\.meshId: has 64 characters; .* at most 63/),
        ]);
        const g = gke(long(41), "project-one", 1);
        expect(problems({ meshId: "m", topology: "multi-primary", clusters: [g] })).toEqual([
            expect.stringMatching(/^mesh\.clusters\[0\]\.name: .* 41 characters; a GKE cluster name has at most 40/),
        ]);
        const e = { name: long(44), platform: "eks", eks: { region: "us-east-1", vpcCidr: "10.0.0.0/16" } };
        expect(problems({ meshId: "m", topology: "multi-primary", clusters: [e] })).toEqual([
            expect.stringMatching(/44 characters; on EKS at most 43 fit/),
        ]);
        const k = { name: long(50), platform: "kind" };
        expect(problems({ meshId: "m", topology: "multi-primary", clusters: [k] })).toEqual([
            expect.stringMatching(/50 characters; kind names its node .* at most 49/),
        ]);
        // At the limit, fine.
        expect(problems({ meshId: "m", topology: "multi-primary", clusters: [gke(long(40), "project-one", 1)] })).toEqual([]);
    });

    it("refuses an EKS access entry for the cluster creator, which EKS already gives one", () => {
        const arn = "arn:aws:iam::123456789012:role/deployer";
        const e = {
            name: "e",
            platform: "eks",
            eks: { region: "us-east-1", vpcCidr: "10.0.0.0/16", creatorArn: arn, accessEntries: [arn] },
        };
        expect(problems({ meshId: "m", topology: "multi-primary", clusters: [e] })).toEqual([
            expect.stringMatching(/^mesh\.clusters\[0\]\.eks\.accessEntries\[0\]: .* is the cluster creator/),
        ]);
    });
});

describe("provider options a real up acts on", () => {
    it("passes deleteUnreachable to the cluster's provider only when asked, for destroying a mesh whose cluster is gone", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [cluster("a", 1, { network: "n1", deleteUnreachable: true }), cluster("b", 2, { network: "n2" })],
        });
        expect(run.error).toBeUndefined();
        expect(one(run, "a-k8s").inputs.deleteUnreachable).toBe("true"); // provider config travels as strings
        expect(one(run, "b-k8s").inputs.deleteUnreachable).toBeUndefined();
        for (const p of ["a-k8s", "b-k8s"]) expect(one(run, p).inputs.enableSecretMutable).toBe("true");
    });

    it("resets Helm values on every release, so an emptied values map never reuses the old one", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "primary-remote",
            trust: FAST,
            clusters: [cluster("p", 1), cluster("r", 2, { role: "remote" })],
        });
        expect(run.error).toBeUndefined();
        const releases = run.sim.ofType("kubernetes:helm.sh/v3:Release");
        expect(releases.length).toBeGreaterThan(3);
        for (const r of releases) expect(r.inputs.resetValues, r.name).toBe(true);
        // The primary's base values are empty: exactly the case Helm would fill from the previous release.
        expect(one(run, "m-p-base").inputs.values ?? {}).toEqual({});
    });

    it(
        "mints each reader token after the source's istiod release (the reader RBAC), and " + "ignores the API server's last-used label",
        async () => {
            const run = await runMesh({
                meshId: "m",
                topology: "primary-remote",
                trust: FAST,
                clusters: [cluster("p", 1), cluster("r", 2, { role: "remote" })],
            });
            expect(run.error).toBeUndefined();
            const token = run.sim.registrations.find(
                (x) =>
                    x.type === "kubernetes:core/v1:Secret" && x.inputs.type === "kubernetes.io/service-account-token" && x.cluster === "r",
            )!;
            expect(dependsOn(run, token.name, "m-r-istiod")).toBe(true);
            expect(token.startedAt).toBeGreaterThanOrEqual(one(run, "m-r-istiod").finishedAt);
            expect(token.ignoreChanges).toEqual(['metadata.labels["kubernetes.io/legacy-token-last-used"]']);
        },
    );
});

describe("the least credential each provider needs", () => {
    it("gives an existing cluster's provider, and the kubeconfigs output, only its own context, cluster and user", async () => {
        const kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "  - { name: east, cluster: { server: 'https://10.1.0.1:6443', certificate-authority-data: RUFTVA== } }",
            "  - { name: prod, cluster: { server: 'https://10.9.0.1:6443' } }",
            "contexts:",
            "  - { name: east, context: { cluster: east, user: east-admin } }",
            "  - { name: prod, context: { cluster: prod, user: prod-admin } }",
            "current-context: prod",
            "users:",
            "  - { name: east-admin, user: { token: east-token } }",
            "  - { name: prod-admin, user: { token: prod-token } }",
            "",
        ].join("\n");
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [{ name: "east", kubeconfig, context: "east", apiServer: "https://10.1.0.1:6443" }],
        });
        expect(run.error).toBeUndefined();
        const given = YAML.parse(one(run, "east-k8s").inputs.kubeconfig);
        expect(given.contexts.map((c: { name: string }) => c.name)).toEqual(["east"]);
        expect(given.clusters.map((c: { name: string }) => c.name)).toEqual(["east"]);
        expect(given.users).toEqual([{ name: "east-admin", user: { token: "east-token" } }]);
        expect(given["current-context"]).toBe("east");
        expect(one(run, "east-k8s").inputs.kubeconfig).not.toContain("prod-token");
        expect(JSON.stringify(run.outputs.kubeconfigs)).not.toContain("prod-token");
        expect(one(run, "east-k8s").secretPaths).toContain("kubeconfig");
        // The identity is the cluster behind the context, not the file: its CA when the CA parses
        // (components/platforms/identity.ts; test/identity.test.ts), else its server, as here.
        expect(one(run, "east-k8s").inputs.clusterIdentifier).toBe(
            `multicluster-mesh/existing/east/server-${instanceDigest("https://10.1.0.1:6443")}`,
        );
    });
});

describe("pinning a cluster's provider identity", () => {
    it("uses clusters[].identity as the instance, so a rotation that changes endpoint or CA does not replace the provider", async () => {
        const base = { meshId: "m", topology: "multi-primary", trust: FAST };
        const derived = await runMesh({ ...base, clusters: [cluster("a", 1, { network: "n1" }), cluster("b", 2, { network: "n2" })] });
        const pinned = await runMesh({
            ...base,
            clusters: [cluster("a", 1, { network: "n1", identity: "before-rotation" }), cluster("b", 2, { network: "n2" })],
        });
        expect(pinned.error).toBeUndefined();
        expect(one(pinned, "a-k8s").inputs.clusterIdentifier).toBe("multicluster-mesh/existing/a/before-rotation");
        // The other cluster keeps its derived identity, the same as without the pin.
        expect(one(pinned, "b-k8s").inputs.clusterIdentifier).toBe(one(derived, "b-k8s").inputs.clusterIdentifier);
        expect(one(derived, "a-k8s").inputs.clusterIdentifier).not.toContain("before-rotation");
        expect(problems({ ...base, clusters: [cluster("a", 1, { identity: "" })] })).toEqual([
            expect.stringMatching(/^mesh\.clusters\[0\]\.identity: /),
        ]);
    });
});
