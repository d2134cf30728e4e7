// Istio in one cluster: the istio-system Namespace, `cacerts`, and the `base` and `istiod` charts,
// in the order istio-multicluster.md §3 requires.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CaBundle } from "./caBundle";
import type { ClusterHandle } from "./meshCluster";
import { ClusterPlan, ISTIO_NAMESPACE, MeshPlan, remoteValues, Values } from "./plan";

export interface ControlPlaneArgs {
    cluster: ClusterHandle;
    mesh: MeshPlan;
    plan: ClusterPlan;
    /** Primaries: the verified bundle for `cacerts`. */
    caBundle?: pulumi.Output<CaBundle>;
    /** Remotes: the address of the primary's east-west gateway (`remotePilotAddress`). */
    primaryAddress?: pulumi.Output<string>;
    /** Remotes: the primary's expose-istiod objects, which must route before the remote's webhooks are used. */
    primaryExposed?: pulumi.Resource[];
}

export class ControlPlane extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly cacerts?: k8s.core.v1.Secret;
    public readonly base: k8s.helm.v3.Release;
    public readonly istiod: k8s.helm.v3.Release;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster-mesh:istio:ControlPlane", name, {}, opts);
        const { cluster, mesh, plan } = args;
        const provider = cluster.provider;
        const child = { parent: this, provider };

        // The namespace carries the network label and, on remotes, the controlPlaneClusters
        // annotation; both must be in place before istiod and before the primary reads the remote.
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: ISTIO_NAMESPACE, labels: plan.namespace.labels, annotations: plan.namespace.annotations } },
            child,
        );

        if (plan.runsIstiod) {
            if (!args.caBundle) throw new Error(`ControlPlane ${name}: a cluster that runs istiod needs a CA bundle`);
            // cacerts before istiod: the volume is optional, so an istiod that starts without it
            // silently becomes a self-signed CA of its own (security-bar M3).
            this.cacerts = new k8s.core.v1.Secret(
                `${name}-cacerts`,
                {
                    metadata: { name: "cacerts", namespace: this.namespace.metadata.name },
                    type: "Opaque",
                    stringData: pulumi.secret(
                        args.caBundle.apply((b) => ({
                            "ca-cert.pem": b.caCertPem,
                            "ca-key.pem": b.caKeyPem,
                            "root-cert.pem": b.rootCertPem,
                            "cert-chain.pem": b.certChainPem,
                        })),
                    ),
                },
                child,
            );
        }

        let baseValues: pulumi.Input<Values> = plan.baseValues;
        let istiodValues: pulumi.Input<Values> = plan.istiodValues;
        if (plan.role === "remote") {
            if (!args.primaryAddress) throw new Error(`ControlPlane ${name}: a remote needs its primary's gateway address`);
            const values = args.primaryAddress.apply((address) => remoteValues(mesh, plan, address));
            baseValues = values.apply((v) => v.base);
            istiodValues = values.apply((v) => v.istiod);
        }

        const chart = (chartName: string) => ({
            chart: chartName,
            version: mesh.chart.version,
            repositoryOpts: { repo: mesh.chart.repository },
            namespace: this.namespace.metadata.name,
        });
        // Explicit release names: an unnamed Release gets a random suffix (pulumi-craft.md B1).
        this.base = new k8s.helm.v3.Release(
            `${name}-base`,
            { name: "istio-base", ...chart("base"), values: baseValues },
            child,
        );
        this.istiod = new k8s.helm.v3.Release(
            `${name}-istiod`,
            { name: "istiod", ...chart("istiod"), values: istiodValues },
            // CRDs from base first; cacerts before istiod starts; a remote's webhooks point at the
            // primary's expose-istiod route, so that route comes first (§3.3 steps 1 and 3).
            { ...child, dependsOn: [this.base, ...(this.cacerts ? [this.cacerts] : []), ...(args.primaryExposed ?? [])] },
        );
        this.registerOutputs({ istiodStatus: this.istiod.status });
    }
}
