// `npm run trust:init`: an offline root and one intermediate per istiod cluster, made on this machine
// with real crypto (node's WebCrypto + @peculiar/x509), written 0600 to a directory outside the
// repository, and the `pulumi config set` commands that wire them into `trust.mode: provided`. The
// root key never enters Pulumi state; keep it offline (or in an HSM) once the intermediates exist.
//
// What it makes mirrors Istio's tools/certs (common.mk, root-ca.conf, intermediate.conf at 1.30.3):
// root CA:true, intermediates CA:true with pathlen:0, keyCertSign+cRLSign, SKI/AKI, SAN
// istiod.istio-system.svc, L=<cluster>; SHA-256 signatures; NotBefore an hour back, so a cluster
// whose clock is a little behind does not see a "not yet valid" bundle.
// @peculiar/x509 resolves its services through tsyringe, which needs the metadata polyfill first.
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as x509 from "@peculiar/x509";
import { CaBundle, verifyCaBundle } from "../components/caBundle";
import { CACERTS_KEYS, ISTIOD_HOST } from "../components/istio";
import { validateMeshConfig } from "../components/meshConfig";

type CryptoArg = Parameters<typeof x509.cryptoProvider.set>[0];
x509.cryptoProvider.set(crypto.webcrypto as unknown as CryptoArg);
type CryptoKeyPair = crypto.webcrypto.CryptoKeyPair;
type CryptoKey = crypto.webcrypto.CryptoKey;
type Algorithm = crypto.webcrypto.Algorithm;

export const BACKDATE_MS = 3_600_000;

export interface TrustInitOptions {
    stack: string;
    /** Directory the files go into (`<out>/<stack>/…`); must be outside `repoRoot`. */
    out: string;
    repoRoot: string;
    /** The stack's `multicluster-mesh:mesh` (clusters and trust settings are read from it). */
    mesh: unknown;
    /** Make the new root of a rotation: files under `<out>/<stack>/next-root/`, commands for newRootCertPem/newCaBundles. */
    rotation?: boolean;
    now?: Date;
}

export interface TrustInitResult {
    dir: string;
    files: string[];
    /** The commands to run, in order. */
    commands: string[];
    bundles: Record<string, CaBundle>;
    rootCertPem: string;
}

interface KeySpec {
    algorithm: "RSA" | "ECDSA";
    rsaBits: number;
    curve: "P-256" | "P-384";
}

/** True when `p` is `root` or below it. */
export function insideDir(root: string, p: string): boolean {
    const rel = path.relative(fs.realpathSync(root), realpathOrParent(p));
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function isLink(p: string): boolean {
    try {
        return fs.lstatSync(p).isSymbolicLink();
    } catch {
        return false;
    }
}

/** realpath of the deepest existing ancestor, plus the rest (so a symlink into the repo is caught). */
function realpathOrParent(p: string): string {
    const abs = path.resolve(p);
    let cur = abs;
    const rest: string[] = [];
    while (!fs.existsSync(cur)) {
        rest.unshift(path.basename(cur));
        const up = path.dirname(cur);
        if (up === cur) break;
        cur = up;
    }
    return path.join(fs.realpathSync(cur), ...rest);
}

/**
 * The stack's mesh config, checked by the same rules as a plan before anything is made (cluster names
 * become folder names, the organization a subject). The trust material does not exist yet, so it is
 * checked as generated trust outside a rotation; the clusters need not be reachable (their platform
 * checks wait for the plan).
 */
function meshFacts(mesh: unknown): { clusters: string[]; org: string; rootDays: number; interDays: number; key: KeySpec } {
    const m = (mesh && typeof mesh === "object" ? mesh : {}) as { trust?: Record<string, unknown> };
    const trust = { ...(m.trust && typeof m.trust === "object" ? m.trust : {}), mode: "generated" } as Record<string, unknown>;
    delete trust.rotation;
    const checked = validateMeshConfig({ ...m, trust }, { clustersBuilt: true });
    if (!checked.ok) {
        const n = checked.problems.length;
        throw new Error(
            `the stack config has ${n} problem${n === 1 ? "" : "s"} (nothing was written):\n` +
                checked.problems.map((p) => `  - ${p}`).join("\n"),
        );
    }
    const config = checked.config.mesh;
    const clusters = config.clusters.filter((c) => c.role === "primary").map((c) => c.name);
    if (clusters.length === 0) throw new Error("the stack's mesh config lists no cluster that runs istiod (role: primary)");
    const t = config.trust;
    return {
        clusters,
        org: t.organization,
        rootDays: t.rootValidityDays,
        interDays: t.intermediateValidityDays,
        key: { algorithm: t.keyAlgorithm, rsaBits: Math.max(t.rsaBits, 3072), curve: t.ecdsaCurve === "P384" ? "P-384" : "P-256" },
    };
}

/** One shell word, single-quoted (a `'` inside becomes `'\''`): pasted into any POSIX shell, it stays one argument. */
export function shellQuote(s: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A folder `name` directly under `parent` (which is checked already): made 0700, never a link, never anything but a folder. */
function privateDir(parent: string, name: string): string {
    if (name === "" || name === "." || name === ".." || path.basename(name) !== name)
        throw new Error(`refusing the folder name ${JSON.stringify(name)}: it would leave ${parent}`);
    const dir = path.join(parent, name);
    let st: fs.Stats | undefined;
    try {
        st = fs.lstatSync(dir);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (st?.isSymbolicLink()) throw new Error(`${dir} is a symbolic link; refusing to write key material through it (remove the link)`);
    if (st && !st.isDirectory()) throw new Error(`${dir} exists and is not a folder; refusing to write key material there`);
    if (!st) fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    if (fs.realpathSync(dir) !== path.join(fs.realpathSync(parent), name))
        throw new Error(`${dir} does not resolve to itself; refusing to write key material there`);
    return dir;
}

async function generateKey(spec: KeySpec): Promise<CryptoKeyPair> {
    const alg =
        spec.algorithm === "RSA"
            ? { name: "RSASSA-PKCS1-v1_5", modulusLength: spec.rsaBits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
            : { name: "ECDSA", namedCurve: spec.curve };
    return (await crypto.webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
}

function signingAlgorithm(spec: KeySpec): Algorithm {
    return (
        spec.algorithm === "RSA"
            ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
            : { name: "ECDSA", hash: spec.curve === "P-384" ? "SHA-384" : "SHA-256" }
    ) as Algorithm;
}

/** The key as PKCS#8 PEM, encoded by node's own KeyObject (no hand-written PEM armour). */
async function keyPem(k: CryptoKey): Promise<string> {
    return crypto.KeyObject.from(k).export({ type: "pkcs8", format: "pem" }).toString();
}

const serial = () =>
    crypto
        .randomBytes(16)
        .toString("hex")
        .replace(/^[89a-f]/, "1");
const CA_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

/** Make the root and the intermediates, check each bundle as istiod would, write them, and return the commands. */
export async function trustInit(o: TrustInitOptions): Promise<TrustInitResult> {
    const out = path.resolve(o.out);
    if (insideDir(o.repoRoot, out)) {
        throw new Error(
            `--out ${out} is inside the repository; key material must live outside it ` +
                "(a stray `git add` would publish the root key). Pick a directory such as ~/.multicluster-mesh/trust",
        );
    }
    const facts = meshFacts(o.mesh);
    // Every folder below --out is made here, one level at a time, and none may be a link.
    fs.mkdirSync(out, { recursive: true, mode: 0o700 });
    let dir = privateDir(out, o.stack);
    if (o.rotation) dir = privateDir(dir, "next-root");
    if (insideDir(o.repoRoot, dir)) throw new Error(`${dir} resolves inside the repository; key material must live outside it`);
    if (fs.existsSync(path.join(dir, "root-key.pem")) || isLink(path.join(dir, "root-key.pem")))
        throw new Error(`${dir} already holds a root key; refusing to overwrite it (move it away first)`);
    const now = o.now ?? new Date();
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const days = (d: number) => new Date(now.getTime() + d * 86_400_000);

    const rootKeys = await generateKey(facts.key);
    // Names as attribute lists, not RFC 4514 strings: the organization is one O value whatever it holds
    // (`Evil, CN=Injected` stays one organization, never a second common name).
    const rootName: x509.JsonName = [{ O: [facts.org] }, { CN: [`Root CA${o.rotation ? ` ${now.toISOString().slice(0, 10)}` : ""}`] }];
    const root = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: rootName,
        notBefore,
        notAfter: days(facts.rootDays),
        signingAlgorithm: signingAlgorithm(facts.key),
        keys: rootKeys,
        extensions: [
            new x509.BasicConstraintsExtension(true, undefined, true),
            new x509.KeyUsagesExtension(CA_USAGE, true),
            await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
        ],
    });
    const rootCertPem = root.toString("pem") + "\n";
    const files: Record<string, string> = { [CACERTS_KEYS.rootCert]: rootCertPem, "root-key.pem": await keyPem(rootKeys.privateKey) };
    const bundles: Record<string, CaBundle> = {};
    for (const cluster of facts.clusters) {
        const keys = await generateKey(facts.key);
        const cert = await x509.X509CertificateGenerator.create({
            serialNumber: serial(),
            subject: [{ O: [facts.org] }, { CN: ["Intermediate CA"] }, { L: [cluster] }],
            issuer: root.subject,
            notBefore,
            notAfter: days(Math.min(facts.interDays, facts.rootDays - 1)),
            signingAlgorithm: signingAlgorithm(facts.key),
            publicKey: keys.publicKey,
            signingKey: rootKeys.privateKey,
            extensions: [
                new x509.BasicConstraintsExtension(true, 0, true),
                new x509.KeyUsagesExtension(CA_USAGE, true),
                await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
                await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
                new x509.SubjectAlternativeNameExtension([{ type: "dns", value: ISTIOD_HOST }]),
            ],
        });
        const caCertPem = cert.toString("pem") + "\n";
        const bundle: CaBundle = { caCertPem, caKeyPem: await keyPem(keys.privateKey), rootCertPem, certChainPem: caCertPem + rootCertPem };
        const problems = verifyCaBundle(bundle, now);
        if (problems.length) throw new Error(`the bundle made for ${cluster} fails istiod's checks (a bug): ${problems.join("; ")}`);
        bundles[cluster] = bundle;
        files[`${cluster}/ca-cert.pem`] = bundle.caCertPem;
        files[`${cluster}/ca-key.pem`] = bundle.caKeyPem;
        files[`${cluster}/cert-chain.pem`] = bundle.certChainPem;
        files[`${cluster}/root-cert.pem`] = rootCertPem;
    }

    const written: string[] = [];
    for (const [rel, text] of Object.entries(files)) {
        const parts = rel.split("/");
        let parent = dir;
        for (const sub of parts.slice(0, -1)) parent = privateDir(parent, sub);
        const f = path.join(parent, parts[parts.length - 1]);
        // O_EXCL: never overwrite; O_NOFOLLOW: never through a link; 0600: only this user reads key material.
        const fd = fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
            fs.writeSync(fd, text);
            fs.fchmodSync(fd, 0o600);
        } finally {
            fs.closeSync(fd);
        }
        written.push(f);
    }

    // Every argument is one shell word (shellQuote), so a pasted line runs exactly `pulumi config set`.
    const s = `--stack ${shellQuote(o.stack)}`;
    const rootKey = o.rotation ? "newRootCertPem" : "rootCertPem";
    const bundleKey = o.rotation ? "newCaBundles" : "caBundles";
    const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
    const cat = (p: string) => `"$(cat ${q(p)})"`;
    const commands = [
        ...(o.rotation ? [] : [`pulumi config set ${s} --path 'mesh.trust.mode' provided`]),
        `pulumi config set ${s} ${rootKey} -- ${cat(path.join(dir, CACERTS_KEYS.rootCert))}`,
        ...facts.clusters.flatMap((c) => [
            `pulumi config set ${s} --secret --path ${q(`${bundleKey}.${c}.caCertPem`)} -- ${cat(path.join(dir, c, CACERTS_KEYS.caCert))}`,
            `pulumi config set ${s} --secret --path ${q(`${bundleKey}.${c}.caKeyPem`)} -- ${cat(path.join(dir, c, CACERTS_KEYS.caKey))}`,
            `pulumi config set ${s} --secret --path ${q(`${bundleKey}.${c}.certChainPem`)} -- ${cat(path.join(dir, c, CACERTS_KEYS.certChain))}`,
        ]),
        `# then move ${path.join(dir, "root-key.pem").replace(/\n/g, " ")} offline (it signs new intermediates; Pulumi never needs it)`,
        ...(o.rotation
            ? [`# and walk the rotation: docs/root-rotation.md (add-root uses ${rootKey}; switch-intermediates uses ${bundleKey})`]
            : []),
    ];
    return { dir, files: written, commands, bundles, rootCertPem };
}
