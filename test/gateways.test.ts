// East-west gateways nobody needs (issue 12 item 9): `eastWestGateway.enabled: auto | true | false`.
// The rule (components/gatewayPlacement.ts): auto gives a cluster a gateway where istiod or a network
// needs it, and skips a remote on its primary's network (the primary's gateway serves that network);
// true forces one; false is refused where a network would be left without one. Pure cases first,
// then the real program under the simulator: the skipped remote has no gateway release or Service,
// and still reaches istiod through its primary's gateway.
import { describe, expect, it } from "vitest";
import { MeshConfig, validateMeshConfig } from "../config";
import { placeGateways } from "../components/gatewayPlacement";
import { planMesh } from "../components/meshPlan";
import { cluster, runMesh } from "./support/harness";

type Raw = Record<string, unknown>;

function raw(topology: string, clusters: Raw[]): Raw {
    const existing = (c: Raw, i: number) => ({ kubeconfig: "/absent", apiServer: `https://10.0.${i}.1:6443`, ...c });
    return { meshId: "mesh1", topology, clusters: clusters.map(existing) };
}
function check(topology: string, clusters: Raw[]): { ok: true; mesh: MeshConfig } | { ok: false; problems: string[] } {
    const r = validateMeshConfig(raw(topology, clusters), { readFile: () => undefined });
    return r.ok ? { ok: true, mesh: r.config.mesh } : { ok: false, problems: r.problems };
}
function plan(topology: string, clusters: Raw[]) {
    const r = check(topology, clusters);
    if (!r.ok) throw new Error(r.problems.join("\n"));
    return planMesh(r.mesh);
}
/** name → [has a gateway, why]. */
const gateways = (p: ReturnType<typeof planMesh>) =>
    Object.fromEntries(p.clusters.map((c) => [c.name, [c.eastWestGateway !== undefined, c.eastWestGatewayWhy]]));

// Multi-network primary-remote: p on n1 controls r1 (n1, its own network) and r2, r3 (n2).
const PR: Raw[] = [
    { name: "p", network: "n1" },
    { name: "r1", network: "n1", role: "remote" },
    { name: "r2", network: "n2", role: "remote" },
    { name: "r3", network: "n2", role: "remote" },
];
const with_ = (i: number, enabled: unknown, cs: Raw[] = PR): Raw[] =>
    cs.map((c, j) => (j === i ? { ...c, eastWestGateway: { enabled } } : c));
/** Two primaries on their own networks, each with a remote on the other's network. */
const CROSSED: Raw[] = [
    { name: "p1", network: "n1" },
    { name: "p2", network: "n2" },
    { name: "r", network: "n2", role: "remote", primary: "p1" },
    { name: "s", network: "n1", role: "remote", primary: "p2" },
];
const FALSE = { eastWestGateway: { enabled: false } };

describe("auto", () => {
    it("skips a remote on its primary's network; remotes on another network keep theirs", () => {
        expect(gateways(plan("primary-remote", PR))).toEqual({
            p: [true, "exposes istiod to remotes (15012/15017) and serves network n1 (15443)"],
            r1: [false, "on its primary's network n1: p's gateway serves it"],
            r2: [true, "serves network n2 (15443); its primary is on another network"],
            r3: [true, "serves network n2 (15443); its primary is on another network"],
        });
    });
    it("gives every network at least one gateway, in every install model", () => {
        const models: [string, Raw[]][] = [
            ["primary-remote", PR],
            [
                "multi-primary",
                [
                    { name: "a", network: "n1" },
                    { name: "b", network: "n1" },
                    { name: "c", network: "n2" },
                ],
            ],
            ["primary-remote", CROSSED],
        ];
        for (const [topology, cs] of models) {
            const p = plan(topology, cs);
            for (const n of p.networks) {
                expect(
                    p.clusters.some((c) => c.network === n && c.eastWestGateway),
                    `${topology}: network ${n}`,
                ).toBe(true);
            }
        }
    });
    it("a remote whose primary is on another network keeps its gateway even where another primary shares its network", () => {
        const p = plan("primary-remote", CROSSED.slice(0, 3));
        expect(gateways(p).r).toEqual([true, "serves network n2 (15443); its primary is on another network"]);
    });
    it("one network: only primary-remote's primary has one (to expose istiod); multi-primary none", () => {
        expect(gateways(plan("primary-remote", [{ name: "p" }, { name: "r", role: "remote" }]))).toEqual({
            p: [true, "exposes istiod to remotes (15012/15017)"],
            r: [false, "one network: reaches istiod through its primary's gateway"],
        });
        expect(gateways(plan("multi-primary", [{ name: "a" }, { name: "b" }]))).toEqual({
            a: [false, "one network: no cross-network traffic"],
            b: [false, "one network: no cross-network traffic"],
        });
    });
    it("the skipped remote's pods still carry its network, and only primaries hold the cross-network Gateway object", () => {
        const p = plan("primary-remote", PR);
        const r1 = p.clusters.find((c) => c.name === "r1")!;
        expect(r1.namespace.labels).toEqual({ "topology.istio.io/network": "n1" });
        expect(p.clusters.filter((c) => c.crossNetworkGateway).map((c) => c.name)).toEqual(["p"]);
    });
});

const LEAVES = "false leaves network n2 without an east-west gateway, so no other network can reach its pods (15443)";

describe("true and false", () => {
    it("true forces a gateway where auto would skip it, and says so", () => {
        const forced = gateways(plan("primary-remote", with_(1, true))).r1;
        expect(forced).toEqual([true, "enabled: true (auto would skip it: on its primary's network n1: p's gateway serves it)"]);
        const one = plan("multi-primary", [{ name: "a", eastWestGateway: { enabled: true } }, { name: "b" }]);
        expect(gateways(one)).toEqual({
            a: [true, "enabled: true (auto would skip it: one network: no cross-network traffic)"],
            b: [false, "one network: no cross-network traffic"],
        });
        const values = { name: "istio-eastwestgateway", networkGateway: "network1", service: { type: "None" } };
        expect(one.clusters[0].eastWestGateway!.values).toEqual(values);
    });
    it("false is accepted where another gateway serves the network, and the plan names it", () => {
        expect(gateways(plan("primary-remote", with_(3, false))).r3).toEqual([false, "enabled: false; network n2 is served by r2"]);
        const mp = plan("multi-primary", [
            { name: "a", network: "n1" },
            { name: "b", network: "n1", ...FALSE },
            { name: "c", network: "n2" },
        ]);
        expect(gateways(mp).b).toEqual([false, "enabled: false; network n1 is served by a"]);
    });
    it("false is refused where its network would be left without a gateway, with the path", () => {
        const r = check("primary-remote", with_(3, false, with_(2, false)));
        expect(r.ok ? [] : r.problems).toEqual([
            `mesh.clusters[2].eastWestGateway.enabled: ${LEAVES}; keep auto here or set enabled: true on one of r3`,
            `mesh.clusters[3].eastWestGateway.enabled: ${LEAVES}; keep auto here or set enabled: true on one of r2`,
        ]);
        const alone = check("multi-primary", [
            { name: "a", network: "n1" },
            { name: "b", network: "n2", ...FALSE },
        ]);
        expect(alone.ok ? [] : alone.problems).toEqual([`mesh.clusters[1].eastWestGateway.enabled: ${LEAVES}; remove it, or use auto`]);
    });
    it("false is refused on a primary of primary-remote, even on one network", () => {
        const r = check("primary-remote", [
            { name: "p", eastWestGateway: { enabled: false } },
            { name: "r", role: "remote" },
        ]);
        expect(r.ok ? [] : r.problems).toEqual([
            "mesh.clusters[0].eastWestGateway.enabled: false is not allowed on a primary of primary-remote: " +
                "its remotes reach istiod through its east-west gateway (15012/15017); remove it, or use auto",
        ]);
    });
    it("false where no gateway is needed anyway is fine (one network, multi-primary)", () => {
        expect(check("multi-primary", [{ name: "a", eastWestGateway: { enabled: false } }, { name: "b" }]).ok).toBe(true);
    });
    it("placeGateways reads loose input (validation runs it before the schema's defaults)", () => {
        const { placements, problems } = placeGateways(
            [
                { name: "a", network: "x" },
                { name: "b", ...FALSE },
            ],
            "multi-primary",
            "network1",
        );
        expect(placements.map((p) => p.gateway)).toEqual([true, false]);
        const leaves = expect.stringContaining("false leaves network network1 without an east-west gateway");
        expect(problems).toEqual([{ index: 1, message: leaves }]);
    });
});

describe("the program under the simulator", () => {
    const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false };
    it("creates no gateway for the skipped remote; its istiod still reaches the primary's gateway", async () => {
        const run = await runMesh(
            {
                meshId: "mesh1",
                topology: "primary-remote",
                trust: FAST,
                clusters: [
                    cluster("p", 1, { network: "n1" }),
                    cluster("r1", 2, { network: "n1", role: "remote" }),
                    cluster("r2", 3, { network: "n2", role: "remote" }),
                ],
            },
            { sim: { cannedTls: true } },
        );
        expect(run.error).toBeUndefined();
        const releases = run.sim.ofType("kubernetes:helm.sh/v3:Release");
        const gatewayReleases = releases
            .filter((r) => r.inputs.chart === "gateway")
            .map((r) => r.name)
            .sort();
        expect(gatewayReleases).toEqual(["mesh1-p-eastwest", "mesh1-r2-eastwest"].map((n) => expect.stringContaining(n)));
        const services = run.sim.ofType("kubernetes:core/v1:Service").filter((s) => s.inputs.spec?.type === "LoadBalancer");
        expect(services.map((s) => s.providerName).sort()).toEqual(["p-k8s", "r2-k8s"]);
        // r1's istiod chart points at p's gateway, as r2's does.
        const istiod = (name: string) => releases.find((r) => r.name === `mesh1-${name}-istiod`)!;
        const pAddress = run.outputs.gatewayAddresses as Record<string, string>;
        expect(Object.keys(pAddress).sort()).toEqual(["p", "r2"]);
        for (const r of ["r1", "r2"]) expect(istiod(r).inputs.values.global.remotePilotAddress).toBe(pAddress.p);
    });
});
