// `platform: gke`: a VPC-native GKE cluster with its own node pool, and the VPC it lives in.
// The SDK's modules this builder uses, not its index: the index's types are every Google Cloud service's.
import * as compute from "@pulumi/gcp/compute";
import * as container from "@pulumi/gcp/container";
import { Provider } from "@pulumi/gcp/provider";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";
import { componentType } from "../../pulumiTypes";
import { clusterProvider, instanceDigest } from "../provider";
import type { CreateArgs, PlatformCluster } from "../types";
import type { GkeConfig } from "./index";
import { gcpRegion, gkeNodeTag, gkeSecondaryRanges, gkeVpcName } from "./names";

export { gcpRegion, gkeNodeTag };

type Gke = PlatformCluster & { gke: GkeConfig };

/** The VPCs the GKE clusters need: one per (project, VPC name); clusters of one mesh network in it are pod peers. */
export function gcpNetworkPlan(
    meshId: string,
    clusters: Gke[],
): { key: string; project: string; network: string; existing: boolean; members: Gke[] }[] {
    const groups = new Map<string, { key: string; project: string; network: string; existing: boolean; members: Gke[] }>();
    for (const c of clusters) {
        const network = c.gke.network ?? gkeVpcName(meshId, c.network);
        const key = `${c.gke.project}/${network}`;
        const g = groups.get(key) ?? { key, project: c.gke.project, network, existing: c.gke.network !== undefined, members: [] };
        g.members.push(c);
        groups.set(key, g);
    }
    return [...groups.values()];
}

/** The builder's entry point (components/platforms/types.ts PlatformBuilder). */
export function create({ meshId, clusters, opts }: CreateArgs): Record<string, MeshCluster> {
    return createGkeClusters(meshId, clusters as Gke[], opts);
}

/**
 * Every GKE cluster of the mesh, with one explicit GCP provider per project (nothing depends on
 * ambient gcloud defaults) and one VPC per project and mesh network.
 */
export function createGkeClusters(meshId: string, clusters: Gke[], opts?: pulumi.ComponentResourceOptions): Record<string, GkeCluster> {
    const out: Record<string, GkeCluster> = {};
    const providers = new Map<string, Provider>();
    const gcpProvider = (project: string) => {
        if (!providers.has(project)) providers.set(project, new Provider(`gcp-${project}`, { project }, opts));
        return providers.get(project)!;
    };
    for (const group of gcpNetworkPlan(meshId, clusters)) {
        const provider = gcpProvider(group.project);
        // Pod peers: clusters of one mesh network inside this VPC.
        const byMeshNetwork = new Map<string, Gke[]>();
        for (const m of group.members) byMeshNetwork.set(m.network, [...(byMeshNetwork.get(m.network) ?? []), m]);
        const podPeers = [...byMeshNetwork.values()]
            .filter((ms) => ms.length > 1)
            .flat()
            .map((m) => ({ cluster: m.name, podCidr: m.gke.podCidr, nodeTag: gkeNodeTag(meshId, m.name) }));
        // One component per VPC: its name carries the project when two projects use one VPC name,
        // so two GcpNetworks never share a URN.
        const sameName = gcpNetworkPlan(meshId, clusters).filter((g) => g.network === group.network).length > 1;
        const vpcName = sameName ? `${meshId}-${group.project}-${group.network}` : `${meshId}-${group.network}`;
        const vpc = new GcpNetwork(
            vpcName,
            { project: group.project, network: group.network, existing: group.existing, podPeers, provider },
            opts,
        );
        for (const m of group.members) out[m.name] = new GkeCluster(m.name, { meshId, cluster: m, network: vpc.network, provider }, opts);
    }
    return out;
}

/**
 * A kubeconfig that authenticates through `gke-gcloud-auth-plugin`, built only from the cluster's
 * own outputs (docs/istio-notes.md, "Pulumi rules": cluster outputs only): endpoint is a bare IP, the CA is already base64.
 */
export function gkeKubeconfig(
    name: pulumi.Input<string>,
    endpoint: pulumi.Input<string>,
    caData: pulumi.Input<string>,
): pulumi.Output<string> {
    return pulumi.jsonStringify(
        pulumi.output({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name, cluster: { server: pulumi.interpolate`https://${endpoint}`, "certificate-authority-data": caData } }],
            contexts: [{ name, context: { cluster: name, user: name } }],
            "current-context": name,
            users: [
                {
                    name,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "gke-gcloud-auth-plugin",
                            installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
                            provideClusterInfo: true,
                        },
                    },
                },
            ],
        }),
    );
}

export interface GcpNetworkArgs {
    project: string;
    /** Create this VPC, or (existing: true) only reference it. */
    network: string;
    existing: boolean;
    /** Mesh clusters that share one mesh network inside this VPC: their pods must reach each other. */
    podPeers: { cluster: string; podCidr: string; nodeTag: string }[];
    provider: Provider;
}

/**
 * One VPC per GCP project and mesh network, and a firewall rule that lets the pods of the mesh
 * clusters in it reach each other, which Istio's single-network model needs (docs/istio-notes.md, "Networks"). Only TCP from
 * the peers' pod ranges to the peers' nodes: nothing wider.
 */
export class GcpNetwork extends pulumi.ComponentResource {
    public readonly network: pulumi.Output<string>;
    public readonly firewall?: compute.Firewall;

    constructor(name: string, args: GcpNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("cluster", "GcpNetwork"), name, {}, opts);
        const child = { parent: this, provider: args.provider };
        if (args.existing) {
            this.network = pulumi.output(args.network);
        } else {
            const vpc = new compute.Network(
                `${name}-vpc`,
                { name: args.network, project: args.project, autoCreateSubnetworks: false, routingMode: "GLOBAL" },
                child,
            );
            this.network = vpc.name;
        }
        if (args.podPeers.length > 1) {
            this.firewall = new compute.Firewall(
                `${name}-pods`,
                {
                    project: args.project,
                    network: this.network,
                    direction: "INGRESS",
                    description:
                        `Pod-to-pod traffic between the mesh clusters ${args.podPeers.map((p) => p.cluster).join(", ")} ` +
                        `(Istio single network)`,
                    sourceRanges: args.podPeers.map((p) => p.podCidr),
                    targetTags: args.podPeers.map((p) => p.nodeTag),
                    allows: [{ protocol: "tcp" }],
                },
                child,
            );
        }
        this.registerOutputs({ network: this.network });
    }
}

export interface GkeClusterArgs {
    meshId: string;
    cluster: Gke;
    network: pulumi.Input<string>;
    provider: Provider;
}

export class GkeCluster extends MeshClusterResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly cluster: container.Cluster;
    public readonly nodePool: container.NodePool;

    constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const region = gcpRegion(args.cluster.gke.location);
        super(
            componentType("cluster", "GkeCluster"),
            name,
            args.cluster,
            { region, zone: args.cluster.gke.location !== region ? args.cluster.gke.location : undefined },
            opts,
        );
        const c = args.cluster;
        const g = c.gke;
        const child = { parent: this, provider: args.provider };
        const ranges = gkeSecondaryRanges(c.name);

        const subnet = new compute.Subnetwork(
            `${name}-subnet`,
            {
                project: g.project,
                region,
                network: args.network,
                ipCidrRange: g.subnetCidr,
                privateIpGoogleAccess: true,
                secondaryIpRanges: [
                    { rangeName: ranges.pods, ipCidrRange: g.podCidr },
                    { rangeName: ranges.services, ipCidrRange: g.serviceCidr },
                ],
            },
            child,
        );
        this.cluster = new container.Cluster(
            `${name}-cluster`,
            {
                name: c.name,
                project: g.project,
                location: g.location,
                network: args.network,
                subnetwork: subnet.name,
                networkingMode: "VPC_NATIVE",
                ipAllocationPolicy: { clusterSecondaryRangeName: ranges.pods, servicesSecondaryRangeName: ranges.services },
                // A separate node pool is managed on its own; the default one only bootstraps.
                removeDefaultNodePool: true,
                initialNodeCount: 1,
                workloadIdentityConfig: { workloadPool: `${g.project}.svc.id.goog` },
                releaseChannel: { channel: g.releaseChannel },
                // gcp >= 5 refuses to destroy a cluster unless this is false (docs/istio-notes.md, "Pulumi rules").
                deletionProtection: g.deletionProtection,
            },
            { ...child, protect: c.protect },
        );
        const np = g.nodePool;
        this.nodePool = new container.NodePool(
            `${name}-nodes`,
            {
                project: g.project,
                location: g.location,
                cluster: this.cluster.name,
                // Per zone: a regional cluster multiplies it by its zones.
                nodeCount: np.autoscaling ? undefined : np.nodesPerZone,
                autoscaling: np.autoscaling
                    ? { minNodeCount: np.autoscaling.minNodesPerZone, maxNodeCount: np.autoscaling.maxNodesPerZone }
                    : undefined,
                nodeConfig: {
                    machineType: np.machineType,
                    oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
                    workloadMetadataConfig: { mode: "GKE_METADATA" },
                    tags: [gkeNodeTag(args.meshId, c.name)],
                },
                management: { autoRepair: true, autoUpgrade: true },
            },
            { ...child, protect: c.protect },
        );

        this.apiServer = pulumi.interpolate`https://${this.cluster.endpoint}`;
        this.kubeconfig = pulumi.secret(
            gkeKubeconfig(
                pulumi.interpolate`gke_${g.project}_${g.location}_${c.name}`,
                this.cluster.endpoint,
                this.cluster.masterAuth.clusterCaCertificate,
            ),
        );
        // The provider waits for the node pool, so in-cluster objects are deleted before the nodes
        // that run their controllers (docs/istio-notes.md, "Pulumi rules": wait for nodes); clusterIdentifier keeps it stable.
        this.provider = clusterProvider(
            `${name}-k8s`,
            {
                platform: "gke",
                deleteUnreachable: c.deleteUnreachable === true,
                cluster: c.name,
                kubeconfig: this.kubeconfig,
                // A replaced cluster keeps its `id` but gets a new endpoint and CA. GKE exposes nothing that
                // changes only with a replacement: a credential or IP rotation changes both too, so pin
                // `identity` before one (docs/deploy.md, "A real deploy").
                instance:
                    typeof c.identity === "string"
                        ? c.identity
                        : pulumi
                              .all([this.cluster.endpoint, this.cluster.masterAuth.clusterCaCertificate])
                              .apply(([e, ca]) => instanceDigest(e, ca ?? "")),
            },
            { parent: this, dependsOn: [this.nodePool] },
        );
        this.registerOutputs({
            apiServer: this.apiServer,
            endpoint: this.cluster.endpoint,
            cluster: this.cluster,
            nodePool: this.nodePool,
            kubeconfig: this.kubeconfig,
            provider: this.provider,
        });
    }
}
