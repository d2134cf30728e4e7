// Istio's names, labels, annotations, ports, chart and release names, the remote-secret rule, the
// install order, and the versions (supported minors, known releases, known defects, the default):
// the one owner of every Istio fact this program relies on. The plan, the components, the offline
// plan (plan.json, picture, diff), the simulator, the benchmark model and the policy pack import
// them from here; test/sourceRules.test.ts fails when one of these strings appears anywhere else
// in non-test source. Sources are istio/istio at tags 1.30.3 and 1.31.0-rc.0 (the names are the
// same in both) and the istio.io multicluster install guides; docs/istio-notes.md explains each in
// our words, docs/istio-sources.md the versions. Per-minor chart and CRD facts: istioFacts.ts.

// ---- Versions: what this program supports, what is published, what is known to break ----

/**
 * The Istio minors this program may install. Each has its facts in components/data/istio/<minor>/
 * (chart keys, the gateway chart's values schema, the CRD schemas, the options only that minor
 * has), derived by `npm run istio:facts` from istio/istio at the tag its source.json names; the
 * values, the config checks, the render and the traffic CRD validation read the pinned version's
 * minor. The charts' own version floors: the gateway chart's `networkGatewayPorts` appear in
 * 1.30.0, the istiod chart's `profile: remote` and its merge of `pilot.*` over the top level
 * (templates/zzy_descope_legacy.yaml) in 1.24.0. Widen the list only after deriving and checking
 * the new minor's facts (docs/upgrades.md); moving to another minor is an in-place upgrade of every
 * control plane at once.
 */
export const SUPPORTED_ISTIO = { minors: ["1.30", "1.31"] } as const;

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

/** "1.30" of "1.30.3". */
export function minorOf(version: string): string {
    return version.split("-")[0].split(".").slice(0, 2).join(".");
}

/**
 * Istio releases known here, newest last per minor, each with its release notes: the candidates for
 * the default version. A release missing from this list can still be pinned (any 1.30.x or 1.31.x).
 * Sources: the release announcements on istio.io and https://github.com/istio/istio/releases
 * (1.30.4 and 1.31.0 were published on 2026-08-27 and 2026-08-31).
 */
export const ISTIO_RELEASES: readonly { version: string; notes: string }[] = [
    ...["1.30.0", "1.30.1", "1.30.2", "1.30.3", "1.30.4", "1.30.5"].map((v) => ({ version: v, notes: releaseNotes(v) })),
    ...["1.31.0", "1.31.1"].map((v) => ({ version: v, notes: releaseNotes(v) })),
];

/** istio.io's announcement of a release (a minor's first release is announced on the minor's own page). */
export function releaseNotes(version: string): string {
    const minor = minorOf(version);
    const page = version.endsWith(".0") ? `announcing-${minor}/change-notes` : `announcing-${version}`;
    return `https://istio.io/latest/news/releases/${minor}.x/${page}/`;
}

/** Where a known defect bites: istiod and the data plane this program installs, or only the istioctl client. */
export type DefectScope = "control-plane" | "istioctl";

export interface KnownDefect {
    /** The istio/istio issue (or, for a fix announced without one, the release note that names it). */
    issue: string;
    /** What breaks, in a multicluster mesh as this program installs it. */
    breaks: string;
    /** Per minor: the first release with the fix; every release of that minor before it has the defect. */
    fixedIn: Partial<Record<(typeof SUPPORTED_ISTIO.minors)[number], string>>;
    scope: DefectScope;
    /** Release notes (and the release-note file in istio/istio) that say so. */
    sources: string[];
}

/**
 * Istio patch releases with known multicluster defects (release notes, and the release-note files in
 * istio/istio's release branches). The plan warns on a pinned version listed here and names the fix;
 * the policy pack fails a production stack pinned to one with a control-plane defect. Ambient-only
 * defects (istio/istio#60033) and the `default` chart's webhook (istio/istio#61613) are not listed:
 * this program installs sidecar mode with the base, istiod and gateway charts only.
 */
export const KNOWN_DEFECTS: readonly KnownDefect[] = [
    {
        issue: "istio/istio#60612",
        breaks:
            "istiod does not pick up an updated remote secret (a rotated reader token) until it restarts; the new cluster " +
            "registry can deadlock waiting to sync, leaving that cluster's services stale",
        fixedIn: { "1.30": "1.30.3" },
        scope: "control-plane",
        sources: [releaseNotes("1.30.3"), "istio/istio releasenotes/notes/60612.yaml (at tag 1.30.3)"],
    },
    {
        issue: "istio/istio#60920",
        breaks:
            "after a remote secret rotates, the remote network's east-west gateway can disappear from cross-network " +
            "routing until istiod restarts",
        fixedIn: { "1.30": "1.30.4", "1.31": "1.31.0" },
        scope: "control-plane",
        sources: [releaseNotes("1.30.4"), "istio/istio releasenotes/notes/60920.yaml (branch release-1.30 after 1.30.3; tag 1.31.0-rc.0)"],
    },
    {
        issue: "istio/istio#61043",
        breaks:
            "rotating a remote secret can wipe the endpoint shards of that cluster's services: they become unreachable " +
            "across clusters until istiod restarts (reproduced on 1.30.1 and 1.30.3)",
        fixedIn: { "1.30": "1.30.4", "1.31": "1.31.0" },
        scope: "control-plane",
        sources: [
            releaseNotes("1.30.4"),
            "istio/istio releasenotes/notes/61043.yaml (cherry-picks istio/istio#61159 to release-1.30 after 1.30.3, #61160 in tag 1.31.0-rc.0)",
        ],
    },
    {
        issue: "istio/istio#61049",
        breaks:
            "istiod reports ready before its webhook server (:15017) accepts connections, so objects created right after " +
            "the install (this program's Gateways and VirtualServices) can fail with `failed calling webhook`",
        fixedIn: { "1.30": "1.30.4", "1.31": "1.31.0" },
        scope: "control-plane",
        sources: [releaseNotes("1.30.4"), "istio/istio releasenotes/notes/61049.yaml (branch release-1.30 after 1.30.3; tag 1.31.0-rc.0)"],
    },
    {
        issue: "istioctl analyze and multicluster secrets (security fix, no public issue)",
        breaks:
            "`istioctl analyze` builds clients from the istio-system remote secrets without sanitizing their kubeconfigs, so a " +
            "crafted secret can run an exec credential plugin on the machine that runs istioctl",
        fixedIn: { "1.30": "1.30.5", "1.31": "1.31.1" },
        scope: "istioctl",
        sources: [releaseNotes("1.30.5"), releaseNotes("1.31.1")],
    },
];

/** The known defects of a version: those of its minor whose fix comes later. */
export function knownDefects(version: string): KnownDefect[] {
    const minor = minorOf(version) as keyof KnownDefect["fixedIn"];
    return KNOWN_DEFECTS.filter((d) => {
        const fixed = d.fixedIn[minor];
        return fixed !== undefined && compareVersions(version, fixed) < 0;
    });
}

/** The newest known release of `minor` (all minors when undefined) with no known defect. */
export function newestWithoutDefects(minor?: string): string | undefined {
    const candidates = ISTIO_RELEASES.map((r) => r.version).filter(
        (v) => (minor === undefined || minorOf(v) === minor) && unsupportedIstio(v) === undefined && knownDefects(v).length === 0,
    );
    return candidates.sort(compareVersions).pop();
}

/**
 * The version a stack gets when it pins none: the newest known release with no known defect. The
 * supported minors' facts must cover it (test/istioVersions.test.ts).
 */
export const ISTIO_VERSION: string = newestWithoutDefects()!;

/** The warnings the plan prints for a pinned version with known defects, each naming the fix. */
export function knownDefectWarnings(version: string): string[] {
    return knownDefects(version).map((d) => {
        const fixed = d.fixedIn[minorOf(version) as keyof KnownDefect["fixedIn"]]!;
        const best = newestWithoutDefects(minorOf(version));
        const pin = best && best !== fixed ? `${fixed} or later (${best} has no known defect)` : `${fixed} or later`;
        const who = d.scope === "istioctl" ? "istioctl of this version" : `Istio ${version}`;
        return (
            `${who} has a known multicluster defect, ${d.issue}: ${d.breaks}. Fixed in ${fixed}: pin mesh.istio.version ` +
            `${pin}${d.scope === "istioctl" ? " and use that istioctl" : ""}. Source: ${d.sources.join("; ")}`
        );
    });
}

/** Why a pinned version is not supported, or undefined when it is (a pre-release counts as its release). */
export function unsupportedIstio(version: string): string | undefined {
    const minors: readonly string[] = SUPPORTED_ISTIO.minors;
    if (minors.includes(minorOf(version))) return undefined;
    return (
        `Istio ${version} is not supported: this program installs ${minors.map((m) => `${m}.x`).join(" and ")} (the values and ` +
        `objects it writes were checked against those minors' charts, components/data/istio/); use a supported release ` +
        `such as "${newestWithoutDefects() ?? minors[minors.length - 1]}" (docs/upgrades.md)`
    );
}

// ---- Where Istio's artifacts come from ----

/**
 * Istio's Helm chart repository (https://istio.io/latest/docs/setup/install/helm/; Istio 1.31's
 * upgrade notes, "GCP infrastructure": charts are published here and as OCI artifacts).
 */
export const ISTIO_REPOSITORY = "https://blob.istio.io/istio-release/charts";
/** The same charts as OCI artifacts: `oci://ghcr.io/istio/release/charts/<chart>`. */
export const ISTIO_OCI_REPOSITORY = "oci://ghcr.io/istio/release/charts";
/** Where Istio publishes its release images (`<hub>/pilot:<version>`, `<hub>/proxyv2:<version>`). */
export const ISTIO_HUB = "docker.io/istio";

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
    /** A pod annotation that names the proxy image outright (files/gateway-injection-template.yaml). */
    proxyImageAnnotation: "sidecar.istio.io/proxyImage",
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
