// The deploy gate: tier 1 of the post-deploy check, run by `pulumi up` once every object of the mesh
// exists, failing the update with the check's report when a check still fails after a bounded wait.
// Some of what the check reads becomes true only after the update's own steps are done: a
// LoadBalancer address, a token the token controller fills, a caBundle istiod patches in. So the gate
// retries every few seconds until every check passes or the time is up.
//
// It is an Output that depends on every resource of the mesh (Mesh.deployed) and is exported as a
// stack output: the engine waits for it before the update completes, and an error thrown in it fails
// the update (@pulumi/pulumi runtime: a rejected stack output fails the program). In a preview those
// resources have no IDs yet, so it does not run; under the mock runtime (the offline plan, the tests)
// nothing real exists to check, so it does not run either.
import * as pulumi from "@pulumi/pulumi";
import { checkMesh, type CheckReport, type ClusterAccess, type MeshIntent } from "./checks";
import { formatReport } from "./format";

export interface GateArgs {
    intent: MeshIntent;
    /** Resolves once every object of the mesh exists (Mesh.deployed). */
    deployed: pulumi.Input<unknown>;
    /** Each cluster's kubeconfig (content or path) and context. */
    access: pulumi.Input<ClusterAccess[]>;
    /** How long to wait for every check to pass (default 300 s). */
    timeoutSeconds?: number;
    /** Seconds between tries (default 5). */
    everySeconds?: number;
    /** The check (tests inject one). */
    check?: (intent: MeshIntent, access: ClusterAccess[]) => Promise<CheckReport>;
}

/** Whether this program runs under Pulumi's mock runtime (pulumi.runtime.setMocks): then no cluster is real. */
function underMocks(): boolean {
    const monitor = pulumi.runtime.getMonitor() as { constructor?: { name?: string } } | undefined;
    return monitor?.constructor?.name === "MockMonitor";
}

/** Retry the check until it passes or `timeoutSeconds` is up; resolves to the passing summary, rejects with the last report. */
export async function waitForChecks(
    intent: MeshIntent,
    access: ClusterAccess[],
    a: Pick<GateArgs, "timeoutSeconds" | "everySeconds" | "check">,
): Promise<string> {
    const check = a.check ?? ((i, acc) => checkMesh(i, acc, { tier2: false }));
    const deadline = Date.now() + (a.timeoutSeconds ?? 300) * 1000;
    let tries = 0;
    for (;;) {
        tries++;
        const report = await check(intent, access);
        if (report.ok) {
            const passed = report.results.filter((r) => r.ok).length;
            return `post-deploy check passed: ${passed} checks in ${intent.clusters.length} clusters (${tries} ${tries === 1 ? "try" : "tries"})`;
        }
        if (Date.now() >= deadline)
            throw new Error(
                `the post-deploy check failed after ${a.timeoutSeconds ?? 300} s (${tries} tries; mesh.check.gate, docs/check.md):\n${formatReport(report)}`,
            );
        await new Promise((r) => setTimeout(r, (a.everySeconds ?? 5) * 1000));
    }
}

/** The gate as a stack output (see the top of this file). */
export function deployGate(a: GateArgs): pulumi.Output<string> {
    const result = pulumi.all([a.deployed, a.access]).apply(async ([, access]) => {
        if (pulumi.runtime.isDryRun()) return "post-deploy check: runs after the mesh is up (pulumi up)";
        if (underMocks()) return "post-deploy check: not run offline (no real cluster)";
        return waitForChecks(a.intent, access as ClusterAccess[], a);
    });
    // The summary holds no credential, though it is computed from kubeconfigs (secret).
    return pulumi.unsecret(result);
}
