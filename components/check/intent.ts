// The intent the post-deploy check compares live clusters with, from the mesh plan the components
// build from (components/meshPlan.ts): what the deploy gate checks inside `pulumi up`. The command line
// takes the same intent from an offline plan.json (offline/checkIntent.ts).
import { ISTIO_NAMESPACE, ISTIO_OBJECTS } from "../istio";
import type { MeshPlan } from "../meshPlan";
import { revisionVirtualServiceName } from "../upgrade";
import type { MeshIntent } from "./checks";

export function intentFromMeshPlan(plan: MeshPlan, trustPhase?: string): MeshIntent {
    const config = new Set(plan.traffic.configClusters);
    const istioObjects: Record<string, string[]> = {};
    for (const c of plan.clusters) {
        const ids: string[] = [];
        if (c.eastWestGateway && c.crossNetworkGateway) ids.push(`Gateway/${ISTIO_NAMESPACE}/${ISTIO_OBJECTS.crossNetworkGateway}`);
        if (c.eastWestGateway && c.exposeIstiod)
            ids.push(
                `Gateway/${ISTIO_NAMESPACE}/${ISTIO_OBJECTS.istiodGateway}`,
                `VirtualService/${ISTIO_NAMESPACE}/${ISTIO_OBJECTS.istiodVirtualService}`,
                // One route per revision while revisions are in use (components/upgrade.ts revisionVirtualServiceSpec).
                ...(c.revisions.expose?.byRevision ?? []).map(
                    (r) => `VirtualService/${ISTIO_NAMESPACE}/${revisionVirtualServiceName(ISTIO_OBJECTS.istiodVirtualService, r)}`,
                ),
            );
        if (config.has(c.name)) for (const o of plan.traffic.objects) ids.push(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
        if (ids.length > 0) istioObjects[c.name] = ids.sort();
    }
    return {
        meshId: plan.meshId,
        clusters: plan.clusters.map((c) => ({
            name: c.name,
            role: c.role,
            ...(c.primary ? { primary: c.primary } : {}),
            network: c.network,
            runsIstiod: c.runsIstiod,
            gateway: !!c.eastWestGateway,
        })),
        remoteSecrets: plan.remoteSecrets.map(({ source, target }) => ({ source, target })),
        istioObjects,
        ...(trustPhase && trustPhase !== "none" ? { trustPhase } : {}),
        revisions: plan.revisions.record,
    };
}
