// Run the offline plan of a shipped stack from a test: fresh program module, console quiet.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { vi } from "vitest";
import { plan, PlanOptions, PlanResult } from "../../offline/offlinePlan";

export const ROOT = path.resolve(__dirname, "../..");

/** Every Pulumi.<stack>.yaml in the repository. */
export function shippedStacks(): string[] {
    return fs
        .readdirSync(ROOT)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .map((f) => f.slice("Pulumi.".length, -".yaml".length))
        .sort();
}

export function tempDir(prefix = "plan-"): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** plan() with the program loaded afresh and its console output captured. */
export async function planStack(
    stack: string,
    out: string,
    options: PlanOptions = {},
): Promise<PlanResult & { stdout: string; stderr: string }> {
    vi.resetModules();
    const logs: string[] = [];
    const errs: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
    const err = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errs.push(a.join(" ")));
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (logs.push(String(chunk)), true));
    try {
        const r = await plan(stack, out, () => import("../../index.js"), options);
        return { ...r, stdout: logs.join("\n"), stderr: errs.join("\n") };
    } finally {
        log.mockRestore();
        err.mockRestore();
        write.mockRestore();
    }
}
