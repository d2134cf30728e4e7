// `platform: eks`: an EKS cluster with @pulumi/aws only: its VPC, IAM roles, access entries and a
// managed node group (docs/istio-notes.md, "Pulumi rules").
// The SDK's modules this builder uses, not its index: the index's types are every AWS service's
// (thousands of declaration files for the type-checker and the linter).
import * as ec2 from "@pulumi/aws/ec2";
import * as eks from "@pulumi/aws/eks";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as iam from "@pulumi/aws/iam";
import { Provider } from "@pulumi/aws/provider";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { subnet } from "../../cidr";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";
import { clusterProvider, instanceDigest } from "../provider";
import { componentType } from "../../pulumiTypes";
import type { CreateArgs, PlatformCluster } from "../types";
import type { EksConfig } from "./index";
import { eksClusterTag } from "./names";

type Eks = PlatformCluster & { eks: EksConfig };

/** The builder's entry point (components/platforms/types.ts PlatformBuilder). */
export function create({ clusters, opts }: CreateArgs): Record<string, MeshCluster> {
    return createEksClusters(clusters as Eks[], opts);
}

/** Every EKS cluster of the mesh, with one explicit AWS provider per region (no ambient AWS config decides it). */
export function createEksClusters(clusters: Eks[], opts?: pulumi.ComponentResourceOptions): Record<string, EksCluster> {
    const providers = new Map<string, Provider>();
    const awsProvider = (region: string) => {
        if (!providers.has(region)) providers.set(region, new Provider(`aws-${region}`, { region }, opts));
        return providers.get(region)!;
    };
    const out: Record<string, EksCluster> = {};
    for (const c of clusters) out[c.name] = new EksCluster(c.name, { cluster: c, provider: awsProvider(c.eks.region) }, opts);
    return out;
}

/**
 * A kubeconfig that authenticates with `aws eks get-token` (AWS CLI v2), built from the cluster's
 * outputs. `--region` is explicit so ambient AWS config cannot point it elsewhere.
 */
export function eksKubeconfig(
    clusterName: pulumi.Input<string>,
    endpoint: pulumi.Input<string>,
    caData: pulumi.Input<string>,
    region: string,
): pulumi.Output<string> {
    return pulumi.jsonStringify(
        pulumi.output({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": caData } }],
            contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
            "current-context": clusterName,
            users: [
                {
                    name: clusterName,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "aws",
                            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
                            env: [{ name: "KUBERNETES_EXEC_INFO", value: '{"apiVersion":"client.authentication.k8s.io/v1beta1"}' }],
                        },
                    },
                },
            ],
        }),
    );
}

/** Subnet plan of a VPC: public subnets (load balancers, and nodes unless private) then private ones. */
export function eksSubnets(vpcCidr: string, zones: number, privateSubnets: boolean): { public: string[]; private: string[] } {
    // /20 slices of the VPC (4,096 addresses each: the VPC CNI gives every pod a VPC address).
    const prefix = Math.max(Number(vpcCidr.split("/")[1]) + 4, 20);
    const pub = Array.from({ length: zones }, (_, i) => subnet(vpcCidr, prefix, i));
    const priv = privateSubnets ? Array.from({ length: zones }, (_, i) => subnet(vpcCidr, prefix, zones + i)) : [];
    return { public: pub, private: priv };
}

const EKS_ASSUME = (service: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

export interface EksClusterArgs {
    cluster: Eks;
    provider: Provider;
}

export class EksCluster extends MeshClusterResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly cluster: eks.Cluster;
    public readonly nodeGroup: eks.NodeGroup;

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("cluster", "EksCluster"), name, args.cluster, { region: args.cluster.eks.region }, opts);
        const c = args.cluster;
        const e = c.eks;
        const child = { parent: this, provider: args.provider };
        const tags = { "multicluster-mesh/cluster": c.name };

        // Network: a VPC with DNS, an internet gateway, public subnets in several zones tagged for
        // load balancers, and optionally private subnets for the nodes behind one NAT gateway.
        const zoneCount = e.availabilityZones?.length ?? e.azCount;
        const zones: pulumi.Output<string>[] = e.availabilityZones
            ? e.availabilityZones.map((z) => pulumi.output(z))
            : (() => {
                  const available = getAvailabilityZonesOutput({ state: "available" }, { parent: this, provider: args.provider });
                  return Array.from({ length: zoneCount }, (_, i) =>
                      available.names.apply((n) => {
                          if (n.length <= i)
                              throw new Error(`region ${e.region} has only ${n.length} available zones; eks.azCount is ${zoneCount}`);
                          return n[i];
                      }),
                  );
              })();
        const plan = eksSubnets(e.vpcCidr, zoneCount, e.privateSubnets);
        const vpc = new ec2.Vpc(
            `${name}-vpc`,
            { cidrBlock: e.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: { ...tags, Name: `${c.name}-vpc` } },
            child,
        );
        const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, child);
        const publicRoutes = new ec2.RouteTable(
            `${name}-public-rt`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags },
            child,
        );
        const clusterTag = eksClusterTag(c.name);
        const publicRoutesReady: pulumi.Resource[] = [];
        const publicSubnets = plan.public.map((cidr, i) => {
            const s = new ec2.Subnet(
                `${name}-public-${i}`,
                // Managed node groups in public subnets need public IPs; the elb tag lets Services find them.
                {
                    vpcId: vpc.id,
                    cidrBlock: cidr,
                    availabilityZone: zones[i],
                    mapPublicIpOnLaunch: true,
                    tags: { ...tags, [clusterTag]: "shared", "kubernetes.io/role/elb": "1" },
                },
                child,
            );
            publicRoutesReady.push(
                new ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRoutes.id }, child),
            );
            return s;
        });
        let nodeSubnets = publicSubnets;
        // Nodes join the cluster and pull images through their subnet's route (the internet gateway,
        // or the NAT in private subnets): the node group must not start before that route is
        // associated, or nodes boot without a default route and never join.
        const nodeNetworkReady: pulumi.Resource[] = e.privateSubnets ? [] : publicRoutesReady;
        if (e.privateSubnets) {
            const eip = new ec2.Eip(`${name}-nat-ip`, { domain: "vpc", tags }, child);
            const nat = new ec2.NatGateway(
                `${name}-nat`,
                { subnetId: publicSubnets[0].id, allocationId: eip.id, tags },
                { ...child, dependsOn: [igw] },
            );
            const privateRoutes = new ec2.RouteTable(
                `${name}-private-rt`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags },
                child,
            );
            nodeSubnets = plan.private.map((cidr, i) => {
                const s = new ec2.Subnet(
                    `${name}-private-${i}`,
                    {
                        vpcId: vpc.id,
                        cidrBlock: cidr,
                        availabilityZone: zones[i],
                        tags: { ...tags, [clusterTag]: "shared", "kubernetes.io/role/internal-elb": "1" },
                    },
                    child,
                );
                nodeNetworkReady.push(
                    new ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: privateRoutes.id }, child),
                );
                return s;
            });
        }

        // IAM: ARNs from the partition, so GovCloud and China work too.
        const partition = getPartitionOutput({}, { parent: this, provider: args.provider }).partition;
        const policy = (p: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${p}`;
        const clusterRole = new iam.Role(`${name}-cluster-role`, { assumeRolePolicy: EKS_ASSUME("eks.amazonaws.com"), tags }, child);
        const clusterPolicies = ["AmazonEKSClusterPolicy"].map(
            (p) => new iam.RolePolicyAttachment(`${name}-cluster-${p}`, { role: clusterRole.name, policyArn: policy(p) }, child),
        );
        const nodeRole = new iam.Role(`${name}-node-role`, { assumeRolePolicy: EKS_ASSUME("ec2.amazonaws.com"), tags }, child);
        const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map(
            (p) => new iam.RolePolicyAttachment(`${name}-node-${p}`, { role: nodeRole.name, policyArn: policy(p) }, child),
        );

        // The attachments come first on create and go last on destroy: without the explicit edge a
        // create races them and a destroy removes them while the nodes still need them
        // (docs/istio-notes.md, "Pulumi rules": IAM before the cluster).
        this.cluster = new eks.Cluster(
            `${name}-cluster`,
            {
                name: c.name,
                roleArn: clusterRole.arn,
                version: e.version,
                vpcConfig: {
                    subnetIds: [...publicSubnets, ...(e.privateSubnets ? nodeSubnets : [])].map((s) => s.id),
                    endpointPublicAccess: e.endpointPublicAccess,
                    endpointPrivateAccess: true,
                },
                kubernetesNetworkConfig: { serviceIpv4Cidr: e.serviceCidr },
                accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
                tags,
            },
            { ...child, dependsOn: clusterPolicies, protect: c.protect },
        );
        const accessEntries = e.accessEntries.map((arn, i) => {
            const entry = new eks.AccessEntry(
                `${name}-access-${i}`,
                { clusterName: this.cluster.name, principalArn: arn, type: "STANDARD", tags },
                child,
            );
            new eks.AccessPolicyAssociation(
                `${name}-access-${i}-admin`,
                {
                    clusterName: this.cluster.name,
                    principalArn: arn,
                    policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
                    accessScope: { type: "cluster" },
                },
                { ...child, dependsOn: [entry] },
            );
            return entry;
        });
        this.nodeGroup = new eks.NodeGroup(
            `${name}-nodes`,
            {
                clusterName: this.cluster.name,
                nodeRoleArn: nodeRole.arn,
                subnetIds: nodeSubnets.map((s) => s.id),
                instanceTypes: e.nodeGroup.instanceTypes,
                amiType: "AL2023_x86_64_STANDARD",
                scalingConfig: { desiredSize: e.nodeGroup.desired, minSize: e.nodeGroup.min, maxSize: e.nodeGroup.max },
                tags,
            },
            { ...child, dependsOn: [...nodePolicies, ...nodeNetworkReady], protect: c.protect },
        );

        this.apiServer = this.cluster.endpoint;
        this.kubeconfig = pulumi.secret(
            eksKubeconfig(this.cluster.name, this.cluster.endpoint, this.cluster.certificateAuthority.data, e.region),
        );
        // Right after creation the endpoint can be unreachable for minutes; waiting for the node
        // group gives that slack and orders deletion (docs/istio-notes.md, "Pulumi rules": wait for nodes).
        this.provider = clusterProvider(
            `${name}-k8s`,
            {
                platform: "eks",
                deleteUnreachable: c.deleteUnreachable === true,
                cluster: c.name,
                kubeconfig: this.kubeconfig,
                // A replaced cluster keeps its `arn` but gets a new endpoint and creation time; nothing
                // else changes createdAt (EKS does not rotate its CA).
                instance:
                    typeof c.identity === "string"
                        ? c.identity
                        : pulumi.all([this.cluster.endpoint, this.cluster.createdAt]).apply(([e, t]) => instanceDigest(e, t)),
            },
            { parent: this, dependsOn: [this.nodeGroup, ...accessEntries] },
        );
        this.registerOutputs({
            apiServer: this.apiServer,
            endpoint: this.cluster.endpoint,
            cluster: this.cluster,
            nodeGroup: this.nodeGroup,
            kubeconfig: this.kubeconfig,
            provider: this.provider,
        });
    }
}
