// Which incarnation of an `existing` cluster a provider talks to: the `instance` part of its
// clusterIdentifier (provider.ts), decided here, purely, from the kubeconfig and the previous run.
//
// Why it matters: pulumi-kubernetes replaces a provider exactly when its clusterIdentifier changes
// (provider/pkg/provider/provider.go, DiffConfig, at the v4.25.0 source and since), and the engine
// then replaces every object that provider manages (pkg/resource/deploy/step_generator.go:
// "If the resource's provider reference changed, the resource must be replaced"). Onto the same
// cluster that is a disaster: a create-first replacement of a same-named object adopts the live
// object and the delete of the "old" one then removes it (provider v4.25.0 and earlier: "we currently
// always upsert the object", provider/pkg/await/await.go), or, since pulumi-kubernetes#4278 (4.29+),
// the create fails with AlreadyExists and the stack is stuck. The real engine showed both
// (docs/real-engine.md).
//
// So the identity follows the cluster, not the spelling of its address:
//   - derived from the API server's CA (its certificates, parsed, so a re-encoded PEM is the same CA):
//     respelling the server, rotating credentials or renaming the context leaves it alone;
//   - sticky: while the CA is the one the previous run recorded, the previous identity stays, so a
//     change of this rule (or of how 0.2.x derived it) never replaces a provider;
//   - a stack last deployed by 0.2.x recorded no identity: it gets the value 0.2.x derived (server and
//     CA text), so the upgrade itself replaces nothing;
//   - `identity:` pins it; pinning a new value while the CA is the one recorded would replace the
//     provider onto the same cluster: refused before anything runs, with the way out.
import * as crypto from "node:crypto";
import { instanceDigest } from "./clusterIdentifier";

/** What the previous run exported for one cluster (`clusters.<name>` in the stack outputs). */
export interface PreviousIdentity {
    /** The instance its provider was built with; absent for a stack last deployed by 0.2.x. */
    providerIdentity?: string;
    /** SHA-256 of the API server's CA certificates, as `caSha256` below; absent when unknown. */
    apiServerCaSha256?: string;
}

/** SHA-256 (hex) over the DER of every certificate in a PEM bundle, in order; undefined when none parses. */
export function caSha256(pem: string): string | undefined {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const ders: Buffer[] = [];
    for (const b of blocks) {
        try {
            ders.push(new crypto.X509Certificate(b).raw);
        } catch {
            return undefined;
        }
    }
    if (ders.length === 0) return undefined;
    const h = crypto.createHash("sha256");
    for (const d of ders) h.update(d);
    return h.digest("hex");
}

/** The CA of a kubeconfig cluster entry: `certificate-authority-data` (base64 PEM) or the file it names, read by `readFile`. */
export function kubeconfigCaPem(
    caData: string | undefined,
    caFile: string | undefined,
    readFile: (p: string) => string | undefined,
): string | undefined {
    if (caData) {
        try {
            return Buffer.from(caData, "base64").toString("utf8");
        } catch {
            return undefined;
        }
    }
    return caFile ? readFile(caFile) : undefined;
}

export interface IdentityInput {
    /** Config path of the cluster entry, for messages (`mesh.clusters[1]`). */
    at: string;
    cluster: string;
    /** `identity:` from config. */
    pinned?: string;
    /** The API server's CA fingerprint (caSha256), when the kubeconfig is at hand and names a CA. */
    caSha256?: string;
    /** The server URL of the kubeconfig context (or apiServer), for the fallback without a CA. */
    server: string;
    /** What 0.2.x used: `certificate-authority-data` or `certificate-authority` as written, or "". */
    legacyCaText: string;
    /** The previous run's record of this cluster; undefined when the cluster is new (or the stack is). */
    previous?: PreviousIdentity;
}

export type IdentityDecision = { ok: true; instance: string; why: string } | { ok: false; problem: string };

/** The instance of one existing cluster's provider (see the comment at the top). */
export function decideIdentity(i: IdentityInput): IdentityDecision {
    const derived = i.caSha256 ? `ca-${i.caSha256.slice(0, 16)}` : `server-${instanceDigest(i.server)}`;
    const prev = i.previous;
    const sameCa = prev?.apiServerCaSha256 !== undefined && i.caSha256 !== undefined && prev.apiServerCaSha256 === i.caSha256;
    if (i.pinned !== undefined) {
        if (prev?.providerIdentity !== undefined && prev.providerIdentity !== i.pinned && sameCa) {
            return {
                ok: false,
                problem:
                    `${i.at}.identity: "${i.pinned}" would replace the provider of cluster ${i.cluster} (it was "${prev.providerIdentity}"), ` +
                    `but its API server has the same CA (sha256 ${i.caSha256!.slice(0, 16)}…): it is the same cluster, and replacing the provider ` +
                    `re-creates every object of the mesh in it (create-first: the objects are lost, or the stack is stuck on AlreadyExists). ` +
                    `Keep the provider: set identity: "${prev.providerIdentity}", or remove identity. If the cluster was rebuilt with the same CA, ` +
                    `keep that identity and run pulumi refresh, then pulumi up: refresh drops the objects that are gone, up re-creates them`,
            };
        }
        return { ok: true, instance: i.pinned, why: "pinned by identity" };
    }
    if (prev?.providerIdentity !== undefined) {
        if (sameCa) return { ok: true, instance: prev.providerIdentity, why: "same API server CA as the previous run" };
        return {
            ok: true,
            instance: derived,
            why: i.caSha256 ? "the API server's CA changed: a new cluster" : "derived from the server (the kubeconfig names no CA)",
        };
    }
    if (prev !== undefined) {
        // Deployed by 0.2.x, which recorded no identity: what it derived, so the upgrade replaces nothing.
        return {
            ok: true,
            instance: instanceDigest(i.server, i.legacyCaText),
            why: "as 0.2.x derived it (the previous run recorded no identity)",
        };
    }
    return {
        ok: true,
        instance: derived,
        why: i.caSha256 ? "derived from the API server's CA" : "derived from the server (the kubeconfig names no CA)",
    };
}
