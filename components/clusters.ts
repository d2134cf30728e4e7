// Build every cluster of the mesh behind the one MeshCluster interface: each platform of the
// registry builds its own clusters with its builder (components/platforms/<name>/cluster.ts), the
// only code that loads a cloud SDK. The SDKs are optional peer dependencies of the library
// (package.json): a mesh of `existing` clusters needs none, and a platform whose SDK is missing says so.
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError, LoadedConfig } from "./meshConfig";
import type { PreviousIdentity } from "./platforms/identity";
import type { MeshCluster } from "./meshCluster";
import { PLATFORMS } from "./platforms/registry";
import type { Platform, PlatformBuilder } from "./platforms/types";

/** The platform's builder, or a ConfigError naming the SDK to install. */
export function loadBuilder(platform: Platform, at: string): PlatformBuilder {
    try {
        return platform.builder();
    } catch (e) {
        const missing = platform.sdks.find((sdk) => (e as { code?: string }).code === "MODULE_NOT_FOUND" && String(e).includes(sdk));
        if (!missing) throw e;
        throw new ConfigError([
            `${at}.platform: ${platform.name} clusters are built with ${missing}, which is not installed; install it ` +
                `(npm install ${missing}, the version in this package's peerDependencies)`,
        ]);
    }
}

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
        clusters: config.mesh.clusters.filter((c) => c.platform === platform.name),
    }))
        .filter(({ clusters }) => clusters.length > 0)
        .map((p) => ({ ...p, builder: loadBuilder(p.platform, at(p.clusters[0].name)) }));
    const problems = byPlatform.flatMap(({ builder, clusters }) =>
        builder.preflight ? builder.preflight({ meshId, clusters, resolved: config.kubeconfigs, previous }, at) : [],
    );
    if (problems.length > 0) throw new ConfigError(problems);
    for (const { builder, clusters } of byPlatform) {
        Object.assign(out, builder.create({ meshId, clusters, resolved: config.kubeconfigs, previous, opts }));
    }
    // Keep the config's order (outputs and plans list clusters as the user wrote them).
    return Object.fromEntries(config.mesh.clusters.map((c) => [c.name, out[c.name]]));
}
