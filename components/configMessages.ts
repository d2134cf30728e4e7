// Config messages from zod issues: what was expected and what was found (`expected a number, got
// "ten years"`), the allowed values of an enum, and "did you mean" for a misspelt key or value.
// zod 4 leaves the offending value out of its issues unless the parse asks for it
// (`safeParse(raw, { reportInput: true })`, ParseContext.reportInput in zod's v4/core/schemas.d.ts),
// so a missing key and a key of the wrong type look alike without it: parse with PARSE_OPTIONS.
import type { z } from "zod";

/** Keys whose value is a Go duration ("10s"): a bare number there lacks its unit, not only its quotes. */
export const DURATION_KEYS = new Set(["interval", "baseEjectionTime"]);

export const PARSE_OPTIONS = { reportInput: true } as const;

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Optimal-string-alignment distance (Levenshtein plus swapping two neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
    const s = a.toLowerCase();
    const t = b.toLowerCase();
    const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...Array<number>(t.length).fill(0)]);
    for (let j = 1; j <= t.length; j++) d[0][j] = j;
    for (let i = 1; i <= s.length; i++) {
        for (let j = 1; j <= t.length; j++) {
            const cost = s[i - 1] === t[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[s.length][t.length];
}

/** The candidates nearest to `word` within edit distance 2 (ties all kept), nearest first. */
export function nearest(word: string, candidates: readonly string[]): string[] {
    let best = 3;
    let found: string[] = [];
    for (const c of candidates) {
        if (c === word) continue;
        const d = editDistance(word, c);
        if (d < best) [best, found] = [d, [c]];
        else if (d === best) found.push(c);
    }
    return best <= 2 ? found : [];
}

const quote = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
const orList = (xs: readonly string[]) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`);

/** What a value read from YAML looks like, in the user's words. */
export function describeValue(v: unknown): string {
    if (v === null) return "an empty value (null)";
    if (typeof v === "string") return quote(v);
    if (typeof v === "boolean") return String(v);
    if (typeof v === "number" || typeof v === "bigint") return `the number ${String(v)}`;
    if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? "" : "s"}`;
    if (typeof v === "object") {
        const keys = Object.keys(v as object);
        if (keys.length === 0) return "an empty map";
        return `a map (keys: ${keys.slice(0, 4).join(", ")}${keys.length > 4 ? ", ..." : ""})`;
    }
    return typeof v;
}

const EXPECTED: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a map of settings",
    record: "a map",
    array: "a list",
};

/** Unwrap defaults, optionals and pipes to the schema that checks the value. */
function core(s: Schema | undefined): Schema | undefined {
    let cur = s;
    for (let n = 0; cur && n < 20; n++) {
        const def = cur._zod.def as unknown as { type: string; innerType?: Schema; in?: Schema; getter?: () => Schema };
        if (def.innerType) cur = def.innerType;
        else if (def.type === "pipe" && def.in) cur = def.in;
        else if (def.type === "lazy" && def.getter) cur = def.getter();
        else break;
    }
    return cur;
}

/** The schema that checks the value at `path` (undefined where the path leaves the schema). */
export function schemaAt(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
    let cur = core(root);
    for (const k of path) {
        if (!cur) return undefined;
        const def = cur._zod.def as unknown as { type: string; shape?: Record<string, Schema>; element?: Schema; valueType?: Schema };
        if (def.type === "object" && def.shape && typeof k === "string") cur = core(def.shape[k]);
        else if (def.type === "array" && def.element && typeof k === "number") cur = core(def.element);
        else if (def.type === "record" && def.valueType) cur = core(def.valueType);
        else return undefined;
    }
    return cur;
}

/** The keys an object schema allows (empty for anything else). */
export function keysAt(root: Schema, path: readonly PropertyKey[]): string[] {
    const s = schemaAt(root, path);
    const def = s?._zod.def as unknown as { type: string; shape?: Record<string, Schema> } | undefined;
    return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** Values of an enum or literal schema (empty for anything else). */
function valuesOf(s: Schema | undefined): unknown[] {
    const def = s?._zod.def as unknown as { type: string; entries?: Record<string, unknown>; values?: unknown[] } | undefined;
    if (def?.type === "enum" && def.entries) return Object.values(def.entries);
    if (def?.type === "literal" && def.values) return def.values;
    return [];
}

/** For a word where a map was expected: a key of that map whose allowed values include it (`trust: generated` → `{mode: generated}`). */
function keyTaking(root: Schema, path: readonly PropertyKey[], word: string): string | undefined {
    return keysAt(root, path).find((k) => valuesOf(schemaAt(root, [...path, k])).includes(word));
}

function typeHint(root: Schema, issue: Extract<Issue, { code: "invalid_type" }>): string {
    const v = issue.input;
    const want = issue.expected;
    const key = issue.path[issue.path.length - 1];
    if (want === "string" && typeof v === "number" && typeof key === "string" && DURATION_KEYS.has(key)) {
        return `; a duration needs a unit and quotes: write "${v}s" (or "${v}ms", "${v}m")`;
    }
    if (want === "string" && (typeof v === "number" || typeof v === "boolean")) {
        const what = typeof v === "boolean" ? "a boolean" : Number.isInteger(v) ? "a number" : "a number (1.30 as 1.3)";
        return `; unquoted, YAML reads it as ${what}: put it in quotes`;
    }
    const numeric = typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v));
    if ((want === "number" || want === "int") && numeric) return "; remove the quotes";
    if (want === "boolean" && typeof v === "string") return "; YAML reads only true and false (unquoted) as booleans";
    if (want === "array" && v && typeof v === "object" && !Array.isArray(v)) {
        const [first] = Object.keys(v);
        const byName = first !== undefined && Object.values(v).every((x) => x && typeof x === "object" && !Array.isArray(x));
        if (byName) return `; write each entry as a list item ("- name: ${first}", ...)`;
        return '; write each entry as a list item starting with "- "';
    }
    if ((want === "object" || want === "record") && typeof v === "string") {
        const key = want === "object" ? keyTaking(root, issue.path, v) : undefined;
        return key ? ` (did you mean ${String(issue.path[issue.path.length - 1] ?? "it")}: {${key}: ${v}}?)` : "";
    }
    return "";
}

function didYouMean(word: string, candidates: readonly string[]): string {
    const near = nearest(word, candidates);
    return near.length ? ` (did you mean ${orList(near.map((n) => `"${n}"`))}?)` : "";
}

/** One message for one issue, without its path. `root` is the schema that was parsed. */
export function issueMessage(root: Schema, issue: Issue): string {
    switch (issue.code) {
        case "invalid_type": {
            if (issue.input === undefined) return "is required";
            const want = EXPECTED[issue.expected] ?? String(issue.expected);
            return `expected ${want}, got ${describeValue(issue.input)}${typeHint(root, issue)}`;
        }
        case "invalid_value": {
            // The schemas word their own "must be a or b"; zod's default names the options itself.
            const allowed = issue.values.map((x) => String(x));
            const rule = issue.message.startsWith("must ") ? issue.message : `must be ${orList(allowed)}`;
            if (issue.input === undefined) return `is required; it ${rule}`;
            const quoted = typeof issue.input === "string" && issue.values.some((x) => typeof x !== "string" && String(x) === issue.input);
            const near = quoted ? "; remove the quotes" : typeof issue.input === "string" ? didYouMean(issue.input, allowed) : "";
            return `${rule}, got ${describeValue(issue.input)}${near}`;
        }
        case "unrecognized_keys": {
            const allowed = keysAt(root, issue.path);
            const many = issue.keys.length > 1;
            const parts = issue.keys.map((k) => `"${k}"${didYouMean(k, allowed)}`);
            if (issue.keys.every((k) => nearest(k, allowed).length > 0)) return `unknown key${many ? "s" : ""} ${parts.join(", ")}`;
            const list = allowed.length > 0 && allowed.length <= 24 ? ` (allowed here: ${allowed.join(", ")})` : "";
            const fix = `remove or correct ${many ? "them" : "it"}${list}`;
            return `unknown key${many ? "s" : ""} ${parts.join(", ")}; ${fix}; see docs/config.md`;
        }
        case "too_small":
        case "too_big":
            // zod's own wording ("Too small: expected …") gets what was found; the schemas' own messages stand as they are.
            if (!issue.message.startsWith("Too")) return issue.message;
            return `${issue.message.replace(/^Too (small|big): /, "")}, got ${describeValue(issue.input)}`;
        default:
            return issue.message;
    }
}

/**
 * Every issue as `[path, message]`, without knock-on lines: a missing key that an unknown key next
 * to it is a misspelling of (`projekt` reported, `project: is required` not), and whatever the
 * caller's `isKnockOn` says follows from another issue (e.g. a platform block under an unknown platform).
 */
export function issueMessages(
    root: Schema,
    issues: readonly Issue[],
    isKnockOn: (issue: Issue) => boolean = () => false,
): [PropertyKey[], string][] {
    const misspelt = new Set<string>();
    for (const i of issues) {
        if (i.code !== "unrecognized_keys") continue;
        const allowed = keysAt(root, i.path);
        for (const k of i.keys) for (const n of nearest(k, allowed)) misspelt.add(JSON.stringify([...i.path, n]));
    }
    return issues
        .filter((i) => !(i.code === "invalid_type" && i.input === undefined && misspelt.has(JSON.stringify(i.path))))
        .filter((i) => !isKnockOn(i))
        .map((i) => [i.path, issueMessage(root, i)]);
}
