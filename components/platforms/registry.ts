// The platforms, behind one registry. Validation, the cluster factory, the offline simulator, the
// benchmark model and the policy pack loop over this list; adding a platform is one folder under
// components/platforms/ that exports a `Platform` (types.ts), plus one line in the list below
// (CONTRIBUTING.md, "Adding a platform"; test/registry.test.ts plans a mesh on each, and on a
// throwaway platform from test/fixtures/platforms/ added the same way).
import { eks } from "./eks";
import { existing } from "./existing";
import { gke } from "./gke";
import { kind } from "./kind";
import type { Platform } from "./types";

export interface Registry {
    PLATFORMS: readonly Platform[];
    PLATFORM_NAMES: [string, ...string[]];
    platformOf(name: string | undefined): Platform | undefined;
}

/** The registry's lookups over a list of platforms (the first is the default, `existing`). */
export function registryOf(platforms: readonly Platform[]): Registry {
    return {
        PLATFORMS: platforms,
        PLATFORM_NAMES: platforms.map((p) => p.name) as [string, ...string[]],
        platformOf: (name) => platforms.find((p) => p.name === (name ?? "existing")),
    };
}

export const { PLATFORMS, PLATFORM_NAMES, platformOf } = registryOf([existing, gke, eks, kind]);

/** Each cluster's position among the clusters of its platform, in config order (kind's subnets and address slices). */
export function platformIndexes(clusters: { platform?: string }[]): number[] {
    const seen = new Map<string, number>();
    return clusters.map((c) => {
        const p = c.platform ?? "existing";
        const i = seen.get(p) ?? 0;
        seen.set(p, i + 1);
        return i;
    });
}

export type { Platform } from "./types";
