// Every test file belongs to exactly one tier (test/tiers.ts), so `npm test`, which runs the three,
// runs every file once.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { TIERS } from "./tiers";

describe("test tiers", () => {
    it("put every test/*.test.ts file in exactly one tier, and name no missing file", () => {
        const files = fs
            .readdirSync(__dirname)
            .filter((f) => f.endsWith(".test.ts"))
            .map((f) => f.slice(0, -".test.ts".length))
            .sort();
        const listed = Object.values(TIERS).flat();
        expect([...listed].sort()).toEqual(files);
        expect(new Set(listed).size).toBe(listed.length);
    });

    it("keep the unit tier free of the simulator, processes and outside tools (what makes it fast)", () => {
        const offenders = TIERS.unit.flatMap((f) => {
            const src = fs.readFileSync(path.join(__dirname, `${f}.test.ts`), "utf8");
            return /\b(runMesh|planStack|runProgram|execFile\w*|spawn\w*)\(|from "\.\/support\/(harness|planRun|opensslCa)"/.test(src)
                ? [f]
                : [];
        });
        expect(offenders).toEqual([]);
    });
});
