// `npm run bench`: program cost and simulated deploy critical path of the real program, from 2 to
// 50 clusters, under Pulumi's mock runtime. Writes bench/results.json and bench/results.md and
// prints PASS/FAIL per target.
//
//   npm run bench                      # the full sweep (a few minutes on 2 cores)
//   npm run bench -- --quick           # N = 2, 5, 10, one cost run each (smoke test, writes to /tmp)
//   npm run bench -- --runs 5 --ns 2,10,50
//
// Exit code: 0 when every target this run measured passes (a target it did not measure, such as the
// 50-cluster cost under --quick, is SKIP, not FAIL); 1 when a measured target fails; 2 when a run breaks.
//
// Every measured run is its own process (offline/bench/run.ts), so peak memory is per run.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateMeshConfig } from "../../config";
import { planMesh } from "../../components/meshPlan";
import {
    COUNT_TERMS,
    expectedCount,
    fitQuadratic,
    formatQuadratic,
    LATENCY_TABLE,
    meshConfig,
    Model,
    MODEL_TITLE,
    Scenario,
} from "./model";
import type { CostResult, DeployResult, RunSpec, Stage } from "./run";

const ROOT = path.resolve(__dirname, "..", "..");
const RUNNER = path.join(__dirname, "run.ts");

export const TARGETS = {
    ratio: 1.05,
    wallSeconds: 10,
    peakRssMB: 1536,
    costN: 50,
    costModel: "multi-primary" as Model,
    /** The default token layout (perReader) may cost at most this much more than perSource at costN. */
    perReaderFactor: 2,
};

export interface Options {
    ns: number[];
    /** Deploy-only scenarios: primary-remote on N networks, and mixed clouds. */
    multinetNs: number[];
    mixedNs: number[];
    kindNs: number[];
    runs: number;
    out: string;
    sourceMaps: boolean;
    /** The default sweep (not --quick, no custom lists): only then is the table in docs/bench.md refreshed. */
    full: boolean;
}

function child<T>(spec: RunSpec): T {
    const out = path.join(os.tmpdir(), `mesh-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    const r = spawnSync(process.execPath, ["--import", "tsx", RUNNER, JSON.stringify(spec), out], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 << 20,
    });
    try {
        if (r.status !== 0 || !fs.existsSync(out))
            throw new Error(`bench run ${JSON.stringify(spec)} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
        return JSON.parse(fs.readFileSync(out, "utf8")) as T;
    } finally {
        fs.rmSync(out, { force: true });
    }
}

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Registrations the formula predicts for a scenario, from the validated config and the plan. */
export function formulaCount(s: Scenario): number {
    const v = validateMeshConfig(meshConfig(s), { readFile: () => undefined });
    if (!v.ok) throw new Error(`bench scenario ${s.model} N=${s.n} is not a valid config:\n  ${v.problems.join("\n  ")}`);
    return expectedCount(planMesh(v.config.mesh), v.config.mesh.remoteSecrets.tokens);
}

/** How late setTimeout fires here, alone and with thousands of timers started together. */
async function timerCheck(): Promise<Record<string, number>> {
    const late: number[] = [];
    for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await new Promise((r) => setTimeout(r, 5));
        late.push(performance.now() - t - 5);
    }
    const t0 = performance.now();
    const fired = await Promise.all(
        Array.from({ length: 5000 }, () => new Promise<number>((r) => setTimeout(() => r(performance.now() - t0), 100))),
    );
    late.sort((a, b) => a - b);
    return {
        lateP50Ms: late[50],
        lateP99Ms: late[98],
        concurrentTimers: fired.length,
        concurrentFirstMs: Math.min(...fired),
        concurrentLastMs: Math.max(...fired),
    };
}

/** Linux CPU time counters, for the share stolen by other tenants of a VM while the bench ran. */
function cpuStat(): { total: number; steal: number } | undefined {
    try {
        const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
        return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
    } catch {
        return undefined;
    }
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pathText = (stages: Stage[]) =>
    stages
        .filter((s) => s.seconds > 0 || s.label.includes("address"))
        .map((s) => `${s.label} ${fmt(s.start, 0)}→${fmt(s.end, 0)}`)
        .join(" → ");

export interface CostRow {
    model: Model;
    n: number;
    registrations: number;
    formula: number;
    countOk: boolean;
    byType: Record<string, number>;
    wallMs: number[];
    programMs: number[];
    peakRssMB: number[];
    wallMedianMs: number;
    programMedianMs: number;
    startMedianMs: number;
    constructMedianMs: number;
    registerMedianMs: number;
    peakRssMedianMB: number;
    error?: string;
}

export interface DeployRow {
    model: Model;
    n: number;
    result: DeployResult;
    ratio: number;
}

/** One target's verdict: `measured: false` when this run did not measure it (e.g. --quick has no N=50). */
export interface TargetLine {
    ok: boolean;
    text: string;
    measured?: boolean;
}

/** The perReader runs at the cost target's N, when measured. */
export interface PerReaderRuns {
    runs: CostResult[];
    formula: number;
}

/** PASS, FAIL, or SKIP for a target this run did not measure (never a failure). */
export function mark(l: TargetLine): "PASS" | "FAIL" | "SKIP" {
    return l.measured === false ? "SKIP" : l.ok ? "PASS" : "FAIL";
}

/** True when every target this run measured passes. */
export function targetsPass(lines: TargetLine[]): boolean {
    return lines.every((l) => l.measured === false || l.ok);
}

/** The exit code of `npm run bench`: 1 when a measured target fails. */
export function benchExitCode(pass: boolean): number {
    return pass ? 0 : 1;
}

/** Every target, from the measured rows. Pure. */
export function targetLines(costRows: CostRow[], deployRows: DeployRow[], perReader?: PerReaderRuns): TargetLine[] {
    const lines: TargetLine[] = [];
    for (const r of deployRows) {
        lines.push({
            ok: !r.result.error && r.ratio <= TARGETS.ratio,
            text:
                `makespan / lower bound ≤ ${TARGETS.ratio}: ${r.model} N=${r.n}: ${fmt(r.result.makespan)} ` +
                `/ ${fmt(r.result.lowerBound)} s = ${fmt(r.ratio, 3)}${r.result.error ? ` (run failed: ${r.result.error})` : ""}`,
        });
    }
    const big = costRows.find((r) => r.model === TARGETS.costModel && r.n === TARGETS.costN);
    if (big) {
        lines.push({
            ok: !big.error && big.wallMedianMs <= TARGETS.wallSeconds * 1000,
            text:
                `${TARGETS.costN}-cluster ${TARGETS.costModel} program run ≤ ${TARGETS.wallSeconds} ` +
                `s: median ${fmt(big.wallMedianMs / 1000, 2)} s (runs ${big.wallMs.map((x) => fmt(x / 1000, 2)).join(", ")})`,
        });
        lines.push({
            ok: !big.error && big.peakRssMedianMB <= TARGETS.peakRssMB,
            text:
                `${TARGETS.costN}-cluster ${TARGETS.costModel} peak memory ≤ ${fmt(TARGETS.peakRssMB / 1024, 1)} ` +
                `GB: median ${fmt(big.peakRssMedianMB, 0)} MB (runs ${big.peakRssMB.map((x) => fmt(x, 0)).join(", ")})`,
        });
    } else {
        for (const what of [
            `program run ≤ ${TARGETS.wallSeconds} s`,
            `peak memory ≤ ${fmt(TARGETS.peakRssMB / 1024, 1)} GB`,
            "perReader within 2× of perSource",
        ])
            lines.push({
                ok: true,
                measured: false,
                text: `${TARGETS.costN}-cluster ${TARGETS.costModel} ${what}: not measured in this run (N=${TARGETS.costN} not in --ns)`,
            });
    }
    if (big && perReader) {
        const { runs, formula } = perReader;
        const wall = median(runs.map((r) => r.wallMs));
        const rss = median(runs.map((r) => r.peakRssMB));
        const err = runs.find((r) => r.error)?.error;
        lines.push({
            ok: !err && wall <= TARGETS.perReaderFactor * big.wallMedianMs && rss <= TARGETS.perReaderFactor * big.peakRssMedianMB,
            text:
                `${TARGETS.costN}-cluster ${TARGETS.costModel} with the default remoteSecrets.tokens ` +
                `perReader within ${TARGETS.perReaderFactor}× of perSource: ` +
                `wall ${fmt(wall / 1000, 2)} s vs ${fmt(big.wallMedianMs / 1000, 2)} s (${fmt(wall / big.wallMedianMs, 2)}×), ` +
                `peak ${fmt(rss, 0)} vs ${fmt(big.peakRssMedianMB, 0)} MB (${fmt(rss / big.peakRssMedianMB, 2)}×)${err ? ` (run failed: ${err})` : ""}`,
        });
        lines.push({
            ok: !err && runs.every((r) => r.registrations === formula),
            text: `resources = formula: ${TARGETS.costModel} N=${TARGETS.costN} tokens perReader: ${runs[0].registrations} registered, formula ${formula}`,
        });
    }
    for (const r of costRows) {
        lines.push({
            ok: r.countOk,
            text:
                `resources = formula: ${r.model} N=${r.n}: ${r.registrations} registered, formula ` +
                `${r.formula}${r.error ? ` (run failed: ${r.error})` : ""}`,
        });
    }
    return lines;
}

export async function main(o: Options): Promise<boolean> {
    const started = performance.now();
    const stat0 = cpuStat();
    const log = (s: string) => process.stdout.write(`${s}\n`);
    const machine = {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "?",
        memoryGB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
        date: new Date().toISOString(),
    };
    log(`bench: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GB, node ${machine.node}`);

    // Clock checks: timer jitter, and real timers against the virtual clock on a small mesh.
    const timers = await timerCheck();
    log(
        `timers: 5 ms timer late by p50 ${fmt(timers.lateP50Ms, 2)} ms, p99 ${fmt(timers.lateP99Ms, 2)} ` +
            `ms; 5000 concurrent 100 ms timers fired ${fmt(timers.concurrentFirstMs)}–${fmt(timers.concurrentLastMs)} ` +
            `ms`,
    );
    const realScaleMs = 10;
    const realCheck = child<DeployResult>({
        mode: "deploy",
        model: "multi-primary",
        n: 2,
        clock: "real",
        scaleMs: realScaleMs,
        sourceMaps: o.sourceMaps,
    });
    const virtualTwice = [0, 1].map(
        () => child<DeployResult>({ mode: "deploy", model: "multi-primary", n: 2, sourceMaps: o.sourceMaps }).makespan,
    );
    log(
        `clock: N=2 multi-primary on real timers (${realScaleMs} ms per simulated s) ${fmt(realCheck.makespan)} ` +
            `s vs virtual ${virtualTwice.join(", ")} s`,
    );

    const costRows: CostRow[] = [];
    const deployRows: DeployRow[] = [];
    const models: Model[] = ["multi-primary", "primary-remote"];
    for (const model of models) {
        for (const n of o.ns) {
            const s: Scenario = { model, n };
            const formula = formulaCount(s);
            const runs: CostResult[] = [];
            for (let k = 0; k < o.runs; k++) runs.push(child<CostResult>({ mode: "cost", model, n, sourceMaps: o.sourceMaps }));
            const counts = new Set(runs.map((r) => r.registrations));
            const row: CostRow = {
                model,
                n,
                registrations: runs[0].registrations,
                formula,
                countOk: counts.size === 1 && runs[0].registrations === formula && !runs.some((r) => r.error),
                byType: runs[0].byType,
                wallMs: runs.map((r) => r.wallMs),
                programMs: runs.map((r) => r.programMs),
                peakRssMB: runs.map((r) => r.peakRssMB),
                wallMedianMs: median(runs.map((r) => r.wallMs)),
                programMedianMs: median(runs.map((r) => r.programMs)),
                startMedianMs: median(runs.map((r) => r.startMs)),
                constructMedianMs: median(runs.map((r) => r.constructMs)),
                registerMedianMs: median(runs.map((r) => r.registerMs)),
                peakRssMedianMB: median(runs.map((r) => r.peakRssMB)),
                error: runs.find((r) => r.error)?.error,
            };
            costRows.push(row);
            const d = child<DeployResult>({ mode: "deploy", model, n, sourceMaps: o.sourceMaps });
            deployRows.push({ model, n, result: d, ratio: d.makespan / d.lowerBound });
            log(
                `${model} N=${n}: ${row.registrations} resources (formula ${formula}), wall ${fmt(row.wallMedianMs / 1000, 2)} ` +
                    `s, peak ${fmt(row.peakRssMedianMB, 0)} MB; ` +
                    `makespan ${fmt(d.makespan)} s, bound ${fmt(d.lowerBound)} s, ratio ${fmt(d.makespan / d.lowerBound, 3)}${d.error ? `; ERROR ${d.error}` : ""}`,
            );
        }
    }
    const deployOnly: [Model, number[]][] = [
        ["primary-remote-multinet", o.multinetNs],
        ["mixed-cloud", o.mixedNs],
        ["kind", o.kindNs],
    ];
    for (const [model, ns] of deployOnly) {
        for (const n of ns) {
            const d = child<DeployResult>({ mode: "deploy", model, n, sourceMaps: o.sourceMaps });
            deployRows.push({ model, n, result: d, ratio: d.makespan / d.lowerBound });
            log(
                `${model} N=${n}: ${d.registrations} resources; makespan ${fmt(d.makespan)} s, bound ` +
                    `${fmt(d.lowerBound)} s, ratio ${fmt(d.makespan / d.lowerBound, 3)}${d.error ? `; ERROR ${d.error}` : ""}`,
            );
        }
    }

    // The default token layout (one reader token per pair) against the opt-in one at the cost target's N.
    const big = costRows.find((r) => r.model === TARGETS.costModel && r.n === TARGETS.costN);
    let perReader: PerReaderRuns | undefined;
    if (big && o.ns.includes(TARGETS.costN)) {
        const s: Scenario = { model: TARGETS.costModel, n: TARGETS.costN, tokens: "perReader" };
        const runs: CostResult[] = [];
        for (let k = 0; k < o.runs; k++)
            runs.push(child<CostResult>({ mode: "cost", model: s.model, n: s.n, tokens: "perReader", sourceMaps: o.sourceMaps }));
        perReader = { runs, formula: formulaCount(s) };
        log(
            `${s.model} N=${s.n} tokens perReader: ${runs[0].registrations} resources (formula ` +
                `${perReader.formula}), wall ${fmt(median(runs.map((r) => r.wallMs)) / 1000, 2)} s, peak ${fmt(median(runs.map((r) => r.peakRssMB)), 0)} MB`,
        );
    }
    const lines = targetLines(costRows, deployRows, perReader);
    const totalSeconds = (performance.now() - started) / 1000;
    const stat1 = cpuStat();
    const stealPercent =
        stat0 && stat1 && stat1.total > stat0.total ? (100 * (stat1.steal - stat0.steal)) / (stat1.total - stat0.total) : undefined;
    const allOk = targetsPass(lines);

    const formulas = Object.fromEntries(models.map((m) => [m, formatQuadratic(fitQuadratic((n) => formulaCount({ model: m, n })))]));
    const results = {
        machine,
        options: {
            ns: o.ns,
            multinetNs: o.multinetNs,
            mixedNs: o.mixedNs,
            kindNs: o.kindNs,
            runs: o.runs,
            sourceMaps: o.sourceMaps,
            clock: "virtual",
        },
        totalSeconds,
        /** CPU time the hypervisor gave to others during the bench (Linux); high values mean noisy timings. */
        stealPercent,
        targets: TARGETS,
        pass: allOk,
        lines,
        timers,
        clockCheck: {
            model: "multi-primary",
            n: 2,
            realScaleMs,
            realMakespan: realCheck.makespan,
            virtualMakespans: virtualTwice,
            realObservedPath: realCheck.observedPath,
        },
        latencyTable: LATENCY_TABLE,
        formulas,
        formulaTerms: COUNT_TERMS,
        cost: costRows,
        deploy: deployRows.map((r) => ({ model: r.model, n: r.n, ratio: r.ratio, ...r.result })),
    };
    fs.mkdirSync(o.out, { recursive: true });
    fs.writeFileSync(path.join(o.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(o.out, "results.md"), renderMarkdown(results, costRows, deployRows));
    // Only a full run into the committed results refreshes the table in docs/bench.md.
    const readme = o.out === path.join(ROOT, "bench") && o.full ? updateReadme(renderReadmeTable(results, costRows, deployRows)) : false;

    log("");
    for (const l of lines) log(`${mark(l)}  ${l.text}`);
    const skipped = lines.filter((l) => l.measured === false).length;
    log(
        `\nbench: ${allOk ? "all measured targets pass" : "some targets FAIL"}${skipped ? ` (${skipped} not measured in this run)` : ""}; ${fmt(totalSeconds, 0)} ` +
            `s; wrote ${path.relative(process.cwd(), path.join(o.out, "results.md"))} and results.json${readme ? ", and the table in docs/bench.md" : ""}`,
    );
    return allOk;
}

export const README_START = "<!-- bench:table:start -->";
export const README_END = "<!-- bench:table:end -->";

/** The short table of docs/bench.md: every cost point with its deploy ratio, then the deploy-only scenarios. */
function renderReadmeTable(results: any, costRows: CostRow[], deployRows: DeployRow[]): string {
    const m = results.machine;
    const out: string[] = [];
    const failed = results.lines.filter((l: TargetLine) => mark(l) === "FAIL").length;
    out.push(
        `Latest run (${m.date.slice(0, 10)}, ${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${results.totalSeconds.toFixed(0)} ` +
            `s): ${failed === 0 ? "**all targets pass**" : `**${failed} of ${results.lines.length} targets fail**`} ` +
            `(details in [bench/results.md](bench/results.md)).`,
    );
    out.push("");
    out.push("| clusters | model | resources (= formula) | wall | peak RSS | makespan | lower bound | ratio |");
    out.push("|---:|---|---:|---:|---:|---:|---:|---:|");
    const short: Record<Model, string> = {
        "multi-primary": "multi-primary",
        "primary-remote": "primary-remote",
        "primary-remote-multinet": "primary-remote, N networks",
        "mixed-cloud": "multi-primary, GKE + EKS",
        kind: "multi-primary, kind",
    };
    for (const d of deployRows) {
        const c = costRows.find((r) => r.model === d.model && r.n === d.n);
        const res = c ? `${c.registrations} ${c.countOk ? "✓" : "✗"}` : `${d.result.registrations}`;
        const wall = c ? `${fmt(c.wallMedianMs / 1000, 1)} s` : "–";
        const rss = c ? `${fmt(c.peakRssMedianMB, 0)} MB` : "–";
        out.push(
            `| ${d.n} | ${short[d.model]} | ${res} | ${wall} | ${rss} | ${fmt(d.result.makespan, 0)} ` +
                `s | ${fmt(d.result.lowerBound, 0)} s | ${fmt(d.ratio, 3)} |`,
        );
    }
    return out.join("\n");
}

/** Replace the table between the bench markers of docs/bench.md (nothing else in the file is touched). */
function updateReadme(table: string): boolean {
    const file = path.join(ROOT, "docs", "bench.md");
    const text = fs.readFileSync(file, "utf8");
    const a = text.indexOf(README_START);
    const b = text.indexOf(README_END);
    if (a < 0 || b < a) return false;
    fs.writeFileSync(file, `${text.slice(0, a + README_START.length)}\n${table}\n${text.slice(b)}`);
    return true;
}

function renderMarkdown(results: any, costRows: CostRow[], deployRows: DeployRow[]): string {
    const m = results.machine;
    const out: string[] = [];
    const p = (s = "") => out.push(s);
    p("# Benchmark results");
    p();
    p(
        `Generated by \`npm run bench\` (${results.totalSeconds.toFixed(0)} s) on ${m.date.slice(0, 10)}: ` +
            `${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}, ${m.platform}.`,
    );
    p(
        `Runs per cost point: ${results.options.runs} (medians). Deploy: virtual clock (see ` +
            `Method). Node source maps ${results.options.sourceMaps ? "on" : "off"}.${results.stealPercent !== undefined ? ` CPU steal during the bench: ${fmt(results.stealPercent, 1)} %. Timings on this VM drifted by up to 1.5× between sessions an hour apart (steal stayed near 0), so compare variants back to back, not across result files.` : ""}`,
    );
    p();
    p("## Targets");
    p();
    p("```");
    for (const l of results.lines) p(`${mark(l)}  ${l.text}`);
    p("```");
    p();
    p("## 1. Program cost");
    p();
    p(
        "The real program (`index.ts`) under Pulumi's mock runtime with canned certificates " +
            "and no latency, one process per run. *wall*: process start to every stack output " +
            "resolved, which is *start* (Node, tsx, the Pulumi SDK and the simulator loaded) " +
            "+ *program* (`runProgram`: loading `index.ts`, validating and constructing until " +
            "the first registration is answered (*construct*), then registering until the last " +
            "one is (*register*), then resolving outputs); *peak*: the process's maximum RSS. " +
            "Medians.",
    );
    p();
    for (const model of ["multi-primary", "primary-remote"] as Model[]) {
        const rows = costRows.filter((r) => r.model === model);
        if (!rows.length) continue;
        p(`### ${MODEL_TITLE[model]}`);
        p();
        p(`Formula: **${results.formulas[model]}** resources.`);
        p();
        p("| N | resources | formula | wall (s) | start (s) | program (s) | construct (s) | register (s) | peak RSS (MB) |");
        p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (const r of rows) {
            const s = (x: number) => fmt(x / 1000, 2);
            p(
                `| ${r.n} | ${r.registrations} | ${r.formula} ${r.countOk ? "✓" : "✗"} | ${s(r.wallMedianMs)} ` +
                    `| ${s(r.startMedianMs)} | ${s(r.programMedianMs)} | ${s(r.constructMedianMs)} | ` +
                    `${s(r.registerMedianMs)} | ${fmt(r.peakRssMedianMB, 0)} |`,
            );
        }
        p();
    }
    p("Formula terms (existing clusters, generated trust), from the plan (`components/meshPlan.ts`):");
    p();
    p("| term | resources | what |");
    p("|---|---:|---|");
    for (const [term, n, what] of results.formulaTerms) p(`| ${term} | ${n} | ${what} |`);
    p();
    p("## 2. Simulated deploy");
    p();
    p(
        "Each resource's creation is delayed by its latency below; the SDK's own dependency " +
            "waiting decides when each starts. *Makespan*: first registration to last finished. " +
            "*Lower bound*: the longest chain of latencies through the orderings the Istio facts " +
            "force (Method), computed on the same resources. *Program bound*: the longest chain " +
            "through the program's own dependencies (what the engine sees, plus provider, parent " +
            "and read IDs).",
    );
    p();
    for (const model of ["multi-primary", "primary-remote", "primary-remote-multinet", "mixed-cloud", "kind"] as Model[]) {
        const rows = deployRows.filter((r) => r.model === model);
        if (!rows.length) continue;
        p(`### ${MODEL_TITLE[model]}`);
        p();
        p("| N | resources | makespan (s) | lower bound (s) | ratio | program bound (s) |");
        p("|---:|---:|---:|---:|---:|---:|");
        for (const r of rows)
            p(
                `| ${r.n} | ${r.result.registrations} | ${fmt(r.result.makespan)} | ${fmt(r.result.lowerBound)} ` +
                    `| ${fmt(r.ratio, 3)} | ${fmt(r.result.programBound)} |`,
            );
        p();
        const last = rows[rows.length - 1].result;
        p(`Critical path at N=${rows[rows.length - 1].n} (simulated seconds, start→end; zero-latency stages omitted):`);
        p();
        p(`- observed: ${pathText(last.observedPath)}`);
        p(`- lower bound: ${pathText(last.requiredPath)}`);
        const waits = last.observedPath.filter((s) => (s.gap ?? 0) > 0.001);
        if (waits.length) p(`- waits outside the engine's dependencies: ${waits.map((s) => `${s.label} +${fmt(s.gap!, 1)} s`).join(", ")}`);
        if (model === "mixed-cloud") {
            const byPlatform = new Map<string, number[]>();
            for (const { platform, end } of Object.values(last.clusterDone))
                byPlatform.set(platform, [...(byPlatform.get(platform) ?? []), end]);
            p(
                `- last resource per cluster: ${[...byPlatform.entries()].map(([pl, ends]) => `${pl} ${fmt(Math.min(...ends), 0)}–${fmt(Math.max(...ends), 0)} s`).join("; ")} ` +
                    `(the slowest cloud bounds the mesh)`,
            );
        }
        const costly = rows.flatMap((r) => r.result.unrequired.filter((e) => e.costSeconds > 0).map((e) => ({ n: r.n, ...e })));
        for (const e of costly)
            p(`- unneeded edge at N=${e.n}: \`${e.kind}\` ×${e.count} (e.g. ${e.example}) costs ${fmt(e.costSeconds, 0)} s`);
        const missing = rows.flatMap((r) => r.result.missing.map((e) => ({ n: r.n, ...e })));
        for (const e of missing)
            p(`- required ordering the program does not enforce at N=${e.n}: \`${e.kind}\` ×${e.count} (e.g. ${e.example})`);
        const unknown = [...new Set(rows.flatMap((r) => r.result.unknownTypes))];
        if (unknown.length) p(`- not in the latency table (counted as 1 s): ${unknown.join(", ")}`);
        p();
    }
    p("### Latency table");
    p();
    p("| resource | simulated s | |");
    p("|---|---:|---|");
    for (const r of results.latencyTable) p(`| \`${r.key}\` | ${r.seconds} | ${r.why} |`);
    p();
    p("## Method");
    p();
    p(
        "- **Processes.** Every run is a fresh `node --import tsx offline/bench/run.ts` " +
            "child; peak memory is that process's `maxRSS`. Cost points are medians of the runs " +
            "listed. The runner turns Node's source maps off (tsx turns them on): the Pulumi " +
            "SDK captures `new Error().stack` for every output property of every resource, and " +
            "mapping each capture through source maps costs more than the program itself (`--source-maps` " +
            "measures with them).",
    );
    p(
        "- **Virtual clock.** The simulator delays each resource with `setTimeout(latency)`. " +
            "The bench runs those timers on a virtual clock (`offline/bench/clock.ts`) that " +
            "moves only when every registration the SDK has sent is parked on such a timer and " +
            "no promise is pending, so the program's CPU time never counts as deploy time, timers " +
            "never drift, and a run is exactly reproducible (checked: two runs give the same " +
            "makespan). Real timers scaled to milliseconds would instead measure the harness's " +
            "CPU time multiplied by the scale (thousands of registrations at N=50).",
    );
    p(
        `- **Clock check.** N=2 multi-primary on real timers at ${results.clockCheck.realScaleMs} ` +
            `ms per simulated second: ${fmt(results.clockCheck.realMakespan)} s, virtual: ${results.clockCheck.virtualMakespans.join(" and ")} ` +
            `s. setTimeout(5 ms) fires late by p50 ${fmt(results.timers.lateP50Ms, 2)} ms, p99 ` +
            `${fmt(results.timers.lateP99Ms, 2)} ms; ${results.timers.concurrentTimers} timers ` +
            `of 100 ms started together fire between ${fmt(results.timers.concurrentFirstMs)} ` +
            `and ${fmt(results.timers.concurrentLastMs)} ms (they do not serialise).`,
    );
    p(
        "- **Lower bound.** Longest weighted path over only the orderings the Istio facts " +
            "force (`requiredGraph` in `offline/bench/model.ts`, within a cluster from " +
            "`INSTALL_ORDER` in `components/istio.ts`): per cluster namespace → cacerts and base → " +
            "istiod → east-west gateway pods, namespace → the gateway's LoadBalancer Service (its " +
            "address; after MetalLB on kind), base (CRDs) → Istio objects, istiod (reader RBAC) → " +
            "reader token, node pool → istiod and gateway, provider → each resource; trust root key → " +
            "root cert, intermediate key → CSR → cert → cacerts; a primary that exposes istiod: its " +
            "load-balancer address → its istiod (ISTIOD_CUSTOM_HOST); across clusters the primary's " +
            "load-balancer address → a remote's base and istiod, the primary's expose-istiod objects → " +
            "the remote's istiod, the source's reader token and namespace → the remote secret in the " +
            "target, a remote's secret in its primary → the remote's own gateway; platform resources " +
            "keep the clouds' own order (VPC → subnet → cluster → node pool), and a cluster's kubernetes provider " +
            "needs the cluster, not its node pool. Program edges not implied by these are reported " +
            "with what they cost.",
    );
    p("- **Regenerate:** `npm run bench` (full, a few minutes), `npm run bench -- --quick` (smoke).");
    p();
    return out.join("\n");
}
