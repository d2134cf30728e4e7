// One root of trust for the whole mesh: a root CA and one intermediate CA per cluster that runs
// istiod, each bundle checked as istiod checks it before it can be written. Intermediates renew
// themselves under the same root; the root changes only through the staged rotation
// (components/rotation.ts, docs/root-rotation.md).
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renewBeforeDays, trustPhase, type TrustConfig } from "./meshConfig";
import { CaBundle, verifyCaBundle } from "./caBundle";
import { PHASES, rootBundle, rootExpiryFinding, certPems, type TrustPhase } from "./rotation";
import { ISTIOD_HOST } from "./istio";
import { componentType } from "./pulumiTypes";

export interface RootOfTrustArgs {
    trust: TrustConfig;
    /** The clusters that run istiod and so get an intermediate. */
    clusters: string[];
    /** `provided` mode: the root certificate and the per-cluster bundles from secret config (and, in a rotation, the new ones). */
    provided?: { rootCertPem: string; bundles: Record<string, CaBundle>; newRootCertPem?: string; newBundles?: Record<string, CaBundle> };
    /** The clock of the root-expiry check (tests). */
    now?: Date;
}

/**
 * What Istio's `tools/certs` makes: O=<org>, CN=Root CA for the root; O=<org>, CN=Intermediate CA,
 * L=<cluster> for each intermediate, with SAN istiod.istio-system.svc. `cert_signing`/`crl_signing`
 * give keyCertSign/cRLSign; no EKU is set, because a CA with EKUs lacking serverAuth fails Go's
 * x509 verify as istiod calls it (security/pkg/pki/util/keycertbundle.go at 1.30.3).
 *
 * pathlen: the tls provider copies `maxPathLength` into Go's `MaxPathLen` without `MaxPathLenZero`
 * (hashicorp/terraform-provider-tls internal/provider/common_cert.go), and Go's x509 then omits a
 * zero path length (crypto/x509 marshalBasicConstraints): `maxPathLength: 0` on an intermediate
 * means "unlimited", not `pathlen:0`. The same limit is expressed one level up instead: roots of a
 * rotation (generation 2 and later) carry `pathlen:1`, so nothing under an intermediate can act as
 * a CA. Generation 1 roots stay as they are: any input change would replace (re-key) the root.
 * istiod itself does not check the intermediate's pathlen (keycertbundle.go Verify).
 *
 * NotBefore: the provider sets it to the time of creation and has no input to back-date it
 * (common_cert.go `template.NotBefore = overridableTimeFunc()`). On a cluster whose clock is behind
 * the machine running `up`, a fresh intermediate is "not yet valid" there for the size of the skew:
 * Go's verify rejects it, so a starting istiod exits (CrashLoopBackOff until the clock passes
 * NotBefore) and a running istiod keeps its old bundle and logs "Failed to update new Plug-in CA
 * certs" (pilot/pkg/bootstrap/istio_ca.go handleEvent); the kubelet's next sync retries. Keep
 * node clocks synced (NTP); `npm run trust:init` back-dates its own certificates by an hour.
 */
const CA_USES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const HOURS_PER_DAY = 24;

interface Root {
    key: tls.PrivateKey;
    cert: tls.SelfSignedCert;
    generation: number;
}

export class RootOfTrust extends pulumi.ComponentResource {
    /** `root-cert.pem` as every cluster gets it: one root, or old + new during a rotation (public). */
    public readonly rootCertPem: pulumi.Output<string>;
    /** Per istiod cluster: the verified `cacerts` bundle. Secret as a whole (it holds the intermediate key). */
    public readonly bundles: Record<string, pulumi.Output<CaBundle>>;
    /** The rotation phase these bundles belong to ("none" outside a rotation). */
    public readonly phase: TrustPhase;

    constructor(name: string, args: RootOfTrustArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("trust", "RootOfTrust"), name, {}, opts);
        const t = args.trust;
        const phase = trustPhase(t);
        const shape = PHASES[phase];
        this.phase = phase;
        this.bundles = {};
        if (t.mode === "provided") {
            const p = args.provided;
            if (!p) throw new Error("RootOfTrust: provided mode needs the provided bundles");
            // Validated against their roots by validateMeshConfig before any resource was registered.
            const roots = rootBundle(phase, p.rootCertPem, p.newRootCertPem);
            this.rootCertPem = this.checkExpiry(pulumi.output(roots), phase, args.now);
            const set = shape.signer === "old" ? p.bundles : (p.newBundles ?? {});
            for (const c of args.clusters) {
                const b = set[c];
                if (!b) throw new Error(`RootOfTrust: no bundle for cluster ${c} signed by the ${shape.signer} root`);
                this.bundles[c] = pulumi.secret(this.rootCertPem.apply((r) => ({ ...b, rootCertPem: r })));
            }
            this.registerOutputs({ rootCertPem: this.rootCertPem, bundles: this.bundles });
            return;
        }

        const keyArgs = (): tls.PrivateKeyArgs =>
            // Explicit sizes and curves: the provider defaults are RSA 2048 and ECDSA P-224.
            t.keyAlgorithm === "RSA" ? { algorithm: "RSA", rsaBits: t.rsaBits } : { algorithm: "ECDSA", ecdsaCurve: t.ecdsaCurve };
        // `protect` makes any plan that would replace or delete a root fail loudly instead of silently
        // re-keying the mesh. Once its rotation has dropped it, the old root is unprotected, so that
        // finishing the rotation (removing trust.rotation) can delete it.
        const makeRoot = (generation: number, protect: boolean): Root => {
            const prefix = generation === 1 ? `${name}-root` : `${name}-root-r${generation}`;
            const rootOpts: pulumi.CustomResourceOptions = { parent: this, protect };
            const key = new tls.PrivateKey(`${prefix}-key`, keyArgs(), rootOpts);
            const cert = new tls.SelfSignedCert(
                `${prefix}-cert`,
                {
                    privateKeyPem: key.privateKeyPem,
                    subject: { organization: t.organization, commonName: generation === 1 ? "Root CA" : `Root CA ${generation}` },
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    allowedUses: CA_USES,
                    ...(generation > 1 ? { maxPathLength: 1 } : {}),
                    validityPeriodHours: t.rootValidityDays * HOURS_PER_DAY,
                    // The root never renews by itself: the provider would replace it, and every
                    // intermediate with it, on the first `up` inside the window (a one-step swap that
                    // istiod refuses; terraform-provider-tls common_cert.go). It rotates in phases.
                    earlyRenewalHours: 0,
                },
                rootOpts,
            );
            return { key, cert, generation };
        };
        const oldRoot = makeRoot(t.rootGeneration, t.protectRoot && phase !== "drop-old-root");
        const newGeneration = t.rotation?.newRootGeneration ?? t.rootGeneration + 1;
        const needsNew = shape.roots.includes("new") || shape.signer === "new";
        const newRoot = needsNew ? makeRoot(newGeneration, t.protectRoot) : undefined;
        const signer = shape.signer === "new" ? newRoot! : oldRoot;

        const roots = this.checkExpiry(
            pulumi
                .all([oldRoot.cert.certPem, newRoot ? newRoot.cert.certPem : pulumi.output(undefined)])
                .apply(([a, b]) => rootBundle(phase, a, b)),
            phase,
            args.now,
        );
        this.rootCertPem = roots;

        // Intermediates renew themselves: `earlyRenewalHours` makes the provider mark the certificate
        // ready for renewal that long before it expires, and the next `up` replaces it (same key, same
        // root); cacerts is updated in place and istiod hot-reloads it. Bumping
        // trust.intermediateGeneration re-issues them all at once with new keys.
        const renewHours = renewBeforeDays(t) * HOURS_PER_DAY;
        const gen = t.intermediateGeneration > 1 ? `-g${t.intermediateGeneration}` : "";
        const rootTag = signer.generation > 1 ? `-r${signer.generation}` : "";
        for (const cluster of args.clusters) {
            const base = `${name}-${cluster}${rootTag}${gen}`;
            const key = new tls.PrivateKey(`${base}-intermediate-key`, keyArgs(), { parent: this });
            const csr = new tls.CertRequest(
                `${base}-intermediate-csr`,
                {
                    privateKeyPem: key.privateKeyPem,
                    subject: { organization: t.organization, commonName: "Intermediate CA", locality: cluster },
                    dnsNames: [ISTIOD_HOST],
                },
                { parent: this },
            );
            const cert = new tls.LocallySignedCert(
                `${base}-intermediate-cert`,
                {
                    certRequestPem: csr.certRequestPem,
                    caPrivateKeyPem: signer.key.privateKeyPem,
                    caCertPem: signer.cert.certPem,
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    allowedUses: CA_USES,
                    validityPeriodHours: t.intermediateValidityDays * HOURS_PER_DAY,
                    earlyRenewalHours: renewHours,
                },
                { parent: this },
            );
            this.bundles[cluster] = pulumi.secret(
                pulumi
                    .all([cert.certPem, key.privateKeyPem, roots, signer.cert.certPem])
                    .apply(([caCertPem, caKeyPem, rootsPem, signerPem]) => {
                        const bundle = assembleBundle(caCertPem, caKeyPem, rootsPem, signerPem);
                        const problems = verifyCaBundle(bundle);
                        // Fail the deploy here rather than let istiod crash-loop on it.
                        if (problems.length > 0)
                            throw new Error(
                                `the cacerts bundle for cluster ${cluster} would be rejected by istiod:\n  - ${problems.join("\n  - ")}`,
                            );
                        return bundle;
                    }),
            );
        }
        this.registerOutputs({ rootCertPem: this.rootCertPem, bundles: this.bundles });
    }

    /** Under 30 days left (outside a rotation) the deploy fails; under 180 it warns. Both name the rotation procedure. */
    private checkExpiry(roots: pulumi.Output<string>, phase: TrustPhase, now: Date | undefined): pulumi.Output<string> {
        return roots.apply((pem) => {
            const finding = rootExpiryFinding(certPems(pem), phase, now ?? new Date());
            if (finding.level === "fail") throw new Error(finding.message);
            if (finding.level === "warn") void pulumi.log.warn(finding.message, this);
            return pem;
        });
    }
}

/**
 * `cert-chain.pem` is the intermediate followed by the root that signed it, as Istio's Makefile
 * builds it; `root-cert.pem` is every trusted root (one, or two during a rotation).
 */
export function assembleBundle(caCertPem: string, caKeyPem: string, rootCertPem: string, signerRootPem: string = rootCertPem): CaBundle {
    const pem = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
    return {
        caCertPem: pem(caCertPem),
        caKeyPem: pem(caKeyPem),
        rootCertPem: pem(rootCertPem),
        certChainPem: pem(caCertPem) + pem(signerRootPem),
    };
}
