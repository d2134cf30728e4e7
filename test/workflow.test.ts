// .github/workflows/preview.yml: valid against a (focused, strict) workflow schema, and doing what
// the PR pipeline must: on pull requests, npm ci, npm test, the offline plan of every shipped stack
// diffed against the base branch, the summary and pictures published, and `pulumi preview` with the
// policy pack commenting on the PR only where credentials are configured (OIDC).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, shippedStacks, tempDir } from "./support/planRun";

const FILE = path.join(ROOT, ".github", "workflows", "preview.yml");
const text = fs.readFileSync(FILE, "utf8");
const wf = YAML.parse(text);
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "test", "schemas", "github-workflow.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
}
const steps = (job: string): Step[] => wf.jobs[job].steps;
const runStep = (job: string, match: RegExp): Step => {
    const s = steps(job).find((x) => x.run && match.test(x.run));
    expect(s, `a ${job} step running ${match}`).toBeDefined();
    return s!;
};

describe("the workflow file", () => {
    it("is valid against the workflow schema", () => {
        expect(validate(wf), JSON.stringify(validate.errors, null, 1)).toBe(true);
    });

    it("the schema rejects what GitHub would reject or silently ignore", () => {
        const broken: [string, (w: any) => void][] = [
            ["a typo in a job key", (w) => (w.jobs.offline["run-on"] = w.jobs.offline["runs-on"])],
            ["a step with both uses and run", (w) => (w.jobs.offline.steps[0].run = "echo")],
            ["`with` on a run step", (w) => (w.jobs.offline.steps[2].with = { a: "b" })],
            ["an unknown permission level", (w) => (w.jobs.preview.permissions["id-token"] = "read")],
            ["a job without runs-on", (w) => delete w.jobs.preview["runs-on"]],
            ["an action without a version", (w) => (w.jobs.offline.steps[0].uses = "actions/checkout")],
            ["an unknown event", (w) => (w.on = { pull_requests: null })],
            ["an unknown top-level key", (w) => (w.job = {})],
        ];
        for (const [what, f] of broken) {
            const w = structuredClone(wf);
            f(w);
            expect(validate(w), what).toBe(false);
        }
    });

    it("runs only shell that parses, and never expands ${{ }} inside a script (values come through env)", () => {
        for (const job of Object.keys(wf.jobs)) {
            for (const s of steps(job).filter((x) => x.run)) {
                expect(s.run, `${job}: ${s.name ?? s.run}`).not.toContain("${{");
                const r = spawnSync("bash", ["-n"], { input: s.run, encoding: "utf8" });
                expect(r.status, `${job}: ${s.name}: ${r.stderr}`).toBe(0);
            }
        }
    });

    // Audit (issue 17 item 1): a tag can be moved to other code; a commit cannot.
    it("pins every action to a full commit SHA, with the tag it was in a comment", () => {
        for (const job of Object.keys(wf.jobs))
            for (const s of steps(job).filter((x) => x.uses)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        for (const line of text.split("\n").filter((l) => /^\s*(- )?uses:/.test(l)))
            expect(line).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    });
});

describe("what the pipeline does", () => {
    it("runs on pull requests, read-only by default", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expect(wf.permissions).toEqual({ contents: "read" });
    });

    it("installs, tests and plans through the one shared script .ci/run uses (scripts/ci.sh), on Debian", () => {
        const job = wf.jobs.offline;
        expect(job.container).toMatch(/^node:22-bookworm$/);
        const order = steps("offline").map((s) => s.run?.trim() ?? s.uses ?? "");
        const install = order.indexOf("bash scripts/ci.sh install");
        const test = order.indexOf("bash scripts/ci.sh test");
        expect(install).toBeGreaterThan(0);
        expect(test).toBeGreaterThan(install);
        expect(steps("offline")[0]).toMatchObject({
            uses: expect.stringMatching(/^actions\/checkout@[0-9a-f]{40}$/),
            with: { "fetch-depth": 0, "persist-credentials": false },
        });
        // The script installs what the tests need and runs the README's commands; .ci/run calls the same script.
        const script = fs.readFileSync(path.join(ROOT, "scripts", "ci.sh"), "utf8");
        for (const pkg of ["openssl", "chromium", "fonts-liberation", "golang-go"]) expect(script).toContain(pkg);
        expect(script).toMatch(/npm ci --ignore-scripts --no-audit --no-fund/);
        expect(script).not.toMatch(/npm ci(?! --ignore-scripts)/);
        expect(script).toMatch(/npm test/);
        expect(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toMatch(/^bash scripts\/ci\.sh all$/m);
    });

    it("plans every shipped stack on the base branch and diffs against it, publishing summary, pictures and manifests", () => {
        const base = runStep("offline", /git worktree add/);
        expect(base.env).toEqual({ BASE_REF: "${{ github.base_ref }}" });
        expect(base.run).toMatch(/"origin\/\$BASE_REF"/);
        expect(base.run).toMatch(/--out "\$RUNNER_TEMP\/base-out"/);
        const head = runStep("offline", /--against-dir/);
        expect(head.run).toContain("scripts/ci.sh plan-all");
        expect(head.run).toContain("GITHUB_STEP_SUMMARY");
        expect(fs.readFileSync(path.join(ROOT, "scripts", "ci.sh"), "utf8")).toContain("for f in Pulumi.*.yaml");
        const render = runStep("offline", /render-all/);
        expect(steps("offline").indexOf(render)).toBeGreaterThan(steps("offline").indexOf(runStep("offline", /charts:pull/)));
        const upload = steps("offline").find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
        expect(upload.if).toBe("always()");
        const paths = String(upload.with!.path);
        for (const f of ["plan.json", "mesh.svg", "summary.md", "diff.txt", "changes.json"]) expect(paths).toContain(`out/*/${f}`);
        expect(paths).toContain("out/*/*/manifests/");
    });

    it("runs pulumi preview with the policy pack and a PR comment only where credentials are configured", () => {
        const job = wf.jobs.preview;
        expect(job.needs).toBe("offline");
        expect(job.if).toContain("vars.PULUMI_PREVIEW_STACKS != ''");
        expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
        expect(job.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
        expect(job.strategy.matrix.stack).toBe("${{ fromJSON(vars.PULUMI_PREVIEW_STACKS) }}");
        const preview = steps("preview").find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        expect(preview.with).toMatchObject({
            command: "preview",
            "stack-name": "${{ matrix.stack }}",
            "comment-on-pr": true,
            policyPacks: "policy",
            "github-token": "${{ secrets.GITHUB_TOKEN }}",
        });
        // OIDC logins, each only when its variable is set.
        for (const [action, variable] of [
            ["pulumi/auth-actions@", "PULUMI_ORGANIZATION"],
            ["google-github-actions/auth@", "GCP_WORKLOAD_IDENTITY_PROVIDER"],
            ["aws-actions/configure-aws-credentials@", "AWS_ROLE_ARN"],
        ]) {
            const s = steps("preview").find((x) => x.uses?.startsWith(action));
            expect(s?.if, action).toBe(`\${{ vars.${variable} != '' }}`);
        }
        expect(steps("preview").findIndex((s) => s.uses?.startsWith("pulumi/actions@"))).toBe(steps("preview").length - 1);
        expect(runStep("preview", /policy\/node_modules/).run).toContain("ln -sfn ../node_modules policy/node_modules");
    });

    // Audit (issue 17 item 1): anyone who can push a branch could read the secrets and mint cloud tokens.
    it("holds secrets only after an environment approval, each in the one step that needs it", () => {
        const job = wf.jobs.preview;
        expect(job.environment).toBe("preview");
        expect(job.env).toBeUndefined();
        expect(wf.env).toBeUndefined();
        // Every ${{ secrets.* }} sits in a step's env or with, in the preview job only.
        const offline = JSON.stringify(wf.jobs.offline);
        expect(offline).not.toMatch(/secrets\./);
        const holders = steps("preview").filter((x) => JSON.stringify(x).includes("secrets."));
        expect(holders.map((x) => x.name)).toEqual(["Kubeconfig of existing clusters", "pulumi preview with the policy pack"]);
        expect(holders[0].env).toEqual({ KUBECONFIG_B64: "${{ secrets.KUBECONFIG_B64 }}" });
        expect(holders[1].env).toEqual({ PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
        // The code that runs with them was installed without any dependency's install script, from a checkout without a token.
        expect(runStep("preview", /npm ci/).run).toMatch(/^npm ci --ignore-scripts /);
        for (const job of Object.keys(wf.jobs)) {
            const checkout = steps(job).find((x) => x.uses?.startsWith("actions/checkout@"))!;
            expect(checkout.with?.["persist-credentials"], job).toBe(false);
            for (const x of steps(job).filter((y) => y.run && /npm ci\b/.test(y.run!))) expect(x.run).toMatch(/npm ci --ignore-scripts/);
        }
        // No trigger that hands a fork's code the base repository's secrets.
        expect(Object.keys(wf.on)).not.toContain("pull_request_target");
        // The docs of the review (docs/offline-plan.md, "In pull requests") document the model.
        const readme = fs.readFileSync(path.join(ROOT, "docs", "offline-plan.md"), "utf8");
        expect(readme).toMatch(/\*\*Trust model\.\*\*[\s\S]*environment `preview`[\s\S]*environment:preview/);
    });
});

describe("the plan-and-diff step, run with a stand-in npm", () => {
    const dir = tempDir("workflow-");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Run the step's script in a copy of the stacks, with `npm` recording its arguments and exiting with `rc(stack)`. */
    function runPlanStep(rcs: Record<string, number>, basePlans: string[]) {
        const work = fs.mkdtempSync(path.join(dir, "w-"));
        const bin = path.join(work, "bin");
        const runnerTemp = path.join(work, "tmp");
        fs.mkdirSync(bin);
        for (const s of shippedStacks()) fs.copyFileSync(path.join(ROOT, `Pulumi.${s}.yaml`), path.join(work, `Pulumi.${s}.yaml`));
        fs.mkdirSync(path.join(work, "scripts"));
        fs.copyFileSync(path.join(ROOT, "scripts", "ci.sh"), path.join(work, "scripts", "ci.sh"));
        for (const s of basePlans) {
            fs.mkdirSync(path.join(runnerTemp, "base-out", s), { recursive: true });
            fs.writeFileSync(path.join(runnerTemp, "base-out", s, "plan.json"), "{}");
        }
        fs.writeFileSync(
            path.join(bin, "npm"),
            `#!/usr/bin/env bash\necho "$*" >> "$NPM_LOG"\nwhile [ $# -gt 0 ]; do [ "$1" = --stack ` +
                `] && stack=$2; shift; done\nmkdir -p "out/$stack" && echo "## $stack" > "out/$stack/summary.md"\nrc=$(grep ` +
                `"^$stack=" "$RCS" | cut -d= -f2)\nexit "\${rc:-0}"\n`,
            { mode: 0o755 },
        );
        const rcsFile = path.join(work, "rcs");
        fs.writeFileSync(
            rcsFile,
            Object.entries(rcs)
                .map(([k, v]) => `${k}=${v}\n`)
                .join(""),
        );
        const summary = path.join(work, "summary.md");
        const log = path.join(work, "npm.log");
        fs.writeFileSync(log, "");
        const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", runStep("offline", /--against-dir/).run!], {
            cwd: work,
            encoding: "utf8",
            env: { PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary, NPM_LOG: log, RCS: rcsFile },
        });
        return {
            status: r.status,
            stdout: r.stdout,
            log: fs.readFileSync(log, "utf8").trim().split("\n"),
            summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "",
            runnerTemp,
        };
    }

    it("plans every shipped stack, with --against where the base has a plan, and passes when the mesh changes (exit 2)", () => {
        const stacks = shippedStacks();
        const withBase = stacks.slice(0, Math.max(1, stacks.length - 1));
        const r = runPlanStep({ [withBase[0]]: 2 }, withBase);
        expect(r.status).toBe(0);
        expect(r.log).toHaveLength(stacks.length);
        for (const s of stacks) {
            const line = r.log.find((l) => l.split(" ").includes(s) && l.includes(`--stack ${s}`));
            expect(line, s).toBeDefined();
            expect(line!.startsWith("run --silent plan -- --stack")).toBe(true);
            if (withBase.includes(s)) expect(line).toContain(`--against ${r.runnerTemp}/base-out/${s}/plan.json`);
            else expect(line).not.toContain("--against");
            expect(r.summary).toContain(`## ${s}`);
        }
        if (stacks.length > 1) expect(r.stdout).toContain(`::notice::no base plan for stack ${stacks[stacks.length - 1]}`);
    });

    it("fails when a plan fails (exit 1), after planning the others", () => {
        const stacks = shippedStacks();
        const r = runPlanStep({ [stacks[0]]: 1 }, stacks);
        expect(r.status).toBe(1);
        expect(r.log).toHaveLength(stacks.length);
    });
});

// Sanity of the environment the stand-in relies on.
execFileSync("bash", ["--version"]);
