// Pure validation of an Istio plug-in CA bundle, done the way istiod does it when it loads
// `cacerts` (istio-multicluster.md §7.3, security-bar.md §1.3), plus the OpenSSL-style checks that
// istiod skips but Envoy enforces later (keyCertSign, pathlen). istiod crash-loops on a bad bundle
// at start and silently keeps the old one on hot reload, so the program refuses to write one.
import * as crypto from "node:crypto";
// @peculiar/x509 builds on tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

/** The four files of Istio's `cacerts` Secret. `caKeyPem` is secret: never log it. */
export interface CaBundle {
    caCertPem: string;
    caKeyPem: string;
    rootCertPem: string;
    certChainPem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
/** The key encodings istiod accepts (`ParsePemEncodedKey`). */
const ACCEPTED_KEY_BLOCKS = new Set(["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"]);
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_ANY_EKU = "2.5.29.37.0";

export function pemBlocks(pem: string): { type: string; text: string }[] {
    const out: { type: string; text: string }[] = [];
    for (const m of pem.matchAll(PEM_BLOCK)) out.push({ type: m[1], text: m[0] });
    return out;
}

function parseCerts(pem: string, what: string, problems: string[]): crypto.X509Certificate[] {
    const certs: crypto.X509Certificate[] = [];
    const blocks = pemBlocks(pem);
    if (blocks.length === 0) problems.push(`${what} holds no PEM block`);
    for (const [i, b] of blocks.entries()) {
        if (b.type !== "CERTIFICATE") {
            problems.push(`${what} block ${i + 1} is "${b.type}", not a CERTIFICATE`);
            continue;
        }
        try {
            certs.push(new crypto.X509Certificate(b.text));
        } catch (e) {
            problems.push(`${what} block ${i + 1} is not a valid X.509 certificate (${(e as Error).message})`);
        }
    }
    return certs;
}

function describe(c: crypto.X509Certificate): string {
    return `"${c.subject.replace(/\n/g, ", ")}"`;
}

function sameCert(a: crypto.X509Certificate, b: crypto.X509Certificate): boolean {
    return a.raw.equals(b.raw);
}

function issuedBy(child: crypto.X509Certificate, issuer: crypto.X509Certificate): boolean {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

interface Extensions {
    /** basicConstraints CA flag, as Go reads it (node's X509Certificate.ca also demands keyCertSign). */
    isCA: boolean;
    pathLength?: number;
    keyUsage?: number;
    eku?: string[];
}

function extensions(c: crypto.X509Certificate): Extensions {
    const cert = new x509.X509Certificate(c.raw);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    return {
        isCA: bc?.ca === true,
        pathLength: bc?.pathLength,
        keyUsage: ku?.usages,
        eku: eku?.usages.map((u) => String(u)),
    };
}

/**
 * Check a bundle as istiod would before it is written to `cacerts`. Returns one line per problem;
 * an empty list means istiod will accept the bundle and the data plane can verify what it signs.
 */
export function verifyCaBundle(bundle: CaBundle, now: Date = new Date()): string[] {
    const problems: string[] = [];
    for (const k of ["caCertPem", "caKeyPem", "rootCertPem", "certChainPem"] as const) {
        if (typeof bundle[k] !== "string" || bundle[k].trim() === "") problems.push(`${k} is empty (istiod: "incomplete signing CA bundle detected")`);
    }
    if (problems.length) return problems;

    const caCerts = parseCerts(bundle.caCertPem, "ca-cert.pem", problems);
    const roots = parseCerts(bundle.rootCertPem, "root-cert.pem", problems);
    const chain = parseCerts(bundle.certChainPem, "cert-chain.pem", problems);
    const caCert = caCerts[0];

    // The key: accepted encodings only, and it must belong to ca-cert.pem (tls.X509KeyPair).
    const keyBlocks = pemBlocks(bundle.caKeyPem);
    let key: crypto.KeyObject | undefined;
    if (keyBlocks.length !== 1 || !ACCEPTED_KEY_BLOCKS.has(keyBlocks[0].type)) {
        problems.push(`ca-key.pem must hold exactly one RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY block (istiod cannot parse anything else)`);
    } else {
        try {
            key = crypto.createPrivateKey(keyBlocks[0].text);
        } catch {
            problems.push("ca-key.pem does not parse as a private key");
        }
    }
    if (!caCert || roots.length === 0) return problems;
    if (key && !caCert.checkPrivateKey(key)) problems.push(`ca-key.pem does not match ca-cert.pem ${describe(caCert)} (istiod: "the cert does not match the key")`);

    // The signing certificate must be a CA.
    const caExt = extensions(caCert);
    if (!caExt.isCA) problems.push(`ca-cert.pem ${describe(caCert)} is not a CA (istiod: "certificate is not authorized to sign other certificates")`);
    if (caExt.keyUsage !== undefined && (caExt.keyUsage & x509.KeyUsageFlags.keyCertSign) === 0) {
        problems.push(`ca-cert.pem ${describe(caCert)} has a keyUsage without keyCertSign; proxies would reject what it signs`);
    }

    // cert-chain.pem is appended to every workload certificate, so it must start with the signing
    // intermediate and walk up to the root (security-bar §1.5).
    if (chain.length > 0 && !sameCert(chain[0], caCert)) problems.push("cert-chain.pem does not start with ca-cert.pem (it must be the intermediate first, then its issuers up to the root)");
    for (let i = 0; i + 1 < chain.length; i++) {
        if (!issuedBy(chain[i], chain[i + 1])) problems.push(`cert-chain.pem block ${i + 1} ${describe(chain[i])} is not signed by block ${i + 2} ${describe(chain[i + 1])}`);
    }
    const last = chain[chain.length - 1];
    // Istio's tooling writes the root as the last block (intermediate, then root), and the chain is
    // what every workload presents, so it must reach the root itself.
    if (last && !roots.some((r) => sameCert(r, last))) problems.push("cert-chain.pem does not end with a certificate of root-cert.pem (append the root after the intermediate)");

    for (const [i, r] of roots.entries()) {
        if (!extensions(r).isCA) problems.push(`root-cert.pem block ${i + 1} ${describe(r)} is not a CA`);
        if (!issuedBy(r, r)) problems.push(`root-cert.pem block ${i + 1} ${describe(r)} is not self-signed`);
    }

    // Go's x509.Verify as istiod calls it: roots from root-cert.pem, intermediates from
    // cert-chain.pem, empty KeyUsages (which means serverAuth), validity checked at `now`.
    const path = buildPath(caCert, chain, roots);
    if (!path) {
        problems.push(`ca-cert.pem ${describe(caCert)} does not verify to root-cert.pem through cert-chain.pem (istiod: "cannot verify the cert with the provided root chain and cert pool")`);
        return problems;
    }
    for (const [depth, c] of path.entries()) {
        const from = new Date(c.validFrom);
        const to = new Date(c.validTo);
        if (now < from) problems.push(`${describe(c)} is not valid before ${from.toISOString()} (clock skew or a future NotBefore)`);
        if (now > to) problems.push(`${describe(c)} expired at ${to.toISOString()}`);
        const ext = extensions(c);
        if (ext.eku && !ext.eku.includes(OID_SERVER_AUTH) && !ext.eku.includes(OID_ANY_EKU)) {
            problems.push(`${describe(c)} has extended key usages without serverAuth; Go's verifier in istiod rejects the chain`);
        }
        if (depth > 0) {
            if (!ext.isCA) problems.push(`${describe(c)} signs another certificate but is not a CA`);
            // Intermediate CAs below this one in the path (the leaf of the verify call is ca-cert.pem itself).
            const below = depth - 1;
            if (ext.pathLength !== undefined && below > ext.pathLength) problems.push(`${describe(c)} has pathlen:${ext.pathLength} but ${below} CA certificate(s) below it`);
        }
    }
    const caEnd = new Date(caCert.validTo);
    const rootEnd = new Date(path[path.length - 1].validTo);
    if (caEnd > rootEnd) problems.push(`ca-cert.pem outlives its root (${caEnd.toISOString()} > ${rootEnd.toISOString()}); istiod clamps certificates to the chain`);
    return problems;
}

/** Walk from `leaf` to a root: each step must be issued (and signed) by the next. */
function buildPath(leaf: crypto.X509Certificate, intermediates: crypto.X509Certificate[], roots: crypto.X509Certificate[]): crypto.X509Certificate[] | undefined {
    const path = [leaf];
    let current = leaf;
    for (let hops = 0; hops < 10; hops++) {
        const root = roots.find((r) => issuedBy(current, r));
        if (root) {
            if (!sameCert(root, current)) path.push(root);
            return path;
        }
        const next = intermediates.find((c) => !path.some((p) => sameCert(p, c)) && issuedBy(current, c));
        if (!next) return undefined;
        path.push(next);
        current = next;
    }
    return undefined;
}

/** SHA-256 of the DER encoding of the first certificate in `pem`, as lowercase hex. */
export function certSha256(pem: string): string {
    const cert = new crypto.X509Certificate(pem);
    return crypto.createHash("sha256").update(cert.raw).digest("hex");
}
