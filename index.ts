// Wiring and stack outputs only: config → plan → clusters → root of trust → mesh.
import { loadConfig } from "./config";
import { certSha256 } from "./components/caBundle";
import { ExistingCluster } from "./components/existingCluster";
import type { MeshCluster } from "./components/meshCluster";
import { Mesh } from "./components/mesh";
import { planMesh } from "./components/plan";
import { RootOfTrust } from "./components/rootOfTrust";

// Throws a ConfigError listing every problem before any resource is registered.
const config = loadConfig();
const plan = planMesh(config.mesh);

const meshClusters: Record<string, MeshCluster> = {};
for (const c of config.mesh.clusters) {
    const kc = config.kubeconfigs[c.name];
    meshClusters[c.name] = new ExistingCluster(c.name, { cluster: c, kubeconfig: kc, apiServer: kc.apiServer });
}

const trust = new RootOfTrust(`${plan.meshId}-trust`, {
    trust: config.mesh.trust,
    clusters: plan.clusters.filter((c) => c.runsIstiod).map((c) => c.name),
    provided: config.provided,
});

const mesh = new Mesh(plan.meshId, { plan, clusters: meshClusters, caBundles: trust.bundles });

export const meshId = plan.meshId;
export const topology = plan.topology;
export const clusters = Object.fromEntries(
    plan.clusters.map((c) => [c.name, { network: c.network, role: c.role, primary: c.primary ?? null, platform: c.platform, region: c.region ?? null, zone: c.zone ?? null }]),
);
export const gatewayAddresses = mesh.gatewayAddresses;
export const rootCertPem = trust.rootCertPem;
export const rootCertSha256 = trust.rootCertPem.apply(certSha256);
