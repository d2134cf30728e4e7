// Build every cluster of the mesh behind the one MeshCluster interface: each platform of the
// registry builds its own clusters (components/platforms/<name>/).
import type * as pulumi from "@pulumi/pulumi";
import type { LoadedConfig } from "./meshConfig";
import type { MeshCluster } from "./meshCluster";
import { PLATFORMS } from "./platforms/registry";
import type { PlatformCluster } from "./platforms/types";

export function createClusters(meshId: string, config: LoadedConfig, opts?: pulumi.ComponentResourceOptions): Record<string, MeshCluster> {
    const out: Record<string, MeshCluster> = {};
    for (const platform of PLATFORMS) {
        const clusters = config.mesh.clusters.filter((c) => c.platform === platform.name) as PlatformCluster[];
        if (clusters.length === 0) continue;
        Object.assign(out, platform.create({ meshId, clusters, resolved: config.kubeconfigs, opts }));
    }
    // Keep the config's order (outputs and plans list clusters as the user wrote them).
    return Object.fromEntries(config.mesh.clusters.map((c) => [c.name, out[c.name]]));
}
