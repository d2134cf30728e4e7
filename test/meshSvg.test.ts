// The topology picture: the DOT is built by a pure function (ids, classes, one element per fact of
// the plan); the SVG that `npm run plan` writes is then opened in a real headless Chromium, and the
// clusters, gateways, trust chain and edges are found in its DOM, laid out and visible.
// Chromium is required: without it this file fails (it never skips); .ci/run installs it.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, CHROMIUM_PATH, launchChromium, screenshotSvg, svgPage } from "../offline/browser";
import { meshDot, renderSvg, slug } from "../offline/meshSvg";
import { parsePlanFile, PlanFile } from "../offline/planFile";
import { planStack, ROOT, shippedStacks, tempDir } from "./support/planRun";

const stacks = shippedStacks();
const out = tempDir();
const plans = new Map<string, { plan: PlanFile; svg: string }>();

interface Box {
    x: number;
    y: number;
    w: number;
    h: number;
}
interface DomNode {
    id: string;
    cls: string;
    text: string;
    box: Box;
}
interface DomEdge {
    id: string;
    length: number;
    label: string;
}
interface DomFacts {
    svg: Box;
    title: string;
    clusters: DomNode[];
    gateways: DomNode[];
    root: DomNode[];
    intermediates: DomNode[];
    networks: DomNode[];
    remoteSecrets: DomEdge[];
    controls: DomEdge[];
    signs: DomEdge[];
    cacerts: DomEdge[];
}
/** Runs in the page (the project's types have no DOM lib, so it is plain JavaScript): what the SVG's DOM holds. */
const DOM_FACTS = `(() => {
    const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
    const text = (g) => [...g.querySelectorAll("text")].map((t) => t.textContent).join(" ").replace(/\\s+/g, " ").trim();
    const nodes = (sel) => [...document.querySelectorAll(sel)].map((g) => ({ id: g.id, cls: g.getAttribute("class") || "", text: text(g), box: box(g) }));
    const edges = (sel) => [...document.querySelectorAll(sel)].map((g) => ({ id: g.id, length: g.querySelector("path") ? g.querySelector("path").getTotalLength() : 0, label: text(g) }));
    return {
        svg: box(document.querySelector("svg")),
        title: [...document.querySelectorAll("g.graph > text")].map((t) => t.textContent).join(" "),
        clusters: nodes("g.node.mesh-cluster"),
        gateways: nodes("g.node.gateway"),
        root: nodes("#root-ca"),
        intermediates: nodes("g.node.intermediate"),
        networks: nodes("g.cluster.network"),
        remoteSecrets: edges("g.edge.remote-secret"),
        controls: edges("g.edge.controls"),
        signs: edges("g.edge.signs"),
        cacerts: edges("g.edge.cacerts"),
    };
})()`;

beforeAll(async () => {
    for (const stack of stacks) {
        const r = await planStack(stack, out, { sim: { cannedTls: true } });
        expect(r.errors, stack).toEqual([]);
        plans.set(stack, {
            plan: parsePlanFile(fs.readFileSync(path.join(out, stack, "plan.json"), "utf8"), stack),
            svg: fs.readFileSync(path.join(out, stack, "mesh.svg"), "utf8"),
        });
    }
}, 120_000);
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe("meshDot", () => {
    it("has one node per cluster, gateway and CA, and one edge per remote secret, control and signature", () => {
        for (const { plan } of plans.values()) {
            const dot = meshDot(plan);
            expect(meshDot(structuredClone(plan))).toBe(dot);
            for (const c of plan.clusters) {
                expect(dot).toContain(`id="cluster-${slug(c.name)}", class="mesh-cluster ${c.role}"`);
                if (c.gateway) expect(dot).toContain(`id="gateway-${slug(c.name)}"`);
                if (c.role === "remote") expect(dot).toContain(`id="controls-${slug(c.primary!)}-${slug(c.name)}", class="controls"`);
            }
            expect(dot.match(/class="remote-secret"/g) ?? []).toHaveLength(plan.remoteSecrets.length);
            expect(dot.match(/class="intermediate"/g) ?? []).toHaveLength(Object.keys(plan.trust.intermediates).length);
            expect(dot.match(/class="signs"/g) ?? []).toHaveLength(Object.keys(plan.trust.intermediates).length);
            for (const n of plan.networks) expect(dot).toContain(`class="network"; label=<network&#160;<B>${n}</B>>`);
        }
    });

    it("groups by cloud only when the mesh spans several, and escapes what it shows", async () => {
        const base = [...plans.values()][0].plan;
        const multi = structuredClone(base);
        multi.clusters.forEach((c, i) => (c.facts.cloud = i % 2 ? "aws" : "gcp"));
        expect(meshDot(base)).not.toContain('class="cloud"');
        const dot = meshDot(multi);
        expect(dot).toContain('id="cloud-aws"');
        expect(dot).toContain('id="cloud-gcp"');
        const odd = structuredClone(base);
        odd.meshId = 'a<b>&"c';
        const svg = await renderSvg(meshDot(odd));
        expect(svg).toContain("a&lt;b&gt;&amp;");
        expect(svg).toMatch(/^<\?xml/);
    });
});

describe("the picture in Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
        // Fails (not skips) without Chromium, with the one line that says how to install it.
        browser = await launchChromium();
    }, 90_000);
    afterAll(async () => browser?.close());

    it("has Chromium at the expected path, and says how to install it when it is not", async () => {
        expect(fs.existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does)`).toBe(true);
        await expect(launchChromium("/nonexistent/chromium")).rejects.toThrow("Chromium not found at /nonexistent/chromium: install it with `apt-get install -y chromium` (.ci/run does), or set CHROMIUM_PATH");
    });

    for (const stack of stacks) {
        it(`${stack}: shows every cluster, gateway, CA and edge, laid out and visible`, async () => {
            const { plan, svg } = plans.get(stack)!;
            const page = browser.page;
            await page.setContent(svgPage(svg, stack), { waitUntil: "load" });
            const dom = (await page.evaluate(DOM_FACTS)) as DomFacts;
            const inside = (b: Box) => b.w > 10 && b.h > 10 && b.x >= dom.svg.x - 1 && b.y >= dom.svg.y - 1 && b.x + b.w <= dom.svg.x + dom.svg.w + 1 && b.y + b.h <= dom.svg.y + dom.svg.h + 1;
            expect(dom.title).toContain(`stack ${stack}`);

            // Clusters: one each, with role and name, visible, not on top of each other.
            expect(dom.clusters.map((c) => c.id).sort()).toEqual(plan.clusters.map((c) => `cluster-${slug(c.name)}`).sort());
            for (const c of plan.clusters) {
                const n = dom.clusters.find((x) => x.id === `cluster-${slug(c.name)}`)!;
                expect(n.cls.split(" ")).toContain(c.role);
                expect(n.text).toContain(c.name);
                expect(n.text).toContain(c.role === "remote" ? `remote of ${c.primary}` : "primary · istiod");
                expect(n.text).toContain(`istio ${plan.istioVersions.join(", ")}`);
                expect(inside(n.box), `${n.id} ${JSON.stringify(n.box)} outside ${JSON.stringify(dom.svg)}`).toBe(true);
            }
            for (const a of dom.clusters) {
                for (const b of dom.clusters) {
                    if (a.id >= b.id) continue;
                    const overlap = a.box.x < b.box.x + b.box.w && b.box.x < a.box.x + a.box.w && a.box.y < b.box.y + b.box.h && b.box.y < a.box.y + a.box.h;
                    expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
                }
            }
            // Gateways with their address, or "assigned at deploy".
            const withGw = plan.clusters.filter((c) => c.gateway);
            expect(dom.gateways.map((g) => g.id).sort()).toEqual(withGw.map((c) => `gateway-${slug(c.name)}`).sort());
            for (const c of withGw) expect(dom.gateways.find((g) => g.id === `gateway-${slug(c.name)}`)!.text).toBe(`east-west gateway ${c.gateway!.address}`);
            // Networks group the clusters.
            expect(dom.networks.map((n) => n.text.match(/^network (\S+)/)?.[1]).sort()).toEqual(plan.networks);
            // Root of trust: one root, an intermediate per istiod cluster, signed, and into cacerts.
            expect(dom.root).toHaveLength(1);
            expect(dom.root[0].text).toContain(plan.trust.mode === "generated" ? "sha256 generated at deploy" : plan.trust.root.sha256.slice(0, 16));
            expect(dom.intermediates.map((i) => i.id).sort()).toEqual(Object.keys(plan.trust.intermediates).map((c) => `intermediate-${slug(c)}`).sort());
            expect(dom.signs).toHaveLength(dom.intermediates.length);
            expect(dom.cacerts).toHaveLength(dom.intermediates.length);
            // Remote-secret edges: exactly the secret matrix, drawn, labelled "reads".
            expect(dom.remoteSecrets.map((e) => e.id).sort()).toEqual(plan.remoteSecrets.map((s) => `remote-secret-${slug(s.source)}-to-${slug(s.target)}`).sort());
            expect(dom.controls.map((e) => e.id).sort()).toEqual(plan.clusters.filter((c) => c.role === "remote").map((c) => `controls-${slug(c.primary!)}-${slug(c.name)}`).sort());
            for (const e of [...dom.remoteSecrets, ...dom.controls, ...dom.signs, ...dom.cacerts]) expect(e.length, e.id).toBeGreaterThan(10);
            for (const e of dom.remoteSecrets) expect(e.label).toBe("reads");

            // And what a person would see: a non-blank screenshot.
            const png = path.join(out, `${stack}.png`);
            await screenshotSvg(page, svg, stack, png);
            const bytes = fs.readFileSync(png);
            expect(bytes.subarray(1, 4).toString()).toBe("PNG");
            expect(bytes.readUInt32BE(16)).toBeGreaterThan(300);
            expect(bytes.length).toBeGreaterThan(10_000);
        });
    }
});

describe("docs/ screenshots", () => {
    it("keep one per shipped stack (npm run screenshots)", () => {
        const missing = stacks.filter((s) => !fs.existsSync(path.join(ROOT, "docs", `${s}.png`)));
        expect(missing, `missing docs/<stack>.png for ${missing.join(", ")}: run npm run screenshots`).toEqual([]);
        for (const s of stacks) {
            const bytes = fs.readFileSync(path.join(ROOT, "docs", `${s}.png`));
            expect(bytes.subarray(1, 4).toString(), s).toBe("PNG");
            expect(bytes.readUInt32BE(16), `${s} width`).toBeGreaterThan(300);
        }
    });
});
