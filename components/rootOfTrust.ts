// One root of trust for the whole mesh: a root CA and one intermediate CA per cluster that runs
// istiod (security-bar M2), each bundle checked as istiod checks it before it can be written.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { TrustConfig } from "./meshConfig";
import { CaBundle, verifyCaBundle } from "./caBundle";
import { ISTIOD_HOST } from "./istio";

export interface RootOfTrustArgs {
    trust: TrustConfig;
    /** The clusters that run istiod and so get an intermediate. */
    clusters: string[];
    /** `provided` mode: the root certificate and the per-cluster bundles from secret config. */
    provided?: { rootCertPem: string; bundles: Record<string, CaBundle> };
}

/**
 * What Istio's `tools/certs` makes (istio-multicluster.md §7.1): O=<org>, CN=Root CA for the root;
 * O=<org>, CN=Intermediate CA, L=<cluster> for each intermediate, with SAN istiod.istio-system.svc.
 * `cert_signing`/`crl_signing` give keyCertSign/cRLSign; no EKU is set, because a CA with EKUs
 * lacking serverAuth fails istiod's Go verify (security-bar §3.4). The tls provider cannot emit
 * `pathlen:0` (maxPathLength 0 means "unset", security-bar §3.4), and istiod does not require it.
 */
const CA_USES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const HOURS_PER_DAY = 24;

export class RootOfTrust extends pulumi.ComponentResource {
    /** The root certificate (public). */
    public readonly rootCertPem: pulumi.Output<string>;
    /** Per istiod cluster: the verified `cacerts` bundle. Secret as a whole (it holds the intermediate key). */
    public readonly bundles: Record<string, pulumi.Output<CaBundle>>;

    constructor(name: string, args: RootOfTrustArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:trust:RootOfTrust", name, {}, opts);
        const t = args.trust;
        this.bundles = {};
        if (t.mode === "provided") {
            if (!args.provided) throw new Error("RootOfTrust: provided mode needs the provided bundles");
            // Validated against the root by config.ts before any resource was registered.
            this.rootCertPem = pulumi.output(args.provided.rootCertPem);
            for (const c of args.clusters) this.bundles[c] = pulumi.secret(args.provided.bundles[c]);
            this.registerOutputs({ rootCertPem: this.rootCertPem });
            return;
        }

        const keyArgs = (): tls.PrivateKeyArgs =>
            // Explicit sizes and curves: the provider defaults are RSA 2048 and ECDSA P-224 (security-bar §1.2).
            t.keyAlgorithm === "RSA" ? { algorithm: "RSA", rsaBits: t.rsaBits } : { algorithm: "ECDSA", ecdsaCurve: t.ecdsaCurve };
        // `protect` makes any plan that would replace or delete the root fail loudly instead of
        // silently re-keying the mesh (security-bar M5). A throwaway dev stack may opt out.
        const rootOpts: pulumi.CustomResourceOptions = { parent: this, protect: t.protectRoot };
        const rootKey = new tls.PrivateKey(`${name}-root-key`, keyArgs(), rootOpts);
        const rootCert = new tls.SelfSignedCert(
            `${name}-root-cert`,
            {
                privateKeyPem: rootKey.privateKeyPem,
                subject: { organization: t.organization, commonName: "Root CA" },
                isCaCertificate: true,
                setSubjectKeyId: true,
                allowedUses: CA_USES,
                validityPeriodHours: t.rootValidityDays * HOURS_PER_DAY,
                // No early renewal: the provider would otherwise plan a replacement of the root,
                // and of every intermediate with it, on the first `up` inside the window
                // (terraform-provider-tls common_cert.go; security-bar §1.7 "naive swap").
                earlyRenewalHours: 0,
            },
            rootOpts,
        );
        this.rootCertPem = rootCert.certPem;

        // Renewal is an explicit act: bumping trust.intermediateGeneration names new resources,
        // which replace the old intermediates (same root, so istiod hot-reloads them, §7.4).
        const gen = t.intermediateGeneration > 1 ? `-g${t.intermediateGeneration}` : "";
        for (const cluster of args.clusters) {
            const base = `${name}-${cluster}${gen}`;
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
                    caPrivateKeyPem: rootKey.privateKeyPem,
                    caCertPem: rootCert.certPem,
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    allowedUses: CA_USES,
                    validityPeriodHours: t.intermediateValidityDays * HOURS_PER_DAY,
                    earlyRenewalHours: 0,
                },
                { parent: this },
            );
            this.bundles[cluster] = pulumi.secret(
                pulumi.all([cert.certPem, key.privateKeyPem, rootCert.certPem]).apply(([caCertPem, caKeyPem, rootCertPem]) => {
                    const bundle = assembleBundle(caCertPem, caKeyPem, rootCertPem);
                    const problems = verifyCaBundle(bundle);
                    // Fail the deploy here rather than let istiod crash-loop on it (security-bar M4).
                    if (problems.length > 0) throw new Error(`the cacerts bundle for cluster ${cluster} would be rejected by istiod:\n  - ${problems.join("\n  - ")}`);
                    return bundle;
                }),
            );
        }
        this.registerOutputs({ rootCertPem: this.rootCertPem });
    }
}

/** `cert-chain.pem` is the intermediate followed by the root, as Istio's Makefile builds it (§7.1). */
export function assembleBundle(caCertPem: string, caKeyPem: string, rootCertPem: string): CaBundle {
    const pem = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
    return { caCertPem: pem(caCertPem), caKeyPem: pem(caKeyPem), rootCertPem: pem(rootCertPem), certChainPem: pem(caCertPem) + pem(rootCertPem) };
}
