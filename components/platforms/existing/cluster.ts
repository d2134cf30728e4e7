// `platform: existing`: a cluster reached through a kubeconfig the user already has.
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { contextIdentity, KubeconfigSource, minimizeKubeconfig } from "../../kubeconfig";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";
import { clusterProvider, instanceDigest } from "../provider";
import type { PlatformCluster } from "../types";

export interface ExistingClusterArgs {
    cluster: PlatformCluster;
    /** The kubeconfig as resolved by config validation (content, or the path of a file not present here). */
    kubeconfig: KubeconfigSource & { context?: string };
    /** The API server address peers use: `apiServer` from config, else the context's server. */
    apiServer: string;
}

export class ExistingCluster extends MeshClusterResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:cluster:ExistingCluster", name, args.cluster, args.cluster, opts);
        const c = args.cluster;
        this.apiServer = pulumi.output(args.apiServer);
        // Only this cluster's context, cluster entry and user go to the provider, its state and the
        // `kubeconfigs` output: never the other contexts and tokens of the user's file. A kubeconfig
        // holds tokens or client keys, so it is a secret from the start. When the file is absent here
        // (an offline plan), the provider gets the path and reads it at deploy.
        const content =
            args.kubeconfig.content !== undefined ? minimizeKubeconfig(args.kubeconfig.content, args.kubeconfig.context) : undefined;
        this.kubeconfig = pulumi.secret(content ?? args.kubeconfig.path ?? "");
        // A new cluster behind the same context has a new CA: that, with its server, is this
        // incarnation's identity (components/platforms/provider.ts).
        const id = args.kubeconfig.content !== undefined ? contextIdentity(args.kubeconfig.content, args.kubeconfig.context) : undefined;
        this.provider = clusterProvider(
            `${name}-k8s`,
            {
                platform: "existing",
                deleteUnreachable: c.deleteUnreachable === true,
                cluster: c.name,
                kubeconfig: this.kubeconfig,
                // The minimized document has only this context, and it is the current one.
                context: content === undefined ? args.kubeconfig.context : undefined,
                instance: typeof c.identity === "string" ? c.identity : instanceDigest(id?.server ?? args.apiServer, id?.caData ?? ""),
            },
            { parent: this },
        );
        this.registerOutputs({ apiServer: this.apiServer });
    }
}
