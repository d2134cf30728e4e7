// The program: stack config → clusters → Mesh → stack outputs. Everything it builds comes from
// the library in components/ (the same components another Pulumi program can import).
import * as pulumi from "@pulumi/pulumi";
import { certSha256 } from "./components/caBundle";
import { createClusters } from "./components/clusters";
import { Mesh } from "./components/mesh";
import { platformOf } from "./components/platforms/registry";
import { isUndecryptedSecret } from "./components/secretPlaceholder";
import { loadConfig } from "./config";

// Throws a ConfigError listing every problem before any resource is registered.
const config = loadConfig();
const m = config.mesh;

const built = createClusters(m.meshId, config);

const mesh = new Mesh(m.meshId, {
    meshId: m.meshId,
    topology: m.topology,
    istio: m.istio,
    trust: {
        ...m.trust,
        rootCertPem: config.provided?.rootCertPem,
        caBundles: config.provided?.bundles,
        newRootCertPem: config.provided?.newRootCertPem,
        newCaBundles: config.provided?.newBundles,
    },
    remoteSecrets: m.remoteSecrets,
    networks: m.networks,
    traffic: m.traffic,
    clusters: m.clusters.map((c) => ({
        name: c.name,
        network: c.network,
        role: c.role,
        primary: c.primary,
        platform: c.platform,
        provider: built[c.name].provider,
        // Secret in stack config, secret in every input built from it (config.ts).
        apiServer: config.secrets.apiServers.has(c.name) ? pulumi.secret(built[c.name].apiServer) : built[c.name].apiServer,
        region: built[c.name].region,
        zone: built[c.name].zone,
        eastWestGateway: c.eastWestGateway,
        istio: c.istio,
        loadBalancerReady: built[c.name].loadBalancerReady,
    })),
});

export const meshId = m.meshId;
/** `mesh.environment` (null when unset): the policy pack's production rules read it (policy/policies.ts, isProductionStack). */
export const environment = m.environment ?? null;
export const topology = m.topology;
export const clusters = Object.fromEntries(
    m.clusters.map((c) => {
        const mc = built[c.name];
        const facts = {
            network: c.network,
            role: c.role,
            // A remote without `primary` is led by the mesh's only primary.
            primary: c.role === "remote" ? (c.primary ?? m.clusters.find((x) => x.role === "primary")!.name) : null,
            platform: c.platform,
            cloud: platformOf(c.platform)!.cloud,
            region: mc.region ?? null,
            zone: mc.zone ?? null,
            endpoint: config.secrets.apiServers.has(c.name) ? pulumi.secret(mc.apiServer) : mc.apiServer,
        };
        return [c.name, facts];
    }),
);
export const gatewayAddresses = mesh.gatewayAddresses;
export const rootCertPem = mesh.rootCertPem;
// Offline, a root set as a secret that cannot be decrypted has no fingerprint yet.
export const rootCertSha256 = mesh.rootCertPem.apply((pem) => (isUndecryptedSecret(pem) ? pem : certSha256(pem)));
/** Every cluster's kubeconfig, for kubectl and istioctl. Secret: they hold credentials or point at them. */
export const kubeconfigs = pulumi.secret(Object.fromEntries(Object.entries(built).map(([name, mc]) => [name, mc.kubeconfig])));
