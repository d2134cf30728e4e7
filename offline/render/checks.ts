// Checks on the objects `helm template` rendered for one cluster (and the objects the program applies
// itself, out/<stack>/<cluster>/objects.yaml): what each cluster must get for the mesh to work, as
// Istio's multicluster install guides (https://istio.io/latest/docs/setup/install/multicluster/) and
// the charts of every supported minor define it (rendered with 1.30.3's and 1.31.0-rc.0's). Every finding
// names the cluster, the release, the object and the field.
import * as YAML from "yaml";
import {
    CHARTS,
    EASTWEST_NAME,
    EASTWEST_SELECTOR,
    injectionPath,
    ISTIO_NAMESPACE,
    NETWORK_LABEL,
    NETWORKING_API,
    PORTS,
    RENDERED,
} from "../../components/istio";
import { DEFAULT_REVISION, istiodName } from "../../components/upgrade";

export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [field: string]: unknown;
}

/** The objects of one source: a Helm release, or "objects.yaml" (what the program applies itself). */
export interface ObjectSource {
    release: string;
    /** The chart (base, istiod, gateway), or null for objects.yaml. */
    chart: string | null;
    /** The namespace Helm installs namespaced objects without one into. */
    namespace: string;
    objects: K8sObject[];
}

/** What the mesh model says about one cluster. */
export interface ClusterModel {
    name: string;
    role: "primary" | "remote";
    /** A remote's primary. */
    primary: string | null;
    network: string;
    meshId: string;
    topology: "multi-primary" | "primary-remote";
    /** More than one network in the mesh: every cluster must say which one it is on. */
    multiNetwork: boolean;
    /** A remote's route to its primary's istiod: the primary's east-west gateway address (IP or hostname). */
    primaryAddress?: string;
    /** This cluster's own east-west gateway address, where it has one. */
    ownAddress?: string;
    /**
     * The istiod revision a pass checks ("" or absent: the unrevisioned istiod): its release, Deployment,
     * ConfigMaps and Service are named after it (components/upgrade.ts istiodName); a cluster with two
     * revisions is checked once per revision (offline/render/revisionChecks.ts).
     */
    revision?: string;
}

export interface Finding {
    cluster: string;
    release: string;
    /** Kind/name of the object (or of the one that is missing). */
    object: string;
    field: string;
    message: string;
}

export function formatFinding(f: Finding): string {
    return `cluster ${f.cluster}, release ${f.release}, ${f.object}, ${f.field}: ${f.message}`;
}

/** The chart's test for an IP address (istiod/templates/remote-istiod-endpointslices.yaml at 1.30.3). */
export function isIpAddress(address: string): boolean {
    return /^([0-9]*\.){3}[0-9]*$/.test(address) || /^([0-9a-fA-F]*:)+[0-9a-fA-F]*$/.test(address);
}

/** Kinds that have no namespace (the API server ignores one; Helm leaves them without). */
const CLUSTER_SCOPED = new Set([
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "PriorityClass",
    "StorageClass",
    "IngressClass",
    "GatewayClass",
    "PersistentVolume",
    "APIService",
]);

function groupOf(apiVersion: string): string {
    return apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
}

type Container = { name: string; env?: { name: string; value?: string }[] };
type PodTemplate = { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Container[] } };
type WebhookClientConfig = { url?: string; service?: { name?: string; namespace?: string; path?: string; port?: number } };
type Webhook = { name: string; clientConfig?: WebhookClientConfig };

function envOf(c: Container | undefined, name: string): string | undefined {
    return c?.env?.find((e) => e.name === name)?.value;
}

function subsetOf(sel: Record<string, string>, labels: Record<string, string>): string[] {
    return Object.entries(sel)
        .filter(([k, v]) => labels[k] !== v)
        .map(([k, v]) => `${k}=${v}`);
}

/** Every check on one cluster's rendered and planned objects. */
/** What each part of checkCluster reads: the cluster's model, its rendered objects, the names of one revision's objects. */
interface ClusterCheck {
    model: ClusterModel;
    add: (release: string, object: string, field: string, message: string) => void;
    inRelease: (release: string) => ObjectSource | undefined;
    find: (release: string, kind: string, name: string) => K8sObject | undefined;
    all: { source: ObjectSource; o: K8sObject }[];
    istiodRelease: string;
    istiodDeployment: string;
    meshConfigMap: string;
    injectorConfigMap: string;
    istiodService: string;
    baseRelease: string;
    gatewayRelease: string;
    planned: ObjectSource | undefined;
    plannedName: string;
}

/**
 * The findings of one cluster's render (one revision per pass): names that collide, the namespace's
 * network, istiod on a primary or the path to its primary on a remote, and the east-west gateway.
 */
export function checkCluster(model: ClusterModel, sources: ObjectSource[]): Finding[] {
    const findings: Finding[] = [];
    const add = (release: string, object: string, field: string, message: string) =>
        findings.push({ cluster: model.name, release, object, field, message });
    const inRelease = (release: string) => sources.find((s) => s.release === release);
    const find = (release: string, kind: string, name: string) =>
        inRelease(release)?.objects.find((o) => o.kind === kind && o.metadata?.name === name);
    const all = sources.flatMap((s) => s.objects.map((o) => ({ source: s, o })));
    // One revision per pass: the names its release renders (the unrevisioned ones when "").
    const rev = model.revision ?? "";
    const planned = sources.find((s) => s.chart === null);
    const ctx: ClusterCheck = {
        model,
        add,
        inRelease,
        find,
        all,
        istiodRelease: rev === "" ? CHARTS.istiod.release : istiodName(rev),
        istiodDeployment: rev === "" ? RENDERED.istiodDeployment : istiodName(rev),
        meshConfigMap: rev === "" ? RENDERED.meshConfigMap : `${RENDERED.meshConfigMap}-${rev}`,
        injectorConfigMap: rev === "" ? RENDERED.injectorConfigMap : `${RENDERED.injectorConfigMap}-${rev}`,
        istiodService: istiodName(rev),
        baseRelease: CHARTS.base.release,
        gatewayRelease: CHARTS.gateway.release,
        planned,
        plannedName: planned?.release ?? "objects.yaml",
    };
    checkNameCollisions(ctx);
    checkNamespaceNetwork(ctx);
    if (model.role === "primary") checkIstiod(ctx);
    else checkRemotePath(ctx);
    checkEastWestGateway(ctx);
    return findings;
}

/** No object name collides within the cluster. */
function checkNameCollisions(ctx: ClusterCheck): void {
    const { add, all } = ctx;
    // ---- no object name collides within the cluster ----
    const seen = new Map<string, string>();
    for (const { source, o } of all) {
        const ns = CLUSTER_SCOPED.has(o.kind) ? "" : (o.metadata?.namespace ?? source.namespace);
        const key = `${groupOf(o.apiVersion)}/${o.kind}/${ns}/${o.metadata?.name}`;
        const first = seen.get(key);
        const id = `${o.kind}/${o.metadata?.name}`;
        if (first !== undefined)
            add(
                source.release,
                id,
                "metadata.name",
                `also rendered by ${first}${ns ? ` in namespace ${ns}` : ""}: one would overwrite the other`,
            );
        else seen.set(key, source.release);
    }
}

/** The namespace says which network the cluster is on. */
function checkNamespaceNetwork(ctx: ClusterCheck): void {
    const { model, add, planned, plannedName } = ctx;
    // ---- the namespace says which network the cluster is on ----
    if (model.multiNetwork) {
        const ns = planned?.objects.find((o) => o.kind === "Namespace" && o.metadata?.name === ISTIO_NAMESPACE);
        const got = ns?.metadata?.labels?.[NETWORK_LABEL];
        if (!ns) add(plannedName, `Namespace/${ISTIO_NAMESPACE}`, "(object)", "missing: the program must create the Istio namespace");
        else if (got !== model.network)
            add(
                plannedName,
                `Namespace/${ISTIO_NAMESPACE}`,
                `metadata.labels["${NETWORK_LABEL}"]`,
                `is ${JSON.stringify(got)}, expected "${model.network}" (multi-network mesh)`,
            );
    }
}

/** A primary's istiod: cluster ID, external istiod, its own hostname, mesh ID, the injector's network. */
function checkIstiod(ctx: ClusterCheck): void {
    const { model, add, find, istiodRelease, istiodDeployment, meshConfigMap, injectorConfigMap } = ctx;
    const deploymentId = `Deployment/${istiodDeployment}`;
    // ---- istiod: cluster ID, external istiod, mesh ID, network ----
    const dep = find(istiodRelease, "Deployment", istiodDeployment);
    if (!dep) add(istiodRelease, deploymentId, "(object)", "missing: a primary runs istiod");
    else {
        const tpl = (dep.spec as { template?: PodTemplate } | undefined)?.template;
        const c = tpl?.spec?.containers?.find((x) => x.name === "discovery") ?? tpl?.spec?.containers?.[0];
        const clusterId = envOf(c, RENDERED.clusterIdEnv);
        if (clusterId !== model.name)
            add(
                istiodRelease,
                deploymentId,
                `env ${RENDERED.clusterIdEnv}`,
                `is ${JSON.stringify(clusterId)}, expected "${model.name}" (the cluster name)`,
            );
        const external = envOf(c, RENDERED.externalIstiodEnv);
        if (model.topology === "primary-remote" && external !== "true") {
            add(
                istiodRelease,
                deploymentId,
                `env ${RENDERED.externalIstiodEnv}`,
                `is ${JSON.stringify(external)}, expected "true" on a primary of primary-remote (it serves its remotes)`,
            );
        }
        // Remotes that reach this istiod by hostname call it on that name: its certificate must carry it.
        if (model.topology === "primary-remote" && model.ownAddress && !isIpAddress(model.ownAddress)) {
            const hosts = (envOf(c, RENDERED.customHostEnv) ?? "").split(",").map((h) => h.trim());
            if (!hosts.includes(model.ownAddress)) {
                add(
                    istiodRelease,
                    deploymentId,
                    `env ${RENDERED.customHostEnv}`,
                    `is ${JSON.stringify(envOf(c, RENDERED.customHostEnv))}, expected to include ${model.ownAddress} ` +
                        `(remotes reach istiod by that hostname)`,
                );
            }
        }
        if (model.topology !== "primary-remote" && external !== undefined) {
            add(
                istiodRelease,
                deploymentId,
                `env ${RENDERED.externalIstiodEnv}`,
                `is ${JSON.stringify(external)}: only primaries of primary-remote set it`,
            );
        }
    }
    const cmId = `ConfigMap/${meshConfigMap}`;
    const cm = find(istiodRelease, "ConfigMap", meshConfigMap);
    const meshText = (cm?.data as Record<string, string> | undefined)?.[RENDERED.meshConfigKey];
    if (meshText === undefined) add(istiodRelease, cmId, `data.${RENDERED.meshConfigKey}`, "missing: istiod reads the mesh config from it");
    else {
        const mesh = (YAML.parse(meshText) ?? {}) as { defaultConfig?: { meshId?: string } };
        const got = mesh.defaultConfig?.meshId;
        if (got !== model.meshId)
            add(
                istiodRelease,
                cmId,
                `data.${RENDERED.meshConfigKey} defaultConfig.meshId`,
                `is ${JSON.stringify(got)}, expected "${model.meshId}"`,
            );
    }
    const injId = `ConfigMap/${injectorConfigMap}`;
    const inj = find(istiodRelease, "ConfigMap", injectorConfigMap);
    const injText = (inj?.data as Record<string, string> | undefined)?.[RENDERED.injectorValuesKey];
    if (injText === undefined)
        add(istiodRelease, injId, `data.${RENDERED.injectorValuesKey}`, "missing: the sidecar injector reads its values from it");
    else {
        const values = JSON.parse(injText) as { global?: { network?: string; meshID?: string } };
        const net = values.global?.network;
        if (model.multiNetwork ? net !== model.network : net !== undefined && net !== "" && net !== model.network) {
            add(
                istiodRelease,
                injId,
                `data.${RENDERED.injectorValuesKey} global.network`,
                `is ${JSON.stringify(net)}, expected "${model.network}"${model.multiNetwork ? " (multi-network mesh: sidecars must say their network)" : ""}`,
            );
        }
    }
}

/** A remote: no istiod; its istiod Service and webhooks lead to the primary. */
function checkRemotePath(ctx: ClusterCheck): void {
    const { model, add, inRelease, find, all, istiodRelease, istiodService, baseRelease } = ctx;
    // ---- a remote: no istiod; its istiod Service and webhooks lead to the primary ----
    for (const { source, o } of all) {
        if (
            o.kind === "Deployment" &&
            (o.metadata?.name === RENDERED.istiodDeployment || o.metadata?.labels?.app === RENDERED.istiodDeployment)
        ) {
            add(
                source.release,
                `Deployment/${o.metadata.name}`,
                "(object)",
                `a remote runs no istiod: ${model.primary ?? "its primary"} controls it`,
            );
        }
    }
    const address = model.primaryAddress;
    const svcId = `Service/${istiodService}`;
    const svc = find(istiodRelease, "Service", istiodService);
    const spec = (svc?.spec ?? {}) as { type?: string; externalName?: string; selector?: Record<string, string> };
    if (!address)
        add(istiodRelease, svcId, "(model)", `no address for the primary ${model.primary}'s east-west gateway in the plan outputs`);
    else if (!svc) add(istiodRelease, svcId, "(object)", `missing: the remote reaches ${model.primary}'s istiod through it`);
    else if (isIpAddress(address)) {
        if (spec.selector && Object.keys(spec.selector).length > 0)
            add(istiodRelease, svcId, "spec.selector", "must be empty: the endpoints are the primary's address, not local pods");
        if (spec.type === "ExternalName") add(istiodRelease, svcId, "spec.type", `is ExternalName, expected endpoints at ${address}`);
        const slices = all.filter(
            ({ o }) => o.kind === "EndpointSlice" && o.metadata?.labels?.["kubernetes.io/service-name"] === istiodService,
        );
        if (slices.length === 0)
            add(
                istiodRelease,
                `EndpointSlice/${istiodService}`,
                "(object)",
                `missing: the Service ${istiodService} has no endpoints at ${address}`,
            );
        for (const { source, o } of slices) {
            const id = `EndpointSlice/${o.metadata.name}`;
            const eps = (o.endpoints ?? []) as { addresses?: string[] }[];
            const addrs = eps.flatMap((e) => e.addresses ?? []);
            if (addrs.length !== 1 || addrs[0] !== address)
                add(
                    source.release,
                    id,
                    "endpoints[].addresses",
                    `are ${JSON.stringify(addrs)}, expected ["${address}"] (${model.primary}'s east-west gateway)`,
                );
            const ports = ((o.ports ?? []) as { port?: number }[]).map((p) => p.port);
            for (const p of [PORTS.xds, PORTS.webhook])
                if (!ports.includes(p)) add(source.release, id, "ports", `lack ${p}: ${JSON.stringify(ports)}`);
        }
    } else {
        if (spec.type !== "ExternalName" || spec.externalName !== address) {
            add(
                istiodRelease,
                svcId,
                "spec.externalName",
                `is ${JSON.stringify(spec.externalName)} (type ${spec.type ?? "ClusterIP"}), expected ExternalName ${address}`,
            );
        }
    }
    // Every webhook: the istiod chart's injector and validator, and the base chart's default validator.
    const validatorsFrom = new Set<string>();
    const expectedPath = injectionPath(model.name, model.network);
    for (const { source, o } of all) {
        if (o.kind !== "MutatingWebhookConfiguration" && o.kind !== "ValidatingWebhookConfiguration") continue;
        if (o.kind === "ValidatingWebhookConfiguration") validatorsFrom.add(source.release);
        const id = `${o.kind}/${o.metadata.name}`;
        // Each configuration calls the istiod of the revision it is labelled with (a tag's, the default validator's).
        const labelled = o.metadata?.labels?.["istio.io/rev"];
        const wantService = istiodName(labelled === undefined || labelled === DEFAULT_REVISION ? "" : labelled);
        for (const [i, w] of ((o.webhooks ?? []) as Webhook[]).entries()) {
            const field = `webhooks[${i}] (${w.name}) clientConfig`;
            const cc = w.clientConfig ?? {};
            let pathPart: string | undefined;
            if (!address) continue;
            if (isIpAddress(address)) {
                if (cc.url !== undefined) {
                    if (!cc.url.startsWith(`https://${address}:${PORTS.webhook}/`))
                        add(source.release, id, `${field}.url`, `is ${cc.url}, expected https://${address}:${PORTS.webhook}/…`);
                    pathPart = cc.url.replace(/^https:\/\/[^/]+/, "");
                } else if (cc.service?.name !== wantService || cc.service?.namespace !== ISTIO_NAMESPACE) {
                    add(
                        source.release,
                        id,
                        `${field}.service`,
                        `is ${JSON.stringify(cc.service)}, expected ${wantService}.${ISTIO_NAMESPACE} (endpoints at ${address})`,
                    );
                } else pathPart = cc.service.path;
            } else {
                const want = `https://${address}:${PORTS.webhook}/`;
                if (cc.url === undefined) {
                    add(
                        source.release,
                        id,
                        `${field}.url`,
                        `missing (calls service ${JSON.stringify(cc.service)}): the API server cannot call ` +
                            `a webhook through an ExternalName Service; expected ${want}…`,
                    );
                } else if (!cc.url.startsWith(want)) add(source.release, id, `${field}.url`, `is ${cc.url}, expected ${want}…`);
                else pathPart = cc.url.slice(want.length - 1);
            }
            if (o.kind === "MutatingWebhookConfiguration" && pathPart !== undefined && pathPart !== expectedPath) {
                add(
                    source.release,
                    id,
                    `${field} path`,
                    `is ${pathPart}, expected ${expectedPath} (the primary injects with this cluster's ID and network)`,
                );
            }
        }
    }
    for (const release of [istiodRelease, baseRelease]) {
        if (inRelease(release) && !validatorsFrom.has(release))
            add(release, "ValidatingWebhookConfiguration/*", "(object)", "missing: the remote validates Istio config through its primary");
    }
}

/** The east-west gateway: its Service, Deployment, network labels and the Gateways that select it. */
function checkEastWestGateway(ctx: ClusterCheck): void {
    const { model, add, inRelease, find, gatewayRelease, planned, plannedName } = ctx;
    // ---- the east-west gateway ----
    const gw = inRelease(gatewayRelease);
    const istioGateways = (planned?.objects ?? []).filter((o) => o.kind === "Gateway" && groupOf(o.apiVersion) === groupOf(NETWORKING_API));
    if (gw) {
        const svcId = `Service/${EASTWEST_NAME}`;
        // The program makes the gateway's LoadBalancer Service itself, before istiod (objects.yaml), and
        // turns the chart's off (components/meshPlan.ts `eastWestService`); either way exactly one must exist.
        const fromChart = find(gatewayRelease, "Service", EASTWEST_NAME);
        const fromProgram = planned?.objects.find((o) => o.kind === "Service" && o.metadata?.name === EASTWEST_NAME);
        const svc = fromProgram ?? fromChart;
        const svcSource = fromProgram ? plannedName : gatewayRelease;
        const dep = find(gatewayRelease, "Deployment", EASTWEST_NAME);
        const depId = `Deployment/${EASTWEST_NAME}`;
        if (fromChart && fromProgram)
            add(
                gatewayRelease,
                svcId,
                "(object)",
                `collides with the program's own ${svcId} in objects.yaml; set the chart's service.type: None`,
            );
        if (!svc) add(gatewayRelease, svcId, "(object)", "missing");
        else {
            const ports = (((svc.spec as { ports?: { port: number }[] }).ports ?? []) as { port: number }[]).map((p) => p.port);
            for (const p of [PORTS.statusPort, PORTS.crossNetwork, PORTS.xds, PORTS.webhook]) {
                if (!ports.includes(p)) add(svcSource, svcId, "spec.ports", `lack ${p}: ${JSON.stringify(ports)}`);
            }
            const label = svc.metadata.labels?.[NETWORK_LABEL];
            if (label !== model.network)
                add(svcSource, svcId, `metadata.labels["${NETWORK_LABEL}"]`, `is ${JSON.stringify(label)}, expected "${model.network}"`);
        }
        if (!dep) add(gatewayRelease, depId, "(object)", "missing");
        else {
            const tpl = (dep.spec as { template?: PodTemplate }).template;
            const labels = tpl?.metadata?.labels ?? {};
            const label = labels[NETWORK_LABEL];
            if (label !== model.network)
                add(
                    gatewayRelease,
                    depId,
                    `spec.template.metadata.labels["${NETWORK_LABEL}"]`,
                    `is ${JSON.stringify(label)}, expected "${model.network}"`,
                );
            const proxy = tpl?.spec?.containers?.find((c) => c.name === RENDERED.gatewayProxyContainer);
            const view = envOf(proxy, RENDERED.requestedNetworkViewEnv);
            if (view !== model.network)
                add(
                    gatewayRelease,
                    depId,
                    `env ${RENDERED.requestedNetworkViewEnv}`,
                    `is ${JSON.stringify(view)}, expected "${model.network}"`,
                );
            const missingSel = subsetOf(EASTWEST_SELECTOR, labels);
            if (missingSel.length) add(gatewayRelease, depId, "spec.template.metadata.labels", `lack ${missingSel.join(", ")}`);
            const svcSel = ((svc?.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {}) as Record<string, string>;
            const svcMiss = subsetOf(svcSel, labels);
            if (svc && svcMiss.length) add(svcSource, svcId, "spec.selector", `selects ${svcMiss.join(", ")}, which the gateway pods lack`);
            for (const g of istioGateways) {
                const sel = ((g.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {}) as Record<string, string>;
                const miss = subsetOf(sel, labels);
                if (miss.length)
                    add(
                        plannedName,
                        `Gateway/${g.metadata.name}`,
                        "spec.selector",
                        `selects ${miss.join(", ")}, which the east-west gateway pods (${depId}) lack`,
                    );
            }
        }
    } else {
        for (const g of istioGateways)
            add(plannedName, `Gateway/${g.metadata.name}`, "spec.selector", `no east-west gateway is rendered in this cluster to select`);
    }
}

type ImageValues = { global?: { hub?: string; tag?: unknown; variant?: string; proxy?: { image?: string } } };

/** The injector's values (istio-sidecar-injector ConfigMap, key `values`) of a cluster's istiod release, if rendered. */
function injectorValues(sources: ObjectSource[]): ImageValues | undefined {
    const cm = sources
        .find((s) => s.release === CHARTS.istiod.release)
        ?.objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === RENDERED.injectorConfigMap);
    const text = (cm?.data as Record<string, string> | undefined)?.[RENDERED.injectorValuesKey];
    return text === undefined ? undefined : (JSON.parse(text) as ImageValues);
}

/**
 * The image an injected proxy gets from the injector's values: `<global.hub>/<global.proxy.image or
 * proxyv2>:<global.tag>[-<variant>]`, or `global.proxy.image` itself when it holds a "/"
 * (pkg/kube/inject/inject.go `ProxyImage`, files/gateway-injection-template.yaml).
 */
export function injectedProxyImage(values: ImageValues): string {
    const g = values.global ?? {};
    const name = g.proxy?.image && g.proxy.image !== "" ? g.proxy.image : "proxyv2";
    if (name.includes("/")) return name;
    return `${g.hub ?? ""}/${name}:${String(g.tag ?? "")}${g.variant ? `-${g.variant}` : ""}`;
}

/**
 * Every istiod and east-west gateway Deployment runs an image under the configured hub at the
 * pinned version. The gateway chart's pods say `image: auto` (manifests/charts/gateway/templates/
 * deployment.yaml): the injector that admits them fills the image from its values, and a remote's
 * pods are injected by its primary's istiod, so their image is resolved through that cluster's
 * istio-sidecar-injector values. Returns the findings and each Deployment's resolved image.
 */
export function checkImages(
    clusters: { model: ClusterModel; sources: ObjectSource[] }[],
    expected: { hub: string; tag: string },
): { findings: Finding[]; images: Record<string, Record<string, string>> } {
    const findings: Finding[] = [];
    const images: Record<string, Record<string, string>> = {};
    const underHub = (image: string) =>
        image.startsWith(`${expected.hub}/`) &&
        new RegExp(`:${expected.tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(-[a-z]+)?$`).test(image);
    const want = `${expected.hub}/…:${expected.tag}`;
    const injectors = new Map(clusters.map((c) => [c.model.name, injectorValues(c.sources)]));
    for (const { model, sources } of clusters) {
        const add = (release: string, object: string, field: string, message: string) =>
            findings.push({ cluster: model.name, release, object, field, message });
        const mine: Record<string, string> = {};
        const injector = injectors.get(model.name);
        if (injector) {
            const g = injector.global ?? {};
            if (g.hub !== expected.hub || String(g.tag ?? "") !== expected.tag) {
                add(
                    CHARTS.istiod.release,
                    `ConfigMap/${RENDERED.injectorConfigMap}`,
                    `data.${RENDERED.injectorValuesKey} global.hub, global.tag`,
                    `are ${JSON.stringify(g.hub)}, ${JSON.stringify(g.tag)}; expected "${expected.hub}", "${expected.tag}" (every injected proxy's image)`,
                );
            }
        }
        const dep = sources
            .find((s) => s.release === CHARTS.istiod.release)
            ?.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === RENDERED.istiodDeployment);
        if (dep) {
            const containers = ((dep.spec as { template?: { spec?: { containers?: { name: string; image?: string }[] } } }).template?.spec
                ?.containers ?? []) as { name: string; image?: string }[];
            for (const c of containers) {
                const image = c.image ?? "";
                mine[`Deployment/${dep.metadata.name}`] = image;
                if (!underHub(image))
                    add(
                        CHARTS.istiod.release,
                        `Deployment/${dep.metadata.name}`,
                        `containers[${c.name}].image`,
                        `is ${JSON.stringify(image)}, expected ${want}`,
                    );
            }
        }
        const gw = sources
            .find((s) => s.release === CHARTS.gateway.release)
            ?.objects.find((o) => o.kind === "Deployment" && o.metadata?.name === EASTWEST_NAME);
        if (gw) {
            const id = `Deployment/${EASTWEST_NAME}`;
            const tpl = (
                gw.spec as {
                    template?: {
                        metadata?: { annotations?: Record<string, string> };
                        spec?: { containers?: { name: string; image?: string }[] };
                    };
                }
            ).template;
            const proxy = tpl?.spec?.containers?.find((c) => c.name === RENDERED.gatewayProxyContainer);
            let image = proxy?.image ?? "";
            if (image === "auto") {
                // The injecting cluster: a remote's primary, else the cluster itself.
                const by = model.role === "remote" && model.primary ? model.primary : model.name;
                const values = injectors.get(by);
                const annotated = tpl?.metadata?.annotations?.[RENDERED.proxyImageAnnotation];
                if (annotated && annotated.includes("/")) image = annotated;
                else if (values) image = injectedProxyImage(values);
                else {
                    add(
                        CHARTS.gateway.release,
                        id,
                        `containers[${RENDERED.gatewayProxyContainer}].image`,
                        `is auto, and no injector values of ${by} were rendered to resolve it`,
                    );
                    continue;
                }
                mine[id] = `auto → ${image} (injected by ${by})`;
            } else mine[id] = image;
            if (!underHub(image))
                add(
                    CHARTS.gateway.release,
                    id,
                    `containers[${RENDERED.gatewayProxyContainer}].image`,
                    `resolves to ${JSON.stringify(image)}, expected ${want}`,
                );
        }
        images[model.name] = mine;
    }
    return { findings, images };
}
