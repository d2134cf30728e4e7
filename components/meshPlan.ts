// The pure decisions: validated config in, per-cluster plan out (roles, Helm values, gateways,
// Istio objects, remote-secret matrix). Components only map this plan to resources. Every value
// follows docs/istio-notes.md ("Install models", "East-west gateway") for Istio 1.30 and 1.31 (the
// charts of both take the same values: test/plan.test.ts checks them against each minor's chart keys).
import * as net from "node:net";
import {
    CONTROL_PLANE_ANNOTATION,
    EASTWEST_NAME,
    EASTWEST_SELECTOR,
    ISTIO_NAMESPACE,
    ISTIO_OBJECTS,
    ISTIOD_FQDN,
    NETWORK_LABEL,
    injectionPath,
    MULTIROOT_ENV,
    PORTS,
    PROXY_XDS_AGENT_METADATA,
    remoteSecretPairs,
} from "./istio";
import { placeGateways } from "./gatewayPlacement";
import { chartSource, type ChartSource, imageValues } from "./istioSource";
import { trustPhase, type MeshConfig } from "./meshConfig";
import { PHASES } from "./rotation";
import { type ChartAt, type ClusterRevisions, clusterRevisions, type RevisionRecord, revisionRecord } from "./upgrade";
import { platformOf } from "./platforms/registry";
import { compileTraffic, TrafficPlan } from "./traffic/compile";
import { clusterRegion } from "./traffic/validate";

export { ISTIO_NAMESPACE };

export type Values = Record<string, unknown>;

export interface GatewayPlan {
    /** Values for the `gateway` chart, release `istio-eastwestgateway`. Must pass its values.schema.json. */
    values: Values;
    /**
     * The gateway's LoadBalancer Service, created by this program before istiod (the chart's own is
     * off, `service.type: None`): its address must be known when the primary's istiod is
     * configured (ISTIOD_CUSTOM_HOST) and when a remote's charts are.
     */
    service: { metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> }; spec: Values };
}

export interface ClusterPlan {
    name: string;
    network: string;
    role: "primary" | "remote";
    /** For a remote: the primary whose istiod controls it. */
    primary?: string;
    platform: string;
    region?: string;
    zone?: string;
    /** Labels and annotations of the `istio-system` Namespace (created by this program in every cluster). */
    namespace: { labels: Record<string, string>; annotations: Record<string, string> };
    /** True where istiod runs and so needs a `cacerts` Secret from the shared root. */
    runsIstiod: boolean;
    /** `base` chart values (a remote's depend on the primary's gateway address: see `remoteValues`). */
    baseValues: Values;
    /** `istiod` chart values for a primary; a remote's come from `remoteValues` once its primary's address is known. */
    istiodValues: Values;
    eastWestGateway?: GatewayPlan;
    /** Why this cluster has an east-west gateway or not (components/gatewayPlacement.ts), for the plan output. */
    eastWestGatewayWhy: string;
    /** This cluster's own `istio.values`, merged after the mesh's into its istiod release (primary or remote). */
    istioValues: Values;
    /** Create `cross-network-gateway` (15443 AUTO_PASSTHROUGH) here. */
    crossNetworkGateway: boolean;
    /** Create `istiod-gateway` + `istiod-vs` here so remotes reach this istiod. */
    exposeIstiod: boolean;
    /** Clusters whose remote secrets this cluster receives. */
    readsFrom: string[];
    /** Clusters that read this cluster's API server (one reader token each). */
    readBy: string[];
    /** The istiod release of each revision, the tags, base, gateway and expose routes in the upgrade's phase (components/upgrade.ts). */
    revisions: ClusterRevisions;
}

export interface MeshPlan {
    meshId: string;
    topology: "multi-primary" | "primary-remote";
    multiNetwork: boolean;
    networks: string[];
    /**
     * The Istio version, where its charts come from (components/istioSource.ts `chartSource`) and
     * where its images come from (`hub`, `imagePullSecrets`: written into every release).
     */
    chart: { version: string; repository: string; source: ChartSource; hub: string; imagePullSecrets: string[] };
    /** The user's `istio.values`, merged last into every istiod release. */
    extraIstiodValues: Values;
    clusters: ClusterPlan[];
    /** Every remote secret: `source`'s reader token, written into `target`'s istio-system. */
    remoteSecrets: { source: string; target: string }[];
    /** The traffic block compiled (components/traffic/compile.ts): objects for every config cluster, namespaces, istiod values. */
    traffic: TrafficPlan;
    /** The running revision and any upgrade in progress, and where each version's charts come from (components/upgrade.ts). */
    revisions: { record: RevisionRecord; sources: Record<ChartAt["from"], ChartSource> };
}

/**
 * Root rotation, from its prepare phase on (components/rotation.ts): istiod trusts every root in
 * root-cert.pem and pushes the bundle to proxies, which take it over xDS only with the proxy metadata
 * (set at injection, so injected pods restart to carry it). A remote's pods are injected by its
 * primary, so the primary's meshConfig covers them.
 */
export function rotationIstiodValues(mesh: Pick<MeshConfig, "trust">): Values {
    if (!mesh.trust || !PHASES[trustPhase(mesh.trust)].multiRoot) return {};
    return { env: { [MULTIROOT_ENV]: "true" }, meshConfig: { defaultConfig: { proxyMetadata: { [PROXY_XDS_AGENT_METADATA]: "true" } } } };
}

export function isIpAddress(address: string): boolean {
    return net.isIP(address) !== 0;
}

/** Deep merge for Helm values: objects merge key by key, anything else (arrays too) is replaced. */
export function deepMerge(base: Values, over: Values): Values {
    const out: Values = { ...base };
    for (const [k, v] of Object.entries(over)) {
        const cur = out[k];
        out[k] = isPlainObject(cur) && isPlainObject(v) ? deepMerge(cur, v) : v;
    }
    return out;
}

/** A plain object (an Output, e.g. a secret value from stack config, is a leaf: it is never merged into). */
function isPlainObject(v: unknown): v is Values {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

export function planMesh(mesh: MeshConfig): MeshPlan {
    const networks = [...new Set(mesh.clusters.map((c) => c.network))].sort();
    const multiNetwork = networks.length > 1;
    const pairs = remoteSecretPairs(mesh.clusters);
    const primaryOf = (name: string): string | undefined => {
        const c = mesh.clusters.find((x) => x.name === name)!;
        if (c.role !== "remote") return undefined;
        return c.primary ?? mesh.clusters.find((x) => x.role === "primary")!.name;
    };
    const primaryRemote = mesh.topology === "primary-remote";
    // Explicit image settings in every release (no install depends on a hub a chart's defaults name).
    const images = imageValues(mesh.istio);
    // Validation has filled in every network and refused the `enabled: false` that leave one unserved.
    const { placements } = placeGateways(mesh.clusters, mesh.topology, "");
    const traffic = compileTraffic(
        mesh.traffic,
        mesh.clusters.map((c) => ({ name: c.name, role: c.role, region: clusterRegion(c) })),
    );

    const clusters = mesh.clusters.map((c, index): ClusterPlan => {
        const role = c.role;
        const primary = primaryOf(c.name);
        const labels: Record<string, string> = {};
        const annotations: Record<string, string> = {};
        // The system namespace label is the network fallback for un-injected endpoints.
        if (multiNetwork) labels[NETWORK_LABEL] = c.network;
        // checkShouldLead (pilot/pkg/serviceregistry/kube/controller/multicluster.go at 1.30.3) reads this annotation once, when the remote is added, so it
        // must be on the namespace before the primary receives the remote secret.
        if (role === "remote") annotations[CONTROL_PLANE_ANNOTATION] = primary!;

        const istiodValues: Values =
            role === "primary"
                ? deepMerge(
                      {
                          ...images.istiod,
                          global: {
                              ...(images.istiod.global as Values),
                              meshID: mesh.meshId,
                              multiCluster: { clusterName: c.name },
                              network: c.network,
                              // A primary that controls remotes leads them (EXTERNAL_ISTIOD).
                              ...(primaryRemote ? { externalIstiod: true } : {}),
                          },
                          ...rotationIstiodValues(mesh),
                      },
                      // The traffic block's mesh config (DNS proxying, cluster-local hosts), under the user's values.
                      deepMerge(traffic.istiodValues, deepMerge(mesh.istio.values, c.istio?.values ?? {})),
                  )
                : {};
        // Gateways: where a network or istiod needs one, or the user asks (components/gatewayPlacement.ts).
        const needsGateway = placements[index].gateway;
        const platformAnnotations = platformOf(c.platform)?.gatewayServiceAnnotations;
        const eastWestGateway = needsGateway
            ? {
                  values: { ...gatewayValues(c.network), ...images.gateway },
                  service: eastWestService(c.network, c.eastWestGateway, platformAnnotations),
              }
            : undefined;
        return {
            name: c.name,
            network: c.network,
            role,
            primary,
            platform: c.platform,
            region: c.region,
            zone: c.zone,
            namespace: { labels, annotations },
            runsIstiod: role === "primary",
            baseValues: role === "remote" ? { profile: "remote", ...images.base } : images.base,
            istiodValues,
            eastWestGateway,
            eastWestGatewayWhy: placements[index].why,
            istioValues: c.istio?.values ?? {},
            // A remote has no config of its own; the primary's Gateway CR configures both gateways.
            crossNetworkGateway: multiNetwork && role === "primary",
            exposeIstiod: primaryRemote && role === "primary",
            readsFrom: pairs.filter((p) => p.target === c.name).map((p) => p.source),
            readBy: pairs.filter((p) => p.source === c.name).map((p) => p.target),
            revisions: clusterRevisions(mesh.istio, { name: c.name, exposeIstiod: primaryRemote && role === "primary" }),
        };
    });
    const currentSource = chartSource(mesh.istio.repository) as ChartSource;
    return {
        meshId: mesh.meshId,
        topology: mesh.topology,
        multiNetwork,
        networks,
        chart: {
            version: mesh.istio.version,
            repository: mesh.istio.repository,
            // Validation has refused a repository that names no source.
            source: chartSource(mesh.istio.repository) as ChartSource,
            hub: mesh.istio.hub,
            imagePullSecrets: [...mesh.istio.imagePullSecrets],
        },
        extraIstiodValues: mesh.istio.values,
        clusters,
        remoteSecrets: pairs,
        traffic,
        revisions: {
            record: revisionRecord(mesh.istio),
            sources: {
                current: currentSource,
                // Validation has refused an upgrade repository that names no source.
                upgrade: mesh.istio.upgrade?.repository ? (chartSource(mesh.istio.upgrade.repository) as ChartSource) : currentSource,
            },
        },
    };
}

/**
 * The east-west gateway is the `gateway` chart with `networkGateway` set
 * (https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/). `name`
 * fixes the selector labels (app: istio-eastwestgateway, istio: eastwestgateway) that the Service
 * and the Istio Gateway objects select on; networkGateway adds ISTIO_META_REQUESTED_NETWORK_VIEW
 * to the pods. The chart's Service is off (`service.type: None`, manifests/charts/gateway/
 * templates/service.yaml at 1.30.3): `eastWestService` is the same Service, made first.
 */
export function gatewayValues(network: string): Values {
    return { name: EASTWEST_NAME, networkGateway: network, service: { type: "None" } };
}

/**
 * The LoadBalancer Service the gateway chart would render for a network gateway, port for port
 * (`gateway.networkGatewayPort` in manifests/charts/gateway/templates/_helpers.tpl at 1.30.3),
 * with the network label istiod finds network gateways by.
 */
export function eastWestService(
    network: string,
    gw: { serviceAnnotations: Record<string, string>; loadBalancerIP: string },
    /** The platform's load-balancer defaults (components/platforms/<name>/), under the user's own annotations. */
    platformAnnotations: Record<string, string> = {},
): GatewayPlan["service"] {
    const port = (name: string, number: number) => ({ name, port: number, targetPort: number, protocol: "TCP" });
    return {
        metadata: {
            name: EASTWEST_NAME,
            labels: { app: EASTWEST_NAME, ...EASTWEST_SELECTOR, [NETWORK_LABEL]: network },
            annotations: { ...platformAnnotations, ...gw.serviceAnnotations },
        },
        spec: {
            type: "LoadBalancer",
            ...(gw.loadBalancerIP !== "" ? { loadBalancerIP: gw.loadBalancerIP } : {}),
            selector: { app: EASTWEST_NAME, ...EASTWEST_SELECTOR },
            ports: [
                port("status-port", PORTS.statusPort),
                port("tls", PORTS.crossNetwork),
                port("tls-istiod", PORTS.xds),
                port("tls-webhook", PORTS.webhook),
            ],
        },
    };
}

/**
 * A primary's istiod values once its gateway address is known: when remotes reach it by hostname,
 * they call its webhooks on `https://<host>:15017`, so istiod's serving certificate must name that
 * host; istiod adds ISTIOD_CUSTOM_HOST to its DNS names (`getDNSNames`, pilot/pkg/bootstrap/server.go
 * at 1.30.3), as the external control plane guide sets it
 * (https://istio.io/latest/docs/setup/install/external-controlplane/).
 */
export function primaryIstiodValues(cluster: ClusterPlan, gatewayAddress: string | undefined): Values {
    if (!cluster.exposeIstiod || gatewayAddress === undefined || isIpAddress(gatewayAddress)) return cluster.istiodValues;
    return deepMerge(cluster.istiodValues, { env: { ISTIOD_CUSTOM_HOST: gatewayAddress } });
}

/**
 * The values of a remote cluster's `base` and `istiod` charts, which depend on where its primary's
 * istiod is reachable (https://istio.io/latest/docs/setup/install/multicluster/primary-remote/).
 * An IP gets `remotePilotAddress` (a selectorless `istiod` Service plus EndpointSlice, with the
 * 443 → 15017 webhook mapping). A hostname makes the chart render an ExternalName Service, which
 * maps no ports, so every webhook must call the gateway directly on 15017: injection through
 * `istiodRemote.injectionURL`, and validation through `base.validationURL`, which both the base
 * chart's and the istiod chart's ValidatingWebhookConfiguration read
 * (manifests/charts/istio-control/istio-discovery/templates/validatingwebhookconfiguration.yaml and
 * manifests/charts/base/templates/defaultrevision-validatingwebhookconfiguration.yaml at 1.30.3).
 *
 * No istiod runs in a remote, so nothing patches its validating webhooks (istiod's webhook
 * controller manages only its own cluster's); the chart leaves `failurePolicy` unset on an
 * upgrade, and the API server's default is Fail. `base.validationCABundle` (the mesh's root, which
 * istiod's serving certificate chains to) pins both webhooks to a CA the API server can verify.
 */
export function remoteValues(
    plan: MeshPlan,
    cluster: ClusterPlan,
    primaryAddress: string,
    rootCertPem: string,
): { base: Values; istiod: Values } {
    if (cluster.role !== "remote") throw new Error(`remoteValues: ${cluster.name} is not a remote`);
    const injectPath = injectionPath(cluster.name, cluster.network);
    const byHostname = !isIpAddress(primaryAddress);
    const validation: Values = {
        ...(byHostname ? { validationURL: `https://${primaryAddress}:${PORTS.webhook}/validate` } : {}),
        validationCABundle: Buffer.from(rootCertPem, "utf8").toString("base64"),
    };
    // clusterName and network render nothing in a remote profile: the injected pods' cluster and
    // network come from the injection path.
    const images = imageValues({ version: plan.chart.version, hub: plan.chart.hub, imagePullSecrets: plan.chart.imagePullSecrets });
    const istiod: Values = deepMerge(
        {
            profile: "remote",
            ...images.istiod,
            global: {
                ...(images.istiod.global as Values),
                multiCluster: { clusterName: cluster.name },
                ...(plan.multiNetwork ? { network: cluster.network } : {}),
                configCluster: true,
                remotePilotAddress: primaryAddress,
            },
            istiodRemote: byHostname
                ? { injectionURL: `https://${primaryAddress}:${PORTS.webhook}${injectPath}` }
                : { injectionPath: injectPath },
            base: validation,
        },
        deepMerge(plan.extraIstiodValues, cluster.istioValues),
    );
    const base: Values = deepMerge({ profile: "remote", base: validation }, images.base);
    return { base, istiod };
}

/** samples/multicluster/expose-services.yaml: route any `*.local` SNI through the gateway's 15443 port. */
export function crossNetworkGatewaySpec(): Values {
    return {
        selector: { ...EASTWEST_SELECTOR },
        servers: [
            { port: { number: PORTS.crossNetwork, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] },
        ],
    };
}

/** samples/multicluster/expose-istiod.yaml: pass xDS (15012) and the webhooks (15017) through to istiod. */
export function istiodGatewaySpec(): Values {
    return {
        selector: { ...EASTWEST_SELECTOR },
        servers: [
            { port: { name: "tls-istiod", number: PORTS.xds, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
            { port: { name: "tls-istiodwebhook", number: PORTS.webhook, protocol: "tls" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] },
        ],
    };
}

export function istiodVirtualServiceSpec(istiod: string = ISTIOD_FQDN): Values {
    return {
        hosts: ["*"],
        gateways: [ISTIO_OBJECTS.istiodGateway],
        tls: [
            { match: [{ port: PORTS.xds, sniHosts: ["*"] }], route: [{ destination: { host: istiod, port: { number: PORTS.xds } } }] },
            {
                match: [{ port: PORTS.webhook, sniHosts: ["*"] }],
                route: [{ destination: { host: istiod, port: { number: PORTS.webhookService } } }],
            },
        ],
    };
}
