// The cluster interface every platform returns. The mesh components only ever see this shape, so
// GKE, EKS and kind clusters plug in beside `existing` ones without touching the Istio wiring.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface MeshCluster {
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
    region?: string;
    zone?: string;
}
