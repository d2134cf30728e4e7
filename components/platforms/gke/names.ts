// GKE's derived names, each derived once. Limits: a GKE cluster name has at most 40 characters
// (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster.FIELDS.name);
// VPC, subnet, secondary range names and network tags are RFC 1035 labels of at most 63
// (https://cloud.google.com/compute/docs/naming-resources).

export const GKE_CLUSTER_NAME_MAX = 40;

/** The region of a GKE location (a zone `us-central1-a` lies in region `us-central1`). */
export function gcpRegion(location: string): string {
    return /-[a-z]$/.test(location) ? location.replace(/-[a-z]$/, "") : location;
}

/** The network tag on a mesh cluster's nodes: what firewall rules between clusters target. */
export function gkeNodeTag(meshId: string, cluster: string): string {
    return `${meshId}-${cluster}-node`.slice(0, 63);
}

/** The VPC this program creates for one mesh network in one project (when `gke.network` is not given). */
export function gkeVpcName(meshId: string, network: string): string {
    return `${meshId}-${network}`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .slice(0, 63);
}

export function gkeSecondaryRanges(cluster: string): { pods: string; services: string } {
    return { pods: `${cluster}-pods`, services: `${cluster}-services` };
}
