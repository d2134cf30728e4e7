// Build every cluster of the mesh behind the one MeshCluster interface: each platform of the
// registry builds its own clusters (components/platforms/<name>/).
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError, LoadedConfig } from "./meshConfig";
import type { PreviousIdentity } from "./platforms/identity";
import type { MeshCluster } from "./meshCluster";
import { PLATFORMS } from "./platforms/registry";
import type { PlatformCluster } from "./platforms/types";

/**
 * Build every cluster. `previous`: what the stack's previous run recorded of each cluster's provider
 * identity (its `clusters` output; components/platforms/identity.ts). A change that would replace a
 * provider onto the same cluster throws a ConfigError before any resource is registered.
 */
export function createClusters(
    meshId: string,
    config: LoadedConfig,
    opts?: pulumi.ComponentResourceOptions,
    previous?: Record<string, PreviousIdentity>,
): Record<string, MeshCluster> {
    const out: Record<string, MeshCluster> = {};
    const at = (name: string) => `mesh.clusters[${config.mesh.clusters.findIndex((c) => c.name === name)}]`;
    const byPlatform = PLATFORMS.map((platform) => ({
        platform,
        clusters: config.mesh.clusters.filter((c) => c.platform === platform.name) as PlatformCluster[],
    }));
    const problems = byPlatform.flatMap(({ platform, clusters }) =>
        clusters.length > 0 && platform.preflight
            ? platform.preflight({ meshId, clusters, resolved: config.kubeconfigs, previous }, at)
            : [],
    );
    if (problems.length > 0) throw new ConfigError(problems);
    for (const { platform, clusters } of byPlatform) {
        if (clusters.length === 0) continue;
        Object.assign(out, platform.create({ meshId, clusters, resolved: config.kubeconfigs, previous, opts }));
    }
    // Keep the config's order (outputs and plans list clusters as the user wrote them).
    return Object.fromEntries(config.mesh.clusters.map((c) => [c.name, out[c.name]]));
}
