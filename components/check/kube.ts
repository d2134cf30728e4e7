// A minimal Kubernetes REST client for the post-deploy check and the end-to-end suite: one HTTPS
// request with the cluster's CA and a client certificate, a bearer token, or the credential an exec
// plugin prints (what GKE's and EKS's kubeconfigs use), read from a kubeconfig. The check needs a
// handful of GET/POST/PATCH/DELETE calls; a full client library would be a large dependency for that.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as YAML from "yaml";

export interface KubeTarget {
    server: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
    /** The context this came from (for messages). */
    context: string;
}

function b64(v: unknown): Buffer | undefined {
    return typeof v === "string" && v !== "" ? Buffer.from(v, "base64") : undefined;
}

/** The target of a kubeconfig's context (default: its current context). File references are read. */
export function targetOf(kubeconfig: string, context?: string): KubeTarget {
    const text = kubeconfig.includes("\n") || kubeconfig.trimStart().startsWith("{") ? kubeconfig : fs.readFileSync(kubeconfig, "utf8");
    const doc = YAML.parse(text) as any;
    const name: string = context ?? doc?.["current-context"];
    const ctx = (doc?.contexts ?? []).find((c: any) => c?.name === name)?.context;
    if (!ctx) throw new Error(`kubeconfig has no context "${name}"`);
    const cluster = (doc.clusters ?? []).find((c: any) => c?.name === ctx.cluster)?.cluster;
    const user = (doc.users ?? []).find((u: any) => u?.name === ctx.user)?.user ?? {};
    if (!cluster?.server) throw new Error(`kubeconfig context "${name}" has no cluster server`);
    const file = (p: unknown) => (typeof p === "string" ? fs.readFileSync(p) : undefined);
    const exec = user.exec ? execCredential(user.exec, name) : undefined;
    return {
        server: cluster.server,
        ca: b64(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]),
        cert: b64(user["client-certificate-data"]) ?? file(user["client-certificate"]) ?? exec?.cert,
        key: b64(user["client-key-data"]) ?? file(user["client-key"]) ?? exec?.key,
        token: typeof user.token === "string" ? user.token : exec?.token,
        context: name,
    };
}

/**
 * Run a kubeconfig's exec credential plugin (`gke-gcloud-auth-plugin`, `aws eks get-token`, …) as
 * kubectl does and read the ExecCredential it prints: `status.token`, or a client certificate and key
 * (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins).
 */
export function execCredential(
    exec: { command?: string; args?: string[]; env?: { name: string; value: string }[]; apiVersion?: string },
    context: string,
): { token?: string; cert?: Buffer; key?: Buffer } {
    if (typeof exec.command !== "string") throw new Error(`kubeconfig context "${context}": exec has no command`);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    // What kubectl hands the plugin: the ExecCredential it expects back (KUBERNETES_EXEC_INFO).
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
        apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        spec: { interactive: false },
    });
    let out: string;
    try {
        out = execFileSync(exec.command, exec.args ?? [], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    } catch (e) {
        throw new Error(
            `kubeconfig context "${context}": its credential plugin ${exec.command} failed: ${((e as Error).message ?? "").split("\n")[0]}`,
            { cause: e },
        );
    }
    let status: any;
    try {
        status = JSON.parse(out)?.status;
    } catch {
        throw new Error(`kubeconfig context "${context}": its credential plugin ${exec.command} printed no ExecCredential`);
    }
    return {
        token: typeof status?.token === "string" ? status.token : undefined,
        cert: typeof status?.clientCertificateData === "string" ? Buffer.from(status.clientCertificateData) : undefined,
        key: typeof status?.clientKeyData === "string" ? Buffer.from(status.clientKeyData) : undefined,
    };
}

export class KubeError extends Error {
    constructor(
        message: string,
        public readonly status: number,
        public readonly body: any,
    ) {
        super(message);
    }
}

export interface RequestOptions {
    body?: unknown;
    contentType?: string;
    timeoutMs?: number;
}

/** One request; resolves to the parsed JSON body (or the text), rejects with KubeError on a non-2xx status. */
export function request(t: KubeTarget, method: string, path: string, opts: RequestOptions = {}): Promise<any> {
    const url = new URL(path, t.server);
    const payload = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    return new Promise((resolve, reject) => {
        const req = https.request(
            url,
            {
                method,
                ca: t.ca,
                cert: t.cert,
                key: t.key,
                headers: {
                    accept: "application/json",
                    ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
                    ...(payload !== undefined
                        ? { "content-type": opts.contentType ?? "application/json", "content-length": Buffer.byteLength(payload) }
                        : {}),
                },
                timeout: opts.timeoutMs ?? 10_000,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let body: any = text;
                    try {
                        body = text === "" ? undefined : JSON.parse(text);
                    } catch {
                        // not JSON (e.g. /readyz's "ok")
                    }
                    const status = res.statusCode ?? 0;
                    if (status >= 200 && status < 300) resolve(body);
                    else
                        reject(
                            new KubeError(
                                `${method} ${url.pathname} on ${t.context}: ${status} ${typeof body === "object" ? (body?.message ?? "") : text}`.trim(),
                                status,
                                body,
                            ),
                        );
                });
            },
        );
        req.on("timeout", () =>
            req.destroy(new Error(`${method} ${url.pathname} on ${t.context}: no answer within ${opts.timeoutMs ?? 10_000} ms`)),
        );
        req.on("error", reject);
        if (payload !== undefined) req.write(payload);
        req.end();
    });
}

/** GET, or undefined on 404. */
export async function getOrUndefined(t: KubeTarget, path: string): Promise<any> {
    try {
        return await request(t, "GET", path);
    } catch (e) {
        if (e instanceof KubeError && e.status === 404) return undefined;
        throw e;
    }
}

/** Retry `fn` until it returns a value other than undefined/false, or the deadline passes. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await fn();
            if (v !== undefined && v !== false) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline)
            throw new Error(
                `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`,
            );
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
