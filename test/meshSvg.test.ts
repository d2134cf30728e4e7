// The topology picture: the DOT is built by a pure function (ids, classes, one element per fact of
// the plan); the SVG that `npm run plan` writes is then opened in a real headless Chromium, and the
// clusters, gateways, trust chain and edges are found in its DOM, laid out and visible. Synthetic
// meshes of 5, 10 and 25 clusters (the real program on generated configs) are measured there too:
// every name visible, no two text labels overlapping, the collapsed edges summarised.
// Chromium is required: without it this file fails (it never skips); .ci/run installs it.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Browser, CHROMIUM_PATH, launchChromium, screenshotSvg, svgPage } from "../offline/browser";
import { LAYOUT, meshDot, meshLayout, renderSvg, slug } from "../offline/meshSvg";
import { parsePlanFile, PlanFile } from "../offline/planFile";
import { syntheticPlan, SyntheticModel } from "../offline/syntheticMesh";
import { PORTS } from "../components/istio";
import { SYNTHETIC_SHOTS } from "../scripts/screenshots";
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
    /** Graphviz's <title>: "tail->head". */
    ends: string;
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
    xds: DomEdge[];
}
/** Runs in the page (the project's types have no DOM lib, so it is plain JavaScript): what the SVG's DOM holds. */
const DOM_FACTS = `(() => {
    const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
    const text = (g) => [...g.querySelectorAll("text")].map((t) => t.textContent).join(" ").replace(/\\s+/g, " ").trim();
    const nodes = (sel) => [...document.querySelectorAll(sel)].map((g) => ({ id: g.id, cls: g.getAttribute("class") || "", text: text(g), box: box(g) }));
    const edges = (sel) => [...document.querySelectorAll(sel)].map((g) => ({ id: g.id, length: g.querySelector("path") ? g.querySelector("path").getTotalLength() : 0, label: text(g), ends: g.querySelector("title").textContent }));
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
        xds: edges("g.edge.xds"),
    };
})()`;

/** The remote-secret edges of a picture that draws them: one per one-way secret, one per mutual pair (a < b). */
function secretEdgeIds(plan: PlanFile): string[] {
    const has = new Set(plan.remoteSecrets.map((s) => `${s.source}\0${s.target}`));
    const ids = plan.remoteSecrets.map((s) => {
        if (!has.has(`${s.target}\0${s.source}`)) return `remote-secret-${slug(s.source)}-to-${slug(s.target)}`;
        const [a, b] = [s.source, s.target].sort();
        return `remote-secret-${slug(a)}-with-${slug(b)}`;
    });
    return [...new Set(ids)].sort();
}

const XDS_LABEL = `${PORTS.xds} xDS · ${PORTS.webhook} webhooks`;

interface TextFact {
    text: string;
    /** id of the node, edge, box or graph the text belongs to. */
    owner: string;
    box: Box;
    /** Font size on screen, in CSS pixels. */
    fontPx: number;
    /** Hit-testing its centre finds the text (or its own node), not something drawn over it. */
    visible: boolean;
}
interface GroupFact {
    id: string;
    cls: string;
    shape: Box | null;
    text: string;
}
interface LayoutFacts {
    svg: Box;
    texts: TextFact[];
    nodes: GroupFact[];
    boxes: GroupFact[];
    edges: (DomEdge & { cls: string })[];
    summaries: { id: string; text: string }[];
}
/** Runs in the page: every <text> with its box, size and hit test; every node, box (subgraph) and edge. */
const LAYOUT_FACTS = `(() => {
    const rect = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
    const shapeOf = (g) => g.querySelector(":scope > path, :scope > polygon");
    const textOf = (g) => [...g.querySelectorAll("text")].map((t) => t.textContent).join(" ");
    const texts = [...document.querySelectorAll("svg text")].map((t) => {
        const owner = t.closest("g.node, g.edge, g.cluster, g.graph");
        const box = rect(t);
        const hit = document.elementFromPoint(box.x + box.w / 2, box.y + box.h / 2);
        const ctm = t.getScreenCTM();
        const fontPx = parseFloat(t.getAttribute("font-size")) * (ctm ? Math.abs(ctm.a) : 1);
        const visible = !!hit && (hit === t || (!!owner && owner.contains(hit)));
        return { text: t.textContent, owner: owner ? owner.id : "", box, fontPx, visible };
    });
    const groups = (sel) => [...document.querySelectorAll(sel)].map((g) => ({
        id: g.id, cls: g.getAttribute("class") || "", shape: shapeOf(g) ? rect(shapeOf(g)) : null, text: textOf(g),
    }));
    const edges = [...document.querySelectorAll("g.edge")].map((g) => ({
        id: g.id, cls: g.getAttribute("class") || "", ends: g.querySelector("title").textContent, label: textOf(g),
        length: g.querySelector("path") ? g.querySelector("path").getTotalLength() : 0,
    }));
    const summaries = [...document.querySelectorAll("[id^='a_summary-']")].map((g) => ({ id: g.id, text: textOf(g) }));
    return { svg: rect(document.querySelector("svg")), texts, nodes: groups("g.node"), boxes: groups("g.cluster"), edges, summaries };
})()`;

const within = (inner: Box, outer: Box, slack = 1) =>
    inner.x >= outer.x - slack &&
    inner.y >= outer.y - slack &&
    inner.x + inner.w <= outer.x + outer.w + slack &&
    inner.y + inner.h <= outer.y + outer.h + slack;
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Every name present and visible, every text readable and inside its node, no two texts overlapping. */
function checkText(plan: PlanFile, dom: LayoutFacts): void {
    const where = plan.stack;
    const visible = (t: TextFact) => t.box.w > 0 && t.box.h > 0 && t.visible && within(t.box, dom.svg);
    // Names: each cluster's name is a line of its node, each gateway's first line names its cluster.
    for (const c of plan.clusters) {
        const named = (owner: string, text: string) => {
            const t = dom.texts.find((x) => x.owner === owner && x.text === text);
            expect(t, `${where} ${owner}: no text "${text}"`).toBeDefined();
            expect(visible(t!), `${where} ${owner}: "${text}" not visible: ${JSON.stringify(t)}`).toBe(true);
        };
        named(`cluster-${slug(c.name)}`, c.name);
        if (c.gateway) named(`gateway-${slug(c.name)}`, `${c.name} · east-west gateway`);
    }
    expect(dom.nodes.filter((g) => g.cls.split(" ").includes("gateway")).length).toBe(plan.clusters.filter((c) => c.gateway).length);
    // Every text: at least 12 CSS px, visible, inside the picture and inside its own node's shape.
    for (const t of dom.texts) {
        expect(t.fontPx, `${where} "${t.text}" (${t.owner}) font`).toBeGreaterThanOrEqual(12);
        expect(visible(t), `${where} "${t.text}" (${t.owner}) not visible: ${JSON.stringify(t)}`).toBe(true);
    }
    for (const n of dom.nodes) {
        if (!n.shape || n.id === "legend") continue;
        for (const t of dom.texts.filter((x) => x.owner === n.id))
            expect(within(t.box, n.shape, -1), `${where} "${t.text}" spills out of ${n.id}`).toBe(true);
    }
    // No two labels overlap (line boxes inset: consecutive lines of one label share their ascent/descent).
    const inset = (b: Box): Box => ({ x: b.x + 1, y: b.y + b.h / 4, w: b.w - 2, h: b.h / 2 });
    const clashes: string[] = [];
    for (let i = 0; i < dom.texts.length; i++) {
        for (let j = i + 1; j < dom.texts.length; j++) {
            const [a, b] = [dom.texts[i], dom.texts[j]];
            if (overlap(inset(a.box), inset(b.box))) clashes.push(`"${a.text}" (${a.owner}) / "${b.text}" (${b.owner})`);
        }
    }
    expect(clashes, `${where}: overlapping labels`).toEqual([]);
}

/** The picture of a page showing one SVG, measured with a viewport the size of the picture (so hit tests reach every label). */
async function layoutFacts(page: Browser["page"], svg: string, title: string): Promise<LayoutFacts> {
    await page.setContent(svgPage(svg, title), { waitUntil: "load" });
    const size = (await page.evaluate(
        `(() => { const r = document.querySelector("svg").getBoundingClientRect(); return { w: r.width, h: r.height }; })()`,
    )) as { w: number; h: number };
    await page.setViewportSize({ width: Math.ceil(size.w) + 40, height: Math.ceil(size.h) + 40 });
    try {
        return (await page.evaluate(LAYOUT_FACTS)) as LayoutFacts;
    } finally {
        await page.setViewportSize({ width: 1400, height: 1000 });
    }
}

/** What a synthetic mesh's picture must show, measured in the browser. */
function checkLayout(plan: PlanFile, dom: LayoutFacts): void {
    const where = plan.stack;
    checkText(plan, dom);
    const clusters = dom.nodes.filter((g) => g.cls.split(" ").includes("mesh-cluster"));
    // Rows of LAYOUT.columns keep it about a screen wide, and in name order: top to bottom, left to right.
    expect(dom.svg.w, `${where} width`).toBeLessThanOrEqual(2000);
    const cy = (g: GroupFact) => Math.round((g.shape!.y + g.shape!.h / 2) / 10);
    const order = [...clusters].sort((a, b) => cy(a) - cy(b) || a.shape!.x - b.shape!.x).map((g) => g.id);
    expect(order, `${where} reading order`).toEqual(plan.clusters.map((c) => `cluster-${slug(c.name)}`));

    // Five clusters and more pass every edge limit: remote secrets and 15443 pairs are summarised.
    const edges = (cls: string) => dom.edges.filter((e) => e.cls.split(" ").includes(cls));
    const summary = (id: string) => dom.summaries.find((x) => x.id === `a_summary-${id}`)?.text ?? "";
    expect(edges("remote-secret")).toEqual([]);
    expect(summary("remote-secrets")).toContain(`${plan.remoteSecrets.length} remote secrets`);
    for (const r of new Set(plan.remoteSecrets.map((x) => x.target))) expect(summary("remote-secrets")).toContain(r);
    if (plan.networks.length > 1) {
        expect(edges("cross-network")).toEqual([]);
        const k = plan.networks.length;
        expect(summary("cross-network")).toContain(`all ${k} networks reach each other, ${(k * (k - 1)) / 2} network pairs`);
    }
    // Trust: an intermediate node per istiod cluster up to the limit, else one node naming them all.
    const istiod = Object.keys(plan.trust.intermediates);
    if (istiod.length > LAYOUT.maxIntermediates) {
        const all = dom.nodes.find((g) => g.id === "intermediates");
        for (const c of istiod) expect(all?.text, `${where} intermediates`).toContain(c);
        expect(edges("signs").map((e) => e.ends)).toEqual(["root-ca->intermediates"]);
    } else {
        expect(
            dom.nodes
                .filter((g) => g.cls === "node intermediate")
                .map((g) => g.id)
                .sort(),
        ).toEqual(istiod.map((c) => `intermediate-${slug(c)}`).sort());
        expect(edges("cacerts")).toHaveLength(istiod.length);
    }
    // Primary-remote: the remotes share one box; one controls edge into it and one xDS/webhook edge
    // out of it to the primary's east-west gateway, labelled with both ports.
    const remotes = plan.clusters.filter((c) => c.role === "remote");
    if (!remotes.length) {
        expect(edges("xds")).toEqual([]);
        return;
    }
    const primary = remotes[0].primary!;
    const boxId = plan.networks.length > 1 ? `remotes-${primary}-networks` : `remotes-${primary}-${plan.networks[0]}`;
    const box = dom.boxes.find((b) => b.id === boxId);
    expect(box?.text, `${where} ${boxId}`).toContain(`${remotes.length} remotes of ${primary}`);
    for (const r of remotes)
        expect(within(clusters.find((g) => g.id === `cluster-${r.name}`)!.shape!, box!.shape!), `${r.name} in ${boxId}`).toBe(true);
    expect(within(clusters.find((g) => g.id === `cluster-${primary}`)!.shape!, box!.shape!)).toBe(false);
    const xds = edges("xds");
    expect(xds.map((e) => [e.id, e.ends, e.label])).toEqual([
        [`xds-${boxId}`, `gateway-${primary}->cluster-${remotes[0].name}`, XDS_LABEL],
    ]);
    expect(xds[0].length).toBeGreaterThan(10);
    expect(edges("controls").map((e) => [e.id, e.ends])).toEqual([
        [`controls-${primary}-${boxId}`, `cluster-${primary}->cluster-${remotes[0].name}`],
    ]);
    expect(dom.nodes.find((g) => g.id === `gateway-${primary}`)!.text).toContain(XDS_LABEL);
}

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

// Synthetic meshes: the real program on the benchmark's generated configs (offline/bench/model.ts).
const MODELS: SyntheticModel[] = ["multi-primary", "primary-remote", "primary-remote-multinet"];
const SIZES = [5, 10, 25];
const synthetic = new Map<string, PlanFile>();
const planOf = async (model: SyntheticModel, n: number): Promise<PlanFile> => {
    const key = `${model}-${n}`;
    if (!synthetic.has(key)) {
        vi.resetModules();
        synthetic.set(key, await syntheticPlan(model, n, () => import("../index.js")));
    }
    return synthetic.get(key)!;
};
beforeAll(async () => {
    for (const model of MODELS) for (const n of SIZES) await planOf(model, n);
    for (const n of [3, 4]) await planOf("multi-primary", n);
}, 180_000);

describe("meshDot", () => {
    it("has one node per cluster, gateway and CA, and one edge per remote secret, control and signature", () => {
        for (const { plan } of plans.values()) {
            const dot = meshDot(plan);
            expect(meshDot(structuredClone(plan))).toBe(dot);
            for (const c of plan.clusters) {
                expect(dot).toContain(`id="cluster-${slug(c.name)}", class="mesh-cluster ${c.role}"`);
                if (c.gateway) expect(dot).toContain(`id="gateway-${slug(c.name)}"`);
                if (c.role === "remote") {
                    expect(dot).toContain(`id="controls-${slug(c.primary!)}-${slug(c.name)}", class="controls"`);
                    // The remote reaches its primary's istiod through the primary's east-west gateway.
                    expect(dot).toContain(`"gateway-${c.primary}" -> "cluster-${c.name}" [id="xds-${slug(c.name)}", class="xds"`);
                }
            }
            // Two-cluster stacks: every secret drawn, a mutual pair as one two-headed edge.
            const ids = secretEdgeIds(plan);
            expect(dot.match(/class="remote-secret( mutual)?"/g) ?? []).toHaveLength(ids.length);
            for (const id of ids) expect(dot).toContain(`id="${id}", class="remote-secret${id.includes("-with-") ? " mutual" : ""}"`);
            expect(dot.match(/class="intermediate"/g) ?? []).toHaveLength(Object.keys(plan.trust.intermediates).length);
            expect(dot.match(/class="signs"/g) ?? []).toHaveLength(Object.keys(plan.trust.intermediates).length);
            for (const n of plan.networks) expect(dot).toContain(`class="network"; label=<<B>network ${n}</B>>`);
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

    it("draws each kind of edge one by one up to its LAYOUT limit and summarises it above", async () => {
        // Three primaries: 3 mutual remote-secret edges and 3 network pairs, at the limits; four: 6 and 6, over.
        const three = meshDot(await planOf("multi-primary", 3));
        expect(three.match(/class="remote-secret mutual"/g)).toHaveLength(LAYOUT.maxSecretEdges);
        expect(three.match(/class="cross-network"/g)).toHaveLength(LAYOUT.maxNetworkPairs);
        expect(three).not.toContain('ID="summary-');
        const four = await planOf("multi-primary", 4);
        const dot = meshDot(four);
        expect(dot).not.toContain('class="remote-secret');
        expect(dot).not.toContain('class="cross-network"');
        expect(dot).toContain(`ID="summary-remote-secrets"`);
        expect(dot).toContain(`reads: 12 remote secrets (edges drawn up to ${LAYOUT.maxSecretEdges})`);
        expect(dot).toContain("6 network pairs");
        expect(meshLayout(four)).toMatchObject({ intermediatesDrawn: true, secretEdges: null, networkPairs: null });
        // Intermediates: one node each up to LAYOUT.maxIntermediates istiod clusters, one node for all above.
        const five = meshDot(await planOf("multi-primary", 5));
        expect(five.match(/class="intermediate"/g)).toHaveLength(LAYOUT.maxIntermediates);
        const ten = meshDot(await planOf("multi-primary", 10));
        expect(ten).not.toContain('class="intermediate"');
        expect(ten).toContain('id="intermediates", class="intermediates"');
        expect(ten).toContain("10 intermediate CAs · one per istiod cluster");
        // Remotes of one primary share a box (on one network, or across their remote-only networks): one path each.
        for (const model of ["primary-remote", "primary-remote-multinet"] as const) {
            const plan = await planOf(model, 10);
            const d = meshDot(plan);
            expect(meshLayout(plan)).toMatchObject({ paths: 1, controlsDrawn: true, xdsLabelled: true });
            const box = model === "primary-remote" ? "remotes-c01-network1" : "remotes-c01-networks";
            expect(d).toContain(`id="${box}"; class="remotes"; label=<9 remotes of c01`);
            expect(d.match(/class="xds"/g)).toHaveLength(1);
            expect(d).toContain(`"gateway-c01" -> "cluster-c02" [id="xds-${box}", class="xds", dir="back"`);
            expect(d).toContain(`label="${XDS_LABEL}", lhead=`);
            expect(d).toContain(`"cluster-c01" -> "cluster-c02" [id="controls-c01-${box}", class="controls"`);
        }
    });

    it("is deterministic for the synthetic meshes too (same plan, byte-identical DOT and SVG)", async () => {
        const plan = await planOf("primary-remote-multinet", 25);
        const dot = meshDot(plan);
        expect(meshDot(structuredClone(plan))).toBe(dot);
        expect(await renderSvg(meshDot(structuredClone(plan)))).toBe(await renderSvg(dot));
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
        expect(fs.existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does)`).toBe(
            true,
        );
        await expect(launchChromium("/nonexistent/chromium")).rejects.toThrow(
            "Chromium not found at /nonexistent/chromium: install it with `apt-get install -y " +
                "chromium` (.ci/run does), or set CHROMIUM_PATH",
        );
    });

    for (const stack of stacks) {
        it(`${stack}: shows every cluster, gateway, CA and edge, laid out and visible`, async () => {
            const { plan, svg } = plans.get(stack)!;
            const page = browser.page;
            await page.setContent(svgPage(svg, stack), { waitUntil: "load" });
            const dom = (await page.evaluate(DOM_FACTS)) as DomFacts;
            const inside = (b: Box) =>
                b.w > 10 &&
                b.h > 10 &&
                b.x >= dom.svg.x - 1 &&
                b.y >= dom.svg.y - 1 &&
                b.x + b.w <= dom.svg.x + dom.svg.w + 1 &&
                b.y + b.h <= dom.svg.y + dom.svg.h + 1;
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
                    const overlap =
                        a.box.x < b.box.x + b.box.w &&
                        b.box.x < a.box.x + a.box.w &&
                        a.box.y < b.box.y + b.box.h &&
                        b.box.y < a.box.y + a.box.h;
                    expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
                }
            }
            // Gateways with their address, or "assigned at deploy".
            const withGw = plan.clusters.filter((c) => c.gateway);
            expect(dom.gateways.map((g) => g.id).sort()).toEqual(withGw.map((c) => `gateway-${slug(c.name)}`).sort());
            for (const c of withGw) {
                const text = dom.gateways.find((g) => g.id === `gateway-${slug(c.name)}`)!.text;
                expect(text.startsWith(`${c.name} · east-west gateway ${c.gateway!.address}`), text).toBe(true);
            }
            // Networks group the clusters.
            expect(dom.networks.map((n) => n.text.match(/^network (\S+)/)?.[1]).sort()).toEqual(plan.networks);
            // Root of trust: one root, an intermediate per istiod cluster, signed, and into cacerts.
            expect(dom.root).toHaveLength(1);
            expect(dom.root[0].text).toContain(
                plan.trust.mode === "generated" ? "sha256 generated at deploy" : plan.trust.root.sha256.slice(0, 16),
            );
            expect(dom.intermediates.map((i) => i.id).sort()).toEqual(
                Object.keys(plan.trust.intermediates)
                    .map((c) => `intermediate-${slug(c)}`)
                    .sort(),
            );
            expect(dom.signs).toHaveLength(dom.intermediates.length);
            expect(dom.cacerts).toHaveLength(dom.intermediates.length);
            // Remote-secret edges: exactly the secret matrix, drawn, labelled "reads".
            expect(dom.remoteSecrets.map((e) => e.id).sort()).toEqual(secretEdgeIds(plan));
            expect(dom.controls.map((e) => e.id).sort()).toEqual(
                plan.clusters
                    .filter((c) => c.role === "remote")
                    .map((c) => `controls-${slug(c.primary!)}-${slug(c.name)}`)
                    .sort(),
            );
            // xDS and webhooks: each remote → its primary's east-west gateway, labelled with both ports.
            const remotes = plan.clusters.filter((c) => c.role === "remote");
            expect(dom.xds.map((e) => e.id).sort()).toEqual(remotes.map((c) => `xds-${slug(c.name)}`).sort());
            for (const c of remotes) {
                const e = dom.xds.find((x) => x.id === `xds-${slug(c.name)}`)!;
                expect(e.ends).toBe(`gateway-${c.primary}->cluster-${c.name}`);
                expect(e.label).toBe(XDS_LABEL);
            }
            for (const e of [...dom.remoteSecrets, ...dom.controls, ...dom.signs, ...dom.cacerts, ...dom.xds])
                expect(e.length, e.id).toBeGreaterThan(10);
            for (const e of dom.remoteSecrets) expect(e.label).toBe("reads");
            // Every label readable: visible, inside its node, none on top of another.
            checkText(plan, await layoutFacts(page, svg, stack));

            // And what a person would see: a non-blank screenshot.
            const png = path.join(out, `${stack}.png`);
            await screenshotSvg(page, svg, stack, png);
            const bytes = fs.readFileSync(png);
            expect(bytes.subarray(1, 4).toString()).toBe("PNG");
            expect(bytes.readUInt32BE(16)).toBeGreaterThan(300);
            expect(bytes.length).toBeGreaterThan(10_000);
        });
    }
    // What a reader sees at 5, 10 and 25 clusters. Text boxes are the browser's getBoundingClientRect
    // of every <text>; two consecutive lines of one label share a couple of pixels of line box
    // (ascent and descent), so boxes are compared inset by a quarter of their height and 1 px wide.
    for (const model of MODELS) {
        for (const n of SIZES) {
            it(`${model}, ${n} clusters: every cluster and gateway named and visible, no two labels overlapping`, async () => {
                const plan = await planOf(model, n);
                const svg = await renderSvg(meshDot(plan));
                checkLayout(plan, await layoutFacts(browser.page, svg, plan.stack));
            });
        }
    }
});

describe("docs/ screenshots", () => {
    it("keep one per shipped stack and per synthetic 10-cluster mesh (npm run screenshots)", () => {
        const shots = [...stacks, ...Object.keys(SYNTHETIC_SHOTS)];
        expect(Object.values(SYNTHETIC_SHOTS).map((x) => x.n)).toEqual([10, 10]);
        const missing = shots.filter((s) => !fs.existsSync(path.join(ROOT, "docs", `${s}.png`)));
        expect(missing, `missing docs/<stack>.png for ${missing.join(", ")}: run npm run screenshots`).toEqual([]);
        for (const s of shots) {
            const bytes = fs.readFileSync(path.join(ROOT, "docs", `${s}.png`));
            expect(bytes.subarray(1, 4).toString(), s).toBe("PNG");
            expect(bytes.readUInt32BE(16), `${s} width`).toBeGreaterThan(300);
        }
    });
});
