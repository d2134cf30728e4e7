// The east-west gateway of one cluster (the `gateway` chart with `networkGateway`), its external
// address read back from the Service, and the Istio Gateway objects that route through it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterHandle } from "./meshCluster";
import { CHARTS, EASTWEST_NAME, ISTIO_OBJECTS, NETWORKING_API } from "./istio";
import { ClusterPlan, crossNetworkGatewaySpec, istiodGatewaySpec, istiodVirtualServiceSpec, MeshPlan } from "./plan";

export interface EastWestGatewayArgs {
    cluster: ClusterHandle;
    mesh: MeshPlan;
    plan: ClusterPlan;
    namespace: k8s.core.v1.Namespace;
    /** The `base` release: the Istio CRDs the Gateway objects need. */
    crds: pulumi.Resource;
    /** What must be ready before the gateway pods are created: istiod (injection, `image: auto`), and on a remote also its remote secrets in the primary. */
    after: pulumi.Resource[];
}

/** The external address of a LoadBalancer Service: ingress IP, else ingress hostname, else externalIPs (§4). */
export function serviceAddress(svc: { status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } }; spec?: { externalIPs?: string[] } }): string | undefined {
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    return ingress.find((i) => i.ip)?.ip ?? ingress.find((i) => i.hostname)?.hostname ?? svc.spec?.externalIPs?.[0];
}

export class EastWestGateway extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    /** The gateway's external IP or hostname. */
    public readonly address: pulumi.Output<string>;
    /** Objects that must exist before remotes use this cluster's istiod (primary of primary-remote). */
    public readonly exposed: pulumi.Resource[] = [];

    constructor(name: string, args: EastWestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:istio:EastWestGateway", name, {}, opts);
        const { cluster, mesh, plan } = args;
        if (!plan.eastWestGateway) throw new Error(`EastWestGateway ${name}: the plan has no gateway for ${plan.name}`);
        const child = { parent: this, provider: cluster.provider };

        // Never `deletedWith` here: the Service owns a cloud load balancer that must be released
        // before the network can go (pulumi-craft.md B4, pulumi-kubernetes#491).
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: EASTWEST_NAME,
                chart: CHARTS.gateway.chart,
                version: mesh.chart.version,
                repositoryOpts: { repo: mesh.chart.repository },
                namespace: args.namespace.metadata.name,
                values: plan.eastWestGateway.values,
                // Helm's wait includes the LoadBalancer getting an address, which can take minutes.
                timeout: 900,
            },
            { ...child, dependsOn: args.after },
        );

        // The ID comes from the Release's outputs, so the read happens only once the release exists
        // (a constant ID plus dependsOn is read during preview and fails: pulumi/pulumi#16395).
        const service = k8s.core.v1.Service.get(`${name}-service`, pulumi.interpolate`${this.release.status.namespace}/${this.release.status.name}`, child);
        this.address = pulumi.all([service.status, service.spec]).apply(([status, spec]) => {
            const address = serviceAddress({ status, spec });
            if (!address) {
                throw new Error(
                    `the east-west gateway Service in cluster ${plan.name} has no external address; the platform must provide LoadBalancer addresses (MetalLB on bare metal or kind), or set eastWestGateway.loadBalancerIP`,
                );
            }
            return address;
        });

        const istioObject = (suffix: string, kind: string, objectName: string, spec: Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${suffix}`,
                { apiVersion: NETWORKING_API, kind, metadata: { name: objectName, namespace: args.namespace.metadata.name }, spec },
                // The CRDs come with the base chart.
                { ...child, dependsOn: [args.crds] },
            );
        const o = ISTIO_OBJECTS;
        if (plan.crossNetworkGateway) istioObject(o.crossNetworkGateway, "Gateway", o.crossNetworkGateway, crossNetworkGatewaySpec());
        if (plan.exposeIstiod) {
            this.exposed.push(istioObject(o.istiodGateway, "Gateway", o.istiodGateway, istiodGatewaySpec()));
            this.exposed.push(istioObject(o.istiodVirtualService, "VirtualService", o.istiodVirtualService, istiodVirtualServiceSpec()));
        }
        this.registerOutputs({ address: this.address });
    }
}
