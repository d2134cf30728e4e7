// `platform: existing`: a cluster reached through a kubeconfig the user already has. Every fact of
// the platform: its checks (kubeconfig, context, API server), locality, simulator answers, component.
import type { MeshCluster } from "../../meshCluster";
import { contextServer, isLoopbackUrl, resolveKubeconfig } from "../../kubeconfig";
import type { Platform, PlatformCluster } from "../types";
import { ExistingCluster, existingIdentity } from "./cluster";

function isHttpsUrl(u: string): boolean {
    try {
        const url = new URL(u);
        return url.protocol === "https:" && url.hostname !== "";
    } catch {
        return false;
    }
}

export const existing: Platform = {
    name: "existing",
    cloud: "existing",
    takesKubeconfig: true,
    sharesNetwork: true,
    check(c, at, say, ctx) {
        if (c.apiServer !== undefined && !isHttpsUrl(c.apiServer)) {
            say(
                `${at}.apiServer`,
                `"${c.apiServer}" is not an https:// URL; give the address other clusters' istiod use, e.g. https://10.0.0.5:6443`,
            );
        }
        if (typeof c.kubeconfig !== "string" || c.kubeconfig.trim() === "") {
            say(`${at}.kubeconfig`, `is required for platform existing; give a kubeconfig path (e.g. ~/.kube/config) or its content`);
            return;
        }
        const src = resolveKubeconfig(c.kubeconfig, ctx.readFile);
        let server: string | undefined = c.apiServer;
        if (src.unreadable) {
            say(`${at}.kubeconfig`, `${src.path} ${src.unreadable}; give a kubeconfig file's path, or its content inline`);
        } else if (src.missing) {
            if (c.apiServer === undefined) {
                say(
                    `${at}.kubeconfig`,
                    `file ${src.path} does not exist; fix the path, or set apiServer so the mesh can still be planned offline`,
                );
            }
        } else {
            const found = contextServer(src.content!, c.context);
            if (!found.ok) {
                say(
                    c.context !== undefined && found.problem.includes("context") ? `${at}.context` : `${at}.kubeconfig`,
                    `the kubeconfig ${found.problem}`,
                );
            } else {
                server ??= found.server;
                const key = `${src.path ?? "inline:" + c.kubeconfig}#${found.context}`;
                if (ctx.claimedContexts.has(key))
                    say(
                        `${at}.context`,
                        `points at the same kubeconfig context as mesh.clusters[${ctx.claimedContexts.get(key)}] ` +
                            `("${found.context}"); each cluster needs its own`,
                    );
                else ctx.claimedContexts.set(key, ctx.index);
            }
        }
        if (server !== undefined && ctx.readers.length > 0 && isLoopbackUrl(server)) {
            const from = c.apiServer !== undefined ? "apiServer" : "the kubeconfig's server";
            say(
                `${at}.apiServer`,
                `${from} ${server} is a loopback address, which istiod in ${ctx.readers.join(", ")} ` +
                    `cannot reach; set apiServer to an address reachable from those clusters (for kind: ` +
                    `https://<control-plane container IP>:6443)`,
            );
        }
        if (server !== undefined) ctx.resolved = { ...src, context: c.context, apiServer: server };
        if (c.region !== undefined && c.zone !== undefined && !c.zone.startsWith(c.region)) {
            say(`${at}.zone`, `"${c.zone}" is not in region "${c.region}"; a zone name starts with its region's name`);
        }
    },
    // The user knows their network; nothing to derive.
    routingDomain: () => undefined,
    podRanges: () => [],
    locality: (c) => ({ region: c.region, zone: c.zone }),
    gatewayServiceAnnotations: {},
    preflight({ clusters, resolved, previous }, at) {
        return clusters.flatMap((c) => {
            const d = existingIdentity(c, resolved[c.name], at(c.name), previous?.[c.name]);
            return d.ok ? [] : [d.problem];
        });
    },
    create({ clusters, resolved, previous, opts }) {
        const out: Record<string, MeshCluster> = {};
        for (const c of clusters) {
            const kc = resolved[c.name];
            const d = existingIdentity(c, kc, c.name, previous?.[c.name]);
            if (!d.ok) throw new Error(d.problem); // preflight reported it before anything was built
            out[c.name] = new ExistingCluster(
                c.name,
                {
                    cluster: c as PlatformCluster,
                    kubeconfig: kc,
                    apiServer: kc.apiServer,
                    identity: { instance: d.instance, caSha256: d.caSha256 },
                },
                opts,
            );
        }
        return out;
    },
    simulator: { loadBalancerAddress: "ip" },
    bench: { latencies: [], nodePoolTypes: [] },
};
