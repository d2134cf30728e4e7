// The change plan decides the exit code and warns on every disruptive class (issue 19 item 1, issue
// 22 item 5): the engine's rules (providerChanged through the new provider's DiffConfig,
// replaceOnChanges, the delete-first cascade) on hand-made resources, then the four config changes a
// reviewer must never see pass as "no change", each planned for real from the shipped stacks.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { ChangePlan, planChanges, ResourceChange } from "../offline/changes";
import { SAME_NAME_CREATE_FIRST } from "../offline/changeWarnings";
import { buildPlanFile, PlanFile, stableStringify } from "../offline/planFile";
import type { PlanResource } from "../offline/planResources";
import { runMesh } from "./support/harness";
import { planStack, ROOT, tempDir } from "./support/planRun";

type Mesh = { trust: Record<string, unknown>; clusters: Record<string, any>[] } & Record<string, unknown>;
const K8S_PROVIDER = "pulumi:providers:kubernetes";

function meshOf(stack: string): Mesh {
    return YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config["multicluster-mesh:mesh"];
}

async function planOf(stack: string, mesh: unknown): Promise<PlanFile> {
    const r = await runMesh(mesh, { sim: { cannedTls: true } });
    expect(r.error).toBeUndefined();
    return buildPlanFile({ stack, outputs: r.outputs, registrations: r.sim.registrations });
}

async function beforeAfter(stack: string, edit: (m: Mesh) => void) {
    const mesh = meshOf(stack);
    const changed = structuredClone(mesh);
    edit(changed);
    const before = await planOf(stack, mesh);
    const after = await planOf(stack, changed);
    return { before, after, changes: planChanges(before, after) };
}

const byName = (p: ChangePlan, name: string, type?: string): ResourceChange => {
    const found = p.changes.filter((c) => c.name === name && (!type || c.type === type));
    expect(found, name).toHaveLength(1);
    return found[0];
};
const warningsOf = (p: ChangePlan, prefix: string) => p.warnings.filter((w) => w.startsWith(prefix));

// Hand-made resources: the smallest plans that show one engine rule each.
function r(key: string, extra: Partial<PlanResource> = {}): PlanResource {
    const [qualified, name] = [key.slice(0, key.lastIndexOf("::")), key.slice(key.lastIndexOf("::") + 2)];
    return {
        key,
        type: qualified.split("$").pop()!,
        name,
        parent: null,
        provider: null,
        custom: true,
        read: false,
        decisive: {},
        inputsDigest: "0".repeat(64),
        deployTime: {},
        ...extra,
        options: { protect: false, deleteBeforeReplace: false, aliases: [], dependsOn: [], ...(extra.options ?? {}) },
    };
}
const plan = (resources: PlanResource[]): PlanFile => ({ clusters: [], resources }) as unknown as PlanFile;
const provider = (name: string, decisive: Record<string, unknown>) => r(`${K8S_PROVIDER}::${name}`, { decisive });
const namespace = (providerKey: string, extra: Partial<PlanResource> = {}) =>
    r("kubernetes:core/v1:Namespace::mesh1-west-namespace", {
        provider: providerKey,
        decisive: { "metadata.name": "istio-system" },
        ...extra,
    });

describe("the engine's rules, on hand-made resources", () => {
    const id = (instance: string) => `multicluster-mesh/existing/west/${instance}`;
    const P = `${K8S_PROVIDER}::west-k8s`;

    it("kubernetes DiffConfig: an unchanged clusterIdentifier replaces nothing, not even renderYamlToDirectory", () => {
        const before = plan([provider("west-k8s", { clusterIdentifier: id("a"), renderYamlToDirectory: "/x" })]);
        const after = plan([provider("west-k8s", { clusterIdentifier: id("a"), renderYamlToDirectory: "/y", kubeconfig: "sha256:2" })]);
        expect(byName(planChanges(before, after), "west-k8s").kind).toBe("update");
        // Without it on one side (on- and off-boarding), the kubeconfig's active cluster decides.
        const added = plan([provider("west-k8s", { clusterIdentifier: id("a"), kubeconfig: "sha256:2" })]);
        expect(byName(planChanges(plan([provider("west-k8s", { kubeconfig: "sha256:1" })]), added), "west-k8s").kind).toBe("replace");
    });

    it("providerChanged: moving to another provider replaces only when the new provider's DiffConfig replaces", () => {
        const before = plan([provider("west-k8s", { clusterIdentifier: id("a") }), namespace(P)]);
        const P2 = `${K8S_PROVIDER}::west-k8s-2`;
        const moved = (instance: string) => plan([provider("west-k8s-2", { clusterIdentifier: id(instance) }), namespace(P2)]);
        const same = planChanges(before, moved("a"));
        expect(byName(same, "mesh1-west-namespace").kind).toBe("same");
        const other = planChanges(before, moved("b"));
        expect(byName(other, "mesh1-west-namespace")).toMatchObject({ kind: "replace", order: "create-first" });
        expect(byName(other, "mesh1-west-namespace").reasons.join(" ")).toMatch(
            /new provider's DiffConfig replaces \(clusterIdentifier changed\)/,
        );
    });

    it("a replaced provider replaces its objects create-first; the warning names the same-named objects and the way out", () => {
        const p = planChanges(
            plan([provider("west-k8s", { clusterIdentifier: id("old1") }), namespace(P)]),
            plan([provider("west-k8s", { clusterIdentifier: id("new2") }), namespace(P)]),
        );
        expect(p.changed).toBe(true);
        expect(byName(p, "mesh1-west-namespace")).toMatchObject({ kind: "replace", order: "create-first", cause: P });
        const [w] = warningsOf(p, "PROVIDER REPLACED: west-k8s (cluster west;");
        expect(w).toContain("All 1 objects on it are replaced create-first, 1 under the names they have (Namespace istio-system)");
        expect(w).toContain(SAME_NAME_CREATE_FIRST);
        expect(w).toContain('set identity: "old1" on cluster west');
        // Both outcomes are named: AlreadyExists with the provider users run, silent deletion with an older one.
        expect(w).toMatch(/AlreadyExists/);
        expect(w).toMatch(/deletes it/);
        // With deleteBeforeReplace on the named object (issue 22's fix), the warning says what delete-first does instead.
        const dbr = { options: { protect: false, deleteBeforeReplace: true, aliases: [], dependsOn: [] } };
        const q = planChanges(
            plan([provider("west-k8s", { clusterIdentifier: id("old1") }), namespace(P, dbr)]),
            plan([provider("west-k8s", { clusterIdentifier: id("new2") }), namespace(P, dbr)]),
        );
        expect(byName(q, "mesh1-west-namespace")).toMatchObject({ kind: "replace", order: "delete-first" });
        const [d] = warningsOf(q, "PROVIDER REPLACED: west-k8s");
        expect(d).toMatch(/replaced delete-first, 1 under the names they have .* deleted and created again on the same API server/);
        expect(d).not.toContain(SAME_NAME_CREATE_FIRST);
    });

    it("replaceOnChanges replaces and keeps the provider's order: a named object is then created first, and warned about", () => {
        const roc = {
            options: { protect: false, deleteBeforeReplace: false, aliases: [], dependsOn: [], replaceOnChanges: ["metadata.labels"] },
        };
        const before = plan([
            provider("west-k8s", { clusterIdentifier: id("a") }),
            namespace(P, { ...roc, decisive: { "metadata.name": "istio-system", "metadata.labels": { a: "1" } } }),
        ]);
        const after = plan([
            provider("west-k8s", { clusterIdentifier: id("a") }),
            namespace(P, { ...roc, decisive: { "metadata.name": "istio-system", "metadata.labels": { a: "2" } } }),
        ]);
        const p = planChanges(before, after);
        expect(byName(p, "mesh1-west-namespace")).toMatchObject({ kind: "replace", order: "create-first" });
        expect(byName(p, "mesh1-west-namespace").reasons.join(" ")).toMatch(/metadata.labels changed \(replaceOnChanges\)/);
        expect(warningsOf(p, "SAME-NAME REPLACEMENT, CREATE-FIRST: Namespace istio-system in west")).toHaveLength(1);
        // `triggers[*]` (what @pulumi/command sets) covers a change of `triggers`.
        const cmd = (t: string) =>
            r("command:local:Command::x", { decisive: { triggers: [t] }, options: { ...roc.options, replaceOnChanges: ["triggers[*]"] } });
        expect(byName(planChanges(plan([cmd("a")]), plan([cmd("b")])), "x").kind).toBe("replace");
    });

    it("a delete-first replacement deletes its replaced dependents first (calculateDependentReplacements)", () => {
        const cluster = (t: string) =>
            r("multicluster-mesh:cluster:KindCluster$command:local:Command::west-cluster", {
                parent: "multicluster-mesh:cluster:KindCluster::west",
                decisive: { triggers: [t] },
                options: { protect: false, deleteBeforeReplace: true, aliases: [], dependsOn: [] },
            });
        const prov = (t: string) =>
            r(`${K8S_PROVIDER}::west-k8s`, {
                decisive: { clusterIdentifier: `multicluster-mesh/kind/west/<assigned at deploy: Command id>${t}` },
                deployTime: { clusterIdentifier: ["multicluster-mesh:cluster:KindCluster$command:local:Command::west-cluster"] },
                options: {
                    protect: false,
                    deleteBeforeReplace: false,
                    aliases: [],
                    dependsOn: ["multicluster-mesh:cluster:KindCluster$command:local:Command::west-cluster"],
                },
            });
        const p = planChanges(plan([cluster("a"), prov(""), namespace(P)]), plan([cluster("b"), prov(""), namespace(P)]));
        expect(byName(p, "west-cluster")).toMatchObject({ kind: "replace", order: "delete-first" });
        expect(byName(p, "west-k8s")).toMatchObject({ kind: "replace", order: "delete-first" });
        expect(byName(p, "mesh1-west-namespace")).toMatchObject({ kind: "replace", order: "delete-first" });
        expect(byName(p, "mesh1-west-namespace").reasons.join(" ")).toMatch(/deleted before west-k8s/);
        expect(warningsOf(p, "CLUSTER REPLACED: west (west-cluster:")).toHaveLength(1);
        // Covered by the cluster warning: no separate same-name or namespace warning.
        expect(p.warnings).toHaveLength(1);
    });

    it("a named Secret replaced delete-first by its own provider (its name kept, its type changed) is warned about", () => {
        const secret = (t: string) =>
            namespace(P, { type: "kubernetes:core/v1:Secret", decisive: { "metadata.name": "cacerts", type: t } });
        const p = planChanges(
            plan([provider("west-k8s", { clusterIdentifier: id("a") }), secret("Opaque")]),
            plan([provider("west-k8s", { clusterIdentifier: id("a") }), secret("x")]),
        );
        expect(warningsOf(p, "SECRET DELETED BEFORE ITS REPLACEMENT: mesh1-west-namespace")).toHaveLength(1);
    });
});

describe("the four changes of issue 19, planned from the shipped stacks", () => {
    it("identity: added to an existing cluster replaces its provider: exit 2, a warning, and the identity that keeps it", async () => {
        const { before, after, changes } = await beforeAfter("existing", (m) => {
            m.clusters[1].identity = "pinned-west";
        });
        const west = changes.changes.filter((c) => c.kind === "replace");
        expect(west.length).toBe(10);
        // Every object this program writes has a fixed name and is deleteBeforeReplace (components/platforms/provider.ts, inCluster).
        for (const c of west.filter((x) => x.type !== K8S_PROVIDER)) expect(c, c.name).toMatchObject({ order: "delete-first" });
        const [w] = warningsOf(changes, "PROVIDER REPLACED: west-k8s (cluster west; replaced: clusterIdentifier changed");
        expect(w).toMatch(
            /All 9 objects on it are replaced delete-first, 9 under the names they have \(Namespace istio-system, Secret istio-system\/cacerts/,
        );
        // The value the warning proposes keeps the provider: planned again with it, nothing changes.
        const instance = /set identity: "([^"]+)" on cluster west/.exec(w)![1];
        const kept = structuredClone(meshOf("existing"));
        kept.clusters[1].identity = instance;
        const again = planChanges(before, await planOf("existing", kept));
        expect(again.changed).toBe(false);
        expect(again.warnings).toEqual([]);
        expect(after.clusters.map((c) => c.name)).toEqual(["east", "west"]);
    });

    it("a kind cluster's podSubnet: the cluster is replaced delete-first, and so is every object on its provider", async () => {
        const { changes } = await beforeAfter("dev", (m) => {
            m.clusters[0].kind.podSubnet = "10.11.0.0/16";
        });
        const onEast = changes.changes.filter((c) => c.kind === "replace" && c.cause?.endsWith("::east-k8s"));
        expect(onEast.length).toBeGreaterThan(10);
        for (const c of onEast) expect(c.order, c.name).toBe("delete-first");
        expect(warningsOf(changes, "CLUSTER REPLACED: east (east-cluster:")).toEqual([
            expect.stringMatching(
                /delete-first\. A new, empty cluster takes its place; .* Delete-first: the engine deletes those objects, then the cluster/,
            ),
        ]);
    });

    it("a topology switch (a primary becomes a remote) warns that istiod leaves it", async () => {
        const { changes } = await beforeAfter("existing", (m) => {
            m.topology = "primary-remote";
            m.clusters[1].role = "remote";
        });
        expect(warningsOf(changes, "ISTIOD REMOVED: west stops running istiod (primary → remote of east)")).toHaveLength(1);
        expect(byName(changes, "mesh1-west-cacerts").kind).toBe("delete");
    });

    it("a cluster removed: an existing one leaves the mesh, a kind one is deleted; a rename says so", async () => {
        const existing = await beforeAfter("existing", (m) => {
            m.clusters = m.clusters.slice(0, 1);
        });
        expect(
            warningsOf(existing.changes, "CLUSTER LEAVES THE MESH: west: its provider west-k8s and the 9 objects on it are deleted"),
        ).toHaveLength(1);
        const kind = await beforeAfter("dev", (m) => {
            m.clusters = m.clusters.slice(0, 1);
        });
        expect(warningsOf(kind.changes, "CLUSTER DELETED: west (west-cluster is no longer registered)")).toHaveLength(1);
        // The provider's own warning is folded into the cluster's.
        expect(warningsOf(kind.changes, "CLUSTER LEAVES THE MESH")).toEqual([]);
        const renamed = await beforeAfter("dev", (m) => {
            m.clusters[1].name = "north";
        });
        expect(
            warningsOf(
                renamed.changes,
                "CLUSTER DELETED: west (west-cluster is no longer registered; a cluster is created in the same update",
            ),
        ).toHaveLength(1);
    });
});

describe("npm run plan -- --against: the change plan decides the exit code", () => {
    it("--help documents the exit codes", async () => {
        const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
        const help = await promisify(execFile)(tsx, [path.join(ROOT, "scripts", "plan.ts"), "--help"], { cwd: ROOT, encoding: "utf8" });
        expect(help.stdout).toMatch(/^Exit codes:$/m);
        expect(help.stdout).toMatch(
            /^ {2}0 {2}planned; with --against: no change \(the mesh-level diff and the change plan are both empty\)$/m,
        );
        expect(help.stdout).toMatch(
            /^ {2}2 {2}planned with --against, and something changes: .*any resource replaced, deleted, created or updated/m,
        );
        expect(help.stdout).toMatch(/^ {2}1 {2}an error/m);
    });

    it("a provider replacement alone: 'nothing at the mesh level', never 'no change'; changed, and the warning in summary.md", async () => {
        const out = tempDir();
        const dir = tempDir("stack-");
        try {
            fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            const text = fs.readFileSync(path.join(ROOT, "Pulumi.existing.yaml"), "utf8").replace(/examples\//g, `${ROOT}/examples/`);
            fs.writeFileSync(path.join(dir, "Pulumi.existing.yaml"), text);
            const first = await planStack("existing", out, { sim: { cannedTls: true }, stackDir: dir });
            expect(first.errors).toEqual([]);
            const old = path.join(out, "old.json");
            fs.copyFileSync(path.join(out, "existing", "plan.json"), old);
            fs.writeFileSync(
                path.join(dir, "Pulumi.existing.yaml"),
                text.replace("apiServer: https://172.18.0.3:6443", "apiServer: https://172.18.0.3:6443\n        identity: pinned"),
            );
            const again = await planStack("existing", out, { sim: { cannedTls: true }, stackDir: dir, against: old });
            expect(again.ok).toBe(true);
            // The mesh-level diff names the provider identity the stack outputs record (components/platforms/identity.ts).
            expect(again.diff!.changed).toBe(true);
            expect(again.changed).toBe(true);
            expect(again.stdout).not.toMatch(/no change/);
            expect(again.stdout).toMatch(/mesh-level diff against \S+: 1 change\n {2}west: providerIdentity server-[0-9a-f]{16} → pinned/);
            expect(again.stdout).toMatch(/^!! WARNING: PROVIDER REPLACED: west-k8s/m);
            expect(fs.readFileSync(path.join(out, "existing", "summary.md"), "utf8")).toMatch(
                /### Change plan[\s\S]*!! WARNING: PROVIDER REPLACED/,
            );
            const json = JSON.parse(fs.readFileSync(path.join(out, "existing", "changes.json"), "utf8")) as ChangePlan;
            expect(json.warnings.length).toBe(1);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("against a format-1 plan (0.1.x, no resources): the mesh diff runs, the change plan cannot, and it never says 'no change'", async () => {
        const out = tempDir();
        try {
            const first = await planStack("primary-remote", out, { sim: { cannedTls: true } });
            const old = path.join(out, "old.json");
            const { resources: _r, ...v1 } = first.planFile!;
            void _r;
            fs.writeFileSync(old, stableStringify({ ...v1, formatVersion: 1 }));
            const again = await planStack("primary-remote", out, { sim: { cannedTls: true }, against: old });
            expect(again.ok).toBe(true);
            expect(again.changed).toBe(true);
            expect(again.changes).toBeUndefined();
            expect(again.stdout).toMatch(/nothing at the mesh level; what happens to resources is not known/);
            expect(again.stdout).toMatch(
                /^!! WARNING: NO CHANGE PLAN: \S+ is a plan of format 1 .*git stash && npm run plan -- --stack <stack> --out \/tmp\/base/m,
            );
            expect(fs.existsSync(path.join(out, "primary-remote", "changes.json"))).toBe(false);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});
