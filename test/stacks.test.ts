// Every shipped stack plans offline, and the project keeps the default Kubernetes provider off.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it, vi } from "vitest";
import { plan, readStackFile } from "../offline/offlinePlan";

const ROOT = path.resolve(__dirname, "..");
const stacks = fs
    .readdirSync(ROOT)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.slice("Pulumi.".length, -".yaml".length));

describe("project file", () => {
    it("disables the default Kubernetes provider", () => {
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        expect(project.name).toBe("multicluster-mesh");
        expect(project.runtime.name).toBe("nodejs");
        expect(project.config["pulumi:disable-default-providers"]).toContain("kubernetes");
    });
});

describe("shipped stacks", () => {
    it("include dev and a primary-remote example", () => {
        expect(stacks).toContain("dev");
        expect(
            stacks.some(
                (s) =>
                    readStackFile(s).config["multicluster-mesh:mesh"] &&
                    (readStackFile(s).config["multicluster-mesh:mesh"] as { topology: string }).topology === "primary-remote",
            ),
        ).toBe(true);
    });
    for (const stack of stacks) {
        it(`plans ${stack} offline, writing values and redacted objects per cluster`, async () => {
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
            vi.resetModules();
            const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
            try {
                const r = await plan(stack, out, () => import("../index.js"));
                expect(r.ok).toBe(true);
                const mesh = readStackFile(stack).config["multicluster-mesh:mesh"] as { clusters: { name: string }[] };
                expect(r.clusters.map((c) => c.name).sort()).toEqual(mesh.clusters.map((c) => c.name).sort());
                for (const c of mesh.clusters) {
                    expect(fs.existsSync(path.join(out, stack, c.name, "helm", "istiod.values.yaml"))).toBe(true);
                    expect(fs.existsSync(path.join(out, stack, c.name, "objects.yaml"))).toBe(true);
                }
                const all = r.written.map((f) => fs.readFileSync(f, "utf8")).join("\n");
                expect(all).not.toMatch(/PRIVATE KEY|eyJhbGci|"token":/);
                expect(all).toContain("<redacted: ");
            } finally {
                log.mockRestore();
                fs.rmSync(out, { recursive: true, force: true });
            }
        });
    }
});
