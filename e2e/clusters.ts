// Local Kubernetes clusters for the end-to-end suite: real kube-apiserver, kube-controller-manager and
// kube-scheduler per cluster, one shared etcd (a key prefix per cluster), kwok to play the nodes, the
// pods and the cloud load balancer, and a stand-in for istiod's webhooks (e2e/standIn.ts).
//
// Everything runs inside a network namespace whose only interface is loopback, so no process can
// send a packet off this machine, whatever address it dials: an API server dials a webhook
// Service's ClusterIP, and istiod's charts name east-west addresses. Inside it, 198.18.0.0/15 (the
// benchmarking range, RFC 2544) is routed to loopback as local ("AnyIP"), so every address the
// clusters use is bindable without adding it to an interface, and none is a loopback address
// (the mesh refuses a loopback API server, and the API refuses loopback EndpointSlice addresses).
//
// Address plan, cluster i = 0, 1, …:
//   API server        https://198.19.0.<10+i>:6443    (the address kubeconfigs and remote secrets use)
//   Service range     198.18.<i>.0/24                  (`kubernetes` = .1; istiod's ClusterIP is in it)
//   load balancer     198.19.1.<10+i>                  (kwok's Stage gives it to LoadBalancer Services)
//   node              198.19.2.<10+i>, pods 198.19.<100+i>.0/24
//   etcd              127.0.0.1:2379 (prefix /<cluster>)
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { request, targetOf, waitFor } from "../components/check/kube";
import type { ToolsLayout } from "./tools";
import { issue, selfSignedCa } from "./pki";

export const DEFAULT_NETNS = "mcm-e2e";
export const SERVICE_RANGE = "198.18.0.0/15";

export interface ClusterInfo {
    name: string;
    kubeconfig: string;
    context: string;
    apiServer: string;
    netns: string;
    /** What the suite and the stand-in need beyond the issue's JSON. */
    loadBalancerIP: string;
    /** The same API server by name (`https://api-<i>.e2e.invalid:6443`), to respell a kubeconfig's server. */
    apiServerByName: string;
    serviceRange: string;
    region: string;
    zone: string;
}

export interface ProcessRecord {
    name: string;
    pid: number;
    /** The binary's real path: `down` signals a PID only while /proc/<pid>/exe still is this file. */
    exe: string;
}

export interface ClustersState {
    netns: string;
    dir: string;
    clusters: ClusterInfo[];
    processes: ProcessRecord[];
    standIn?: { caPem: string };
}

/** Most clusters the address plan has room for. */
export const MAX_CLUSTERS = 20;

export function addressesOf(i: number) {
    return {
        apiServerIP: `198.19.0.${10 + i}`,
        /** A second spelling of the API server (in the namespace's hosts file and the serving certificate). */
        apiServerName: `api-${i}.e2e.invalid`,
        serviceRange: `198.18.${i}.0/24`,
        kubernetesServiceIP: `198.18.${i}.1`,
        loadBalancerIP: `198.19.1.${10 + i}`,
        nodeIP: `198.19.2.${10 + i}`,
        podRange: `198.19.${100 + i}.0/24`,
    };
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
    const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: "utf8" });
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

/** The network namespace this process runs in, by name, or undefined (the host's, or an unnamed one). */
export function currentNetns(): string | undefined {
    try {
        const out = spawnSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" });
        const name = out.stdout?.trim();
        return out.status === 0 && name ? name : undefined;
    } catch {
        return undefined;
    }
}

export function netnsExists(name: string): boolean {
    return fs.existsSync(path.join("/run/netns", name));
}

/** Why local clusters cannot run here, or undefined when they can (root, iproute2 with netns). */
export function netnsUnavailable(): string | undefined {
    if (typeof process.getuid === "function" && process.getuid() !== 0) return "local clusters need root (ip netns add)";
    const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
    if (r.error || r.status !== 0) return "iproute2's `ip netns` is not available (Debian: apt-get install iproute2)";
    return undefined;
}

/**
 * Make the namespace: loopback only, with 198.18.0.0/15 routed to it as local addresses, and a hosts
 * file of its own (`ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts; the host's
 * file is never touched) naming each API server `api-<i>.e2e.invalid`.
 */
export function createNetns(name: string): void {
    if (netnsExists(name))
        throw new Error(`network namespace ${name} exists already: run npm run e2e:clusters -- down, or ip netns del ${name}`);
    const etc = path.join("/etc/netns", name);
    fs.mkdirSync(etc, { recursive: true });
    const hosts = ["127.0.0.1 localhost", "::1 localhost"];
    for (let i = 0; i < MAX_CLUSTERS; i++) hosts.push(`${addressesOf(i).apiServerIP} ${addressesOf(i).apiServerName}`);
    fs.writeFileSync(path.join(etc, "hosts"), hosts.join("\n") + "\n");
    sh("ip", ["netns", "add", name]);
    try {
        sh("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
        sh("ip", ["netns", "exec", name, "ip", "route", "add", "local", SERVICE_RANGE, "dev", "lo"]);
        const links = sh("ip", ["netns", "exec", name, "ip", "-o", "link", "show"])
            .split("\n")
            .filter((l) => l.trim() !== "");
        if (links.length !== 1 || !/: lo:/.test(links[0]))
            throw new Error(`network namespace ${name} has interfaces besides loopback: ${links.join("; ")}`);
    } catch (e) {
        deleteNetns(name);
        throw e;
    }
}

export function deleteNetns(name: string): void {
    if (netnsExists(name)) spawnSync("ip", ["netns", "del", name]);
    fs.rmSync(path.join("/etc/netns", name), { recursive: true, force: true });
}

/** Run a command line inside the namespace (for CLIs that re-enter it). */
export function inNetns(netns: string, argv: string[]): string[] {
    return ["ip", "netns", "exec", netns, ...argv];
}

// ---- certificates (e2e/pki.ts) ----

function makePki(dir: string, name: string, ips: string[], dnsName: string) {
    const ca = selfSignedCa(dir, `${name}-ca`);
    const serving = issue(
        dir,
        "apiserver",
        `/CN=kube-apiserver`,
        [
            "basicConstraints=CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth",
            `subjectAltName=${[
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                dnsName,
            ]
                .map((d) => `DNS:${d}`)
                .concat(ips.map((i) => `IP:${i}`))
                .join(",")}`,
        ],
        ca,
    );
    const admin = issue(
        dir,
        "admin",
        "/O=system:masters/CN=e2e-admin",
        ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"],
        ca,
    );
    const saKey = path.join(dir, "sa.key");
    const saPub = path.join(dir, "sa.pub");
    sh("openssl", ["genrsa", "-out", saKey, "2048"]);
    sh("openssl", ["rsa", "-in", saKey, "-pubout", "-out", saPub]);
    return { ca, serving, admin, saKey, saPub };
}

function kubeconfigText(name: string, server: string, caPem: Buffer, certPem: Buffer, keyPem: Buffer): string {
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server, "certificate-authority-data": caPem.toString("base64") } }],
        contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
        "current-context": name,
        users: [
            {
                name: `${name}-admin`,
                user: { "client-certificate-data": certPem.toString("base64"), "client-key-data": keyPem.toString("base64") },
            },
        ],
    });
}

// ---- processes ----

function start(state: ClustersState, name: string, bin: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): void {
    const fd = fs.openSync(log, "a");
    // Detached: the clusters outlive the command that started them (npm run e2e:clusters -- up).
    const p = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd], env });
    fs.closeSync(fd);
    p.unref();
    if (p.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
    state.processes.push({ name, pid: p.pid, exe: fs.realpathSync(bin) });
}

export function alive(p: ProcessRecord): boolean {
    try {
        return fs.readlinkSync(`/proc/${p.pid}/exe`) === p.exe;
    } catch {
        return false;
    }
}

/** Signal only the processes we started (by PID, while it is still our binary), then wait for them to go. */
export async function stopProcesses(procs: ProcessRecord[]): Promise<void> {
    const ours = procs.filter(alive);
    for (const p of ours)
        try {
            process.kill(p.pid, "SIGTERM");
        } catch {
            // gone already
        }
    const deadline = Date.now() + 10_000;
    while (ours.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const p of ours.filter(alive))
        try {
            process.kill(p.pid, "SIGKILL");
        } catch {
            // gone already
        }
}

const LOADBALANCER_STAGE = (ip: string) =>
    YAML.stringify({
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Stage",
        metadata: { name: "service-load-balancer" },
        spec: {
            resourceRef: { apiGroup: "v1", kind: "Service" },
            selector: {
                matchExpressions: [
                    { key: ".spec.type", operator: "In", values: ["LoadBalancer"] },
                    { key: ".status.loadBalancer.ingress", operator: "DoesNotExist" },
                ],
            },
            // The address a cloud load balancer would give: one per cluster, never loopback (a
            // remote's istiod chart writes its primary's east-west address into an EndpointSlice).
            next: { statusTemplate: `loadBalancer:\n  ingress:\n  - ip: ${ip}\n` },
        },
    });

export interface StartOptions {
    names: string[];
    tools: ToolsLayout;
    /** Folder for certificates, kubeconfigs, etcd data and logs (outside the repository). */
    dir: string;
    netns: string;
    /** Each cluster's region (its node's topology.kubernetes.io/region); default region-a for the first two, region-b after. */
    regions?: Record<string, string>;
    /** Say what happens, one line a phase. */
    progress?: (line: string) => void;
}

/**
 * Start the clusters. Must run inside `netns` (the caller entered it). Returns once every API
 * server answers, its node is Ready and the stand-in serves; the state is written to <dir>/state.json.
 */
export async function startClusters(o: StartOptions): Promise<ClustersState> {
    const say = o.progress ?? (() => {});
    const bin = (b: string) => path.join(o.tools.bin, b);
    if (!o.tools.kwokModuleDir) throw new Error("kwok's module folder is unknown: run npm run e2e:tools");
    fs.rmSync(o.dir, { recursive: true, force: true });
    fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const state: ClustersState = { netns: o.netns, dir: o.dir, clusters: [], processes: [] };
    const save = () => fs.writeFileSync(path.join(o.dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
    const t0 = Date.now();
    try {
        start(
            state,
            "etcd",
            bin("etcd"),
            [
                "--name",
                "e2e",
                "--data-dir",
                path.join(o.dir, "etcd"),
                "--listen-client-urls",
                "http://127.0.0.1:2379",
                "--advertise-client-urls",
                "http://127.0.0.1:2379",
                "--listen-peer-urls",
                "http://127.0.0.1:2380",
                "--initial-advertise-peer-urls",
                "http://127.0.0.1:2380",
                "--initial-cluster",
                "e2e=http://127.0.0.1:2380",
                "--listen-metrics-urls",
                "",
                // Test data: fsync buys nothing here and costs seconds.
                "--unsafe-no-fsync",
            ],
            path.join(o.dir, "etcd.log"),
        );
        save();
        await waitFor(
            "etcd",
            async () => {
                const r = await fetch("http://127.0.0.1:2379/health");
                return r.ok && ((await r.json()) as { health: string }).health === "true";
            },
            30_000,
        );
        say(`etcd ready (${Date.now() - t0} ms)`);

        o.names.forEach((name, i) => {
            const a = addressesOf(i);
            const cdir = path.join(o.dir, name);
            const pki = makePki(path.join(cdir, "pki"), name, [a.apiServerIP, a.kubernetesServiceIP], a.apiServerName);
            const server = `https://${a.apiServerIP}:6443`;
            const kubeconfig = path.join(cdir, "kubeconfig");
            fs.writeFileSync(
                kubeconfig,
                kubeconfigText(name, server, fs.readFileSync(pki.ca.crt), fs.readFileSync(pki.admin.crt), fs.readFileSync(pki.admin.key)),
                { mode: 0o600 },
            );
            // Region and zone for locality-aware traffic rules (the node labels istiod reads).
            const region = o.regions?.[name] ?? `region-${i < 2 ? "a" : "b"}`;
            state.clusters.push({
                name,
                kubeconfig,
                context: name,
                apiServer: server,
                netns: o.netns,
                loadBalancerIP: a.loadBalancerIP,
                apiServerByName: `https://${a.apiServerName}:6443`,
                serviceRange: a.serviceRange,
                region,
                zone: `${region}-1`,
            });
            start(
                state,
                `${name}/kube-apiserver`,
                bin("kube-apiserver"),
                [
                    `--etcd-servers=http://127.0.0.1:2379`,
                    `--etcd-prefix=/${name}`,
                    `--bind-address=${a.apiServerIP}`,
                    `--advertise-address=${a.apiServerIP}`,
                    "--secure-port=6443",
                    `--tls-cert-file=${pki.serving.crt}`,
                    `--tls-private-key-file=${pki.serving.key}`,
                    `--client-ca-file=${pki.ca.crt}`,
                    "--authorization-mode=Node,RBAC",
                    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
                    `--service-account-key-file=${pki.saPub}`,
                    `--service-account-signing-key-file=${pki.saKey}`,
                    `--service-cluster-ip-range=${a.serviceRange}`,
                    // No kubelets, one API server: nothing to reconcile into the `kubernetes` endpoints.
                    "--endpoint-reconciler-type=none",
                    "--profiling=false",
                ],
                path.join(cdir, "kube-apiserver.log"),
            );
        });
        save();
        await Promise.all(
            state.clusters.map((c) =>
                waitFor(`${c.name}'s API server`, async () => (await request(targetOf(c.kubeconfig), "GET", "/readyz")) === "ok", 60_000),
            ),
        );
        say(`${state.clusters.length} API servers ready (${Date.now() - t0} ms)`);

        const stages = [
            "stage/node/fast/node-initialize.yaml",
            "stage/node/heartbeat/node-heartbeat.yaml",
            "stage/pod/fast/pod-ready.yaml",
            "stage/pod/fast/pod-complete.yaml",
            "stage/pod/fast/pod-delete.yaml",
        ].map((f) => path.join(o.tools.kwokModuleDir!, "kustomize", f));
        for (const [i, c] of state.clusters.entries()) {
            const a = addressesOf(i);
            const cdir = path.join(o.dir, c.name);
            const pki = path.join(cdir, "pki");
            start(
                state,
                `${c.name}/kube-controller-manager`,
                bin("kube-controller-manager"),
                [
                    `--kubeconfig=${c.kubeconfig}`,
                    "--use-service-account-credentials",
                    `--service-account-private-key-file=${path.join(pki, "sa.key")}`,
                    `--root-ca-file=${path.join(pki, "ca.crt")}`,
                    "--secure-port=0",
                    "--leader-elect=false",
                    // No cloud and no kubelets: leave out what needs them (the service controller would
                    // otherwise fight kwok over load-balancer status).
                    "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service,-route",
                    `--service-cluster-ip-range=${a.serviceRange}`,
                ],
                path.join(cdir, "kube-controller-manager.log"),
            );
            start(
                state,
                `${c.name}/kube-scheduler`,
                bin("kube-scheduler"),
                [`--kubeconfig=${c.kubeconfig}`, "--secure-port=0", "--leader-elect=false"],
                path.join(cdir, "kube-scheduler.log"),
            );
            const lbStage = path.join(cdir, "kwok-loadbalancer.yaml");
            fs.writeFileSync(lbStage, LOADBALANCER_STAGE(a.loadBalancerIP));
            start(
                state,
                `${c.name}/kwok`,
                bin("kwok"),
                [
                    `--kubeconfig=${c.kubeconfig}`,
                    "--manage-all-nodes=false",
                    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                    `--cidr=${a.podRange}`,
                    `--node-ip=${a.nodeIP}`,
                    ...[...stages, lbStage].flatMap((s) => ["--config", s]),
                ],
                path.join(cdir, "kwok.log"),
            );
        }
        save();
        await Promise.all(
            state.clusters.map(async (c) => {
                const t = targetOf(c.kubeconfig);
                await request(t, "POST", "/api/v1/nodes", {
                    body: {
                        apiVersion: "v1",
                        kind: "Node",
                        metadata: {
                            name: `${c.name}-node`,
                            annotations: { "kwok.x-k8s.io/node": "fake" },
                            labels: {
                                "kubernetes.io/hostname": `${c.name}-node`,
                                "topology.kubernetes.io/region": c.region,
                                "topology.kubernetes.io/zone": c.zone,
                                type: "kwok",
                            },
                        },
                    },
                });
                await waitFor(
                    `${c.name}'s node Ready`,
                    async () => {
                        const n = await request(t, "GET", `/api/v1/nodes/${c.name}-node`);
                        return (n.status?.conditions ?? []).some((x: any) => x.type === "Ready" && x.status === "True");
                    },
                    60_000,
                );
                // The service-account controller runs: namespaces get their `default` account.
                await waitFor(
                    `${c.name}'s controller manager`,
                    async () =>
                        (await request(t, "GET", "/api/v1/namespaces/default/serviceaccounts/default")).metadata?.name === "default",
                    60_000,
                );
            }),
        );
        say(`nodes Ready, controllers running (${Date.now() - t0} ms)`);

        // istiod's webhooks: answered by the stand-in (kwok runs no containers, so there is no istiod).
        const standInLog = path.join(o.dir, "stand-in.log");
        const tsx = require.resolve("tsx/cli");
        start(state, "stand-in", process.execPath, [tsx, path.join(__dirname, "standIn.ts"), path.join(o.dir, "state.json")], standInLog);
        save();
        const ready = path.join(o.dir, "stand-in.ready");
        await waitFor("the webhook stand-in", async () => fs.existsSync(ready), 60_000);
        state.standIn = { caPem: fs.readFileSync(path.join(o.dir, "stand-in", "ca.crt"), "utf8") };
        save();
        say(`webhook stand-in serving (${Date.now() - t0} ms)`);
        return state;
    } catch (e) {
        save();
        await stopProcesses(state.processes);
        throw e;
    }
}

export function readState(dir: string): ClustersState | undefined {
    const f = path.join(dir, "state.json");
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as ClustersState) : undefined;
}

/** The issue's JSON: one entry per cluster. */
export function publicInfo(s: ClustersState): { name: string; kubeconfig: string; context: string; apiServer: string; netns: string }[] {
    return s.clusters.map(({ name, kubeconfig, context, apiServer, netns }) => ({ name, kubeconfig, context, apiServer, netns }));
}

/**
 * A new client certificate for a cluster's admin (same CA, same user), written as a new kubeconfig:
 * a credential rotation, as a platform team would do it. Returns the new kubeconfig's path.
 */
export function rotatedKubeconfig(c: ClusterInfo, into: string, server = c.apiServer): string {
    const pki = path.join(path.dirname(c.kubeconfig), "pki");
    const dir = path.join(into, `${c.name}-rotated-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const admin = issue(
        dir,
        "admin",
        "/O=system:masters/CN=e2e-admin",
        ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"],
        {
            crt: path.join(pki, "ca.crt"),
            key: path.join(pki, "ca.key"),
        },
    );
    const file = path.join(dir, "kubeconfig");
    fs.writeFileSync(
        file,
        kubeconfigText(c.name, server, fs.readFileSync(path.join(pki, "ca.crt")), fs.readFileSync(admin.crt), fs.readFileSync(admin.key)),
        { mode: 0o600 },
    );
    return file;
}

/** The same kubeconfig with its server spelled differently (the API server's name instead of its address). */
export function respelledKubeconfig(c: ClusterInfo, into: string): string {
    const doc = YAML.parse(fs.readFileSync(c.kubeconfig, "utf8")) as any;
    for (const cl of doc.clusters ?? []) cl.cluster.server = c.apiServerByName;
    const file = path.join(into, `${c.name}-respelled.kubeconfig`);
    fs.mkdirSync(into, { recursive: true });
    fs.writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
    return file;
}
