// Local Kubernetes clusters on this machine, in a network namespace of their own (e2e/clusters.ts).
//
//   npm run e2e:clusters -- up 3 [--names east,west,central] [--json]   # start 3 clusters
//   npm run e2e:clusters -- status [--json]
//   npm run e2e:clusters -- down                                        # stop them, remove the namespace
//
// `up --json` prints [{ "name", "kubeconfig", "context", "apiServer", "netns" }]. The API servers are
// reachable only inside the namespace: run kubectl, `npm run engine` and `npm run check` there
// (`ip netns exec <netns> …`; engine and check enter it by themselves when the clusters run).
// Needs root and the tools of `npm run e2e:tools`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import {
    createNetns,
    currentNetns,
    DEFAULT_NETNS,
    deleteNetns,
    MAX_CLUSTERS,
    netnsExists,
    netnsUnavailable,
    publicInfo,
    readState,
    startClusters,
    stopProcesses,
    alive,
} from "../e2e/clusters";
import { builtTools, cacheDir } from "../e2e/tools";

export function clustersDir(netns: string): string {
    return path.join(cacheDir(), "e2e", "clusters", netns);
}

function fail(msg: string): never {
    console.error(`e2e:clusters: ${msg}`);
    process.exit(1);
}

async function up(n: number, o: { json?: boolean; names?: string; netns: string; inside?: boolean }): Promise<void> {
    const names = o.names ? o.names.split(",").map((s) => s.trim()) : Array.from({ length: n }, (_, i) => `c${i + 1}`);
    if (names.length !== n) fail(`--names lists ${names.length} names for ${n} clusters`);
    for (const name of names) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) fail(`cluster name "${name}" is not a DNS-1123 label`);
    if (n < 1 || n > MAX_CLUSTERS) fail(`N must be 1 to ${MAX_CLUSTERS} (the address plan has room for ${MAX_CLUSTERS} clusters)`);
    if (!o.inside) {
        const why = netnsUnavailable();
        if (why) fail(why);
        const tools = await builtTools();
        if (!tools.ok) fail(tools.why);
        const existing = readState(clustersDir(o.netns));
        if (existing && existing.processes.some(alive)) fail(`clusters already run in ${o.netns}: npm run e2e:clusters -- down first`);
        createNetns(o.netns);
        // Start everything from inside the namespace, so every process inherits it.
        const args = [
            process.execPath,
            ...process.execArgv,
            __filename,
            "up",
            String(n),
            "--names",
            names.join(","),
            "--netns",
            o.netns,
            "--inside",
        ];
        if (o.json) args.push("--json");
        const r = spawnSync("ip", ["netns", "exec", o.netns, ...args], { stdio: "inherit" });
        if (r.status !== 0) {
            deleteNetns(o.netns);
            process.exit(r.status ?? 1);
        }
        return;
    }
    if (currentNetns() !== o.netns) fail(`--inside given, but this process is not in network namespace ${o.netns}`);
    const tools = await builtTools();
    if (!tools.ok) fail(tools.why);
    const started = Date.now();
    const state = await startClusters({
        names,
        tools: tools.layout,
        dir: clustersDir(o.netns),
        netns: o.netns,
        progress: (l) => console.error(`e2e:clusters: ${l}`),
    });
    console.error(
        `e2e:clusters: ${state.clusters.length} clusters up in ${((Date.now() - started) / 1000).toFixed(1)} s, in network namespace ${o.netns}`,
    );
    if (o.json) console.log(JSON.stringify(publicInfo(state)));
    else for (const c of state.clusters) console.log(`${c.name}\t${c.apiServer}\t${c.kubeconfig}`);
}

async function down(o: { netns: string }): Promise<void> {
    const dir = clustersDir(o.netns);
    const state = readState(dir);
    if (state) await stopProcesses(state.processes);
    deleteNetns(o.netns);
    if (state) fs.rmSync(dir, { recursive: true, force: true });
    console.error(
        state || netnsExists(o.netns)
            ? `e2e:clusters: stopped ${state?.processes.length ?? 0} processes, removed ${o.netns}`
            : `e2e:clusters: nothing runs in ${o.netns}`,
    );
}

if (require.main === module) {
    const program = new Command().name("e2e:clusters").description("local Kubernetes clusters in a loopback-only network namespace");
    program
        .command("up")
        .argument("<N>", "how many clusters", (v) => Number.parseInt(v, 10))
        .option("--names <list>", "comma-separated cluster names (default c1..cN)")
        .option("--json", "print [{name, kubeconfig, context, apiServer, netns}]")
        .option("--netns <name>", "network namespace", DEFAULT_NETNS)
        .option("--inside", "(internal) already inside the namespace")
        .action((n: number, o) => up(n, o).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e))));
    program
        .command("down")
        .option("--netns <name>", "network namespace", DEFAULT_NETNS)
        .action((o) => down(o).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e))));
    program
        .command("status")
        .option("--netns <name>", "network namespace", DEFAULT_NETNS)
        .option("--json", "print [{name, kubeconfig, context, apiServer, netns}]")
        .action((o: { netns: string; json?: boolean }) => {
            const state = readState(clustersDir(o.netns));
            if (!state || !state.processes.some(alive)) fail(`no clusters run in ${o.netns}`);
            const dead = state.processes.filter((p) => !alive(p)).map((p) => p.name);
            if (o.json) console.log(JSON.stringify(publicInfo(state)));
            else for (const c of state.clusters) console.log(`${c.name}\t${c.apiServer}\t${c.kubeconfig}`);
            if (dead.length > 0) console.error(`e2e:clusters: not running: ${dead.join(", ")}`);
        });
    program.parse();
}
