// Pure validation of an Istio plug-in CA bundle, done the way istiod does it when it loads
// `cacerts` (istio/istio at 1.30.3: security/pkg/pki/util/keycertbundle.go `Verify`, and
// security/pkg/pki/ca/ca.go `NewPluggedCertIstioCAOptions`), with Go's crypto/x509 rules that Node's
// OpenSSL does not apply (no SHA-1 or MD5 signatures, PSS only in Go's three shapes), the OpenSSL-style
// checks that istiod skips but Envoy enforces later (keyCertSign, pathlen), and this project's key
// policy (RSA sizes, ECDSA curves, lifetimes). istiod crash-loops on a bad bundle at start and
// silently keeps the old one on hot reload, so the program refuses to write one.
// tools/x509check runs Go's own verifier on the same bundles; test/goAgreement.test.ts proves that
// everything it rejects is rejected here, and lists the few bundles refused here by policy alone.
import * as crypto from "node:crypto";
// @peculiar/x509 builds on tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { CACERTS_KEYS } from "./istio";

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

/** Smallest RSA key for a root (config.ts asks the same of `mesh.trust.rsaBits`); Istio's tooling uses 4096. */
export const ROOT_MIN_RSA_BITS = 3072;
/** Smallest RSA key for ca-cert.pem and any intermediate between it and the root. */
export const INTERMEDIATE_MIN_RSA_BITS = 2048;
/** ECDSA curves allowed for any CA key (config.ts allows the same two for `mesh.trust.ecdsaCurve`). */
export const ALLOWED_EC_CURVES: readonly string[] = ["P-256", "P-384"];
/**
 * Hashes a CA certificate may be signed with. Go's crypto/x509 (istiod) refuses SHA-1 since Go 1.18 and
 * MD5 always, and has no SHA-224 signature algorithm at all.
 */
export const ALLOWED_SIGNATURE_HASHES: readonly string[] = ["SHA-256", "SHA-384", "SHA-512"];

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

/**
 * Names match, the signature verifies, and (OpenSSL's X509_check_issued) an issuer with a keyUsage has keyCertSign,
 * as Go's CheckSignatureFrom also demands. The issuer's CA flag is checked separately.
 */
function issuedBy(child: crypto.X509Certificate, issuer: crypto.X509Certificate): boolean {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

// ---- signature algorithms, read from the DER (Node's X509Certificate does not expose them) ----

interface Tlv {
    tag: number;
    start: number;
    end: number;
}

function readTlv(der: Buffer, pos: number): Tlv {
    const tag = der[pos];
    let len = der[pos + 1];
    let start = pos + 2;
    if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
        start += n;
    }
    if (tag === undefined || start + len > der.length) throw new Error("truncated DER");
    return { tag, start, end: start + len };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
    const out: Tlv[] = [];
    for (let pos = parent.start; pos < parent.end;) {
        const t = readTlv(der, pos);
        out.push(t);
        pos = t.end;
    }
    return out;
}

function oid(der: Buffer, t: Tlv): string {
    const parts: number[] = [];
    let v = 0;
    for (let i = t.start; i < t.end; i++) {
        v = v * 128 + (der[i] & 0x7f);
        if ((der[i] & 0x80) === 0) {
            if (parts.length === 0) parts.push(Math.min(2, Math.floor(v / 40)), v - 40 * Math.min(2, Math.floor(v / 40)));
            else parts.push(v);
            v = 0;
        }
    }
    return parts.join(".");
}

function integer(der: Buffer, t: Tlv): number {
    let v = 0;
    for (let i = t.start; i < t.end; i++) v = v * 256 + der[i];
    return v;
}

/** Signature algorithm OIDs with the hash they use ("none" for Ed25519, which hashes internally). */
const SIGNATURE_OIDS: Record<string, { name: string; hash: string }> = {
    "1.2.840.113549.1.1.2": { name: "md2WithRSAEncryption", hash: "MD2" },
    "1.2.840.113549.1.1.4": { name: "md5WithRSAEncryption", hash: "MD5" },
    "1.2.840.113549.1.1.5": { name: "sha1WithRSAEncryption", hash: "SHA-1" },
    "1.2.840.113549.1.1.14": { name: "sha224WithRSAEncryption", hash: "SHA-224" },
    "1.2.840.113549.1.1.11": { name: "sha256WithRSAEncryption", hash: "SHA-256" },
    "1.2.840.113549.1.1.12": { name: "sha384WithRSAEncryption", hash: "SHA-384" },
    "1.2.840.113549.1.1.13": { name: "sha512WithRSAEncryption", hash: "SHA-512" },
    "1.2.840.10045.4.1": { name: "ecdsa-with-SHA1", hash: "SHA-1" },
    "1.2.840.10045.4.3.1": { name: "ecdsa-with-SHA224", hash: "SHA-224" },
    "1.2.840.10045.4.3.2": { name: "ecdsa-with-SHA256", hash: "SHA-256" },
    "1.2.840.10045.4.3.3": { name: "ecdsa-with-SHA384", hash: "SHA-384" },
    "1.2.840.10045.4.3.4": { name: "ecdsa-with-SHA512", hash: "SHA-512" },
    "1.3.101.112": { name: "Ed25519", hash: "none" },
};
const OID_RSASSA_PSS = "1.2.840.113549.1.1.10";
const OID_MGF1 = "1.2.840.113549.1.1.8";
const HASH_OIDS: Record<string, { name: string; bytes: number }> = {
    "1.3.14.3.2.26": { name: "SHA-1", bytes: 20 },
    "2.16.840.1.101.3.4.2.4": { name: "SHA-224", bytes: 28 },
    "2.16.840.1.101.3.4.2.1": { name: "SHA-256", bytes: 32 },
    "2.16.840.1.101.3.4.2.2": { name: "SHA-384", bytes: 48 },
    "2.16.840.1.101.3.4.2.3": { name: "SHA-512", bytes: 64 },
};

export interface SignatureAlgorithm {
    /** A readable name, e.g. "sha1WithRSAEncryption" or "RSASSA-PSS(SHA-256, salt 32)". */
    name: string;
    /** The hash, or undefined when Go's crypto/x509 would not recognise the algorithm at all. */
    hash: string | undefined;
}

/**
 * The algorithm `c` is signed with. RSASSA-PSS counts only in the shapes Go's crypto/x509 knows
 * (x509.go `getSignatureAlgorithmFromAI`): MGF1 with the message hash, salt as long as the hash,
 * trailer 1, every field explicit; any other PSS is an unknown algorithm to istiod.
 */
export function signatureAlgorithm(c: crypto.X509Certificate): SignatureAlgorithm {
    const der = c.raw;
    try {
        const alg = children(der, children(der, readTlv(der, 0))[1]);
        const id = oid(der, alg[0]);
        if (id !== OID_RSASSA_PSS) return SIGNATURE_OIDS[id] ?? { name: `unknown signature algorithm ${id}`, hash: undefined };
        const fields = new Map(alg[1] ? children(der, alg[1]).map((f) => [f.tag, children(der, f)[0]] as const) : []);
        const hashAlg = fields.get(0xa0);
        const mgf = fields.get(0xa1);
        const salt = fields.get(0xa2);
        const trailer = fields.get(0xa3);
        if (!hashAlg || !mgf || !salt) return { name: "RSASSA-PSS with defaulted (SHA-1) parameters", hash: undefined };
        const hash = HASH_OIDS[oid(der, children(der, hashAlg)[0])];
        const [mgfId, mgfHash] = children(der, mgf);
        const mgfHashName = mgfHash ? HASH_OIDS[oid(der, children(der, mgfHash)[0])]?.name : undefined;
        const saltLen = integer(der, salt);
        const name = `RSASSA-PSS(${hash?.name ?? "unknown hash"}, MGF1 ${mgfHashName ?? "?"}, salt ${saltLen})`;
        const goShape =
            hash !== undefined &&
            oid(der, mgfId) === OID_MGF1 &&
            mgfHashName === hash.name &&
            saltLen === hash.bytes &&
            (trailer === undefined || integer(der, trailer) === 1);
        return { name, hash: goShape ? hash.name : undefined };
    } catch {
        return { name: "unparseable signature algorithm", hash: undefined };
    }
}

/** The key of `c` in the words of the policy: "RSA-2048", "ECDSA P-256", "ed25519". */
function keyDescription(c: crypto.X509Certificate): { type: string; bits?: number; curve?: string } {
    const k = c.publicKey;
    const d = k.asymmetricKeyDetails ?? {};
    const curve =
        d.namedCurve === "prime256v1"
            ? "P-256"
            : d.namedCurve === "secp384r1"
              ? "P-384"
              : d.namedCurve === "secp224r1"
                ? "P-224"
                : d.namedCurve === "secp521r1"
                  ? "P-521"
                  : d.namedCurve;
    return { type: k.asymmetricKeyType ?? "unknown", bits: d.modulusLength, curve };
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
        if (typeof bundle[k] !== "string" || bundle[k].trim() === "")
            problems.push(`${k} is empty (istiod: "incomplete signing CA bundle detected")`);
    }
    if (problems.length) return problems;

    const caCerts = parseCerts(bundle.caCertPem, CACERTS_KEYS.caCert, problems);
    const roots = parseCerts(bundle.rootCertPem, CACERTS_KEYS.rootCert, problems);
    const chain = parseCerts(bundle.certChainPem, CACERTS_KEYS.certChain, problems);
    const caCert = caCerts[0];

    // The key: accepted encodings only, and it must belong to ca-cert.pem (tls.X509KeyPair).
    const keyBlocks = pemBlocks(bundle.caKeyPem);
    let key: crypto.KeyObject | undefined;
    if (keyBlocks.length !== 1 || !ACCEPTED_KEY_BLOCKS.has(keyBlocks[0].type)) {
        problems.push(
            `ca-key.pem must hold exactly one RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY block (istiod cannot parse anything else)`,
        );
    } else {
        try {
            key = crypto.createPrivateKey(keyBlocks[0].text);
        } catch {
            problems.push("ca-key.pem does not parse as a private key");
        }
    }
    if (!caCert || roots.length === 0) return problems;
    if (key && !caCert.checkPrivateKey(key))
        problems.push(`ca-key.pem does not match ca-cert.pem ${describe(caCert)} (istiod: "the cert does not match the key")`);

    // The signing certificate must be a CA.
    const caExt = extensions(caCert);
    if (!caExt.isCA)
        problems.push(
            `ca-cert.pem ${describe(caCert)} is not a CA (istiod: "certificate is not authorized to sign other certificates"): ` +
                `re-issue it with basicConstraints=critical,CA:true`,
        );
    if (caExt.keyUsage !== undefined && (caExt.keyUsage & x509.KeyUsageFlags.keyCertSign) === 0) {
        problems.push(
            `ca-cert.pem ${describe(caCert)} has a keyUsage without keyCertSign; proxies would reject what it signs: ` +
                `re-issue it with keyUsage=critical,keyCertSign,cRLSign`,
        );
    }

    // cert-chain.pem is appended to every workload certificate, so it must start with the signing
    // intermediate and walk up to the root: TLS 1.2 (RFC 5246 section 7.4.2) wants each certificate
    // to certify the one before it, and non-Go peers hold istiod's workloads to that.
    if (chain.length > 0 && !sameCert(chain[0], caCert))
        problems.push(
            "cert-chain.pem does not start with ca-cert.pem (it must be the intermediate first, then its issuers up to the root)",
        );
    for (let i = 0; i + 1 < chain.length; i++) {
        if (issuedBy(chain[i], chain[i + 1])) continue;
        const signed = chain[i].verify(chain[i + 1].publicKey);
        const named = chain[i].issuer === chain[i + 1].subject;
        problems.push(
            signed && named
                ? `cert-chain.pem block ${i + 2} ${describe(chain[i + 1])} signed block ${i + 1} but may not sign certificates ` +
                      `(it needs CA:TRUE and, if it has a keyUsage, keyCertSign; ` +
                      `Go: "parent certificate cannot sign this kind of certificate")`
                : `cert-chain.pem block ${i + 1} ${describe(chain[i])} is not signed by block ${i + 2} ${describe(chain[i + 1])}`,
        );
    }
    const last = chain[chain.length - 1];
    // Istio's tooling writes the root as the last block (intermediate, then root), and the chain is
    // what every workload presents, so it must reach the root itself.
    if (last && !roots.some((r) => sameCert(r, last)))
        problems.push("cert-chain.pem does not end with a certificate of root-cert.pem (append the root after the intermediate)");
    // Go accepts the root as its own signing CA; we do not: its key would then sit in every cluster's cacerts.
    if (roots.some((r) => sameCert(r, caCert))) {
        problems.push(
            `ca-cert.pem ${describe(caCert)} is the root itself, so the root key would live in the cluster: ` +
                `keep the root key offline and give each cluster an intermediate it signs`,
        );
    }

    for (const [i, r] of roots.entries()) {
        if (!extensions(r).isCA)
            problems.push(`root-cert.pem block ${i + 1} ${describe(r)} is not a CA: re-issue it with basicConstraints=critical,CA:true`);
        if (!issuedBy(r, r)) {
            problems.push(
                `root-cert.pem block ${i + 1} ${describe(r)} is not self-signed: root-cert.pem holds the self-signed root(s) only; ` +
                    `intermediates go in cert-chain.pem`,
            );
        }
    }

    // Where each certificate came from, for messages that name it.
    const labels = new Map<string, string>();
    const label = (c: crypto.X509Certificate): string => labels.get(c.fingerprint256) ?? describe(c);
    labels.set(caCert.fingerprint256, `ca-cert.pem ${describe(caCert)}`);
    for (const [i, r] of roots.entries())
        if (!labels.has(r.fingerprint256)) labels.set(r.fingerprint256, `root-cert.pem block ${i + 1} ${describe(r)}`);
    for (const [i, c] of chain.entries())
        if (!labels.has(c.fingerprint256)) labels.set(c.fingerprint256, `cert-chain.pem block ${i + 1} ${describe(c)}`);
    const rootPrints = new Set(roots.map((r) => r.fingerprint256));

    // Keys and signatures of every certificate the bundle ships: root-cert.pem goes to every workload as
    // its trust anchor, cert-chain.pem with every workload certificate.
    const shipped = new Map<string, crypto.X509Certificate>();
    for (const c of [caCert, ...chain, ...roots]) shipped.set(c.fingerprint256, c);
    for (const c of shipped.values()) {
        const isRoot = rootPrints.has(c.fingerprint256);
        problems.push(...keyProblems(c, label(c), isRoot));
        const sig = signatureAlgorithm(c);
        if (sig.hash === "none" || (sig.hash !== undefined && ALLOWED_SIGNATURE_HASHES.includes(sig.hash))) continue;
        if (isRoot && issuedBy(c, c)) {
            problems.push(
                `${label(c)} is self-signed with ${sig.name}: Go never checks a root's own signature, but no certificate here may use ` +
                    `${sig.hash ?? "an algorithm outside Go's list"} (scanners and other verifiers refuse it); ` +
                    `re-sign the root with the same key and subject and -sha256 (what it signed stays valid)`,
            );
            continue;
        }
        const why =
            sig.hash === "SHA-1"
                ? "Go's crypto/x509 in istiod refuses SHA-1 signatures (since Go 1.18)"
                : sig.hash === "MD5" || sig.hash === "MD2"
                  ? `Go's crypto/x509 in istiod refuses ${sig.hash} signatures`
                  : "Go's crypto/x509 in istiod does not implement that algorithm";
        problems.push(
            `${label(c)} is signed with ${sig.name}: ${why}; have its issuer sign it again with SHA-256 (openssl x509 -req ... -sha256)`,
        );
    }

    // Go's x509.Verify as istiod calls it: roots from root-cert.pem, intermediates from
    // cert-chain.pem, empty KeyUsages (which means serverAuth), validity checked at `now`.
    const path = buildPath(caCert, chain, roots);
    if (!path) {
        problems.push(
            `ca-cert.pem ${describe(caCert)} does not verify to root-cert.pem through cert-chain.pem ` +
                `(istiod: "cannot verify the cert with the provided root chain and cert pool"): cert-chain.pem must hold every ` +
                `intermediate above it, and root-cert.pem the root they lead to`,
        );
        return problems;
    }
    for (const [depth, c] of path.entries()) {
        const from = new Date(c.validFrom);
        const to = new Date(c.validTo);
        if (now < from) {
            problems.push(
                `${describe(c)} is not valid before ${from.toISOString()} (clock skew or a future NotBefore): ` +
                    `check the clock, or re-issue it with a NotBefore in the past`,
            );
        }
        if (now > to) problems.push(`${describe(c)} expired at ${to.toISOString()}: issue a new one (same issuer) and replace it`);
        const ext = extensions(c);
        if (ext.eku && !ext.eku.includes(OID_SERVER_AUTH) && !ext.eku.includes(OID_ANY_EKU)) {
            problems.push(
                `${describe(c)} has extended key usages without serverAuth; Go's verifier in istiod rejects the chain: ` +
                    `re-issue it without extendedKeyUsage, or with serverAuth among them`,
            );
        }
        if (depth > 0) {
            if (!ext.isCA)
                problems.push(
                    `${describe(c)} signs another certificate but is not a CA: re-issue it with basicConstraints=critical,CA:true`,
                );
            // Intermediate CAs below this one in the path (the leaf of the verify call is ca-cert.pem itself).
            const below = depth - 1;
            if (ext.pathLength !== undefined && below > ext.pathLength)
                problems.push(
                    `${describe(c)} has pathlen:${ext.pathLength} but ${below} CA certificate(s) below it: ` +
                        `re-issue it with pathlen:${below} or more, or shorten the chain`,
                );
        }
        // Go accepts a certificate that outlives its issuer; istiod clamps workload certificates only to the
        // first certificate of cert-chain.pem (security/pkg/pki/ca/ca.go `minTTL` at 1.30.3), so past the
        // issuer's end it would keep issuing certificates that no proxy can verify.
        const issuer = path[depth + 1];
        if (issuer && to > new Date(issuer.validTo)) {
            const what = rootPrints.has(issuer.fingerprint256) ? "its root" : "its issuer";
            problems.push(
                `${label(c)} outlives ${what} ${describe(issuer)} (${to.toISOString()} > ${new Date(issuer.validTo).toISOString()}): ` +
                    `re-issue it to end before ${what}, or renew ${what} first`,
            );
        }
    }
    return problems;
}

/** RSA size and ECDSA curve policy for one CA certificate's key. */
function keyProblems(c: crypto.X509Certificate, label: string, isRoot: boolean): string[] {
    const k = keyDescription(c);
    if (k.type === "rsa") {
        const min = isRoot ? ROOT_MIN_RSA_BITS : INTERMEDIATE_MIN_RSA_BITS;
        if (k.bits === undefined || k.bits >= min) return [];
        const fix = isRoot
            ? "make a new 4096-bit root key (a new root: plan a root rotation)"
            : "re-key it with 4096 bits (openssl genrsa 4096) and have its issuer sign it again";
        return [`${label} has an RSA-${k.bits} key; ${isRoot ? "a root" : "an intermediate"} needs at least ${min} bits: ${fix}`];
    }
    if (k.type === "ec") {
        if (k.curve !== undefined && ALLOWED_EC_CURVES.includes(k.curve)) return [];
        return [
            `${label} has an ECDSA key on ${k.curve ?? "an unnamed curve"}; only ${ALLOWED_EC_CURVES.join(" and ")} are allowed: ` +
                `re-key it on P-256 (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256) and re-issue it`,
        ];
    }
    // istiod's KeyCertBundle.CertOptions (security/pkg/pki/util/keycertbundle.go at 1.30.3) knows RSA and ECDSA only.
    const names: Record<string, string> = { ed25519: "an Ed25519", ed448: "an Ed448", dsa: "a DSA", "rsa-pss": "an RSA-PSS" };
    const type = names[k.type] ?? `a ${k.type}`;
    return [
        `${label} has ${type} key; only RSA and ECDSA CA keys are allowed (Istio's CA code handles no other): ` +
            `re-key it as RSA 4096 or ECDSA P-256`,
    ];
}

/** Walk from `leaf` to a root: each step must be issued (and signed) by the next. */
function buildPath(
    leaf: crypto.X509Certificate,
    intermediates: crypto.X509Certificate[],
    roots: crypto.X509Certificate[],
): crypto.X509Certificate[] | undefined {
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
