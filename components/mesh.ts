// The whole mesh: a control plane per cluster, east-west gateways where the plan needs them, and
// the remote-secret matrix, wired in the order the Istio install models require (§3, §13).
import * as pulumi from "@pulumi/pulumi";
import type { CaBundle } from "./caBundle";
import { ControlPlane } from "./controlPlane";
import { EastWestGateway } from "./eastWestGateway";
import type { MeshCluster } from "./meshCluster";
import type { MeshPlan } from "./plan";
import { RemoteSecret } from "./remoteSecret";

export interface MeshArgs {
    plan: MeshPlan;
    clusters: Record<string, MeshCluster>;
    /** Per istiod cluster: its verified `cacerts` bundle. */
    caBundles: Record<string, pulumi.Output<CaBundle>>;
}

export class Mesh extends pulumi.ComponentResource {
    public readonly controlPlanes: Record<string, ControlPlane> = {};
    public readonly gateways: Record<string, EastWestGateway> = {};
    public readonly remoteSecrets: RemoteSecret[] = [];
    /** Cluster name → external address of its east-west gateway. */
    public readonly gatewayAddresses: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: MeshArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:index:Mesh", name, {}, opts);
        const { plan, clusters } = args;
        const child = { parent: this };

        // Primaries first: each remote takes its primary's gateway address and expose-istiod route.
        for (const c of plan.clusters.filter((x) => x.role === "primary")) {
            const cp = new ControlPlane(`${name}-${c.name}`, { cluster: clusters[c.name], mesh: plan, plan: c, caBundle: args.caBundles[c.name] }, child);
            this.controlPlanes[c.name] = cp;
            if (c.eastWestGateway) {
                this.gateways[c.name] = new EastWestGateway(
                    `${name}-${c.name}-eastwest`,
                    { cluster: clusters[c.name], mesh: plan, plan: c, namespace: cp.namespace, crds: cp.base, after: [cp.istiod, ...clusters[c.name].loadBalancerReady] },
                    child,
                );
            }
        }
        for (const c of plan.clusters.filter((x) => x.role === "remote")) {
            const primaryGateway = this.gateways[c.primary!];
            this.controlPlanes[c.name] = new ControlPlane(
                `${name}-${c.name}`,
                { cluster: clusters[c.name], mesh: plan, plan: c, primaryAddress: primaryGateway.address, primaryExposed: primaryGateway.exposed },
                child,
            );
        }

        // The matrix: target reads source.
        const secretFor = new Map<string, RemoteSecret>();
        for (const { source, target } of plan.remoteSecrets) {
            const rs = new RemoteSecret(
                `${name}-${source}-to-${target}`,
                {
                    source: clusters[source],
                    target: clusters[target],
                    sourceNamespace: this.controlPlanes[source].namespace,
                    sourceBase: this.controlPlanes[source].base,
                    targetNamespace: this.controlPlanes[target].namespace,
                },
                child,
            );
            this.remoteSecrets.push(rs);
            secretFor.set(`${source}>${target}`, rs);
        }

        // Remote gateways last: their pods are injected by the primary, whose CA can only
        // authenticate them once it holds the remote's secret (§3.4: "install after the remote secret").
        for (const c of plan.clusters.filter((x) => x.role === "remote" && x.eastWestGateway)) {
            const cp = this.controlPlanes[c.name];
            const inPrimary = secretFor.get(`${c.name}>${c.primary}`)!.secret;
            this.gateways[c.name] = new EastWestGateway(
                `${name}-${c.name}-eastwest`,
                { cluster: clusters[c.name], mesh: plan, plan: c, namespace: cp.namespace, crds: cp.base, after: [cp.istiod, inPrimary, ...clusters[c.name].loadBalancerReady] },
                child,
            );
        }
        for (const [c, gw] of Object.entries(this.gateways)) this.gatewayAddresses[c] = gw.address;
        this.registerOutputs({ gatewayAddresses: this.gatewayAddresses });
    }
}
