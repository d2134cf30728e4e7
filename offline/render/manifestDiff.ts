// The per-object diff of two renders: for every cluster and release, which objects were added or
// removed, and for a changed object which fields were added, removed or changed (dotted paths, as
// `helm diff` shows them). `npm run render -- --stack <s> --against <old out>/<s>` prints it under
// the mesh-level diff and writes out/<s>/manifests-diff.txt; e.g. a patch-version bump shows each
// image tag and chart label that moves.
import * as fs from "node:fs";
import * as path from "node:path";
import { splitManifest } from "./render";

export interface ObjectChange {
    cluster: string;
    release: string;
    /** kind/namespace/name. */
    object: string;
    change: "added" | "removed" | "changed";
    /** For a changed object: `+ path`, `- path`, `~ path: old → new`. */
    fields: string[];
}

type Json = unknown;

function objectsOf(dir: string): Map<string, Json> {
    // cluster/release/kind/namespace/name → object
    const out = new Map<string, Json>();
    if (!fs.existsSync(dir)) return out;
    for (const cluster of fs.readdirSync(dir).sort()) {
        const manifests = path.join(dir, cluster, "manifests");
        if (!fs.existsSync(manifests)) continue;
        for (const f of fs
            .readdirSync(manifests)
            .filter((x) => x.endsWith(".yaml"))
            .sort()) {
            const release = f.slice(0, -".yaml".length);
            for (const { obj } of splitManifest(fs.readFileSync(path.join(manifests, f), "utf8"))) {
                const id = `${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
                out.set(`${cluster}\u0000${release}\u0000${id}`, obj);
            }
        }
    }
    return out;
}

const isMap = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: Json) => {
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}…` : s;
};

/** A list of maps that each have a unique `name` (containers, env, ports): compared by name, as Kubernetes merges them. */
function byName(v: Json): Map<string, Json> | undefined {
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => isMap(x) && typeof x.name === "string")) return undefined;
    const m = new Map(v.map((x) => [(x as { name: string }).name, x as Json]));
    return m.size === v.length ? m : undefined;
}

/** Field-level differences between two objects: maps key by key, named lists by name, anything else as a value. */
export function fieldChanges(a: Json, b: Json, at = ""): string[] {
    const na = byName(a);
    const nb = byName(b);
    if (na && nb) {
        const out: string[] = [];
        for (const k of [...new Set([...na.keys(), ...nb.keys()])].sort()) {
            const p = `${at}[${k}]`;
            if (!nb.has(k)) out.push(`- ${p}`);
            else if (!na.has(k)) out.push(`+ ${p}: ${show(nb.get(k))}`);
            else out.push(...fieldChanges(na.get(k), nb.get(k), p));
        }
        return out;
    }
    if (isMap(a) && isMap(b)) {
        const out: string[] = [];
        for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
            const p = at ? `${at}.${k}` : k;
            if (!(k in b)) out.push(`- ${p}`);
            else if (!(k in a)) out.push(`+ ${p}: ${show(b[k])}`);
            else out.push(...fieldChanges(a[k], b[k], p));
        }
        return out;
    }
    // Istio's ConfigMaps hold JSON documents (the injector's values, merged-values): diff inside them.
    const ja = parsedJson(a);
    const jb = parsedJson(b);
    if (ja !== undefined && jb !== undefined) return fieldChanges(ja, jb, `${at}{json}`);
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [`~ ${at || "(object)"}: ${show(a)} → ${show(b)}`];
}

function parsedJson(v: Json): Record<string, Json> | undefined {
    if (typeof v !== "string" || !v.trimStart().startsWith("{")) return undefined;
    try {
        const parsed: unknown = JSON.parse(v);
        return isMap(parsed) ? parsed : undefined;
    } catch {
        return undefined;
    }
}

/** Compare the manifests under two out/<stack>/ folders. */
export function diffManifests(beforeDir: string, afterDir: string): ObjectChange[] {
    const before = objectsOf(beforeDir);
    const after = objectsOf(afterDir);
    const out: ObjectChange[] = [];
    for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const [cluster, release, object] = key.split("\u0000");
        const a = before.get(key);
        const b = after.get(key);
        if (a === undefined) out.push({ cluster, release, object, change: "added", fields: [] });
        else if (b === undefined) out.push({ cluster, release, object, change: "removed", fields: [] });
        else {
            const fields = fieldChanges(a, b);
            if (fields.length > 0) out.push({ cluster, release, object, change: "changed", fields });
        }
    }
    return out;
}

export function formatManifestDiff(changes: ObjectChange[], against: string): string {
    if (changes.length === 0) return `manifests against ${against}: no object changes\n`;
    const lines = [`manifests against ${against}: ${changes.length} object${changes.length === 1 ? "" : "s"} change`];
    for (const c of changes) {
        lines.push(`  ${c.cluster} ${c.release} ${c.object}: ${c.change}`);
        for (const f of c.fields.slice(0, 20)) lines.push(`      ${f}`);
        if (c.fields.length > 20) lines.push(`      … ${c.fields.length - 20} more fields`);
    }
    return `${lines.join("\n")}\n`;
}
