// The topology picture of a plan: Graphviz DOT built by a pure function (meshDot), rendered to SVG
// in-process by Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz), so no system package is
// needed. Every node and edge carries a stable id and class, so a browser (or a test) can find them:
//   #root-ca, #intermediate-<c>        .root-ca, .intermediate          the root of trust
//   #network-<n>, #cloud-<cloud>       .network, .cloud                 how clusters are grouped
//   #cluster-<c>                       .mesh-cluster.primary|.remote    one per cluster
//   #gateway-<c>                       .gateway                         east-west gateways, with address
//   #remote-secret-<s>-to-<t>          .edge.remote-secret              t's istiod reads s's API server
//   #controls-<p>-<r>                  .edge.controls                   primary p controls remote r
//   #signs-<c>, #cacerts-<c>           .edge.signs, .edge.cacerts       root → intermediate → cluster
//   #exposes-<c>                       .edge.exposes                    cluster → its gateway
//   #cross-network-<a>-<b>             .edge.cross-network              gateway ↔ gateway (15443)
import type { PlanCluster, PlanFile } from "./planFile";
import { GENERATED_AT_DEPLOY, ISTIO_CHARTS } from "./planFile";

const FONT = "Helvetica,Arial,sans-serif";
const COLORS = {
    primary: "#dbeafe",
    primaryLine: "#1d4ed8",
    remote: "#f1f5f9",
    remoteLine: "#475569",
    gateway: "#dcfce7",
    gatewayLine: "#15803d",
    root: "#fef3c7",
    rootLine: "#b45309",
    secret: "#7c3aed",
    network: "#94a3b8",
    cloud: "#0f766e",
};

/** A DOT id: always quoted, escaped. */
function q(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Text for an HTML-like label. */
function h(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function attrs(a: Record<string, string | number | undefined>): string {
    return Object.entries(a)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => (k === "label" && typeof v === "string" && v.startsWith("<") ? `${k}=${v}` : `${k}=${q(String(v))}`))
        .join(", ");
}

/** A slug usable in ids: lower-case letters, digits and dashes. */
export function slug(s: string): string {
    return s.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

function clusterLabel(c: PlanCluster): string {
    const lines = [`<B>${h(c.name)}</B>`];
    lines.push(c.role === "remote" ? `remote of ${h(c.primary ?? "?")} · no istiod` : "primary · istiod");
    const facts = [...new Set(["platform", "cloud", "region"].map((k) => c.facts[k]).filter((v): v is string => typeof v === "string" && v !== ""))];
    if (facts.length) lines.push(h(facts.join(" · ")));
    const versions = [...new Set(Object.values(c.charts).filter((ch) => ISTIO_CHARTS.has(ch.chart)).map((ch) => ch.version))];
    if (versions.length) lines.push(`<FONT POINT-SIZE="10">istio ${h(versions.join(", "))}</FONT>`);
    return `<${lines.join("<BR/>")}>`;
}

function certLine(d: { keyAlgorithm: string | null; rsaBits: number | null; ecdsaCurve: string | null; validityDays: number | null }): string {
    const key = d.keyAlgorithm === "RSA" ? `RSA ${d.rsaBits}` : d.keyAlgorithm === "ECDSA" ? `ECDSA ${d.ecdsaCurve}` : "";
    return [key, d.validityDays ? `${d.validityDays} d` : ""].filter(Boolean).join(" · ");
}

/** The DOT source of the topology picture. Pure and deterministic. */
export function meshDot(plan: PlanFile): string {
    const out: string[] = [];
    const title = `mesh ${plan.meshId} · ${plan.topology} · stack ${plan.stack}`;
    out.push(`digraph mesh {`);
    out.push(`  id="mesh"; class="mesh";`);
    out.push(
        `  graph [${attrs({ fontname: FONT, fontsize: 18, label: `<<B>${h(title)}</B>>`, labelloc: "t", rankdir: "TB", newrank: "true", compound: "true", nodesep: 0.5, ranksep: 0.6, pad: 0.3, bgcolor: "white" })}];`,
    );
    out.push(`  node [${attrs({ fontname: FONT, fontsize: 12, shape: "box", style: "rounded,filled", penwidth: 1.4, margin: "0.3,0.08" })}];`);
    out.push(`  edge [${attrs({ fontname: FONT, fontsize: 10, penwidth: 1.2 })}];`);

    // Root of trust: the root CA and one intermediate per cluster that runs istiod.
    const t = plan.trust;
    const rootFp = t.root.sha256 === GENERATED_AT_DEPLOY ? "sha256 generated at deploy" : `sha256 ${t.root.sha256.slice(0, 16)}…`;
    const rootDef = t.mode === "provided" ? `provided${t.root.organization ? ` · ${t.root.organization}` : ""}` : `${certLine(t.root)}${t.root.protect ? " · protected" : ""}`;
    out.push(`  subgraph cluster_trust {`);
    out.push(`    id="trust"; class="trust"; label=<root of trust · ${h(t.mode)}>; style="rounded,dashed"; color=${q(COLORS.rootLine)}; fontname=${q(FONT)}; fontsize=12;`);
    out.push(`    ${q("root-ca")} [${attrs({ id: "root-ca", class: "root-ca", label: `<<B>Root CA</B><BR/>${h(rootDef)}<BR/><FONT POINT-SIZE="10">${h(rootFp)}</FONT>>`, fillcolor: COLORS.root, color: COLORS.rootLine })}];`);
    const inters = Object.keys(t.intermediates).sort();
    for (const c of inters) {
        const d = t.intermediates[c];
        const fp = d.sha256 === GENERATED_AT_DEPLOY ? "" : `<BR/><FONT POINT-SIZE="10">sha256 ${h(d.sha256.slice(0, 16))}…</FONT>`;
        const def = t.mode === "provided" ? "provided" : `${certLine(d)}${d.generation && d.generation > 1 ? ` · g${d.generation}` : ""}`;
        out.push(`    ${q(`intermediate-${c}`)} [${attrs({ id: `intermediate-${slug(c)}`, class: "intermediate", label: `<<B>intermediate CA ${h(c)}</B><BR/>${h(def)}${fp}>`, fillcolor: "#fffbeb", color: COLORS.rootLine })}];`);
    }
    out.push(`  }`);

    // Clusters grouped by cloud (when the plan knows it) and network.
    const clouds = [...new Set(plan.clusters.map((c) => (typeof c.facts.cloud === "string" ? c.facts.cloud : "")))].sort();
    // Group by cloud only when the mesh spans several.
    const byCloud = clouds.length > 1;
    for (const cloud of clouds) {
        const inCloud = plan.clusters.filter((c) => (typeof c.facts.cloud === "string" ? c.facts.cloud : "") === cloud);
        const indent = byCloud ? "    " : "  ";
        if (byCloud) {
            out.push(`  subgraph ${q(`cluster_cloud_${cloud || "none"}`)} {`);
            out.push(`    id=${q(`cloud-${slug(cloud || "none")}`)}; class="cloud"; label=<<B>${h(cloud ? `cloud ${cloud}` : "no cloud")}</B>>; style="rounded"; color=${q(COLORS.cloud)}; fontname=${q(FONT)}; fontsize=13;`);
        }
        for (const network of [...new Set(inCloud.map((c) => c.network))].sort()) {
            out.push(`${indent}subgraph ${q(`cluster_network_${cloud}_${network}`)} {`);
            out.push(
                `${indent}  id=${q(`network-${byCloud ? `${slug(cloud || "none")}-` : ""}${slug(network)}`)}; class="network"; label=<network&#160;<B>${h(network)}</B>>; style="rounded,dashed"; color=${q(COLORS.network)}; fontname=${q(FONT)}; fontsize=12;`,
            );
            for (const c of inCloud.filter((x) => x.network === network)) {
                const primary = c.role !== "remote";
                out.push(
                    `${indent}  ${q(`cluster-${c.name}`)} [${attrs({ id: `cluster-${slug(c.name)}`, class: `mesh-cluster ${primary ? "primary" : "remote"}`, label: clusterLabel(c), fillcolor: primary ? COLORS.primary : COLORS.remote, color: primary ? COLORS.primaryLine : COLORS.remoteLine })}];`,
                );
                if (c.gateway) {
                    out.push(
                        `${indent}  ${q(`gateway-${c.name}`)} [${attrs({ id: `gateway-${slug(c.name)}`, class: `gateway${c.gateway.fixed ? " fixed" : " at-deploy"}`, shape: "box", style: "filled", label: `<east-west gateway<BR/>${h(c.gateway.address)}>`, fillcolor: COLORS.gateway, color: COLORS.gatewayLine })}];`,
                    );
                }
            }
            out.push(`${indent}}`);
        }
        if (byCloud) out.push(`  }`);
    }

    // Edges: trust chain, gateways, control, remote secrets, cross-network.
    for (const c of inters) {
        out.push(`  ${q("root-ca")} -> ${q(`intermediate-${c}`)} [${attrs({ id: `signs-${slug(c)}`, class: "signs", color: COLORS.rootLine, label: "signs" })}];`);
        if (plan.clusters.some((x) => x.name === c)) {
            out.push(`  ${q(`intermediate-${c}`)} -> ${q(`cluster-${c}`)} [${attrs({ id: `cacerts-${slug(c)}`, class: "cacerts", color: COLORS.rootLine, label: "cacerts" })}];`);
        }
    }
    for (const c of plan.clusters) {
        if (c.gateway) out.push(`  ${q(`cluster-${c.name}`)} -> ${q(`gateway-${c.name}`)} [${attrs({ id: `exposes-${slug(c.name)}`, class: "exposes", color: COLORS.gatewayLine, arrowhead: "none" })}];`);
    }
    for (const c of plan.clusters.filter((x) => x.role === "remote" && x.primary)) {
        out.push(
            `  ${q(`cluster-${c.primary}`)} -> ${q(`cluster-${c.name}`)} [${attrs({ id: `controls-${slug(c.primary!)}-${slug(c.name)}`, class: "controls", style: "dashed", color: COLORS.primaryLine, fontcolor: COLORS.primaryLine, label: "controls" })}];`,
        );
    }
    for (const s of plan.remoteSecrets) {
        out.push(
            `  ${q(`cluster-${s.target}`)} -> ${q(`cluster-${s.source}`)} [${attrs({ id: `remote-secret-${slug(s.source)}-to-${slug(s.target)}`, class: "remote-secret", color: COLORS.secret, fontcolor: COLORS.secret, label: "reads", constraint: "false" })}];`,
        );
    }
    const gws = plan.clusters.filter((c) => c.gateway);
    if (plan.networks.length > 1) {
        for (let i = 0; i < gws.length; i++) {
            for (let j = i + 1; j < gws.length; j++) {
                if (gws[i].network === gws[j].network) continue;
                out.push(
                    `  ${q(`gateway-${gws[i].name}`)} -> ${q(`gateway-${gws[j].name}`)} [${attrs({ id: `cross-network-${slug(gws[i].name)}-${slug(gws[j].name)}`, class: "cross-network", dir: "both", style: "bold", color: COLORS.gatewayLine, fontcolor: COLORS.gatewayLine, label: "15443 mTLS", constraint: "false" })}];`,
                );
            }
        }
    }
    // The legend explains only the kinds of edges this picture has.
    const entries: [color: string, style: string, text: string, shown: boolean][] = [
        [COLORS.secret, "solid", "reads: the target's istiod reads the source's API server (remote secret)", plan.remoteSecrets.length > 0],
        [COLORS.primaryLine, "dashed", "controls: the primary's istiod runs the remote", plan.clusters.some((c) => c.role === "remote")],
        [COLORS.rootLine, "solid", "signs / cacerts: root CA → intermediate CA → istiod", inters.length > 0],
        [COLORS.gatewayLine, "bold", "15443 mTLS: cross-network traffic between east-west gateways", plan.networks.length > 1 && gws.length > 1],
    ];
    const legend = entries
        .filter(([, , , shown]) => shown)
        .map(([color, style, text]) => `<TR><TD><FONT COLOR="${color}">${style === "dashed" ? "- - -▶" : style === "bold" ? "◀━━▶" : "───▶"}</FONT></TD><TD ALIGN="LEFT">${h(text)}</TD></TR>`)
        .join("");
    out.push(`  { rank=sink; ${q("legend")} [${attrs({ id: "legend", class: "legend", shape: "plaintext", style: "", fontsize: 10, label: `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">${legend}</TABLE>>` })}]; }`);
    out.push(`}`);
    return `${out.join("\n")}\n`;
}

type GraphvizModule = typeof import("@hpcc-js/wasm-graphviz");
let graphviz: Promise<{ dot(src: string): string }> | undefined;

/** Render DOT to SVG with Graphviz compiled to WebAssembly (ESM-only, so loaded with import()). */
export async function renderSvg(dot: string): Promise<string> {
    graphviz ??= (import("@hpcc-js/wasm-graphviz") as Promise<GraphvizModule>).then((m) => m.Graphviz.load());
    const gv = await graphviz;
    return gv.dot(dot);
}

export async function meshSvg(plan: PlanFile): Promise<string> {
    return renderSvg(meshDot(plan));
}
