// One edge of the remote-secret matrix: a reader token minted in the source cluster, wrapped in a
// token-only kubeconfig, and written into the target cluster's istio-system (§6.5).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tokenKubeconfig } from "./kubeconfig";
import type { MeshCluster } from "./meshCluster";
import { CLUSTER_ANNOTATION, MULTICLUSTER_SECRET_LABEL, READER_SERVICE_ACCOUNT } from "./plan";

export interface RemoteSecretArgs {
    source: MeshCluster;
    target: MeshCluster;
    /** The source's istio-system Namespace (on a remote it carries controlPlaneClusters, which must exist before its primary reads it). */
    sourceNamespace: k8s.core.v1.Namespace;
    /** The source's `base` release, which creates the reader ServiceAccount. */
    sourceBase: pulumi.Resource;
    /** The target's istio-system Namespace. */
    targetNamespace: k8s.core.v1.Namespace;
}

/** Name of the per-reader token Secret in the source cluster. */
export function readerTokenName(target: string): string {
    return `${READER_SERVICE_ACCOUNT}-token-${target}`;
}

export class RemoteSecret extends pulumi.ComponentResource {
    public readonly token: k8s.core.v1.Secret;
    public readonly secret: k8s.core.v1.Secret;

    constructor(name: string, args: RemoteSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:istio:RemoteSecret", name, {}, opts);
        const { source, target } = args;

        // One token per reading cluster, so deleting it revokes exactly one pair (security-bar §6.3
        // #32). The SA comes from the base chart and the annotation is only a string, so the
        // dependency is explicit: a token for a missing SA panicked the provider before 4.32
        // (pulumi-kubernetes#4396). The provider waits for the token controller to fill `data`
        // (pulumi-kubernetes#2048).
        this.token = new k8s.core.v1.Secret(
            `${name}-token`,
            {
                metadata: {
                    name: readerTokenName(target.name),
                    namespace: args.sourceNamespace.metadata.name,
                    annotations: { "kubernetes.io/service-account.name": READER_SERVICE_ACCOUNT },
                },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, provider: source.provider, dependsOn: [args.sourceBase] },
        );

        const kubeconfig = pulumi.secret(
            pulumi.all([this.token.data, source.apiServer]).apply(([data, server]) => {
                const token = data?.["token"];
                const ca = data?.["ca.crt"];
                if (!token || !ca) throw new Error(`the reader token in cluster ${source.name} has no token or ca.crt yet; is the token controller running?`);
                return tokenKubeconfig({ clusterName: source.name, server, caDataB64: ca, token: Buffer.from(token, "base64").toString("utf8") });
            }),
        );

        // The shape `istioctl create-remote-secret` writes (§6.1): istiod watches its own namespace
        // for this label, and the data key is the source's cluster ID.
        this.secret = new k8s.core.v1.Secret(
            `${name}-secret`,
            {
                metadata: {
                    name: `istio-remote-secret-${source.name}`,
                    namespace: args.targetNamespace.metadata.name,
                    labels: { [MULTICLUSTER_SECRET_LABEL]: "true" },
                    annotations: { [CLUSTER_ANNOTATION]: source.name },
                },
                stringData: pulumi.secret(kubeconfig.apply((k) => ({ [source.name]: k }))),
            },
            { parent: this, provider: target.provider, dependsOn: [args.sourceNamespace] },
        );
        this.registerOutputs({});
    }
}
