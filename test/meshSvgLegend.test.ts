// The picture tells the truth (issue 19 item 7): a remote secret means that the reader (a primary's
// istiod, where the Secret lives) reads the source cluster's API server. Every "reads" arrow runs
// from the reader to the API server it reads, and the legend says so in the arrow's own terms (A ─▶ B:
// A reads B), not in the remote secret's "source"/"target", which are the arrow's head and tail the
// other way round. The trust chain's edges (signs, cacerts) no longer look like the xDS edges.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PlanFile } from "../offline/planFile";
import { planStack, tempDir } from "./support/planRun";

const out = tempDir("svg-legend-");
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const PRIMARY_REMOTE = ["primary-remote", "primary-remote-multinet", "gke-primary-remote", "eks-primary-remote"];

/** The edges of one class in an SVG: id, Graphviz's "tail->head" title, stroke and dash pattern. */
function edges(raw: string, cls: string): { id: string; ends: string; stroke: string; dashed: boolean }[] {
    const svg = raw.replace(/&#45;/g, "-");
    const out: { id: string; ends: string; stroke: string; dashed: boolean }[] = [];
    const re = new RegExp(`<g id="([^"]+)" class="edge ${cls}[^"]*">\\s*<title>([^<]*)</title>\\s*<path ([^>]*)>`, "g");
    for (const m of svg.matchAll(re)) {
        const unescape = (s: string) => s.replace(/&gt;/g, ">");
        out.push({
            id: unescape(m[1]),
            ends: unescape(m[2]),
            stroke: /stroke="([^"]+)"/.exec(m[3])?.[1] ?? "",
            dashed: /stroke-dasharray/.test(m[3]),
        });
    }
    return out;
}

function hue(hex: string): number {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const max = Math.max(r, g, b);
    const d = max - Math.min(r, g, b);
    if (d === 0) return 0;
    const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
    return (h * 60 + 360) % 360;
}

describe("the picture: reads arrows and the trust chain", () => {
    for (const stack of PRIMARY_REMOTE) {
        it(`${stack}: every reads arrow runs from the reader (the Secret's cluster) to the API server it reads, as the legend says`, async () => {
            const r = await planStack(stack, out, { sim: { cannedTls: true } });
            expect(r.errors).toEqual([]);
            const plan: PlanFile = r.planFile!;
            const svg = fs.readFileSync(path.join(out, stack, "mesh.svg"), "utf8");
            const reads = edges(svg, "remote-secret");
            const oneWay = plan.remoteSecrets.filter(
                (s) => !plan.remoteSecrets.some((o) => o.source === s.target && o.target === s.source),
            );
            expect(oneWay.length).toBeGreaterThan(0);
            for (const s of oneWay) {
                const e = reads.find((x) => x.id === `remote-secret-${s.source}-to-${s.target}`);
                expect(e, `${s.target} reads ${s.source}`).toBeDefined();
                // tail -> head: the reader, then the cluster whose API server it reads.
                expect(e!.ends).toBe(`cluster-${s.target}->cluster-${s.source}`);
            }
            // Drawn forward (the arrowhead at the head), not reversed with dir=back.
            expect(svg).not.toMatch(/class="edge remote-secret"[\s\S]{0,400}dir="back"/);
            const legend = svg.slice(svg.indexOf('id="legend"'));
            expect(legend).toContain("reads: A ─▶ B: A&#39;s istiod reads B&#39;s API server, with B&#39;s remote secret held in A");
            expect(legend).not.toMatch(/the target&#39;s istiod reads the source/);
        });
    }

    it("cacerts and signs are dotted and of another hue than the xDS edges", async () => {
        const r = await planStack("primary-remote-multinet", out, { sim: { cannedTls: true } });
        expect(r.errors).toEqual([]);
        const svg = fs.readFileSync(path.join(out, "primary-remote-multinet", "mesh.svg"), "utf8");
        const [cacerts, signs, xds] = [edges(svg, "cacerts"), edges(svg, "signs"), edges(svg, "xds")];
        expect(cacerts.length).toBeGreaterThan(0);
        expect(xds.length).toBeGreaterThan(0);
        for (const e of [...cacerts, ...signs]) expect(e.dashed, e.id).toBe(true);
        for (const e of xds) expect(e.dashed, e.id).toBe(false);
        const apart = Math.abs(hue(cacerts[0].stroke) - hue(xds[0].stroke));
        expect(Math.min(apart, 360 - apart)).toBeGreaterThanOrEqual(30);
    });
});
