import * as pulumi from "@pulumi/pulumi";
// Wiring and stack outputs only: config → plan → clusters → root of trust → mesh.
import { loadConfig } from "./config";
import { certSha256 } from "./components/caBundle";
import { createClusters } from "./components/clusters";
import { Mesh } from "./components/mesh";
import { planMesh } from "./components/plan";
import { RootOfTrust } from "./components/rootOfTrust";

// Throws a ConfigError listing every problem before any resource is registered.
const config = loadConfig();
const plan = planMesh(config.mesh);

const meshClusters = createClusters(plan.meshId, config);

const trust = new RootOfTrust(`${plan.meshId}-trust`, {
    trust: config.mesh.trust,
    clusters: plan.clusters.filter((c) => c.runsIstiod).map((c) => c.name),
    provided: config.provided,
});

const mesh = new Mesh(plan.meshId, { plan, clusters: meshClusters, caBundles: trust.bundles, tokenPerReader: config.mesh.remoteSecrets.tokenPerReader });

export const meshId = plan.meshId;
export const topology = plan.topology;
export const clusters = Object.fromEntries(
    plan.clusters.map((c) => {
        const mc = meshClusters[c.name];
        return [c.name, { network: c.network, role: c.role, primary: c.primary ?? null, platform: c.platform, cloud: mc.cloud, region: mc.region ?? null, zone: mc.zone ?? null, endpoint: mc.apiServer }];
    }),
);
export const gatewayAddresses = mesh.gatewayAddresses;
export const rootCertPem = trust.rootCertPem;
export const rootCertSha256 = trust.rootCertPem.apply(certSha256);
/** Every cluster's kubeconfig, for kubectl and istioctl. Secret: they hold credentials or point at them. */
export const kubeconfigs = pulumi.secret(Object.fromEntries(Object.entries(meshClusters).map(([name, mc]) => [name, mc.kubeconfig])));
