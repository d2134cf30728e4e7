// `platform: gke`: a VPC-native GKE cluster, its node pool and the VPC it lives in. Every fact of
// the platform in one place: config block, checks, names, locality, change rules, simulator answers,
// bench latencies, policy. Its builder (./cluster.ts, @pulumi/gcp) is loaded only where clusters are created.
import * as crypto from "node:crypto";
import { z } from "zod";
import { type Cidr, formatCidr, overlaps, parseCidr } from "../../cidr";
import { forceNewRule, unverifiedRule } from "../changeRules";
import { checkCidr, checkDisjoint } from "../checks";
import type { LooseCluster, Platform, PlatformBuilder } from "../types";
import { gcpRegion, GKE_CLUSTER_NAME_MAX, gkeVpcName } from "./names";

/** The GCP resource types the builder registers. */
export const GKE_TYPES = {
    provider: "pulumi:providers:gcp",
    cluster: "gcp:container/cluster:Cluster",
    nodePool: "gcp:container/nodePool:NodePool",
    network: "gcp:compute/network:Network",
    subnetwork: "gcp:compute/subnetwork:Subnetwork",
    firewall: "gcp:compute/firewall:Firewall",
} as const;

/** GKE's largest cluster: 65,000 nodes (https://cloud.google.com/kubernetes-engine/docs/concepts/planning-large-clusters). */
export const GKE_MAX_NODES = 65_000;
/** A regional GKE cluster's node pool runs in the region's default node locations: three zones. */
const GKE_REGIONAL_ZONES = 3;

const TF_GOOGLE = "hashicorp/terraform-provider-google google/services (commit e03b7622)";

export const gkeSchema = z.strictObject({
    /** GCP project ID. */
    project: z.string(),
    /** A region (regional cluster, nodes in each zone) or a zone (zonal cluster). */
    location: z.string(),
    /** An existing VPC network name; when absent one VPC per mesh network and project is created. */
    network: z.string().optional(),
    subnetCidr: z.string(),
    podCidr: z.string(),
    serviceCidr: z.string(),
    nodePool: z
        .strictObject({
            machineType: z.string().default("e2-standard-4"),
            /** Nodes per zone (a regional cluster multiplies it by the number of zones). */
            nodesPerZone: z.number().int().default(1),
            autoscaling: z.strictObject({ minNodesPerZone: z.number().int(), maxNodesPerZone: z.number().int() }).optional(),
        })
        .default({ machineType: "e2-standard-4", nodesPerZone: 1 }),
    releaseChannel: z
        .enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"], { error: "must be RAPID, REGULAR, STABLE or EXTENDED" })
        .default("REGULAR"),
    deletionProtection: z.boolean().default(false),
});
export type GkeConfig = z.output<typeof gkeSchema>;

const GCP_REGION = /^[a-z]+-[a-z]+\d+$/;
const GCP_ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
/** A new cluster (one of these changed) has a new CA; an update in place keeps it. */
const forceNewDigest = (i: Record<string, unknown>) =>
    crypto
        .createHash("sha256")
        .update(JSON.stringify([i.project, i.location, i.name, i.network, i.subnetwork]))
        .digest("hex")
        .slice(0, 8);

export const gke: Platform = {
    name: "gke",
    cloud: "gcp",
    block: gkeSchema,
    blockRequired: "project, location, subnetCidr, podCidr, serviceCidr",
    localityFrom: "gke.location",
    takesKubeconfig: false,
    sharesNetwork: true,
    check(c, at, say) {
        if (typeof c.name === "string" && c.name.length > GKE_CLUSTER_NAME_MAX) {
            say(`${at}.name`, `"${c.name}" has ${c.name.length} characters; a GKE cluster name has at most ${GKE_CLUSTER_NAME_MAX}`);
        }
        const g = c.gke as Partial<GkeConfig> | undefined;
        if (!g) return;
        const b = `${at}.gke`;
        if (typeof g.location === "string" && !GCP_REGION.test(g.location) && !GCP_ZONE.test(g.location)) {
            say(`${b}.location`, `"${g.location}" is not a GCP region (us-central1) or zone (us-central1-a)`);
        }
        if (typeof g.project === "string" && !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(g.project))
            say(`${b}.project`, `"${g.project}" is not a GCP project ID (6-30 lower-case letters, digits, '-')`);
        checkDisjoint(
            [
                [`${b}.subnetCidr`, checkCidr(g.subnetCidr, `${b}.subnetCidr`, say)],
                [`${b}.podCidr`, checkCidr(g.podCidr, `${b}.podCidr`, say, 21)],
                [`${b}.serviceCidr`, checkCidr(g.serviceCidr, `${b}.serviceCidr`, say, 27)],
            ],
            say,
        );
        const np = g.nodePool;
        if (np) {
            if (np.nodesPerZone !== undefined && np.nodesPerZone < 1)
                say(`${b}.nodePool.nodesPerZone`, "must be 1 or more (Istio's control plane and gateways need nodes)");
            if (np.autoscaling && np.autoscaling.minNodesPerZone > np.autoscaling.maxNodesPerZone)
                say(`${b}.nodePool.autoscaling`, "minNodesPerZone is larger than maxNodesPerZone");
        }
    },
    checkMesh(clusters, meshId, say) {
        const networkOf = (c: LooseCluster) => (typeof c.network === "string" ? c.network : "network1");
        const blockOf = (c: LooseCluster) => (c.gke && typeof c.gke === "object" ? (c.gke as Record<string, any>) : undefined);
        // Clusters in one VPC on different mesh networks: GCP refuses overlapping subnet and secondary
        // ranges in one VPC (the same mesh network is checked with every platform's podRanges).
        const gke = clusters.filter(({ c }) => typeof blockOf(c)?.project === "string");
        const vpcOf = (c: LooseCluster) => `${blockOf(c)!.project}/${blockOf(c)!.network ?? gkeVpcName(String(meshId), networkOf(c))}`;
        const ranges = (c: LooseCluster, at: string): [string, Cidr][] => {
            const out: [string, Cidr][] = [];
            for (const k of ["subnetCidr", "podCidr", "serviceCidr"]) {
                const v = blockOf(c)![k];
                const parsed = typeof v === "string" ? parseCidr(v) : undefined;
                if (parsed) out.push([`${at}.gke.${k}`, parsed]);
            }
            return out;
        };
        for (let a = 0; a < gke.length; a++) {
            for (let b = a + 1; b < gke.length; b++) {
                const [x, y] = [gke[a], gke[b]];
                if (vpcOf(x.c) !== vpcOf(y.c) || networkOf(x.c) === networkOf(y.c)) continue;
                for (const [py, cy] of ranges(y.c, y.at)) {
                    const hit = ranges(x.c, x.at).find(([, cx]) => overlaps(cx, cy));
                    if (hit)
                        say(
                            py,
                            `${formatCidr(cy)} overlaps ${hit[0]} (${formatCidr(hit[1])}) in VPC ${vpcOf(y.c)}, which both clusters use; ` +
                                "GCP refuses overlapping subnet and secondary ranges in one VPC: pick distinct ranges",
                        );
                }
            }
        }
        // Node counts beyond what GKE can run.
        for (const { c, at } of clusters) {
            const g = blockOf(c);
            if (!g) continue;
            const zones = typeof g.location === "string" && /-[a-z]$/.test(g.location) ? 1 : GKE_REGIONAL_ZONES;
            const np = g.nodePool ?? {};
            const counts: [string, unknown][] = [
                ["nodePool.nodesPerZone", np.nodesPerZone],
                ["nodePool.autoscaling.minNodesPerZone", np.autoscaling?.minNodesPerZone],
                ["nodePool.autoscaling.maxNodesPerZone", np.autoscaling?.maxNodesPerZone],
            ];
            for (const [k, v] of counts) {
                if (typeof v === "number" && v * zones > GKE_MAX_NODES)
                    say(
                        `${at}.gke.${k}`,
                        `${v} per zone is ${v * zones} nodes in ${zones} zone${zones > 1 ? "s" : ""}; GKE's largest cluster has ` +
                            `${GKE_MAX_NODES.toLocaleString("en-US")} nodes (planning-large-clusters): give the number of nodes you mean`,
                    );
            }
        }
    },
    routingDomain(c, meshId) {
        const g = c.gke as Partial<GkeConfig> | undefined;
        if (!g) return undefined;
        return `GCP VPC ${g.project}/${g.network ?? gkeVpcName(String(meshId), c.network ?? "network1")}`;
    },
    podRanges(c) {
        const g = c.gke as Partial<GkeConfig> | undefined;
        if (!g) return [];
        return [
            ["gke.subnetCidr", g.subnetCidr],
            ["gke.podCidr", g.podCidr],
            ["gke.serviceCidr", g.serviceCidr],
        ];
    },
    locality(c) {
        const location = (c.gke as GkeConfig).location;
        const region = gcpRegion(location);
        return { region, zone: location !== region ? location : undefined };
    },
    gatewayServiceAnnotations: {},
    // What `gcloud container clusters get-credentials` writes.
    kubeContext(c) {
        const g = c.gke as Partial<GkeConfig> | undefined;
        return g?.project && g?.location ? `gke_${g.project}_${g.location}_${c.name}` : undefined;
    },
    // The release channel's version: the default is assumed (offline/render/render.ts).
    kubeVersion: () => undefined,
    sdks: ["@pulumi/gcp"],
    sampleCluster: () => ({
        gke: {
            project: "sample-mesh-gcp",
            location: "us-central1-a",
            subnetCidr: "10.0.0.0/20",
            podCidr: "10.4.0.0/14",
            serviceCidr: "10.8.0.0/20",
        },
    }),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: it imports @pulumi/gcp
    builder: () => require("./cluster") as PlatformBuilder,
    resources: {
        changeRules: [
            // pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go configDiffer.DiffConfig: a config change is an update
            // unless the provider marks its key ForcesProviderReplace (not checked for pulumi-gcp 9.37.0). The builder
            // names the provider after its project (gcp-<project>), so a new project is a new provider resource anyway.
            unverifiedRule(GKE_TYPES.provider, "the GCP provider (one per project, named after it)"),
            forceNewRule(GKE_TYPES.cluster, "gcp container Cluster", `${TF_GOOGLE}/container/resource_container_cluster.go: ForceNew`, [
                "name",
                "location",
                "project",
                "network",
                "subnetwork",
                "ipAllocationPolicy",
                "networkingMode",
                "initialNodeCount",
                "clusterIpv4Cidr",
                "description",
                "enableKubernetesAlpha",
                "enableTpu",
                "enableAutopilot",
                "confidentialNodes",
                "masterAuth.clientCertificateConfig",
                "nodePools",
                "privateClusterConfig.masterIpv4CidrBlock",
                "privateClusterConfig.privateEndpointSubnetwork",
                "defaultMaxPodsPerNode",
                "datapathProvider",
                "userManagedKeysConfig",
            ]),
            forceNewRule(
                GKE_TYPES.nodePool,
                "gcp container NodePool",
                `${TF_GOOGLE}/container/resource_container_node_pool.go and node_config.go: ForceNew ` +
                    "(machineType, tags, node count are updates)",
                [
                    "project",
                    "cluster",
                    "location",
                    "name",
                    "namePrefix",
                    "initialNodeCount",
                    "maxPodsPerNode",
                    "placementPolicy",
                    "queuedProvisioning",
                    "networkConfig.createPodRange",
                    "networkConfig.podRange",
                    "networkConfig.podIpv4CidrBlock",
                    "networkConfig.additionalNodeNetworkConfigs",
                    "networkConfig.additionalPodNetworkConfigs",
                    "networkConfig.podCidrOverprovisionConfig",
                    "networkConfig.subnetwork",
                    "nodeConfig.oauthScopes",
                    "nodeConfig.metadata",
                    "nodeConfig.minCpuPlatform",
                    "nodeConfig.preemptible",
                    "nodeConfig.spot",
                    "nodeConfig.serviceAccount",
                    "nodeConfig.guestAccelerators",
                    "nodeConfig.localSsdCount",
                    "nodeConfig.shieldedInstanceConfig",
                    "nodeConfig.sandboxConfig",
                    "nodeConfig.bootDiskKmsKey",
                    "nodeConfig.reservationAffinity",
                    "nodeConfig.nodeGroup",
                    "nodeConfig.advancedMachineFeatures",
                    "nodeConfig.soleTenantConfig",
                ],
            ),
            forceNewRule(
                GKE_TYPES.network,
                "gcp compute Network",
                `${TF_GOOGLE}/compute/resource_compute_network.go: ForceNew (routingMode is an update)`,
                ["name", "project", "autoCreateSubnetworks", "description", "internalIpv6Range", "networkProfile", "params"],
            ),
            forceNewRule(
                GKE_TYPES.subnetwork,
                "gcp compute Subnetwork",
                `${TF_GOOGLE}/compute/resource_compute_subnetwork.go: ForceNew (ipCidrRange and secondaryIpRanges are updates)`,
                [
                    "name",
                    "network",
                    "region",
                    "project",
                    "description",
                    "reservedInternalRange",
                    "params",
                    "externalIpv6Prefix",
                    "internalIpv6Prefix",
                ],
            ),
            forceNewRule(
                GKE_TYPES.firewall,
                "gcp compute Firewall",
                `${TF_GOOGLE}/compute/resource_compute_firewall.go: ForceNew name, direction, project, params (network is not force-new)`,
                ["name", "direction", "project", "params"],
            ),
        ],
        isCluster: (r) => r.type === GKE_TYPES.cluster,
        // A new cluster gets a new endpoint and CA.
        deployTimeOutputs: (r) =>
            r.type === GKE_TYPES.cluster
                ? [
                      { path: "endpoint", value: r.state.endpoint },
                      { path: "masterAuth.clusterCaCertificate", value: r.state.masterAuth?.clusterCaCertificate },
                  ]
                : [],
    },
    simulator: {
        loadBalancerAddress: "ip",
        answers(type, name, inputs, ctx) {
            if (type === GKE_TYPES.cluster) {
                return {
                    id: `projects/${inputs.project}/locations/${inputs.location}/clusters/${inputs.name}`,
                    state: {
                        ...inputs,
                        endpoint: ctx.simulatedIp(`gke:${inputs.name}`, "34.118.0"),
                        masterAuth: {
                            clusterCaCertificate: b64(
                                `-----BEGIN CERTIFICATE-----\nSIMULATED-GKE-CA-${inputs.name}-${forceNewDigest(inputs)}\n-----END ` +
                                    `CERTIFICATE-----\n`,
                            ),
                        },
                        selfLink: `https://container.googleapis.com/v1/projects/${inputs.project}/locations/${inputs.location}/clusters/${inputs.name}`,
                    },
                };
            }
            if (type.startsWith("gcp:"))
                return {
                    id: `${name}-id`,
                    state: { ...inputs, name: inputs.name ?? name, selfLink: `https://www.googleapis.com/compute/v1/${name}` },
                };
            return undefined;
        },
    },
    bench: {
        latencies: [
            { key: GKE_TYPES.cluster, seconds: 420, why: "GKE control plane" },
            { key: GKE_TYPES.nodePool, seconds: 240, why: "GKE node pool" },
            { key: GKE_TYPES.network, seconds: 30, why: "VPC" },
            { key: GKE_TYPES.subnetwork, seconds: 20, why: "subnet with secondary ranges" },
            { key: GKE_TYPES.firewall, seconds: 10, why: "firewall rule" },
        ],
        nodePoolTypes: [GKE_TYPES.nodePool],
        example: () => ({
            project: "bench-mesh-gcp",
            location: "us-central1",
            subnetCidr: "10.0.0.0/20",
            podCidr: "10.4.0.0/14",
            serviceCidr: "10.8.0.0/20",
        }),
    },
    policy: {
        // gcp >= 5 defaults deletionProtection to true, so only an explicit false is unprotected.
        clusterTypes: [{ type: GKE_TYPES.cluster, label: "GKE", deletionProtectionDefault: true, fix: "gke.deletionProtection: true" }],
    },
};
