// How big a mesh the offline plan takes on, decided from the config before the program runs. The
// plan registers every resource under the mock runtime and keeps them all in memory; its cost grows
// with the resource count, which the remote-secret matrix dominates (multi-primary: N·(N−1)
// remote secrets, and as many reader tokens with the default `perReader`). Measured here
// (offline/bench, one process, 2 cores): 50 clusters multi-primary with perSource tokens are 3,254
// resources, 5.9 s and 840 MB (bench/results.md); 100 clusters multi-primary with perReader tokens
// are 21,304 resources, 191 s and 3.7 GB, and 200 would need about four times that. 200 clusters
// primary-remote are 1,810 resources, 21 s and 610 MB. So the plan refuses, early and with the
// reason, a mesh estimated above MAX_PLAN_RESOURCES.
import { remoteSecretPairs } from "../components/istio";

/** The most resources the offline plan registers (about 2 GB of memory). */
export const MAX_PLAN_RESOURCES = 10_000;

/**
 * An upper estimate of what the program registers: per cluster about 15 resources (cluster,
 * provider, namespace, cacerts, releases, gateway objects, trust), one remote Secret per pair, and
 * one reader token per pair (`perReader`) or per source cluster (`perSource`). Exact for
 * multi-primary (N² + 15·N + 4 with perSource, bench/results.md); above it for primary-remote.
 */
export function estimatedResources(mesh: unknown): { clusters: number; pairs: number; tokens: number; resources: number } | undefined {
    if (!mesh || typeof mesh !== "object") return undefined;
    const m = mesh as { clusters?: unknown; remoteSecrets?: { tokens?: unknown; tokenPerReader?: unknown } };
    if (!Array.isArray(m.clusters)) return undefined;
    const clusters = m.clusters
        .filter((c): c is Record<string, unknown> => !!c && typeof c === "object")
        .map((c, i) => ({ name: typeof c.name === "string" ? c.name : `#${i}`, role: c.role === "remote" ? "remote" : "primary" }));
    const pairs = remoteSecretPairs(clusters);
    const perSource = m.remoteSecrets?.tokens === "perSource" || m.remoteSecrets?.tokenPerReader === false;
    const tokens = perSource ? new Set(pairs.map((p) => p.source)).size : pairs.length;
    return { clusters: clusters.length, pairs: pairs.length, tokens, resources: 15 * clusters.length + pairs.length + tokens + 4 };
}

/** Why the offline plan will not take on this stack's mesh, or undefined. */
export function planSizeProblem(config: Record<string, unknown>): string | undefined {
    const e = estimatedResources(config["multicluster-mesh:mesh"]);
    if (!e || e.resources <= MAX_PLAN_RESOURCES) return undefined;
    return (
        `multicluster-mesh:mesh.clusters: ${e.clusters} clusters make about ${e.resources.toLocaleString("en-US")} resources ` +
        `(${e.pairs.toLocaleString("en-US")} remote secrets and ${e.tokens.toLocaleString("en-US")} reader tokens); the offline plan ` +
        `takes at most ${MAX_PLAN_RESOURCES.toLocaleString("en-US")} (about 2 GB of memory: 100 multi-primary clusters, 21,304 ` +
        "resources, took 3.7 GB and 191 s on two cores), so it stops before running the program. Plan a smaller mesh, set " +
        "remoteSecrets.tokens: perSource (one reader token per source cluster), or use primary-remote, whose remote secrets " +
        "grow with the number of primaries only"
    );
}
