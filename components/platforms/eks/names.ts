// EKS's derived names and their limits. The tightest is IAM's: a role name has at most 64
// characters (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html), and Pulumi
// auto-names the cluster role `<cluster>-cluster-role-<7 random characters>`
// (https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming), so a cluster name may have
// at most 64 - 21 = 43 characters. (An EKS cluster name itself may have 100.)
export const EKS_CLUSTER_NAME_MAX = 64 - "-cluster-role".length - 8;

/** The tag that lets the cloud controller find a cluster's subnets. */
export function eksClusterTag(cluster: string): string {
    return `kubernetes.io/cluster/${cluster}`;
}
