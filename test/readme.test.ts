// The README is the first page (CONTRIBUTING.md, "Layout"; issue 18 item 4): short, with the two
// commands that work on a fresh clone, and a way to every doc. What moved out of it lives in docs/ by
// task; the tests that check those facts read them there.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

describe("the README", () => {
    it("stays short: about 150 lines", () => {
        expect(readme.split("\n").length).toBeLessThanOrEqual(150);
    });

    it("holds the two commands: the offline plan of the default stack, and the tests (scripts that exist)", () => {
        expect(readme).toContain("npm ci --ignore-scripts && npm run plan -- --stack dev");
        expect(readme).toContain("bash scripts/ci.sh install && npm test");
        expect(fs.existsSync(path.join(ROOT, "Pulumi.dev.yaml"))).toBe(true);
        for (const s of ["plan", "test", "test:unit", "test:program", "test:external"]) expect(pkg.scripts[s], s).toBeDefined();
    });

    it("links running it for real on one machine, checking a deployed mesh, and CONTRIBUTING.md", () => {
        expect(readme).toMatch(/run it for real on one machine[^\n]*\]\(docs\/real-engine\.md\)/i);
        expect(readme).toMatch(/checking a deployed mesh[^\n]*\]\(docs\/check\.md\)/i);
        expect(readme).toContain("](CONTRIBUTING.md)");
    });

    it("reaches every doc: each docs/*.md is linked from the README or from a doc it links", () => {
        const linked = (text: string, dir: string) =>
            [...text.matchAll(/\]\(([^)\s#]+\.md)(#[^)]*)?\)/g)].map((m) => path.normalize(path.join(dir, m[1])));
        const seen = new Set<string>();
        const queue = linked(readme, "");
        while (queue.length) {
            const f = queue.pop()!;
            if (seen.has(f) || !f.startsWith("docs/")) continue;
            seen.add(f);
            queue.push(...linked(fs.readFileSync(path.join(ROOT, f), "utf8"), path.dirname(f)));
        }
        const docs = fs
            .readdirSync(path.join(ROOT, "docs"))
            .filter((f) => f.endsWith(".md"))
            .map((f) => `docs/${f}`);
        expect(docs.filter((d) => !seen.has(d))).toEqual([]);
    });
});
