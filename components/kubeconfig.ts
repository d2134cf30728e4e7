// Pure helpers for kubeconfig documents: locate the one a cluster entry names, find the server of a
// context, and build the token-only kubeconfig that Istio's remote secrets carry.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { fileProblem } from "./fileProblem";
import { readRegularFile, UnreadableFileError } from "./safeRead";

/** What `existing` clusters learn from their kubeconfig before anything is deployed. */
export interface KubeconfigSource {
    /** The document itself, when it was given inline or the file could be read. Secret: never log it. */
    content?: string;
    /** The expanded path, when the entry named a file. */
    path?: string;
    /** True when the entry named a file that is not there (the plan still runs if `apiServer` is set). */
    missing: boolean;
    /**
     * Set when the path is there but cannot be read as a kubeconfig file (a folder, a FIFO or device,
     * too large, no permission, a path through a file): why, in words, without the path or any content.
     */
    unreadable?: string;
}

interface KubeconfigDoc {
    clusters?: { name: string; cluster?: { server?: string; "certificate-authority-data"?: string } & Record<string, unknown> }[];
    contexts?: { name: string; context?: { cluster?: string; user?: string } & Record<string, unknown> }[];
    users?: { name: string; user?: Record<string, unknown> }[];
    "current-context"?: string;
}

/** An entry is inline content when it spans several lines or starts like a kubeconfig document. */
export function isInlineKubeconfig(value: string): boolean {
    const v = value.trimStart();
    return v.includes("\n") || v.startsWith("apiVersion") || v.startsWith("{");
}

export function expandHome(p: string, home: string = os.homedir()): string {
    if (p === "~") return home;
    if (p.startsWith("~/")) return path.join(home, p.slice(2));
    return p;
}

/** Resolve a `kubeconfig:` entry (path or inline content). Reads the file if it exists. */
export function resolveKubeconfig(entry: string, readFile: (p: string) => string | undefined = readIfExists): KubeconfigSource {
    if (isInlineKubeconfig(entry)) return { content: entry, missing: false };
    const p = path.resolve(expandHome(entry));
    let content: string | undefined;
    try {
        content = readFile(p);
    } catch (e) {
        // Only a path that is not there is "missing"; a folder or a file that cannot be read is not (components/fileProblem.ts).
        // A folder reads as fileProblem says it; a FIFO, a device or an oversized file as safeRead says what it is.
        const folder = e instanceof UnreadableFileError && fs.statSync(p, { throwIfNoEntry: false })?.isDirectory();
        return {
            path: p,
            missing: false,
            unreadable: folder
                ? fileProblem(Object.assign(new Error("EISDIR"), { code: "EISDIR" }))
                : e instanceof UnreadableFileError
                  ? e.message.replace(/^file /, "")
                  : fileProblem(e),
        };
    }
    return content === undefined ? { path: p, missing: true } : { content, path: p, missing: false };
}

/**
 * The file's text; undefined when nothing is at the path; throws for a path that is there but cannot
 * be read as a file. Only a regular file of bounded size is read (components/safeRead.ts).
 */
function readIfExists(p: string): string | undefined {
    try {
        return readRegularFile(p, "file");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
}

export type ContextLookup = { ok: true; context: string; server: string } | { ok: false; problem: string };

/** Find the API server of `context` (or of the current context) in a kubeconfig document. */
export function contextServer(content: string, context?: string): ContextLookup {
    // Credentials live in this document: a parse error names where it is, never what is there.
    const parsed = YAML.parseDocument(content);
    const bad = parsed.errors[0];
    if (bad) {
        const at = bad.linePos?.[0];
        return { ok: false, problem: `is not valid YAML (${bad.code}${at ? ` at line ${at.line}, column ${at.col}` : ""})` };
    }
    const doc = parsed.toJS() as KubeconfigDoc;
    if (!doc || typeof doc !== "object") return { ok: false, problem: "is not a kubeconfig document" };
    const name = context ?? doc["current-context"];
    if (!name) return { ok: false, problem: "has no current-context; set `context`" };
    const ctx = (doc.contexts ?? []).find((c) => c?.name === name);
    if (!ctx) {
        const known = (doc.contexts ?? []).map((c) => c?.name).filter(Boolean);
        return { ok: false, problem: `has no context "${name}" (it has: ${known.join(", ") || "none"})` };
    }
    const cluster = (doc.clusters ?? []).find((c) => c?.name === ctx.context?.cluster);
    const server = cluster?.cluster?.server;
    if (!server) return { ok: false, problem: `context "${name}" names cluster "${ctx.context?.cluster}", which has no server` };
    return { ok: true, context: name, server };
}

/**
 * The server and CA of a context: what identifies the cluster behind it (public facts). `caData` is
 * the CA as written (data or file name: what 0.2.x derived the provider identity from); `caB64` and
 * `caFile` say which of the two it is.
 */
export function contextIdentity(
    content: string,
    context?: string,
): { server: string; caData: string; caB64?: string; caFile?: string } | undefined {
    try {
        const doc = YAML.parse(content) as KubeconfigDoc;
        const name = context ?? doc?.["current-context"];
        const ctx = (doc?.contexts ?? []).find((c) => c?.name === name);
        const cluster = (doc?.clusters ?? []).find((c) => c?.name === ctx?.context?.cluster)?.cluster;
        if (!cluster?.server) return undefined;
        const data = cluster["certificate-authority-data"];
        const file = cluster["certificate-authority"];
        return {
            server: cluster.server,
            caData: String(data ?? file ?? ""),
            ...(typeof data === "string" && data !== "" ? { caB64: data } : {}),
            ...(typeof file === "string" && file !== "" ? { caFile: file } : {}),
        };
    } catch {
        return undefined;
    }
}

/**
 * Only the named (or current) context, its cluster and its user, with that context current: what a
 * provider for this one cluster needs, and nothing of the file's other clusters and credentials.
 * Returns the input unchanged when it cannot be parsed (validation has reported why).
 */
export function minimizeKubeconfig(content: string, context?: string): string {
    let doc: KubeconfigDoc;
    try {
        doc = YAML.parse(content) as KubeconfigDoc;
    } catch {
        return content;
    }
    const name = context ?? doc?.["current-context"];
    const ctx = (doc?.contexts ?? []).find((c) => c?.name === name);
    if (!doc || !ctx) return content;
    const out = {
        apiVersion: "v1",
        kind: "Config",
        clusters: (doc.clusters ?? []).filter((c) => c?.name === ctx.context?.cluster),
        contexts: [ctx],
        "current-context": ctx.name,
        users: (doc.users ?? []).filter((u) => u?.name === ctx.context?.user),
    };
    return YAML.stringify(out, { lineWidth: 0 });
}

/** Loopback hosts: an API server there is unreachable from another cluster's istiod. */
export function isLoopbackUrl(url: string): boolean {
    let host: string;
    try {
        host = new URL(url).hostname.toLowerCase();
    } catch {
        return false;
    }
    host = host.replace(/^\[|\]$/g, "");
    return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host) || host === "0.0.0.0";
}

/**
 * The kubeconfig a remote secret carries, in the shape `istioctl create-remote-secret` writes
 * (docs/istio-notes.md, "Remote secrets"): one cluster, one context and one user, all named after the
 * source cluster, authenticated by a bearer token only. istiod rejects exec plugins and file
 * references in remote kubeconfigs (`sanitizeKubeConfig`, istio/istio pkg/kube/util.go at 1.30.3), so nothing else
 * may appear here. Keys are emitted in a fixed order so the secret does not flap between runs.
 */
export function tokenKubeconfig(args: { clusterName: string; server: string; caDataB64: string; token: string }): string {
    const { clusterName, server, caDataB64, token } = args;
    const doc = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { "certificate-authority-data": caDataB64, server } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        preferences: {},
        users: [{ name: clusterName, user: { token } }],
    };
    return YAML.stringify(doc, { lineWidth: 0 });
}
