// Every package the program (index.ts, for `pulumi up`) or the library (components/) imports at run
// time is a production dependency: `npm ci --omit=dev`, as a deploy image or a consumer installs
// it, must give the program everything it loads. Found by following the real import graph. The one
// exception is a platform's cloud SDK, loaded only by its builder (components/platforms/<name>/cluster.ts):
// an optional peer dependency, so a library user of `existing` clusters installs none, and a dev
// dependency, so a clone has them all (docs/library.md, "Installing").
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../components/platforms/registry";

const ROOT = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
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
            ...src.matchAll(/(?<!typeof\s)\bimport\(\s*["']([^"']+)["']\s*\)/g),
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

    it("lists every package the program imports at run time under dependencies, a builder's cloud SDK under optional peers", () => {
        const isBuilder = (file: string) => /^components\/platforms\/[^/]+\/cluster\.ts$/.test(file);
        const missing = [...imports]
            .filter(([name, file]) => !(name in pkg.dependencies) && !(isBuilder(file) && name in pkg.peerDependencies))
            .map(([name, file]) => `${name} (imported by ${file})`);
        expect(missing).toEqual([]);
    });

    it("makes each platform's SDK (its `sdks`) an optional peer dependency, pinned for the repository under devDependencies", () => {
        const sdks = [...new Set(PLATFORMS.flatMap((p) => p.sdks))].sort();
        expect(sdks).toEqual(["@pulumi/aws", "@pulumi/command", "@pulumi/gcp"]);
        expect(Object.keys(pkg.peerDependencies).sort()).toEqual(sdks);
        for (const sdk of sdks) {
            expect(pkg.peerDependenciesMeta[sdk], sdk).toEqual({ optional: true });
            expect(sdk in pkg.dependencies, sdk).toBe(false);
            // The range a user installs from includes the version this repository tests with.
            expect(pkg.peerDependencies[sdk], sdk).toBe(`^${pkg.devDependencies[sdk]}`);
        }
        // The builder's imports are the SDKs it declares: what the missing-SDK message names.
        for (const p of PLATFORMS) {
            const builderImports = [...imports].filter(([, file]) => file === `components/platforms/${p.name}/cluster.ts`);
            expect(
                builderImports.map(([n]) => n).filter((n) => sdks.includes(n)),
                p.name,
            ).toEqual(p.sdks);
        }
    });

    it("keeps offline-only packages out of the library's dependencies", () => {
        const offline = runtimeImports(["scripts/plan.ts", "offline/offlinePlan.ts", "offline/meshSvg.ts"]);
        const offlineOnly = [...offline.keys()].filter((n) => !imports.has(n));
        expect(offlineOnly).toEqual(expect.arrayContaining(["@hpcc-js/wasm-graphviz", "commander"]));
        expect(offlineOnly.filter((n) => n in pkg.dependencies)).toEqual([]);
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

    it("CONTRIBUTING.md says why each is not needed, and CI and the workflow install with --ignore-scripts (older npm ignores allowScripts)", () => {
        const readme = fs.readFileSync(path.join(ROOT, "CONTRIBUTING.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Dependencies and install scripts"));
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
