// Cluster entries the tests build meshes from: pure, so the unit tier can use them without the simulator.

/** A GKE cluster entry whose ranges follow from `n` (distinct per cluster), in project acme-mesh. */
export function gkeEntry(
    name: string,
    n: number,
    extra: Record<string, unknown> = {},
    gke: Record<string, unknown> = {},
): Record<string, unknown> {
    return {
        name,
        platform: "gke",
        gke: {
            project: "acme-mesh",
            location: "us-central1",
            subnetCidr: `10.${n}.0.0/20`,
            podCidr: `10.${100 + n * 4}.0.0/14`,
            serviceCidr: `10.${n}.16.0/20`,
            ...gke,
        },
        ...extra,
    };
}
