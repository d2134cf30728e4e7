// Reading Pulumi.<stack>.yaml as the Pulumi CLI would hand it to the program, for the offline plan:
// the stack name checked with Pulumi's own rule before any file is touched, `secure:` values found
// wherever they are (top level or nested, as `pulumi config set --secret --path` writes them), and
// decrypted when the stack uses the passphrase provider and PULUMI_CONFIG_PASSPHRASE(_FILE) is set;
// otherwise each one becomes the UNDECRYPTED_SECRET marker (components/secretPlaceholder.ts).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { plainPrivateKeys, unknownProjectKeys } from "../components/configKeys";
import { readYamlFile } from "./yamlFile";
import { readRegularFile } from "../components/safeRead";
import { ConfigPath, securePaths } from "../components/secretConfig";
import { UNDECRYPTED_SECRET } from "../components/secretPlaceholder";
import type { KeySpec } from "../simulator/tlsSim";

/**
 * Pulumi's stack name rule, tokens.ParseStackName (pulumi/pulumi sdk/go/common/tokens/stack_name.go
 * at v3.248.0): not empty, at most 100 characters, each one of `[A-Za-z0-9_.-]`, with the same
 * messages. Pulumi also accepts `.` and `..`; they are refused here because the plan writes out/<stack>/.
 * A qualified name (`org/project/stack`) is refused too: the stack file is Pulumi.<stack>.yaml.
 */
export function stackNameProblem(s: string): string | undefined {
    if (s === "") return "a stack name may not be empty";
    if (s.length > 100) return "a stack name cannot exceed 100 characters";
    const bad = /[^A-Za-z0-9_.-]/.exec(s);
    if (bad) {
        const why =
            "a stack name may only contain alphanumeric, hyphens, underscores, or periods: " +
            `invalid character '${bad[0]}' at position ${bad.index}`;
        return bad[0] === "/" ? `${why} (give the stack's own name, the <stack> of Pulumi.<stack>.yaml, not org/project/stack)` : why;
    }
    if (/^\.+$/.test(s)) return `"${s}" cannot name a stack here: out/${s}/ would not be a folder of its own`;
    return undefined;
}

/** Throws on a name stackNameProblem refuses. */
export function checkStackName(stack: string): void {
    const p = stackNameProblem(stack);
    if (p) throw new Error(`--stack ${JSON.stringify(stack)}: ${p}`);
}

/** The stack file of a checked stack name: always directly inside `dir`. */
export function stackFilePath(stack: string, dir: string): string {
    checkStackName(stack);
    const root = path.resolve(dir);
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (path.dirname(file) !== root) throw new Error(`--stack ${JSON.stringify(stack)}: the stack file would be outside ${root}`);
    return file;
}

export interface StackFile {
    /** Full keys ("multicluster-mesh:mesh") to values, secrets decrypted or replaced by UNDECRYPTED_SECRET. */
    config: Record<string, unknown>;
    /** Top-level keys holding a `secure:` value anywhere inside (Pulumi marks the whole key secret). */
    secretKeys: string[];
    /** `secure:` values the plan could not decrypt, as `pulumi config set --path` names them. */
    undecrypted: string[];
    /** Why they could not be decrypted (set when `undecrypted` is not empty). */
    whyUndecrypted?: string;
    /** Per top-level key, the paths of its `secure:` leaves (components/secretConfig.ts). */
    secretPaths: Record<string, ConfigPath[]>;
    /** The decrypted secret values: no file the plan writes may show them. */
    secretValues: string[];
    /** Not errors, but worth a line on stderr: private keys in plain text, each with the command that stores it encrypted. */
    warnings: string[];
}

/** A dangling symbolic link: existsSync says no, but the user did name something. */
function isBrokenLink(file: string): boolean {
    try {
        return fs.lstatSync(file).isSymbolicLink();
    } catch {
        return false;
    }
}

/** Unknown keys under the project, one problem each (offline/offlinePlan.ts prints `problems`). */
export class ConfigKeyError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "ConfigKeyError";
    }
}

/** Pulumi's isSecureValue (sdk/go/common/resource/config/object.go): an object with one key, `secure`, a string. */
export function isSecureValue(v: unknown): v is { secure: string } {
    return (
        !!v &&
        typeof v === "object" &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        typeof (v as { secure?: unknown }).secure === "string"
    );
}

export interface ReadStackOptions {
    /** The environment PULUMI_CONFIG_PASSPHRASE(_FILE) is read from (default process.env). */
    env?: NodeJS.ProcessEnv;
}

/** Read Pulumi.<stack>.yaml into the flat config map the Pulumi CLI would hand the program. */
export function readStackFile(stack: string, dir: string, options: ReadStackOptions = {}): StackFile {
    const file = stackFilePath(stack, dir);
    // Only a file that is not there is "no stack file"; a folder or an unreadable file says so (readYamlFile).
    if (!fs.existsSync(file) && !isBrokenLink(file)) {
        const known = fs
            .readdirSync(dir)
            .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
            .map((f) => f.slice(7, -5));
        throw new Error(`no stack file ${path.relative(process.cwd(), file)}; shipped stacks: ${known.join(", ")}`);
    }
    // A syntax error is one line, file:line:column (offline/yamlFile.ts).
    const doc = (readYamlFile(file) ?? {}) as StackDoc;
    const project = (readYamlFile(path.join(dir, "Pulumi.yaml")) as { name: string }).name;
    if (!doc || typeof doc !== "object" || Array.isArray(doc))
        throw new Error(`${path.relative(process.cwd(), file) || file}: is not a mapping of config: and the other stack settings`);
    const out: StackFile = { config: {}, secretKeys: [], undecrypted: [], secretPaths: {}, secretValues: [], warnings: [] };

    // First find every secure value, then decrypt them all with one key (PBKDF2 is slow on purpose).
    const found: { key: string; at: string; ciphertext: string }[] = [];
    const walk = (v: unknown, key: string, at: string): void => {
        if (isSecureValue(v)) found.push({ key, at, ciphertext: v.secure });
        else if (Array.isArray(v)) v.forEach((x, i) => walk(x, key, `${at}[${i}]`));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, key, `${at}.${k}`);
    };
    const entries = Object.entries(doc.config ?? {}).map(([k, v]) => [k.includes(":") ? k : `${project}:${k}`, v] as const);
    for (const [key, v] of entries) walk(v, key, key);
    // Keys in the program's namespace that it never reads are typos (components/configKeys.ts); plain private keys are a leak waiting.
    const unknown = unknownProjectKeys(entries.map(([k]) => k));
    if (unknown.length) throw new ConfigKeyError(unknown);
    out.warnings.push(...plainPrivateKeys(entries, project, path.basename(file)));

    const crypter = found.length > 0 ? passphraseCrypter(doc, options.env ?? process.env) : undefined;
    const plain = new Map<string, string>();
    if (crypter && "decrypt" in crypter) {
        for (const f of found) plain.set(f.at, crypter.decrypt(f.ciphertext, f.at));
    } else if (crypter) {
        out.whyUndecrypted = crypter.why;
    }
    const replace = (v: unknown, at: string): unknown => {
        if (isSecureValue(v)) {
            const p = plain.get(at);
            if (p === undefined) out.undecrypted.push(at);
            return p ?? UNDECRYPTED_SECRET;
        }
        if (Array.isArray(v)) return v.map((x, i) => replace(x, `${at}[${i}]`));
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x, `${at}.${k}`)]));
        return v;
    };
    for (const [key, v] of entries) {
        out.config[key] = replace(v, key);
        if (found.some((f) => f.key === key)) out.secretKeys.push(key);
        const paths = securePaths(v);
        if (paths.length > 0) out.secretPaths[key] = paths;
    }
    out.secretValues = [...plain.values()];
    return out;
}

interface StackDoc {
    config?: Record<string, unknown>;
    secretsprovider?: string;
    encryptionsalt?: string;
    encryptedkey?: string;
}

type Crypter = { decrypt: (ciphertext: string, at: string) => string } | { why: string };

/** Pulumi's PBKDF2 parameters (sdk/go/common/resource/config/crypt.go, NewSymmetricCrypterFromPassphrase). */
const PBKDF2_ITERATIONS = 1_000_000;
const KEY_BYTES = 32;

/**
 * The passphrase secrets provider (pulumi/pulumi pkg/secrets/passphrase/manager.go at v3.248.0):
 * `encryptionsalt: v1:<salt>:v1:<nonce>:<ciphertext of "pulumi">`, the key PBKDF2-SHA256 of the
 * passphrase over the salt, each value `v1:<nonce>:<ciphertext>` in AES-256-GCM. Any other
 * provider (the Pulumi Cloud default, awskms://, …) needs its service: its values stay undecrypted.
 */
function passphraseCrypter(doc: StackDoc, env: NodeJS.ProcessEnv): Crypter {
    const provider = doc.secretsprovider;
    const offline = "cannot be used offline";
    if (provider !== undefined && provider !== "passphrase")
        return { why: `the stack's secrets provider (${provider.split("://")[0]}) ${offline}` };
    if (!doc.encryptionsalt || doc.encryptedkey)
        return { why: `the stack's secrets provider ${offline} (no passphrase encryptionsalt in the stack file)` };
    const phrase = readPassphrase(env);
    if (phrase === undefined) return { why: "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to decrypt them offline" };
    const parts = doc.encryptionsalt.split(":");
    if (parts.length < 3 || parts[0] !== "v1") throw new Error("encryptionsalt: malformed state value (expected v1:<salt>:v1:…)");
    const salt = Buffer.from(parts[1], "base64");
    const key = crypto.pbkdf2Sync(phrase, salt, PBKDF2_ITERATIONS, KEY_BYTES, "sha256");
    let check: string | undefined;
    try {
        check = decryptValue(key, parts.slice(2).join(":"));
    } catch {
        check = undefined;
    }
    if (check !== "pulumi") {
        throw new Error("incorrect passphrase: PULUMI_CONFIG_PASSPHRASE(_FILE) does not open this stack's encryptionsalt");
    }
    return {
        decrypt: (ciphertext, at) => {
            try {
                return decryptValue(key, ciphertext);
            } catch (e) {
                throw new Error(`${at}: cannot decrypt its secure value: ${(e as Error).message}`, { cause: e });
            }
        },
    };
}

/** readPassphrase: PULUMI_CONFIG_PASSPHRASE when set (even empty), else the trimmed PULUMI_CONFIG_PASSPHRASE_FILE. */
function readPassphrase(env: NodeJS.ProcessEnv): string | undefined {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (!file) return undefined;
    try {
        return readRegularFile(path.resolve(file), `PULUMI_CONFIG_PASSPHRASE_FILE ${file}`).trim();
    } catch (e) {
        throw new Error(`unable to read PULUMI_CONFIG_PASSPHRASE_FILE: ${(e as Error).message}`, { cause: e });
    }
}

/** symmetricCrypter.DecryptValue: `v1:<base64 nonce>:<base64 ciphertext with the 16-byte GCM tag>`. */
export function decryptValue(key: Buffer, value: string): string {
    const vals = value.split(":");
    if (vals.length !== 3) throw new Error("bad value");
    if (vals[0] !== "v1") throw new Error("unknown value version");
    const nonce = Buffer.from(vals[1], "base64");
    const sealed = Buffer.from(vals[2], "base64");
    if (nonce.length !== 12) throw new Error("bad value: nonce size is incorrect");
    if (sealed.length < 16) throw new Error("bad value: too short");
    const d = crypto.createDecipheriv("aes-256-gcm", key, nonce);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
        return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]).toString("utf8");
    } catch {
        throw new Error("cipher: message authentication failed");
    }
}

/**
 * The keys components/rootOfTrust.ts will ask for with generated trust: a root and one intermediate
 * per istiod cluster, of mesh.trust's algorithm and size. The defaults repeat trustSchema's
 * (components/meshConfig.ts); a wrong guess costs only background work, never a different result,
 * and test/planOut.test.ts checks the guess against what every shipped stack generates.
 */
export function expectedKeys(config: Record<string, unknown>): { spec: KeySpec; count: number } | undefined {
    const mesh = config["multicluster-mesh:mesh"] as { trust?: Record<string, unknown>; clusters?: unknown } | undefined;
    if (!mesh || typeof mesh !== "object") return undefined;
    const trust = mesh.trust && typeof mesh.trust === "object" ? mesh.trust : {};
    if ((trust.mode ?? "generated") !== "generated" || !Array.isArray(mesh.clusters)) return undefined;
    const istiod = mesh.clusters.filter(
        (c) => c && typeof c === "object" && ((c as { role?: unknown }).role ?? "primary") === "primary",
    ).length;
    const algorithm = trust.keyAlgorithm ?? "RSA";
    let spec: KeySpec;
    if (algorithm === "RSA" && typeof (trust.rsaBits ?? 4096) === "number")
        spec = { algorithm, rsaBits: (trust.rsaBits ?? 4096) as number };
    else if (algorithm === "ECDSA" && (trust.ecdsaCurve ?? "P256") === "P256") spec = { algorithm, ecdsaCurve: "P256" };
    else if (algorithm === "ECDSA" && trust.ecdsaCurve === "P384") spec = { algorithm, ecdsaCurve: "P384" };
    else return undefined;
    return { spec, count: 1 + istiod };
}
