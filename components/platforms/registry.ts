// The platforms, behind one registry. Validation, the cluster factory, the offline simulator, the
// benchmark model and the policy pack loop over this list; adding a platform is one folder under
// components/platforms/ that exports a `Platform` (types.ts), plus one line here.
import { eks } from "./eks";
import { existing } from "./existing";
import { gke } from "./gke";
import { kind } from "./kind";
import type { Platform } from "./types";

export const PLATFORMS: readonly Platform[] = [existing, gke, eks, kind];

export const PLATFORM_NAMES = PLATFORMS.map((p) => p.name) as [string, ...string[]];

export function platformOf(name: string | undefined): Platform | undefined {
    return PLATFORMS.find((p) => p.name === (name ?? "existing"));
}

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
