// The whole mesh: a control plane per cluster, east-west gateways where the plan needs them, and
// the remote-secret matrix, wired in the order the Istio install models require (§3, §13).
import * as pulumi from "@pulumi/pulumi";
import type { CaBundle } from "./caBundle";
import { ControlPlane } from "./controlPlane";
import { EastWestGateway } from "./eastWestGateway";
import type { MeshCluster } from "./meshCluster";
import type { MeshPlan } from "./plan";
import { RemoteSecrets } from "./remoteSecret";

export interface MeshArgs {
    plan: MeshPlan;
    clusters: Record<string, MeshCluster>;
    /** Per istiod cluster: its verified `cacerts` bundle. */
    caBundles: Record<string, pulumi.Output<CaBundle>>;
    /** One reader token per reading cluster instead of one per source (see RemoteSecrets). */
    tokenPerReader?: boolean;
}

export class Mesh extends pulumi.ComponentResource {
    public readonly controlPlanes: Record<string, ControlPlane> = {};
    public readonly gateways: Record<string, EastWestGateway> = {};
    /** Source cluster name → its reader token(s) and the remote secrets written from it. */
    public readonly remoteSecrets: Record<string, RemoteSecrets> = {};
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

        // The matrix: target reads source. One component per source cluster, not per pair: at 50
        // clusters there are 2,450 pairs, and each registration costs (bench/results.md).
        const sources = [...new Set(plan.remoteSecrets.map((p) => p.source))];
        for (const source of sources) {
            const targets = plan.remoteSecrets.filter((p) => p.source === source).map((p) => ({ cluster: clusters[p.target], namespace: this.controlPlanes[p.target].namespace }));
            this.remoteSecrets[source] = new RemoteSecrets(
                `${name}-${source}-remote`,
                { source: clusters[source], targets, sourceNamespace: this.controlPlanes[source].namespace, sourceBase: this.controlPlanes[source].base, tokenPerReader: args.tokenPerReader ?? false },
                child,
            );
        }

        // Remote gateways last: their pods are injected by the primary, whose CA can only
        // authenticate them once it holds the remote's secret (§3.4: "install after the remote secret").
        for (const c of plan.clusters.filter((x) => x.role === "remote" && x.eastWestGateway)) {
            const cp = this.controlPlanes[c.name];
            const inPrimary = this.remoteSecrets[c.name].secrets[c.primary!];
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
