// Build every cluster of the mesh behind the one MeshCluster interface, with one cloud provider
// per GCP project and per AWS region, and one GCP VPC per project and mesh network.
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig, LoadedConfig } from "../config";
import { EksCluster } from "./platforms/eks/cluster";
import { ExistingCluster } from "./platforms/existing/cluster";
import { GcpNetwork, GkeCluster, gkeNodeTag } from "./platforms/gke/cluster";
import { KindCluster } from "./platforms/kind/cluster";
import type { MeshCluster } from "./meshCluster";

type Gke = ClusterConfig & { gke: NonNullable<ClusterConfig["gke"]> };

/** The VPCs the GKE clusters need: one per (project, VPC name); clusters of one mesh network in it are pod peers. */
export function gcpNetworkPlan(meshId: string, clusters: ClusterConfig[]): { key: string; project: string; network: string; existing: boolean; members: Gke[] }[] {
    const groups = new Map<string, { key: string; project: string; network: string; existing: boolean; members: Gke[] }>();
    for (const c of clusters) {
        if (c.platform !== "gke" || !c.gke) continue;
        const network = c.gke.network ?? `${meshId}-${c.network}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63);
        const key = `${c.gke.project}/${network}`;
        const g = groups.get(key) ?? { key, project: c.gke.project, network, existing: c.gke.network !== undefined, members: [] };
        g.members.push(c as Gke);
        groups.set(key, g);
    }
    return [...groups.values()];
}

export function createClusters(meshId: string, config: LoadedConfig, opts?: pulumi.ComponentResourceOptions): Record<string, MeshCluster> {
    const out: Record<string, MeshCluster> = {};
    const gcpProviders = new Map<string, gcp.Provider>();
    const awsProviders = new Map<string, aws.Provider>();
    // Explicit cloud providers: nothing depends on ambient gcloud/AWS defaults for project or region.
    const gcpProvider = (project: string) => {
        if (!gcpProviders.has(project)) gcpProviders.set(project, new gcp.Provider(`gcp-${project}`, { project }, opts));
        return gcpProviders.get(project)!;
    };
    const awsProvider = (region: string) => {
        if (!awsProviders.has(region)) awsProviders.set(region, new aws.Provider(`aws-${region}`, { region: region as aws.Region }, opts));
        return awsProviders.get(region)!;
    };

    for (const group of gcpNetworkPlan(meshId, config.mesh.clusters)) {
        const provider = gcpProvider(group.project);
        // Pod peers: clusters of one mesh network inside this VPC.
        const byMeshNetwork = new Map<string, Gke[]>();
        for (const m of group.members) byMeshNetwork.set(m.network, [...(byMeshNetwork.get(m.network) ?? []), m]);
        const podPeers = [...byMeshNetwork.values()].filter((ms) => ms.length > 1).flat().map((m) => ({ cluster: m.name, podCidr: m.gke.podCidr, nodeTag: gkeNodeTag(meshId, m.name) }));
        const vpc = new GcpNetwork(`${meshId}-${group.network}`, { project: group.project, network: group.network, existing: group.existing, podPeers, provider }, opts);
        for (const m of group.members) out[m.name] = new GkeCluster(m.name, { meshId, cluster: m, network: vpc.network, provider }, opts);
    }
    let kindSlot = 0;
    for (const c of config.mesh.clusters) {
        if (out[c.name]) continue;
        if (c.platform === "eks" && c.eks) out[c.name] = new EksCluster(c.name, { cluster: { ...c, eks: c.eks }, provider: awsProvider(c.eks.region) }, opts);
        else if (c.platform === "kind" && c.kind) out[c.name] = new KindCluster(c.name, { cluster: c as ClusterConfig & { kind: { podSubnet: string; serviceSubnet: string; nodeImage: string } }, slot: kindSlot++ }, opts);
        else if (c.platform === "existing") {
            const kc = config.kubeconfigs[c.name];
            out[c.name] = new ExistingCluster(c.name, { cluster: c, kubeconfig: kc, apiServer: kc.apiServer }, opts);
        } else throw new Error(`cluster ${c.name}: platform ${c.platform} has no settings (validation should have caught this)`);
    }
    // Keep the config's order (outputs and plans list clusters as the user wrote them).
    return Object.fromEntries(config.mesh.clusters.map((c) => [c.name, out[c.name]]));
}
