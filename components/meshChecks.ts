// Whole-config checks added after a security audit (issue 17), run by validateMeshConfig with the
// others, so stack config and `Mesh` args get them alike:
//   - values the mesh owns may not be set per cluster (clusters[].istio.values), and the mesh ID and
//     each cluster's ID may not be set through values at all: a cluster with another trust domain,
//     mesh ID or cluster ID splits the mesh (istiod accepts it and mTLS or discovery fails later);
//   - the root of trust's bounds: key sizes and lifetimes istiod, Go and the tls provider accept;
//   - provided trust: one intermediate per cluster, never the same one on two clusters.
import * as crypto from "node:crypto";
import { pemBlocks } from "./caBundle";
import { MULTIROOT_ENV, RENDERED } from "./istio";
import { isUndecryptedSecret } from "./secretPlaceholder";

type Say = (path: string, msg: string) => void;

/**
 * Settings that must be the same in every cluster (beyond global.meshID, global.network and
 * global.multiCluster.clusterName, which meshConfig.ts refuses at every level): refused in `clusters[].istio.values` (also under
 * `pilot.`, which the istiod chart merges over the top level), each with the mesh-level setting to use.
 * A trust domain that differs per cluster is the case this decides: SPIFFE identities of one cluster
 * would not match the other's authorization policies and peer checks, so a cluster with its own
 * trust domain is not part of this mesh. Migrating a trust domain is done mesh-wide with
 * `meshConfig.trustDomainAliases` (https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/).
 */
export const MESH_OWNED_VALUES: [string[], string][] = [
    [["meshConfig", "trustDomain"], "set it once for the whole mesh in mesh.istio.values.meshConfig.trustDomain"],
    [["meshConfig", "trustDomainAliases"], "set them once for the whole mesh in mesh.istio.values.meshConfig.trustDomainAliases"],
    [["meshConfig", "meshId"], "the mesh ID is mesh.meshId"],
    [["meshConfig", "defaultConfig", "meshId"], "the mesh ID is mesh.meshId"],
    [["global", "trustDomain"], "set it once for the whole mesh in mesh.istio.values.meshConfig.trustDomain"],
    [["global", "meshNetworks"], "networks are mesh.clusters[].network and mesh.networks"],
    [["env", RENDERED.clusterIdEnv], "the cluster ID is mesh.clusters[].name"],
    [["env", MULTIROOT_ENV], "root rotation sets it on every istiod (mesh.trust.rotation)"],
];

/** Values that name the mesh or a cluster: refused at the mesh level too (meshId and cluster IDs have their own settings). */
const IDENTITY_VALUES: [string[], string][] = [
    [["meshConfig", "meshId"], "the mesh ID is mesh.meshId"],
    [["meshConfig", "defaultConfig", "meshId"], "the mesh ID is mesh.meshId"],
    [["env", RENDERED.clusterIdEnv], "the cluster ID is mesh.clusters[].name"],
    [["env", MULTIROOT_ENV], "root rotation sets it on every istiod (mesh.trust.rotation)"],
];

function getPath(obj: unknown, path: string[]): unknown {
    let cur: unknown = obj;
    for (const k of path) {
        if (!cur || typeof cur !== "object" || Array.isArray(cur)) return undefined;
        cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
}

function refuseValues(values: unknown, at: string, list: [string[], string][], scope: string, say: Say): void {
    for (const [p, fix] of list) {
        for (const full of [p, ["pilot", ...p]]) {
            if (getPath(values, full) === undefined) continue;
            say(`${at}.${full.join(".")}`, `is owned by the mesh and may not be set ${scope}; remove it (${fix})`);
        }
    }
}

/**
 * The bounds of generated trust, and why:
 *   - rsaBits 3072..8192: Go's crypto/tls refuses any certificate in a peer's chain whose RSA key
 *     exceeds 8192 bits (defaultMaxRSAKeySize, crypto/tls/handshake_client.go; CVE-2023-29409), and
 *     istiod and its agents are Go; the root needs at least 3072 (the existing rule).
 *   - rootValidityDays 365..36500: a root must outlive the policy pack's expiry warning (180 days,
 *     components/rotation.ts) by a useful margin; above 100 years serves no rotation plan, and the tls
 *     provider computes NotAfter as NotBefore + time.Duration(hours) (int64 nanoseconds, which wraps
 *     after 106,751 days into a date in the past: terraform-provider-tls internal/provider/common_cert.go).
 *   - intermediateValidityDays 30..3650 (and below the root's): istiod clamps every workload
 *     certificate to its signing certificate's remaining life (security/pkg/pki/ca/ca.go minTTL), and
 *     an intermediate renews a third of its life before expiry; 30 days leaves ten of margin.
 */
export const TRUST_BOUNDS = {
    rsaBits: { min: 3072, max: 8192 },
    rootValidityDays: { min: 365, max: 36500 },
    intermediateValidityDays: { min: 30, max: 3650 },
    organizationLength: 64,
} as const;

function checkTrustBounds(trust: Record<string, unknown>, say: Say): void {
    const between = (k: keyof typeof TRUST_BOUNDS, unit: string, why: string) => {
        const v = trust[k];
        const b = TRUST_BOUNDS[k] as { min: number; max: number };
        if (typeof v !== "number" || !Number.isFinite(v)) return;
        if (v > b.max) say(`mesh.trust.${k}`, `${v} is above ${b.max} ${unit}; use ${b.min}–${b.max} (${why})`);
    };
    if ((trust.keyAlgorithm ?? "RSA") === "RSA")
        between(
            "rsaBits",
            "bits",
            "Go's TLS stack, which istiod and its agents run, refuses RSA keys above 8192 bits in any certificate of a chain",
        );
    between(
        "rootValidityDays",
        "days",
        "a root beyond 100 years serves no rotation plan, and the tls provider's NotAfter wraps after 106,751 days",
    );
    between("intermediateValidityDays", "days", "re-issue intermediates well inside the root's life: 1–2 years is usual");
    const root = trust.rootValidityDays;
    if (typeof root === "number" && root > 0 && root < TRUST_BOUNDS.rootValidityDays.min)
        say(
            "mesh.trust.rootValidityDays",
            `${root} days is too short for a root: the policy pack warns 180 days before it expires and a root never renews by itself ` +
                `(it is rotated in phases, docs/root-rotation.md); give it at least ${TRUST_BOUNDS.rootValidityDays.min} days (default 3650)`,
        );
    const inter = trust.intermediateValidityDays;
    if (typeof inter === "number" && inter > 0 && inter < TRUST_BOUNDS.intermediateValidityDays.min)
        say(
            "mesh.trust.intermediateValidityDays",
            `${inter} days is too short: istiod clamps every workload certificate to the intermediate's remaining life; ` +
                `give it at least ${TRUST_BOUNDS.intermediateValidityDays.min} days (default 730)`,
        );
    const org = trust.organization;
    if (typeof org === "string" && org.length > TRUST_BOUNDS.organizationLength)
        say(
            "mesh.trust.organization",
            `has ${org.length} characters; an organization name has at most ${TRUST_BOUNDS.organizationLength} (X.520 ub-organization-name, RFC 5280 appendix A)`,
        );
    if (typeof org === "string" && [...org].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
        say("mesh.trust.organization", "holds a control character (a line break, a tab…); give it as one line of text");
}

/** The intermediates of a provided bundle set: the same certificate (or key) on two clusters is one intermediate for both. */
function checkOneIntermediatePerCluster(key: string, set: unknown, say: Say): void {
    if (!set || typeof set !== "object") return;
    const seen = new Map<string, string>();
    for (const [cluster, b] of Object.entries(set as Record<string, unknown>)) {
        const pem = b && typeof b === "object" ? (b as { caCertPem?: unknown }).caCertPem : undefined;
        if (typeof pem !== "string" || isUndecryptedSecret(pem)) continue;
        const block = pemBlocks(pem).find((x) => x.type === "CERTIFICATE");
        if (!block) continue;
        let ids: string[];
        try {
            const cert = new crypto.X509Certificate(block.text);
            const spki = cert.publicKey.export({ type: "spki", format: "der" });
            ids = [`cert ${cert.fingerprint256}`, `key ${crypto.createHash("sha256").update(spki).digest("hex")}`];
        } catch {
            continue; // not a certificate: the bundle checks report it
        }
        for (const id of ids) {
            const other = seen.get(id);
            if (other !== undefined) {
                say(
                    `${key}.${cluster}`,
                    `has the same intermediate ${id.startsWith("key") ? "key" : "certificate"} as ${key}.${other}; every cluster needs ` +
                        `its own intermediate signed by the shared root, so that one cluster's key signs only for it and can be replaced ` +
                        `alone (npm run trust:init makes one per cluster)`,
                );
                break;
            }
            seen.set(id, cluster);
        }
    }
}

export interface HardeningInput {
    istioValues?: unknown;
    clusters: { istio?: { values?: unknown } }[];
    trust?: Record<string, unknown>;
    provided?: { caBundles?: unknown; newCaBundles?: unknown };
}

/** The audit's checks on a (possibly partial) config; every problem goes to `say` with its path. */
export function checkMeshHardening(c: HardeningInput, say: Say): void {
    refuseValues(c.istioValues, "mesh.istio.values", IDENTITY_VALUES, "through Helm values", say);
    c.clusters.forEach((cl, i) =>
        refuseValues(cl?.istio?.values, `mesh.clusters[${i}].istio.values`, MESH_OWNED_VALUES, "for one cluster", say),
    );
    if (c.trust && typeof c.trust === "object") checkTrustBounds(c.trust, say);
    if (c.trust?.mode === "provided") {
        checkOneIntermediatePerCluster("multicluster-mesh:caBundles", c.provided?.caBundles, say);
        checkOneIntermediatePerCluster("multicluster-mesh:newCaBundles", c.provided?.newCaBundles, say);
    }
}
