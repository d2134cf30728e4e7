// The library: what another Pulumi program imports. `Mesh` takes clusters the caller already has
// (any `k8s.Provider`) and builds the root of trust, Istio, the east-west gateways and the
// remote-secret matrix in them. Internal types (the plan, the validated config, the per-cluster
// components' args) are not part of this surface.
export { Mesh } from "./mesh";
export type { MeshArgs, MeshClusterArgs, MeshTrustArgs, MeshUpgradeArgs } from "./mesh";
export type { TrafficArgs, TrafficPolicyArgs, OutlierDetectionArgs } from "./traffic/types";
export { clusterProvider, clusterIdentifier, instanceDigest } from "./platforms/provider";
export type { ClusterProviderArgs } from "./platforms/provider";
export { ConfigError } from "./meshConfig";
export { verifyCaBundle, certSha256 } from "./caBundle";
export type { CaBundle } from "./caBundle";
export * as istio from "./istio";
