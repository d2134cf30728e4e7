// `platform: eks`: an EKS cluster with its VPC, IAM roles, access entries and managed node group.
// Every fact of the platform in one place; its builder (./cluster.ts, @pulumi/aws) is loaded only
// where clusters are created.
import * as crypto from "node:crypto";
import { z } from "zod";
import { forceNewRule, unverifiedRule } from "../changeRules";
import { checkCidr, checkDisjoint, K8S_MAX_NODES } from "../checks";
import type { Platform, PlatformBuilder } from "../types";
import { EKS_CLUSTER_NAME_MAX } from "./names";

/** The AWS resource types the builder registers. */
export const EKS_TYPES = {
    provider: "pulumi:providers:aws",
    cluster: "aws:eks/cluster:Cluster",
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    accessEntry: "aws:eks/accessEntry:AccessEntry",
    accessPolicyAssociation: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    internetGateway: "aws:ec2/internetGateway:InternetGateway",
    routeTable: "aws:ec2/routeTable:RouteTable",
    routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    eip: "aws:ec2/eip:Eip",
    natGateway: "aws:ec2/natGateway:NatGateway",
    role: "aws:iam/role:Role",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
} as const;

/** No AWS region has more than six availability zones (us-east-1 has six). */
export const AWS_MAX_AZS = 6;

const TF_AWS = "hashicorp/terraform-provider-aws internal/service/eks";

export const eksSchema = z.strictObject({
    region: z.string(),
    vpcCidr: z.string(),
    /** Explicit availability zones; by default the first `azCount` available ones. */
    availabilityZones: z.array(z.string()).optional(),
    azCount: z.number().int().default(2),
    /** The Kubernetes Service range (EKS picks 10.100.0.0/16 or 172.20.0.0/16 when unset). */
    serviceCidr: z.string().default("172.20.0.0/16"),
    version: z.string().default("1.33"),
    nodeGroup: z
        .strictObject({
            instanceTypes: z.array(z.string()).min(1).default(["m6i.large"]),
            desired: z.number().int().default(2),
            min: z.number().int().default(2),
            max: z.number().int().default(4),
        })
        .default({ instanceTypes: ["m6i.large"], desired: 2, min: 2, max: 4 }),
    endpointPublicAccess: z.boolean().default(true),
    /** Nodes in private subnets behind one NAT gateway (load balancers stay in the public subnets). */
    privateSubnets: z.boolean().default(false),
    /** IAM principals (role or user ARNs) given cluster-admin through EKS access entries. */
    accessEntries: z.array(z.string()).default([]),
    /**
     * The IAM principal that runs `pulumi up`, if you want it named: EKS gives the creator an access
     * entry of its own (bootstrapClusterCreatorAdminPermissions), so listing it in accessEntries too
     * is refused by the EKS API (ResourceInUseException); validation refuses it first.
     */
    creatorArn: z.string().optional(),
});
export type EksConfig = z.output<typeof eksSchema>;

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
const AWS_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/;
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export const eks: Platform = {
    name: "eks",
    cloud: "aws",
    block: eksSchema,
    blockRequired: "region, vpcCidr",
    localityFrom: "eks.region",
    takesKubeconfig: false,
    sharesNetwork: true,
    check(c, at, say) {
        if (typeof c.name === "string" && c.name.length > EKS_CLUSTER_NAME_MAX) {
            say(
                `${at}.name`,
                `"${c.name}" has ${c.name.length} characters; on EKS at most ${EKS_CLUSTER_NAME_MAX} ` +
                    `fit, since its IAM role name <cluster>-cluster-role-<suffix> may have 64`,
            );
        }
        const e = c.eks as Partial<EksConfig> | undefined;
        if (!e) return;
        const b = `${at}.eks`;
        if (typeof e.region === "string" && !AWS_REGION.test(e.region))
            say(`${b}.region`, `"${e.region}" is not an AWS region (e.g. us-east-1)`);
        for (const [k, az] of (e.availabilityZones ?? []).entries()) {
            // A zone is its region plus one letter; compared as text, never as a pattern built from input.
            if (
                typeof e.region === "string" &&
                !(typeof az === "string" && az.length === e.region.length + 1 && az.startsWith(e.region) && /[a-z]$/.test(az))
            )
                say(`${b}.availabilityZones[${k}]`, `"${az}" is not a zone of region ${e.region} (e.g. ${e.region}a)`);
        }
        const zones = e.availabilityZones?.length ?? e.azCount ?? 2;
        if (zones < 2)
            say(e.availabilityZones ? `${b}.availabilityZones` : `${b}.azCount`, "EKS needs subnets in at least two availability zones");
        const vpc = checkCidr(e.vpcCidr, `${b}.vpcCidr`, say, 24);
        checkDisjoint(
            [
                [`${b}.vpcCidr`, vpc],
                [`${b}.serviceCidr`, checkCidr(e.serviceCidr, `${b}.serviceCidr`, say, 24)],
            ],
            say,
        );
        if (vpc && vpc.prefix > 20)
            say(
                `${b}.vpcCidr`,
                `/${vpc.prefix} leaves too few addresses for pods (the VPC CNI gives pods VPC addresses); use /20 or larger`,
            );
        const ng = e.nodeGroup;
        if (ng && !(ng.min <= ng.desired && ng.desired <= ng.max && ng.min >= 1))
            say(`${b}.nodeGroup`, `needs 1 ≤ min ≤ desired ≤ max (got min ${ng.min}, desired ${ng.desired}, max ${ng.max})`);
        for (const [k, arn] of (e.accessEntries ?? []).entries()) {
            if (!AWS_ARN.test(arn)) say(`${b}.accessEntries[${k}]`, `"${arn}" is not an IAM role or user ARN`);
            else if (e.creatorArn !== undefined && arn === e.creatorArn) {
                say(
                    `${b}.accessEntries[${k}]`,
                    `"${arn}" is the cluster creator (eks.creatorArn), which EKS already gives an access ` +
                        `entry; the API refuses a second one, so remove it here`,
                );
            }
        }
        if (e.creatorArn !== undefined && !AWS_ARN.test(e.creatorArn))
            say(`${b}.creatorArn`, `"${e.creatorArn}" is not an IAM role or user ARN`);
    },
    // Counts beyond what EKS or Kubernetes can run.
    checkMesh(clusters, _meshId, say) {
        for (const { c, at } of clusters) {
            const e = c.eks && typeof c.eks === "object" ? (c.eks as Record<string, any>) : undefined;
            if (!e) continue;
            for (const k of ["desired", "min", "max"] as const) {
                const v = e.nodeGroup?.[k];
                if (typeof v === "number" && v > K8S_MAX_NODES)
                    say(
                        `${at}.eks.nodeGroup.${k}`,
                        `${v} nodes is beyond Kubernetes' tested ${K8S_MAX_NODES.toLocaleString("en-US")} per cluster ` +
                            "(and EKS's default quota is 450 per managed node group): give the number of nodes you mean",
                    );
            }
            const az = e.azCount;
            if (typeof az === "number" && az > AWS_MAX_AZS)
                say(`${at}.eks.azCount`, `${az} availability zones: no AWS region has more than ${AWS_MAX_AZS}`);
        }
    },
    routingDomain: (c) => `the AWS VPC of ${c.name}`,
    podRanges(c) {
        const e = c.eks as Partial<EksConfig> | undefined;
        if (!e) return [];
        return [
            ["eks.vpcCidr", e.vpcCidr],
            ["eks.serviceCidr", e.serviceCidr],
        ];
    },
    locality: (c) => ({ region: (c.eks as EksConfig).region }),
    // The in-tree cloud controller would make a Classic ELB; an NLB passes TLS (15443, 15012, 15017)
    // straight through. See docs/deploy.md, "A real deploy", for what this annotation does with and without
    // the AWS Load Balancer Controller.
    gatewayServiceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
    // What `aws eks update-kubeconfig` names the context by default; the account is only known at deploy.
    kubeContext(c) {
        const e = c.eks as Partial<EksConfig> | undefined;
        return e?.region ? `arn:aws:eks:${e.region}:<account-id>:cluster/${c.name}` : undefined;
    },
    kubeVersion(c) {
        const v = (c.eks as Partial<EksConfig> | undefined)?.version;
        return v ? String(v) : undefined;
    },
    sdks: ["@pulumi/aws"],
    // Private subnets (NAT gateway, elastic IP) and an access entry: every type the builder has.
    sampleCluster: () => ({
        eks: {
            region: "us-east-1",
            vpcCidr: "10.16.0.0/16",
            privateSubnets: true,
            accessEntries: ["arn:aws:iam::123456789012:role/mesh-admin"],
        },
    }),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: it imports @pulumi/aws
    builder: () => require("./cluster") as PlatformBuilder,
    resources: {
        changeRules: [
            forceNewRule(
                EKS_TYPES.cluster,
                "aws eks Cluster",
                `${TF_AWS}/cluster.go (commit 00555dc5): ForceNew name, roleArn, accessConfig.bootstrapClusterCreatorAdminPermissions, ` +
                    "bootstrapSelfManagedAddons, kubernetesNetworkConfig.ipFamily/serviceIpv4Cidr, outpostConfig, remoteNetworkConfig; " +
                    "vpcConfig (subnetIds, endpoint access) and version are updates (UpdateClusterConfig/UpdateClusterVersion)",
                [
                    "name",
                    "roleArn",
                    "accessConfig.bootstrapClusterCreatorAdminPermissions",
                    "bootstrapSelfManagedAddons",
                    "kubernetesNetworkConfig.ipFamily",
                    "kubernetesNetworkConfig.serviceIpv4Cidr",
                    "outpostConfig",
                    "remoteNetworkConfig",
                ],
            ),
            forceNewRule(
                EKS_TYPES.nodeGroup,
                "aws eks NodeGroup",
                `${TF_AWS}/node_group.go: ForceNew amiType, capacityType, clusterName, diskSize, instanceTypes, launchTemplate id/name, ` +
                    "nodeGroupName(Prefix), nodeRoleArn, remoteAccess, subnetIds; scalingConfig, labels, taints, version are updates",
                [
                    "amiType",
                    "capacityType",
                    "clusterName",
                    "diskSize",
                    "instanceTypes",
                    "launchTemplate.id",
                    "launchTemplate.name",
                    "nodeGroupName",
                    "nodeGroupNamePrefix",
                    "nodeRoleArn",
                    "remoteAccess",
                    "subnetIds",
                ],
            ),
            // Declared, not yet verified: recording their decisive inputs would change every EKS stack's plan.json.
            // What hashicorp/terraform-provider-aws says (for the rule that replaces these): internal/service/ec2/vpc_.go
            // ForceNew cidrBlock, ipv4IpamPoolId, ipv4NetmaskLength; vpc_subnet.go ForceNew availabilityZone(Id), cidrBlock,
            // ipv4IpamPoolId, ipv4NetmaskLength, ipv6IpamPoolId, ipv6Native, ipv6NetmaskLength, outpostArn, vpcId;
            // vpc_nat_gateway.go ForceNew allocationId, connectivityType, privateIp, subnetId; internal/service/eks/
            // access_entry.go ForceNew clusterName, principalArn, type; access_policy_association.go has no Update (every
            // input replaces).
            unverifiedRule(EKS_TYPES.provider, "the AWS provider (one per region, named after it)"),
            unverifiedRule(EKS_TYPES.vpc, "the cluster's VPC"),
            unverifiedRule(EKS_TYPES.subnet, "a public or private subnet"),
            unverifiedRule(EKS_TYPES.internetGateway, "the VPC's internet gateway"),
            unverifiedRule(EKS_TYPES.routeTable, "a route table"),
            unverifiedRule(EKS_TYPES.routeTableAssociation, "a subnet's route table association"),
            unverifiedRule(EKS_TYPES.eip, "the NAT gateway's address"),
            unverifiedRule(EKS_TYPES.natGateway, "the NAT gateway of the private subnets"),
            unverifiedRule(EKS_TYPES.role, "the cluster or node IAM role"),
            unverifiedRule(EKS_TYPES.rolePolicyAttachment, "an IAM policy attachment"),
            unverifiedRule(EKS_TYPES.accessEntry, "an EKS access entry"),
            unverifiedRule(EKS_TYPES.accessPolicyAssociation, "an EKS access policy association"),
        ],
        isCluster: (r) => r.type === EKS_TYPES.cluster,
        deployTimeOutputs: (r) =>
            r.type === EKS_TYPES.cluster
                ? [
                      { path: "endpoint", value: r.state.endpoint },
                      { path: "certificateAuthority.data", value: r.state.certificateAuthority?.data },
                  ]
                : // EC2 IDs (vpc-…, subnet-…, igw-…) are new for every created object.
                  r.type.startsWith("aws:ec2/")
                  ? [{ path: "id", value: r.id }]
                  : [],
    },
    simulator: {
        loadBalancerAddress: "hostname",
        answers(type, name, inputs, ctx) {
            const region = String(ctx.providerInputs()?.region ?? "us-east-1");
            if (type === EKS_TYPES.cluster) {
                // A replacement (new name or network) gets a new endpoint and CA, as EKS does.
                const hex = crypto
                    .createHash("sha256")
                    .update(JSON.stringify([inputs.name, inputs.roleArn, inputs.vpcConfig?.subnetIds]))
                    .digest("hex")
                    .slice(0, 32)
                    .toUpperCase();
                return {
                    id: inputs.name,
                    state: {
                        ...inputs,
                        arn: `arn:aws:eks:${region}:123456789012:cluster/${inputs.name}`,
                        endpoint: `https://${hex}.gr7.${region}.eks.amazonaws.com`,
                        certificateAuthority: {
                            data: b64(
                                `-----BEGIN CERTIFICATE-----\nSIMULATED-EKS-CA-${inputs.name}-${hex.slice(0, 8)}\n-----END ` +
                                    `CERTIFICATE-----\n`,
                            ),
                        },
                        status: "ACTIVE",
                        // A new cluster is created at a new time.
                        createdAt: `2026-01-01T00:00:${String(parseInt(hex.slice(0, 2), 16) % 60).padStart(2, "0")}.${hex.slice(2, 8)}Z`,
                    },
                };
            }
            if (type.startsWith("aws:")) {
                const svc = type.split(":")[1].split("/")[0];
                const id = `${name}-id`;
                return { id, state: { ...inputs, id, arn: `arn:aws:${svc}::123456789012:${name}`, name: inputs.name ?? name } };
            }
            return undefined;
        },
        invoke(token, inputs, ctx) {
            const region = String(ctx.providerInputs()?.region ?? "us-east-1");
            if (token === "aws:index/getAvailabilityZones:getAvailabilityZones") {
                return {
                    id: region,
                    names: ["a", "b", "c"].map((z) => `${region}${z}`),
                    zoneIds: [1, 2, 3].map((n) => `use1-az${n}`),
                    state: inputs.state,
                };
            }
            if (token === "aws:index/getPartition:getPartition")
                return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
            return undefined;
        },
    },
    bench: {
        latencies: [
            { key: EKS_TYPES.cluster, seconds: 600, why: "EKS control plane" },
            { key: EKS_TYPES.nodeGroup, seconds: 240, why: "EKS managed node group" },
            { key: EKS_TYPES.vpc, seconds: 3, why: "VPC" },
            { key: EKS_TYPES.subnet, seconds: 5, why: "subnet" },
            { key: EKS_TYPES.internetGateway, seconds: 2, why: "internet gateway" },
            { key: EKS_TYPES.routeTable, seconds: 2, why: "route table" },
            { key: EKS_TYPES.routeTableAssociation, seconds: 1, why: "route table association" },
            { key: EKS_TYPES.eip, seconds: 2, why: "elastic IP" },
            { key: EKS_TYPES.natGateway, seconds: 120, why: "NAT gateway" },
            { key: EKS_TYPES.role, seconds: 2, why: "IAM role" },
            { key: EKS_TYPES.rolePolicyAttachment, seconds: 1, why: "IAM policy attachment" },
            { key: EKS_TYPES.accessEntry, seconds: 2, why: "EKS access entry" },
            { key: EKS_TYPES.accessPolicyAssociation, seconds: 2, why: "EKS access policy" },
        ],
        nodePoolTypes: [EKS_TYPES.nodeGroup],
        example: (i) => ({ region: i % 4 === 1 ? "us-east-1" : "us-west-2", vpcCidr: "10.16.0.0/16", azCount: 2, privateSubnets: true }),
    },
    policy: {
        // The provider's default is false, so it must be set.
        clusterTypes: [
            {
                type: EKS_TYPES.cluster,
                label: "EKS",
                deletionProtectionDefault: false,
                fix: "protect: true (or deletionProtection on the EKS cluster)",
            },
        ],
    },
};
