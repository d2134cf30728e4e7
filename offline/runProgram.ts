// Run the real program (index.ts) under the simulator with a given stack config, and collect what
// it registered and exported. Shared by the offline plan, the tests and the benchmark.
import * as pulumi from "@pulumi/pulumi";
import { Simulator, SimulatorOptions, valueOf } from "../simulator/simulator";
import { prefetchKeys, startKeyRun } from "../simulator/tlsSim";
import { expectedKeys } from "./stackFile";
import { ConfigPath, SECRET_PATHS_HOOK } from "../components/secretConfig";
import { PROJECT } from "../components/pulumiTypes";

export { PROJECT };

export interface RunOptions {
    /** Stack config as in Pulumi.<stack>.yaml: full keys ("multicluster-mesh:mesh") to values. */
    config: Record<string, unknown>;
    /** Config keys that hold secrets (`pulumi config set --secret`). */
    secretKeys?: string[];
    /** Per key, the paths of its secret leaves (`--secret --path`), as the stack file has them (components/secretConfig.ts). */
    secretPaths?: Record<string, ConfigPath[]>;
    stack?: string;
    sim?: SimulatorOptions;
    /** Loads the program module after the mocks are installed (e.g. `() => import("../scripts/index")`). */
    load: () => Promise<Record<string, unknown>>;
}

export interface RunResult {
    sim: Simulator;
    /** Stack outputs, fully resolved. */
    outputs: Record<string, unknown>;
    /** The raw Output objects, to check which are secret. */
    rawOutputs: Record<string, unknown>;
    /** Set when the program failed (bad config, a rejected bundle, a failed registration). */
    error?: Error;
}

export async function runProgram(opts: RunOptions): Promise<RunResult> {
    // One run, one PKI: no key is handed to two resources, but keys of earlier runs may be reused.
    startKeyRun();
    // Key generation (RSA-4096: about a second a key) runs on the thread pool while the program loads.
    const wanted = opts.sim?.cannedTls ? undefined : expectedKeys(opts.config);
    try {
        if (wanted) prefetchKeys(wanted.spec, wanted.count);
    } catch {
        // A size the simulator refuses: the run reports it when the program asks for the key.
    }
    const sim = new Simulator(opts.sim);
    await sim.install(PROJECT, opts.stack ?? "test");
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.config)) flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    pulumi.runtime.setAllConfig(flat, opts.secretKeys ?? []);

    // The program finds nested secrets in the stack file next to it on a real run; here they are handed over.
    const hook = globalThis as Record<symbol, unknown>;
    hook[SECRET_PATHS_HOOK] = opts.secretPaths ?? {};
    const failures: Error[] = [];
    const onRejection = (e: unknown) => failures.push(e instanceof Error ? e : new Error(String(e)));
    process.on("unhandledRejection", onRejection);
    try {
        let mod: Record<string, unknown>;
        try {
            mod = await opts.load();
        } catch (e) {
            return { sim, outputs: {}, rawOutputs: {}, error: e as Error };
        }
        // index.ts exports an async function whose result is the stack outputs (the engine calls
        // it: @pulumi/pulumi cmd/run/run.ts); a module of named exports is its own outputs.
        const main = typeof mod === "function" ? mod : typeof mod.default === "function" ? mod.default : undefined;
        if (main) {
            try {
                mod = (await (main as () => Promise<Record<string, unknown>>)()) ?? {};
            } catch (e) {
                return { sim, outputs: {}, rawOutputs: {}, error: e as Error };
            }
        }
        const rawOutputs: Record<string, unknown> = {};
        const outputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(mod)) {
            if (k === "default" || k === "__esModule") continue;
            rawOutputs[k] = v;
        }
        try {
            for (const [k, v] of Object.entries(rawOutputs))
                outputs[k] = await withTimeout(valueOf(v as pulumi.Input<unknown>), 30_000, `stack output ${k}`);
        } catch (e) {
            failures.push(e as Error);
        }
        await sim.settle();
        // A refused registration (duplicate URN) fails the run as the engine fails the update.
        const duplicate = sim.duplicateUrns.length > 0 ? new Error(sim.duplicateUrns[0]) : undefined;
        return { sim, outputs, rawOutputs, error: failures[0] ?? duplicate };
    } finally {
        process.off("unhandledRejection", onRejection);
        delete hook[SECRET_PATHS_HOOK];
    }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${what} did not resolve within ${ms} ms (a failed registration upstream?)`)), ms);
        p.then(
            (v) => {
                clearTimeout(t);
                resolve(v);
            },
            (e) => {
                clearTimeout(t);
                reject(e);
            },
        );
    });
}
