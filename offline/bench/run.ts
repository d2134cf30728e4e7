// One benchmark run in its own process (so peak memory is this run's alone), spawned by
// scripts/bench.ts:   node --import tsx offline/bench/run.ts '<json RunSpec>' <result file>
//
//   cost    the real program (index.ts) under the mock runtime, canned tls, no latency: wall time
//           from process start to the last output resolved, peak RSS, registrations by type;
//   deploy  the same with each resource delayed by the latency table, on the virtual clock (or
//           on real timers scaled to ms): makespan, the lower bound the Istio facts force, the
//           program's own bound, the observed critical path, and the edge audit.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { VirtualClock } from "./clock";
import {
    auditEdges,
    clusterFacts,
    latencyOf,
    longestPath,
    meshConfig,
    Model,
    Node,
    observedCriticalPath,
    programGraph,
    requiredGraph,
    stageLabel,
    Graph,
} from "./model";
import { runProgram } from "../runProgram";

const ROOT = path.resolve(__dirname, "..", "..");

export interface RunSpec {
    mode: "cost" | "deploy";
    model: Model;
    n: number;
    /** The reader-token layout (default perSource, see Scenario). */
    tokens?: "perReader" | "perSource";
    /** deploy: "virtual" (default) or "real" timers with `scaleMs` real ms per simulated second. */
    clock?: "virtual" | "real";
    scaleMs?: number;
    /** Keep Node's source maps on (tsx turns them on; the bench turns them off, see docs/bench.md). */
    sourceMaps?: boolean;
}

export interface Stage {
    label: string;
    name: string;
    seconds: number;
    start: number;
    end: number;
    /** Observed path only: time the stage waited after its last dependency finished. */
    gap?: number;
}

export interface CostResult {
    registrations: number;
    byType: Record<string, number>;
    /** ms from process start to the program's outputs resolved (Node and tsx start, imports, program). */
    wallMs: number;
    /** ms of runProgram alone (loading index.ts and everything it imports, registering, resolving). */
    programMs: number;
    /** ms from process start to runProgram (Node, tsx, the Pulumi SDK and the simulator loaded). */
    startMs: number;
    /** ms from runProgram to the first registration answered: loading index.ts, validating, constructing. */
    constructMs: number;
    /** ms from the first registration to the last one answered. */
    registerMs: number;
    peakRssMB: number;
    error?: string;
}

export interface DeployResult extends CostResult {
    clock: "virtual" | "real";
    scaleMs: number;
    /** Simulated seconds from the first registration to the last one finished. */
    makespan: number;
    lowerBound: number;
    programBound: number;
    requiredPath: Stage[];
    programPath: Stage[];
    observedPath: Stage[];
    /** Program edges no fact requires, with their makespan cost; required orderings missing. */
    unrequired: { kind: string; count: number; example: string; costSeconds: number }[];
    missing: { kind: string; count: number; example: string }[];
    prunedBound: number;
    /** Latency rows that were hit, with counts; types the table does not know. */
    latencyRows: Record<string, number>;
    unknownTypes: string[];
    /** Per cluster: simulated second its last resource finished, and its platform. */
    clusterDone: Record<string, { platform: string; end: number }>;
    clockAdvances: number;
    forcedAdvances: number;
}

async function main(): Promise<void> {
    const spec = JSON.parse(process.argv[2]) as RunSpec;
    const outFile = process.argv[3];
    if (!spec.sourceMaps) process.setSourceMapsEnabled(false);
    const result = spec.mode === "cost" ? await cost(spec) : await deploy(spec);
    fs.writeFileSync(outFile, JSON.stringify(result));
    // The SDK may hold handles (leak detector, keep-alives); the result is written, so leave.
    process.exit(0);
}

function loadProgram(before?: () => void): () => Promise<Record<string, unknown>> {
    return async () => {
        before?.();
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the program per run (require.cache was cleared)
        return require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
    };
}

function summary(regs: { type: string; startedAt: number; finishedAt: number }[], t0: number, t1: number, error?: Error): CostResult {
    const byType: Record<string, number> = {};
    let first = Infinity;
    let last = 0;
    for (const r of regs) {
        byType[r.type] = (byType[r.type] ?? 0) + 1;
        first = Math.min(first, r.startedAt);
        last = Math.max(last, r.finishedAt);
    }
    return {
        registrations: regs.length,
        byType,
        wallMs: t1,
        programMs: t1 - t0,
        startMs: t0,
        constructMs: regs.length ? first - t0 : t1 - t0,
        registerMs: regs.length ? last - first : 0,
        peakRssMB: process.resourceUsage().maxRSS / 1024,
        error: error?.message,
    };
}

async function cost(spec: RunSpec): Promise<CostResult> {
    const t0 = performance.now();
    const run = await runProgram({ config: { "multicluster-mesh:mesh": meshConfig(spec) }, sim: { cannedTls: true }, load: loadProgram() });
    const t1 = performance.now();
    return summary(run.sim.registrations, t0, t1, run.error);
}

async function deploy(spec: RunSpec): Promise<DeployResult> {
    const clockKind = spec.clock ?? "virtual";
    const scaleMs = spec.scaleMs ?? 1000;
    let inFlight = 0;
    const clock: VirtualClock = new VirtualClock((): number => inFlight - clock.pending);
    const virtual = new Map<string, { start: number; end: number }>();
    const latencyRows: Record<string, number> = {};
    const unknown = new Set<string>();

    const latencyMs = (r: { type: string; name: string; inputs: Record<string, any>; read: boolean }) => {
        const l = latencyOf(r);
        latencyRows[l.key] = (latencyRows[l.key] ?? 0) + 1;
        if (!l.known) unknown.add(r.type);
        if (clockKind === "real") return l.seconds * scaleMs;
        const key = `${r.type}::${r.name}`;
        const start = clock.now;
        virtual.set(key, { start, end: start + l.seconds * 1000 });
        clock.touch();
        return l.seconds > 0 ? clock.take(l.seconds * 1000) : 0;
    };
    // Count registrations in flight, outside the simulator's own wrapper (installed before load).
    const countInFlight = () => {
        const monitor = pulumi.runtime.getMonitor() as any;
        for (const method of ["registerResource", "readResource"] as const) {
            const inner = monitor[method].bind(monitor);
            monitor[method] = async (req: unknown, callback: (err: unknown, res: unknown) => void) => {
                inFlight++;
                clock.touch();
                try {
                    return await inner(req, callback);
                } finally {
                    inFlight--;
                    clock.touch();
                }
            };
        }
    };
    if (clockKind === "virtual") clock.install();
    const t0 = performance.now();
    const run = await runProgram({
        config: { "multicluster-mesh:mesh": meshConfig(spec) },
        sim: { cannedTls: true, latencyMs },
        load: loadProgram(clockKind === "virtual" ? countInFlight : undefined),
    });
    const t1 = performance.now();
    clock.uninstall();
    const base = summary(run.sim.registrations, t0, t1, run.error);

    // Simulated seconds for every registration.
    const regs = run.sim.registrations;
    const firstReal = Math.min(...regs.map((r) => r.startedAt));
    const nodes: Node[] = regs.map((r) => {
        let start: number;
        let end: number;
        if (clockKind === "virtual") {
            const v = virtual.get(`${r.type}::${r.name}`);
            if (!v) throw new Error(`no simulated time for ${r.type} ${r.name}`);
            start = v.start / 1000;
            end = v.end / 1000;
        } else {
            start = (r.startedAt - firstReal) / scaleMs;
            end = (r.finishedAt - firstReal) / scaleMs;
        }
        return {
            type: r.type,
            name: r.name,
            urn: r.urn,
            parent: r.parent,
            provider: r.provider,
            providerName: r.providerName,
            custom: r.custom,
            read: r.read,
            id: r.id,
            inputs: r.inputs,
            dependencies: r.dependencies,
            start,
            end,
        };
    });
    const t0s = Math.min(...nodes.map((x) => x.start));
    for (const x of nodes) {
        x.start -= t0s;
        x.end -= t0s;
    }
    const facts = clusterFacts(spec);
    const program = programGraph(nodes, facts);
    const required = requiredGraph(nodes, facts);
    const weight = (i: number) => latencyOf(nodes[i]).seconds;
    const req = longestPath(required, weight);
    const prog = longestPath(program, weight);
    const observed = observedCriticalPath(program);
    const audit = auditEdges(program, required, weight);
    const stages = (g: Graph, path: number[], finish?: number[]): Stage[] =>
        path.map((i) => {
            const s = weight(i);
            const end = finish ? finish[i] : nodes[i].end;
            return { label: stageLabel(g, i), name: nodes[i].name, seconds: s, start: finish ? end - s : nodes[i].start, end };
        });
    const observedPath = stages(program, observed.path).map((s, k) => ({ ...s, gap: observed.gaps[k] }));
    const platformOf = new Map<string, string>();
    const mesh = meshConfig(spec) as { clusters: { name: string; platform?: string }[] };
    for (const c of mesh.clusters) platformOf.set(c.name, c.platform ?? "existing");
    const clusterDone: DeployResult["clusterDone"] = {};
    program.classes.forEach((k, i) => {
        if (!k.cluster || !program.nodes[i].custom) return;
        const cur = clusterDone[k.cluster] ?? { platform: platformOf.get(k.cluster) ?? "?", end: 0 };
        cur.end = Math.max(cur.end, nodes[i].end);
        clusterDone[k.cluster] = cur;
    });
    return {
        ...base,
        clock: clockKind,
        scaleMs,
        makespan: Math.max(...nodes.map((x) => x.end)),
        lowerBound: req.length,
        programBound: prog.length,
        requiredPath: stages(required, req.path, req.finish),
        programPath: stages(program, prog.path, prog.finish),
        observedPath,
        unrequired: audit.unrequired,
        missing: audit.missing,
        prunedBound: audit.prunedSeconds,
        latencyRows,
        unknownTypes: [...unknown].sort(),
        clusterDone,
        clockAdvances: clock.advances,
        forcedAdvances: clock.forcedAdvances,
    };
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e instanceof Error ? e.stack : e);
        process.exit(1);
    });
}
