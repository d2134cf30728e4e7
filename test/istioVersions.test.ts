// Istio versions (components/istio.ts): the supported minors and their facts, the known releases,
// the table of known multicluster defects, the default version it decides, and the plan's warning on
// a pinned version with a known defect (in the plan output, summary.md, plan.json, and the runtime log
// a real preview shows).
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it, vi } from "vitest";
import {
    compareVersions,
    ISTIO_RELEASES,
    ISTIO_VERSION,
    KNOWN_DEFECTS,
    knownDefects,
    knownDefectWarnings,
    minorOf,
    newestWithoutDefects,
    SUPPORTED_ISTIO,
    unsupportedIstio,
} from "../components/istio";
import { istioFacts } from "../components/istioFacts";
import { parsePlanFile } from "../offline/planFile";
import { readStackFile } from "../offline/offlinePlan";
import { planStack, ROOT, shippedStacks, tempDir } from "./support/planRun";

describe("supported minors and their facts", () => {
    it.each([...SUPPORTED_ISTIO.minors])("%s has facts, from a tag of that minor, and known releases", (minor) => {
        expect(istioFacts(minor).source.tag.startsWith(`${minor}.`)).toBe(true);
        expect(ISTIO_RELEASES.some((r) => minorOf(r.version) === minor)).toBe(true);
        expect(newestWithoutDefects(minor)).toBeDefined();
    });
    it("knows only releases of supported minors, each with its release notes on istio.io", () => {
        for (const r of ISTIO_RELEASES) {
            expect(unsupportedIstio(r.version), r.version).toBeUndefined();
            expect(r.notes).toMatch(new RegExp(`^https://istio\\.io/latest/news/releases/${minorOf(r.version).replace(".", "\\.")}\\.x/`));
        }
    });
});

describe("known multicluster defects", () => {
    it("each entry: an issue, what breaks, a fix per minor that is a known release of that minor, and its sources", () => {
        expect(KNOWN_DEFECTS.length).toBeGreaterThanOrEqual(4);
        for (const d of KNOWN_DEFECTS) {
            expect(d.issue).not.toBe("");
            expect(d.breaks.length).toBeGreaterThan(40);
            expect(d.sources.length).toBeGreaterThan(0);
            expect(d.sources.some((s) => s.startsWith("https://istio.io/latest/news/releases/"))).toBe(true);
            for (const [minor, fixed] of Object.entries(d.fixedIn)) {
                expect(SUPPORTED_ISTIO.minors as readonly string[]).toContain(minor);
                expect(ISTIO_RELEASES.map((r) => r.version)).toContain(fixed);
            }
        }
    });

    // The versions the issue names, by table: pinned → the defects it has (issue, fixed in).
    it.each([
        ["1.30.0", ["istio/istio#60612 1.30.3", "istio/istio#60920 1.30.4", "istio/istio#61043 1.30.4", "istio/istio#61049 1.30.4"]],
        ["1.30.3", ["istio/istio#60920 1.30.4", "istio/istio#61043 1.30.4", "istio/istio#61049 1.30.4"]],
        ["1.30.4", []],
        ["1.30.5", []],
        ["1.31.0", []],
        ["1.31.1", []],
    ])("%s: control-plane defects %j", (version, want) => {
        const got = knownDefects(version)
            .filter((d) => d.scope === "control-plane")
            .map((d) => `${d.issue} ${d.fixedIn[minorOf(version) as "1.30" | "1.31"]}`);
        expect(got).toEqual(want);
    });

    it("the istioctl analyze fix (1.30.5, 1.31.1) is an istioctl defect, not the control plane's", () => {
        expect(knownDefects("1.30.4").map((d) => d.scope)).toEqual(["istioctl"]);
        expect(knownDefects("1.31.0").map((d) => d.scope)).toEqual(["istioctl"]);
        expect(knownDefects("1.30.5")).toEqual([]);
    });

    it("a 1.30.3 pin warns about #61043 and names the fixed version", () => {
        const w = knownDefectWarnings("1.30.3");
        const w61043 = w.find((x) => x.includes("istio/istio#61043"))!;
        expect(w61043).toMatch(/^Istio 1\.30\.3 has a known multicluster defect, istio\/istio#61043: rotating a remote secret can wipe/);
        expect(w61043).toContain("Fixed in 1.30.4: pin mesh.istio.version 1.30.4 or later (1.30.5 has no known defect)");
        expect(w61043).toContain("https://istio.io/latest/news/releases/1.30.x/announcing-1.30.4/");
    });
});

describe("the default version", () => {
    it("is the newest known release with no known defect, of a supported minor with facts", () => {
        const clean = ISTIO_RELEASES.map((r) => r.version).filter((v) => knownDefects(v).length === 0);
        expect(ISTIO_VERSION).toBe(clean.sort(compareVersions).pop());
        expect(ISTIO_VERSION).toBe("1.31.1");
        expect(unsupportedIstio(ISTIO_VERSION)).toBeUndefined();
        expect(istioFacts(ISTIO_VERSION).minor).toBe(minorOf(ISTIO_VERSION));
    });
    it("every shipped stack pins a supported version without known defects, and both minors are shipped", () => {
        const pins = shippedStacks().map((s) => {
            const mesh = readStackFile(s).config["multicluster-mesh:mesh"] as { istio?: { version?: string } };
            return mesh.istio?.version ?? ISTIO_VERSION;
        });
        for (const v of pins) {
            expect(unsupportedIstio(v), v).toBeUndefined();
            expect(knownDefects(v), v).toEqual([]);
        }
        expect([...new Set(pins.map(minorOf))].sort()).toEqual([...SUPPORTED_ISTIO.minors]);
    });
});

describe("the plan of a stack pinned to a version with known defects", () => {
    it("warns about each, with the fix, in its output, summary.md and plan.json; the program logs the same warnings", async () => {
        // The dev stack, pinned to 1.30.3, in its own folder.
        const dir = tempDir("stack-");
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        doc.config["multicluster-mesh:mesh"].istio = { version: "1.30.3" };
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), YAML.stringify(doc));
        const out = tempDir();
        const warned: string[] = [];
        const warn = vi.spyOn(console, "warn").mockImplementation((...a: unknown[]) => void warned.push(a.join(" ")));
        try {
            const r = await planStack("dev", out, { stackDir: dir, sim: { cannedTls: true } });
            expect(r.errors).toEqual([]);
            expect(r.ok).toBe(true);
            expect(r.stdout).toContain(
                "istio 1.30.3: charts from https://blob.istio.io/istio-release/charts, images from docker.io/istio; " +
                    "checked against Istio 1.30 (facts from istio/istio tag 1.30.3)",
            );
            // The runtime log (a real `pulumi preview` shows these as warnings on the Mesh).
            expect(warned.filter((w) => w.includes("istio/istio#61043"))).toEqual([
                expect.stringMatching(
                    /^warning: \[runtime\] Istio 1\.30\.3 has a known multicluster defect, istio\/istio#61043: .*Fixed in 1\.30\.4/,
                ),
            ]);
            const summary = fs.readFileSync(path.join(out, "dev", "summary.md"), "utf8");
            expect(summary).toMatch(/\*\*WARNING: Istio 1\.30\.3 has a known multicluster defect, istio\/istio#61043: .*Fixed in 1\.30\.4/);
            const plan = parsePlanFile(fs.readFileSync(path.join(out, "dev", "plan.json"), "utf8"), "plan.json");
            expect(plan.istio?.knownDefects.map((d) => `${d.version} ${d.issue} ${d.fixedIn}`)).toEqual([
                "1.30.3 istio/istio#60920 1.30.4",
                "1.30.3 istio/istio#61043 1.30.4",
                "1.30.3 istio/istio#61049 1.30.4",
                "1.30.3 istioctl analyze and multicluster secrets (security fix, no public issue) 1.30.5",
            ]);
            expect(plan.istio?.factsTags).toEqual({ "1.30.3": "1.30.3" });
        } finally {
            warn.mockRestore();
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});
