// The lint rules of eslint.config.mjs that encode the layout, run on sample sources with ESLint's own
// Linter (the whole-repository lint is `npm run lint`, in `npm test`).
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Linter } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

async function configFor(file: string): Promise<Linter.Config[]> {
    const mod = (await import(pathToFileURL(path.join(ROOT, "eslint.config.mjs")).href)) as { default: Linter.Config[] };
    // The layout rules only: the blocks that name files, without the type-aware parser options.
    return mod.default
        .filter((c) => c.files?.some((g) => typeof g === "string" && g.startsWith("components/")))
        .map((c): Linter.Config => ({ files: ["**/*.ts"], languageOptions: { parser: tseslint.parser as Linter.Parser }, rules: c.rules }))
        .concat([{ files: [file] }]);
}

describe("components/ never imports offline/, simulator/, scripts/ or test/", () => {
    const cases: [string, string, boolean][] = [
        ["components/mesh.ts", 'import { plan } from "../offline/offlinePlan";', false],
        ["components/platforms/kind/index.ts", 'import { Simulator } from "../../../simulator/simulator";', false],
        ["components/mesh.ts", 'import type { PlanFile } from "../offline/planFile";', false],
        ["components/traffic/compile.ts", 'import { x } from "../../scripts/plan";', false],
        ["components/check/gate.ts", 'import { x } from "../../test/support/harness";', false],
        ["components/mesh.ts", 'import { planMesh } from "./meshPlan";', true],
        ["components/mesh.ts", 'import { checkMesh } from "./check/checks";', true],
        ["components/platforms/gke/index.ts", 'import { forceNewRule } from "../changeRules";', true],
    ];
    it.each(cases)("%s: %s → allowed %s", async (file, code, allowed) => {
        const messages = new Linter({ configType: "flat", cwd: ROOT }).verify(code, await configFor(file), path.join(ROOT, file));
        expect(messages.map((m) => m.ruleId)).toEqual(allowed ? [] : ["no-restricted-imports"]);
    });
});
