// The cluster interface every platform returns. The mesh components only ever see this shape, so
// GKE, EKS, kind and existing clusters are interchangeable behind it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** What the mesh components need of a cluster, however it was built. */
export interface ClusterHandle {
    name: string;
    network: string;
    role: "primary" | "remote";
    primary?: string;
    platform: string;
    provider: k8s.Provider;
    apiServer: pulumi.Output<string>;
    region?: string;
    zone?: string;
    loadBalancerReady: pulumi.Resource[];
}

export interface MeshCluster extends ClusterHandle {
    /** The cluster's mesh name: Istio's cluster ID and the data key of its remote secret. */
    name: string;
    network: string;
    role: "primary" | "remote";
    /** For a remote: the primary that controls it. */
    primary?: string;
    /** Where the cluster comes from: existing, gke, eks or kind. */
    platform: string;
    /** The only way any Kubernetes object reaches this cluster. */
    provider: k8s.Provider;
    /** The API server address other clusters' istiod use (never loopback). */
    apiServer: pulumi.Output<string>;
    /** The kubeconfig the provider uses. Secret. */
    kubeconfig: pulumi.Output<string>;
    region?: string;
    zone?: string;
    /**
     * In-cluster prerequisites of LoadBalancer Services (e.g. MetalLB's address pool on kind):
     * the east-west gateway waits for them.
     */
    loadBalancerReady: pulumi.Resource[];
    /** The instance part of the provider's clusterIdentifier, where it is decided from config (existing clusters). */
    providerIdentity?: string;
    /** SHA-256 of the API server's CA certificates, when the kubeconfig names them. */
    apiServerCaSha256?: string;
}

/** What every platform's component shares: the cluster's identity in the mesh, from its config. */
export abstract class MeshClusterResource extends pulumi.ComponentResource {
    public readonly name: string;
    /** The cluster's platform (its facts, such as the cloud, are the registry's: platforms/registry.ts). */
    public readonly platform: string;
    public readonly network: string;
    public readonly role: "primary" | "remote";
    public readonly primary?: string;
    public readonly region?: string;
    public readonly zone?: string;
    public readonly loadBalancerReady: pulumi.Resource[] = [];

    constructor(
        type: string,
        name: string,
        cluster: { name: string; platform: string; network: string; role: "primary" | "remote"; primary?: string },
        locality: { region?: string; zone?: string },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(type, name, {}, opts);
        this.name = cluster.name;
        this.platform = cluster.platform;
        this.network = cluster.network;
        this.role = cluster.role;
        this.primary = cluster.primary;
        this.region = locality.region;
        this.zone = locality.zone;
    }
}
