// Platform facts apart from builders (components/platforms/types.ts): importing the validator, the
// offline tools, the simulator, the policy pack or the library loads no cloud SDK; a platform's
// builder (components/platforms/<name>/cluster.ts) and its SDK load only where clusters are created.
// Checked on the modules a fresh Node process really loads (require.cache), not on import lines.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const CLOUD_SDKS = ["@pulumi/aws", "@pulumi/gcp", "@pulumi/command"];

/** The modules loaded after each of `modules`, imported in order by one fresh process (the first alone, then cumulative). */
function loaded(...modules: string[]): string[][] {
    const r = spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), ["test/support/loadedModules.ts", ...modules], {
        cwd: ROOT,
        encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    return (JSON.parse(r.stdout) as string[][]).map((list) => list.map((m) => path.relative(ROOT, m)));
}

const packageOf = (m: string) => {
    const rest = m.split("node_modules/").pop()!.split("/");
    return m.includes("node_modules/") ? (rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]) : undefined;
};

describe("what importing a module loads", () => {
    it("components/meshConfig (the validator): no cloud SDK, no @pulumi/kubernetes, no builder, not the @pulumi/pulumi index", () => {
        const [mods] = loaded("./components/meshConfig");
        expect(mods).toContain("components/meshConfig.ts");
        expect(mods.filter((m) => m.startsWith("components/platforms/"))).toContain("components/platforms/registry.ts");
        const pkgs = new Set(mods.map(packageOf));
        for (const sdk of [...CLOUD_SDKS, "@pulumi/kubernetes", "@pulumi/tls"]) expect(pkgs.has(sdk), sdk).toBe(false);
        expect(mods.filter((m) => /components\/platforms\/[^/]+\/cluster\.ts$/.test(m))).toEqual([]);
        expect(mods).not.toContain("node_modules/@pulumi/pulumi/index.js");
    });

    // One process for the five: a module none of them may load is absent from the union of what they
    // load, so each list after the first (cumulative) is checked too.
    const ENTRIES = ["./components/index", "./offline/offlinePlan", "./simulator/simulator", "./policy/policies", "./offline/bench/model"];
    it(`${ENTRIES.join(", ")}: no cloud SDK and no platform builder`, () => {
        const lists = loaded(...ENTRIES);
        expect(lists).toHaveLength(ENTRIES.length);
        lists.forEach((mods, i) => {
            expect(mods, ENTRIES[i]).toContain(`${ENTRIES[i].slice(2)}.ts`);
            const pkgs = new Set(mods.map(packageOf));
            expect(
                CLOUD_SDKS.filter((s) => pkgs.has(s)),
                ENTRIES[i],
            ).toEqual([]);
            expect(
                mods.filter((x) => /components\/platforms\/[^/]+\/cluster\.ts$/.test(x)),
                ENTRIES[i],
            ).toEqual([]);
        });
    });

    it("every builder is where its platform says, and it is the only module of the folder that names the platform's SDK", () => {
        const dir = path.join(ROOT, "components/platforms");
        for (const name of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory())) {
            for (const file of fs.readdirSync(path.join(dir, name))) {
                const text = fs.readFileSync(path.join(dir, name, file), "utf8");
                const sdkImports = CLOUD_SDKS.filter((s) => new RegExp(`from "${s}"`).test(text));
                if (file !== "cluster.ts") expect(sdkImports, `components/platforms/${name}/${file}`).toEqual([]);
            }
        }
    });
});
