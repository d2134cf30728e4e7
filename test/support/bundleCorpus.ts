// A corpus of Istio plug-in CA bundles (the four files of `cacerts`), good and bad, made with the
// openssl CLI at test time. Each bundle says what Go's crypto/x509, as istiod calls it, is meant to
// make of it; test/goAgreement.test.ts checks that claim against tools/x509check and then checks
// components/caBundle.ts against Go.
import { CaBundle } from "../../components/caBundle";
import { EXT, Issued, KeyKind, OpensslCa, PolicyKeyKind } from "./opensslCa";

export interface CorpusBundle extends CaBundle {
    name: string;
    /** What the bundle is made to show. */
    about: string;
    /** The instant to judge it at (RFC 3339). */
    now: string;
    /** What istiod (Go) is meant to do with it. */
    go: "accepts" | "rejects";
    /** For a bundle Go rejects: a piece of the error Go is meant to give. */
    goError?: string;
}

const DAY_MS = 24 * 3600 * 1000;
const ROOT_EXT = EXT.root;
const INT_EXT = EXT.intermediate;
const withBc = (bc: string, ext: string[]): string[] => [bc, ...ext.filter((l) => !l.startsWith("basicConstraints="))];
const withKu = (ku: string, ext: string[]): string[] => [ku, ...ext.filter((l) => !l.startsWith("keyUsage="))];

/**
 * Build the corpus in `ca`'s directory. Takes a few seconds (three RSA-4096/3072 keys). `t0` is the
 * time the certificates start; bundles are judged five minutes later unless they say otherwise.
 */
export function buildCorpus(ca: OpensslCa, t0: Date = new Date()): CorpusBundle[] {
    const at = (ms: number) => new Date(t0.getTime() + ms).toISOString();
    const NOW = at(5 * 60 * 1000);
    const out: CorpusBundle[] = [];
    const add = (
        name: string,
        about: string,
        go: CorpusBundle["go"],
        files: { ca: Issued; key?: string; roots: Issued[]; chain: Issued[] },
        more: { now?: string; goError?: string } = {},
    ) => {
        out.push({
            name,
            about,
            go,
            now: more.now ?? NOW,
            goError: more.goError,
            caCertPem: files.ca.certPem,
            caKeyPem: files.key ?? files.ca.keyPem,
            rootCertPem: files.roots.map((r) => r.certPem).join(""),
            certChainPem: files.chain.map((c) => c.certPem).join(""),
        });
    };
    const root = (name: string, kind: KeyKind | PolicyKeyKind, opts: { ext?: string[]; days?: number; md?: string } = {}) =>
        ca.cert(name, `/O=Corpus/CN=${name}`, { ext: opts.ext ?? ROOT_EXT, days: opts.days ?? 3650, kind, md: opts.md });
    const int = (
        name: string,
        issuer: Issued,
        kind: KeyKind | PolicyKeyKind = "ec-pkcs8",
        opts: { ext?: string[]; days?: number; md?: string; sigopt?: string[] } = {},
    ) => ca.cert(name, `/O=Corpus/CN=${name}`, { issuer: issuer.name, ext: opts.ext ?? INT_EXT, days: opts.days ?? 730, kind, ...opts });
    /** The usual shape: ca-cert.pem = the intermediate, cert-chain.pem = intermediate + root. */
    const simple = (i: Issued, r: Issued) => ({ ca: i, roots: [r], chain: [i, r] });

    const rootRsa = root("root-rsa4096", "rsa-4096");
    const rootEc = root("root-p256", "ec-pkcs8");

    // ---- good: istiod accepts them, and so must we ----
    add(
        "good-rsa4096",
        "RSA-4096 root and RSA-4096 intermediate, as Istio's tooling makes them",
        "accepts",
        simple(int("int-rsa4096", rootRsa, "rsa-4096"), rootRsa),
    );
    const root3072 = root("root-rsa3072", "rsa-3072");
    add(
        "good-rsa3072-root",
        "RSA-3072 root (the smallest allowed) over an RSA-2048 PKCS#1 intermediate",
        "accepts",
        simple(int("int-rsa2048", root3072, "rsa-pkcs1"), root3072),
    );
    const intP256 = int("int-p256", rootEc, "ec-sec1");
    add("good-p256", "P-256 root and P-256 intermediate with an EC PRIVATE KEY", "accepts", simple(intP256, rootEc));
    const rootP384 = root("root-p384", "ec-p384", { md: "sha384" });
    add(
        "good-p384",
        "P-384 root and intermediate, signed with SHA-384",
        "accepts",
        simple(int("int-p384", rootP384, "ec-p384", { md: "sha384" }), rootP384),
    );
    add("good-rsa-root-ec-int", "RSA-4096 root over a P-256 intermediate", "accepts", simple(int("int-ec-under-rsa", rootRsa), rootRsa));
    add(
        "good-sha512",
        "intermediate signed with sha512WithRSAEncryption",
        "accepts",
        simple(int("int-sha512", rootRsa, "ec-pkcs8", { md: "sha512" }), rootRsa),
    );
    add(
        "good-rsa-pss",
        "intermediate signed with RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32: one of Go's three PSS shapes",
        "accepts",
        simple(int("int-pss", rootRsa, "rsa-pkcs8", { sigopt: ["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"] }), rootRsa),
    );
    const mid = int("mid", rootEc);
    const caUnderMid = int("ca-under-mid", mid, "ec-pkcs8", { days: 365 });
    add("good-two-level", "root → mid → ca, cert-chain.pem ca + mid + root", "accepts", {
        ca: caUnderMid,
        roots: [rootEc],
        chain: [caUnderMid, mid, rootEc],
    });
    const rootPl1 = root("root-pathlen1", "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:true,pathlen:1", ROOT_EXT) });
    const midPl0 = int("mid-pathlen0", rootPl1, "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:true,pathlen:0", INT_EXT) });
    const caUnderPl0 = int("ca-under-pathlen0", midPl0, "ec-pkcs8", { days: 365 });
    add("good-pathlen-exact", "root pathlen:1 → mid pathlen:0 → ca: every limit met exactly", "accepts", {
        ca: caUnderPl0,
        roots: [rootPl1],
        chain: [caUnderPl0, midPl0, rootPl1],
    });
    const ekuBoth = int("int-eku-server-client", rootEc, "ec-pkcs8", { ext: [...INT_EXT, "extendedKeyUsage=serverAuth,clientAuth"] });
    add("good-eku-server-client", "intermediate with EKU serverAuth + clientAuth", "accepts", simple(ekuBoth, rootEc));
    const intUnderEc = int("int-second-root", rootEc);
    add("good-two-roots", "root-cert.pem holds two roots (a rotation), ca-cert.pem is under the second", "accepts", {
        ca: intUnderEc,
        roots: [rootRsa, rootEc],
        chain: [intUnderEc, rootEc],
    });
    const caPl0 = int("int-pathlen0", rootEc, "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:true,pathlen:0", INT_EXT) });
    add("good-ca-pathlen0", "ca-cert.pem with pathlen:0 (it signs workloads only)", "accepts", simple(caPl0, rootEc));

    // ---- bad: istiod refuses them ----
    add(
        "sha1-intermediate",
        "intermediate signed with sha1WithRSAEncryption",
        "rejects",
        simple(int("int-sha1", rootRsa, "rsa-pkcs8", { md: "sha1" }), rootRsa),
        {
            goError: "insecure algorithm SHA1-RSA",
        },
    );
    add(
        "md5-intermediate",
        "intermediate signed with md5WithRSAEncryption",
        "rejects",
        simple(int("int-md5", rootRsa, "ec-pkcs8", { md: "md5" }), rootRsa),
        {
            goError: "insecure algorithm MD5-RSA",
        },
    );
    add(
        "ecdsa-sha1-intermediate",
        "intermediate signed with ecdsa-with-SHA1",
        "rejects",
        simple(int("int-ecdsa-sha1", rootEc, "ec-pkcs8", { md: "sha1" }), rootEc),
        {
            goError: "insecure algorithm ECDSA-SHA1",
        },
    );
    add(
        "sha224-intermediate",
        "intermediate signed with sha224WithRSAEncryption, which Go does not implement",
        "rejects",
        simple(int("int-sha224", rootRsa, "ec-pkcs8", { md: "sha224" }), rootRsa),
        {
            goError: "algorithm unimplemented",
        },
    );
    const midSha1 = int("mid-sha1", rootEc, "ec-pkcs8", { md: "sha1" });
    const caUnderSha1 = int("ca-under-sha1-mid", midSha1, "ec-pkcs8", { days: 365 });
    add(
        "sha1-mid",
        "root → mid (signed with SHA-1) → ca (SHA-256): the middle link is SHA-1",
        "rejects",
        {
            ca: caUnderSha1,
            roots: [rootEc],
            chain: [caUnderSha1, midSha1, rootEc],
        },
        { goError: "insecure algorithm ECDSA-SHA1" },
    );
    add(
        "rsa-pss-salt-max",
        "RSASSA-PSS with the longest salt: not one of Go's PSS shapes",
        "rejects",
        simple(int("int-pss-max", rootRsa, "ec-pkcs8", { sigopt: ["rsa_padding_mode:pss", "rsa_pss_saltlen:max"] }), rootRsa),
        { goError: "algorithm unimplemented" },
    );
    add(
        "expired-intermediate",
        "a one-day intermediate judged three days on",
        "rejects",
        simple(int("int-1day", rootEc, "ec-pkcs8", { days: 1 }), rootEc),
        {
            now: at(3 * DAY_MS),
            goError: "certificate has expired or is not yet valid",
        },
    );
    add("not-yet-valid", "a good bundle judged in 2001", "rejects", simple(intP256, rootEc), {
        now: "2001-01-01T00:00:00Z",
        goError: "certificate has expired or is not yet valid",
    });
    add(
        "wrong-key",
        "ca-key.pem of another key pair",
        "rejects",
        { ...simple(intP256, rootEc), key: ca.key("stray", "ec-pkcs8") },
        {
            goError: "the cert does not match the key",
        },
    );
    add(
        "wrong-key-type",
        "ca-key.pem an RSA key for an ECDSA certificate",
        "rejects",
        { ...simple(intP256, rootEc), key: ca.key("stray-rsa", "rsa-pkcs8") },
        {
            goError: "the cert does not match the key",
        },
    );
    const notCa = int("int-ca-false", rootEc, "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:false", INT_EXT) });
    add("not-a-ca", "ca-cert.pem with CA:FALSE", "rejects", simple(notCa, rootEc), {
        goError: "certificate is not authorized to sign other certificates",
    });
    const noBc = int("int-no-bc", rootEc, "ec-pkcs8", { ext: INT_EXT.filter((l) => !l.startsWith("basicConstraints=")) });
    add("no-basic-constraints", "ca-cert.pem without basicConstraints", "rejects", simple(noBc, rootEc), {
        goError: "certificate is not authorized to sign other certificates",
    });
    const midNotCa = int("mid-ca-false", rootEc, "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:false", INT_EXT) });
    const caUnderNotCa = int("ca-under-ca-false", midNotCa, "ec-pkcs8", { days: 365 });
    add(
        "mid-not-ca",
        "root → mid (CA:FALSE) → ca",
        "rejects",
        { ca: caUnderNotCa, roots: [rootEc], chain: [caUnderNotCa, midNotCa, rootEc] },
        {
            goError: "parent certificate cannot sign this kind of certificate",
        },
    );
    const ekuClient = int("int-eku-client", rootEc, "ec-pkcs8", { ext: [...INT_EXT, "extendedKeyUsage=clientAuth"] });
    add(
        "eku-clientauth-intermediate",
        "intermediate with EKU clientAuth only (Go verifies for serverAuth)",
        "rejects",
        simple(ekuClient, rootEc),
        {
            goError: "incompatible key usage",
        },
    );
    const rootClient = root("root-eku-client", "ec-pkcs8", { ext: [...ROOT_EXT, "extendedKeyUsage=clientAuth"] });
    add(
        "eku-clientauth-root",
        "root with EKU clientAuth only: Go checks the root's EKU too",
        "rejects",
        simple(int("int-under-client-root", rootClient), rootClient),
        {
            goError: "incompatible key usage",
        },
    );
    const rootPl0 = root("root-pathlen0", "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:true,pathlen:0", ROOT_EXT) });
    const midUnderPl0 = int("mid-under-root-pathlen0", rootPl0);
    const caTooDeep = int("ca-too-deep", midUnderPl0, "ec-pkcs8", { days: 365 });
    add(
        "pathlen-root-0",
        "root pathlen:0 → mid → ca: one CA too many below the root",
        "rejects",
        {
            ca: caTooDeep,
            roots: [rootPl0],
            chain: [caTooDeep, midUnderPl0, rootPl0],
        },
        { goError: "too many intermediates" },
    );
    const midPl0b = int("mid-pathlen0-b", rootEc, "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:true,pathlen:0", INT_EXT) });
    const mid2 = int("mid2-under-pathlen0", midPl0b, "ec-pkcs8", { days: 500 });
    const caUnderMid2 = int("ca-under-mid2", mid2, "ec-pkcs8", { days: 365 });
    add(
        "pathlen-mid-0",
        "root → mid pathlen:0 → mid2 → ca",
        "rejects",
        {
            ca: caUnderMid2,
            roots: [rootEc],
            chain: [caUnderMid2, mid2, midPl0b, rootEc],
        },
        { goError: "too many intermediates" },
    );
    const impostorRoot = ca.cert("impostor-root", "/O=Corpus/CN=root-p256", { ext: ROOT_EXT, days: 3650 });
    add(
        "unknown-root",
        "root-cert.pem is another root with the same subject as ca-cert.pem's issuer",
        "rejects",
        {
            ca: intP256,
            roots: [impostorRoot],
            chain: [intP256, impostorRoot],
        },
        { goError: "certificate signed by unknown authority" },
    );
    add(
        "missing-intermediate",
        "root → mid → ca, but cert-chain.pem lacks mid",
        "rejects",
        { ca: caUnderMid, roots: [rootEc], chain: [caUnderMid, rootEc] },
        {
            goError: "certificate signed by unknown authority",
        },
    );
    const midNoSign = int("mid-no-keycertsign", rootEc, "ec-pkcs8", { ext: withKu("keyUsage=critical,digitalSignature,cRLSign", INT_EXT) });
    const caUnderNoSign = int("ca-under-no-keycertsign", midNoSign, "ec-pkcs8", { days: 365 });
    add(
        "mid-without-keycertsign",
        "root → mid (keyUsage without keyCertSign) → ca: Go checks every issuer's keyUsage",
        "rejects",
        {
            ca: caUnderNoSign,
            roots: [rootEc],
            chain: [caUnderNoSign, midNoSign, rootEc],
        },
        { goError: "parent certificate cannot sign this kind of certificate" },
    );
    const rootNotCa = root("root-ca-false", "ec-pkcs8", { ext: withBc("basicConstraints=critical,CA:false", ROOT_EXT) });
    add("root-not-ca", "self-signed root with CA:FALSE", "rejects", simple(int("int-under-ca-false-root", rootNotCa), rootNotCa), {
        goError: "parent certificate cannot sign this kind of certificate",
    });
    ca.run(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x", "-in", "int-p256.key", "-out", "int-p256.enc.key"]);
    add(
        "encrypted-key",
        "ca-key.pem is an ENCRYPTED PRIVATE KEY",
        "rejects",
        { ...simple(intP256, rootEc), key: ca.read("int-p256.enc.key") },
        {
            goError: "unsupported PEM block type for a private key: ENCRYPTED PRIVATE KEY",
        },
    );
    add(
        "root-not-pem",
        "root-cert.pem holds the root as bare base64, no PEM armour",
        "rejects",
        {
            ...simple(intP256, rootEc),
            roots: [{ ...rootEc, certPem: rootEc.certPem.replace(/-----[A-Z ]+-----\n?/g, "") }],
        },
        { goError: "certificate signed by unknown authority" },
    );

    // ---- istiod accepts them; we refuse them by policy (test/goAgreement.test.ts names each) ----
    add("ca-cert-is-root", "ca-cert.pem and ca-key.pem are the root's own", "accepts", { ca: rootEc, roots: [rootEc], chain: [rootEc] });
    const root2048 = root("root-rsa2048", "rsa-pkcs8");
    add("rsa2048-root", "RSA-2048 root over a P-256 intermediate", "accepts", simple(int("int-under-rsa2048", root2048), root2048));
    add(
        "rsa1024-intermediate",
        "RSA-1024 intermediate under an RSA-4096 root",
        "accepts",
        simple(int("int-rsa1024", rootRsa, "rsa-1024"), rootRsa),
    );
    add(
        "p224-intermediate",
        "P-224 intermediate (the tls provider's default curve)",
        "accepts",
        simple(int("int-p224", rootEc, "ec-p224"), rootEc),
    );
    const rootP521 = root("root-p521", "ec-p521", { md: "sha512" });
    add(
        "p521-root",
        "P-521 root over a P-256 intermediate",
        "accepts",
        simple(int("int-under-p521", rootP521, "ec-pkcs8", { md: "sha512" }), rootP521),
    );
    const rootEd = root("root-ed25519", "ed25519", { md: "" });
    add("ed25519-ca", "Ed25519 root and intermediate", "accepts", simple(int("int-ed25519", rootEd, "ed25519", { md: "" }), rootEd));
    ca.write("root-rsa4096-sha1.key", rootRsa.keyPem);
    const rootSha1 = root("root-rsa4096-sha1", "rsa-4096", { md: "sha1" });
    add(
        "sha1-self-signed-root",
        "root self-signed with SHA-1 over a SHA-256 intermediate: Go never checks a root's own signature",
        "accepts",
        simple(int("int-under-sha1-root", rootSha1), rootSha1),
    );
    add("reversed-chain", "cert-chain.pem root first, then the intermediate", "accepts", {
        ca: intP256,
        roots: [rootEc],
        chain: [rootEc, intP256],
    });
    add("chain-without-root", "cert-chain.pem is the intermediate alone", "accepts", { ca: intP256, roots: [rootEc], chain: [intP256] });
    const rootShort = root("root-short", "ec-pkcs8", { days: 10 });
    add(
        "intermediate-outlives-root",
        "a 10-day root over a 100-day intermediate",
        "accepts",
        simple(int("int-long", rootShort, "ec-pkcs8", { days: 100 }), rootShort),
    );
    const noSign = int("int-no-keycertsign", rootEc, "ec-pkcs8", { ext: withKu("keyUsage=critical,digitalSignature,cRLSign", INT_EXT) });
    add("ca-without-keycertsign", "ca-cert.pem CA:TRUE but keyUsage without keyCertSign", "accepts", simple(noSign, rootEc));
    add("root-cert-is-intermediate", "root-cert.pem holds mid, not the self-signed root", "accepts", {
        ca: caUnderMid,
        roots: [mid],
        chain: [caUnderMid, mid],
    });
    return out;
}
