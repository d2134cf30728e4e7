// `platform: kind`: a local cluster made by the kind CLI (Docker and kind on the machine that runs
// Pulumi), with MetalLB handing out LoadBalancer addresses from the `kind` Docker network, as
// Istio's own multicluster CI sets it up (common/scripts/kind_provisioner.sh in istio/istio at 1.30.3).
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { addressSlice } from "../../cidr";
import { MeshCluster, MeshClusterResource } from "../../meshCluster";
import { clusterProvider, inCluster } from "../provider";
import type { CreateArgs, PlatformCluster } from "../types";
import { KIND_CLUSTER, type KindConfig } from "./index";

export const METALLB_CHART = { chart: "metallb", version: "0.14.9", repo: "https://metallb.github.io/metallb" };

/** The kind cluster config: one control-plane node, the cluster's own pod and service ranges. */
export function kindClusterConfig(kind: { podSubnet: string; serviceSubnet: string; nodeImage: string }): string {
    return YAML.stringify({
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        networking: { podSubnet: kind.podSubnet, serviceSubnet: kind.serviceSubnet },
        nodes: [{ role: "control-plane", image: kind.nodeImage }],
    });
}

/** The first IPv4 subnet in `docker network inspect kind` output ("172.18.0.0/16 fc00:…/64"). */
export function ipv4Subnet(inspectOutput: string): string {
    const v4 = inspectOutput.split(/\s+/).find((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
    if (!v4)
        throw new Error(`the kind Docker network has no IPv4 subnet (docker network inspect said: ${inspectOutput.trim() || "nothing"})`);
    return v4;
}

/** Every kind cluster of the mesh. The slot (MetalLB address slice) is the cluster's index among the kind clusters, as for its subnets. */
export function create({ clusters, opts }: CreateArgs): Record<string, MeshCluster> {
    const out: Record<string, MeshCluster> = {};
    clusters.forEach(
        (c, slot) => (out[c.name] = new KindCluster(c.name, { cluster: c as PlatformCluster & { kind: KindConfig }, slot }, opts)),
    );
    return out;
}

export interface KindClusterArgs {
    cluster: PlatformCluster & { kind: KindConfig };
    /** This cluster's position among the mesh's kind clusters: picks its MetalLB address slice. */
    slot: number;
}

export class KindCluster extends MeshClusterResource implements MeshCluster {
    public readonly provider: k8s.Provider;
    public readonly apiServer: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(KIND_CLUSTER, name, args.cluster, args.cluster, opts);
        const c = args.cluster;
        const config = kindClusterConfig(c.kind);

        const cluster = new command.local.Command(
            `${name}-cluster`,
            {
                create: `kind create cluster --name ${c.name} --config - --wait 180s`,
                delete: `kind delete cluster --name ${c.name}`,
                stdin: config,
                // A changed kind config means a new cluster.
                triggers: [config],
            },
            // `kind create cluster --name X` fails while X exists, and the old resource's delete would then remove
            // the new cluster: a changed config must delete the old cluster first. pulumi-command's own
            // examples do the same (https://www.pulumi.com/registry/packages/command/api-docs/local/command/#triggers).
            { parent: this, protect: c.protect, deleteBeforeReplace: true },
        );
        // The kubeconfig for this machine (127.0.0.1:<port>) holds a client key: secret, not logged.
        const kubeconfig = new command.local.Command(
            `${name}-kubeconfig`,
            { create: `kind get kubeconfig --name ${c.name}`, logging: "none", triggers: [config] },
            { parent: this, dependsOn: [cluster], additionalSecretOutputs: ["stdout"] },
        );
        // Peers reach the API server on the control-plane container's address in the `kind`
        // network, not on the host's loopback port (docs/istio-notes.md, "kind clusters").
        const address = new command.local.Command(
            `${name}-address`,
            {
                create: `docker inspect --format '{{ (index .NetworkSettings.Networks "kind").IPAddress }}' ${c.name}-control-plane`,
                triggers: [config],
            },
            { parent: this, dependsOn: [cluster] },
        );
        const subnetCmd = new command.local.Command(
            `${name}-docker-subnet`,
            { create: `docker network inspect kind --format '{{ range .IPAM.Config }}{{ .Subnet }} {{ end }}'`, triggers: [config] },
            { parent: this, dependsOn: [cluster] },
        );
        this.apiServer = pulumi.interpolate`https://${address.stdout.apply((s) => s.trim())}:6443`;
        this.kubeconfig = pulumi.secret(kubeconfig.stdout);
        // A re-created cluster is a new create Command with a new ID (pulumi-command's Create returns a fresh
        // ID: provider/pkg/provider/local/commandController.go at v1.2.1, resource.NewUniqueHex), so the provider is replaced with it.
        this.provider = clusterProvider(
            `${name}-k8s`,
            {
                platform: "kind",
                deleteUnreachable: c.deleteUnreachable === true,
                cluster: c.name,
                kubeconfig: this.kubeconfig,
                instance: typeof c.identity === "string" ? c.identity : cluster.id,
            },
            { parent: this, dependsOn: [cluster] },
        );

        // MetalLB: LoadBalancer addresses from a slice of the kind network per cluster, so the
        // east-west gateways of several kind clusters never collide.
        const child = inCluster(this, this.provider);
        const ns = new k8s.core.v1.Namespace(
            `${name}-metallb-namespace`,
            // MetalLB's speaker needs host networking and NET_RAW.
            {
                metadata: {
                    name: "metallb-system",
                    labels: {
                        "pod-security.kubernetes.io/enforce": "privileged",
                        "pod-security.kubernetes.io/audit": "privileged",
                        "pod-security.kubernetes.io/warn": "privileged",
                    },
                },
            },
            child,
        );
        const metallb = new k8s.helm.v3.Release(
            `${name}-metallb`,
            {
                name: "metallb",
                chart: METALLB_CHART.chart,
                version: METALLB_CHART.version,
                repositoryOpts: { repo: METALLB_CHART.repo },
                namespace: ns.metadata.name,
                // Helm's wait: the release is done only once the controller Deployment, which serves
                // the webhook that admits IPAddressPool and L2Advertisement, is ready. Without it the
                // pool's create races the webhook and fails "connection refused".
                skipAwait: false,
                timeout: 600,
            },
            child,
        );
        const range = subnetCmd.stdout.apply((out) => {
            const slice = addressSlice(ipv4Subnet(out), args.slot);
            return `${slice.first}-${slice.last}`;
        });
        // The CRDs and the validating webhook come with the release.
        const pool = new k8s.apiextensions.CustomResource(
            `${name}-address-pool`,
            {
                apiVersion: "metallb.io/v1beta1",
                kind: "IPAddressPool",
                metadata: { name: "default-pool", namespace: ns.metadata.name },
                spec: { addresses: [range] },
            },
            { ...child, dependsOn: [metallb] },
        );
        const l2 = new k8s.apiextensions.CustomResource(
            `${name}-l2-advertisement`,
            {
                apiVersion: "metallb.io/v1beta1",
                kind: "L2Advertisement",
                metadata: { name: "default-l2", namespace: ns.metadata.name },
                spec: { ipAddressPools: ["default-pool"] },
            },
            { ...child, dependsOn: [metallb] },
        );
        this.loadBalancerReady.push(pool, l2);
        this.registerOutputs({
            apiServer: this.apiServer,
            kubeconfig: this.kubeconfig,
            provider: this.provider,
            loadBalancerReady: this.loadBalancerReady,
        });
    }
}
