// Secrets nested in stack config (`pulumi config set --secret --path 'mesh.istio.values.env.MY_KEY'`).
//
// What Pulumi hands a program (@pulumi/pulumi 3.248.0): the decrypted config as JSON in
// PULUMI_CONFIG, and in PULUMI_CONFIG_SECRET_KEYS the *top-level keys* that hold a secure value
// anywhere inside (node_modules/@pulumi/pulumi/runtime/config.js: configSecretKeysEnvKey,
// isConfigSecret; filled by pulumi-language-nodejs from RunRequest.configSecretKeys, which the engine
// builds with config.Map.SecureKeys(): sdk/go/common/resource/config/map.go and
// pkg/resource/deploy/source_eval.go at v3.248.0). `Config.getObject` returns the object plain. So the
// program learns only that `multicluster-mesh:mesh` holds a secret somewhere, not where; the paths
// come from the stack file's own `secure:` leaves (config.ts reads them; the offline plan hands them
// over through SECRET_PATHS_HOOK).
//
// Where a secret may sit in `mesh`: a value that reaches a resource input this program can mark
// secret (Helm values of istiod, a cluster's API server, its kubeconfig). Anything else becomes part
// of names, labels, annotations or objects that Pulumi does not encrypt, and is refused.

/** A path inside a config value: object keys and array indexes. */
export type ConfigPath = (string | number)[];

/** Set by the offline plan and the tests (no stack file next to the program): the secure leaves per top-level key. */
export const SECRET_PATHS_HOOK = Symbol.for("multicluster-mesh.configSecretPaths");

export function handedSecretPaths(): Record<string, ConfigPath[]> | undefined {
    return (globalThis as Record<symbol, unknown>)[SECRET_PATHS_HOOK] as Record<string, ConfigPath[]> | undefined;
}

/** Pulumi's isSecureValue (sdk/go/common/resource/config/object.go): an object with one key, `secure`, a string. */
export function isSecureLeaf(v: unknown): v is { secure: string } {
    return (
        !!v &&
        typeof v === "object" &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        typeof (v as { secure?: unknown }).secure === "string"
    );
}

/** Every `secure:` leaf of a raw stack-file value, as a path. */
export function securePaths(raw: unknown, at: ConfigPath = []): ConfigPath[] {
    if (isSecureLeaf(raw)) return [at];
    if (Array.isArray(raw)) return raw.flatMap((x, i) => securePaths(x, [...at, i]));
    if (raw && typeof raw === "object") return Object.entries(raw).flatMap(([k, x]) => securePaths(x, [...at, k]));
    return [];
}

/**
 * True when a raw stack-file value is the config the program was handed, secure leaves aside: then
 * its `secure:` paths are the secrets of that config (not of another file, `--config-file` or an
 * environment that overrode it).
 */
export function sameShape(raw: unknown, handed: unknown): boolean {
    if (isSecureLeaf(raw)) return true;
    if (Array.isArray(raw)) return Array.isArray(handed) && raw.length === handed.length && raw.every((x, i) => sameShape(x, handed[i]));
    if (raw && typeof raw === "object") {
        if (!handed || typeof handed !== "object" || Array.isArray(handed)) return false;
        const a = Object.keys(raw).sort();
        const b = Object.keys(handed).sort();
        return a.length === b.length && a.every((k, i) => k === b[i] && sameShape((raw as never)[k], (handed as never)[k]));
    }
    return raw === handed;
}

export function getAt(obj: unknown, path: ConfigPath): unknown {
    let cur = obj;
    for (const k of path) {
        if (!cur || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[k];
    }
    return cur;
}

/** `mesh.a.b[0]` as the stack config names it. */
export function showPath(root: string, path: ConfigPath): string {
    return path.reduce<string>((acc, k) => (typeof k === "number" ? `${acc}[${k}]` : `${acc}.${k}`), root);
}

/** Where in `mesh` a secret can stay secret: the leaf's place, relative to what index.ts wraps. */
export type SecretPlace =
    | { kind: "meshValues"; rest: ConfigPath }
    | { kind: "clusterValues"; cluster: number; rest: ConfigPath }
    | { kind: "apiServer"; cluster: number }
    | { kind: "kubeconfig"; cluster: number };

export function secretPlace(path: ConfigPath): SecretPlace | undefined {
    const [a, b, c, d] = path;
    if (a === "istio" && b === "values" && path.length > 2) return { kind: "meshValues", rest: path.slice(2) };
    if (a === "clusters" && typeof b === "number") {
        if (c === "istio" && d === "values" && path.length > 4) return { kind: "clusterValues", cluster: b, rest: path.slice(4) };
        if (c === "apiServer" && path.length === 3) return { kind: "apiServer", cluster: b };
        if (c === "kubeconfig" && path.length === 3) return { kind: "kubeconfig", cluster: b };
    }
    return undefined;
}

/** One problem per secret leaf that cannot stay secret where it is. */
export function secretPlaceProblems(paths: ConfigPath[]): string[] {
    return paths
        .filter((p) => !secretPlace(p))
        .map(
            (p) =>
                `${showPath("mesh", p)}: is set as a secret, but it ends up in resource names, labels, annotations or objects ` +
                `that Pulumi does not encrypt; set it in plain text (pulumi config set --path without --secret). Secrets ` +
                `belong in istio.values, clusters[].istio.values, clusters[].apiServer or clusters[].kubeconfig`,
        );
}

/** The string forms of the secret leaves of `value` (what an error message or a written file must not show). */
export function secretStrings(value: unknown, paths: ConfigPath[]): string[] {
    const out = new Set<string>();
    const collect = (v: unknown): void => {
        if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out.add(String(v));
        else if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === "object") Object.values(v).forEach(collect);
    };
    for (const p of paths) collect(getAt(value, p));
    return [...out].filter((s) => s !== "");
}

export const REDACTED = "[secret]";

/**
 * `text` with every secret value replaced by [secret]: quoted forms always, bare occurrences when
 * the value is long enough (4+ characters) not to match ordinary words of a message.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
    let out = text;
    for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
        out = out.split(JSON.stringify(s)).join(JSON.stringify(REDACTED));
        if (s.length >= 4) out = out.split(s).join(REDACTED);
    }
    return out;
}

/** A copy of `value` whose leaves at `paths` (relative to it) are `wrap(leaf)`; other parts are shared. */
export function wrapLeaves<T>(value: T, paths: ConfigPath[], wrap: (leaf: unknown) => unknown): T {
    let out: unknown = value;
    for (const p of paths) {
        if (p.length === 0) return wrap(out) as T;
        const set = (node: unknown, i: number): unknown => {
            if (!node || typeof node !== "object") return node;
            const copy = (Array.isArray(node) ? [...node] : { ...(node as object) }) as Record<string | number, unknown>;
            const k = p[i];
            if (!(k in copy)) return node;
            copy[k] = i === p.length - 1 ? wrap(copy[k]) : set(copy[k], i + 1);
            return copy;
        };
        out = set(out, 0);
    }
    return out as T;
}
