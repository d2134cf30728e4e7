// The offline plan knows the decrypted values of the stack's secure config (offline/stackFile.ts).
// Whatever path they took through the program (a Helm value, an API server in a remote kubeconfig,
// an exported fact), none of them reaches a file the plan writes or the diff it prints: each is
// replaced by REDACTED in every string, as the Pulumi CLI shows [secret].
import { REDACTED } from "../components/secretConfig";

export interface Scrubber {
    text(s: string): string;
    object<T>(v: T): T;
}

export function secretScrubber(secrets: readonly string[]): Scrubber {
    // Short values (a port, "true") would blank out ordinary text; they are replaced only where a whole string is the value.
    const long = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
    const exact = new Set(secrets);
    const text = (s: string): string => {
        if (exact.has(s)) return REDACTED;
        let out = s;
        for (const v of long) if (out.includes(v)) out = out.split(v).join(REDACTED);
        return out;
    };
    const object = <T>(v: T): T => {
        if (typeof v === "string") return text(v) as T;
        if (Array.isArray(v)) return v.map(object) as T;
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), object(x)])) as T;
        return v;
    };
    return {
        text: (s) => (long.length === 0 ? s : long.reduce((acc, v) => acc.split(v).join(REDACTED), s)),
        object: (v) => (exact.size === 0 ? v : object(v)),
    };
}
