// The policy pack (policy/), run offline against any stack: the stack's offline plan (the real
// program under the simulator, as `npm run plan` runs it) handed to every policy the way the
// @pulumi/policy analyzer would hand a preview's resources (policy/testing.ts), no Pulumi CLI and no
// cloud. What it cannot show: values only a real preview knows (a cloud's outputs, a token), which
// the simulator stands in for; `pulumi preview --policy-pack policy` remains the check of record.
//
//   npm run policy -- --stack dev [--stack-dir dir] [--config policy-config.json]
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { meshPolicies } from "../policy/policies";
import { checkResources, checkStack, fromRegistrations } from "../policy/testing";
import { problemLines } from "./offlinePlan";
import { runProgram } from "./runProgram";
import { readStackFile } from "./stackFile";

export interface PolicyOutcome {
    policy: string;
    level: "mandatory" | "advisory" | "disabled";
    violations: string[];
    /** Set when the policy declared itself not applicable to this stack. */
    notApplicable?: string;
}

export interface PolicyRun {
    /** The stack did not plan: its problems, one line each (no policy ran). */
    errors: string[];
    outcomes: PolicyOutcome[];
}

/**
 * Run every policy of the pack on the stack's offline plan. `config` is what
 * `--policy-pack-config` takes: policy name → its config object.
 */
export async function runPolicyPack(
    stack: string,
    dir: string,
    load: () => Promise<Record<string, unknown>>,
    config: Record<string, Record<string, unknown>> = {},
): Promise<PolicyRun> {
    let sf: ReturnType<typeof readStackFile>;
    try {
        sf = readStackFile(stack, dir);
    } catch (e) {
        return { errors: problemLines(e as Error), outcomes: [] };
    }
    const r = await runProgram({ config: sf.config, secretKeys: sf.secretKeys, stack, load, sim: { cannedTls: true } });
    if (r.error) return { errors: problemLines(r.error), outcomes: [] };
    const resources = fromRegistrations(r.sim.registrations, r.outputs, stack);
    const outcomes: PolicyOutcome[] = [];
    for (const p of meshPolicies({ stackName: () => stack }) as (ResourceValidationPolicy | StackValidationPolicy)[]) {
        const level = (p.enforcementLevel ?? "advisory") as PolicyOutcome["level"];
        const own = config[p.name] ?? {};
        const result = "validateStack" in p ? await checkStack(p, resources, own) : await checkResources(p, resources, own);
        outcomes.push({
            policy: p.name,
            level,
            violations: result.violations.map((v) => v.message),
            ...(result.notApplicable ? { notApplicable: result.notApplicable } : {}),
        });
    }
    return { errors: [], outcomes };
}

/** The report: one line per policy (PASS, FAIL for a mandatory violation, WARN for an advisory one), then each violation. */
export function formatPolicyRun(stack: string, run: PolicyRun): { text: string; exit: number } {
    if (run.errors.length) return { text: run.errors.map((e) => `error: stack ${stack}: ${e}`).join("\n") + "\n", exit: 1 };
    const lines: string[] = [];
    let failed = 0;
    for (const o of run.outcomes) {
        const mark = o.violations.length === 0 ? "PASS" : o.level === "mandatory" ? "FAIL" : "WARN";
        if (mark === "FAIL") failed++;
        lines.push(`${mark}  ${o.policy} (${o.level})${o.notApplicable ? `: not applicable: ${o.notApplicable}` : ""}`);
        for (const v of o.violations) lines.push(`        ${v}`);
    }
    lines.push(
        failed
            ? `policy pack on stack ${stack}: ${failed} mandatory ${failed === 1 ? "policy fails" : "policies fail"}`
            : `policy pack on stack ${stack}: every mandatory policy passes (${run.outcomes.length} policies)`,
    );
    return { text: `${lines.join("\n")}\n`, exit: failed ? 1 : 0 };
}
