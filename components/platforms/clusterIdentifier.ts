// The text of a cluster's Kubernetes provider `clusterIdentifier` (provider.ts builds the provider
// with it and says why it matters): `multicluster-mesh/<platform>/<cluster>/<instance>`. Pure, so
// the offline tools, the simulator and the policy pack can read it without loading any SDK.
import * as crypto from "node:crypto";
import { PROJECT } from "../pulumiTypes";

/** A short, stable digest of what identifies one incarnation of a cluster (public facts only). */
export function instanceDigest(...parts: string[]): string {
    return crypto.createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 16);
}

/** The identifier's text once its instance is known. */
export function clusterIdentifierText(platform: string, cluster: string, instance: string): string {
    return `${PROJECT}/${platform}/${cluster}/${instance}`;
}

export function parseClusterIdentifier(id: unknown): { platform: string; cluster: string; instance: string } | undefined {
    if (typeof id !== "string" || !id.startsWith(`${PROJECT}/`)) return undefined;
    const m = /^([a-z0-9-]+)\/([a-z0-9-]+)\/(.*)$/.exec(id.slice(PROJECT.length + 1));
    return m ? { platform: m[1], cluster: m[2], instance: m[3] } : undefined;
}
