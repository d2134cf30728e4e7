// Istio's names, labels, annotations, ports, chart and release names, the remote-secret rule and
// the install order: the one owner of every Istio fact this program relies on. The plan, the
// components, the offline plan (plan.json, picture, diff), the simulator, the benchmark model and
// the policy pack import them from here; test/istioFacts.test.ts fails when one of these strings
// appears anywhere else in non-test source. Sources are Istio 1.30.3 (tag 1.30.3 of istio/istio)
// and the istio.io multicluster install guides; docs/istio-notes.md explains each in our words.

/** The release this program is written and tested against. */
export const ISTIO_VERSION = "1.30.3";
/**
 * The Istio versions this program may install: the values and objects it writes were checked against
 * 1.30.3's charts only (test/fixtures/chart-keys.json and gateway-values.schema.json, and the real
 * Helm renders of offline/render/). Older charts lack some: the gateway chart's
 * `networkGatewayPorts` (the ports of a `networkGateway` Service) appear in 1.30.0, the istiod
 * chart's `profile: remote` (files/profile-remote.yaml) and its merge of `pilot.*` over the top
 * level (templates/zzy_descope_legacy.yaml) in 1.24.0 (manifests/charts/ in istio/istio at those
 * tags). Widen the range only after checking the new charts the same way; moving to another minor
 * is an in-place upgrade of every control plane at once (docs/upgrades.md).
 */
export const SUPPORTED_ISTIO = { min: "1.30.0", maxExclusive: "1.31.0" } as const;

/** Compare two `x.y.z[-pre]` versions by their numbers (a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
    const parse = (v: string) => {
        const [nums, pre] = v.split("-", 2);
        return { n: nums.split(".").map((x) => Number(x)), pre };
    };
    const x = parse(a);
    const y = parse(b);
    for (let i = 0; i < 3; i++) if ((x.n[i] ?? 0) !== (y.n[i] ?? 0)) return (x.n[i] ?? 0) - (y.n[i] ?? 0);
    if (x.pre === y.pre) return 0;
    return x.pre === undefined ? 1 : y.pre === undefined ? -1 : x.pre < y.pre ? -1 : 1;
}

/** Why a pinned version is outside SUPPORTED_ISTIO, or undefined when inside (a pre-release counts as its release). */
export function unsupportedIstio(version: string): string | undefined {
    const { min, maxExclusive } = SUPPORTED_ISTIO;
    const release = version.split("-")[0];
    if (compareVersions(release, min) >= 0 && compareVersions(release, maxExclusive) < 0) return undefined;
    return (
        `Istio ${version} is outside the supported range >= ${min}, < ${maxExclusive} (the values and objects this program writes were ` +
        `checked against ${ISTIO_VERSION}'s charts); use a ${minorOf(min)}.x release such as "${ISTIO_VERSION}" (docs/upgrades.md)`
    );
}

/** "1.30" of "1.30.3". */
export function minorOf(version: string): string {
    return version.split("-")[0].split(".").slice(0, 2).join(".");
}
/** Istio's own chart repository (https://istio.io/latest/docs/setup/install/helm/). */
export const ISTIO_REPOSITORY = "https://istio-release.storage.googleapis.com/charts";

/** Where istiod, its `cacerts` and the remote secrets live. */
export const ISTIO_NAMESPACE = "istio-system";

/** The official charts (manifests/charts in istio/istio) and the release name this program gives each. */
export const CHARTS = {
    base: { chart: "base", release: "istio-base" },
    istiod: { chart: "istiod", release: "istiod" },
    gateway: { chart: "gateway", release: "istio-eastwestgateway" },
} as const;
/** Every chart Istio publishes (others, such as MetalLB on kind, have versions of their own). */
export const ISTIO_CHART_NAMES: readonly string[] = ["base", "istiod", "gateway", "cni", "ztunnel"];

/** The east-west gateway: release, Service and Deployment name (the gateway chart's `name`). */
export const EASTWEST_NAME = CHARTS.gateway.release;
/**
 * The gateway chart derives the pods' `istio` label from the name without its `istio-` prefix
 * (manifests/charts/gateway/templates/_helpers.tpl, `gateway.selectorLabels`); the Istio Gateway
 * objects select on it.
 */
export const EASTWEST_SELECTOR = { istio: "eastwestgateway" } as const;

/** istiod's Service, and the host the expose-istiod VirtualService routes to. */
export const ISTIOD_SERVICE = "istiod";
export const ISTIOD_HOST = `${ISTIOD_SERVICE}.${ISTIO_NAMESPACE}.svc`;
export const ISTIOD_FQDN = `${ISTIOD_HOST}.cluster.local`;

/**
 * What the istiod and gateway charts render, as the render checks read it (manifests/charts at 1.30.3):
 * the mesh config ConfigMap (istiod/templates/configmap.yaml, key `mesh`), the injector's values
 * (istiod/templates/istiod-injector-configmap.yaml, key `values`), istiod's environment
 * (istiod/templates/deployment.yaml) and the gateway's (gateway/templates/deployment.yaml).
 */
export const RENDERED = {
    meshConfigMap: "istio",
    meshConfigKey: "mesh",
    injectorConfigMap: "istio-sidecar-injector",
    injectorValuesKey: "values",
    istiodDeployment: "istiod",
    clusterIdEnv: "CLUSTER_ID",
    externalIstiodEnv: "EXTERNAL_ISTIOD",
    /** Extra names in istiod's serving certificate (pilot/pkg/features/pilot.go, `ISTIOD_CUSTOM_HOST`). */
    customHostEnv: "ISTIOD_CUSTOM_HOST",
    requestedNetworkViewEnv: "ISTIO_META_REQUESTED_NETWORK_VIEW",
    gatewayProxyContainer: "istio-proxy",
} as const;

/** The injection path that tells the primary's istiod which cluster and network a remote's pod is on (pkg/kube/inject/webhook.go). */
export function injectionPath(cluster: string, network: string): string {
    return `/inject/cluster/${cluster}/net/${network}`;
}

/** The CA Secret istiod mounts (optional volume: without it istiod becomes a self-signed CA). */
export const CACERTS_SECRET = "cacerts";
/** The four keys of `cacerts` (security/pkg/pki/ca/ca.go: `caCertFile`, `caPrivateKeyFile`, ...). */
export const CACERTS_KEYS = { caCert: "ca-cert.pem", caKey: "ca-key.pem", rootCert: "root-cert.pem", certChain: "cert-chain.pem" } as const;

/** Labels and annotations Istio reads. */
export const NETWORK_LABEL = "topology.istio.io/network";
export const CONTROL_PLANE_ANNOTATION = "topology.istio.io/controlPlaneClusters";
export const MULTICLUSTER_SECRET_LABEL = "istio/multiCluster";
export const CLUSTER_ANNOTATION = "networking.istio.io/cluster";

/** The reader identity `istioctl create-remote-secret` uses, created by the charts. */
export const READER_SERVICE_ACCOUNT = "istio-reader-service-account";
/** The token Secret istioctl creates for it on Kubernetes ≥ 1.24 (istioctl/pkg/multicluster/remote_secret.go). */
export const SHARED_TOKEN_NAME = `${READER_SERVICE_ACCOUNT}-istio-remote-secret-token`;
/** The token Secret of one reading cluster (one per pair, so deleting it revokes exactly that pair). */
export function readerTokenName(target: string): string {
    return `${READER_SERVICE_ACCOUNT}-token-${target}`;
}
/** A remote secret in the reading cluster: `istio-remote-secret-<source>`, data key = the source's cluster ID. */
export function remoteSecretName(source: string): string {
    return `istio-remote-secret-${source}`;
}

/** Istio objects this program owns in each cluster (samples/multicluster/expose-*.yaml). */
export const ISTIO_OBJECTS = {
    crossNetworkGateway: "cross-network-gateway",
    istiodGateway: "istiod-gateway",
    istiodVirtualService: "istiod-vs",
} as const;
export const NETWORKING_API = "networking.istio.io/v1";

/** Ports (https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio). */
export const PORTS = {
    statusPort: 15021,
    /** Cross-network mTLS through the east-west gateway (AUTO_PASSTHROUGH). */
    crossNetwork: 15443,
    /** istiod's xDS and CA. */
    xds: 15012,
    /** istiod's webhooks (the Service maps 443 → 15017). */
    webhook: 15017,
    webhookService: 443,
} as const;

/** istiod's default cluster ID: remote secrets named after it are ignored. */
export const DEFAULT_CLUSTER_ID = "Kubernetes";

/**
 * Who reads whom: a target cluster's istiod watches a source cluster's API server. Every primary
 * reads every other cluster: the primaries of a multi-primary mesh read each other, and a primary
 * reads the remotes (its own to control them, the others' for endpoint discovery; only the primary
 * named in a remote's `controlPlaneClusters` annotation leads it). Remotes run no istiod and
 * receive nothing.
 */
export function remoteSecretPairs(clusters: { name: string; role: string }[]): { source: string; target: string }[] {
    const pairs: { source: string; target: string }[] = [];
    for (const target of clusters) {
        if (target.role !== "primary") continue;
        for (const source of clusters) if (source.name !== target.name) pairs.push({ source: source.name, target: target.name });
    }
    return pairs;
}

/**
 * The install order within a cluster and across clusters (docs/istio-notes.md, "Install order"):
 * each step names the steps that must be complete before it starts. The components wire these as
 * dependencies; the benchmark's lower bound and the policy pack read the same table.
 */
export const INSTALL_ORDER = {
    namespace: [],
    cacerts: ["namespace"],
    base: ["namespace"],
    istiod: ["namespace", "base", "cacerts"],
    // The east-west gateway's LoadBalancer Service (its address), made before istiod.
    "gateway-address": ["namespace"],
    gateway: ["namespace", "istiod"],
    "istio-object": ["namespace", "base"],
    "reader-token": ["namespace", "istiod"],
    // In the reading cluster; across clusters it also waits for the source's namespace and reader token.
    "remote-secret": ["namespace"],
    // "expose-istiod" objects are Istio objects too.
    "expose-istiod": ["namespace", "base"],
} as const satisfies Record<string, readonly string[]>;
export type InstallStep = keyof typeof INSTALL_ORDER;

/**
 * Root rotation (prepare phase). istiod builds one trust bundle from every root in root-cert.pem only
 * with this env (`MultiRootMesh`, pilot/pkg/features/pilot.go at 1.30.3); it goes in the istiod chart's
 * top-level `env`.
 */
export const MULTIROOT_ENV = "ISTIO_MULTIROOT_MESH";
/**
 * Proxies take trust-bundle updates over xDS only with this proxy metadata
 * (`enableProxyConfigXdsEnv`, pilot/cmd/pilot-agent/options/options.go at 1.30.3); it goes in
 * `meshConfig.defaultConfig.proxyMetadata`, as tests/integration/security/cacert_rotation/main_test.go sets it.
 */
export const PROXY_XDS_AGENT_METADATA = "PROXY_CONFIG_XDS_AGENT";
/** The ConfigMap istiod writes into every namespace from root-cert.pem (what the add-root check reads). */
export const ROOT_CERT_CONFIGMAP = "istio-ca-root-cert";

// ---- Traffic policy (components/traffic/) ----

/** API groups of the objects `traffic.objects` may hold (the CRDs of the base chart). */
export const SECURITY_API = "security.istio.io/v1";
export const TRAFFIC_OBJECT_GROUPS: readonly string[] = ["networking.istio.io", "security.istio.io"];
/**
 * istiod's root namespace (meshConfig.rootNamespace, default: the system namespace): a
 * DestinationRule or Sidecar there applies to every namespace (https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/).
 */
export const ROOT_NAMESPACE = ISTIO_NAMESPACE;
/** The namespace label the sidecar injector selects on (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml). */
export const INJECTION_LABEL = { "istio-injection": "enabled" } as const;
/** A namespace's Sidecar without a workload selector is conventionally named `default` (one per namespace). */
export const DEFAULT_SIDECAR = "default";
/**
 * Node labels istiod reads a pod's locality from, unless the pod has an `istio-locality` label
 * (`getPodLocality` in pilot/pkg/serviceregistry/kube/controller/controller.go and
 * pilot/pkg/serviceregistry/util/label/label.go at 1.30.3); the subzone label is Istio's own.
 */
export const LOCALITY_LABELS = {
    region: "topology.kubernetes.io/region",
    zone: "topology.kubernetes.io/zone",
    subzone: "topology.istio.io/subzone",
} as const;
/** Istio's cluster label, usable in `failoverPriority` (prefer endpoints of the caller's own cluster). */
export const CLUSTER_LABEL = "topology.istio.io/cluster";
/** The agent's DNS proxy switch (pilot/cmd/pilot-agent/options/options.go, `ISTIO_META_DNS_CAPTURE`, default false). */
export const DNS_CAPTURE_ENV = "ISTIO_META_DNS_CAPTURE";
/**
 * Deprecated in 1.30: no agent code reads it; istiod allocates ServiceEntry addresses itself
 * (`PILOT_ENABLE_IP_AUTOALLOCATE`, default true, pilot/pkg/features/pilot.go) and the mesh-config
 * validation warns when it is set (pkg/config/validation/agent/validation.go at 1.30.3).
 */
export const DNS_AUTO_ALLOCATE_ENV = "ISTIO_META_DNS_AUTO_ALLOCATE";
/** Namespaces Kubernetes makes itself (a Namespace object for one of them fails AlreadyExists on create). */
export const KUBERNETES_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease"];
