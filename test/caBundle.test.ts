// verifyCaBundle against real certificates made by the openssl CLI: the valid bundle passes, each
// way istiod (or Envoy, or Go's verifier) would reject a bundle is reported with its own message,
// and where OpenSSL can judge the same chain, it agrees.
import * as crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    ALLOWED_EC_CURVES,
    CaBundle,
    INTERMEDIATE_MIN_RSA_BITS,
    ROOT_MIN_RSA_BITS,
    signatureAlgorithm,
    verifyCaBundle,
} from "../components/caBundle";
import { EXT, Issued, KeyKind, OpensslCa } from "./support/opensslCa";

const ROOT_SUBJECT = "/O=Test/CN=Root CA";
const DAY_MS = 24 * 3600 * 1000;

let ca: OpensslCa;
let root: Issued;
let int: Issued;

function bundle(i: Issued, r: Issued = root, chain?: string): CaBundle {
    return { caCertPem: i.certPem, caKeyPem: i.keyPem, rootCertPem: r.certPem, certChainPem: chain ?? i.certPem + r.certPem };
}

/** The single problem list must contain one line with `needle`. */
function expectProblem(problems: string[], needle: string) {
    expect(
        problems.some((p) => p.includes(needle)),
        `expected a problem containing ${JSON.stringify(needle)}, got ${JSON.stringify(problems, null, 2)}`,
    ).toBe(true);
}

beforeAll(() => {
    ca = new OpensslCa();
    root = ca.cert("root", ROOT_SUBJECT, { ext: EXT.root, days: 3650 });
    int = ca.cert("int", "/O=Test/CN=Intermediate CA/L=east", { issuer: "root", ext: EXT.intermediate, days: 730 });
});
afterAll(() => ca?.cleanup());

describe("verifyCaBundle with openssl-made certificates", () => {
    it("accepts root → intermediate with cert-chain.pem = intermediate + root, as OpenSSL does", () => {
        expect(verifyCaBundle(bundle(int))).toEqual([]);
        const v = ca.verify(root.certPem, int.certPem + root.certPem, int.certPem);
        expect(v.ok, v.output).toBe(true);
        expect(v.output.trim()).toBe("v-leaf.pem: OK");
    });

    it("rejects a key from another pair", () => {
        const other = ca.key("other");
        const problems = verifyCaBundle({ ...bundle(int), caKeyPem: other });
        expectProblem(problems, "ca-key.pem does not match ca-cert.pem");
        expectProblem(problems, 'istiod: "the cert does not match the key"');
    });

    it("rejects an intermediate signed by a different root with the same subject, as OpenSSL does", () => {
        const root2 = ca.cert("root2", ROOT_SUBJECT, { ext: EXT.root, days: 3650 });
        expect(new crypto.X509Certificate(root2.certPem).subject).toBe(new crypto.X509Certificate(root.certPem).subject);
        const impostor = ca.cert("impostor", "/O=Test/CN=Intermediate CA/L=east", { issuer: "root2", ext: EXT.intermediate, days: 730 });
        // Sanity: it is a fine bundle under its own root.
        expect(verifyCaBundle(bundle(impostor, root2))).toEqual([]);
        const problems = verifyCaBundle(bundle(impostor, root));
        expectProblem(problems, "does not verify to root-cert.pem through cert-chain.pem");
        expectProblem(problems, "cannot verify the cert with the provided root chain and cert pool");
        const v = ca.verify(root.certPem, impostor.certPem + root.certPem, impostor.certPem);
        expect(v.ok).toBe(false);
        expect(v.output).toMatch(/error \d+ at \d+ depth lookup/);
    });

    it("rejects cert-chain.pem that does not start with ca-cert.pem (root first)", () => {
        const problems = verifyCaBundle(bundle(int, root, root.certPem + int.certPem));
        expectProblem(problems, "cert-chain.pem does not start with ca-cert.pem");
    });

    it.each(["caCertPem", "caKeyPem", "rootCertPem", "certChainPem"] as const)("rejects an empty %s", (k) => {
        const problems = verifyCaBundle({ ...bundle(int), [k]: "  \n" });
        expect(problems).toEqual([`${k} is empty (istiod: "incomplete signing CA bundle detected")`]);
    });

    it("rejects an intermediate without the CA flag (CA:FALSE), as OpenSSL does", () => {
        const notCa = ca.cert("notca", "/O=Test/CN=Not A CA", {
            issuer: "root",
            ext: [
                "basicConstraints=critical,CA:false",
                "keyUsage=critical,keyCertSign,cRLSign",
                "subjectKeyIdentifier=hash",
                "authorityKeyIdentifier=keyid:always",
            ],
        });
        const problems = verifyCaBundle(bundle(notCa));
        expectProblem(problems, 'is not a CA (istiod: "certificate is not authorized to sign other certificates")');
        expect(problems.some((p) => p.startsWith('ca-cert.pem "') && p.includes("CN=Not A CA"))).toBe(true);
        // OpenSSL refuses it as the issuer of a workload certificate.
        const leaf = ca.cert("notca-leaf", "/O=Test/CN=workload", { issuer: "notca", ext: ["basicConstraints=CA:false"], days: 1 });
        const v = ca.verify(root.certPem, notCa.certPem, leaf.certPem);
        expect(v.ok).toBe(false);
        expect(v.output).toContain("invalid CA certificate");
    });

    it("rejects an intermediate whose keyUsage lacks keyCertSign", () => {
        const noSign = ca.cert("nosign", "/O=Test/CN=No KeyCertSign", {
            issuer: "root",
            ext: [
                "basicConstraints=critical,CA:true",
                "keyUsage=critical,digitalSignature,cRLSign",
                "subjectKeyIdentifier=hash",
                "authorityKeyIdentifier=keyid:always",
            ],
        });
        const problems = verifyCaBundle(bundle(noSign));
        expectProblem(problems, "has a keyUsage without keyCertSign; proxies would reject what it signs");
        // Its basicConstraints say CA:TRUE, which is all Go (istiod) looks at: no "not a CA" line.
        expect(problems.filter((p) => p.includes("is not a CA"))).toEqual([]);
    });

    it("rejects cert-chain.pem that stops at the intermediate (the root must close the chain)", () => {
        expectProblem(verifyCaBundle(bundle(int, root, int.certPem)), "cert-chain.pem does not end with a certificate of root-cert.pem");
    });

    it("rejects an intermediate whose EKU is clientAuth only (Go's verify needs serverAuth)", () => {
        const client = ca.cert("client", "/O=Test/CN=ClientAuth Only", {
            issuer: "root",
            ext: [...EXT.intermediate, "extendedKeyUsage=clientAuth"],
        });
        expectProblem(verifyCaBundle(bundle(client)), "has extended key usages without serverAuth");
        // serverAuth (or no EKU at all) is fine.
        const server = ca.cert("server", "/O=Test/CN=ServerAuth Too", {
            issuer: "root",
            ext: [...EXT.intermediate, "extendedKeyUsage=serverAuth,clientAuth"],
        });
        expect(verifyCaBundle(bundle(server))).toEqual([]);
    });

    it("rejects a chain that violates pathlen, as OpenSSL does", () => {
        const r0 = ca.cert("r0", "/O=Test/CN=Root pathlen 0", {
            ext: ["basicConstraints=critical,CA:true,pathlen:0", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash"],
            days: 3650,
        });
        const int1 = ca.cert("int1", "/O=Test/CN=Int1", { issuer: "r0", ext: EXT.intermediate });
        const int2 = ca.cert("int2", "/O=Test/CN=Int2", { issuer: "int1", ext: EXT.intermediate, days: 100 });
        const problems = verifyCaBundle({
            caCertPem: int2.certPem,
            caKeyPem: int2.keyPem,
            rootCertPem: r0.certPem,
            certChainPem: int2.certPem + int1.certPem + r0.certPem,
        });
        expectProblem(problems, "CN=Root pathlen 0");
        expectProblem(problems, "has pathlen:0 but 1 CA certificate(s) below it");
        expect(problems).toHaveLength(1);
        const v = ca.verify(r0.certPem, int1.certPem, int2.certPem);
        expect(v.ok).toBe(false);
        expect(v.output).toContain("path length constraint exceeded");
        // The same two-level chain under a root without pathlen passes.
        const rFree = ca.cert("rfree", "/O=Test/CN=Root no pathlen", { ext: EXT.root, days: 3650 });
        const i1 = ca.cert("i1", "/O=Test/CN=I1", { issuer: "rfree", ext: EXT.intermediate });
        const i2 = ca.cert("i2", "/O=Test/CN=I2", { issuer: "i1", ext: EXT.intermediate, days: 100 });
        expect(
            verifyCaBundle({
                caCertPem: i2.certPem,
                caKeyPem: i2.keyPem,
                rootCertPem: rFree.certPem,
                certChainPem: i2.certPem + i1.certPem + rFree.certPem,
            }),
        ).toEqual([]);
    });

    it("reports an expired intermediate (checked 10 years on)", () => {
        const shortLived = ca.cert("short", "/O=Test/CN=Short Lived", { issuer: "root", ext: EXT.intermediate, days: 1 });
        expect(verifyCaBundle(bundle(shortLived))).toEqual([]);
        const later = new Date(Date.now() + 10 * 365 * DAY_MS);
        const problems = verifyCaBundle(bundle(shortLived), later);
        expect(problems.some((p) => p.includes("CN=Short Lived") && p.includes("expired at"))).toBe(true);
        // One day after now + 2 days it is already expired; the root is not.
        const justAfter = verifyCaBundle(bundle(shortLived), new Date(Date.now() + 2 * DAY_MS));
        expect(justAfter).toHaveLength(1);
        expect(justAfter[0]).toMatch(/^".*CN=Short Lived.*" expired at \d{4}-/);
    });

    it("reports certificates that are not yet valid (now in the past)", () => {
        const past = new Date("2001-01-01T00:00:00Z");
        const problems = verifyCaBundle(bundle(int), past);
        expect(problems.filter((p) => p.includes("is not valid before"))).toHaveLength(2); // the intermediate and the root
        expectProblem(problems, "clock skew or a future NotBefore");
    });

    it("reports an intermediate that outlives its root", () => {
        const shortRoot = ca.cert("shortroot", "/O=Test/CN=Short Root", { ext: EXT.root, days: 10 });
        const longInt = ca.cert("longint", "/O=Test/CN=Long Int", { issuer: "shortroot", ext: EXT.intermediate, days: 100 });
        const problems = verifyCaBundle(bundle(longInt, shortRoot));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(
            /^ca-cert\.pem ".*CN=Long Int" outlives its root ".*CN=Short Root" \(.*\): re-issue it to end before its root/,
        );
    });

    it("reports a middle intermediate that outlives its own issuer", () => {
        const m = ca.cert("m-long", "/O=Test/CN=Mid Long", { issuer: "root", ext: EXT.intermediate, days: 100 });
        const c = ca.cert("c-longer", "/O=Test/CN=CA Longer", { issuer: "m-long", ext: EXT.intermediate, days: 200 });
        const problems = verifyCaBundle({
            caCertPem: c.certPem,
            caKeyPem: c.keyPem,
            rootCertPem: root.certPem,
            certChainPem: c.certPem + m.certPem + root.certPem,
        });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^ca-cert\.pem ".*CN=CA Longer" outlives its issuer ".*CN=Mid Long"/);
    });

    it("rejects an ENCRYPTED PRIVATE KEY, which istiod cannot parse", () => {
        ca.run(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x", "-in", "int.key", "-out", "int.enc.key"]);
        const enc = ca.read("int.enc.key");
        expect(enc).toContain("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        const problems = verifyCaBundle({ ...bundle(int), caKeyPem: enc });
        expect(problems).toEqual([
            "ca-key.pem must hold exactly one RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY block (istiod cannot parse anything else)",
        ]);
    });

    it("rejects a ca-key.pem holding two keys", () => {
        const problems = verifyCaBundle({ ...bundle(int), caKeyPem: int.keyPem + ca.key("extra") });
        expectProblem(problems, "ca-key.pem must hold exactly one");
    });

    const encodings: [KeyKind, string][] = [
        ["ec-sec1", "EC PRIVATE KEY"],
        ["ec-pkcs8", "PRIVATE KEY"],
    ];
    it.each(encodings)("accepts a %s key (%s)", (kind, block) => {
        const c = ca.cert(`enc-${kind}`, `/O=Test/CN=Key ${kind}`, { issuer: "root", ext: EXT.intermediate, kind });
        expect(c.keyPem).toMatch(new RegExp(`^-----BEGIN ${block}-----`));
        expect(verifyCaBundle(bundle(c))).toEqual([]);
    });

    it("accepts one RSA 2048 key both as PKCS#1 (RSA PRIVATE KEY) and as PKCS#8 (PRIVATE KEY)", () => {
        const rsa = ca.cert("rsa", "/O=Test/CN=Key RSA", { issuer: "root", ext: EXT.intermediate, kind: "rsa-pkcs1" });
        expect(rsa.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
        expect(verifyCaBundle(bundle(rsa))).toEqual([]);
        const pkcs8 = ca.run(["pkcs8", "-topk8", "-nocrypt", "-in", "rsa.key"]);
        expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----/);
        expect(verifyCaBundle({ ...bundle(rsa), caKeyPem: pkcs8 })).toEqual([]);
    });

    // The Go-facing rules, one message each; test/goAgreement.test.ts proves the same rules against Go itself.
    it("names a SHA-1 or MD5 signed certificate, why istiod refuses it, and the fix", () => {
        const rsaRoot = ca.cert("rsa-root", "/O=Test/CN=RSA Root", { ext: EXT.root, days: 3650, kind: "rsa-4096" });
        for (const md of ["sha1", "md5"]) {
            const weak = ca.cert(`weak-${md}`, `/O=Test/CN=Weak ${md}`, { issuer: "rsa-root", ext: EXT.intermediate, md });
            const problems = verifyCaBundle(bundle(weak, rsaRoot));
            expect(problems).toHaveLength(1);
            expect(problems[0]).toContain(
                `ca-cert.pem "O=Test, CN=Weak ${md}" is signed with ${md}WithRSAEncryption: Go's crypto/x509 in istiod refuses`,
            );
            expect(problems[0]).toContain("have its issuer sign it again with SHA-256");
            expect(signatureAlgorithm(new crypto.X509Certificate(weak.certPem)).hash).toBe(md === "sha1" ? "SHA-1" : "MD5");
        }
    });

    it("reads RSASSA-PSS parameters: SHA-256 with salt 32 is Go's shape, the longest salt is not", () => {
        ca.cert("pss-root", "/O=Test/CN=PSS Root", { ext: EXT.root, days: 3650, kind: "rsa-3072" });
        const good = ca.cert("pss-good", "/O=Test/CN=PSS Good", {
            issuer: "pss-root",
            ext: EXT.intermediate,
            sigopt: ["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"],
        });
        const bad = ca.cert("pss-max", "/O=Test/CN=PSS Max", {
            issuer: "pss-root",
            ext: EXT.intermediate,
            sigopt: ["rsa_padding_mode:pss", "rsa_pss_saltlen:max"],
        });
        expect(signatureAlgorithm(new crypto.X509Certificate(good.certPem))).toEqual({
            name: "RSASSA-PSS(SHA-256, MGF1 SHA-256, salt 32)",
            hash: "SHA-256",
        });
        const max = signatureAlgorithm(new crypto.X509Certificate(bad.certPem));
        expect(max.hash).toBeUndefined();
        expect(max.name).toMatch(/^RSASSA-PSS\(SHA-256, MGF1 SHA-256, salt \d{3}\)$/);
    });

    const curves = ALLOWED_EC_CURVES.join("/");
    const limits = `roots to ${ROOT_MIN_RSA_BITS} RSA bits, intermediates to ${INTERMEDIATE_MIN_RSA_BITS}, ECDSA to ${curves}`;
    it(`holds ${limits}`, () => {
        // The numbers config.ts asks of generated trust (mesh.trust.rsaBits ≥ 3072, ecdsaCurve P256 or P384).
        expect([ROOT_MIN_RSA_BITS, INTERMEDIATE_MIN_RSA_BITS, [...ALLOWED_EC_CURVES]]).toEqual([3072, 2048, ["P-256", "P-384"]]);
        const smallRoot = ca.cert("small-root", "/O=Test/CN=Small Root", { ext: EXT.root, days: 3650, kind: "rsa-pkcs8" });
        const underSmall = ca.cert("under-small", "/O=Test/CN=Under Small", { issuer: "small-root", ext: EXT.intermediate });
        expect(verifyCaBundle(bundle(underSmall, smallRoot))).toEqual([
            'root-cert.pem block 1 "O=Test, CN=Small Root" has an RSA-2048 key; a root needs at least 3072 bits: ' +
                "make a new 4096-bit root key (a new root: plan a root rotation)",
        ]);
        const p224 = ca.cert("p224", "/O=Test/CN=P224", { issuer: "root", ext: EXT.intermediate, kind: "ec-p224" });
        const problems = verifyCaBundle(bundle(p224));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(
            /^ca-cert\.pem "O=Test, CN=P224" has an ECDSA key on P-224; only P-256 and P-384 are allowed: re-key it on P-256/,
        );
    });

    it("refuses the root as its own signing CA (its key would sit in the cluster)", () => {
        expectProblem(
            verifyCaBundle({ caCertPem: root.certPem, caKeyPem: root.keyPem, rootCertPem: root.certPem, certChainPem: root.certPem }),
            "is the root itself",
        );
    });
});
