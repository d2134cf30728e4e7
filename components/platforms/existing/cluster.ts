// `platform: existing`: a cluster reached through a kubeconfig the user already has.
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { contextIdentity, KubeconfigSource, minimizeKubeconfig } from "../../kubeconfig";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";
import { decideIdentity, IdentityDecision, caSha256, kubeconfigCaPem, PreviousIdentity } from "../identity";
import { componentType } from "../../pulumiTypes";
import { clusterProvider } from "../provider";
import type { CreateArgs, PlatformCluster } from "../types";
import * as fs from "node:fs";

/** Refused before anything is built: a provider that would be replaced onto the same cluster (identity.ts). */
export function preflight({ clusters, resolved, previous }: CreateArgs, at: (cluster: string) => string): string[] {
    return clusters.flatMap((c) => {
        const d = existingIdentity(c, resolved[c.name], at(c.name), previous?.[c.name]);
        return d.ok ? [] : [d.problem];
    });
}

export function create({ clusters, resolved, previous, opts }: CreateArgs): Record<string, MeshCluster> {
    const out: Record<string, MeshCluster> = {};
    for (const c of clusters) {
        const kc = resolved[c.name];
        const d = existingIdentity(c, kc, c.name, previous?.[c.name]);
        if (!d.ok) throw new Error(d.problem); // preflight reported it before anything was built
        out[c.name] = new ExistingCluster(
            c.name,
            { cluster: c, kubeconfig: kc, apiServer: kc.apiServer, identity: { instance: d.instance, caSha256: d.caSha256 } },
            opts,
        );
    }
    return out;
}

export interface ExistingClusterArgs {
    cluster: PlatformCluster;
    /** The kubeconfig as resolved by config validation (content, or the path of a file not present here). */
    kubeconfig: KubeconfigSource & { context?: string };
    /** The API server address peers use: `apiServer` from config, else the context's server. */
    apiServer: string;
    /** The provider identity decided before anything was built (`existingIdentity`); derived here when absent. */
    identity?: { instance: string; caSha256?: string };
}

function readIfExists(p: string): string | undefined {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return undefined;
    }
}

/**
 * The provider identity of an existing cluster (components/platforms/identity.ts), from its
 * kubeconfig and the previous run's record of it. `at` is the entry's path for messages.
 */
export function existingIdentity(
    c: { name: string; identity?: unknown },
    kubeconfig: KubeconfigSource & { context?: string; apiServer: string },
    at: string,
    previous?: PreviousIdentity,
    readFile: (p: string) => string | undefined = readIfExists,
): IdentityDecision & { caSha256?: string } {
    const id = kubeconfig.content !== undefined ? contextIdentity(kubeconfig.content, kubeconfig.context) : undefined;
    const pem = id ? kubeconfigCaPem(id.caB64, id.caFile, readFile) : undefined;
    const ca = pem !== undefined ? caSha256(pem) : undefined;
    const decision = decideIdentity({
        at,
        cluster: c.name,
        pinned: typeof c.identity === "string" ? c.identity : undefined,
        caSha256: ca,
        server: id?.server ?? kubeconfig.apiServer,
        legacyCaText: id?.caData ?? "",
        previous,
    });
    return { ...decision, caSha256: ca };
}

export class ExistingCluster extends MeshClusterResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    /** The instance part of the provider's clusterIdentifier, and the CA it was judged by (stack outputs record both). */
    public readonly providerIdentity: string;
    public readonly apiServerCaSha256?: string;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("cluster", "ExistingCluster"), name, args.cluster, args.cluster, opts);
        const c = args.cluster;
        this.apiServer = pulumi.output(args.apiServer);
        // Only this cluster's context, cluster entry and user go to the provider, its state and the
        // `kubeconfigs` output: never the other contexts and tokens of the user's file. A kubeconfig
        // holds tokens or client keys, so it is a secret from the start. When the file is absent here
        // (an offline plan), the provider gets the path and reads it at deploy.
        const content =
            args.kubeconfig.content !== undefined ? minimizeKubeconfig(args.kubeconfig.content, args.kubeconfig.context) : undefined;
        this.kubeconfig = pulumi.secret(content ?? args.kubeconfig.path ?? "");
        // The cluster's identity follows its API server's CA, not the spelling of its address
        // (components/platforms/identity.ts).
        let identity = args.identity;
        if (!identity) {
            const d = existingIdentity(c, { ...args.kubeconfig, apiServer: args.apiServer }, c.name);
            if (!d.ok) throw new Error(d.problem);
            identity = { instance: d.instance, caSha256: d.caSha256 };
        }
        this.providerIdentity = identity.instance;
        this.apiServerCaSha256 = identity.caSha256;
        this.provider = clusterProvider(
            `${name}-k8s`,
            {
                platform: "existing",
                deleteUnreachable: c.deleteUnreachable === true,
                cluster: c.name,
                kubeconfig: this.kubeconfig,
                // The minimized document has only this context, and it is the current one.
                context: content === undefined ? args.kubeconfig.context : undefined,
                instance: identity.instance,
            },
            { parent: this },
        );
        this.registerOutputs({
            apiServer: this.apiServer,
            kubeconfig: this.kubeconfig,
            providerIdentity: this.providerIdentity,
            apiServerCaSha256: this.apiServerCaSha256,
            provider: this.provider,
        });
    }
}
