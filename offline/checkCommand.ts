// `npm run check`: the post-deploy check of a stack (components/check/checks.ts) from the command line.
// The intent comes from the stack's offline plan (run here as a child process, or --plan), the
// kubeconfigs from the stack's outputs (through the Pulumi CLI: the one `npm run e2e:tools` built
// when it is there, else `pulumi` on PATH) or from --kubeconfig name=path.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { checkMesh, type CheckReport, type ClusterAccess, type MeshIntent } from "../components/check/checks";
import { intentFromPlan } from "./checkIntent";
import { parsePlanFile } from "./planFile";

const ROOT = path.resolve(__dirname, "..");

export interface CheckCommandOptions {
    stack: string;
    stackDir: string;
    /** `name=path` pairs; when absent, the stack outputs' `kubeconfigs`. */
    kubeconfigs?: string[];
    /** An offline plan.json to compare with, instead of planning the stack now. */
    plan?: string;
    /** Environment for the Pulumi CLI (PATH, PULUMI_HOME, backend, passphrase). */
    env?: NodeJS.ProcessEnv;
    tier2?: boolean;
    timeoutMs?: number;
}

export const EXIT = { ok: 0, failed: 1, unreachable: 2, usage: 64 } as const;

/** The stack's offline plan, made in a temporary folder by the plan command (its own process: the mock runtime never loads here). */
async function planOf(o: CheckCommandOptions): Promise<MeshIntent> {
    if (o.plan) return intentFromPlan(parsePlanFile(fs.readFileSync(o.plan, "utf8"), o.plan));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mcm-check-"));
    try {
        const tsx = require.resolve("tsx/cli");
        const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
            const p = spawn(
                process.execPath,
                [tsx, path.join(ROOT, "scripts", "plan.ts"), "--stack", o.stack, "--stack-dir", o.stackDir, "--out", out],
                {
                    env: o.env ?? process.env,
                    stdio: ["ignore", "ignore", "pipe"],
                },
            );
            let stderr = "";
            p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
            p.on("close", (code) => resolve({ code: code ?? 1, stderr }));
        });
        const file = path.join(out, o.stack, "plan.json");
        if (r.code !== 0 || !fs.existsSync(file))
            throw new Error(
                `the offline plan of stack ${o.stack} failed:\n${r.stderr
                    .split("\n")
                    .filter((l) => l.startsWith("error"))
                    .join("\n")}`,
            );
        return intentFromPlan(parsePlanFile(fs.readFileSync(file, "utf8"), file));
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** Each cluster's kubeconfig: --kubeconfig name=path, else the stack output `kubeconfigs` (a secret, read with the CLI). */
async function accessOf(o: CheckCommandOptions): Promise<ClusterAccess[]> {
    if (o.kubeconfigs && o.kubeconfigs.length > 0)
        return o.kubeconfigs.map((kv) => {
            const i = kv.indexOf("=");
            if (i <= 0) throw new Error(`--kubeconfig ${kv}: give name=path (the mesh cluster's name, then its kubeconfig file)`);
            const [name, file] = [kv.slice(0, i), kv.slice(i + 1)];
            const [p, context] = file.split("#");
            return { name, kubeconfig: path.resolve(p), ...(context ? { context } : {}) };
        });
    const env = o.env ?? process.env;
    const envVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
    const stack = await LocalWorkspace.selectStack({ stackName: o.stack, workDir: o.stackDir }, { envVars });
    const outs = await stack.outputs();
    const kc = outs.kubeconfigs?.value as Record<string, string> | undefined;
    if (!kc || typeof kc !== "object")
        throw new Error(`stack ${o.stack} has no kubeconfigs output: deploy it first, or give --kubeconfig name=path for each cluster`);
    return Object.entries(kc).map(([name, kubeconfig]) => ({ name, kubeconfig }));
}

export async function runCheck(o: CheckCommandOptions): Promise<{ report: CheckReport; exit: number }> {
    const [intent, access] = await Promise.all([planOf(o), accessOf(o)]);
    const report = await checkMesh(intent, access, { tier2: o.tier2, timeoutMs: o.timeoutMs });
    const exit = report.unreachable.length > 0 ? EXIT.unreachable : report.ok ? EXIT.ok : EXIT.failed;
    return { report, exit };
}

export { formatReport } from "../components/check/format";
