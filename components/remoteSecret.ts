// The remote secrets of one source cluster: a reader token minted in the source, wrapped in a
// token-only kubeconfig, and written into every cluster that reads the source (docs/istio-notes.md, "Remote secrets").
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "./platforms/provider";
import { tokenKubeconfig } from "./kubeconfig";
import type { ClusterHandle } from "./meshCluster";
import {
    CLUSTER_ANNOTATION,
    MULTICLUSTER_SECRET_LABEL,
    READER_SERVICE_ACCOUNT,
    readerTokenName,
    remoteSecretName,
    SHARED_TOKEN_NAME,
} from "./istio";
import { componentType } from "./pulumiTypes";

export { readerTokenName, SHARED_TOKEN_NAME };

/** Kubernetes ≥ 1.29 marks a token Secret with this label when the token is used. */
export const LEGACY_TOKEN_LABEL = "kubernetes.io/legacy-token-last-used";

export interface RemoteSecretsArgs {
    source: ClusterHandle;
    /** The clusters whose istiod reads the source, each with its istio-system Namespace. */
    targets: { cluster: ClusterHandle; namespace: k8s.core.v1.Namespace }[];
    /** The source's istio-system Namespace (on a remote it carries controlPlaneClusters, which must exist before its primary reads it). */
    sourceNamespace: k8s.core.v1.Namespace;
    /**
     * The source's `istiod` release: it renders the reader's ClusterRole and binding
     * (manifests/charts/istio-control/istio-discovery/templates/reader-clusterrole.yaml at 1.30.3),
     * without which the token authenticates but every list istiod makes gets 403; `base` only
     * makes the ServiceAccount.
     */
    sourceIstiod: pulumi.Resource;
    /**
     * `perReader` (the default): one token per reading cluster, so deleting one revokes exactly that
     * pair, at the cost of N−1 more Secrets per cluster. `perSource`: one token per source, as
     * istioctl does; revoking a reader then means rotating the source's token for all
     * (docs/reader-rbac.md).
     */
    tokens: "perReader" | "perSource";
}

export class RemoteSecrets extends pulumi.ComponentResource {
    public readonly tokens: k8s.core.v1.Secret[] = [];
    /** Target cluster name → the remote secret written there. */
    public readonly secrets: Record<string, k8s.core.v1.Secret> = {};

    constructor(name: string, args: RemoteSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("istio", "RemoteSecrets"), name, {}, opts);
        const { source } = args;

        // The SA (base chart) and its RBAC (istiod chart) are named only in a string annotation, so
        // the dependency on the istiod release is explicit: a token for a missing SA panicked the
        // provider before 4.32 (pulumi-kubernetes#4396). The provider waits for the token controller to fill `data`
        // (pulumi-kubernetes#2048).
        const token = (resourceName: string, secretName: string) => {
            const t = new k8s.core.v1.Secret(
                resourceName,
                {
                    metadata: {
                        name: secretName,
                        namespace: args.sourceNamespace.metadata.name,
                        annotations: { "kubernetes.io/service-account.name": READER_SERVICE_ACCOUNT },
                    },
                    type: "kubernetes.io/service-account-token",
                },
                {
                    ...inCluster(this, source.provider),
                    dependsOn: [args.sourceIstiod],
                    // The API server labels a token Secret on first use (KEP-2799, legacy token tracking,
                    // https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-legacy-token-last-used);
                    // that label is the cluster's, not a change to undo.
                    ignoreChanges: [`metadata.labels["${LEGACY_TOKEN_LABEL}"]`],
                },
            );
            this.tokens.push(t);
            return pulumi.secret(
                pulumi.all([t.data, source.apiServer]).apply(([data, server]) => {
                    const tok = data?.["token"];
                    const ca = data?.["ca.crt"];
                    if (!tok || !ca)
                        throw new Error(
                            `the reader token in cluster ${source.name} has no token or ca.crt yet; is the token controller running?`,
                        );
                    return tokenKubeconfig({
                        clusterName: source.name,
                        server,
                        caDataB64: ca,
                        token: Buffer.from(tok, "base64").toString("utf8"),
                    });
                }),
            );
        };
        const shared = args.tokens === "perReader" ? undefined : token(`${name}-token`, SHARED_TOKEN_NAME);

        for (const target of args.targets) {
            const t = target.cluster.name;
            const kubeconfig = shared ?? token(`${name}-token-${t}`, readerTokenName(t));
            // The shape `istioctl create-remote-secret` writes (istioctl/pkg/multicluster/remote_secret.go at 1.30.3): istiod watches its own
            // namespace for this label, and the data key is the source's cluster ID.
            this.secrets[t] = new k8s.core.v1.Secret(
                `${name}-to-${t}`,
                {
                    metadata: {
                        name: remoteSecretName(source.name),
                        namespace: target.namespace.metadata.name,
                        labels: { [MULTICLUSTER_SECRET_LABEL]: "true" },
                        annotations: { [CLUSTER_ANNOTATION]: source.name },
                    },
                    stringData: pulumi.secret(kubeconfig.apply((k) => ({ [source.name]: k }))),
                },
                { ...inCluster(this, target.cluster.provider), dependsOn: [args.sourceNamespace] },
            );
        }
        this.registerOutputs({ tokens: this.tokens, secrets: this.secrets });
    }
}
