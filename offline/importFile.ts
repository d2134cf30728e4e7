// out/<stack>/import.json: a `pulumi import --file` document for the objects a hand install of Istio
// already has in the stack's `existing` clusters (the istio-system Namespace, cacerts, the three
// Helm releases, the east-west Service, the Istio Gateway objects, the remote secrets). Since
// pulumi-kubernetes 4.29 a create of an object that exists fails, and Helm refuses to install over a
// release it does not own, so a team that moves a hand-installed cluster under this program adopts
// those objects first (docs/deploy.md, "Adopting a cluster that already runs Istio").
//
// The format is the Pulumi CLI's (pkg/cmd/pulumi/operations/import.go at v3.248.0, `importFile`):
// resources with type, name, id, parent and provider, where `component: true` entries create the
// component parents, and `nameTable` maps names to URNs of resources outside the file. Providers are
// listed in the nameTable and created first (`pulumi up --target` on them, see docs/deploy.md), because
// their inputs hold credentials that do not belong in a file.
import { CACERTS_SECRET, MULTICLUSTER_SECRET_LABEL, NETWORKING_API, SHARED_TOKEN_NAME } from "../components/istio";
import type { Registration } from "../simulator/simulator";
import { TYPES } from "../components/pulumiTypes";

export interface ImportSpec {
    type: string;
    name: string;
    id?: string;
    parent?: string;
    provider?: string;
    component?: boolean;
}

export interface ImportFile {
    nameTable: Record<string, string>;
    resources: ImportSpec[];
}

/** Kinds of objects a hand install (istioctl, Helm, kubectl) leaves in a cluster, by how this program names them. */
function adoptable(r: Registration): boolean {
    if (r.read || !r.custom) return false;
    const md = r.inputs.metadata ?? {};
    switch (r.type) {
        case TYPES.release:
            return true;
        case TYPES.namespace:
            return true;
        case TYPES.service:
            return r.inputs.spec?.type === "LoadBalancer";
        case TYPES.secret:
            // cacerts, remote secrets, and istioctl's reader token (create-remote-secret makes it).
            return md.name === CACERTS_SECRET || md.labels?.[MULTICLUSTER_SECRET_LABEL] === "true" || md.name === SHARED_TOKEN_NAME;
        default:
            return r.type.startsWith(`kubernetes:${NETWORKING_API}:`);
    }
}

/** The object's ID as pulumi-kubernetes imports it: `namespace/name` (Helm: the release's namespace/name). */
function importId(r: Registration): string {
    if (r.type === TYPES.release) return `${r.inputs.namespace}/${r.inputs.name}`;
    const md = r.inputs.metadata ?? {};
    return md.namespace ? `${md.namespace}/${md.name}` : String(md.name);
}

/**
 * The import file for the clusters in `clusters` (the stack's `existing` ones), from what the
 * program registered under the simulator: the same names, parents and providers a `pulumi up` uses.
 */
export function buildImportFile(registrations: Registration[], clusters: string[]): ImportFile {
    const byUrn = new Map(registrations.filter((r) => r.urn).map((r) => [r.urn, r]));
    const resources: ImportSpec[] = [];
    const nameTable: Record<string, string> = {};
    const listed = new Set<string>();
    const nameOf = (r: Registration) => r.name;

    const addParents = (r: Registration) => {
        const chain: Registration[] = [];
        for (let p = byUrn.get(r.parent); p && p.type !== TYPES.stack; p = byUrn.get(p.parent)) chain.unshift(p);
        for (const p of chain) {
            if (listed.has(p.urn)) continue;
            listed.add(p.urn);
            const parent = byUrn.get(p.parent);
            resources.push({
                type: p.type,
                name: nameOf(p),
                component: true,
                ...(parent && parent.type !== TYPES.stack ? { parent: nameOf(parent) } : {}),
            });
        }
    };

    for (const r of registrations) {
        if (!clusters.includes(r.cluster) || !adoptable(r)) continue;
        addParents(r);
        const providerUrn = r.provider.split("::").slice(0, -1).join("::");
        const provider = registrations.find((p) => p.urn === providerUrn);
        if (provider) nameTable[provider.name] = provider.urn;
        const parent = byUrn.get(r.parent);
        resources.push({
            type: r.type,
            name: nameOf(r),
            id: importId(r),
            ...(parent && parent.type !== TYPES.stack ? { parent: nameOf(parent) } : {}),
            ...(provider ? { provider: provider.name } : {}),
        });
    }
    return { nameTable: Object.fromEntries(Object.entries(nameTable).sort()), resources };
}
