// The tools around the plan (issue 19 item 8): the bench's verdicts (a target a run did not measure
// is SKIP, never FAIL; a measured failure makes it exit 1), screenshots of the shipped stacks only,
// the policy pack listed in full in docs/policy.md and runnable offline against any stack with one
// command. (`--against` a format-1 plan: test/changeWarnings.test.ts.)
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as YAML from "yaml";
import { afterAll, describe, expect, it, vi } from "vitest";
import { benchExitCode, CostRow, DeployRow, mark, TARGETS, targetLines, targetsPass } from "../offline/bench/bench";
import type { DeployResult } from "../offline/bench/run";
import { formatPolicyRun, runPolicyPack } from "../offline/policyRun";
import { meshPolicies } from "../policy/policies";
import { SHIPPED_STACKS, shippedStacks } from "../scripts/screenshots";
import { ROOT, tempDir } from "./support/planRun";

const tmp = tempDir("tools-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cost = (n: number, extra: Partial<CostRow> = {}): CostRow => ({
    model: "multi-primary",
    n,
    registrations: n * n + 15 * n + 4,
    formula: n * n + 15 * n + 4,
    countOk: true,
    byType: {},
    wallMs: [1000],
    programMs: [500],
    peakRssMB: [300],
    wallMedianMs: 1000,
    programMedianMs: 500,
    startMedianMs: 400,
    constructMedianMs: 50,
    registerMedianMs: 50,
    peakRssMedianMB: 300,
    ...extra,
});
const deploy = (n: number, ratio: number): DeployRow => ({
    model: "multi-primary",
    n,
    ratio,
    result: { makespan: 141 * ratio, lowerBound: 141 } as DeployResult,
});

describe("bench verdicts", () => {
    it("--quick (no N=50): the 50-cluster targets are SKIP, not FAIL, and the run passes", () => {
        const lines = targetLines([cost(2), cost(5), cost(10)], [deploy(2, 1), deploy(10, 1)]);
        const skipped = lines.filter((l) => mark(l) === "SKIP");
        expect(skipped.map((l) => l.text)).toEqual([
            expect.stringMatching(/^50-cluster multi-primary program run ≤ 10 s: not measured in this run \(N=50 not in --ns\)$/),
            expect.stringMatching(/^50-cluster multi-primary peak memory ≤ 1\.5 GB: not measured/),
            expect.stringMatching(/^50-cluster multi-primary perReader within 2× of perSource: not measured/),
        ]);
        expect(lines.filter((l) => mark(l) === "FAIL")).toEqual([]);
        expect(targetsPass(lines)).toBe(true);
        expect(benchExitCode(targetsPass(lines))).toBe(0);
    });

    it("a measured target that fails makes the bench exit 1", () => {
        const slow = targetLines([cost(50, { wallMedianMs: (TARGETS.wallSeconds + 5) * 1000, wallMs: [15000] })], [deploy(2, 1.2)]);
        expect(slow.filter((l) => mark(l) === "FAIL").map((l) => l.text)).toEqual([
            expect.stringMatching(/^makespan \/ lower bound ≤ 1\.05: multi-primary N=2/),
            expect.stringMatching(/^50-cluster multi-primary program run ≤ 10 s: median 15\.00 s/),
        ]);
        expect(benchExitCode(targetsPass(slow))).toBe(1);
        // And the CLI exits with that code, with no --strict needed.
        const cli = fs.readFileSync(path.join(ROOT, "scripts", "bench.ts"), "utf8");
        expect(cli).toMatch(/process\.exit\(benchExitCode\(ok\)\)/);
    });
});

describe("screenshots", () => {
    it("picture only the shipped stacks unless asked: SHIPPED_STACKS is exactly the stack files in git", () => {
        let tracked: string[];
        try {
            tracked = execFileSync("git", ["ls-files", "Pulumi.*.yaml"], { cwd: ROOT, encoding: "utf8" })
                .trim()
                .split("\n")
                .map((f) => f.slice("Pulumi.".length, -".yaml".length))
                .sort();
        } catch {
            tracked = [...SHIPPED_STACKS];
        }
        expect([...SHIPPED_STACKS].sort()).toEqual(tracked);
        const dir = path.join(tmp, "stacks");
        fs.mkdirSync(dir, { recursive: true });
        for (const s of ["dev", "mine", "prod"]) fs.writeFileSync(path.join(dir, `Pulumi.${s}.yaml`), "config: {}\n");
        expect(shippedStacks(dir)).toEqual(["dev"]);
    });
});

describe("the policy pack", () => {
    it("docs/policy.md lists every policy of the pack, and only those", () => {
        const readme = fs.readFileSync(path.join(ROOT, "docs", "policy.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Policy pack"));
        const listed = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).sort();
        expect(listed).toEqual(
            meshPolicies({ stackName: () => "x" })
                .map((p) => p.name)
                .sort(),
        );
        expect(section).toContain("npm run policy -- --stack <stack>");
    });

    it("runs offline against any stack: a shipped one passes, a production stack with an unprotected GKE cluster fails", async () => {
        vi.resetModules();
        const ok = await runPolicyPack("gcp-aws", ROOT, () => import("../index.js"));
        expect(ok.errors).toEqual([]);
        expect(ok.outcomes.map((o) => o.policy).sort()).toEqual(
            meshPolicies({ stackName: () => "x" })
                .map((p) => p.name)
                .sort(),
        );
        expect(formatPolicyRun("gcp-aws", ok)).toMatchObject({ exit: 0 });

        // The same mesh as a production stack, its GKE cluster unprotected and without deletion protection.
        const mesh = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.gcp-aws.yaml"), "utf8")).config["multicluster-mesh:mesh"];
        for (const c of mesh.clusters) {
            c.protect = false;
            if (c.gke) c.gke.deletionProtection = false;
        }
        const dir = path.join(tmp, "prod");
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.prod-eu.yaml"), YAML.stringify({ config: { "multicluster-mesh:mesh": mesh } }));
        vi.resetModules();
        const bad = await runPolicyPack("prod-eu", dir, () => import("../index.js"));
        const report = formatPolicyRun("prod-eu", bad);
        expect(report.exit).toBe(1);
        expect(report.text).toMatch(/^FAIL {2}production-deletion-protection \(mandatory\)$/m);
        expect(report.text).toMatch(/policy pack on stack prod-eu: \d+ mandatory polic(y fails|ies fail)/);
    }, 120_000);

    it("npm run policy: one command, its exit code", async () => {
        const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
        const r = await promisify(execFile)(tsx, [path.join(ROOT, "scripts", "policy.ts"), "--stack", "primary-remote"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        expect(r.stdout).toMatch(/^PASS {2}kubernetes-explicit-provider \(mandatory\)$/m);
        expect(r.stdout).toMatch(/policy pack on stack primary-remote: every mandatory policy passes/);
        const missing = await promisify(execFile)(tsx, [path.join(ROOT, "scripts", "policy.ts"), "--stack", "nope"], {
            cwd: ROOT,
            encoding: "utf8",
        }).catch((e: { code: number; stderr: string }) => e);
        expect((missing as { code: number }).code).toBe(1);
        expect((missing as { stderr: string }).stderr).toMatch(/^error: stack nope: no stack file Pulumi\.nope\.yaml/m);
    }, 120_000);
});
