// What a platform is to the rest of the program: the one interface behind the registry
// (registry.ts). Each platform folder (existing, gke, eks, kind) exports one `Platform` value that
// holds every fact of that platform once: its config block, its checks, its derived names, its
// gateway Service defaults, its locality, its kubectl context and Kubernetes version, what the
// resources it registers do on a change (rules, which one is the cluster, what they get at
// deploy), its offline-simulator answers, its bench latencies and its policy. None of these facts
// loads a cloud SDK: the folder's builder (cluster.ts) does, and it is loaded (`builder()`) only
// where clusters are created (components/clusters.ts). CONTRIBUTING.md, "Adding a platform".
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { Cidr } from "../cidr";
import type { KubeconfigSource } from "../kubeconfig";
import type { ClusterConfig } from "../meshConfig";
import type { MeshCluster } from "../meshCluster";
import type { ChangeRule } from "./changeRules";
import type { PreviousIdentity } from "./identity";

/** Report one problem at a config path. */
export type Say = (path: string, msg: string) => void;

/** A cluster entry as far as it parsed (checks run on partial input too, so every problem shows at once). */
export interface LooseCluster {
    name?: string;
    network?: string;
    role?: "primary" | "remote";
    platform?: string;
    region?: string;
    zone?: string;
    kubeconfig?: string;
    context?: string;
    apiServer?: string;
    protect?: boolean;
    [block: string]: unknown;
}

/** A validated cluster entry, as the platforms' builders receive it (its platform's block filled in). */
export type PlatformCluster = ClusterConfig;

/** What the whole-config checks give a platform. */
export interface CheckContext {
    meshId: unknown;
    /** This cluster's position among the mesh's clusters of the same platform (config order). */
    index: number;
    /** The clusters whose istiod will read this cluster's API server. */
    readers: string[];
    readFile?: (p: string) => string | undefined;
    /** Kubeconfig contexts already claimed by other clusters, `file#context` → cluster index. */
    claimedContexts: Map<string, number>;
    /** Set by a platform whose cluster comes with a kubeconfig: resolved here, used by its component. */
    resolved?: KubeconfigSource & { context?: string; apiServer: string };
}

/** What the offline simulator asks a platform (simulator/simulator.ts). */
export interface SimulatorContext {
    /** A stable address in `prefix`.0/24 per key, unique within one run. */
    simulatedIp(key: string, prefix: string): string;
    /** The inputs of the cloud provider a resource was registered with. */
    providerInputs(): Record<string, unknown> | undefined;
}

export interface SimulatedResource {
    id: string;
    state: Record<string, unknown>;
}

export interface PlatformSimulator {
    /** Resource types (or `prefix:*`) this platform's cloud answers. */
    answers?: (type: string, name: string, inputs: Record<string, any>, ctx: SimulatorContext) => SimulatedResource | undefined;
    /** Local commands (e.g. `kind create cluster`) and what they print. */
    command?: (cmd: string, ctx: SimulatorContext) => string | undefined;
    /** What its load balancers hand out. */
    loadBalancerAddress: "ip" | "hostname";
    /** Invokes (data sources) the platform's component calls. */
    invoke?: (token: string, inputs: Record<string, any>, ctx: SimulatorContext) => Record<string, unknown> | undefined;
}

/** What `npm run bench` needs to know about a platform (offline/bench/model.ts). */
export interface PlatformBench {
    /** Documented provisioning times by resource type (or `type [detail]`). */
    latencies: { key: string; seconds: number; why: string }[];
    /** The latency row of a registration where an input refines its type (`type [detail]`), e.g. which command a Command runs. */
    latencyKey?(r: { type: string; inputs: Record<string, any> }): string | undefined;
    /** Resource types that are node pools (the Kubernetes provider waits for them). */
    nodePoolTypes: string[];
    /** A config block for the i-th bench cluster of this platform. */
    example?: (i: number) => Record<string, unknown>;
}

/** What the policy pack checks on a platform's resources (policy/policies.ts). */
export interface PlatformPolicy {
    /** Cloud cluster resource types that production stacks must protect, with the config fix. */
    clusterTypes: { type: string; label: string; deletionProtectionDefault: boolean; fix: string }[];
}

/** What the resources a platform's builder registers do on a change, for the offline change plan (offline/changes.ts). */
export interface PlatformResources {
    /** The provider rules of its own cloud's resource types (the Kubernetes and TLS ones are shared). */
    changeRules: ChangeRule[];
    /** Is this registered resource the Kubernetes cluster itself (its replacement replaces everything in it)? */
    isCluster(r: { type: string; name: string; parent: string | null }): boolean;
    /**
     * Outputs a resource of this platform only gets when it is created (a cluster's endpoint and CA,
     * a command's ID and output, an EC2 ID): a re-created resource gets new ones, and the change plan
     * follows them into other resources' inputs (offline/planResources.ts).
     */
    deployTimeOutputs(r: { type: string; id?: string; state: Record<string, any> }): { path: string; value: unknown }[];
}

/** The builder (the folder's cluster.ts): the only part of a platform that loads its cloud SDK. */
export interface PlatformBuilder {
    /**
     * Problems to refuse before anything is built, given the previous run (e.g. a provider that would
     * be replaced onto the same cluster); each starts with its config path. `at` maps cluster names to paths.
     */
    preflight?(args: CreateArgs, at: (cluster: string) => string): string[];
    /** Build the platform's clusters (one component each), keyed by cluster name. */
    create(args: CreateArgs): Record<string, MeshCluster>;
}

export interface CreateArgs {
    meshId: string;
    /** Every cluster of this platform, in config order. */
    clusters: PlatformCluster[];
    /** Existing clusters: what validation resolved (kubeconfig content or path, context, API server). */
    resolved: Record<string, KubeconfigSource & { context?: string; apiServer: string }>;
    /** Per cluster: what the previous run recorded of its provider identity (components/platforms/identity.ts). */
    previous?: Record<string, PreviousIdentity>;
    opts?: pulumi.ComponentResourceOptions;
}

export interface Platform {
    /** The `platform:` value and, for created clusters, the key of the platform's config block. */
    name: string;
    /** Where the cluster runs: gcp, aws, local, or existing when the program does not know. */
    cloud: string;
    /** The config block's schema (absent: the platform has no block). */
    block?: z.ZodType;
    /** The block must be given (its required fields, for the message), or may be left out. */
    blockRequired?: string;
    /** Created clusters derive `region`/`zone` from their block (for the message), existing and kind take them from config. */
    localityFrom?: string;
    /** Only an `existing` cluster takes `kubeconfig`, `context` and `apiServer` from config. */
    takesKubeconfig: boolean;
    /** Platform checks of one cluster entry; `at` is its config path (`mesh.clusters[0]`). */
    check(c: LooseCluster, at: string, say: Say, ctx: CheckContext): void;
    /** Defaults that depend on the cluster's position (e.g. kind's subnets). */
    fill?(block: Record<string, unknown> | undefined, index: number): Record<string, unknown> | undefined;
    /** Where the cluster's pods live: two clusters in one domain reach each other's pods directly. */
    routingDomain(c: LooseCluster, meshId: unknown): string | undefined;
    /** Pod and Service ranges, `[config path under the cluster, CIDR]`, for the shared-network overlap rule. */
    podRanges(c: LooseCluster, index: number): [string, string | undefined][];
    /** Clusters on one network that this platform cannot connect (kind: no node routes). */
    sharesNetwork: boolean;
    /** Its region and zone, for the stack outputs and locality rules. */
    locality(c: PlatformCluster): { region?: string; zone?: string };
    /** Service annotations its load balancers need for the east-west gateway (under the user's own). */
    gatewayServiceAnnotations: Record<string, string>;
    /** Checks across this platform's clusters (e.g. GKE ranges in one VPC), after every cluster's own `check`. */
    checkMesh?(clusters: { c: LooseCluster; at: string }[], meshId: unknown, say: Say): void;
    /** The kubectl context the cluster has on the user's machine (for printed commands), when it can be known offline. */
    kubeContext(c: LooseCluster): string | undefined;
    /** The Kubernetes version the cluster runs, from its config; undefined: the default (offline/render/render.ts). */
    kubeVersion(c: LooseCluster): string | undefined;
    /** The npm packages its builder loads (optional peer dependencies of the library: package.json). */
    sdks: string[];
    /**
     * A cluster entry (all but its name) that makes the builder register every resource type it
     * can in a one-cluster mesh: the registry test plans it (test/registry.test.ts).
     */
    sampleCluster(): Record<string, unknown>;
    /** Load the builder (./cluster.ts), with its cloud SDK. */
    builder(): PlatformBuilder;
    resources: PlatformResources;
    simulator: PlatformSimulator;
    bench: PlatformBench;
    policy?: PlatformPolicy;
}

export type { Cidr };
