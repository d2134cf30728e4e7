// The traffic objects of one cluster: its namespaces (sidecar injection on) and, where istiod reads
// Istio configuration, the compiled DestinationRules and Sidecars and the given objects, written with
// that cluster's provider after its `base` release (the CRDs).
//
// A namespace that already exists: pulumi-kubernetes (4.29.0 and later; this project pins 4.34.2)
// creates with a client-side create, which fails with AlreadyExists instead of adopting the object
// (pulumi/pulumi-kubernetes#4278, closing #2926). Leave such a namespace out of `traffic.namespaces`
// (and label it istio-injection=enabled yourself), or `pulumi import` it first, or set the
// provider's `upsertExistingObjects`. docs/traffic.md says the same for users.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster } from "../platforms/provider";
import { INJECTION_LABEL } from "../istio";
import type { IstioObject } from "./compile";
import { componentType } from "../pulumiTypes";

export interface TrafficPolicyArgs {
    /** The cluster's mesh name (for messages) and its provider: the only way objects reach it. */
    cluster: { name: string; provider: k8s.Provider };
    /** Namespaces to create here. */
    namespaces: string[];
    /** Istio objects to write here (empty where no istiod reads them). */
    objects: IstioObject[];
    /** The cluster's `base` release: the Istio CRDs. */
    crds: pulumi.Resource;
}

/** A resource-name-safe form of a Kubernetes name. */
function part(s: string): string {
    return s.replace(/[^A-Za-z0-9-]/g, "-");
}

export class TrafficPolicy extends pulumi.ComponentResource {
    public readonly namespaces: Record<string, k8s.core.v1.Namespace> = {};
    /** `Kind/namespace/name` → the object. */
    public readonly objects: Record<string, k8s.apiextensions.CustomResource> = {};

    constructor(name: string, args: TrafficPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("traffic", "TrafficPolicy"), name, {}, opts);
        const child = inCluster(this, args.cluster.provider);
        for (const ns of args.namespaces) {
            this.namespaces[ns] = new k8s.core.v1.Namespace(
                `${name}-ns-${ns}`,
                { metadata: { name: ns, labels: { ...INJECTION_LABEL } } },
                child,
            );
        }
        for (const o of args.objects) {
            const key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
            // The namespace first when this program makes it here; the CRDs always.
            const ns = this.namespaces[o.metadata.namespace];
            this.objects[key] = new k8s.apiextensions.CustomResource(
                `${name}-${o.kind.toLowerCase()}-${part(o.metadata.namespace)}-${part(o.metadata.name)}`,
                { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, spec: o.spec },
                { ...child, dependsOn: [args.crds, ...(ns ? [ns] : [])] },
            );
        }
        this.registerOutputs({ objects: Object.keys(this.objects).sort(), namespaces: Object.keys(this.namespaces).sort() });
    }
}
