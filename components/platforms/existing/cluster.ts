// `platform: existing`: a cluster reached through a kubeconfig the user already has.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../../../config";
import type { KubeconfigSource } from "../../kubeconfig";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";

export interface ExistingClusterArgs {
    cluster: ClusterConfig;
    /** The kubeconfig as resolved by config validation (content, or the path of a file not present here). */
    kubeconfig: KubeconfigSource & { context?: string };
    /** The API server address peers use: `apiServer` from config, else the context's server. */
    apiServer: string;
}

export class ExistingCluster extends MeshClusterResource implements MeshCluster {
    public readonly platform = "existing";
    public readonly cloud = "existing";
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:cluster:ExistingCluster", name, args.cluster, args.cluster, opts);
        const c = args.cluster;
        this.apiServer = pulumi.output(args.apiServer);
        // A kubeconfig can hold tokens or client keys, so it is a secret from the start. When the
        // file is absent here (an offline plan), the provider gets the path and reads it at deploy.
        const kubeconfig = pulumi.secret(args.kubeconfig.content ?? args.kubeconfig.path ?? "");
        this.kubeconfig = kubeconfig;
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig,
                context: args.kubeconfig.context,
                // A stable identity: without it the provider, and with it every object in the
                // cluster, is replaced whenever the kubeconfig's server, user or context changes
                // (pulumi-kubernetes provider DiffConfig; pulumi-craft.md B2).
                clusterIdentifier: `existing/${c.name}`,
            },
            { parent: this },
        );
        this.registerOutputs({ apiServer: this.apiServer });
    }
}
