// The one way a cluster's Kubernetes provider is built, for every platform.
//
// `clusterIdentifier`: pulumi-kubernetes replaces the provider (and so every object it manages)
// only when this value changes, and treats every other provider config change (kubeconfig, token,
// context) as an update (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go, DiffConfig;
// https://www.pulumi.com/registry/packages/kubernetes/api-docs/provider/#clusteridentifier_nodejs).
// So it must change exactly when the cluster is a new one: it carries the platform, the mesh
// cluster name and an `instance` that each platform derives from something a replacement changes
// (the API endpoint and its CA, or the create command's ID). A cloud ID such as a GKE `id` or an
// EKS `arn` is rebuilt identically for a replacement, and would let state claim that Istio is
// installed in a new, empty cluster.
//
// The same string tells the offline simulator which mesh cluster a provider belongs to
// (`parseClusterIdentifier`), so nothing is guessed from resource names.
//
// `enableSecretMutable`: without it a change to a named Secret's data replaces it, and for a named
// object the provider deletes first (provider/pkg/provider/provider.go, `Diff`, and
// https://www.pulumi.com/registry/packages/kubernetes/api-docs/provider/#enablesecretmutable_nodejs):
// re-issued intermediates would delete `cacerts` before writing the new one, and every remote
// secret change would drop that peer for a moment. With it, Secrets are updated in place.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../pulumiTypes";

export { instanceDigest, parseClusterIdentifier } from "./clusterIdentifier";

export function clusterIdentifier(platform: string, cluster: string, instance: pulumi.Input<string>): pulumi.Output<string> {
    // The same text as clusterIdentifierText (./clusterIdentifier.ts), which the offline tools parse.
    return pulumi.interpolate`${PROJECT}/${platform}/${cluster}/${instance}`;
}

export interface ClusterProviderArgs {
    platform: string;
    cluster: string;
    kubeconfig: pulumi.Input<string>;
    context?: string;
    /** What changes when the cluster is replaced (see above). */
    instance: pulumi.Input<string>;
    /** Drop the cluster's objects from state when its API server is gone (the stack config's `deleteUnreachable`). */
    deleteUnreachable?: boolean;
}

export function clusterProvider(name: string, args: ClusterProviderArgs, opts: pulumi.CustomResourceOptions = {}): k8s.Provider {
    return new k8s.Provider(
        name,
        {
            kubeconfig: args.kubeconfig,
            ...(args.context !== undefined ? { context: args.context } : {}),
            clusterIdentifier: clusterIdentifier(args.platform, args.cluster, args.instance),
            enableSecretMutable: true,
            ...(args.deleteUnreachable ? { deleteUnreachable: true } : {}),
        },
        opts,
    );
}

/**
 * Options for a Kubernetes object with a fixed `metadata.name` (every object this program writes:
 * `istio-system`, `cacerts`, the Helm releases, the remote secrets, the Istio objects).
 *
 * `deleteBeforeReplace`: a replacement of such an object must never be create-first in the same
 * cluster. The provider's own Diff asks for delete-first when a field forces a replacement of a
 * named object (provider/pkg/provider/provider.go, Diff, `deleteBeforeReplace := …`), but the engine
 * replaces a resource whose provider is replaced without asking the provider (pkg/resource/deploy/
 * step_generator.go, providerChanged → ReplaceKeys ["provider"]), and helm.v3.Release never asks for
 * it (helm_release.go: `DeleteBeforeReplace: false, // TODO: revisit this`). Create-first then meets
 * the live object of the same name: provider v4.25.0 adopts it and the delete of the old resource
 * removes it (data loss), provider ≥ 4.29 fails with AlreadyExists (pulumi-kubernetes#4278) and Helm
 * with "cannot re-use a name that is still in use" (a stuck stack). Both were seen with the real
 * engine (docs/real-engine.md).
 */
export function inCluster(
    parent: pulumi.Resource,
    provider: k8s.Provider,
): { parent: pulumi.Resource; provider: k8s.Provider; deleteBeforeReplace: true } {
    return { parent, provider, deleteBeforeReplace: true };
}
