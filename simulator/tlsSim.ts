// Real @pulumi/tls resources for the mock runtime: keys, CSRs and certificates are generated from the
// inputs the way terraform-provider-tls does it with Go's crypto/x509 (common_cert.go,
// common_key.go, resource_*.go), and the returned state has the provider's shape, so tests can
// check the PKI with openssl and node instead of trusting placeholder strings.
//
// Only the keys mesh.trust allows are modelled (components/meshConfig.ts: RSA of at least 3072 bits,
// ECDSA P-256 or P-384): the provider's defaults (RSA 2048, ECDSA P-224), P-521, ED25519 and the
// OpenSSH encodings are refused or left out, so a program that asks for anything else fails offline.
import * as crypto from "node:crypto";
import * as net from "node:net";
import { promisify } from "node:util";
// @peculiar/x509 builds on tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { TYPES } from "../components/pulumiTypes";

type CryptoArg = Parameters<typeof x509.cryptoProvider.set>[0];
type CertCreateParams = Parameters<typeof x509.X509CertificateGenerator.create>[0];
type CsrCreateParams = Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0];

x509.cryptoProvider.set(crypto.webcrypto as unknown as CryptoArg);

export interface SimResult {
    id: string;
    state: Record<string, unknown>;
}

export const TLS_PRIVATE_KEY = TYPES.privateKey;
export const TLS_SELF_SIGNED_CERT = TYPES.selfSignedCert;
export const TLS_CERT_REQUEST = TYPES.certRequest;
export const TLS_LOCALLY_SIGNED_CERT = TYPES.locallySignedCert;

/** Returns undefined for non-tls types. `type` is the Pulumi type token, `inputs` the deserialized inputs (plain JS values; secrets already unwrapped). */
export async function simulateTls(
    type: string,
    name: string,
    inputs: Record<string, any>,
    now: Date = new Date(),
): Promise<SimResult | undefined> {
    const handlers: Record<string, () => Promise<SimResult>> = {
        [TLS_PRIVATE_KEY]: () => privateKey(inputs),
        [TLS_SELF_SIGNED_CERT]: () => selfSignedCert(inputs, now),
        [TLS_CERT_REQUEST]: () => certRequest(inputs),
        [TLS_LOCALLY_SIGNED_CERT]: () => locallySignedCert(inputs, now),
    };
    const handler = handlers[type];
    if (!handler) return undefined;
    try {
        return await handler();
    } catch (e) {
        // Same failure the provider would report on `up`, named after the resource.
        throw new Error(`${type} "${name}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

type Algorithm = "RSA" | "ECDSA";
type Curve = "P-256" | "P-384";

interface Key {
    algorithm: Algorithm;
    privateKey: crypto.KeyObject;
    /** SubjectPublicKeyInfo DER, as Go's x509.MarshalPKIXPublicKey writes it. */
    spki: Buffer;
    curve?: Curve;
}

/** The curves mesh.trust.ecdsaCurve allows, by the provider's name for them. */
const PROVIDER_CURVES: Record<string, string> = { P256: "prime256v1", P384: "secp384r1" };
const NODE_CURVES: Record<string, Curve> = { prime256v1: "P-256", secp384r1: "P-384" };
/** Go's signingParamsForKey: P-256 signs with SHA-256, P-384 with SHA-384. */
const CURVE_HASH: Record<Curve, "sha256" | "sha384"> = { "P-256": "sha256", "P-384": "sha384" };
/** The smallest RSA key mesh.trust.rsaBits allows. */
export const MIN_RSA_BITS = 3072;
const MODELLED = `the simulator models only the keys mesh.trust allows: RSA of at least ${MIN_RSA_BITS} bits, ECDSA P256 or P384`;

function toKey(k: crypto.KeyObject): Key {
    const spki = crypto.createPublicKey(k).export({ type: "spki", format: "der" });
    switch (k.asymmetricKeyType) {
        case "rsa": {
            const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
            if (bits < MIN_RSA_BITS) throw new Error(`an RSA key of ${bits} bits: ${MODELLED}`);
            return { algorithm: "RSA", privateKey: k, spki };
        }
        case "ec": {
            const curve = NODE_CURVES[k.asymmetricKeyDetails?.namedCurve ?? ""];
            if (!curve) throw new Error(`an ECDSA key on curve ${k.asymmetricKeyDetails?.namedCurve}: ${MODELLED}`);
            return { algorithm: "ECDSA", privateKey: k, spki, curve };
        }
        default:
            throw new Error(`a key of type ${k.asymmetricKeyType}: ${MODELLED}`);
    }
}

/** The PEM types parsePrivateKeyPEM accepts, and the DER each one holds. */
const PRIVATE_KEY_PEM: Record<string, "pkcs1" | "sec1" | "pkcs8"> = {
    "RSA PRIVATE KEY": "pkcs1",
    "EC PRIVATE KEY": "sec1",
    "PRIVATE KEY": "pkcs8",
};

function parsePrivateKeyPem(pem: unknown, attr: string): Key {
    const block = decodePem(requireString(pem, attr), attr);
    const type = PRIVATE_KEY_PEM[block.type];
    if (!type) throw new Error(`${attr}: unsupported PEM preamble/type: ${block.type}`);
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey({ key: block.der, format: "der", type });
    } catch (e) {
        throw new Error(`${attr}: failed to parse private key given PEM preamble '${block.type}': ${(e as Error).message}`, { cause: e });
    }
    try {
        return toKey(key);
    } catch (e) {
        throw new Error(`${attr}: ${(e as Error).message}`, { cause: e });
    }
}

// ---------------------------------------------------------------------------------------------
// The key pool: RSA-4096 generation takes 0.4-1.5 s a key on one core, most of an offline plan.
//
// Within one run (one offline plan: see startKeyRun) every PrivateKey gets its own key, so a root
// and its intermediates never share one and a key wired to the wrong certificate still fails the
// checks. Across runs in one process (the tests, which plan many stacks) keys are handed out again,
// and a run can ask for the keys it will need before the program asks (prefetchKeys), so they are
// generated on libuv's thread pool while the main thread loads the program.
//
// RSA keys of one size share their primes: the k-th key is p_i * p_j for the k-th pair i < j, so m
// primes make m(m-1)/2 distinct keys (3 primes: 3 keys for the price of 1.5). Every modulus, and so
// every key, signature and key identifier, is still its own; only the factors repeat, which would
// make the keys worthless outside a simulation (a gcd of two moduli factors both). They are
// throwaway keys that no output of the plan contains.

const generateKeyPair = promisify(crypto.generateKeyPair);
const generatePrime = promisify(crypto.generatePrime) as unknown as (bits: number, options: { bigint: true }) => Promise<bigint>;
const RSA_E = 65537n;

/** What a key is generated from; the pool keeps keys apart by it. */
export type KeySpec = { algorithm: "RSA"; rsaBits: number } | { algorithm: "ECDSA"; ecdsaCurve: "P256" | "P384" };

interface PoolEntry {
    /** Generated (or being generated), not yet handed out in this run. */
    free: Promise<crypto.KeyObject>[];
    /** Handed out in this run. */
    taken: Promise<crypto.KeyObject>[];
}

const pool = new Map<string, PoolEntry>();
const poolStats = { generated: 0, reused: 0 };
/** Keys handed out in some run so far. */
const handedOut = new WeakSet<Promise<crypto.KeyObject>>();

function specId(spec: KeySpec): string {
    return spec.algorithm === "RSA" ? `RSA-${spec.rsaBits}` : `ECDSA-${spec.ecdsaCurve}`;
}

function entryOf(spec: KeySpec): PoolEntry {
    let e = pool.get(specId(spec));
    if (!e) pool.set(specId(spec), (e = { free: [], taken: [] }));
    return e;
}

function generate(spec: KeySpec): Promise<crypto.KeyObject> {
    poolStats.generated++;
    const key =
        spec.algorithm === "ECDSA"
            ? generateKeyPair("ec", { namedCurve: PROVIDER_CURVES[spec.ecdsaCurve] }).then((pair) => pair.privateKey)
            : spec.rsaBits % 2 === 0
              ? rsaFromSharedPrimes(spec.rsaBits)
              : generateKeyPair("rsa", { modulusLength: spec.rsaBits, publicExponent: 65537 }).then((pair) => pair.privateKey);
    // A prefetched key nobody takes must not become an unhandled rejection; whoever takes it sees the error.
    key.catch(() => undefined);
    return key;
}

/** Per RSA size: the primes so far, and how many keys were made from them. */
const rsaPrimes = new Map<number, { primes: Promise<bigint>[]; keys: number }>();

/** The k-th pair (i < j) in the order (0,1), (0,2), (1,2), (0,3), …: each new prime adds j new pairs. */
function pairAt(k: number): [number, number] {
    let j = 1;
    while (k >= j) {
        k -= j;
        j++;
    }
    return [k, j];
}

/** A prime of `bits` bits (OpenSSL sets the top two bits, so two of them multiply to 2·bits) with p-1 prime to e. */
async function rsaPrime(bits: number): Promise<bigint> {
    for (;;) {
        const p = await generatePrime(bits, { bigint: true });
        if ((p - 1n) % RSA_E !== 0n) return p;
    }
}

async function rsaFromSharedPrimes(bits: number): Promise<crypto.KeyObject> {
    let source = rsaPrimes.get(bits);
    if (!source) rsaPrimes.set(bits, (source = { primes: [], keys: 0 }));
    const [i, j] = pairAt(source.keys++);
    while (source.primes.length <= j) source.primes.push(rsaPrime(bits / 2));
    const [p, q] = await Promise.all([source.primes[i], source.primes[j]]);
    const key = rsaKeyFromPrimes(p, q);
    if (key.asymmetricKeyDetails?.modulusLength !== bits) {
        // Not expected with OpenSSL's primes; a key of the asked size regardless.
        return (await generateKeyPair("rsa", { modulusLength: bits, publicExponent: 65537 })).privateKey;
    }
    return key;
}

/** The RSA private key with primes p and q and e = 65537 (d modulo lcm(p-1, q-1), as Go's rsa.GenerateKey). */
export function rsaKeyFromPrimes(p: bigint, q: bigint): crypto.KeyObject {
    if (p === q) throw new Error("rsa: p and q must differ");
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    const inverse = (a: bigint, m: bigint): bigint => {
        let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
        while (r1 !== 0n) {
            const t = r0 / r1;
            [r0, r1] = [r1, r0 - t * r1];
            [s0, s1] = [s1, s0 - t * s1];
        }
        if (r0 !== 1n) throw new Error("rsa: no inverse");
        return ((s0 % m) + m) % m;
    };
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const d = inverse(RSA_E, lambda);
    const b64 = (n: bigint) => Buffer.from(evenHex(n), "hex").toString("base64url");
    const jwk = {
        kty: "RSA",
        n: b64(p * q),
        e: b64(RSA_E),
        d: b64(d),
        p: b64(p),
        q: b64(q),
        dp: b64(d % (p - 1n)),
        dq: b64(d % (q - 1n)),
        qi: b64(inverse(q, p)),
    };
    return crypto.createPrivateKey({ key: jwk, format: "jwk" });
}

/** A key for one PrivateKey resource: never one already handed out in this run. */
function takeKey(spec: KeySpec): Promise<crypto.KeyObject> {
    const e = entryOf(spec);
    const key = e.free.shift() ?? generate(spec);
    if (handedOut.has(key)) poolStats.reused++;
    handedOut.add(key);
    e.taken.push(key);
    return key;
}

/** Start generating keys so that `count` of this kind are ready for the current run. */
export function prefetchKeys(spec: KeySpec, count: number): void {
    checkSpec(spec);
    const e = entryOf(spec);
    while (e.free.length < count) e.free.push(generate(spec));
}

/**
 * A new run (one plan): keys handed out before may be handed out again, each to one resource.
 * Without it every key the process generates is used once.
 */
export function startKeyRun(): void {
    for (const e of pool.values()) {
        e.free = [...e.taken, ...e.free];
        e.taken = [];
    }
}

/** How many keys this process generated, and how many resources got a key from an earlier run. */
export function keyPoolStats(): { generated: number; reused: number } {
    return { ...poolStats };
}

function checkSpec(spec: KeySpec): void {
    if (spec.algorithm === "RSA") {
        if (!Number.isInteger(spec.rsaBits)) throw new Error(`rsaBits must be an integer, got ${spec.rsaBits}`);
        if (spec.rsaBits < MIN_RSA_BITS) throw new Error(`rsaBits ${spec.rsaBits}: ${MODELLED}`);
        // Node refuses absurd sizes slowly; Go's rsa.GenerateKey has no upper limit, but nothing needs more.
        if (spec.rsaBits > 16384) throw new Error(`rsaBits ${spec.rsaBits}: ${MODELLED}, up to 16384 bits`);
    } else if (!PROVIDER_CURVES[spec.ecdsaCurve]) {
        throw new Error(`ecdsaCurve ${JSON.stringify(spec.ecdsaCurve)}: ${MODELLED}`);
    }
}

async function privateKey(inputs: Record<string, any>): Promise<SimResult> {
    const algorithm = inputs.algorithm;
    // The provider's defaults, named so that a missing size or curve is refused with what it would have been.
    const rsaBits: number = inputs.rsaBits ?? 2048;
    const ecdsaCurve: string = inputs.ecdsaCurve ?? "P224";
    if (algorithm !== "RSA" && algorithm !== "ECDSA") throw new Error(`algorithm ${JSON.stringify(algorithm)}: ${MODELLED}`);
    const unset = (attr: string) => (inputs[attr] === undefined ? ` (the provider's default when ${attr} is unset)` : "");
    const spec: KeySpec = algorithm === "RSA" ? { algorithm, rsaBits } : { algorithm, ecdsaCurve: ecdsaCurve as "P256" | "P384" };
    try {
        checkSpec(spec);
    } catch (e) {
        throw new Error(
            `${(e as Error).message.replace(/^(rsaBits \d+|ecdsaCurve "[^"]*")/, `$1${unset(algorithm === "RSA" ? "rsaBits" : "ecdsaCurve")}`)}`,
            { cause: e },
        );
    }
    const k = await takeKey(spec);
    const key = toKey(k);

    // resource_private_key.go: RSA as PKCS#1, ECDSA as SEC 1. The OpenSSH encodings and their
    // fingerprints are not simulated (nothing here reads them): they are absent from the state.
    const privateKeyPem = algorithm === "RSA" ? exportPem(k, "pkcs1") : exportPem(k, "sec1");
    return {
        // hashForState(string(pubKeyBytes))
        id: hashForState(key.spki),
        state: {
            algorithm,
            rsaBits,
            ecdsaCurve,
            privateKeyPem,
            privateKeyPemPkcs8: exportPem(k, "pkcs8"),
            publicKeyPem: pemEncode("PUBLIC KEY", key.spki),
        },
    };
}

function exportPem(k: crypto.KeyObject, type: "pkcs1" | "sec1" | "pkcs8"): string {
    return k.export({ type, format: "pem" }) as string;
}

// ---------------------------------------------------------------------------------------------
// Names and extensions, as Go's crypto/x509 encodes them

/** Go's pkix.Name, restricted to what the provider sets (createSubjectDistinguishedNames). */
interface GoName {
    C: string[];
    ST: string[];
    L: string[];
    STREET: string[];
    POSTALCODE: string[];
    O: string[];
    OU: string[];
    CN: string;
    SERIALNUMBER: string;
    /** Go puts emailAddress in ExtraNames, as an IA5String in its own RDN after the rest. */
    email?: string;
}

const OID_NAME = {
    C: "2.5.4.6",
    ST: "2.5.4.8",
    L: "2.5.4.7",
    STREET: "2.5.4.9",
    POSTALCODE: "2.5.4.17",
    O: "2.5.4.10",
    OU: "2.5.4.11",
    CN: "2.5.4.3",
    SERIALNUMBER: "2.5.4.5",
} as const;
const OID_EMAIL = "1.2.840.113549.1.9.1";
/** pkix.Name.ToRDNSequence order (crypto/x509/pkix/pkix.go). */
const LIST_ATTRS = ["C", "ST", "L", "STREET", "POSTALCODE", "O", "OU"] as const;

function emptyName(): GoName {
    return { C: [], ST: [], L: [], STREET: [], POSTALCODE: [], O: [], OU: [], CN: "", SERIALNUMBER: "" };
}

/** createSubjectDistinguishedNames: a set attribute is kept even when "" (CN and serial are not: Go skips empty ones). */
function nameFromSubject(subject: Record<string, any> | undefined): GoName {
    const n = emptyName();
    if (!subject) return n;
    const one = (v: unknown): string[] => (v === undefined || v === null ? [] : [String(v)]);
    n.CN = subject.commonName ?? "";
    n.O = one(subject.organization);
    n.OU = one(subject.organizationalUnit);
    n.STREET = Array.isArray(subject.streetAddresses) ? subject.streetAddresses.map(String) : [];
    n.L = one(subject.locality);
    n.ST = one(subject.province);
    n.C = one(subject.country);
    n.POSTALCODE = one(subject.postalCode);
    n.SERIALNUMBER = subject.serialNumber ?? "";
    if (subject.emailAddress !== undefined && subject.emailAddress !== null) n.email = String(subject.emailAddress);
    return n;
}

/** cmp.Equal(template.Subject, pkix.Name{}) */
function isEmptyName(n: GoName): boolean {
    return LIST_ATTRS.every((a) => n[a].length === 0) && !n.CN && !n.SERIALNUMBER && n.email === undefined;
}

/** encoding/asn1 writes a plain string as PrintableString when it can, else UTF8String. */
function isPrintable(s: string): boolean {
    return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

/** DER of pkix.Name.ToRDNSequence(): one RDN per attribute type (multi-valued, DER-sorted SET OF). */
function nameDer(n: GoName): Buffer {
    const rdns: x509.JsonNameParams = [];
    const add = (oid: string, values: string[]) => {
        if (values.length === 0) return;
        const tagged = values.map((v) => ({ v, printable: isPrintable(v) }));
        // encoding/asn1 sorts SET OF members by their encodings (X.690 11.6).
        const atv = (t: { v: string; printable: boolean }) =>
            der(0x30, der(0x06, encodeOid(oid)), der(t.printable ? 0x13 : 0x0c, Buffer.from(t.v, "utf8")));
        tagged.sort((a, b) => Buffer.compare(atv(a), atv(b)));
        rdns.push({ [oid]: tagged.map((t) => (t.printable ? { printableString: t.v } : { utf8String: t.v })) });
    };
    for (const a of LIST_ATTRS) add(OID_NAME[a], n[a]);
    if (n.CN) add(OID_NAME.CN, [n.CN]);
    if (n.SERIALNUMBER) add(OID_NAME.SERIALNUMBER, [n.SERIALNUMBER]);
    if (n.email !== undefined) rdns.push({ [OID_EMAIL]: [{ ia5String: n.email }] });
    return Buffer.from(new x509.Name(rdns).toArrayBuffer());
}

/** pkix.Name.FillFromRDNSequence: only the known string attributes survive (an emailAddress does not). */
function nameFromDer(nameTlv: Buffer): GoName {
    const n = emptyName();
    for (const rdn of children(nameTlv, 0x30)) {
        for (const atv of children(rdn, 0x31)) {
            const [oidTlv, valueTlv] = children(atv, 0x30);
            const value = decodeAsn1String(valueTlv);
            if (value === undefined) continue;
            const oid = decodeOid(contents(oidTlv, 0x06));
            const attr = (Object.keys(OID_NAME) as (keyof typeof OID_NAME)[]).find((k) => OID_NAME[k] === oid);
            if (attr === "CN" || attr === "SERIALNUMBER") n[attr] = value;
            else if (attr) n[attr].push(value);
        }
    }
    return n;
}

function decodeAsn1String(tlv: Buffer): string | undefined {
    const { tag } = readTlv(tlv, 0);
    const body = contents(tlv, tag);
    switch (tag) {
        case 0x0c: // UTF8String
        case 0x13: // PrintableString
        case 0x16: // IA5String
        case 0x12: // NumericString
            return body.toString("utf8");
        case 0x14: // T61String: Go keeps the bytes
            return body.toString("latin1");
        case 0x1e: // BMPString
            return Buffer.from(body).swap16().toString("utf16le");
        default:
            return undefined;
    }
}

const KEY_USAGES: Record<string, number> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    content_commitment: x509.KeyUsageFlags.nonRepudiation,
    key_encipherment: x509.KeyUsageFlags.keyEncipherment,
    data_encipherment: x509.KeyUsageFlags.dataEncipherment,
    key_agreement: x509.KeyUsageFlags.keyAgreement,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
    encipher_only: x509.KeyUsageFlags.encipherOnly,
    decipher_only: x509.KeyUsageFlags.decipherOnly,
};

const EXTENDED_KEY_USAGES: Record<string, string> = {
    any_extended: "2.5.29.37.0",
    server_auth: "1.3.6.1.5.5.7.3.1",
    client_auth: "1.3.6.1.5.5.7.3.2",
    code_signing: "1.3.6.1.5.5.7.3.3",
    email_protection: "1.3.6.1.5.5.7.3.4",
    ipsec_end_system: "1.3.6.1.5.5.7.3.5",
    ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
    ipsec_user: "1.3.6.1.5.5.7.3.7",
    timestamping: "1.3.6.1.5.5.7.3.8",
    ocsp_signing: "1.3.6.1.5.5.7.3.9",
    microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
    netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
    microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
    microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

const OID_SAN = "2.5.29.17";
const OID_SKI = "2.5.29.14";
const OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

interface Sans {
    dnsNames: string[];
    /** 4 bytes for IPv4 (Go writes ip.To4() when it exists), else 16. */
    ips: Buffer[];
    uris: string[];
}

/** net.ParseIP, then the To4() normalisation marshalSANs applies. */
function parseIp(s: string): Buffer | undefined {
    let ip: Buffer;
    if (net.isIPv4(s)) ip = Buffer.from(s.split(".").map(Number));
    else if (!s.includes("%") && net.isIPv6(s)) ip = expandIPv6(s);
    else return undefined;
    return to4(ip);
}

function to4(ip: Buffer): Buffer {
    const mapped = ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
    return mapped ? ip.subarray(12) : ip;
}

function expandIPv6(s: string): Buffer {
    let str = s;
    const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(str);
    if (dotted) {
        const [b0, b1, b2, b3] = dotted.slice(2).map(Number);
        str = `${dotted[1]}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
    }
    const [head, tail] = str.includes("::") ? str.split("::") : [str, undefined];
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
}

function sansFromInputs(inputs: Record<string, any>): Sans {
    const list = (v: unknown, attr: string): string[] => {
        if (v === undefined || v === null) return [];
        if (!Array.isArray(v)) throw new Error(`${attr} must be a list of strings`);
        return v.map(String);
    };
    const ips = list(inputs.ipAddresses, "ipAddresses").map((s) => {
        const ip = parseIp(s);
        if (!ip) throw new Error(`Invalid IP address: Failed to parse ${JSON.stringify(s)}`);
        return ip;
    });
    const uris = list(inputs.uris, "uris");
    for (const u of uris) {
        // url.Parse accepts nearly anything; an empty string is rejected by the schema.
        if (u.length === 0) throw new Error(`Invalid URI: Failed to parse ""`);
    }
    return { dnsNames: list(inputs.dnsNames, "dnsNames"), ips, uris };
}

function hasSans(s: Sans): boolean {
    return s.dnsNames.length + s.ips.length + s.uris.length > 0;
}

/** marshalSANs: DNS names, then IPs, then URIs, all IA5String. */
function sanDer(s: Sans): Buffer {
    const ia5 = (v: string) => {
        // eslint-disable-next-line no-control-regex -- IA5String is exactly the 7-bit range, control characters included
        if (!/^[\x00-\x7f]*$/.test(v)) throw new Error(`x509: "${v}" cannot be encoded as an IA5String`);
        return Buffer.from(v, "latin1");
    };
    return der(
        0x30,
        ...s.dnsNames.map((d) => der(0x82, ia5(d))),
        ...s.ips.map((ip) => der(0x87, ip)),
        ...s.uris.map((u) => der(0x86, ia5(u))),
    );
}

/** generateSubjectKeyID: SHA-1 of the raw public key bits (RSAPublicKey DER, or the EC point). */
function subjectKeyId(spki: Buffer): Buffer {
    const [, bitString] = children(spki, 0x30);
    return crypto.createHash("sha1").update(contents(bitString, 0x03).subarray(1)).digest();
}

// ---------------------------------------------------------------------------------------------
// Certificates

interface Template {
    subject: GoName;
    sans: Sans;
    /** The certified key's SubjectPublicKeyInfo. */
    spki: Buffer;
}

interface Parent {
    subjectDer: Buffer;
    subjectKeyId?: Buffer;
    /** Set for a real parent certificate, whose key must be the signer's (not for self-signed). */
    spki?: Buffer;
}

interface IssuedCert {
    id: string;
    certPem: string;
    validityStartTime: string;
    validityEndTime: string;
}

/** createCertificate (common_cert.go) followed by Go's x509.CreateCertificate. */
async function createCertificate(
    tpl: Template,
    parent: Parent | "self",
    signer: Key,
    inputs: Record<string, any>,
    now: Date,
    withAuthorityKeyIdAttr: boolean,
): Promise<IssuedCert> {
    const hours = inputs.validityPeriodHours;
    if (!Number.isInteger(hours) || hours < 0) throw new Error(`validityPeriodHours must be an integer >= 0, got ${JSON.stringify(hours)}`);
    for (const attr of ["earlyRenewalHours", "maxPathLength"] as const) {
        const v = inputs[attr];
        const min = attr === "maxPathLength" ? -1 : 0;
        if (v !== undefined && v !== null && (!Number.isInteger(v) || v < min))
            throw new Error(`${attr} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    const notBefore = new Date(now.getTime());
    const notAfter = new Date(now.getTime() + hours * 3_600_000);
    // rand.Int(rand.Reader, 2^128)
    const serial = BigInt(`0x${crypto.randomBytes(16).toString("hex")}`);

    const allowedUses = inputs.allowedUses;
    if (!Array.isArray(allowedUses)) throw new Error("allowedUses is required (a list of key usages)");
    let keyUsage = 0;
    const extKeyUsage: string[] = [];
    for (const use of allowedUses) {
        if (KEY_USAGES[use] !== undefined) keyUsage |= KEY_USAGES[use];
        else if (EXTENDED_KEY_USAGES[use] !== undefined) extKeyUsage.push(EXTENDED_KEY_USAGES[use]);
        else
            throw new Error(
                `allowedUses: ${JSON.stringify(use)} is not one of ${[...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].sort().join(", ")}`,
            );
    }

    const isCA = inputs.isCaCertificate === true;
    let ski: Buffer | undefined;
    if (isCA) {
        if (isEmptyName(tpl.subject))
            throw new Error(
                "Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)",
            );
        ski = subjectKeyId(tpl.spki);
    }
    // Only a value >= 0 reaches the template; 0 then means "unset" to Go, so no pathlen is written.
    const maxPathLen = typeof inputs.maxPathLength === "number" && inputs.maxPathLength >= 0 ? inputs.maxPathLength : 0;
    if (inputs.setSubjectKeyId === true) ski = subjectKeyId(tpl.spki);
    let aki: Buffer | undefined;
    if (withAuthorityKeyIdAttr && inputs.setAuthorityKeyId === true) {
        // Self-signed: the parent is the template itself.
        const parentSki = parent === "self" ? ski : parent.subjectKeyId;
        if (!parentSki || parentSki.length === 0)
            throw new Error("Invalid Certificate Authority: Could not determine Authority Key Identifier");
        aki = parentSki;
    }

    // --- x509.CreateCertificate
    if (!isCA && maxPathLen !== 0) throw new Error("Failed to create certificate: x509: only CAs are allowed to specify MaxPathLen");
    const subjectDer = nameDer(tpl.subject);
    const issuerDer = parent === "self" ? subjectDer : parent.subjectDer;
    if (parent !== "self" && !issuerDer.equals(subjectDer) && parent.subjectKeyId && parent.subjectKeyId.length > 0)
        aki = parent.subjectKeyId;
    if (parent !== "self" && parent.spki && !canonicalSpki(parent.spki).equals(signer.spki)) {
        throw new Error("Failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey");
    }

    // buildCertExtensions order: keyUsage, extKeyUsage, basicConstraints, SKI, AKI, SAN.
    const extensions: x509.Extension[] = [];
    if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
    if (extKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extKeyUsage, false));
    // Both resources set BasicConstraintsValid, so even a leaf says CA:FALSE (critical, as Go marks it).
    extensions.push(new x509.BasicConstraintsExtension(isCA, isCA && maxPathLen > 0 ? maxPathLen : undefined, true));
    if (ski) extensions.push(new x509.SubjectKeyIdentifierExtension(ski.toString("hex"), false));
    if (aki) extensions.push(new x509.AuthorityKeyIdentifierExtension(aki.toString("hex"), false));
    // An empty subject makes the SAN critical (RFC 5280 4.2.1.6).
    if (hasSans(tpl.sans)) extensions.push(new x509.Extension(OID_SAN, subjectDer.equals(EMPTY_NAME_DER), sanDer(tpl.sans)));

    const { keyAlgorithm, signingAlgorithm, provider } = signerCrypto(signer);
    const params = {
        serialNumber: evenHex(serial),
        subject: new x509.Name(subjectDer),
        issuer: new x509.Name(issuerDer),
        notBefore,
        notAfter,
        publicKey: tpl.spki,
        signingKey: { algorithm: keyAlgorithm, type: "private", extractable: false, usages: ["sign"] },
        signingAlgorithm,
        extensions,
    } as unknown as CertCreateParams;
    const cert = await x509.X509CertificateGenerator.create(params, provider as Parameters<typeof x509.X509CertificateGenerator.create>[1]);
    const raw = Buffer.from(cert.rawData);
    // Go copies the parent's RawSubject: the names must come out byte for byte as built.
    if (!tbsField(raw, "issuer").equals(issuerDer) || !tbsField(raw, "subject").equals(subjectDer))
        throw new Error("internal: a name was re-encoded");
    return {
        id: serial.toString(10),
        certPem: pemEncode("CERTIFICATE", raw),
        validityStartTime: rfc3339(notBefore),
        validityEndTime: rfc3339(notAfter),
    };
}

const EMPTY_NAME_DER = Buffer.from([0x30, 0x00]);

/** Signing through node:crypto, shaped as the bits of WebCrypto @peculiar/x509 calls. */
function signerCrypto(signer: Key): {
    keyAlgorithm: Record<string, unknown>;
    signingAlgorithm: Record<string, unknown>;
    provider: unknown;
} {
    let hash: "sha256" | "sha384";
    let keyAlgorithm: Record<string, unknown>;
    let signingAlgorithm: Record<string, unknown>;
    if (signer.algorithm === "RSA") {
        hash = "sha256"; // Go: SHA256WithRSA (PKCS #1 v1.5) for every RSA key
        keyAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: { name: "SHA-256" } };
        signingAlgorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    } else {
        hash = CURVE_HASH[signer.curve!];
        keyAlgorithm = { name: "ECDSA", namedCurve: signer.curve };
        signingAlgorithm = { name: "ECDSA", hash: hash.replace("sha", "SHA-") };
    }
    const provider = {
        getRandomValues: <T extends ArrayBufferView>(a: T): T => crypto.getRandomValues(a as never),
        subtle: {
            // ECDSA as r||s: the library's formatter turns it into the DER ECDSA-Sig-Value.
            sign: async (_alg: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView) =>
                toArrayBuffer(crypto.sign(hash, toBuffer(data), { key: signer.privateKey, dsaEncoding: "ieee-p1363" })),
            exportKey: async (format: string) => {
                if (format !== "spki") throw new Error(`exportKey(${format}) is not simulated`);
                return toArrayBuffer(signer.spki);
            },
        },
    };
    return { keyAlgorithm, signingAlgorithm, provider };
}

function selfSignedCertState(inputs: Record<string, any>): Record<string, unknown> {
    return {
        earlyRenewalHours: 0,
        isCaCertificate: false,
        setSubjectKeyId: false,
        setAuthorityKeyId: false,
        ...withoutWriteOnly(inputs),
    };
}

async function selfSignedCert(inputs: Record<string, any>, now: Date): Promise<SimResult> {
    const key = parsePrivateKeyPem(inputs.privateKeyPem ?? inputs.privateKeyPemWo, "privateKeyPem");
    const tpl: Template = { subject: nameFromSubject(inputs.subject), sans: sansFromInputs(inputs), spki: key.spki };
    const cert = await createCertificate(tpl, "self", key, inputs, now, true);
    return {
        id: cert.id,
        state: {
            ...selfSignedCertState(inputs),
            keyAlgorithm: key.algorithm,
            certPem: cert.certPem,
            validityStartTime: cert.validityStartTime,
            validityEndTime: cert.validityEndTime,
            readyForRenewal: false,
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Certificate requests

async function certRequest(inputs: Record<string, any>): Promise<SimResult> {
    const key = parsePrivateKeyPem(inputs.privateKeyPem ?? inputs.privateKeyPemWo, "privateKeyPem");
    const sans = sansFromInputs(inputs);
    const { keyAlgorithm, signingAlgorithm, provider } = signerCrypto(key);
    const keyStub = { algorithm: keyAlgorithm, type: "private", extractable: false, usages: ["sign"] };
    const params = {
        name: new x509.Name(nameDer(nameFromSubject(inputs.subject))),
        keys: { privateKey: keyStub, publicKey: { ...keyStub, type: "public", usages: ["verify"] } },
        signingAlgorithm,
        // CreateCertificateRequest: the SANs go in an extensionRequest, not critical.
        extensions: hasSans(sans) ? [new x509.Extension(OID_SAN, false, sanDer(sans))] : [],
    } as unknown as CsrCreateParams;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
        params,
        provider as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
    );
    const raw = Buffer.from(csr.rawData);
    return {
        id: hashForState(raw),
        state: { ...withoutWriteOnly(inputs), keyAlgorithm: key.algorithm, certRequestPem: pemEncode("CERTIFICATE REQUEST", raw) },
    };
}

interface ParsedCsr {
    subject: GoName;
    spki: Buffer;
    sans: Sans;
}

/** What Go's CreateCertificateRequest signs with for the modelled keys (signingParamsForKey). */
const CSR_SIGNATURES: Record<string, { key: string; hash: string }> = {
    "1.2.840.113549.1.1.11": { key: "rsa", hash: "sha256" },
    "1.2.840.10045.4.3.2": { key: "ec", hash: "sha256" },
    "1.2.840.10045.4.3.3": { key: "ec", hash: "sha384" },
};

/**
 * x509.ParseCertificateRequest plus a signature check. The provider itself never calls
 * CheckSignature; checking here is stricter on purpose, so a CSR that does not prove possession
 * of its key can never pass through the simulation.
 */
function parseCsr(pem: unknown): ParsedCsr {
    const block = decodePem(requireString(pem, "certRequestPem"), "certRequestPem");
    if (block.type !== "CERTIFICATE REQUEST")
        throw new Error(`certRequestPem: invalid PEM type - expected "CERTIFICATE REQUEST", got "${block.type}"`);
    try {
        new x509.Pkcs10CertificateRequest(block.der);
    } catch (e) {
        throw new Error(`failed to parse certificate request: ${(e as Error).message}`, { cause: e });
    }
    const [info, sigAlg, sigBits] = children(block.der, 0x30);
    const [, subject, spkiRaw, attributes] = children(info, 0x30);
    const sigOid = decodeOid(contents(children(sigAlg, 0x30)[0], 0x06));
    const scheme = CSR_SIGNATURES[sigOid];
    if (!scheme) throw new Error(`certificate request: unsupported signature algorithm ${sigOid}`);
    const publicKey = crypto.createPublicKey({ key: spkiRaw, format: "der", type: "spki" });
    if (publicKey.asymmetricKeyType !== scheme.key)
        throw new Error(`certificate request: signature algorithm ${sigOid} does not match its ${publicKey.asymmetricKeyType} public key`);
    const ok = crypto.verify(scheme.hash, info, { key: publicKey, dsaEncoding: "der" }, contents(sigBits, 0x03).subarray(1));
    if (!ok) throw new Error("certificate request: the signature does not verify with the request's own public key");

    const sans: Sans = { dnsNames: [], ips: [], uris: [] };
    if (attributes) {
        for (const attr of children(attributes, 0xa0)) {
            const [oidTlv, values] = children(attr, 0x30);
            if (decodeOid(contents(oidTlv, 0x06)) !== OID_EXTENSION_REQUEST) continue;
            for (const ext of children(children(values, 0x31)[0], 0x30)) {
                const parts = children(ext, 0x30);
                if (decodeOid(contents(parts[0], 0x06)) !== OID_SAN) continue;
                const value = contents(parts[parts.length - 1], 0x04);
                for (const gn of children(value, 0x30)) {
                    const { tag } = readTlv(gn, 0);
                    const body = contents(gn, tag);
                    // Go keeps DNS names, IPs and URIs; e-mail SANs are not copied into the certificate.
                    if (tag === 0x82) sans.dnsNames.push(body.toString("latin1"));
                    else if (tag === 0x86) sans.uris.push(body.toString("latin1"));
                    else if (tag === 0x87) {
                        if (body.length !== 4 && body.length !== 16)
                            throw new Error(`x509: cannot parse IP address of length ${body.length}`);
                        sans.ips.push(to4(Buffer.from(body)));
                    }
                }
            }
        }
    }
    return { subject: nameFromDer(subject), spki: canonicalSpki(spkiRaw), sans };
}

/** Go re-marshals a parsed public key, so the certificate carries the canonical SPKI. */
function canonicalSpki(spki: Buffer): Buffer {
    return crypto.createPublicKey({ key: spki, format: "der", type: "spki" }).export({ type: "spki", format: "der" });
}

// ---------------------------------------------------------------------------------------------
// Locally signed certificates

async function locallySignedCert(inputs: Record<string, any>, now: Date): Promise<SimResult> {
    const csr = parseCsr(inputs.certRequestPem);
    const caKey = parsePrivateKeyPem(inputs.caPrivateKeyPem ?? inputs.caPrivateKeyPemWo, "caPrivateKeyPem");
    const caBlock = decodePem(requireString(inputs.caCertPem, "caCertPem"), "caCertPem");
    if (caBlock.type !== "CERTIFICATE") throw new Error(`caCertPem: invalid PEM type - expected "CERTIFICATE", got "${caBlock.type}"`);
    try {
        new x509.X509Certificate(caBlock.der);
    } catch (e) {
        throw new Error(`failed to parse CA certificate: ${(e as Error).message}`, { cause: e });
    }
    // A CA certificate that is not a CA only earns a provider warning; the result will not verify.
    const parent: Parent = {
        subjectDer: tbsField(caBlock.der, "subject"),
        subjectKeyId: certSubjectKeyId(caBlock.der),
        spki: tbsField(caBlock.der, "spki"),
    };
    const tpl: Template = { subject: csr.subject, sans: csr.sans, spki: csr.spki };
    const cert = await createCertificate(tpl, parent, caKey, inputs, now, false);
    return {
        id: cert.id,
        state: {
            earlyRenewalHours: 0,
            isCaCertificate: false,
            setSubjectKeyId: false,
            ...withoutWriteOnly(inputs),
            caKeyAlgorithm: caKey.algorithm,
            certPem: cert.certPem,
            validityStartTime: cert.validityStartTime,
            validityEndTime: cert.validityEndTime,
            readyForRenewal: false,
        },
    };
}

/** Raw DER of a TBSCertificate field. */
function tbsField(certDer: Buffer, field: "issuer" | "subject" | "spki"): Buffer {
    const tbs = children(children(certDer, 0x30)[0], 0x30);
    const offset = readTlv(tbs[0], 0).tag === 0xa0 ? 1 : 0; // optional [0] version
    return tbs[offset + { issuer: 2, subject: 4, spki: 5 }[field]];
}

function certSubjectKeyId(certDer: Buffer): Buffer | undefined {
    const tbs = children(children(certDer, 0x30)[0], 0x30);
    const exts = tbs.find((t) => t[0] === 0xa3);
    if (!exts) return undefined;
    for (const ext of children(children(exts, 0xa3)[0], 0x30)) {
        const parts = children(ext, 0x30);
        if (decodeOid(contents(parts[0], 0x06)) === OID_SKI) return contents(contents(parts[parts.length - 1], 0x04), 0x04);
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Helpers: PEM, DER, state

/** Write-only inputs are never stored in state. */
function withoutWriteOnly(inputs: Record<string, any>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inputs)) if (!/Wo$/.test(k) && v !== undefined) out[k] = v;
    return out;
}

function requireString(v: unknown, attr: string): string {
    if (typeof v !== "string" || v.length === 0) throw new Error(`${attr} is required`);
    return v;
}

/** pem.Decode: the first block; anything after it is ignored. */
function decodePem(pem: string, attr: string): { type: string; der: Buffer } {
    const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
    if (!m) throw new Error(`${attr}: failed to decode PEM block`);
    if (m[2].includes(":")) throw new Error(`${attr}: PEM headers (encrypted keys) are not supported`);
    return { type: m[1], der: Buffer.from(m[2].replace(/\s+/g, ""), "base64") };
}

/** pem.EncodeToMemory: 64-column base64 and a trailing newline. */
function pemEncode(type: string, derBytes: Uint8Array): string {
    const b64 = Buffer.from(derBytes).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
    return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

/** time.Time.MarshalText (RFC 3339 with trailing zeros of the fraction dropped), in UTC. */
function rfc3339(d: Date): string {
    return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

/** hashForState: hex SHA-1 of strings.TrimSpace(value). DER starts with 0x30, so only its tail can be trimmed. */
function hashForState(value: Buffer): string {
    let end = value.length;
    const asciiSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
    const unicodeSpace = (cp: number) =>
        cp === 0x85 ||
        cp === 0xa0 ||
        cp === 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200a) ||
        cp === 0x2028 ||
        cp === 0x2029 ||
        cp === 0x202f ||
        cp === 0x205f ||
        cp === 0x3000;
    while (end > 0) {
        const c = value[end - 1];
        if (c < 0x80) {
            if (!asciiSpace(c)) break;
            end--;
            continue;
        }
        // utf8.DecodeLastRune; an invalid sequence is RuneError (not a space).
        let start = end - 1;
        while (start > Math.max(0, end - 4) && (value[start] & 0xc0) === 0x80) start--;
        let cp = -1;
        try {
            const s = new TextDecoder("utf-8", { fatal: true }).decode(value.subarray(start, end));
            if ([...s].length === 1) cp = s.codePointAt(0)!;
        } catch {
            cp = -1;
        }
        if (cp < 0 || !unicodeSpace(cp)) break;
        end = start;
    }
    return crypto.createHash("sha1").update(value.subarray(0, end)).digest("hex");
}

function evenHex(n: bigint): string {
    const hex = n.toString(16);
    return hex.length % 2 ? `0${hex}` : hex;
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
    return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

interface Tlv {
    tag: number;
    header: number;
    length: number;
}

function readTlv(buf: Buffer, offset: number): Tlv {
    if (offset + 2 > buf.length) throw new Error("malformed DER: truncated");
    const tag = buf[offset];
    let length = buf[offset + 1];
    let header = 2;
    if (length & 0x80) {
        const n = length & 0x7f;
        if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new Error("malformed DER: bad length");
        length = 0;
        for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i];
        header += n;
    }
    if (offset + header + length > buf.length) throw new Error("malformed DER: truncated");
    return { tag, header, length };
}

/** The contents of a single TLV, checking its tag. */
function contents(tlv: Buffer, tag: number): Buffer {
    const t = readTlv(tlv, 0);
    if (t.tag !== tag) throw new Error(`malformed DER: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
    return tlv.subarray(t.header, t.header + t.length);
}

/** The TLVs (raw, with header) inside a constructed TLV. */
function children(tlv: Buffer, tag: number): Buffer[] {
    const body = contents(tlv, tag);
    const out: Buffer[] = [];
    for (let off = 0; off < body.length;) {
        const t = readTlv(body, off);
        out.push(body.subarray(off, off + t.header + t.length));
        off += t.header + t.length;
    }
    return out;
}

function der(tag: number, ...parts: Uint8Array[]): Buffer {
    const body = Buffer.concat(parts);
    const n = body.length;
    const len: number[] = [];
    if (n < 0x80) len.push(n);
    else {
        for (let v = n; v > 0; v = Math.floor(v / 256)) len.unshift(v & 0xff);
        len.unshift(0x80 | len.length);
    }
    return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function decodeOid(b: Buffer): string {
    const arcs: number[] = [];
    let v = 0;
    for (const byte of b) {
        v = v * 128 + (byte & 0x7f);
        if (!(byte & 0x80)) {
            arcs.push(v);
            v = 0;
        }
    }
    const first = arcs.shift() ?? 0;
    const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
    return [...head, ...arcs].join(".");
}

function encodeOid(oid: string): Buffer {
    const [a, b, ...rest] = oid.split(".").map(Number);
    const out: number[] = [];
    for (const arc of [a * 40 + b, ...rest]) {
        const bytes = [arc & 0x7f];
        for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
        out.push(...bytes);
    }
    return Buffer.from(out);
}

/**
 * The provider's renewal rule for a certificate in state (SelfSignedCert, LocallySignedCert):
 * `validityEndTime − earlyRenewalHours <= now` marks it ready for renewal, on refresh (Read sets
 * `ready_for_renewal = true`) and on plan (ModifyPlan makes `ready_for_renewal` unknown and
 * requires replacement): hashicorp/terraform-provider-tls internal/provider/common_cert.go
 * `modifyStateIfCertificateReadyForRenewal`, `modifyPlanIfCertificateReadyForRenewal`.
 */
export function readyForRenewal(state: { validityEndTime?: unknown; earlyRenewalHours?: unknown }, now: Date): boolean {
    if (typeof state.validityEndTime !== "string") return false;
    const end = Date.parse(state.validityEndTime);
    if (Number.isNaN(end)) throw new Error(`Failed to parse data from string: ${state.validityEndTime}`);
    const early = typeof state.earlyRenewalHours === "number" ? state.earlyRenewalHours : 0;
    return end - early * 3_600_000 - now.getTime() <= 0;
}
