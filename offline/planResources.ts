// The resources section of plan.json: every resource the program registered, as the engine would
// key it (its URN without stack and project), with what decides how a change to it is carried out:
// its parent, its provider, the inputs that decide replacement (decisivePaths in changes.ts), a
// SHA-256 of the rest of its inputs, and the options protect, deleteBeforeReplace, aliases,
// dependsOn and replaceOnChanges. offline/changes.ts compares two of these sections.
//
// Two plans of one config must be byte-identical, so values that only exist at deploy are
// normalized, the way the rest of plan.json records them (planFile.ts):
//   - outputs a resource gets when it is created (generated keys and certificates, a token the
//     token controller fills in, a command's output and ID, a cluster's endpoint and CA, an EC2 ID,
//     a load balancer's address) are replaced wherever they flow into another resource's inputs by
//     "<generated at deploy: <output>>" or "<assigned at deploy: <output>>", and the consumer records
//     which resource they came from (`deployTime`): when that resource is re-created, these
//     inputs change even though their normalized text does not;
//   - the simulator's own addresses (TEST-NET-3, *.simulated.example) left anywhere become
//     "assigned at deploy".
// Secret inputs are never written: a decisive secret input is recorded as "sha256:<hex>" of its
// normalized value.
import * as crypto from "node:crypto";
import { PLATFORMS } from "../components/platforms/registry";
import { TYPES } from "../components/pulumiTypes";
import type { Registration } from "../simulator/simulator";
import { decisivePaths, replaceOnChangesPath } from "./changes";
import { ASSIGNED_AT_DEPLOY, GENERATED_AT_DEPLOY } from "./planFile";

export interface PlanResourceOptions {
    protect: boolean;
    deleteBeforeReplace: boolean;
    /** Keys of the resources this one was formerly known as. */
    aliases: string[];
    /** Keys of the resources it depends on (dependsOn and inputs), sorted. */
    dependsOn: string[];
    /** The `replaceOnChanges` option, when set (its paths are recorded as decisive). */
    replaceOnChanges?: string[];
}

export interface PlanResource {
    /** `<qualified type>::<name>`: the URN without stack and project (what the engine matches old and new state by). */
    key: string;
    type: string;
    /** The Pulumi resource name. */
    name: string;
    /** Key of the parent, or null. */
    parent: string | null;
    /** Key of the explicit provider, or null for the default provider (and for providers and components). */
    provider: string | null;
    custom: boolean;
    /** A `Resource.get` read: never created, replaced or deleted by the program. */
    read: boolean;
    /** The inputs that decide replacement, by dotted path (absent inputs are left out). */
    decisive: Record<string, unknown>;
    /** SHA-256 of every other input, normalized. */
    inputsDigest: string;
    /** Per decisive path (and "*" for the rest): keys of resources whose deploy-time outputs flow into it. */
    deployTime: Record<string, string[]>;
    options: PlanResourceOptions;
}

const SIMULATED_G = /\b203\.0\.113\.\d{1,3}\b|[A-Za-z0-9.-]*\.simulated\.example\b/g;
const MIN_LENGTH = 8;

/** The URN without `urn:pulumi:<stack>::<project>::`. */
export function resourceKey(urn: string): string {
    return urn.split("::").slice(2).join("::");
}

/** The qualified type of a URN's resource (its parents' types joined by `$`), without the stack root. */
function qualifiedType(urn: string): string {
    const t = urn.split("::")[2] ?? "";
    return t === TYPES.stack ? "" : t;
}

/** Alias URNs or specs (as the simulator records them) as keys. */
function aliasKeys(r: Registration): string[] {
    const out: string[] = [];
    for (const a of r.aliases ?? []) {
        if (a.startsWith("urn:")) {
            out.push(resourceKey(a));
            continue;
        }
        let spec: { name?: string; type?: string; parenturn?: string; noparent?: boolean };
        try {
            spec = JSON.parse(a);
        } catch {
            continue;
        }
        const own = resourceKey(r.urn).split("::")[0].split("$");
        const type = spec.type || r.type;
        const parentChain = spec.noparent ? "" : spec.parenturn ? qualifiedType(spec.parenturn) : own.slice(0, -1).join("$");
        out.push(`${parentChain ? `${parentChain}$` : ""}${type}::${spec.name || r.name}`);
    }
    return [...new Set(out)].sort();
}

type Leaf = [path: string, value: string];

function stringLeaves(v: unknown, prefix: string, out: Leaf[]): Leaf[] {
    if (typeof v === "string") out.push([prefix, v]);
    else if (Array.isArray(v)) v.forEach((x, i) => stringLeaves(x, `${prefix}[${i}]`, out));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) stringLeaves(x, prefix ? `${prefix}.${k}` : k, out);
    return out;
}

/**
 * Outputs a resource only gets when it is created, which a re-created resource gets anew: the
 * values whose flow into other resources a change plan must follow.
 */
function deployTimeOutputs(r: Registration): { path: string; value: string; kind: string }[] {
    const out: { path: string; value: string; kind: string }[] = [];
    const add = (path: string, value: unknown, kind: string) => {
        if (typeof value === "string") out.push({ path, value, kind });
        else for (const [p, v] of stringLeaves(value, path, [])) out.push({ path: p, value: v, kind });
    };
    const t = r.type;
    if (t.startsWith("tls:")) {
        // Every computed output of a tls resource (what is not an input) is new key material or a new certificate.
        for (const [k, v] of Object.entries(r.state ?? {})) if (!(k in (r.inputs ?? {}))) add(k, v, GENERATED_AT_DEPLOY);
        if (r.id) add("id", r.id, GENERATED_AT_DEPLOY);
    } else if (t === TYPES.secret && r.inputs.type === "kubernetes.io/service-account-token") {
        // The token controller fills in the token and the cluster's CA (`namespace` is the input's own).
        add("data.token", r.state.data?.token, GENERATED_AT_DEPLOY);
        add("data.ca.crt", r.state.data?.["ca.crt"], GENERATED_AT_DEPLOY);
    } else if (t === TYPES.service && r.read) {
        add("status.loadBalancer.ingress", r.state.status?.loadBalancer?.ingress, ASSIGNED_AT_DEPLOY);
    } else {
        // What each platform's cloud assigns when it creates one of its resources (a cluster's endpoint and CA,
        // a command's ID and output, an EC2 ID): components/platforms/<name>/, `resources.deployTimeOutputs`.
        for (const p of PLATFORMS) for (const o of p.resources.deployTimeOutputs(r)) add(o.path, o.value, ASSIGNED_AT_DEPLOY);
    }
    return out.filter((o) => o.value.length >= MIN_LENGTH);
}

/** The forms a value takes downstream: as is, trimmed, base64-decoded (kubeconfig data) and base64-encoded. */
function forms(value: string): string[] {
    const out = new Set([value, value.trim()]);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        // eslint-disable-next-line no-control-regex -- binary data decodes to control characters; text does not
        if (!/[\uFFFD\u0000-\u0008]/.test(decoded) && Buffer.from(decoded, "utf8").toString("base64") === value)
            out.add(decoded).add(decoded.trim());
    }
    out.add(Buffer.from(value, "utf8").toString("base64"));
    return [...out].filter((f) => f.length >= MIN_LENGTH);
}

interface Substitution {
    from: string;
    to: string;
    producer: string;
}

function normalize(v: unknown, subs: Substitution[], seen: Set<string>): unknown {
    if (typeof v === "string") {
        let s = v;
        for (const sub of subs) {
            if (!s.includes(sub.from)) continue;
            s = s.split(sub.from).join(sub.to);
            seen.add(sub.producer);
        }
        return s.replace(SIMULATED_G, ASSIGNED_AT_DEPLOY);
    }
    if (Array.isArray(v)) return v.map((x) => normalize(x, subs, seen));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x, subs, seen)]));
    return v;
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        );
    }
    return v;
}

function sha256(v: unknown): string {
    return crypto
        .createHash("sha256")
        .update(JSON.stringify(sortKeys(v) ?? null))
        .digest("hex");
}

/** Remove `path` (dotted) from a deep copy of `obj`, returning its value. */
function take(obj: Record<string, unknown>, path: string): unknown {
    const parts = path.split(".");
    let cur: unknown = obj;
    for (const part of parts.slice(0, -1)) {
        if (!cur || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[part];
    }
    if (!cur || typeof cur !== "object") return undefined;
    const leaf = parts[parts.length - 1];
    const value = (cur as Record<string, unknown>)[leaf];
    delete (cur as Record<string, unknown>)[leaf];
    return value;
}

function isSecretPath(r: Registration, path: string): boolean {
    if (r.type === TYPES.secret && /^(data|stringData)(\.|$)/.test(path)) return true;
    if (r.type.startsWith("pulumi:providers:") && path === "kubeconfig") return true;
    return r.secretPaths.some((s) => s === "(root)" || s === path || s.startsWith(`${path}.`) || path.startsWith(`${s}.`));
}

/** The resources section of plan.json, sorted by key. Pure: the same registrations give the same list. */
export function planResources(regs: Registration[]): PlanResource[] {
    const keyOf = new Map<string, string>();
    for (const r of regs) if (r.urn) keyOf.set(r.urn, resourceKey(r.urn));
    const providerKey = (ref: string): string | null => {
        if (!ref) return null;
        const urn = ref.split("::").slice(0, -1).join("::");
        return keyOf.get(urn) ?? resourceKey(urn);
    };
    // Deploy-time outputs by producer, longest first so a value is replaced before any part of it.
    const producedBy = new Map<string, Substitution[]>();
    for (const r of regs) {
        if (!r.urn) continue;
        const subs: Substitution[] = [];
        for (const o of deployTimeOutputs(r)) {
            for (const f of forms(o.value))
                subs.push({ from: f, to: `<${o.kind}: ${r.type.split(":").pop()} ${o.path}>`, producer: keyOf.get(r.urn)! });
        }
        producedBy.set(r.urn, subs);
    }
    const out: PlanResource[] = [];
    for (const r of regs) {
        if (!r.urn) continue;
        const key = keyOf.get(r.urn)!;
        // Only what this resource's inputs came from can flow into them (the engine's dependencies).
        const subs = [...new Set(r.dependencies)]
            .filter((u) => u !== r.urn)
            .flatMap((u) => producedBy.get(u) ?? [])
            .sort((a, b) => b.from.length - a.from.length || (a.producer < b.producer ? -1 : a.producer > b.producer ? 1 : 0));
        const rest = JSON.parse(JSON.stringify(r.inputs ?? {})) as Record<string, unknown>;
        delete rest.__defaults;
        const decisive: Record<string, unknown> = {};
        const deployTime: Record<string, string[]> = {};
        const roc = r.replaceOnChanges ?? [];
        const paths = [...new Set([...decisivePaths(r.type, rest), ...roc.map(replaceOnChangesPath).filter((p) => p !== "*" && p !== "")])];
        for (const p of paths) {
            const raw = take(rest, p);
            if (raw === undefined) continue;
            const seen = new Set<string>();
            const value = normalize(raw, subs, seen);
            decisive[p] = isSecretPath(r, p) ? `sha256:${sha256(value)}` : value;
            if (seen.size) deployTime[p] = [...seen].sort();
        }
        const seen = new Set<string>();
        const normalizedRest = normalize(rest, subs, seen);
        if (seen.size) deployTime["*"] = [...seen].sort();
        const deps = [...new Set(r.dependencies.map((u) => keyOf.get(u) ?? resourceKey(u)))].filter((k) => k !== key).sort();
        out.push({
            key,
            type: r.type,
            name: r.name,
            parent: r.parent ? (keyOf.get(r.parent) ?? resourceKey(r.parent)) : null,
            provider: providerKey(r.provider),
            custom: r.custom,
            read: r.read,
            decisive,
            inputsDigest: sha256(normalizedRest),
            deployTime,
            options: {
                protect: r.protect,
                deleteBeforeReplace: !!r.deleteBeforeReplace,
                aliases: aliasKeys(r),
                dependsOn: deps,
                ...(roc.length ? { replaceOnChanges: [...roc].sort() } : {}),
            },
        });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
