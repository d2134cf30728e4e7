// Istio in one cluster: the istio-system Namespace, `cacerts`, the east-west gateway's
// LoadBalancer Service where the cluster has a gateway, and the `base` and `istiod` charts, in the
// order Istio requires (docs/istio-notes.md, "Install order").
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "./platforms/provider";
import type { CaBundle } from "./caBundle";
import type { ClusterHandle } from "./meshCluster";
import { CACERTS_KEYS, CACERTS_SECRET, CHARTS } from "./istio";
import { releaseChart } from "./istioSource";
import { TRUST_PHASE_ANNOTATION } from "./rotation";
import { revisionResources } from "./revisionResources";
import { baseRevisionValues, type ChartAt } from "./upgrade";
import { ClusterPlan, ISTIO_NAMESPACE, MeshPlan, primaryIstiodValues, remoteValues, Values } from "./meshPlan";
import { componentType } from "./pulumiTypes";

/** The external address of a LoadBalancer Service: ingress IP, else ingress hostname, else externalIPs. */
export function serviceAddress(svc: {
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
    spec?: { externalIPs?: string[] };
}): string | undefined {
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    return ingress.find((i) => i.ip)?.ip ?? ingress.find((i) => i.hostname)?.hostname ?? svc.spec?.externalIPs?.[0];
}

export interface ControlPlaneArgs {
    cluster: ClusterHandle;
    mesh: MeshPlan;
    plan: ClusterPlan;
    /** Primaries: the verified bundle for `cacerts`. */
    caBundle?: pulumi.Output<CaBundle>;
    /** Primaries: the root-rotation phase the bundle belongs to ("none" outside a rotation), recorded on `cacerts`. */
    trustPhase?: string;
    /** Remotes: the address of the primary's east-west gateway (`remotePilotAddress`). */
    primaryAddress?: pulumi.Output<string>;
    /** Remotes: the primary's expose-istiod objects, which must route before the remote's webhooks are used. */
    primaryExposed?: pulumi.Resource[];
    /** Remotes: the mesh's root certificate(s), which their validating webhooks trust. */
    rootCertPem?: pulumi.Output<string>;
}

export class ControlPlane extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly cacerts?: k8s.core.v1.Secret;
    public readonly base: k8s.helm.v3.Release;
    /** The istiod release of the revision the tags point at (the one that injects new pods here). */
    public readonly istiod: k8s.helm.v3.Release;
    /** Every revision's istiod release ("" = unrevisioned), during an upgrade two. */
    public readonly istiodReleases: Record<string, k8s.helm.v3.Release>;
    /** The east-west gateway's LoadBalancer Service, where the plan has a gateway. */
    public readonly eastWestService?: k8s.core.v1.Service;
    /** Its external IP or hostname, once the load balancer has one. */
    public readonly eastWestAddress?: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("istio", "ControlPlane"), name, {}, opts);
        const { cluster, mesh, plan } = args;
        const provider = cluster.provider;
        const child = inCluster(this, provider);

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
            // silently becomes a self-signed CA of its own (docs/istio-notes.md, "Root of trust").
            this.cacerts = new k8s.core.v1.Secret(
                `${name}-cacerts`,
                {
                    // All four keys change in one update of this same Secret (never delete and re-create it:
                    // an istiod restart in between would fall back to a self-signed CA); the providers set
                    // enableSecretMutable, so the data is patched in place and istiod's file watch reloads it.
                    metadata: {
                        name: CACERTS_SECRET,
                        namespace: this.namespace.metadata.name,
                        // Only during a rotation, so a mesh outside one keeps its Secret exactly as before.
                        ...(args.trustPhase && args.trustPhase !== "none"
                            ? { annotations: { [TRUST_PHASE_ANNOTATION]: args.trustPhase } }
                            : {}),
                    },
                    type: "Opaque",
                    stringData: pulumi.secret(
                        args.caBundle.apply((b) => ({
                            [CACERTS_KEYS.caCert]: b.caCertPem,
                            [CACERTS_KEYS.caKey]: b.caKeyPem,
                            [CACERTS_KEYS.rootCert]: b.rootCertPem,
                            [CACERTS_KEYS.certChain]: b.certChainPem,
                        })),
                    ),
                },
                child,
            );
        }

        // The gateway's LoadBalancer Service comes before istiod, so its address is known when istiod
        // is configured. pulumi-kubernetes waits for a LoadBalancer Service's ingress address
        // (provider/pkg/await/service.go). Never `deletedWith`: the Service owns a cloud load balancer
        // that must be released before the network can go (pulumi-kubernetes#491).
        if (plan.eastWestGateway) {
            const svc = plan.eastWestGateway.service;
            this.eastWestService = new k8s.core.v1.Service(
                `${name}-eastwest-lb`,
                { metadata: { ...svc.metadata, namespace: this.namespace.metadata.name }, spec: svc.spec },
                // Some platforms hand out addresses only once an in-cluster controller is ready (MetalLB on kind).
                { ...child, dependsOn: cluster.loadBalancerReady, customTimeouts: { create: "15m" } },
            );
            this.eastWestAddress = pulumi.all([this.eastWestService.status, this.eastWestService.spec]).apply(([status, spec]) => {
                const address = serviceAddress({ status, spec });
                if (!address) {
                    throw new Error(
                        `the east-west gateway Service in cluster ${plan.name} has no external address; the ` +
                            `platform must provide LoadBalancer addresses (MetalLB on bare metal or kind), or ` +
                            `set eastWestGateway.loadBalancerIP`,
                    );
                }
                return address;
            });
        }

        let baseValues: pulumi.Input<Values> = plan.baseValues;
        let istiodValues: pulumi.Input<Values> = plan.istiodValues;
        if (plan.role === "remote") {
            if (!args.primaryAddress || !args.rootCertPem)
                throw new Error(`ControlPlane ${name}: a remote needs its primary's gateway address and the root certificate`);
            const values = pulumi
                .all([args.primaryAddress, args.rootCertPem])
                .apply(([address, root]) => remoteValues(mesh, plan, address, root));
            baseValues = values.apply((v) => v.base);
            istiodValues = values.apply((v) => v.istiod);
        } else if (plan.exposeIstiod && this.eastWestAddress) {
            istiodValues = this.eastWestAddress.apply((address) => primaryIstiodValues(plan, address));
        }

        const chart = (c: { chart: string; release: string }, at: ChartAt) => ({
            // Explicit release names: an unnamed Release gets a random suffix
            // (https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/#name_nodejs).
            name: c.release,
            // From a Helm repository, an OCI registry or a local folder (components/istioSource.ts releaseChart),
            // the running version's or, during an upgrade, the new one's (components/upgrade.ts).
            ...releaseChart(mesh.revisions.sources[at.from], c.chart),
            version: at.version,
            namespace: this.namespace.metadata.name,
            // On an upgrade Helm reuses the previous release's values when the new ones are empty
            // (`reuseValues` in helm pkg/action/upgrade.go, which helm.v3.Release calls with these
            // flags: provider/pkg/provider/helm_release.go). A primary's base values are empty, so a
            // cluster switched from remote to primary would keep `profile: remote`: always reset.
            resetValues: true,
        });
        // base at the version of the upgrade's phase (components/upgrade.ts), with the default revision its validator calls.
        const revs = plan.revisions;
        this.base = new k8s.helm.v3.Release(
            `${name}-base`,
            {
                ...chart(CHARTS.base, revs.base),
                values: pulumi.output(baseValues).apply((v) => baseRevisionValues(v, revs.base)),
            },
            child,
        );
        // One istiod release per revision, and the revision tags (components/revisionResources.ts).
        const revisions = revisionResources({
            name,
            opts: child,
            mesh,
            plan,
            namespace: this.namespace.metadata.name,
            istiodValues,
            // CRDs from base first; cacerts before istiod starts; a remote's webhooks point at the
            // primary's expose-istiod route, so that route comes first.
            dependsOn: [this.base, ...(this.cacerts ? [this.cacerts] : []), ...(args.primaryExposed ?? [])],
        });
        this.istiod = revisions.tagTarget;
        this.istiodReleases = revisions.releases;
        this.registerOutputs({
            namespace: this.namespace,
            cacerts: this.cacerts,
            base: this.base,
            istiod: this.istiod,
            istiodReleases: this.istiodReleases,
            istiodStatus: this.istiod.status,
            eastWestService: this.eastWestService,
            eastWestAddress: this.eastWestAddress,
        });
    }
}
