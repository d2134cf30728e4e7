// The east-west gateway of one cluster (the `gateway` chart with `networkGateway`, its Service
// made first by the ControlPlane) and the Istio Gateway objects that route through it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "./platforms/provider";
import { CHARTS, EASTWEST_NAME, ISTIO_OBJECTS, NETWORKING_API } from "./istio";
import { releaseChart } from "./istioSource";
import type { ClusterHandle } from "./meshCluster";
import { ClusterPlan, crossNetworkGatewaySpec, istiodGatewaySpec, istiodVirtualServiceSpec, MeshPlan } from "./meshPlan";
import { componentType } from "./pulumiTypes";
import { gatewayRevisionValues, istiodHost, revisionVirtualServiceName, revisionVirtualServiceSpec } from "./upgrade";

export { serviceAddress } from "./controlPlane";

export interface EastWestGatewayArgs {
    cluster: ClusterHandle;
    mesh: MeshPlan;
    plan: ClusterPlan;
    namespace: k8s.core.v1.Namespace;
    /** The `base` release: the Istio CRDs the Gateway objects need. */
    crds: pulumi.Resource;
    /** The gateway's LoadBalancer Service (ControlPlane.eastWestService) and its address. */
    service: k8s.core.v1.Service;
    address: pulumi.Output<string>;
    /** What must be ready before the gateway pods are created: istiod (injection, `image: auto`), and on a remote also its remote secrets in the primary. */
    after: pulumi.Resource[];
}

export class EastWestGateway extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    /** The gateway's external IP or hostname. */
    public readonly address: pulumi.Output<string>;
    /** Objects that must exist before remotes use this cluster's istiod (primary of primary-remote). */
    public readonly exposed: pulumi.Resource[] = [];
    /** Every Istio object it writes (the cross-network Gateway and the expose-istiod objects). */
    public readonly objects: k8s.apiextensions.CustomResource[] = [];

    constructor(name: string, args: EastWestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("istio", "EastWestGateway"), name, {}, opts);
        const { cluster, mesh, plan } = args;
        if (!plan.eastWestGateway) throw new Error(`EastWestGateway ${name}: the plan has no gateway for ${plan.name}`);
        const child = inCluster(this, cluster.provider);

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: EASTWEST_NAME,
                // The running version's chart until an upgrade's gateways phase; then the new one's, and the
                // pods roll so the default tag's injector gives them its proxy (components/upgrade.ts).
                ...releaseChart(mesh.revisions.sources[plan.revisions.gateway.from], CHARTS.gateway.chart),
                version: plan.revisions.gateway.version,
                namespace: args.namespace.metadata.name,
                values: gatewayRevisionValues(plan.eastWestGateway.values, plan.revisions.gateway),
                // See ControlPlane: never reuse a previous release's values.
                resetValues: true,
                timeout: 600,
            },
            // The Service is not a dependency: the chart's pods do not need it, and waiting for the
            // load balancer would only delay them.
            { ...child, dependsOn: args.after },
        );
        this.address = args.address;

        const istioObject = (suffix: string, kind: string, objectName: string, spec: Record<string, unknown>) => {
            const o = new k8s.apiextensions.CustomResource(
                `${name}-${suffix}`,
                { apiVersion: NETWORKING_API, kind, metadata: { name: objectName, namespace: args.namespace.metadata.name }, spec },
                // The CRDs come with the base chart.
                { ...child, dependsOn: [args.crds] },
            );
            this.objects.push(o);
            return o;
        };
        const o = ISTIO_OBJECTS;
        if (plan.crossNetworkGateway) istioObject(o.crossNetworkGateway, "Gateway", o.crossNetworkGateway, crossNetworkGatewaySpec());
        if (plan.exposeIstiod) {
            this.exposed.push(istioObject(o.istiodGateway, "Gateway", o.istiodGateway, istiodGatewaySpec()));
            // Every SNI to the revision of this primary's tags; each revision's own name to it (components/upgrade.ts).
            const expose = plan.revisions.expose ?? { catchAll: "", byRevision: [] };
            this.exposed.push(
                istioObject(
                    o.istiodVirtualService,
                    "VirtualService",
                    o.istiodVirtualService,
                    istiodVirtualServiceSpec(`${istiodHost(expose.catchAll)}.cluster.local`),
                ),
            );
            for (const rev of expose.byRevision) {
                const vs = revisionVirtualServiceName(o.istiodVirtualService, rev);
                this.exposed.push(istioObject(vs, "VirtualService", vs, revisionVirtualServiceSpec(o.istiodGateway, rev)));
            }
        }
        this.registerOutputs({ release: this.release, objects: this.objects, address: this.address });
    }
}
