// `platform: eks`: an EKS cluster with its VPC, IAM roles, access entries and managed node group.
// Every fact of the platform in one place (component: ./cluster.ts).
import * as crypto from "node:crypto";
import { z } from "zod";
import type { MeshCluster } from "../../meshCluster";
import { checkCidr, checkDisjoint } from "../checks";
import type { Platform, PlatformCluster } from "../types";
import { EKS_CLUSTER_NAME_MAX } from "./names";
import { createEksClusters } from "./cluster";

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
    // straight through. See README, "A real deploy", for what this annotation does with and without
    // the AWS Load Balancer Controller.
    gatewayServiceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
    create({ clusters, opts }) {
        return createEksClusters(clusters as (PlatformCluster & { eks: EksConfig })[], opts) as Record<string, MeshCluster>;
    },
    simulator: {
        loadBalancerAddress: "hostname",
        answers(type, name, inputs, ctx) {
            const region = String(ctx.providerInputs()?.region ?? "us-east-1");
            if (type === "aws:eks/cluster:Cluster") {
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
            { key: "aws:eks/cluster:Cluster", seconds: 600, why: "EKS control plane" },
            { key: "aws:eks/nodeGroup:NodeGroup", seconds: 240, why: "EKS managed node group" },
            { key: "aws:ec2/vpc:Vpc", seconds: 3, why: "VPC" },
            { key: "aws:ec2/subnet:Subnet", seconds: 5, why: "subnet" },
            { key: "aws:ec2/internetGateway:InternetGateway", seconds: 2, why: "internet gateway" },
            { key: "aws:ec2/routeTable:RouteTable", seconds: 2, why: "route table" },
            { key: "aws:ec2/routeTableAssociation:RouteTableAssociation", seconds: 1, why: "route table association" },
            { key: "aws:ec2/eip:Eip", seconds: 2, why: "elastic IP" },
            { key: "aws:ec2/natGateway:NatGateway", seconds: 120, why: "NAT gateway" },
            { key: "aws:iam/role:Role", seconds: 2, why: "IAM role" },
            { key: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", seconds: 1, why: "IAM policy attachment" },
            { key: "aws:eks/accessEntry:AccessEntry", seconds: 2, why: "EKS access entry" },
            { key: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", seconds: 2, why: "EKS access policy" },
        ],
        nodePoolTypes: ["aws:eks/nodeGroup:NodeGroup"],
        example: (i) => ({ region: i % 4 === 1 ? "us-east-1" : "us-west-2", vpcCidr: "10.16.0.0/16", azCount: 2, privateSubnets: true }),
    },
    policy: {
        // The provider's default is false, so it must be set.
        clusterTypes: [
            {
                type: "aws:eks/cluster:Cluster",
                label: "EKS",
                deletionProtectionDefault: false,
                fix: "protect: true (or deletionProtection on the EKS cluster)",
            },
        ],
    },
};
