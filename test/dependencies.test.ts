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

// Audit (issue 17 item 12): four dependencies run install scripts (two of them `pulumi plugin install`
// over the network); none is needed, and none may run unnoticed.
describe("install scripts", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
        packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
        .filter(([, p]) => p.hasInstallScript)
        .map(([at]) => at.replace(/^.*node_modules\//, ""))
        .sort();
    const allow = (pkg as unknown as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};

    it("every package with an install script has a decision in package.json's allowScripts (npm 11), and each is denied", () => {
        expect(withScripts).toEqual(["@pulumi/command", "@pulumi/kubernetes", "esbuild", "protobufjs"]);
        for (const name of withScripts) expect(allow[name], name).toBe(false);
    });

    it("the README says why each is not needed, and CI and the workflow install with --ignore-scripts (older npm ignores allowScripts)", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("### Dependencies and install scripts"));
        for (const name of withScripts) expect(section.slice(0, 2000)).toContain(`\`${name}\``);
        for (const f of ["scripts/ci.sh", ".github/workflows/preview.yml"]) {
            const text = fs.readFileSync(path.join(ROOT, f), "utf8");
            // Commands only (a line that runs npm ci), not comments or step names.
            const installs = (text.match(/^\s*(?:run:\s*|install\) apt_install; )?npm ci\b[^\n]*/gm) ?? []).map((l) =>
                l.replace(/^\s*(?:run:\s*|install\) apt_install; )?/, ""),
            );
            expect(installs.length, f).toBeGreaterThan(0);
            for (const line of installs) expect(line, f).toMatch(/^npm ci --ignore-scripts\b/);
        }
    });

    it("esbuild (tsx, vitest) finds its binary without its postinstall: in its platform package", () => {
        // What the postinstall would do is optional: the JS API resolves @esbuild/<platform>/bin/esbuild itself.
        const platformPkg = `@esbuild/${process.platform}-${process.arch}`;
        expect(fs.existsSync(path.join(ROOT, "node_modules", platformPkg, "bin", "esbuild"))).toBe(true);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed esbuild, as tsx loads it
        const esbuild = require("esbuild") as { transformSync(code: string, o: { loader: string }): { code: string } };
        expect(esbuild.transformSync("const x: number = 1", { loader: "ts" }).code).toBe("const x = 1;\n");
    });
});
