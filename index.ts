// The program: stack config → clusters → Mesh → stack outputs. Everything it builds comes from
// the library in components/ (the same components another Pulumi program can import).
//
// It is an async program (Pulumi runs the exported function and uses what it returns as the stack
// outputs; @pulumi/pulumi cmd/run/run.ts): before any resource is registered it reads what the
// stack's previous run exported, so a change that would replace a cluster's provider onto the same
// cluster is refused first (components/platforms/identity.ts).
import * as pulumi from "@pulumi/pulumi";
import { certSha256 } from "./components/caBundle";
import { deployGate } from "./components/check/gate";
import { createClusters } from "./components/clusters";
import { Mesh } from "./components/mesh";
import { platformOf } from "./components/platforms/registry";
import type { PreviousIdentity } from "./components/platforms/identity";
import { isUndecryptedSecret } from "./components/secretPlaceholder";
import { ConfigError, loadConfig } from "./config";
import { type RevisionRecord, revisionRecord, upgradeStepProblems } from "./components/upgrade";
import { removalGuard } from "./components/upgradeGuard";
import type { ClusterAccess } from "./components/check/checks";

/**
 * What the previous run of this stack exported of each cluster's provider identity, read through a
 * StackReference to the stack itself (a read: the engine takes the outputs of the stack's last
 * checkpoint, pkg/resource/deploy/builtins.go readStackReference). Empty on the first run.
 */
async function previousRun(): Promise<{
    identities: Record<string, PreviousIdentity>;
    revisions?: RevisionRecord;
    access: ClusterAccess[];
}> {
    const self = new pulumi.StackReference(`${pulumi.getProject()}-previous-run`, {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails("clusters");
    const clusters = details.value ?? details.secretValue;
    // The revisions the last deploy ran (components/upgrade.ts): an upgrade phase may not be skipped.
    const revisions = (await self.getOutputDetails("istioRevisions")).value as RevisionRecord | undefined;
    // The kubeconfigs it exported (secret): a phase that removes a revision first counts what still uses it.
    const kc = await self.getOutputDetails("kubeconfigs");
    const kubeconfigs = (kc.secretValue ?? kc.value) as Record<string, unknown> | undefined;
    const access = Object.entries(kubeconfigs && typeof kubeconfigs === "object" ? kubeconfigs : {})
        .filter((e): e is [string, string] => typeof e[1] === "string")
        .map(([name, kubeconfig]) => ({ name, kubeconfig }));
    const out: Record<string, PreviousIdentity> = {};
    if (clusters && typeof clusters === "object") {
        for (const [name, facts] of Object.entries(clusters as Record<string, Record<string, unknown>>)) {
            if (!facts || typeof facts !== "object") continue;
            out[name] = {
                ...(typeof facts.providerIdentity === "string" ? { providerIdentity: facts.providerIdentity } : {}),
                ...(typeof facts.apiServerCaSha256 === "string" ? { apiServerCaSha256: facts.apiServerCaSha256 } : {}),
            };
        }
    }
    return { identities: out, revisions, access };
}

export = async () => {
    // Throws a ConfigError listing every problem before any resource is registered.
    const config = loadConfig();
    const m = config.mesh;

    const previous = await previousRun();
    // One upgrade phase per up, in order, checked against what the last deploy ran (docs/upgrades.md).
    const istioRevisions = revisionRecord(m.istio);
    const steps = previous.revisions ? upgradeStepProblems(previous.revisions, istioRevisions) : [];
    if (steps.length > 0) throw new ConfigError(steps.map((p) => `mesh.istio.upgrade: ${p}`));
    // A phase that removes a revision: refused while the live count says something uses it (components/upgradeGuard.ts).
    const inUse = await removalGuard(
        istioRevisions,
        m.istio.upgrade?.removeInUse ?? false,
        previous.access.filter((a) => m.clusters.some((c) => c.name === a.name)),
    );
    if (inUse.length > 0) throw new ConfigError(inUse);
    const built = createClusters(m.meshId, config, undefined, previous.identities);

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

    const meshId = m.meshId;
    /** `mesh.environment` (null when unset): the policy pack's production rules read it (policy/policies.ts, isProductionStack). */
    const environment = m.environment ?? null;
    const topology = m.topology;
    const clusters = Object.fromEntries(
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
                // What the next run compares with (components/platforms/identity.ts).
                providerIdentity: mc.providerIdentity ?? null,
                apiServerCaSha256: mc.apiServerCaSha256 ?? null,
            };
            return [c.name, facts];
        }),
    );
    const gatewayAddresses = mesh.gatewayAddresses;
    const rootCertPem = mesh.rootCertPem;
    // Offline, a root set as a secret that cannot be decrypted has no fingerprint yet.
    const rootCertSha256 = mesh.rootCertPem.apply((pem) => (isUndecryptedSecret(pem) ? pem : certSha256(pem)));
    /** Every cluster's kubeconfig, for kubectl and istioctl. Secret: they hold credentials or point at them. */
    const kubeconfigs = pulumi.secret(Object.fromEntries(Object.entries(built).map(([name, mc]) => [name, mc.kubeconfig])));
    // mesh.check.gate: the post-deploy check inside `pulumi up`, after every object exists (components/check/gate.ts).
    const postDeployCheck = m.check.gate
        ? deployGate({
              intent: mesh.intent,
              deployed: mesh.deployed,
              access: pulumi.all(Object.entries(built).map(([name, mc]) => mc.kubeconfig.apply((kubeconfig) => ({ name, kubeconfig })))),
              timeoutSeconds: m.check.timeoutSeconds,
          })
        : undefined;
    return {
        meshId,
        environment,
        topology,
        clusters,
        gatewayAddresses,
        rootCertPem,
        rootCertSha256,
        kubeconfigs,
        istioRevisions,
        ...(postDeployCheck ? { postDeployCheck } : {}),
    };
};
