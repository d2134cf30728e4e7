// `platform: gke`: a VPC-native GKE cluster, its node pool and the VPC it lives in. Every fact of
// the platform in one place: config block, checks, names, locality, simulator answers, bench
// latencies, policy, component (./cluster.ts).
import * as crypto from "node:crypto";
import { z } from "zod";
import type { MeshCluster } from "../../meshCluster";
import { checkCidr, checkDisjoint } from "../checks";
import type { Platform, PlatformCluster } from "../types";
import { gcpRegion, GKE_CLUSTER_NAME_MAX, gkeVpcName } from "./names";
import { createGkeClusters } from "./cluster";

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
    create({ meshId, clusters, opts }) {
        return createGkeClusters(meshId, clusters as (PlatformCluster & { gke: GkeConfig })[], opts) as Record<string, MeshCluster>;
    },
    simulator: {
        loadBalancerAddress: "ip",
        answers(type, name, inputs, ctx) {
            if (type === "gcp:container/cluster:Cluster") {
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
            { key: "gcp:container/cluster:Cluster", seconds: 420, why: "GKE control plane" },
            { key: "gcp:container/nodePool:NodePool", seconds: 240, why: "GKE node pool" },
            { key: "gcp:compute/network:Network", seconds: 30, why: "VPC" },
            { key: "gcp:compute/subnetwork:Subnetwork", seconds: 20, why: "subnet with secondary ranges" },
            { key: "gcp:compute/firewall:Firewall", seconds: 10, why: "firewall rule" },
        ],
        nodePoolTypes: ["gcp:container/nodePool:NodePool"],
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
        clusterTypes: [
            { type: "gcp:container/cluster:Cluster", label: "GKE", deletionProtectionDefault: true, fix: "gke.deletionProtection: true" },
        ],
    },
};
