// `platform: existing`: a cluster reached through a kubeconfig the user already has. Every fact of
// the platform: its checks (kubeconfig, context, API server), locality, kubectl context, simulator
// answers; its builder (./cluster.ts) needs no SDK beyond @pulumi/kubernetes.
import { contextServer, isLoopbackUrl, resolveKubeconfig } from "../../kubeconfig";
import type { Platform, PlatformBuilder } from "../types";

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
    // The context given, else the kubeconfig's current one (when the file is here).
    kubeContext(c) {
        if (typeof c.context === "string" && c.context !== "") return c.context;
        if (typeof c.kubeconfig !== "string") return undefined;
        try {
            const src = resolveKubeconfig(c.kubeconfig);
            if (!src.content) return undefined;
            const found = contextServer(src.content);
            return found.ok ? found.context : undefined;
        } catch {
            return undefined;
        }
    },
    // Whatever the cluster runs: the default is assumed.
    kubeVersion: () => undefined,
    sdks: [],
    sampleCluster: () => ({ kubeconfig: "/nonexistent/sample.kubeconfig", apiServer: "https://10.0.0.1:6443" }),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded where clusters are created, like every builder
    builder: () => require("./cluster") as PlatformBuilder,
    // It registers only its Kubernetes provider, whose rule is shared (offline/changes.ts); the cluster is not its to replace.
    resources: { changeRules: [], isCluster: () => false, deployTimeOutputs: () => [] },
    simulator: { loadBalancerAddress: "ip" },
    bench: { latencies: [], nodePoolTypes: [] },
};
