// The program's own config keys, and two checks on a stack's config as a whole: a key under the
// project that the program never reads (a typo such as `multicluster-mesh:meshh` would otherwise be
// ignored, and the stack would plan without it), and a private key written in plain text (it
// belongs in the stack file encrypted, as `pulumi config set --secret` writes it).
import { nearest } from "./configMessages";
import { PROJECT } from "./pulumiTypes";

/** Pulumi's isSecureValue (sdk/go/common/resource/config/object.go): an object with one key, `secure`, a string. */
function isSecureValue(v: unknown): boolean {
    return (
        !!v &&
        typeof v === "object" &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        typeof (v as { secure?: unknown }).secure === "string"
    );
}

/** The namespace config.ts reads (`new pulumi.Config("multicluster-mesh")`), whatever the project is named. */
export const CONFIG_NAMESPACE = PROJECT;

/** Every key config.ts reads in that namespace (`multicluster-mesh:<key>`). */
export const PROJECT_CONFIG_KEYS = ["mesh", "rootCertPem", "caBundles", "newRootCertPem", "newCaBundles"] as const;

/** One problem per key in the program's namespace that the program does not read, with the nearest known key. */
export function unknownProjectKeys(keys: string[], project: string = CONFIG_NAMESPACE): string[] {
    const known: readonly string[] = PROJECT_CONFIG_KEYS;
    const out: string[] = [];
    for (const key of keys) {
        if (!key.startsWith(`${project}:`)) continue;
        const name = key.slice(project.length + 1);
        if (known.includes(name)) continue;
        const near = nearest(name, known);
        out.push(
            `${key}: is not a setting of this program${near.length ? `; did you mean ${project}:${near[0]}?` : ""} ` +
                `(its settings: ${known.map((k) => `${project}:${k}`).join(", ")}; see docs/config.md)`,
        );
    }
    return out;
}

const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** A `pulumi config set --path` path segment: `.name`, or `["odd.name"]`. */
function segment(k: string): string {
    return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/**
 * Private keys in plain text (not `secure:`) anywhere in the stack's config, each with the command
 * that stores it encrypted instead.
 */
export function plainPrivateKeys(entries: readonly (readonly [string, unknown])[], project: string, file: string): string[] {
    const out: string[] = [];
    for (const [key, value] of entries) {
        const short = key.startsWith(`${project}:`) ? key.slice(project.length + 1) : key;
        const stack: [unknown, string][] = [[value, short]];
        while (stack.length) {
            const [v, at] = stack.pop()!;
            if (isSecureValue(v)) continue;
            if (typeof v === "string") {
                if (PRIVATE_KEY.test(v)) {
                    const pathFlag = at === short ? "" : "--path ";
                    out.push(
                        `${project}:${at.replace(/^\./, "")} in ${file} holds a private key in plain text: anyone who can read the file ` +
                            `or the repository has it. Store it encrypted: pulumi config set --secret ${pathFlag}'${at}' -- "$(cat <key file>)" ` +
                            "(this replaces the plain value; then rotate the key if the file was ever shared)",
                    );
                }
            } else if (Array.isArray(v)) {
                v.forEach((x, i) => stack.push([x, `${at}[${i}]`]));
            } else if (v && typeof v === "object") {
                for (const [k, x] of Object.entries(v)) stack.push([x, `${at}${segment(k)}`]);
            }
        }
    }
    return out.sort();
}
