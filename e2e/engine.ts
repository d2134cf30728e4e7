// The real Pulumi engine on this project's program: the Pulumi CLI built by `npm run e2e:tools` runs
// the Automation API's inline program, which imports index.ts in this process and returns its
// exports. No Node.js language host binary is needed (the CLI talks to the in-process language
// server, `--client`); the Kubernetes provider is the plugin installed into our PULUMI_HOME.
//
// State goes to a file backend outside the repository (PULUMI_BACKEND_URL, default
// file://<cache>/e2e/state), encrypted with PULUMI_CONFIG_PASSPHRASE (default: a fixed local
// passphrase, said on stderr). Each operation runs in a fresh process: the program module is
// loaded once per process, and a second operation in the same process would not run it again.
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { cacheDir, ROOT, ToolsLayout } from "./tools";

export type EngineOp = "preview" | "up" | "refresh" | "destroy";

export interface EngineStep {
    op: string;
    type: string;
    name: string;
    urn: string;
    /** Properties the provider said differ (preview/update), and the ones that force a replacement. */
    diffs?: string[];
    replaces?: string[];
}

export interface EngineResult {
    op: EngineOp;
    ok: boolean;
    /** Per step kind (create, update, replace, delete, same, …), as the engine counts them. */
    counts: Record<string, number>;
    /** Every step the engine planned or took, other than `same`, in the order it announced them. */
    steps: EngineStep[];
    outputs?: Record<string, unknown>;
    error?: string;
    ms: number;
}

export const DEFAULT_PASSPHRASE = "multicluster-mesh-e2e-local-only";

export interface EngineOptions {
    op: EngineOp;
    stack: string;
    /** Folder with Pulumi.yaml and Pulumi.<stack>.yaml (default: the repository). */
    workDir?: string;
    expectNoChanges?: boolean;
    tools: ToolsLayout;
    /** Lines of the engine's own output. */
    onOutput?: (text: string) => void;
}

/** The environment the CLI gets: our tools first on PATH, our plugin home, a file backend, no network plugin downloads. */
export function engineEnv(tools: ToolsLayout, backendUrl?: string): Record<string, string> {
    const backend = backendUrl ?? process.env.PULUMI_BACKEND_URL ?? `file://${path.join(cacheDir(), "e2e", "state")}`;
    if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
    return {
        PATH: `${tools.bin}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_HOME: tools.pulumiHome,
        PULUMI_BACKEND_URL: backend,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? DEFAULT_PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
}

function nameOf(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/** Run one operation on one stack. Never throws for a failed operation: `ok` says. */
export async function runEngine(o: EngineOptions): Promise<EngineResult> {
    const started = Date.now();
    const env = engineEnv(o.tools);
    // The Automation API reads these from the process environment too (the CLI it spawns, and the
    // passphrase secrets manager of the in-process language server).
    Object.assign(process.env, env);
    const workDir = path.resolve(o.workDir ?? ROOT);
    const entry = path.join(ROOT, "index.ts");
    const program = async () => {
        const mod = (await import(entry)) as Record<string, unknown>;
        // index.ts exports the program as an async function (see its header).
        const main = typeof mod === "function" ? mod : typeof mod.default === "function" ? mod.default : undefined;
        if (main) return (await (main as () => Promise<Record<string, unknown>>)()) ?? {};
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(mod)) if (k !== "default" && k !== "__esModule") out[k] = v;
        return out;
    };
    const steps: EngineStep[] = [];
    const counts: Record<string, number> = {};
    const onEvent = (e: EngineEvent) => {
        const m = e.resourcePreEvent?.metadata;
        if (!m) return;
        // A replacement is announced as replace, then create-replacement and delete-replaced: count it once.
        if (m.op === "create-replacement" || m.op === "delete-replaced" || m.op === "discard-replaced") return;
        if (m.type === "pulumi:pulumi:Stack") return;
        counts[m.op] = (counts[m.op] ?? 0) + 1;
        if (m.op === "same") return;
        steps.push({ op: m.op, type: m.type, name: nameOf(m.urn), urn: m.urn, diffs: m.diffs, replaces: m.keys });
    };
    const onOutput = o.onOutput ?? (() => {});
    try {
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName: o.stack, projectName: "multicluster-mesh", program },
            { workDir, envVars: env },
        );
        let outputs: Record<string, unknown> | undefined;
        const common = { onEvent, onOutput, color: "never" as const };
        if (o.op === "preview") {
            await stack.preview({ ...common, expectNoChanges: o.expectNoChanges, diff: false });
        } else if (o.op === "up") {
            const r = await stack.up({ ...common, expectNoChanges: o.expectNoChanges });
            outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.secret ? "[secret]" : (v.value as unknown)]));
        } else if (o.op === "refresh") {
            await stack.refresh({ onEvent, onOutput, color: "never", expectNoChanges: o.expectNoChanges });
        } else {
            await stack.destroy({ onEvent, onOutput, color: "never" });
        }
        const changed = Object.entries(counts).some(([op, n]) => op !== "same" && op !== "read" && n > 0);
        if (o.expectNoChanges && changed) {
            return {
                op: o.op,
                ok: false,
                counts,
                steps,
                outputs,
                error: `expected no changes, the engine planned: ${steps.map((s) => `${s.op} ${s.type} ${s.name}`).join("; ")}`,
                ms: Date.now() - started,
            };
        }
        return { op: o.op, ok: true, counts, steps, outputs, ms: Date.now() - started };
    } catch (e) {
        return { op: o.op, ok: false, counts, steps, error: e instanceof Error ? e.message : String(e), ms: Date.now() - started };
    }
}
