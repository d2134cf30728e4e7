// A simulated cloud behind Pulumi's mock runtime. The real program runs unchanged; registrations are
// answered the way the providers and the clusters would answer them:
//   - @pulumi/tls resources are real keys and certificates built from the inputs (tlsSim.ts);
//   - a service-account-token Secret gets `token` and `ca.crt`, as the token controller fills them;
//   - a Helm Release reports its status (name, namespace) like helm.v3.Release;
//   - reading a LoadBalancer Service returns the address the cluster's load balancer assigns.
// Every registration is recorded with what the engine would see: inputs, provider, parent,
// dependencies (from dependsOn and from inputs), protect, and which inputs were sent as secrets.
import { describeReleaseChart } from "../components/istioSource";
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_NAMESPACE } from "../components/istio";
import { parseClusterIdentifier } from "../components/platforms/clusterIdentifier";
import { PLATFORMS, platformOf } from "../components/platforms/registry";
import { TYPES } from "../components/pulumiTypes";
import type { SimulatorContext } from "../components/platforms/types";
import { readyForRenewal, simulateTls } from "./tlsSim";

/** Pulumi's wire marker for secret values (sdk/nodejs/runtime/rpc.ts). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Registration {
    type: string;
    name: string;
    urn: string;
    inputs: Record<string, any>;
    /** The provider reference, `<provider urn>::<id>`, or "" for none. */
    provider: string;
    /** Name of the provider resource (e.g. "east-k8s"), or "" when none is set. */
    providerName: string;
    /** The mesh cluster a Kubernetes resource goes to, from its provider's clusterIdentifier; "" for others. */
    cluster: string;
    parent: string;
    custom: boolean;
    /** True for `Resource.get` reads. */
    read: boolean;
    id?: string;
    /** URNs this resource depends on: explicit dependsOn plus every resource an input came from. */
    dependencies: string[];
    protect: boolean;
    /** Dotted input paths sent to the engine as secrets. */
    secretPaths: string[];
    /** Outputs the program asked the engine to keep secret (`additionalSecretOutputs`). */
    additionalSecretOutputs: string[];
    /** The `ignoreChanges` resource option: property paths the engine does not diff. */
    ignoreChanges?: string[];
    /** The `deleteBeforeReplace` resource option (false when unset). */
    deleteBeforeReplace?: boolean;
    /** The `replaceOnChanges` resource option: property paths whose change replaces the resource. */
    replaceOnChanges?: string[];
    /** The `aliases` option: alias URNs, or alias specs as JSON ({name, type, parentUrn, noParent, …}). */
    aliases?: string[];
    state: Record<string, any>;
    /**
     * What answered it: "engine" (providers, stack references), "tls", "kubernetes" (the API server and
     * Helm), "command" (pulumi-command running a platform's command), "platform:<name>" (its cloud's
     * answers), or "none" when nothing knew the type (the registry test refuses that).
     */
    answeredBy: string;
    /** When the engine asked for the resource, and when it was answered (performance.now(), ms). */
    startedAt: number;
    finishedAt: number;
}

export interface SimulatorOptions {
    /** Load balancers that hand out hostnames (as AWS does), by cluster provider name prefix. */
    hostnameClusters?: string[];
    /** Fixed gateway addresses by cluster name; others get 203.0.113.x (TEST-NET-3, RFC 5737). */
    gatewayAddresses?: Record<string, string>;
    /** Clusters whose load balancer never assigns an address (address stays pending). */
    pendingClusters?: string[];
    /** Resource types whose creation fails, to test error paths. */
    failTypes?: string[];
    /** Fault injection: intermediates are signed by an impostor root with the same subject. */
    tamperIntermediates?: boolean;
    /**
     * Simulated provisioning time of a resource in ms (e.g. a cluster takes minutes, scaled down).
     * The program's own dependency waiting then decides when each resource starts (benchmarks).
     */
    latencyMs?: (r: { type: string; name: string; inputs: Record<string, any>; read: boolean }) => number;
    /** Answer tls resources with canned PEM text instead of real keys (benchmarks measure the program, not crypto). */
    cannedTls?: boolean;
    /**
     * The tls resources of an earlier run, by resource name (from `tlsStateOf`), as a stack's state
     * holds them: a resource with the same inputs keeps its state, as refresh and plan would, unless it
     * is a certificate ready for renewal at `now` (then it is issued again, as the provider replaces it).
     */
    priorTls?: Record<string, { inputs: Record<string, any>; id: string; state: Record<string, any> }>;
    /** The clock of the simulated deploy (tls validity and renewal); default the real time. */
    now?: Date;
    /**
     * What the stack's previous run exported, as a StackReference to the stack itself reads it (the
     * program compares provider identities with it: components/platforms/identity.ts). Default: none,
     * a stack never deployed.
     */
    previousOutputs?: Record<string, unknown>;
}

function secretPaths(v: any, prefix: string, out: string[]): void {
    if (v && typeof v === "object") {
        if (!Array.isArray(v) && v[SIG_KEY] === SECRET_SIG) {
            out.push(prefix || "(root)");
            return;
        }
        for (const [k, x] of Object.entries(v)) secretPaths(x, prefix ? `${prefix}.${k}` : k, out);
    }
}

/** The mock runtime hands secret inputs over wrapped in the wire marker; providers see plain values. */
export function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        if (v[SIG_KEY] === SECRET_SIG) return unwrapSecrets(v.value);
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** Who answers a type the simulator itself knows (a platform's cloud types are answered by the platform). */
function answererOf(type: string): string {
    if (type.startsWith("pulumi:")) return "engine";
    if (type.startsWith("tls:")) return "tls";
    if (type.startsWith("kubernetes:")) return "kubernetes";
    if (type === TYPES.command) return "command";
    return "none";
}

function providerNameOf(ref: string): string {
    if (!ref) return "";
    const urn = ref.split("::").slice(0, -1).join("::");
    return urn.split("::").pop() ?? "";
}

/**
 * Canned tls outputs for runs that measure the program rather than crypto: one real root and one
 * real intermediate, made once per process and handed to every resource of the same kind, so the
 * program's own bundle checks still pass.
 */
let canned: Promise<{ rootKey: string; rootCert: string; key: string; cert: string; csr: string }> | undefined;
function cannedChain() {
    canned ??= (async () => {
        const rootKey = (await simulateTls(TYPES.privateKey, "canned-root-key", {
            algorithm: "ECDSA",
            ecdsaCurve: "P256",
        }))!.state.privateKeyPem as string;
        const rootCert = (await simulateTls(TYPES.selfSignedCert, "canned-root", {
            privateKeyPem: rootKey,
            subject: { organization: "Istio", commonName: "Root CA" },
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing"],
            validityPeriodHours: 87600,
        }))!.state.certPem as string;
        const key = (await simulateTls(TYPES.privateKey, "canned-key", { algorithm: "ECDSA", ecdsaCurve: "P256" }))!.state
            .privateKeyPem as string;
        const csr = (await simulateTls(TYPES.certRequest, "canned-csr", {
            privateKeyPem: key,
            subject: { organization: "Istio", commonName: "Intermediate CA" },
        }))!.state.certRequestPem as string;
        const cert = (await simulateTls(TYPES.locallySignedCert, "canned-cert", {
            certRequestPem: csr,
            caPrivateKeyPem: rootKey,
            caCertPem: rootCert,
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing"],
            validityPeriodHours: 17520,
        }))!.state.certPem as string;
        return { rootKey, rootCert, key, cert, csr };
    })();
    return canned;
}

async function cannedTls(type: string, name: string, inputs: Record<string, any>): Promise<{ id: string; state: Record<string, any> }> {
    const c = await cannedChain();
    switch (type) {
        case TYPES.privateKey:
            return { id: `${name}-id`, state: { ...inputs, privateKeyPem: name.endsWith("-root-key") ? c.rootKey : c.key } };
        case TYPES.certRequest:
            return { id: `${name}-id`, state: { ...inputs, certRequestPem: c.csr } };
        case TYPES.selfSignedCert:
            return { id: `${name}-id`, state: { ...inputs, certPem: c.rootCert, readyForRenewal: false } };
        default:
            return { id: `${name}-id`, state: { ...inputs, certPem: c.cert, readyForRenewal: false } };
    }
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export class Simulator {
    public readonly registrations: Registration[] = [];
    private readonly pending = new Map<
        string,
        Omit<Registration, "state" | "urn" | "inputs" | "id" | "startedAt" | "finishedAt" | "cluster" | "answeredBy">[]
    >();
    private readonly addresses = new Map<string, string>();
    private inFlight = 0;
    private readonly urnKeys = new Set<string>();
    /** Registrations refused because their URN was taken (the engine's "Duplicate resource URN"). */
    public readonly duplicateUrns: string[] = [];

    constructor(private readonly options: SimulatorOptions = {}) {}

    /** Install the mocks and the recording wrapper. Call before importing the program. */
    async install(project: string, stack: string, preview = false): Promise<void> {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => this.newResource(args),
                call: (args) => this.invoke(args),
            },
            project,
            stack,
            preview,
            // What the diy (file) backend calls every stack's organization.
            "organization",
        );
        const monitor = pulumi.runtime.getMonitor() as any;
        for (const method of ["registerResource", "readResource"] as const) {
            const original = monitor[method].bind(monitor);
            monitor[method] = async (req: any, callback: (err: any, res: any) => void) => {
                // The engine refuses a second resource with the same URN (parent, type and name):
                // "Duplicate resource URN" (pkg/resource/deploy/step_generator.go); so does the simulator.
                const urnKey = `${req.getParent?.() ?? ""}$${req.getType()}::${req.getName()}`;
                if (method === "registerResource" && this.urnKeys.has(urnKey)) {
                    const err = new Error(
                        `Duplicate resource URN: a second ${req.getType()} named "${req.getName()}" under ` +
                            `the same parent; give it a unique name`,
                    );
                    this.duplicateUrns.push(err.message);
                    callback(err, undefined);
                    return;
                }
                if (method === "registerResource") this.urnKeys.add(urnKey);
                this.capture(req, method === "readResource");
                this.inFlight++;
                try {
                    return await original(req, (err: any, res: any) => {
                        if (res) this.attachUrn(req.getType(), req.getName(), res.getUrn());
                        callback(err, res);
                    });
                } finally {
                    this.inFlight--;
                }
            };
        }
    }

    /** Data sources the program may call, answered as each platform's cloud would (its `simulator.invoke`); anything else is an error. */
    invoke(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const ctx = this.context(args.provider);
        for (const p of PLATFORMS) {
            const answer = p.simulator.invoke?.(args.token, args.inputs ?? {}, ctx);
            if (answer) return answer;
        }
        throw new Error(`unmocked invoke ${args.token}: the program must not call data sources the simulator does not know`);
    }

    /** What a platform's answers may ask of the simulator, for a resource registered with `providerRef`. */
    private context(providerRef: string | undefined): SimulatorContext {
        return {
            simulatedIp: (key, prefix) => this.simulatedIp(key, prefix),
            providerInputs: () => this.providerInputs(providerRef),
        };
    }

    /**
     * The mesh cluster (and its platform) a Kubernetes provider serves, from the provider's
     * `clusterIdentifier` (components/platforms/provider.ts), never from resource names.
     */
    clusterOfProvider(providerRef: string | undefined): { cluster: string; platform: string } | undefined {
        const inputs = this.providerInputs(providerRef);
        const id = parseClusterIdentifier(inputs?.clusterIdentifier);
        if (id) return { cluster: id.cluster, platform: id.platform };
        // A provider the caller built with an identifier of its own (library use): the cluster is
        // the provider itself, named by its resource name.
        const registered =
            providerRef && this.registrations.some((r) => r.type === TYPES.k8sProvider && r.name === providerNameOf(providerRef));
        return registered ? { cluster: providerNameOf(providerRef), platform: "existing" } : undefined;
    }

    private providerInputs(ref: string | undefined): Record<string, any> | undefined {
        if (!ref) return undefined;
        const name = providerNameOf(ref);
        return this.registrations.find((r) => r.type.startsWith("pulumi:providers:") && r.name === name)?.inputs;
    }

    private capture(req: any, read: boolean): void {
        const raw = (read ? req.getProperties() : req.getObject())?.toJavaScript?.() ?? {};
        const paths: string[] = [];
        secretPaths(raw, "", paths);
        const key = `${req.getType()}::${req.getName()}`;
        const entry = {
            type: req.getType(),
            name: req.getName(),
            provider: req.getProvider() ?? "",
            providerName: providerNameOf(req.getProvider() ?? ""),
            parent: req.getParent() ?? "",
            custom: read ? true : req.getCustom(),
            read,
            dependencies: read ? (req.getDependenciesList?.() ?? []) : req.getDependenciesList(),
            protect: read ? false : !!req.getProtect?.(),
            secretPaths: paths,
            additionalSecretOutputs: read ? [] : (req.getAdditionalsecretoutputsList?.() ?? []),
            deleteBeforeReplace: read ? false : !!req.getDeletebeforereplace?.(),
            ignoreChanges: read ? [] : ((req.getIgnorechangesList?.() as string[] | undefined) ?? []),
            replaceOnChanges: read ? [] : ((req.getReplaceonchangesList?.() as string[] | undefined) ?? []),
            aliases: read
                ? []
                : [
                      ...(req.getAliasurnsList?.() ?? []),
                      ...(req.getAliasesList?.() ?? []).map((a: any) => a.getUrn?.() || JSON.stringify(a.getSpec?.()?.toObject?.() ?? {})),
                  ],
        };
        this.pending.set(key, [...(this.pending.get(key) ?? []), entry]);
    }

    /** Registrations answered but not yet given their URN, by `type::name` (a map: a scan would be quadratic). */
    private readonly awaitingUrn = new Map<string, Registration[]>();

    private attachUrn(type: string, name: string, urn: string): void {
        const r = this.awaitingUrn.get(`${type}::${name}`)?.shift();
        if (r) r.urn = urn;
    }

    private async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
        const key = `${args.type}::${args.name}`;
        const queue = this.pending.get(key) ?? [];
        const meta: Omit<Registration, "state" | "urn" | "inputs" | "id" | "startedAt" | "finishedAt" | "cluster" | "answeredBy"> =
            queue.shift() ?? {
                type: args.type,
                name: args.name,
                provider: args.provider ?? "",
                providerName: providerNameOf(args.provider ?? ""),
                parent: "",
                custom: !!args.custom,
                read: false,
                dependencies: [],
                protect: false,
                secretPaths: [],
                additionalSecretOutputs: [],
            };
        const startedAt = performance.now();
        if (this.options.failTypes?.includes(args.type)) throw new Error(`simulated failure creating ${args.type} ${args.name}`);
        const plain = { ...args, inputs: unwrapSecrets(args.inputs ?? {}) };
        const delay = this.options.latencyMs?.({ type: args.type, name: args.name, inputs: plain.inputs, read: meta.read }) ?? 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        const { id, state, by } = await this.respond(plain, meta.providerName);
        const reg: Registration = {
            ...meta,
            answeredBy: by ?? answererOf(plain.type),
            cluster: this.clusterOfProvider(meta.provider)?.cluster ?? "",
            urn: "",
            inputs: plain.inputs,
            id,
            state,
            startedAt,
            finishedAt: performance.now(),
        };
        this.registrations.push(reg);
        this.awaitingUrn.set(key, [...(this.awaitingUrn.get(key) ?? []), reg]);
        return { id, state };
    }

    private async respond(
        args: pulumi.runtime.MockResourceArgs,
        providerName: string,
    ): Promise<{ id: string; state: Record<string, any>; by?: string }> {
        let inputs = args.inputs ?? {};
        if (this.options.tamperIntermediates && args.type === TYPES.locallySignedCert) {
            const key = await simulateTls(TYPES.privateKey, "impostor-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
            const root = await simulateTls(TYPES.selfSignedCert, "impostor-root", {
                privateKeyPem: key!.state.privateKeyPem,
                subject: { organization: "Istio", commonName: "Root CA" },
                isCaCertificate: true,
                allowedUses: ["cert_signing", "crl_signing"],
                validityPeriodHours: 24,
            });
            inputs = { ...inputs, caPrivateKeyPem: key!.state.privateKeyPem, caCertPem: root!.state.certPem };
        }
        if (this.options.cannedTls && args.type.startsWith("tls:")) return cannedTls(args.type, args.name, inputs);
        const prior = args.type.startsWith("tls:") ? this.options.priorTls?.[args.name] : undefined;
        const now = this.options.now ?? new Date();
        if (prior && JSON.stringify(sortKeys(prior.inputs)) === JSON.stringify(sortKeys(inputs)) && !readyForRenewal(prior.state, now)) {
            return { id: prior.id, state: prior.state };
        }
        const tlsResult = await simulateTls(args.type, args.name, inputs, now);
        if (tlsResult) return tlsResult;
        void providerName;
        const owner = this.clusterOfProvider(args.provider);
        const cluster = owner?.cluster ?? "";
        switch (args.type) {
            // The engine's builtin provider answers a StackReference with the named stack's outputs
            // (pkg/resource/deploy/builtins.go readStackReference); the only one the program reads is itself.
            case TYPES.stackReference:
                return {
                    id: String(inputs.name ?? args.id),
                    state: { name: inputs.name, outputs: this.options.previousOutputs ?? {}, secretOutputNames: [] },
                };
            case TYPES.secret: {
                if (inputs.type === "kubernetes.io/service-account-token") {
                    // The token controller fills these in; the token is JWT-shaped but simulated.
                    const jwt = [
                        "eyJhbGciOiJSUzI1NiJ9",
                        b64(
                            JSON.stringify({
                                sub: `system:serviceaccount:${ISTIO_NAMESPACE}:${inputs.metadata?.annotations?.["kubernetes.io/service-account.name"]}`,
                                cluster,
                            }),
                        ),
                        crypto.randomBytes(16).toString("hex"),
                    ].join(".");
                    const data = {
                        token: b64(jwt),
                        "ca.crt": b64(`-----BEGIN CERTIFICATE-----\nSIMULATED-CLUSTER-CA-${cluster}\n-----END CERTIFICATE-----\n`),
                        namespace: b64(inputs.metadata?.namespace ?? ""),
                    };
                    return { id: `${inputs.metadata?.namespace}/${inputs.metadata?.name}`, state: { ...inputs, data } };
                }
                return { id: `${inputs.metadata?.namespace}/${inputs.metadata?.name}`, state: inputs };
            }
            case TYPES.release:
                return {
                    id: `${inputs.namespace}/${inputs.name}`,
                    state: {
                        ...inputs,
                        status: {
                            name: inputs.name,
                            namespace: inputs.namespace,
                            // The chart's own name, as the provider reports it (Chart.Metadata.Name), whatever the source.
                            chart: describeReleaseChart(inputs).name,
                            version: inputs.version,
                            status: "deployed",
                            revision: 1,
                        },
                    },
                };
            case TYPES.service: {
                const id = args.id || `${inputs.metadata?.namespace}/${inputs.metadata?.name}`;
                // A LoadBalancer Service is answered once the cloud has given it an address, as the
                // provider's await does (pulumi-kubernetes provider/pkg/await/service.go).
                if (args.id || inputs.spec?.type === "LoadBalancer") return { id, state: this.loadBalancerService(cluster, id, inputs) };
                return { id, state: inputs };
            }
            case TYPES.command:
                // pulumi-command's Create returns a fresh unique ID (resource.NewUniqueHex): a re-created command gets a new one.
                return {
                    id: `${args.name}-${crypto.createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 8)}`,
                    state: { ...inputs, stdout: this.runCommand(String(inputs.create ?? "")), stderr: "" },
                };
            default: {
                const ctx = this.context(args.provider);
                for (const p of PLATFORMS) {
                    const answer = p.simulator.answers?.(args.type, args.name, inputs, ctx);
                    if (answer) return { ...answer, by: `platform:${p.name}` };
                }
                const ns = inputs.metadata?.namespace;
                const id = inputs.metadata?.name ? (ns ? `${ns}/${inputs.metadata.name}` : inputs.metadata.name) : `${args.name}-id`;
                return { id: args.id || id, state: inputs };
            }
        }
    }

    /** A LoadBalancer Service as the cluster reports it once its load balancer has an address. */
    private loadBalancerService(cluster: string, id: string, inputs: Record<string, any>): Record<string, any> {
        const [namespace, name] = id.split("/");
        const requested: string | undefined = inputs.spec?.loadBalancerIP || undefined;
        let ingress: { ip?: string; hostname?: string }[] = [];
        if (!this.options.pendingClusters?.includes(cluster)) {
            const fixed = this.options.gatewayAddresses?.[cluster] ?? requested;
            if (fixed) ingress = [fixed.match(/^[\d.]+$|:/) ? { ip: fixed } : { hostname: fixed }];
            // AWS load balancers answer with a DNS name, never an IP.
            else if (
                this.options.hostnameClusters?.includes(cluster) ||
                platformOf(this.platformOfCluster(cluster))?.simulator.loadBalancerAddress === "hostname"
            )
                ingress = [{ hostname: `${name}-${cluster}-0123456789.elb.simulated.example` }];
            else {
                if (!this.addresses.has(cluster)) this.addresses.set(cluster, this.allocate(cluster));
                ingress = [{ ip: this.addresses.get(cluster)! }];
            }
        }
        return {
            ...inputs,
            metadata: { ...inputs.metadata, name, namespace },
            spec: { ...inputs.spec, type: "LoadBalancer" },
            status: { loadBalancer: { ingress } },
        };
    }

    /** Local commands (kind, docker) as each platform's simulator answers them. */
    private runCommand(cmd: string): string {
        const ctx = this.context(undefined);
        for (const p of PLATFORMS) {
            const out = p.simulator.command?.(cmd, ctx);
            if (out !== undefined) return out;
        }
        throw new Error(`the simulator does not know the command: ${cmd}`);
    }

    private platformOfCluster(cluster: string): string | undefined {
        for (const r of this.registrations) {
            if (r.type !== TYPES.k8sProvider) continue;
            const id = parseClusterIdentifier(r.inputs.clusterIdentifier);
            if (id?.cluster === cluster) return id.platform;
        }
        return undefined;
    }

    private readonly ips = new Map<string, string>();
    /** A stable address in `prefix`.0/24 per key, unique within one run. */
    private simulatedIp(key: string, prefix: string): string {
        if (!this.ips.has(key)) {
            const taken = new Set(this.ips.values());
            let n = crypto.createHash("sha256").update(key).digest().readUInt16BE(0) % 200;
            while (taken.has(`${prefix}.${2 + n}`)) n = (n + 1) % 200;
            this.ips.set(key, `${prefix}.${2 + n}`);
        }
        return this.ips.get(key)!;
    }

    /** A stable address per cluster name (so plans diff cleanly), unique within one run. */
    private allocate(cluster: string): string {
        const taken = new Set(this.addresses.values());
        let n = crypto.createHash("sha256").update(cluster).digest().readUInt16BE(0) % 240;
        while (taken.has(`203.0.113.${10 + n}`)) n = (n + 1) % 240;
        return `203.0.113.${10 + n}`;
    }

    /** Wait until every registration the program started has been answered. */
    async settle(): Promise<void> {
        let quiet = 0;
        while (quiet < 5) {
            await new Promise((r) => setTimeout(r, 5));
            quiet = this.inFlight === 0 ? quiet + 1 : 0;
        }
    }

    /** Registrations of one type, by name. */
    ofType(type: string): Registration[] {
        return this.registrations.filter((r) => r.type === type);
    }

    byName(name: string): Registration {
        const r = this.registrations.find((x) => x.name === name);
        if (!r) throw new Error(`no registration named ${name}; have: ${this.registrations.map((x) => x.name).join(", ")}`);
        return r;
    }
}

/** Resolve an Output (or plain value) to its value; rejects if the Output fails. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve, reject) => {
        const out = pulumi.output(o);
        out.apply((v) => {
            resolve(v as T);
            return v;
        });
        // Surface failures of the underlying promise instead of hanging.
        (out as any).promise?.().catch?.(reject);
    });
}

function sortKeys(v: any): any {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys(v[k])]),
        );
    return v;
}

/** The tls resources of a run, for `priorTls` of the next one (what the stack's state would hold). */
export function tlsStateOf(registrations: Registration[]): NonNullable<SimulatorOptions["priorTls"]> {
    const out: NonNullable<SimulatorOptions["priorTls"]> = {};
    for (const r of registrations) if (r.type.startsWith("tls:") && r.id) out[r.name] = { inputs: r.inputs, id: r.id, state: r.state };
    return out;
}
