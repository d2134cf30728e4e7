// The only place stack config is read: `multicluster-mesh:mesh` and, for `trust.mode: provided`,
// the secret `rootCertPem` and `caBundles`. The checks themselves are the library's
// (components/meshConfig.ts), so stack config and `Mesh` args get the same messages; a bad config
// stops the program with every problem listed before any resource is registered.
//
// Secrets set inside `mesh` (`pulumi config set --secret --path 'mesh.istio.values.env.KEY'`) stay
// secret: their paths are found (components/secretConfig.ts says how Pulumi hands them over), the
// values are checked plain, every message is cleared of them, and the leaves are wrapped in
// pulumi.secret again before they reach a resource (index.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import * as YAML from "yaml";
import { ConfigError, LoadedConfig, ProvidedTrust, validateMeshConfig } from "./components/meshConfig";
import { readRegularFile } from "./components/safeRead";
import {
    ConfigPath,
    getAt,
    handedSecretPaths,
    redactSecrets,
    sameShape,
    secretPlace,
    secretPlaceProblems,
    secretStrings,
    securePaths,
    wrapLeaves,
} from "./components/secretConfig";
import { PROJECT } from "./components/pulumiTypes";

export * from "./components/meshConfig";

export { PROJECT };
const MESH_KEY = `${PROJECT}:mesh`;

/** The secrets found inside `mesh`, for index.ts. */
export interface MeshSecrets {
    /** Secret leaves, as paths inside `mesh`. */
    paths: ConfigPath[];
    /** Clusters whose `apiServer` is secret (their endpoint output and every input built from it are secret). */
    apiServers: Set<string>;
    /** True when the paths could not be read and every value that can be secret is treated as one. */
    guessed: boolean;
}

/** PULUMI_CONFIG_SECRET_KEYS, through the SDK's own reader (marked internal, so not in its typings). */
function isConfigSecret(key: string): boolean {
    const f = (runtimeConfig as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return typeof f === "function" ? f(key) : false;
}

/**
 * The `secure:` leaves of `mesh` in Pulumi.<stack>.yaml (where the CLI reads it: the project folder, or
 * Pulumi.yaml's stackConfigDir), if that file holds the config the program was handed.
 */
function stackFileSecretPaths(handed: unknown): ConfigPath[] | undefined {
    try {
        const dir = process.cwd();
        const project = YAML.parse(readRegularFile(path.join(dir, "Pulumi.yaml"))) as { stackConfigDir?: string } | null;
        const file = path.join(dir, project?.stackConfigDir ?? "", `Pulumi.${pulumi.getStack()}.yaml`);
        if (!fs.existsSync(file)) return undefined;
        const doc = YAML.parse(readRegularFile(file)) as { config?: Record<string, unknown> } | null;
        const raw = doc?.config?.[MESH_KEY] ?? doc?.config?.mesh;
        return raw !== undefined && sameShape(raw, handed) ? securePaths(raw) : undefined;
    } catch {
        return undefined;
    }
}

/** Every leaf that can be secret (istio values, API servers, kubeconfigs): the safe side when the paths are unknown. */
function everyPossibleSecret(mesh: unknown): ConfigPath[] {
    const leaves = (v: unknown, at: ConfigPath): ConfigPath[] =>
        Array.isArray(v)
            ? v.flatMap((x, i) => leaves(x, [...at, i]))
            : v && typeof v === "object"
              ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]))
              : v === undefined
                ? []
                : [at];
    const m = (mesh ?? {}) as { clusters?: unknown[] };
    const out = leaves(getAt(mesh, ["istio", "values"]), ["istio", "values"]);
    (Array.isArray(m.clusters) ? m.clusters : []).forEach((_, i) => {
        out.push(...leaves(getAt(mesh, ["clusters", i, "istio", "values"]), ["clusters", i, "istio", "values"]));
        for (const k of ["apiServer", "kubeconfig"]) if (getAt(mesh, ["clusters", i, k]) !== undefined) out.push(["clusters", i, k]);
    });
    return out;
}

function findSecrets(raw: unknown): MeshSecrets {
    const handed = handedSecretPaths();
    let paths: ConfigPath[] = [];
    let guessed = false;
    if (handed) paths = handed[MESH_KEY] ?? [];
    else if (isConfigSecret(MESH_KEY)) {
        const found = stackFileSecretPaths(raw);
        if (found) paths = found;
        else {
            paths = everyPossibleSecret(raw);
            guessed = true;
            void pulumi.log.warn(
                `${MESH_KEY} holds a secret, but its place could not be read from Pulumi.${pulumi.getStack()}.yaml; ` +
                    `every istio value, apiServer and kubeconfig of the mesh is treated as secret`,
            );
        }
    }
    const apiServers = new Set<string>();
    for (const p of paths) {
        const place = secretPlace(p);
        const name = place?.kind === "apiServer" ? getAt(raw, ["clusters", place.cluster, "name"]) : undefined;
        if (typeof name === "string") apiServers.add(name);
    }
    return { paths, apiServers, guessed };
}

/** Read and check the stack config. Throws a ConfigError listing every problem, none of which shows a secret value. */
export function loadConfig(): LoadedConfig & { secrets: MeshSecrets } {
    const cfg = new pulumi.Config(PROJECT);
    const raw = cfg.getObject<unknown>("mesh");
    if (raw === undefined) {
        throw new ConfigError([`multicluster-mesh:mesh: is not set; copy Pulumi.dev.yaml as a starting point (see docs/config.md)`]);
    }
    const secrets = findSecrets(raw);
    const hidden = secretStrings(raw, secrets.paths);
    // Read as plain values only to check them; the key material is re-wrapped as secret where it is used.
    const provided: ProvidedTrust = {
        rootCertPem: cfg.get("rootCertPem"),
        caBundles: cfg.getObject<Record<string, unknown>>("caBundles"),
        // A root rotation (docs/root-rotation.md): the new root and the bundles it signs.
        newRootCertPem: cfg.get("newRootCertPem"),
        newCaBundles: cfg.getObject<Record<string, unknown>>("newCaBundles"),
    };
    const result = validateMeshConfig(raw, { provided });
    const problems = [...secretPlaceProblems(secrets.guessed ? [] : secrets.paths), ...(result.ok ? [] : result.problems)];
    if (problems.length > 0) throw new ConfigError(problems.map((p) => redactSecrets(p, hidden)));
    if (!result.ok) throw new ConfigError(result.problems);
    return { ...result.config, mesh: wrapMeshSecrets(result.config.mesh, secrets.paths), secrets };
}

/** The validated mesh with its secret Helm values wrapped in pulumi.secret (the API servers are wrapped by index.ts). */
function wrapMeshSecrets(mesh: LoadedConfig["mesh"], paths: ConfigPath[]): LoadedConfig["mesh"] {
    const meshValues: ConfigPath[] = [];
    const clusterValues = new Map<number, ConfigPath[]>();
    for (const p of paths) {
        const place = secretPlace(p);
        if (place?.kind === "meshValues") meshValues.push(place.rest);
        if (place?.kind === "clusterValues") clusterValues.set(place.cluster, [...(clusterValues.get(place.cluster) ?? []), place.rest]);
    }
    if (meshValues.length === 0 && clusterValues.size === 0) return mesh;
    const secret = (v: unknown) => pulumi.secret(v);
    return {
        ...mesh,
        istio: { ...mesh.istio, values: wrapLeaves(mesh.istio.values, meshValues, secret) },
        clusters: mesh.clusters.map((c, i) =>
            clusterValues.has(i) && c.istio
                ? { ...c, istio: { ...c.istio, values: wrapLeaves(c.istio.values, clusterValues.get(i)!, secret) } }
                : c,
        ),
    };
}
