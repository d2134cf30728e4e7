// Rules about the source tree itself: Istio's names have one owner (components/istio.ts), and every
// comment cites something a clone can resolve (no "§", no research notes outside the repository).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

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

/** Istio's names as string literals: only components/istio.ts may spell them. */
const ISTIO_NAMES = [
    "istio-system",
    "istio-eastwestgateway",
    "eastwestgateway",
    "istio-base",
    "istio-reader-service-account",
    "topology.istio.io/network",
    "topology.istio.io/controlPlaneClusters",
    "istio/multiCluster",
    "networking.istio.io/cluster",
    "networking.istio.io/v1",
    "cross-network-gateway",
    "istiod-gateway",
    "istiod-vs",
    // ("cacerts" is also the name of an install step, components/istio.ts INSTALL_ORDER, so it is not listed.)
    "istiod.istio-system.svc",
    "istiod.istio-system.svc.cluster.local",
];

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

    it("would catch a copy (the rule is not vacuous)", () => {
        const quoted = /(["'`])istio-system\1/;
        expect(quoted.test(`const ns = "istio-system";`)).toBe(true);
        expect(quoted.test(`// the istio-system namespace`)).toBe(false);
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

    it("cites only docs/ files that exist", () => {
        const offenders: string[] = [];
        for (const f of [...nonTestSource(), path.join(ROOT, "README.md")]) {
            for (const m of fs.readFileSync(f, "utf8").matchAll(/\bdocs\/([A-Za-z0-9._-]+\.(md|json|png))/g)) {
                if (!fs.existsSync(path.join(ROOT, "docs", m[1]))) offenders.push(`${path.relative(ROOT, f)}: docs/${m[1]}`);
            }
        }
        expect(offenders).toEqual([]);
    });
});
