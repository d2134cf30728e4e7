// What the end-to-end suite does around the engine: a stack folder of its own (outside the
// repository), its config (secrets through the engine's own `config set --secret`), the engine and the
// offline plan as child processes (never synchronously: a vitest worker must stay responsive), and the
// comparison of the engine's steps with the offline change plan.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type { CheckReport } from "../components/check/checks";
import { engineEnv, type EngineStep } from "./engine";
import { ROOT, type ToolsLayout } from "./tools";

const TSX = require.resolve("tsx/cli");

export interface Proc {
    code: number;
    stdout: string;
    stderr: string;
    ms: number;
}

/** Run a command asynchronously; resolves whatever the exit code. */
export function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Proc> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        p.on("error", reject);
        p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
        if (opts.input !== undefined) p.stdin.end(opts.input);
        else p.stdin.end();
    });
}

/** A stack in its own folder: Pulumi.yaml (the project's) and Pulumi.<stack>.yaml. */
export class E2eStack {
    constructor(
        public readonly dir: string,
        public readonly stack: string,
        private readonly tools: ToolsLayout,
    ) {
        fs.mkdirSync(dir, { recursive: true });
        // The project file without `main`: the inline program imports the repository's index.ts
        // itself, and the CLI would look for main in this folder.
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
        delete project.main;
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), YAML.stringify(project));
    }

    get stackFile(): string {
        return path.join(this.dir, `Pulumi.${this.stack}.yaml`);
    }

    /** Write the mesh config (plain) into the stack file, keeping what the engine wrote (salt, secure values). */
    writeMesh(mesh: unknown): void {
        const doc = fs.existsSync(this.stackFile)
            ? ((YAML.parse(fs.readFileSync(this.stackFile, "utf8")) as Record<string, any>) ?? {})
            : {};
        doc.config = { ...(doc.config ?? {}), "multicluster-mesh:mesh": mesh };
        fs.writeFileSync(this.stackFile, YAML.stringify(doc, { lineWidth: 0 }));
    }

    private env(): NodeJS.ProcessEnv {
        // A backend of this run's own: every run starts from an empty state.
        const backend = path.join(this.dir, ".state");
        fs.mkdirSync(backend, { recursive: true });
        return { ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, ...engineEnv({ ...this.tools }, `file://${backend}`) };
    }

    /** `pulumi config set [--secret] <key>` through the CLI we built (the value on stdin, never argv). */
    async setConfig(key: string, value: string, secret: boolean): Promise<void> {
        // Make sure the stack exists in the backend first (config set needs it).
        const ls = await exec("pulumi", ["stack", "select", "--create", this.stack, "--non-interactive", "--cwd", this.dir], {
            env: this.env(),
            cwd: this.dir,
        });
        if (ls.code !== 0) throw new Error(`pulumi stack select: ${ls.stderr}`);
        const r = await exec(
            "pulumi",
            [
                "config",
                "set",
                ...(secret ? ["--secret"] : ["--plaintext"]),
                key,
                "--stack",
                this.stack,
                "--cwd",
                this.dir,
                "--non-interactive",
            ],
            {
                env: this.env(),
                cwd: this.dir,
                input: value,
            },
        );
        if (r.code !== 0) throw new Error(`pulumi config set ${key}: ${r.stderr}`);
    }

    /** One engine operation in a fresh process (scripts/engine.ts), with its JSON result. */
    async engine(op: "preview" | "up" | "refresh" | "destroy", opts: { expectNoChanges?: boolean } = {}): Promise<EngineRun> {
        const args = [TSX, path.join(ROOT, "scripts", "engine.ts"), op, "--stack", this.stack, "--cwd", this.dir, "--json", "--no-netns"];
        if (opts.expectNoChanges) args.push("--expect-no-changes");
        const r = await exec(process.execPath, args, { env: this.env() });
        const last = r.stdout.trim().split("\n").pop() ?? "";
        let parsed:
            { op: string; ok: boolean; counts: Record<string, number>; steps: EngineStep[]; outputs?: Record<string, unknown> } | undefined;
        try {
            parsed = JSON.parse(last);
        } catch {
            parsed = undefined;
        }
        return {
            code: r.code,
            ms: r.ms,
            log: r.stderr,
            counts: parsed?.counts ?? {},
            steps: parsed?.steps ?? [],
            outputs: parsed?.outputs ?? {},
            ok: r.code === 0 && !!parsed?.ok,
        };
    }

    /** `npm run check` on this stack (scripts/check.ts): the kubeconfigs from the stack outputs, the intent from a fresh offline plan. */
    async check(timeoutSeconds = 5): Promise<{ code: number; ms: number; report: CheckReport | undefined; stderr: string }> {
        const args = [
            TSX,
            path.join(ROOT, "scripts", "check.ts"),
            "--stack",
            this.stack,
            "--stack-dir",
            this.dir,
            "--json",
            "--no-netns",
            "--timeout",
            String(timeoutSeconds),
        ];
        const r = await exec(process.execPath, args, { env: this.env() });
        let report: CheckReport | undefined;
        try {
            report = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as CheckReport;
        } catch {
            report = undefined;
        }
        return { code: r.code, ms: r.ms, report, stderr: r.stderr };
    }

    /** The offline plan of this stack (scripts/plan.ts), optionally against an earlier plan.json. */
    async plan(out: string, against?: string): Promise<{ code: number; ms: number; stderr: string; dir: string }> {
        const args = [TSX, path.join(ROOT, "scripts", "plan.ts"), "--stack", this.stack, "--stack-dir", this.dir, "--out", out];
        if (against) args.push("--against", against);
        const r = await exec(process.execPath, args, { env: this.env() });
        return { code: r.code, ms: r.ms, stderr: r.stderr + r.stdout, dir: path.join(out, this.stack) };
    }
}

export interface EngineRun {
    code: number;
    ok: boolean;
    ms: number;
    log: string;
    counts: Record<string, number>;
    steps: EngineStep[];
    /** Stack outputs after an up (secret ones as "[secret]"). */
    outputs: Record<string, unknown>;
}

/** The change plan's resources as engine steps: `op type name`, without the unchanged ones. */
export function changePlanSteps(changesJson: string): string[] {
    const plan = JSON.parse(fs.readFileSync(changesJson, "utf8")) as { changes: { type: string; name: string; kind: string }[] };
    return plan.changes
        .filter((c) => c.kind !== "same")
        .map((c) => `${c.kind} ${c.type} ${c.name}`)
        .sort();
}

/** The engine's steps in the same form. */
export function engineSteps(steps: EngineStep[]): string[] {
    return steps.map((s) => `${s.op} ${s.type} ${s.name}`).sort();
}

/** What one set has that the other lacks. */
export function setDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
    const sa = new Set(a);
    const sb = new Set(b);
    return { onlyA: a.filter((x) => !sb.has(x)), onlyB: b.filter((x) => !sa.has(x)) };
}
