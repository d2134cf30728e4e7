// Rules about the source tree itself: Istio's names have one owner (components/istio.ts), and every
// comment cites something a clone can resolve (no "§", no research notes outside the repository).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as istio from "../components/istio";

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["components", "offline", "simulator", "policy", "scripts", "tools"];
const SKIP = new Set(["node_modules", "dist", "out", "fixtures"]);

function files(dir: string, ext: RegExp): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (SKIP.has(e.name)) continue;
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (ext.test(e.name)) out.push(p);
        }
    };
    walk(dir);
    return out;
}

const nonTestSource = () => [
    ...SOURCE_DIRS.filter((d) => fs.existsSync(path.join(ROOT, d))).flatMap((d) => files(path.join(ROOT, d), /\.(ts|go)$/)),
    path.join(ROOT, "index.ts"),
    path.join(ROOT, "config.ts"),
];

/**
 * Istio's names as string literals: only components/istio.ts may spell them. Derived from what it
 * exports: every string in its exported values that is a name (no spaces, not a version or a URL or an
 * issue reference) and distinctive enough to find (it has a ".", "-", "/" or "_": "istiod" or "base"
 * alone are ordinary words). KNOWN_DEFECTS and ISTIO_RELEASES are data about releases, not names.
 * ("cacerts" is also the name of an install step, components/istio.ts INSTALL_ORDER, so it is not listed.)
 */
function istioNames(): string[] {
    const out = new Set<string>();
    const walk = (v: unknown, depth: number): void => {
        if (depth > 5) return;
        if (typeof v === "string") out.add(v);
        else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
        else if (v && typeof v === "object") Object.values(v).forEach((x) => walk(x, depth + 1));
    };
    for (const [k, v] of Object.entries(istio)) if (typeof v !== "function" && k !== "KNOWN_DEFECTS" && k !== "ISTIO_RELEASES") walk(v, 0);
    return [...out]
        .filter((n) => !/\s/.test(n) && !/^\d/.test(n) && !n.includes("://") && !n.includes("#") && n !== "cacerts")
        .filter((n) => /[-./_]/.test(n))
        .sort();
}
const ISTIO_NAMES = istioNames();

describe("one owner for Istio's names", () => {
    it("spells each Istio name as a string literal only in components/istio.ts", () => {
        const offenders: string[] = [];
        for (const f of nonTestSource()) {
            if (f === path.join(ROOT, "components", "istio.ts") || f.endsWith(".go")) continue;
            const lines = fs.readFileSync(f, "utf8").split("\n");
            lines.forEach((line, i) => {
                // Comments may name things; code may not spell them.
                if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
                for (const name of ISTIO_NAMES) {
                    const quoted = new RegExp(`(["'\`])${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\1`);
                    if (quoted.test(line)) offenders.push(`${path.relative(ROOT, f)}:${i + 1}: "${name}"`);
                }
            });
        }
        expect(offenders).toEqual([]);
    });

    it("derives the list from components/istio.ts, so a new export is covered without editing the test", () => {
        expect(ISTIO_NAMES).toEqual(
            expect.arrayContaining([
                "istio-system",
                "topology.istio.io/network",
                "ISTIOD_CUSTOM_HOST",
                "ca-cert.pem",
                "root-cert.pem",
                "istiod.istio-system.svc.cluster.local",
            ]),
        );
        expect(ISTIO_NAMES).not.toContain("istiod");
        expect(ISTIO_NAMES.length).toBeGreaterThan(30);
    });

    it("would catch a copy (the rule is not vacuous)", () => {
        const quoted = /(["'`])istio-system\1/;
        expect(quoted.test(`const ns = "istio-system";`)).toBe(true);
        expect(quoted.test(`// the istio-system namespace`)).toBe(false);
    });
});

describe("one owner for Pulumi's names (components/pulumiTypes.ts)", () => {
    const TOKEN = /(["'`])((kubernetes|tls|command|pulumi|gcp|aws|multicluster-mesh):[A-Za-z0-9./]+:[A-Z][A-Za-z0-9]*|multicluster-mesh)\1/;
    it("spells a type token or the project name only in components/pulumiTypes.ts (a cloud's own types: in its platform folder)", () => {
        const offenders: string[] = [];
        for (const f of nonTestSource()) {
            const rel = path.relative(ROOT, f);
            if (rel === path.join("components", "pulumiTypes.ts") || f.endsWith(".go")) continue;
            const platformFolder = /^components\/platforms\/[^/]+\//.test(rel);
            fs.readFileSync(f, "utf8")
                .split("\n")
                .forEach((line, i) => {
                    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
                    const m = TOKEN.exec(line);
                    if (m && !(platformFolder && /^(gcp|aws|pulumi:providers):/.test(m[2]))) offenders.push(`${rel}:${i + 1}: ${m[2]}`);
                });
        }
        expect(offenders).toEqual([]);
    });

    it("would catch a copy (the rule is not vacuous)", () => {
        expect(TOKEN.test('const t = "kubernetes:helm.sh/v3:Release";')).toBe(true);
        expect(TOKEN.test('super("multicluster-mesh:index:Mesh", name)')).toBe(true);
        expect(TOKEN.test('new pulumi.Config("multicluster-mesh")')).toBe(true);
        expect(TOKEN.test("const key = `${PROJECT}:mesh`;")).toBe(false);
    });
});

describe("citations a clone can resolve", () => {
    const CITES_OUTSIDE = [
        /§/,
        /security-bar/i,
        /pulumi-craft/i,
        /istio-multicluster\.md/i,
        /day2-and-traffic/i,
        /peers-and-pain-points/i,
        /\.\.\/shared\//,
    ];
    it("has no comment or doc that cites a section sign or a research note outside the repository", () => {
        const docs = [...files(path.join(ROOT, "docs"), /\.md$/), path.join(ROOT, "README.md")];
        const offenders: string[] = [];
        const exempt = new Set([__filename]);
        for (const f of [...nonTestSource(), ...files(path.join(ROOT, "test"), /\.ts$/), ...docs].filter((x) => !exempt.has(x))) {
            fs.readFileSync(f, "utf8")
                .split("\n")
                .forEach((line, i) => {
                    if (CITES_OUTSIDE.some((re) => re.test(line)))
                        offenders.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim().slice(0, 100)}`);
                });
        }
        expect(offenders).toEqual([]);
    });

    // A path into this repository (components/…, test/…, docs/…, README.md, …) in a comment or a doc
    // names a file that exists; a markdown link resolves from its file's folder. Upstream paths
    // (pilot/pkg/…, provider/pkg/…) and placeholders (<name>, *, ${…}) are not this repository's.
    const REPO_PATH =
        /(?<![\w./@-])((?:components|offline|simulator|scripts|test|policy|docs|e2e|tools|bench|examples|\.ci|\.github)\/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:ts|md|json|png|yaml|yml|go|sh|mjs|svg)|(?:README|CONTRIBUTING)\.md)(?![\w<*{$])/g;
    const commentText = (f: string, line: string): string | undefined => {
        if (/\.md$/.test(f)) return line;
        const hash = /\.(sh|ya?ml)$/.test(f) || /(^|\/)\.ci\/run$/.test(f);
        if ((hash ? /^\s*#/ : /^\s*(\/\/|\*|\/\*)/).test(line)) return line;
        const at = line.indexOf(hash ? " # " : " // ");
        return at >= 0 ? line.slice(at) : undefined;
    };
    const citing = () => [
        ...nonTestSource(),
        ...files(path.join(ROOT, "test"), /\.ts$/),
        ...files(path.join(ROOT, "e2e"), /\.ts$/),
        ...files(path.join(ROOT, "docs"), /\.md$/),
        ...[
            "README.md",
            "CONTRIBUTING.md",
            "scripts/ci.sh",
            ".ci/run",
            ".github/workflows/preview.yml",
            "eslint.config.mjs",
            "vitest.config.ts",
        ]
            .map((f) => path.join(ROOT, f))
            .filter((f) => fs.existsSync(f)),
        ...fs
            .readdirSync(ROOT)
            .filter((f) => /^Pulumi\..*\.yaml$/.test(f))
            .map((f) => path.join(ROOT, f)),
    ];

    it("cites only repository files that exist, in every comment and doc", () => {
        const offenders: string[] = [];
        const checked = new Set<string>();
        for (const f of citing()) {
            const rel = path.relative(ROOT, f);
            fs.readFileSync(f, "utf8")
                .split("\n")
                .forEach((line, i) => {
                    const text = commentText(rel, line);
                    if (text === undefined) return;
                    for (const m of text.matchAll(REPO_PATH)) {
                        checked.add(m[1]);
                        if (!fs.existsSync(path.join(ROOT, m[1]))) offenders.push(`${rel}:${i + 1}: ${m[1]}`);
                    }
                    if (rel.endsWith(".md"))
                        for (const m of line.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
                            if (/^[a-z]+:/.test(m[1])) continue;
                            if (!fs.existsSync(path.resolve(path.dirname(f), m[1]))) offenders.push(`${rel}:${i + 1}: link ${m[1]}`);
                        }
                });
        }
        expect(offenders).toEqual([]);
        // Not vacuous: the walk sees the citations the code relies on.
        expect([...checked]).toEqual(expect.arrayContaining(["components/istio.ts", "docs/real-engine.md", "test/registry.test.ts"]));
    });

    it("would catch a broken citation (the rule is not vacuous)", () => {
        const line = "// the simulator (scripts/lib/simulator.ts) and test/istioFacts.test.ts; upstream pilot/pkg/bootstrap/istio_ca.go";
        const found = [...commentText("x.ts", line)!.matchAll(REPO_PATH)].map((m) => m[1]);
        expect(found).toEqual(["scripts/lib/simulator.ts", "test/istioFacts.test.ts"]);
        expect(found.filter((p) => !fs.existsSync(path.join(ROOT, p)))).toEqual(found);
        expect(commentText("x.ts", 'const f = "Pulumi.x.yaml"; fs.readFileSync("docs/nope.md")')).toBeUndefined();
        expect([..."components/platforms/<name>/cluster.ts docs/*.md".matchAll(REPO_PATH)]).toEqual([]);
    });
});
