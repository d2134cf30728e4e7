// The post-deploy check's pure parts: istiod's debug documents (tier 2), shaped as istiod's types at
// 1.30.3 marshal them (pkg/cluster/debug.go DebugInfo; pilot/pkg/model/network.go NetworkGateway, no
// JSON tags; pilot/pkg/model/endpointshards.go Shardz with ShardKey "<provider>/<cluster>"), a remote
// secret's credential, and the report's format. The checks against live clusters run in the
// end-to-end suite (test/e2e/), with a fault injected for each.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { remoteCredential, type CheckReport, type CheckResult, type MeshIntent } from "../components/check/checks";
import { intentFromMeshPlan } from "../components/check/intent";
import { validateMeshConfig } from "../components/meshConfig";
import { planMesh } from "../components/meshPlan";
import { readStackFile } from "../offline/stackFile";
import { judgeClusterz, judgeEndpointShards, judgeNetworkz } from "../components/check/istiodDebug";
import { intentFromPlan } from "../offline/checkIntent";
import { formatReport } from "../offline/checkCommand";
import { parsePlanFile } from "../offline/planFile";
import { planStack, ROOT, tempDir } from "./support/planRun";
import { cluster, runMesh } from "./support/harness";
import { waitForChecks } from "../components/check/gate";

/** Quick generated trust for program runs (ECDSA keys). */
const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false };

function collect(): {
    say: (check: string, ok: boolean, message: string, fix?: string, severity?: "error" | "warning") => void;
    results: Omit<CheckResult, "cluster">[];
} {
    const results: Omit<CheckResult, "cluster">[] = [];
    return {
        results,
        say: (check, ok, message, fix, severity = "error") =>
            results.push({ check, ok, message, severity, ...(fix && !ok ? { fix } : {}) }),
    };
}

describe("tier 2: /debug/clusterz ([]cluster.DebugInfo)", () => {
    const table: { status: string; ok: boolean; says: RegExp }[] = [
        { status: "synced", ok: true, says: /istiod reads west: synced \(secret istio-remote-secret-west\)/ },
        { status: "syncing", ok: false, says: /west is still syncing/ },
        { status: "timeout", ok: false, says: /west timed out syncing/ },
        { status: "closed", ok: false, says: /west is closed: its client was stopped/ },
    ];
    for (const row of table)
        it(`a remote cluster ${row.status}: ${row.ok ? "passes" : "fails, saying why"}`, () => {
            const c = collect();
            judgeClusterz([{ id: "west", secretName: "istio-remote-secret-west", syncStatus: row.status }], ["west"], c.say);
            expect(c.results).toEqual([
                expect.objectContaining({ check: "istiod-clusters", ok: row.ok, message: expect.stringMatching(row.says) }),
            ]);
        });
    it("a cluster istiod does not list at all is named, with the log line to look for", () => {
        const c = collect();
        judgeClusterz([{ id: "west", secretName: "s", syncStatus: "synced" }], ["west", "central"], c.say);
        expect(c.results.filter((r) => !r.ok)).toEqual([
            expect.objectContaining({
                message: "istiod does not know cluster central: its remote secret was not loaded",
                fix: expect.stringMatching(/Failed to add remote cluster from secret/),
            }),
        ]);
    });
    it("a document that is not a list fails", () => {
        const c = collect();
        judgeClusterz({ error: "x" }, ["west"], c.say);
        expect(c.results).toEqual([expect.objectContaining({ ok: false })]);
    });
});

describe("tier 2: /debug/networkz ([]model.NetworkGateway)", () => {
    const doc = [
        {
            Network: "net-b",
            Cluster: "central",
            Addr: "198.19.1.12",
            Port: 15443,
            HBONEPort: 0,
            ServiceAccount: { Namespace: "istio-system", Name: "x" },
        },
    ];
    it("every other network with a gateway must be known; the cluster's own network is not asked for", () => {
        const c = collect();
        judgeNetworkz(doc, "net-a", { "net-a": ["east"], "net-b": ["central"], "net-c": ["north"] }, c.say);
        expect(c.results).toEqual([
            expect.objectContaining({ ok: true, message: "istiod knows network net-b's gateway (198.19.1.12:15443)" }),
            expect.objectContaining({ ok: false, message: "istiod knows no gateway of network net-c: traffic to it has no path" }),
        ]);
    });
});

describe("tier 2: /debug/endpointShardz (map[service]map[namespace]EndpointShards)", () => {
    it("each cluster read must contribute a shard, keyed <provider>/<cluster>", () => {
        const doc = {
            "kubernetes.default.svc.cluster.local": {
                default: { Shards: { "Kubernetes/east": [{}], "Kubernetes/west": [{}] }, ServiceAccounts: {} },
            },
        };
        const c = collect();
        judgeEndpointShards(doc, ["east", "west", "central"], c.say);
        expect(c.results.map((r) => [r.ok, r.message])).toEqual([
            [true, "istiod holds endpoints of cluster east"],
            [true, "istiod holds endpoints of cluster west"],
            [false, "istiod holds no endpoint of cluster central: its services are not reachable across clusters"],
        ]);
    });
});

describe("a remote secret's credential", () => {
    const kubeconfig = (user: Record<string, unknown>) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "west", cluster: { server: "https://198.19.0.11:6443", "certificate-authority-data": "" } }],
            contexts: [{ name: "west", context: { cluster: "west", user: "west" } }],
            "current-context": "west",
            users: [{ name: "west", user }],
        });
    it("is a bearer token only; an exec plugin is refused before anything runs (istioctl's analyze defect), and so is a client key", () => {
        expect(remoteCredential(kubeconfig({ token: "t" }), "west")).toMatchObject({
            ok: true,
            target: { token: "t", server: "https://198.19.0.11:6443" },
        });
        const exec = remoteCredential(kubeconfig({ exec: { command: "/bin/sh", args: ["-c", "touch /tmp/pwned"] } }), "west");
        expect(exec).toEqual({ ok: false, problem: "its kubeconfig authenticates with exec, not a token only (istiod refuses it)" });
        expect(fs.existsSync("/tmp/pwned")).toBe(false);
        expect(remoteCredential(kubeconfig({ "client-key-data": "x", "client-certificate-data": "y" }), "west")).toMatchObject({
            ok: false,
        });
        expect(remoteCredential(kubeconfig({}), "west")).toEqual({ ok: false, problem: "its kubeconfig has no token" });
    });
});

describe("the report", () => {
    it("groups lines by cluster, marks each ✔ × or ⚠, gives each failure its fix, and counts", () => {
        const r: CheckReport = {
            ok: false,
            unreachable: [{ cluster: "north", why: "connect ECONNREFUSED" }],
            results: [
                { cluster: "east", check: "cacerts", ok: true, severity: "error", message: "fine" },
                {
                    cluster: "east",
                    check: "remote-secret",
                    ok: false,
                    severity: "error",
                    message: "remote secret istio-remote-secret-west is missing",
                    fix: "run pulumi up",
                },
                { cluster: "west", check: "istiod-debug", ok: false, severity: "warning", message: "tier 2 skipped", fix: "x" },
            ],
        };
        expect(formatReport(r).split("\n")).toEqual([
            "east",
            "  ✔ cacerts: fine",
            "  × remote-secret: remote secret istio-remote-secret-west is missing",
            "      fix: run pulumi up",
            "west",
            "  ⚠ istiod-debug: tier 2 skipped",
            "      fix: x",
            "north",
            "  × unreachable: connect ECONNREFUSED",
            "      fix: check the kubeconfig's server and that it answers from here",
            "1 passed, 1 failed, 1 warning, 1 cluster unreachable",
        ]);
    });
});

describe("the intent, from an offline plan", () => {
    it("takes roles, networks, gateways, the secret matrix and each config cluster's Istio objects with their namespaces", async () => {
        const out = tempDir();
        const r = await planStack("traffic", out, { sim: { cannedTls: true } });
        expect(r.ok).toBe(true);
        const file = path.join(out, "traffic", "plan.json");
        const intent = intentFromPlan(parsePlanFile(fs.readFileSync(file, "utf8"), file));
        expect(intent.clusters.map((c) => [c.name, c.role, c.runsIstiod, c.gateway])).toEqual([
            ["east", "primary", true, true],
            ["west", "primary", true, true],
        ]);
        expect(intent.remoteSecrets).toEqual(
            expect.arrayContaining([
                { source: "west", target: "east" },
                { source: "east", target: "west" },
            ]),
        );
        expect(intent.istioObjects.east).toContain("DestinationRule/istio-system/payments-payments-svc-cluster-local");
        expect(intent.istioObjects.east).toEqual(intent.istioObjects.west);
        fs.rmSync(out, { recursive: true, force: true });
    });
});

describe("the deploy gate (mesh.check.gate)", () => {
    const intent = {
        meshId: "m",
        clusters: [{ name: "east", role: "primary" as const, network: "n", runsIstiod: true, gateway: false }],
        remoteSecrets: [],
        istioObjects: {},
    };
    const report = (ok: boolean): CheckReport => ({
        ok,
        unreachable: [],
        results: [
            {
                cluster: "east",
                check: "east-west-address",
                ok,
                severity: "error",
                message: ok ? "has an address" : "has no external address yet (pending)",
                ...(ok ? {} : { fix: "wait" }),
            },
        ],
    });
    it("waits for what becomes true later (a load balancer's address), then passes", async () => {
        let calls = 0;
        const summary = await waitForChecks(intent, [], { timeoutSeconds: 5, everySeconds: 0.01, check: async () => report(++calls >= 3) });
        expect(calls).toBe(3);
        expect(summary).toBe("post-deploy check passed: 1 checks in 1 clusters (3 tries)");
    });
    it("fails the update with the check's report when a check still fails at the deadline", async () => {
        await expect(
            waitForChecks(intent, [], { timeoutSeconds: 0.05, everySeconds: 0.01, check: async () => report(false) }),
        ).rejects.toThrow(
            /^the post-deploy check failed after 0\.05 s \(\d+ tries; mesh\.check\.gate, docs\/check\.md\):\neast\n {2}× east-west-address: has no external address yet \(pending\)\n {6}fix: wait\n0 passed, 1 failed, 0 warnings$/,
        );
    });
    it("is a stack output of the program when mesh.check.gate is set, and never runs under the mock runtime", async () => {
        const mesh = { meshId: "m", topology: "multi-primary", trust: FAST, clusters: [cluster("east", 1), cluster("west", 2)] };
        const run = await runMesh({ ...mesh, check: { gate: true, timeoutSeconds: 30 } });
        expect(run.error).toBeUndefined();
        expect(run.outputs.postDeployCheck).toBe("post-deploy check: not run offline (no real cluster)");
        const off = await runMesh(mesh);
        expect(off.outputs).not.toHaveProperty("postDeployCheck");
    });
});

describe("one intent, two sources", () => {
    // The deploy gate builds its intent from the mesh plan inside the program; `npm run check` from the
    // offline plan.json. For every kind of mesh they must be the same intent.
    for (const stack of ["traffic", "primary-remote-multinet", "eks-primary-remote"])
        it(`${stack}: the intent of the mesh plan (the gate) is the intent of plan.json (npm run check)`, async () => {
            const out = tempDir();
            expect((await planStack(stack, out, { sim: { cannedTls: true } })).ok).toBe(true);
            const file = path.join(out, stack, "plan.json");
            const fromFile = intentFromPlan(parsePlanFile(fs.readFileSync(file, "utf8"), file));
            const raw = readStackFile(stack, ROOT).config["multicluster-mesh:mesh"];
            const v = validateMeshConfig(raw);
            if (!v.ok) throw new Error(v.problems.join("\n"));
            const fromPlan = intentFromMeshPlan(planMesh(v.config.mesh));
            const norm = (i: MeshIntent) => ({
                ...i,
                clusters: [...i.clusters].sort((a, b) => a.name.localeCompare(b.name)),
                remoteSecrets: [...i.remoteSecrets].sort((a, b) => `${a.source}/${a.target}`.localeCompare(`${b.source}/${b.target}`)),
            });
            expect(norm(fromPlan)).toEqual(norm(fromFile));
            fs.rmSync(out, { recursive: true, force: true });
        });
});
