// A 1.30 → 1.31 revision-based upgrade, phase by phase, as stack files (docs/upgrades.md): the two
// meshes the issue names (multi-primary on two networks, primary-remote), each phase one stack of
// its own in one folder, planned against the phase before. The charts are the real ones of both
// minors, from local folders (e2e/charts.ts findCharts: ISTIO_CHARTS_DIR or
// ~/.cache/multicluster-mesh/charts/istio-<version>); without them the tests that render are skipped.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { findCharts } from "../../e2e/charts";
import { ROOT } from "./planRun";

/** The two versions whose charts are on the development machine: the running 1.30 and the 1.31 candidate. */
export const FROM = "1.30.3";
export const TO = "1.31.0-rc.0";
export const NEW_REV = "1-31-0-rc-0";

export type Topology = "multi-primary" | "primary-remote";

/** The charts of both versions, or why the walk cannot render (one line). */
export function walkCharts(): { ok: true; from: string; to: string } | { ok: false; why: string } {
    const a = findCharts(FROM);
    const b = findCharts(TO);
    if (!a.ok) return { ok: false, why: a.why };
    if (!b.ok) return { ok: false, why: b.why };
    return { ok: true, from: a.dir, to: b.dir };
}

export interface Phase {
    /** The stack name (p0 … p6) and what the phase is called in docs/upgrades.md. */
    stack: string;
    title: string;
    istio: Record<string, unknown>;
}

/** The clusters of a walk, in the order their tags move, and their stack config entries. */
export interface WalkClusters {
    order: string[];
    clusters: Record<string, unknown>[];
}

function clustersOf(topology: Topology): WalkClusters {
    if (topology === "multi-primary")
        return {
            order: ["east", "west"],
            clusters: [
                {
                    name: "east",
                    network: "net-east",
                    platform: "kind",
                    kind: { podSubnet: "10.10.0.0/16", serviceSubnet: "10.255.10.0/24" },
                },
                {
                    name: "west",
                    network: "net-west",
                    platform: "kind",
                    kind: { podSubnet: "10.20.0.0/16", serviceSubnet: "10.255.20.0/24" },
                },
            ],
        };
    const kubeconfig = path.join(ROOT, "examples", "kubeconfig.example.yaml");
    return {
        order: ["west", "east"],
        clusters: [
            { name: "west", network: "network1", role: "primary", kubeconfig, context: "west", apiServer: "https://10.0.0.10:6443" },
            {
                name: "east",
                network: "network1",
                role: "remote",
                primary: "west",
                kubeconfig,
                context: "east",
                apiServer: "https://10.0.1.10:6443",
            },
        ],
    };
}

/** Every phase of the walk, in order: before, install, tags one cluster at a time, gateways, remove-old, finish. */
export function phases(topology: Topology, charts: { from: string; to: string }, walk: WalkClusters = clustersOf(topology)): Phase[] {
    const { order } = walk;
    const running = { version: FROM, repository: charts.from };
    const upgrade = (u: Record<string, unknown>) => ({ ...running, upgrade: { version: TO, repository: charts.to, order, ...u } });
    return [
        { stack: "p0", title: "before: 1.30, no revision", istio: running },
        { stack: "p1", title: "install", istio: upgrade({ phase: "install" }) },
        { stack: "p2", title: `tags: ${order[0]}`, istio: upgrade({ phase: "tags", moved: [order[0]] }) },
        { stack: "p3", title: `tags: ${order.join(", ")}`, istio: upgrade({ phase: "tags", moved: order }) },
        { stack: "p4", title: "gateways", istio: upgrade({ phase: "gateways" }) },
        { stack: "p5", title: "remove-old", istio: upgrade({ phase: "remove-old" }) },
        { stack: "p6", title: "finish", istio: { version: TO, revision: NEW_REV, repository: charts.to } },
    ];
}

/** The stack config of one phase. */
export function stackConfig(
    topology: Topology,
    istio: Record<string, unknown>,
    walk: WalkClusters = clustersOf(topology),
): Record<string, unknown> {
    return {
        config: {
            "multicluster-mesh:mesh": {
                meshId: "mesh1",
                topology,
                istio,
                trust: { mode: "generated", keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false },
                clusters: walk.clusters,
            },
        },
    };
}

/** A stack folder (Pulumi.yaml and one Pulumi.<phase>.yaml per phase). */
export function writeWalk(
    dir: string,
    topology: Topology,
    charts: { from: string; to: string },
    walk: WalkClusters = clustersOf(topology),
): Phase[] {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const all = phases(topology, charts, walk);
    for (const p of all) fs.writeFileSync(path.join(dir, `Pulumi.${p.stack}.yaml`), YAML.stringify(stackConfig(topology, p.istio, walk)));
    return all;
}
