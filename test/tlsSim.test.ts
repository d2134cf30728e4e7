// The tls simulation must produce PKI that real tools accept: every claim here is checked with
// node's X509Certificate or the openssl binary, never by comparing strings we wrote. Only the keys
// mesh.trust allows are modelled (RSA >= 3072, ECDSA P-256/P-384); the rest is refused.
import * as crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    keyPoolStats,
    prefetchKeys,
    rsaKeyFromPrimes,
    simulateTls,
    SimResult,
    startKeyRun,
    TLS_CERT_REQUEST,
    TLS_LOCALLY_SIGNED_CERT,
    TLS_PRIVATE_KEY,
    TLS_SELF_SIGNED_CERT,
} from "../simulator/tlsSim";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tlsSim-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fileNo = 0;
function write(content: string, mode = 0o600): string {
    const file = path.join(tmp, `f${fileNo++}.pem`);
    fs.writeFileSync(file, content, { mode });
    return file;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.error) throw r.error;
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}
const openssl = (...args: string[]) => run("openssl", args);
const certText = (pem: string) => openssl("x509", "-in", write(pem), "-noout", "-text").out;

/** Hex key id as openssl prints it (OpenSSL 1.1 prefixes the AKI with "keyid:"). */
function keyId(text: string, ext: "Subject" | "Authority"): string | undefined {
    return new RegExp(`X509v3 ${ext} Key Identifier:\\s*\\n\\s*(?:keyid:)?([0-9A-F:]+)`).exec(text)?.[1];
}

const str = (r: SimResult, k: string) => r.state[k] as string;
const newKey = async (inputs: Record<string, unknown>) => (await simulateTls(TLS_PRIVATE_KEY, "key", inputs))!;

/** What components/rootOfTrust.ts asks for. */
const CA_USES = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const ROOT_HOURS = 10 * 365 * 24;
const INTERMEDIATE_HOURS = 365 * 24;

interface Pki {
    rootKey: SimResult;
    root: SimResult;
    interKey: SimResult;
    csr: SimResult;
    inter: SimResult;
    leafKey: SimResult;
    leaf: SimResult;
}

/** Root (pathlen 1) -> intermediate (maxPathLength 0) -> leaf, the way the program registers them. */
async function buildPki(keyInputs: Record<string, unknown>): Promise<Pki> {
    const rootKey = await newKey(keyInputs);
    const root = (await simulateTls(TLS_SELF_SIGNED_CERT, "root", {
        privateKeyPem: str(rootKey, "privateKeyPem"),
        subject: { organization: "Istio", commonName: "Root CA" },
        isCaCertificate: true,
        setSubjectKeyId: true,
        maxPathLength: 1,
        allowedUses: CA_USES,
        validityPeriodHours: ROOT_HOURS,
        earlyRenewalHours: 0,
    }))!;
    const interKey = await newKey(keyInputs);
    const csr = (await simulateTls(TLS_CERT_REQUEST, "csr", {
        privateKeyPem: str(interKey, "privateKeyPem"),
        subject: { organization: "Istio", commonName: "Intermediate CA", locality: "east" },
        dnsNames: ["istiod.istio-system.svc"],
    }))!;
    const inter = (await simulateTls(TLS_LOCALLY_SIGNED_CERT, "inter", {
        certRequestPem: str(csr, "certRequestPem"),
        caPrivateKeyPem: str(rootKey, "privateKeyPem"),
        caCertPem: str(root, "certPem"),
        isCaCertificate: true,
        setSubjectKeyId: true,
        maxPathLength: 0,
        allowedUses: CA_USES,
        validityPeriodHours: INTERMEDIATE_HOURS,
    }))!;
    const leafKey = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    const leafCsr = (await simulateTls(TLS_CERT_REQUEST, "leaf-csr", {
        privateKeyPem: str(leafKey, "privateKeyPem"),
        subject: { commonName: "istiod" },
        dnsNames: ["istiod.istio-system.svc"],
        ipAddresses: ["10.0.0.1"],
        uris: ["spiffe://cluster.local/ns/istio-system/sa/istiod"],
    }))!;
    const leaf = (await simulateTls(TLS_LOCALLY_SIGNED_CERT, "leaf", {
        certRequestPem: str(leafCsr, "certRequestPem"),
        caPrivateKeyPem: str(interKey, "privateKeyPem"),
        caCertPem: str(inter, "certPem"),
        allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
        validityPeriodHours: 24,
    }))!;
    return { rootKey, root, interKey, csr, inter, leafKey, leaf };
}

const CASES = [
    { label: "RSA 3072", key: { algorithm: "RSA", rsaBits: 3072 }, sigAlg: "sha256WithRSAEncryption", size: /Public-Key: \(3072 bit\)/ },
    { label: "ECDSA P256", key: { algorithm: "ECDSA", ecdsaCurve: "P256" }, sigAlg: "ecdsa-with-SHA256", size: /NIST CURVE: P-256/ },
    { label: "ECDSA P384", key: { algorithm: "ECDSA", ecdsaCurve: "P384" }, sigAlg: "ecdsa-with-SHA384", size: /NIST CURVE: P-384/ },
];

describe.each(CASES)("a root and an intermediate CA with $label keys", ({ key, sigAlg, size }) => {
    let pki: Pki;
    let root: crypto.X509Certificate;
    let inter: crypto.X509Certificate;
    let rootText: string;
    let interText: string;
    beforeAll(async () => {
        pki = await buildPki(key);
        root = new crypto.X509Certificate(str(pki.root, "certPem"));
        inter = new crypto.X509Certificate(str(pki.inter, "certPem"));
        rootText = certText(str(pki.root, "certPem"));
        interText = certText(str(pki.inter, "certPem"));
    });

    it("node: the intermediate is issued and signed by the root, and each cert matches its key", () => {
        expect(root.ca).toBe(true);
        expect(inter.ca).toBe(true);
        expect(root.checkIssued(root)).toBe(true);
        expect(root.verify(root.publicKey)).toBe(true);
        expect(inter.checkIssued(root)).toBe(true);
        expect(inter.verify(root.publicKey)).toBe(true);
        expect(inter.verify(inter.publicKey)).toBe(false);
        const rootPriv = crypto.createPrivateKey(str(pki.rootKey, "privateKeyPem"));
        const interPriv = crypto.createPrivateKey(str(pki.interKey, "privateKeyPem"));
        expect(root.checkPrivateKey(rootPriv)).toBe(true);
        expect(inter.checkPrivateKey(interPriv)).toBe(true);
        expect(inter.checkPrivateKey(rootPriv)).toBe(false);
    });

    it("validity spans validityPeriodHours from now, and the state's RFC 3339 times agree", () => {
        for (const [cert, res, hours] of [
            [root, pki.root, ROOT_HOURS],
            [inter, pki.inter, INTERMEDIATE_HOURS],
        ] as const) {
            const from = Date.parse(cert.validFrom);
            expect(Date.parse(cert.validTo) - from).toBe(hours * 3_600_000);
            expect(Math.abs(from - Date.now())).toBeLessThan(60_000);
            // The DER keeps whole seconds; the state keeps the instant itself.
            expect(Math.floor(Date.parse(str(res, "validityStartTime")) / 1000) * 1000).toBe(from);
            expect(Date.parse(str(res, "validityEndTime")) - Date.parse(str(res, "validityStartTime"))).toBe(hours * 3_600_000);
            expect(res.state.readyForRenewal).toBe(false);
        }
    });

    it("openssl verifies intermediate and leaf against the root, and not against another root", async () => {
        const rootFile = write(str(pki.root, "certPem"));
        const interFile = write(str(pki.inter, "certPem"));
        expect(openssl("verify", "-CAfile", rootFile, interFile).out).toMatch(/: OK\s*$/);
        const leafRun = openssl("verify", "-CAfile", rootFile, "-untrusted", interFile, write(str(pki.leaf, "certPem")));
        expect(leafRun.ok, leafRun.out).toBe(true);
        expect(leafRun.out).toMatch(/: OK\s*$/);

        const otherKey = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        const other = await simulateTls(TLS_SELF_SIGNED_CERT, "other", {
            privateKeyPem: str(otherKey, "privateKeyPem"),
            subject: { organization: "Istio", commonName: "Root CA" },
            isCaCertificate: true,
            allowedUses: CA_USES,
            validityPeriodHours: 24,
        });
        const wrong = openssl("verify", "-CAfile", write(str(other!, "certPem")), interFile);
        expect(wrong.ok).toBe(false);
        expect(wrong.out).not.toMatch(/: OK\s*$/);
    });

    it("openssl shows the CA extensions the provider writes: critical basic constraints and key usage, pathlen only when > 0", () => {
        for (const text of [rootText, interText]) {
            expect(text).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:TRUE/);
            expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature, Key Encipherment, Certificate Sign, CRL Sign\s*\n/);
            // No EKU was asked for, so none is written.
            expect(text).not.toMatch(/Extended Key Usage/);
            expect(text).toContain(`Signature Algorithm: ${sigAlg}`);
            expect(text).toMatch(size);
        }
        expect(rootText).toMatch(/CA:TRUE, pathlen:1\s*\n/);
        // maxPathLength 0 is "unset" to Go: no pathlen at all.
        expect(interText).toMatch(/CA:TRUE\s*\n/);
        expect(interText).not.toMatch(/pathlen/);
    });

    it("key identifiers: SKI is SHA-1 of the public key bits, the intermediate's AKI is the root's SKI, the root has no AKI", () => {
        const rootSki = keyId(rootText, "Subject");
        const interSki = keyId(interText, "Subject");
        expect(rootSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
        expect(keyId(interText, "Authority")).toBe(rootSki);
        // setAuthorityKeyId was not set, and Go only copies the parent's SKI when issuer != subject.
        expect(keyId(rootText, "Authority")).toBeUndefined();
        expect(interSki).not.toBe(rootSki);
        // RFC 5280 method 1, computed independently: RSAPublicKey DER, or the uncompressed EC point.
        const pub = root.publicKey;
        const bits = key.algorithm === "RSA" ? pub.export({ type: "pkcs1", format: "der" }) : ecPoint(pub);
        const expected = crypto.createHash("sha1").update(bits).digest("hex").toUpperCase().match(/../g)!.join(":");
        expect(rootSki).toBe(expected);
    });

    it("names: subject attributes from the CSR, issuer from the root", () => {
        const names = openssl("x509", "-in", write(str(pki.inter, "certPem")), "-noout", "-subject", "-issuer").out;
        expect(names).toMatch(/subject=.*L = east/);
        expect(names).toMatch(/subject=.*O = Istio/);
        expect(names).toMatch(/subject=.*CN = Intermediate CA/);
        expect(names).toMatch(/issuer=O = Istio, CN = Root CA/);
        expect(inter.subject.split("\n").sort()).toEqual(["CN=Intermediate CA", "L=east", "O=Istio"]);
        expect(inter.issuer).toBe(root.subject);
    });

    it("the CSR is self-signed by its key and carries the SAN, which the intermediate inherits", () => {
        const csrFile = write(str(pki.csr, "certRequestPem"));
        const req = openssl("req", "-in", csrFile, "-noout", "-verify", "-text");
        expect(req.ok, req.out).toBe(true);
        expect(req.out).toMatch(/verify OK/);
        expect(req.out).toContain("DNS:istiod.istio-system.svc");
        expect(inter.subjectAltName).toBe("DNS:istiod.istio-system.svc");
    });

    it("the leaf is CA:FALSE (critical) with its EKUs and every SAN kind", () => {
        const text = certText(str(pki.leaf, "certPem"));
        expect(text).toMatch(/X509v3 Basic Constraints: critical\s*\n\s*CA:FALSE/);
        expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
        expect(text).toContain("DNS:istiod.istio-system.svc, IP Address:10.0.0.1, URI:spiffe://cluster.local/ns/istio-system/sa/istiod");
        expect(keyId(text, "Subject")).toBeUndefined();
        expect(keyId(text, "Authority")).toBe(keyId(interText, "Subject"));
        expect(
            new crypto.X509Certificate(str(pki.leaf, "certPem")).checkPrivateKey(
                crypto.createPrivateKey(str(pki.leafKey, "privateKeyPem")),
            ),
        ).toBe(true);
    });
});

function ecPoint(pub: crypto.KeyObject): Buffer {
    const jwk = pub.export({ format: "jwk" });
    return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
}

describe("privateKey", () => {
    it("writes RSA as PKCS#1 and ECDSA as SEC 1, each with a PKCS#8 copy and the SPKI public key, and no OpenSSH encodings", async () => {
        const expected = { RSA: "RSA PRIVATE KEY", ECDSA: "EC PRIVATE KEY" } as const;
        for (const inputs of [
            { algorithm: "RSA", rsaBits: 3072 },
            { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { algorithm: "ECDSA", ecdsaCurve: "P384" },
        ] as const) {
            const k = await newKey(inputs);
            const pem = str(k, "privateKeyPem");
            expect(pem.startsWith(`-----BEGIN ${expected[inputs.algorithm]}-----\n`)).toBe(true);
            expect(str(k, "privateKeyPemPkcs8").startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
            for (const attr of ["privateKeyPem", "privateKeyPemPkcs8", "publicKeyPem"]) expect(str(k, attr).endsWith("\n")).toBe(true);
            const priv = crypto.createPrivateKey(pem);
            const spki = crypto.createPublicKey(priv).export({ type: "spki", format: "der" });
            expect(crypto.createPublicKey(str(k, "publicKeyPem")).export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
            expect(
                crypto
                    .createPrivateKey(str(k, "privateKeyPemPkcs8"))
                    .export({ type: "pkcs8", format: "der" })
                    .equals(priv.export({ type: "pkcs8", format: "der" })),
            ).toBe(true);
            expect(k.id).toMatch(/^[0-9a-f]{40}$/);
            expect(k.state.algorithm).toBe(inputs.algorithm);
            // Not simulated: nothing in the program reads them.
            for (const attr of ["privateKeyOpenssh", "publicKeyOpenssh", "publicKeyFingerprintMd5", "publicKeyFingerprintSha256"])
                expect(k.state).not.toHaveProperty(attr);
        }
    });

    it("honours rsaBits (openssl reads the size back)", async () => {
        const k = await newKey({ algorithm: "RSA", rsaBits: 3072 });
        expect(k.state.rsaBits).toBe(3072);
        expect(openssl("pkey", "-in", write(str(k, "privateKeyPem")), "-noout", "-text").out).toMatch(/Private-Key: \(3072 bit/);
    });

    it("refuses what mesh.trust forbids: the provider's defaults (RSA 2048, ECDSA P224), small RSA, P521, ED25519", async () => {
        const refusals: [Record<string, unknown>, RegExp][] = [
            [
                { algorithm: "RSA" },
                /rsaBits 2048 \(the provider's default when rsaBits is unset\): the simulator models only the keys mesh\.trust allows/,
            ],
            [
                { algorithm: "RSA", rsaBits: 2048 },
                /rsaBits 2048: the simulator models only .*RSA of at least 3072 bits, ECDSA P256 or P384/,
            ],
            [{ algorithm: "ECDSA" }, /ecdsaCurve "P224" \(the provider's default when ecdsaCurve is unset\): the simulator models only/],
            [{ algorithm: "ECDSA", ecdsaCurve: "P521" }, /ecdsaCurve "P521": the simulator models only/],
            [{ algorithm: "ED25519" }, /algorithm "ED25519": the simulator models only/],
        ];
        for (const [inputs, message] of refusals) {
            await expect(simulateTls(TLS_PRIVATE_KEY, "k", inputs), JSON.stringify(inputs)).rejects.toThrow(message);
        }
    });

    it("refuses a CA key of a forbidden kind given as PEM (Ed25519, P-224, RSA 2048), naming the attribute", async () => {
        const keys = [
            crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string,
            crypto.generateKeyPairSync("ec", { namedCurve: "secp224r1" }).privateKey.export({ type: "sec1", format: "pem" }) as string,
            crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string,
        ];
        for (const pem of keys) {
            await expect(
                simulateTls(TLS_SELF_SIGNED_CERT, "ca", {
                    privateKeyPem: pem,
                    subject: { commonName: "x" },
                    isCaCertificate: true,
                    allowedUses: ["cert_signing"],
                    validityPeriodHours: 1,
                }),
            ).rejects.toThrow(
                /privateKeyPem: (a key of type ed25519|an ECDSA key on curve secp224r1|an RSA key of 2048 bits): the simulator models only/,
            );
        }
    });
});

describe("the key pool", () => {
    const spki = (r: SimResult) =>
        crypto.createPublicKey(str(r, "publicKeyPem")).export({ type: "spki", format: "der" }).toString("base64");

    it("gives every key of one run its own key material", async () => {
        startKeyRun();
        const keys = await Promise.all([1, 2, 3, 4].map(() => newKey({ algorithm: "ECDSA", ecdsaCurve: "P384" })));
        expect(new Set(keys.map(spki)).size).toBe(4);
    });

    it("hands keys of an earlier run to the next one, each once, and generates only what is missing", async () => {
        startKeyRun();
        const first = await Promise.all([1, 2].map(() => newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" })));
        startKeyRun();
        const before = keyPoolStats();
        const second = await Promise.all([1, 2, 3].map(() => newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" })));
        const after = keyPoolStats();
        // Distinct within the run, the earlier run's keys first; each one either reused or generated.
        expect(new Set(second.map(spki)).size).toBe(3);
        expect(second.slice(0, 2).map(spki)).toEqual(first.map(spki));
        expect(after.reused - before.reused).toBeGreaterThanOrEqual(2);
        expect(after.reused - before.reused + (after.generated - before.generated)).toBe(3);
    });

    it("RSA keys of one size share primes, never a modulus: openssl checks each, and each signs only for itself", async () => {
        startKeyRun();
        const keys = await Promise.all([1, 2, 3].map(() => newKey({ algorithm: "RSA", rsaBits: 3072 })));
        const jwks = keys.map((k) => crypto.createPrivateKey(str(k, "privateKeyPem")).export({ format: "jwk" }));
        expect(new Set(jwks.map((j) => j.n)).size).toBe(3);
        for (const k of keys) {
            const check = openssl("rsa", "-in", write(str(k, "privateKeyPem")), "-check", "-noout");
            expect(check.out).toMatch(/RSA key ok/);
            expect(openssl("pkey", "-in", write(str(k, "privateKeyPem")), "-noout", "-text").out).toMatch(
                /Private-Key: \(3072 bit, 2 primes\)/,
            );
        }
        const data = Buffer.from("tbs");
        const sig = crypto.sign("sha256", data, crypto.createPrivateKey(str(keys[0], "privateKeyPem")));
        expect(crypto.verify("sha256", data, crypto.createPublicKey(str(keys[0], "publicKeyPem")), sig)).toBe(true);
        expect(crypto.verify("sha256", data, crypto.createPublicKey(str(keys[1], "publicKeyPem")), sig)).toBe(false);
        expect(crypto.verify("sha256", data, crypto.createPublicKey(str(keys[2], "publicKeyPem")), sig)).toBe(false);
    });

    it("rsaKeyFromPrimes builds the RSA key of two given primes, which signs and verifies", () => {
        const p = crypto.generatePrimeSync(512, { bigint: true });
        let q = crypto.generatePrimeSync(512, { bigint: true });
        while (q === p) q = crypto.generatePrimeSync(512, { bigint: true });
        const k = rsaKeyFromPrimes(p, q);
        const j = k.export({ format: "jwk" });
        expect(BigInt(`0x${Buffer.from(j.n!, "base64url").toString("hex")}`)).toBe(p * q);
        expect(k.asymmetricKeyDetails?.publicExponent).toBe(65537n);
        const sig = crypto.sign("sha256", Buffer.from("m"), k);
        expect(crypto.verify("sha256", Buffer.from("m"), crypto.createPublicKey(k), sig)).toBe(true);
        expect(() => rsaKeyFromPrimes(p, p)).toThrow(/must differ/);
    });

    it("prefetched keys are generated at once and handed out without generating more", async () => {
        startKeyRun();
        const before = keyPoolStats().generated;
        prefetchKeys({ algorithm: "RSA", rsaBits: 3072 }, 2);
        expect(keyPoolStats().generated - before).toBeLessThanOrEqual(2);
        const keys = await Promise.all([1, 2].map(() => newKey({ algorithm: "RSA", rsaBits: 3072 })));
        expect(keyPoolStats().generated - before).toBeLessThanOrEqual(2);
        expect(new Set(keys.map(spki)).size).toBe(2);
        // Real, usable keys of the asked size.
        expect(openssl("pkey", "-in", write(str(keys[1], "privateKeyPem")), "-noout", "-text").out).toMatch(/Private-Key: \(3072 bit/);
        expect(() => prefetchKeys({ algorithm: "RSA", rsaBits: 2048 }, 1)).toThrow(/the simulator models only/);
    });
});

describe("refusals the provider (or Go's crypto/x509) would also make", () => {
    let caKey: SimResult;
    let ca: SimResult;
    beforeAll(async () => {
        caKey = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        ca = (await simulateTls(TLS_SELF_SIGNED_CERT, "ca", {
            privateKeyPem: str(caKey, "privateKeyPem"),
            subject: { organization: "Istio", commonName: "Root CA" },
            isCaCertificate: true,
            allowedUses: CA_USES,
            validityPeriodHours: 24,
        }))!;
    });

    it("rejects a CSR whose signature was made by another key", async () => {
        const a = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        const b = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        const csr = await simulateTls(TLS_CERT_REQUEST, "csr", {
            privateKeyPem: str(a, "privateKeyPem"),
            subject: { commonName: "victim" },
        });
        // Swap in b's public key (same length for P-256); the signature is still a's.
        const der = Buffer.from(str(csr!, "certRequestPem").replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
        const spkiOf = (k: SimResult) => crypto.createPublicKey(str(k, "publicKeyPem")).export({ type: "spki", format: "der" });
        const at = der.indexOf(spkiOf(a));
        expect(at).toBeGreaterThan(0);
        spkiOf(b).copy(der, at);
        const forged =
            `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END ` +
            `CERTIFICATE REQUEST-----\n`;
        // openssl agrees that it is forged (OpenSSL 3.0 still exits 0 here, so read what it says).
        const check = openssl("req", "-in", write(forged), "-noout", "-verify").out;
        expect(check).toMatch(/verify failure/);
        expect(check).not.toMatch(/verify OK/);
        await expect(
            simulateTls(TLS_LOCALLY_SIGNED_CERT, "forged", {
                certRequestPem: forged,
                caPrivateKeyPem: str(caKey, "privateKeyPem"),
                caCertPem: str(ca, "certPem"),
                allowedUses: ["server_auth"],
                validityPeriodHours: 1,
            }),
        ).rejects.toThrow(/signature does not verify/);
    });

    it("rejects a CA key that does not match the CA certificate", async () => {
        const other = await newKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        const csr = await simulateTls(TLS_CERT_REQUEST, "csr", {
            privateKeyPem: str(other, "privateKeyPem"),
            subject: { commonName: "x" },
        });
        await expect(
            simulateTls(TLS_LOCALLY_SIGNED_CERT, "mismatch", {
                certRequestPem: str(csr!, "certRequestPem"),
                caPrivateKeyPem: str(other, "privateKeyPem"),
                caCertPem: str(ca, "certPem"),
                allowedUses: ["server_auth"],
                validityPeriodHours: 1,
            }),
        ).rejects.toThrow(/doesn't match parent's PublicKey/);
    });

    it("rejects a CA without a subject, a pathlen on a non-CA, and camelCase key usages", async () => {
        const base = { privateKeyPem: str(caKey, "privateKeyPem"), allowedUses: ["cert_signing"], validityPeriodHours: 1 };
        await expect(simulateTls(TLS_SELF_SIGNED_CERT, "s", { ...base, isCaCertificate: true, subject: {} })).rejects.toThrow(
            /at least one Distinguished Name/,
        );
        await expect(simulateTls(TLS_SELF_SIGNED_CERT, "s", { ...base, subject: { commonName: "x" }, maxPathLength: 1 })).rejects.toThrow(
            /only CAs are allowed to specify MaxPathLen/,
        );
        await expect(simulateTls(TLS_SELF_SIGNED_CERT, "s", { ...base, allowedUses: ["certSigning"] })).rejects.toThrow(
            /"certSigning" is not one of/,
        );
    });

    it("ignores types that are not tls resources", async () => {
        expect(await simulateTls("kubernetes:core/v1:Secret", "s", {})).toBeUndefined();
    });

    it("uses the given time as NotBefore", async () => {
        const now = new Date("2030-01-02T03:04:05.678Z");
        const cert = await simulateTls(
            TLS_SELF_SIGNED_CERT,
            "t",
            { privateKeyPem: str(caKey, "privateKeyPem"), subject: { commonName: "t" }, allowedUses: [], validityPeriodHours: 2 },
            now,
        );
        const x = new crypto.X509Certificate(str(cert!, "certPem"));
        expect(new Date(x.validFrom).toISOString()).toBe("2030-01-02T03:04:05.000Z");
        expect(new Date(x.validTo).toISOString()).toBe("2030-01-02T05:04:05.000Z");
        expect(cert!.state.validityStartTime).toBe("2030-01-02T03:04:05.678Z");
        expect(cert!.state.validityEndTime).toBe("2030-01-02T05:04:05.678Z");
    });
});
