// The only place stack config is read: `multicluster-mesh:mesh` and, for `trust.mode: provided`,
// the secret `rootCertPem` and `caBundles`. The checks themselves are the library's
// (components/meshConfig.ts), so stack config and `Mesh` args get the same messages; a bad config
// stops the program with every problem listed before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, LoadedConfig, ProvidedTrust, validateMeshConfig } from "./components/meshConfig";

export * from "./components/meshConfig";

export const PROJECT = "multicluster-mesh";

/** Read and check the stack config. Throws a ConfigError listing every problem. */
export function loadConfig(): LoadedConfig {
    const cfg = new pulumi.Config(PROJECT);
    const raw = cfg.getObject<unknown>("mesh");
    if (raw === undefined) {
        throw new ConfigError([
            `multicluster-mesh:mesh: is not set; copy Pulumi.dev.yaml as a starting point (see README, "Config reference")`,
        ]);
    }
    // Read as plain values only to check them; the key material is re-wrapped as secret where it is used.
    const provided: ProvidedTrust = {
        rootCertPem: cfg.get("rootCertPem"),
        caBundles: cfg.getObject<Record<string, unknown>>("caBundles"),
        // A root rotation (docs/root-rotation.md): the new root and the bundles it signs.
        newRootCertPem: cfg.get("newRootCertPem"),
        newCaBundles: cfg.getObject<Record<string, unknown>>("newCaBundles"),
    };
    const result = validateMeshConfig(raw, { provided });
    if (!result.ok) throw new ConfigError(result.problems);
    return result.config;
}
