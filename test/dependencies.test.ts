// Every package the program (index.ts, for `pulumi up`) or the library (components/) imports at run
// time is a production dependency: `npm ci --omit=dev`, as a deploy image or a consumer installs
// it, must give the program everything it loads. Found by following the real import graph.
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
};

/** Imports that run (not `import type`), by following relative imports from the entry points. */
function runtimeImports(entries: string[]): Map<string, string> {
    const found = new Map<string, string>(); // package → first file importing it
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const src = fs.readFileSync(file, "utf8");
        const specs = [
            ...src.matchAll(/^\s*import\s+(?!type\b)(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm),
            ...src.matchAll(/^\s*export\s+(?!type\b)[^'"]*?\s+from\s+["']([^"']+)["']/gm),
            ...src.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
        ].map((m) => m[1]);
        for (const spec of specs) {
            if (spec.startsWith(".")) {
                const base = path.resolve(path.dirname(file), spec.replace(/\.js$/, ""));
                const target = [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
                if (target) visit(target);
                continue;
            }
            if (spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0])) continue;
            const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
            if (!found.has(name)) found.set(name, path.relative(ROOT, file));
        }
    };
    for (const e of entries) visit(path.join(ROOT, e));
    return found;
}

describe("runtime dependencies", () => {
    const imports = runtimeImports(["index.ts", "components/index.ts"]);

    it("finds the program's imports (the walk is not vacuous)", () => {
        expect([...imports.keys()]).toEqual(
            expect.arrayContaining(["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/tls", "zod", "@peculiar/x509"]),
        );
    });

    it("lists every package the program imports at run time under dependencies, not devDependencies", () => {
        const missing = [...imports].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
        expect(missing).toEqual([]);
    });
});
