// The change plan (offline/changes.ts): two real offline plans of two configs, classified resource by
// resource the way the engine and the providers would carry the difference out. Each config change
// is made on the stack files' own mesh config, as a user would edit Pulumi.<stack>.yaml.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { ISTIO_OCI_REPOSITORY } from "../components/istio";
import { ChangePlan, formatChanges, planChanges, ResourceChange } from "../offline/changes";
import { buildPlanFile, PlanFile, stableStringify } from "../offline/planFile";
import type { PlanResource } from "../offline/planResources";
import { runMesh } from "./support/harness";
import { planStack, ROOT, tempDir } from "./support/planRun";

type Mesh = { trust: Record<string, unknown>; clusters: Record<string, any>[] } & Record<string, unknown>;

function meshOf(stack: string): Mesh {
    return YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config["multicluster-mesh:mesh"];
}

async function planOf(stack: string, mesh: unknown, cannedTls = true): Promise<PlanFile> {
    const r = await runMesh(mesh, { sim: { cannedTls } });
    expect(r.error).toBeUndefined();
    return buildPlanFile({ stack, outputs: r.outputs, registrations: r.sim.registrations });
}

/** Plans of the stack's config and of an edited copy. */
async function beforeAfter(stack: string, edit: (m: Mesh) => void): Promise<{ before: PlanFile; after: PlanFile; changes: ChangePlan }> {
    const mesh = meshOf(stack);
    const changed = structuredClone(mesh);
    edit(changed);
    const before = await planOf(stack, mesh);
    const after = await planOf(stack, changed);
    return { before, after, changes: planChanges(before, after) };
}

const byName = (p: ChangePlan, name: string, type?: string): ResourceChange => {
    const found = p.changes.filter((c) => c.name === name && (!type || c.type === type));
    expect(found, `${name}: ${p.changes.map((c) => c.name).join(", ")}`).toHaveLength(1);
    return found[0];
};
const resource = (p: PlanFile, name: string, type: string): PlanResource => p.resources.find((r) => r.name === name && r.type === type)!;
const kinds = (p: ChangePlan) => p.changes.filter((c) => c.kind !== "same" && c.kind !== "read");
const SECRET = "kubernetes:core/v1:Secret";
const COMMAND = "command:local:Command";
const K8S_PROVIDER = "pulumi:providers:kubernetes";
const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Set (or remove) enableSecretMutable on every Kubernetes provider of a plan, as its config input. */
function withSecretMutable(p: PlanFile, on: boolean): PlanFile {
    const q = structuredClone(p);
    for (const r of q.resources.filter((x) => x.type === K8S_PROVIDER)) {
        if (on) r.decisive.enableSecretMutable = "true";
        else delete r.decisive.enableSecretMutable;
    }
    return q;
}

describe("change plan", () => {
    it("the same config twice: every resource is the same, and the resources section is byte-identical with real keys", async () => {
        const mesh = meshOf("primary-remote");
        const a = await planOf("primary-remote", mesh, false);
        const b = await planOf("primary-remote", mesh, false);
        expect(stableStringify(b.resources)).toBe(stableStringify(a.resources));
        expect(a.resources.length).toBeGreaterThan(20);
        const p = planChanges(a, b);
        expect(p.changed).toBe(false);
        expect(kinds(p)).toEqual([]);
        expect(p.counts.same + p.counts.read).toBe(a.resources.length);
        expect(p.warnings).toEqual([]);
        // Secret inputs never appear: only digests of them.
        const text = stableStringify(a.resources);
        expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE|eyJhbGci/);
        const cacerts = a.resources.filter((r) => r.type === SECRET && r.decisive["metadata.name"] === "cacerts");
        expect(cacerts.length).toBeGreaterThan(0);
        for (const r of cacerts) expect(r.decisive.stringData).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it("a new chart source and image hub: every Istio release is updated in place (helm upgrade), nothing replaced", async () => {
        const { changes } = await beforeAfter("primary-remote", (m) => {
            m.istio = { ...(m.istio as object), repository: ISTIO_OCI_REPOSITORY, hub: "registry.example.com/istio" };
        });
        const releases = changes.changes.filter((c) => c.type === RELEASE);
        expect(releases.length).toBe(5);
        for (const r of releases) {
            expect(r.kind, r.name).toBe("update");
            expect(r.reasons[0]).toMatch(/^updated: chart, repositoryOpts\.repo/);
            expect(r.reasons).toContain("chart source changes: helm upgrade in place (the mesh diff says which pods roll)");
        }
        // Nothing else changes: no object, no provider.
        expect(kinds(changes).filter((c) => c.type !== RELEASE)).toEqual([]);
        expect(changes.counts.replace).toBe(0);
    });

    it("intermediate re-issue: cacerts replaced delete-first without enableSecretMutable, updated in place with it", async () => {
        const { before, after, changes } = await beforeAfter("dev", (m) => {
            m.trust.intermediateGeneration = 2;
        });
        // What the program registers decides: read the provider input, as the rule does.
        // (Provider inputs reach the engine as strings: "true".)
        const mutable = ["true", true].includes(resource(after, "east-k8s", K8S_PROVIDER).decisive.enableSecretMutable as string);
        for (const cluster of ["east", "west"]) {
            expect(byName(changes, `mesh1-trust-${cluster}-g2-intermediate-cert`).kind).toBe("create");
            expect(byName(changes, `mesh1-trust-${cluster}-intermediate-cert`).kind).toBe("delete");
            const cacerts = byName(changes, `mesh1-${cluster}-cacerts`);
            expect(cacerts.kind).toBe(mutable ? "update" : "replace");
        }
        expect(byName(changes, "mesh1-trust-root-cert").kind).toBe("same");
        expect(byName(changes, "mesh1-east-remote-to-west").kind).toBe("same");

        const without = planChanges(withSecretMutable(before, false), withSecretMutable(after, false));
        const cacerts = byName(without, "mesh1-east-cacerts");
        expect(cacerts).toMatchObject({ kind: "replace", order: "delete-first" });
        expect(cacerts.reasons.join(" ")).toMatch(/stringData changed/);
        expect(without.warnings.filter((w) => w.startsWith("SECRET DELETED BEFORE ITS REPLACEMENT: mesh1-east-cacerts"))).toHaveLength(1);

        const withIt = planChanges(withSecretMutable(before, true), withSecretMutable(after, true));
        expect(byName(withIt, "mesh1-east-cacerts")).toMatchObject({ kind: "update" });
        expect(byName(withIt, "mesh1-east-cacerts").reasons.join(" ")).toMatch(/enableSecretMutable/);
        expect(withIt.warnings.filter((w) => w.startsWith("SECRET DELETED"))).toEqual([]);
    });

    it("GKE network move: the cluster and its subnetwork are replaced, the protected cluster blocks the deploy", async () => {
        const { changes } = await beforeAfter("gcp-aws", (m) => {
            m.clusters.find((c) => c.platform === "gke")!.gke.network = "shared-vpc";
        });
        const cluster = byName(changes, "gke-central-cluster");
        expect(cluster.kind).toBe("replace");
        expect(cluster.reasons.join(" ")).toMatch(/network/);
        expect(cluster.blocked).toMatch(/protected/);
        expect(byName(changes, "gke-central-subnet").kind).toBe("replace");
        expect(changes.warnings.some((w) => w.startsWith("CLUSTER REPLACED: gke-central (gke-central-cluster: "))).toBe(true);
        expect(changes.warnings.some((w) => w.startsWith("PROTECTED RESOURCE IN THE WAY: gke-central-cluster"))).toBe(true);
        // The EKS side does not move.
        expect(byName(changes, "eks-east-cluster").kind).toBe("same");
        // And the mesh-level picture is no longer "pods pick up the new network".
        expect(formatChanges(changes, "old.json")).toMatch(/^!! WARNING: CLUSTER REPLACED: gke-central \(gke-central-cluster/m);
    });

    it("kind config change: the kind cluster is replaced, delete-first exactly when the Command has deleteBeforeReplace", async () => {
        const { after, changes } = await beforeAfter("dev", (m) => {
            m.clusters[0].kind.podSubnet = "10.30.0.0/16";
        });
        const name = `${meshOf("dev").clusters[0].name}-cluster`;
        const dbr = resource(after, name, COMMAND).options.deleteBeforeReplace;
        const create = byName(changes, name, COMMAND);
        expect(create.kind).toBe("replace");
        expect(create.order).toBe(dbr ? "delete-first" : "create-first");
        expect(create.reasons.join(" ")).toMatch(/triggers changed/);
        expect(byName(changes, "west-cluster", COMMAND).kind).toBe("same");
        // The option is what decides: flipped on the same two plans, the order flips.
        const flipped = structuredClone(after);
        resource(flipped, name, COMMAND).options.deleteBeforeReplace = !dbr;
        const before = await planOf("dev", meshOf("dev"));
        expect(byName(planChanges(before, flipped), name, COMMAND).order).toBe(dbr ? "create-first" : "delete-first");
        // The provider is replaced exactly when its clusterIdentifier changes; the warning says which.
        const provider = byName(changes, "east-k8s", K8S_PROVIDER);
        const idChanged =
            resource(before, "east-k8s", K8S_PROVIDER).decisive.clusterIdentifier !==
            resource(after, "east-k8s", K8S_PROVIDER).decisive.clusterIdentifier;
        const warning = changes.warnings.find((w) => w.startsWith(`CLUSTER REPLACED: east (${name}: `))!;
        expect(warning).toBeDefined();
        if (provider.kind === "replace") {
            expect(warning).toMatch(/provider is replaced/);
            expect(byName(changes, "mesh1-east-istiod").kind).toBe("replace");
        } else {
            expect(idChanged).toBe(false);
            expect(provider.kind).toBe("update");
            expect(warning).toMatch(/is NOT replaced \(clusterIdentifier unchanged\)/);
            expect(byName(changes, "mesh1-east-istiod").kind).toBe("same");
        }
    });

    it("cluster removed: its cluster, provider and every object on it are deleted, and so is its peer's remote secret", async () => {
        const { before, changes } = await beforeAfter("dev", (m) => {
            m.clusters = m.clusters.filter((c) => c.name !== "west");
        });
        const west = before.resources.filter((r) => r.provider?.endsWith("::west-k8s") && !r.read);
        expect(west.length).toBeGreaterThan(5);
        for (const r of west) expect(byName(changes, r.name, r.type).kind, r.key).toBe("delete");
        expect(byName(changes, "west-cluster", COMMAND).kind).toBe("delete");
        expect(byName(changes, "west-k8s", K8S_PROVIDER).kind).toBe("delete");
        expect(byName(changes, "mesh1-west-remote-to-east").kind).toBe("delete");
        expect(byName(changes, "east-cluster", COMMAND).kind).toBe("same");
        expect(byName(changes, "mesh1-east-istiod").kind).toBe("same");
    });

    it("cluster renamed: the old one is deleted and a new one created, unless aliases say it is the same resource", async () => {
        const { changes, after } = await beforeAfter("dev", (m) => {
            m.clusters[1].name = "north";
        });
        expect(byName(changes, "west-cluster", COMMAND).kind).toBe("delete");
        expect(byName(changes, "north-cluster", COMMAND).kind).toBe("create");
        expect(byName(changes, "mesh1-west-istiod").kind).toBe("delete");
        expect(byName(changes, "mesh1-north-istiod").kind).toBe("create");
        expect(byName(changes, "east-cluster", COMMAND).kind).toBe("same");
        // With an alias to its old name the Command is the same resource (its inputs may still change).
        const aliased = structuredClone(after);
        const cmd = resource(aliased, "north-cluster", COMMAND);
        const oldKey = cmd.key.replace(/::north-cluster$/, "::west-cluster");
        cmd.options.aliases = [oldKey];
        const before = await planOf("dev", meshOf("dev"));
        const withAlias = planChanges(before, aliased);
        const ch = byName(withAlias, "north-cluster", COMMAND);
        expect(ch.from).toBe(oldKey);
        expect(["same", "update", "replace"]).toContain(ch.kind);
        expect(withAlias.changes.some((c) => c.key === oldKey)).toBe(false);
    });

    it("writes changes.json and prints the summary after the mesh diff (npm run plan -- --against)", async () => {
        const out = tempDir();
        try {
            const first = await planStack("dev", out, { sim: { cannedTls: true } });
            expect(first.errors).toEqual([]);
            const old = path.join(out, "old.json");
            fs.copyFileSync(path.join(out, "dev", "plan.json"), old);
            const again = await planStack("dev", out, { sim: { cannedTls: true }, against: old });
            expect(again.errors).toEqual([]);
            const written = JSON.parse(fs.readFileSync(path.join(out, "dev", "changes.json"), "utf8")) as ChangePlan;
            expect(written.changed).toBe(false);
            expect(written.changes.length).toBe(first.planFile!.resources.length);
            const at = again.stdout.indexOf("change plan against");
            expect(at).toBeGreaterThan(again.stdout.indexOf("mesh-level diff"));
            expect(again.stdout.slice(at)).toMatch(
                /^change plan against \S+old\.json: \d+ same, 0 update, 0 replace \(0 delete-first\), 0 create, 0 delete/,
            );
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});
