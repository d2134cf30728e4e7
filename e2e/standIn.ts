// A stand-in for istiod's webhook endpoint, for the local clusters (e2e/clusters.ts). kwok runs no
// containers, so no istiod answers: without this, the gateway chart's pods (created only through
// istiod's injection webhook) never appear and the east-west release waits and fails, and Istio
// objects wait on the validation webhook.
//
// What it does, as istiod would:
//   - serves HTTPS on :443 (the port of istiod's Service, which the API server dials at its
//     ClusterIP) and :15017 (istiod's webhook port behind an east-west gateway, which a remote's
//     webhooks name by URL). Every address in the namespace's 198.18.0.0/15 is local, so one
//     listener per port answers all of them;
//   - answers every AdmissionReview with `allowed: true` and no patch;
//   - writes its CA into the `caBundle` of every webhook that names istiod's Service or a :15017
//     URL, in every cluster, as istiod patches its own and its remotes' webhooks.
// What it does not: Istio's validation (everything is allowed) and injection (pods get no sidecar);
// and a remote's webhooks are answered here, locally, not through the east-west path. docs/real-engine.md,
// "Run it for real on one machine", says so.
//
//   node --import tsx e2e/standIn.ts <clusters state.json>
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { ClustersState } from "./clusters";
import { issue, selfSignedCa } from "./pki";
import { request, targetOf } from "../components/check/kube";

const ISTIO_NAMESPACE = "istio-system";
const WEBHOOK_PORT = 15017;

function pki(dir: string, ips: string[]): { ca: string; cert: string; key: string } {
    const ca = selfSignedCa(dir, "istiod-stand-in-ca");
    const tls = issue(
        dir,
        "tls",
        "/CN=istiod.istio-system.svc",
        [
            "basicConstraints=CA:FALSE",
            "extendedKeyUsage=serverAuth",
            // istiod's Service and its revisioned ones (istiod-<rev>), and every east-west address.
            `subjectAltName=DNS:istiod.${ISTIO_NAMESPACE}.svc,DNS:*.${ISTIO_NAMESPACE}.svc,${ips.map((i) => `IP:${i}`).join(",")}`,
        ],
        ca,
    );
    return { ca: fs.readFileSync(ca.crt, "utf8"), cert: fs.readFileSync(tls.crt, "utf8"), key: fs.readFileSync(tls.key, "utf8") };
}

function log(line: string): void {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Whether a webhook's client config is istiod's: its Service in istio-system, or a URL on istiod's webhook port. */
export function isIstiodWebhook(clientConfig: any): boolean {
    if (clientConfig?.service)
        return clientConfig.service.namespace === ISTIO_NAMESPACE && String(clientConfig.service.name ?? "").startsWith("istiod");
    if (typeof clientConfig?.url === "string") {
        try {
            return new URL(clientConfig.url).port === String(WEBHOOK_PORT);
        } catch {
            return false;
        }
    }
    return false;
}

async function patchBundles(state: ClustersState, caB64: string): Promise<void> {
    for (const c of state.clusters) {
        const t = targetOf(c.kubeconfig);
        for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
            const list = await request(t, "GET", `/apis/admissionregistration.k8s.io/v1/${kind}`);
            for (const cfg of list.items ?? []) {
                const ops = (cfg.webhooks ?? []).flatMap((w: any, i: number) =>
                    isIstiodWebhook(w.clientConfig) && w.clientConfig.caBundle !== caB64
                        ? [{ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: caB64 }]
                        : [],
                );
                if (ops.length === 0) continue;
                try {
                    await request(t, "PATCH", `/apis/admissionregistration.k8s.io/v1/${kind}/${cfg.metadata.name}`, {
                        body: ops,
                        contentType: "application/json-patch+json",
                    });
                    log(`${c.name}: caBundle set on ${kind}/${cfg.metadata.name} (${ops.length} webhook${ops.length > 1 ? "s" : ""})`);
                } catch (e) {
                    log(`${c.name}: patch ${kind}/${cfg.metadata.name}: ${(e as Error).message}`);
                }
            }
        }
    }
}

async function main(stateFile: string): Promise<void> {
    const state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as ClustersState;
    const creds = pki(
        path.join(state.dir, "stand-in"),
        state.clusters.map((c) => c.loadBalancerIP),
    );
    const caB64 = Buffer.from(creds.ca).toString("base64");
    const handler: https.RequestOptions & Parameters<typeof https.createServer>[0] = { cert: creds.cert, key: creds.key };
    const serve = (port: number) =>
        new Promise<void>((resolve, reject) => {
            const server = https.createServer(handler, (req, res) => {
                const chunks: Buffer[] = [];
                req.on("data", (c: Buffer) => chunks.push(c));
                req.on("end", () => {
                    let review: any;
                    try {
                        review = JSON.parse(Buffer.concat(chunks).toString("utf8"));
                    } catch {
                        res.writeHead(400).end();
                        return;
                    }
                    const r = review?.request ?? {};
                    log(`:${port}${req.url} ${r.operation ?? "?"} ${r.kind?.kind ?? "?"} ${r.namespace ?? ""}/${r.name ?? ""}`);
                    res.writeHead(200, { "content-type": "application/json" });
                    res.end(
                        JSON.stringify({
                            apiVersion: review.apiVersion ?? "admission.k8s.io/v1",
                            kind: "AdmissionReview",
                            response: { uid: r.uid, allowed: true },
                        }),
                    );
                });
            });
            server.on("error", reject);
            server.listen(port, "0.0.0.0", () => resolve());
        });
    await serve(443);
    await serve(WEBHOOK_PORT);
    log(`serving :443 and :${WEBHOOK_PORT}`);
    await patchBundles(state, caB64);
    fs.writeFileSync(path.join(state.dir, "stand-in.ready"), "");
    // istiod keeps the bundles patched; so do we (a Helm upgrade writes the chart's empty caBundle back).
    for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        try {
            await patchBundles(state, caB64);
        } catch (e) {
            log(`patch round: ${(e as Error).message}`);
        }
    }
}

if (require.main === module) {
    main(process.argv[2]).catch((e: unknown) => {
        log(`stand-in: ${e instanceof Error ? e.stack : String(e)}`);
        process.exit(1);
    });
}
