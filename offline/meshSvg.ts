// The topology picture of a plan: Graphviz DOT built by a pure function (meshDot), rendered to SVG
// in-process by Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz), so no system package is
// needed. Every node and edge carries a stable id and class, so a browser (or a test) can find them:
//   #root-ca                             .root-ca                         the root of trust
//   #intermediate-<c>                    .intermediate                    one per istiod cluster (≤ LAYOUT.maxIntermediates)
//   #intermediates                       .intermediates                   all of them in one node (above that)
//   #network-<n>, #cloud-<cloud>         .network, .cloud                 how clusters are grouped
//   #cluster-<c>                         .mesh-cluster.primary|.remote    one per cluster
//   #remotes-<p>-<n>                     .remotes                         ≥ 2 remotes of primary p on network n, boxed together
//   #gateway-<c>                         .gateway.fixed|.at-deploy        east-west gateway of cluster c, named, with its address
//   #remote-secret-<s>-to-<t>            .edge.remote-secret              t's istiod reads s's API server: the arrow runs
//                                                                         from the reader t to s, the API server it reads
//                                                                         (the remote secret lives in t, made from s's token)
//   #remote-secret-<a>-with-<b>          .edge.remote-secret.mutual       a and b read each other (a < b): one edge, two secrets
//   #controls-<p>-<r>, -<p>-remotes-<n>  .edge.controls                   primary p's istiod runs remote r (or the remotes box)
//   #xds-<r>, #xds-remotes-<p>-<n>       .edge.xds                        remote → p's gateway → istiod (15012 xDS, 15017 webhooks)
//   #signs-<c>, #cacerts-<c>             .edge.signs, .edge.cacerts       root → intermediate → cluster
//   #signs-intermediates                 .edge.signs                      root → the intermediates node
//   #exposes-<c>                         .edge.exposes                    cluster → its gateway
//   #cross-network-<na>-<nb>             .edge.cross-network              one 15443 edge per network pair
//   #legend                              .legend                          what each kind of edge means, and
//   #a_summary-remote-secrets, #a_summary-controls, #a_summary-cross-network  the facts whose edges were collapsed
//   #a_summary-traffic                   the traffic policies (failover, weighted, locality) and the clusters they are in
//
// Readable at 5, 10 and 25 clusters (test/meshSvg.test.ts measures it in Chromium): networks and the
// clusters in them are laid out in rows of LAYOUT.columns; the remotes of one primary on one network
// share a box, so their control and xDS paths are one edge each; and each kind of edge whose count
// passes its LAYOUT limit is collapsed into a summary line of the legend instead of a thicket.
import type { PlanCluster, PlanFile } from "./planFile";
import { GENERATED_AT_DEPLOY, ISTIO_CHARTS } from "./planFile";
import { ISTIO_OBJECTS, PORTS } from "../components/istio";
import { trafficLegend } from "./trafficPlan";

/** The thresholds of the picture: each kind of edge is drawn one by one up to its limit, summarised above it. */
export const LAYOUT = {
    /** Network boxes per row, and units (a cluster with its gateway, a remotes box) per row inside a network. */
    columns: 5,
    /** Up to this many istiod clusters, each intermediate CA is a node with its signs and cacerts edges. */
    maxIntermediates: 5,
    /** Remote-secret edges (a mutual pair is one edge) drawn up to this many: a three-primary mesh. */
    maxSecretEdges: 3,
    /** 15443 edges, one per network pair, drawn up to this many pairs: three networks. */
    maxNetworkPairs: 3,
    /** controls edges drawn up to this many; above, each remote's label ("remote of p") and the summary say it. */
    maxControls: 4,
    /** xDS edges carry their port label up to this many (they are always drawn; the legend names them). */
    maxXdsLabels: 4,
    /** Names per line in a summary list. */
    namesPerLine: 10,
} as const;

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
    /** The trust chain's edges (signs, cacerts): dotted, in the root's darker yellow, never to be taken for xDS's red. */
    trustLine: "#a16207",
    secret: "#7c3aed",
    xds: "#dc2626",
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

type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
    return Object.entries(a)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => (k === "label" && typeof v === "string" && v.startsWith("<") ? `${k}=${v}` : `${k}=${q(String(v))}`))
        .join(", ");
}

/** A node statement: `"id" [attrs];`. */
function stmt(id: string, a: Attrs): string {
    return `${q(id)} [${attrs(a)}];`;
}

/** An edge statement: `"from" -> "to" [attrs];`. */
function edgeStmt(from: string, to: string, a: Attrs): string {
    return `${q(from)} -> ${q(to)} [${attrs(a)}];`;
}

/** A subgraph's attribute statements: `id="…"; class="…"; label=<…>;`. */
function boxAttrs(a: Attrs): string {
    return `${attrs(a).split(", ").join("; ")};`;
}

/** A slug usable in ids: lower-case letters, digits and dashes. */
export function slug(s: string): string {
    return s.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/** Names, comma-separated, LAYOUT.namesPerLine to a line (HTML-label line breaks, left-aligned). */
function nameLines(names: string[]): string {
    const lines: string[] = [];
    for (let i = 0; i < names.length; i += LAYOUT.namesPerLine)
        lines.push(
            names
                .slice(i, i + LAYOUT.namesPerLine)
                .map(h)
                .join(", "),
        );
    return lines.join(`,<BR ALIGN="LEFT"/>`);
}

function clusterLabel(c: PlanCluster): string {
    const lines = [`<B>${h(c.name)}</B>`];
    lines.push(c.role === "remote" ? `remote of ${h(c.primary ?? "?")} · no istiod` : "primary · istiod");
    const facts = [
        ...new Set(["platform", "cloud", "region"].map((k) => c.facts[k]).filter((v): v is string => typeof v === "string" && v !== "")),
    ];
    if (facts.length) lines.push(h(facts.join(" · ")));
    const versions = [
        ...new Set(
            Object.values(c.charts)
                .filter((ch) => ISTIO_CHARTS.has(ch.chart))
                .map((ch) => ch.version),
        ),
    ];
    if (versions.length) lines.push(`<FONT POINT-SIZE="10">istio ${h(versions.join(", "))}</FONT>`);
    return `<${lines.join("<BR/>")}>`;
}

/** Whether the cluster's east-west gateway passes istiod's xDS and webhook ports through (expose-istiod). */
function exposesIstiod(c: PlanCluster): boolean {
    return c.istioObjects.includes(`Gateway/${ISTIO_OBJECTS.istiodGateway}`);
}

function gatewayLabel(c: PlanCluster, multiNetwork: boolean): string {
    const ports: string[] = [];
    if (multiNetwork) ports.push(`${PORTS.crossNetwork} cross-network`);
    if (exposesIstiod(c)) ports.push(`${PORTS.xds} xDS · ${PORTS.webhook} webhooks`);
    const lines = [`<B>${h(c.name)} · east-west gateway</B>`, h(c.gateway!.address)];
    if (ports.length) lines.push(`<FONT POINT-SIZE="10">${h(ports.join(" · "))}</FONT>`);
    return `<${lines.join("<BR/>")}>`;
}

function certLine(d: {
    keyAlgorithm: string | null;
    rsaBits: number | null;
    ecdsaCurve: string | null;
    validityDays: number | null;
}): string {
    const key = d.keyAlgorithm === "RSA" ? `RSA ${d.rsaBits}` : d.keyAlgorithm === "ECDSA" ? `ECDSA ${d.ecdsaCurve}` : "";
    return [key, d.validityDays ? `${d.validityDays} d` : ""].filter(Boolean).join(" · ");
}

/** A laid-out block: the nodes of its first row (edges into it) and the bottoms of its last row (what goes below it). */
interface Block {
    tops: string[];
    bottoms: string[];
}

/** Remotes of one primary boxed together: ≥ 2 on one network, or ≥ 2 remote-only networks (of one cloud). */
interface RemoteBox {
    primary: string;
    /** The subgraph's DOT name, for lhead. */
    box: string;
    id: string;
    /** In-network box: the network; network box: the networks it wraps. */
    network?: string;
    networks?: string[];
    cloud: string;
    remotes: PlanCluster[];
}

/** Where the remotes sit and what their control and xDS edges point at. */
interface Grouping {
    cloudOf(c: PlanCluster): string;
    clouds: string[];
    byCloud: boolean;
    inNetwork: RemoteBox[];
    ofNetworks: RemoteBox[];
    /** One control/xDS path per remote on its own, or per box (a network box wins over a box inside it). */
    paths: { primary: string; to: string; lhead?: string; id: string }[];
}

function grouping(plan: PlanFile): Grouping {
    const cloudOf = (c: PlanCluster) => (typeof c.facts.cloud === "string" ? c.facts.cloud : "");
    const clouds = [...new Set(plan.clusters.map(cloudOf))].sort();
    const byCloud = clouds.length > 1;
    const remotes = plan.clusters.filter((c) => c.role === "remote" && c.primary);
    const bucket = <K extends string>(xs: PlanCluster[], key: (c: PlanCluster) => K) => {
        const m = new Map<K, PlanCluster[]>();
        for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
        return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    };
    const inNetwork: RemoteBox[] = bucket(remotes, (c) => `${cloudOf(c)}\0${c.network}\0${c.primary}`)
        .filter(([, rs]) => rs.length >= 2)
        .map(([, rs]) => ({
            primary: rs[0].primary!,
            network: rs[0].network,
            cloud: cloudOf(rs[0]),
            remotes: rs,
            box: `cluster_remotes_${cloudOf(rs[0])}_${rs[0].network}_${rs[0].primary}`,
            id: `remotes-${slug(rs[0].primary!)}-${slug(rs[0].network)}`,
        }));
    // Networks with no primary whose clusters are all remotes of one primary.
    const ofNetworks: RemoteBox[] = [];
    for (const cloud of clouds) {
        const inCloud = plan.clusters.filter((c) => cloudOf(c) === cloud);
        const nets = [...new Set(inCloud.map((c) => c.network))].sort();
        const remoteOnly = nets.filter((n) => inCloud.every((c) => c.network !== n || c.role === "remote"));
        const byPrimary = new Map<string, string[]>();
        for (const n of remoteOnly) {
            const ps = [...new Set(inCloud.filter((c) => c.network === n).map((c) => c.primary ?? ""))];
            if (ps.length === 1 && ps[0]) byPrimary.set(ps[0], [...(byPrimary.get(ps[0]) ?? []), n]);
        }
        for (const [p, ns] of [...byPrimary].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
            if (ns.length < 2) continue;
            const id = `remotes-${slug(p)}-networks${byCloud ? `-${slug(cloud || "none")}` : ""}`;
            ofNetworks.push({
                primary: p,
                networks: ns,
                cloud,
                remotes: inCloud.filter((c) => ns.includes(c.network)),
                box: `cluster_remote_networks_${cloud}_${p}`,
                id,
            });
        }
    }
    const paths = new Map<string, Grouping["paths"][number]>();
    for (const r of remotes) {
        const box = ofNetworks.find((g) => g.remotes.includes(r)) ?? inNetwork.find((g) => g.remotes.includes(r));
        const path = box
            ? { primary: r.primary!, to: `cluster-${box.remotes[0].name}`, lhead: box.box, id: box.id }
            : { primary: r.primary!, to: `cluster-${r.name}`, id: slug(r.name) };
        paths.set(path.id, path);
    }
    return {
        cloudOf,
        clouds,
        byCloud,
        inNetwork,
        ofNetworks,
        paths: [...paths.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    };
}

/** The pure layout facts of the picture, decided before any DOT is written. */
export interface MeshLayout {
    /** istiod clusters get their own intermediate node (else one node for all). */
    intermediatesDrawn: boolean;
    /** Remote-secret edges (a is read by b, or a mutual pair once), or null when collapsed into the summary. */
    secretEdges: { a: string; b: string; mutual: boolean }[] | null;
    /** Network pairs that get a 15443 edge, or null when collapsed into the summary. */
    networkPairs: [string, string][] | null;
    /** Control/xDS paths: one per remote on its own or per remotes box. */
    paths: number;
    controlsDrawn: boolean;
    xdsLabelled: boolean;
}

/** Which kinds of edges are drawn one by one and which are summarised (LAYOUT's thresholds applied to the plan). */
export function meshLayout(plan: PlanFile): MeshLayout {
    const inters = Object.keys(plan.trust.intermediates);
    const has = new Set(plan.remoteSecrets.map((s) => `${s.source}\0${s.target}`));
    const secretEdges: { a: string; b: string; mutual: boolean }[] = [];
    for (const s of plan.remoteSecrets) {
        const mutual = has.has(`${s.target}\0${s.source}`);
        if (mutual && s.source > s.target) continue;
        secretEdges.push({ a: s.source, b: s.target, mutual });
    }
    const gwNetworks = [...new Set(plan.clusters.filter((c) => c.gateway).map((c) => c.network))].sort();
    const pairs: [string, string][] = [];
    if (plan.networks.length > 1)
        for (let i = 0; i < gwNetworks.length; i++)
            for (let j = i + 1; j < gwNetworks.length; j++) pairs.push([gwNetworks[i], gwNetworks[j]]);
    const paths = grouping(plan).paths.length;
    return {
        intermediatesDrawn: inters.length <= LAYOUT.maxIntermediates,
        secretEdges: secretEdges.length <= LAYOUT.maxSecretEdges ? secretEdges : null,
        networkPairs: pairs.length <= LAYOUT.maxNetworkPairs ? pairs : null,
        paths,
        controlsDrawn: paths <= LAYOUT.maxControls,
        xdsLabelled: paths <= LAYOUT.maxXdsLabels,
    };
}

/** The DOT source of the topology picture. Pure and deterministic. */
/** What the parts of the picture share: the plan, its layout and grouping, and what they write (statements in order; invisible edges and rank sets, written last; the legend's rows). */
interface DotParts {
    plan: PlanFile;
    layout: MeshLayout;
    g: Grouping;
    out: string[];
    invisible: string[];
    sameRank: string[][];
    legendRows: string[];
    summaryRows: string[];
    multiNetwork: boolean;
    byName: Map<string, PlanCluster>;
    /** The clusters with an intermediate CA, in name order. */
    inters: string[];
    xdsLabel: string;
    /** A legend row for facts whose edges were collapsed. */
    summary(id: string, title: string, text: string): void;
}

/**
 * The mesh as Graphviz DOT: the root of trust, the clusters by cloud and network, the edges (trust
 * chain, gateways, control and xDS paths, remote secrets, cross-network), the legend, the ranks.
 */
export function meshDot(plan: PlanFile): string {
    const layout = meshLayout(plan);
    const summaryRows: string[] = [];
    const d: DotParts = {
        plan,
        layout,
        g: grouping(plan),
        out: [],
        invisible: [],
        sameRank: [],
        legendRows: [],
        summaryRows,
        multiNetwork: plan.networks.length > 1,
        byName: new Map(plan.clusters.map((c) => [c.name, c])),
        inters: Object.keys(plan.trust.intermediates).sort(),
        xdsLabel: `${PORTS.xds} xDS · ${PORTS.webhook} webhooks`,
        summary: (id, title, text) =>
            void summaryRows.push(
                `<TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT" ID="summary-${id}" TITLE="${h(title)}">${text}</TD></TR>`,
            ),
    };
    dotHeader(d);
    dotTrust(d);
    dotClusters(d);
    dotTrustAndGatewayEdges(d);
    dotRemotePaths(d);
    dotRemoteSecrets(d);
    dotCrossNetwork(d);
    dotLegend(d);
    dotRanks(d);
    d.out.push(...d.invisible);
    d.out.push(`}`);
    return `${d.out.join("\n")}\n`;
}

/** The graph and its default node and edge attributes. */
function dotHeader(d: DotParts): void {
    const { plan, out } = d;
    const title = `mesh ${plan.meshId} · ${plan.topology} · stack ${plan.stack}`;
    out.push(`digraph mesh {`);
    out.push(`  id="mesh"; class="mesh";`);
    out.push(
        `  graph [${attrs({
            ...{ fontname: FONT, fontsize: 18, label: `<<B>${h(title)}</B>>`, labelloc: "t", rankdir: "TB", newrank: "true" },
            ...{ remincross: "false", compound: "true", nodesep: 0.4, ranksep: 0.5, pad: 0.3, bgcolor: "white" },
        })}];`,
    );
    out.push(
        `  node [${attrs({ fontname: FONT, fontsize: 12, shape: "box", style: "rounded,filled", penwidth: 1.4, margin: "0.3,0.08" })}];`,
    );
    out.push(`  edge [${attrs({ fontname: FONT, fontsize: 10, penwidth: 1.2 })}];`);
}

/** The root of trust: the root CA and one intermediate per cluster that runs istiod (or one node for all of them). */
function dotTrust(d: DotParts): void {
    const { plan, layout, out, inters } = d;
    // Root of trust: the root CA and one intermediate per cluster that runs istiod (or one node for all of them).
    const t = plan.trust;
    const rootFp = t.root.sha256 === GENERATED_AT_DEPLOY ? "sha256 generated at deploy" : `sha256 ${t.root.sha256.slice(0, 16)}…`;
    const rootDef =
        t.mode === "provided"
            ? `provided${t.root.organization ? ` · ${t.root.organization}` : ""}`
            : `${certLine(t.root)}${t.root.protect ? " · protected" : ""}`;
    const interDef = (c: string) => {
        const d = t.intermediates[c];
        return t.mode === "provided" ? "provided" : `${certLine(d)}${d.generation && d.generation > 1 ? ` · g${d.generation}` : ""}`;
    };
    out.push(`  subgraph cluster_trust {`);
    out.push(
        `    ${boxAttrs({
            ...{ id: "trust", class: "trust", label: `<root of trust · ${h(t.mode)}>` },
            ...{ style: "rounded,dashed", color: COLORS.rootLine, fontname: FONT, fontsize: 12 },
        })}`,
    );
    out.push(
        "    " +
            stmt("root-ca", {
                id: "root-ca",
                class: "root-ca",
                label: `<<B>Root CA</B><BR/>${h(rootDef)}<BR/><FONT POINT-SIZE="10">${h(rootFp)}</FONT>>`,
                fillcolor: COLORS.root,
                color: COLORS.rootLine,
            }),
    );
    if (layout.intermediatesDrawn) {
        for (const c of inters) {
            const d = t.intermediates[c];
            const fp = d.sha256 === GENERATED_AT_DEPLOY ? "" : `<BR/><FONT POINT-SIZE="10">sha256 ${h(d.sha256.slice(0, 16))}…</FONT>`;
            out.push(
                "    " +
                    stmt(`intermediate-${c}`, {
                        id: `intermediate-${slug(c)}`,
                        class: "intermediate",
                        label: `<<B>intermediate CA ${h(c)}</B><BR/>${h(interDef(c))}${fp}>`,
                        fillcolor: "#fffbeb",
                        color: COLORS.rootLine,
                    }),
            );
        }
    } else {
        // One node: the intermediates grouped by what defines them (a renewal shows as its own group).
        const byDef = new Map<string, string[]>();
        for (const c of inters) byDef.set(interDef(c), [...(byDef.get(interDef(c)) ?? []), c]);
        const rows = [...byDef].map(
            ([def, cs]) => `<TR><TD ALIGN="LEFT" BALIGN="LEFT">${h(def)} · ${cs.length}:<BR ALIGN="LEFT"/>${nameLines(cs)}</TD></TR>`,
        );
        const head = `<TR><TD><B>${inters.length} intermediate CAs · one per istiod cluster</B></TD></TR>`;
        const foot = `<TR><TD><FONT POINT-SIZE="10">each installed in its cluster as cacerts</FONT></TD></TR>`;
        const label = `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="6">${head}${rows.join("")}${foot}</TABLE>>`;
        out.push(
            "    " +
                stmt("intermediates", { id: "intermediates", class: "intermediates", label, fillcolor: "#fffbeb", color: COLORS.rootLine }),
        );
    }
    out.push(`  }`);
}

/** The clusters, by cloud and network, laid out in grids (LAYOUT.columns to a row). */
function dotClusters(d: DotParts): void {
    const { plan, g, out, invisible, sameRank, multiNetwork } = d;
    // Clusters grouped by cloud (when the mesh spans several) and network. Each container is a grid
    // of network boxes, LAYOUT.columns to a row and in name order: networks that run a primary, then
    // the boxes of remote-only networks, then the other networks. Inside a network: its primaries
    // (each above its gateway), the remotes on their own, then the remotes boxes, each a grid too.
    // `to` below `from`, zipped (the i-th onto the i-th, the rest onto the last): a complete bipartite set
    // of invisible edges would let Graphviz's crossing minimisation shuffle the rows.
    const below = (from: string[], to: string[], weight: number) => {
        for (let i = 0; i < Math.max(from.length, to.length); i++) {
            invisible.push(
                `  ${q(from[Math.min(i, from.length - 1)])} -> ${q(to[Math.min(i, to.length - 1)])} [style="invis", weight=${weight}];`,
            );
        }
    };
    /** Rows of LAYOUT.columns, in order: one rank and left-to-right edges per row, each row below the one before. */
    const grid = (units: Block[]): Block | undefined => {
        if (!units.length) return undefined;
        const k = LAYOUT.columns;
        for (let r = 0; r < units.length; r += k) {
            const row = units.slice(r, r + k);
            if (row.length > 1) sameRank.push(row.map((u) => u.tops[0]));
            for (let i = 1; i < row.length; i++) invisible.push(`  ${q(row[i - 1].tops[0])} -> ${q(row[i].tops[0])} [style="invis"];`);
            // Each unit below the one above it (heavy: columns stay straight), and below all of its bottoms.
            if (r >= k) units.slice(r - k, r).forEach((a, i) => below(a.bottoms, [row[Math.min(i, row.length - 1)].tops[0]], 50));
        }
        return {
            tops: units.slice(0, k).flatMap((u) => u.tops),
            bottoms: units.slice(Math.floor((units.length - 1) / k) * k).flatMap((u) => u.bottoms),
        };
    };
    /** Blocks one below the other. */
    const stack = (blocks: (Block | undefined)[]): Block | undefined => {
        const bs = blocks.filter((b): b is Block => b !== undefined);
        for (let i = 1; i < bs.length; i++) below(bs[i - 1].bottoms, bs[i].tops, 1);
        return bs.length ? { tops: bs[0].tops, bottoms: bs[bs.length - 1].bottoms } : undefined;
    };
    const clusterNode = (indent: string, c: PlanCluster): Block => {
        const primary = c.role !== "remote";
        out.push(
            indent +
                stmt(`cluster-${c.name}`, {
                    id: `cluster-${slug(c.name)}`,
                    class: `mesh-cluster ${primary ? "primary" : "remote"}`,
                    label: clusterLabel(c),
                    fillcolor: primary ? COLORS.primary : COLORS.remote,
                    color: primary ? COLORS.primaryLine : COLORS.remoteLine,
                }),
        );
        if (!c.gateway) return { tops: [`cluster-${c.name}`], bottoms: [`cluster-${c.name}`] };
        out.push(
            indent +
                stmt(`gateway-${c.name}`, {
                    id: `gateway-${slug(c.name)}`,
                    class: `gateway${c.gateway.fixed ? " fixed" : " at-deploy"}`,
                    shape: "box",
                    style: "filled",
                    margin: "0.4,0.08",
                    label: gatewayLabel(c, multiNetwork),
                    fillcolor: COLORS.gateway,
                    color: COLORS.gatewayLine,
                }),
        );
        return { tops: [`cluster-${c.name}`], bottoms: [`gateway-${c.name}`] };
    };
    const networkBox = (indent: string, cloud: string, network: string): Block => {
        out.push(`${indent}subgraph ${q(`cluster_network_${cloud}_${network}`)} {`);
        out.push(
            `${indent}  ${boxAttrs({
                id: `network-${g.byCloud ? `${slug(cloud || "none")}-` : ""}${slug(network)}`,
                class: "network",
                label: `<<B>network ${h(network)}</B>>`,
                ...{ style: "rounded,dashed", color: COLORS.network, fontname: FONT, fontsize: 12 },
            })}`,
        );
        const here = plan.clusters.filter((c) => g.cloudOf(c) === cloud && c.network === network);
        const boxes = g.inNetwork.filter((b) => b.cloud === cloud && b.network === network);
        const boxed = new Set(boxes.flatMap((b) => b.remotes.map((r) => r.name)));
        const blocks = [grid(here.filter((c) => c.role !== "remote").map((c) => clusterNode(`${indent}  `, c)))];
        blocks.push(grid(here.filter((c) => c.role === "remote" && !boxed.has(c.name)).map((c) => clusterNode(`${indent}  `, c))));
        for (const b of boxes) {
            out.push(`${indent}  subgraph ${q(b.box)} {`);
            out.push(
                `${indent}    ${boxAttrs({
                    ...{ id: b.id, class: "remotes", label: `<${b.remotes.length} remotes of ${h(b.primary)}>`, labeljust: "l" },
                    ...{ style: "rounded", color: COLORS.remoteLine, fontname: FONT, fontsize: 11 },
                })}`,
            );
            blocks.push(grid(b.remotes.map((r) => clusterNode(`${indent}    `, r))));
            out.push(`${indent}  }`);
        }
        out.push(`${indent}}`);
        return stack(blocks)!;
    };
    for (const cloud of g.clouds) {
        const inCloud = plan.clusters.filter((c) => g.cloudOf(c) === cloud);
        const indent = g.byCloud ? "    " : "  ";
        if (g.byCloud) {
            out.push(`  subgraph ${q(`cluster_cloud_${cloud || "none"}`)} {`);
            out.push(
                `    ${boxAttrs({
                    ...{
                        id: `cloud-${slug(cloud || "none")}`,
                        class: "cloud",
                        label: `<<B>${h(cloud ? `cloud ${cloud}` : "no cloud")}</B>>`,
                    },
                    ...{ style: "rounded", color: COLORS.cloud, fontname: FONT, fontsize: 13 },
                })}`,
            );
        }
        const networks = [...new Set(inCloud.map((c) => c.network))].sort();
        const withPrimary = networks.filter((n) => inCloud.some((c) => c.network === n && c.role !== "remote"));
        const boxes = g.ofNetworks.filter((b) => b.cloud === cloud);
        const inBoxes = new Set(boxes.flatMap((b) => b.networks!));
        const blocks = [grid(withPrimary.map((n) => networkBox(indent, cloud, n)))];
        for (const b of boxes) {
            out.push(`${indent}subgraph ${q(b.box)} {`);
            out.push(
                `${indent}  ${boxAttrs({
                    ...{
                        id: b.id,
                        class: "remotes",
                        label: `<${b.remotes.length} remotes of ${h(b.primary)} · ${b.networks!.length} networks>`,
                    },
                    ...{ style: "rounded", color: COLORS.remoteLine, fontname: FONT, fontsize: 12 },
                })}`,
            );
            blocks.push(grid(b.networks!.map((n) => networkBox(`${indent}  `, cloud, n))));
            out.push(`${indent}}`);
        }
        blocks.push(grid(networks.filter((n) => !withPrimary.includes(n) && !inBoxes.has(n)).map((n) => networkBox(indent, cloud, n))));
        stack(blocks);
        if (g.byCloud) out.push(`  }`);
    }
}

/** Edges of the trust chain (root → intermediate → cluster) and each cluster to its east-west gateway. */
function dotTrustAndGatewayEdges(d: DotParts): void {
    const { plan, layout, out, invisible, byName, inters } = d;
    // Edges: trust chain, gateways, control and xDS paths, remote secrets, cross-network.
    if (layout.intermediatesDrawn) {
        for (const c of inters) {
            out.push(
                "  " +
                    edgeStmt("root-ca", `intermediate-${c}`, {
                        id: `signs-${slug(c)}`,
                        class: "signs",
                        color: COLORS.trustLine,
                        style: "dotted",
                        penwidth: 1.6,
                        label: "signs",
                    }),
            );
            if (byName.has(c))
                out.push(
                    "  " +
                        edgeStmt(`intermediate-${c}`, `cluster-${c}`, {
                            id: `cacerts-${slug(c)}`,
                            class: "cacerts",
                            color: COLORS.trustLine,
                            style: "dotted",
                            penwidth: 1.6,
                            label: "cacerts",
                        }),
                );
        }
    } else if (inters.length) {
        out.push(
            "  " +
                edgeStmt("root-ca", "intermediates", {
                    id: "signs-intermediates",
                    class: "signs",
                    color: COLORS.trustLine,
                    style: "dotted",
                    penwidth: 1.6,
                    label: "signs",
                }),
        );
        // Above the first row of clusters, without an edge into each.
        const first = plan.clusters.find((c) => c.runsIstiod) ?? plan.clusters[0];
        if (first) invisible.push(`  ${q("intermediates")} -> ${q(`cluster-${first.name}`)} [style="invis"];`);
    }
    for (const c of plan.clusters) {
        if (c.gateway)
            out.push(
                "  " +
                    edgeStmt(`cluster-${c.name}`, `gateway-${c.name}`, {
                        id: `exposes-${slug(c.name)}`,
                        class: "exposes",
                        color: COLORS.gatewayLine,
                        arrowhead: "none",
                    }),
            );
    }
}

/** Remotes: the controls and xDS edges from their primary, or one collapsed legend line. */
function dotRemotePaths(d: DotParts): void {
    const { plan, layout, g, out, byName, xdsLabel, summary } = d;
    // Remotes: the primary's istiod controls them (through their API servers), and their proxies and
    // webhooks reach that istiod through the primary's east-west gateway (remotePilotAddress).
    const paths = g.paths;
    for (const p of paths) {
        if (!byName.has(p.primary)) continue;
        if (layout.controlsDrawn) {
            out.push(
                "  " +
                    edgeStmt(`cluster-${p.primary}`, p.to, {
                        id: `controls-${slug(p.primary)}-${p.id}`,
                        class: "controls",
                        style: "dashed",
                        color: COLORS.primaryLine,
                        fontcolor: COLORS.primaryLine,
                        label: "controls",
                        lhead: p.lhead,
                    }),
            );
        }
        const via = byName.get(p.primary)!.gateway ? `gateway-${p.primary}` : `cluster-${p.primary}`;
        out.push(
            "  " +
                edgeStmt(via, p.to, {
                    id: `xds-${p.id}`,
                    class: "xds",
                    dir: "back",
                    color: COLORS.xds,
                    fontcolor: COLORS.xds,
                    label: layout.xdsLabelled ? xdsLabel : undefined,
                    lhead: p.lhead,
                }),
        );
    }
    if (!layout.controlsDrawn && paths.length) {
        const byPrimary = new Map<string, string[]>();
        for (const c of plan.clusters.filter((x) => x.role === "remote" && x.primary))
            byPrimary.set(c.primary!, [...(byPrimary.get(c.primary!) ?? []), c.name]);
        const text = [...byPrimary]
            .map(([p, rs]) => `${h(p)}'s istiod controls ${rs.length} remotes:<BR ALIGN="LEFT"/>${nameLines(rs)}`)
            .join(`<BR ALIGN="LEFT"/>`);
        summary(
            "controls",
            "controls, collapsed",
            `<FONT COLOR="${COLORS.primaryLine}">controls (not drawn above ${LAYOUT.maxControls} edges): ${text}</FONT>`,
        );
    }
}

/** Who reads whom (remote secrets): edges, or one collapsed legend line grouped by reader. */
function dotRemoteSecrets(d: DotParts): void {
    const { plan, layout, out, summary } = d;
    if (layout.secretEdges) {
        for (const e of layout.secretEdges) {
            // The Secret lives in the reading cluster (target); the edge points at the API server it reads.
            const [from, to] = e.mutual ? [e.a, e.b] : [e.b, e.a];
            out.push(
                "  " +
                    edgeStmt(`cluster-${from}`, `cluster-${to}`, {
                        id: e.mutual ? `remote-secret-${slug(e.a)}-with-${slug(e.b)}` : `remote-secret-${slug(e.a)}-to-${slug(e.b)}`,
                        class: e.mutual ? "remote-secret mutual" : "remote-secret",
                        color: COLORS.secret,
                        fontcolor: COLORS.secret,
                        label: "reads",
                        dir: e.mutual ? "both" : undefined,
                        constraint: "false",
                    }),
            );
        }
    } else {
        // Grouped by reader: "each of …" for the readers that read every other cluster.
        const all = plan.clusters.map((c) => c.name);
        const readers = [...new Set(plan.remoteSecrets.map((s) => s.target))].sort();
        const everyOther = readers.filter((r) => {
            const read = new Set(plan.remoteSecrets.filter((s) => s.target === r).map((s) => s.source));
            return all.every((c) => c === r || read.has(c));
        });
        const parts: string[] = [];
        if (everyOther.length === 1) parts.push(`${h(everyOther[0])} reads every other cluster (${all.length - 1})`);
        else if (everyOther.length)
            parts.push(`each of ${everyOther.length} istiod clusters reads every other cluster:<BR ALIGN="LEFT"/>${nameLines(everyOther)}`);
        for (const r of readers.filter((x) => !everyOther.includes(x))) {
            parts.push(`${h(r)} reads ${nameLines(plan.remoteSecrets.filter((s) => s.target === r).map((s) => s.source))}`);
        }
        summary(
            "remote-secrets",
            "remote secrets, collapsed",
            `<FONT COLOR="${COLORS.secret}">reads: ${plan.remoteSecrets.length} remote secrets ` +
                `(edges drawn up to ${LAYOUT.maxSecretEdges}):` +
                `<BR ALIGN="LEFT"/>${parts.join(`<BR ALIGN="LEFT"/>`)}</FONT>`,
        );
    }
}

/** Cross-network mTLS between east-west gateways: edges per network pair, or one collapsed legend line. */
function dotCrossNetwork(d: DotParts): void {
    const { plan, layout, out, summary } = d;
    const gatewayOf = (network: string) =>
        plan.clusters.find((c) => c.network === network && c.gateway && c.role !== "remote") ??
        plan.clusters.find((c) => c.network === network && c.gateway)!;
    if (layout.networkPairs) {
        for (const [a, b] of layout.networkPairs) {
            out.push(
                "  " +
                    edgeStmt(`gateway-${gatewayOf(a).name}`, `gateway-${gatewayOf(b).name}`, {
                        id: `cross-network-${slug(a)}-${slug(b)}`,
                        class: "cross-network",
                        dir: "both",
                        style: "bold",
                        color: COLORS.gatewayLine,
                        fontcolor: COLORS.gatewayLine,
                        label: `${PORTS.crossNetwork} mTLS`,
                        constraint: "false",
                    }),
            );
        }
    } else {
        const n = new Set(plan.clusters.filter((c) => c.gateway).map((c) => c.network)).size;
        summary(
            "cross-network",
            "cross-network, collapsed",
            `<FONT COLOR="${COLORS.gatewayLine}">${PORTS.crossNetwork} mTLS: ` +
                `the east-west gateways of all ${n} networks reach each other,` +
                `<BR ALIGN="LEFT"/>${(n * (n - 1)) / 2} network pairs (edges drawn up to ${LAYOUT.maxNetworkPairs})</FONT>`,
        );
    }
}

/** The legend: the kinds of edges drawn, the collapsed facts, the traffic policy between regions. */
function dotLegend(d: DotParts): void {
    const { plan, layout, g, out, legendRows, summaryRows, inters, xdsLabel, summary } = d;
    const paths = g.paths;
    const entries: [color: string, style: string, text: string, shown: boolean][] = [
        [
            COLORS.secret,
            "solid",
            // Said with the arrow's own ends: a remote secret's "source" is the arrow's head, which reads wrongly as "target".
            `reads: A ─▶ B: A's istiod reads B's API server, with B's remote secret held in A` +
                `${layout.secretEdges?.some((e) => e.mutual) ? "; ◀▶ both ways" : ""}`,
            !!layout.secretEdges?.length,
        ],
        [COLORS.primaryLine, "dashed", "controls: the primary's istiod runs the remote", layout.controlsDrawn && paths.length > 0],
        [COLORS.xds, "solid", `${xdsLabel}: the remote reaches istiod through its primary's east-west gateway`, paths.length > 0],
        [COLORS.trustLine, "dotted", "signs / cacerts: root CA → intermediate CA → istiod", inters.length > 0],
        [
            COLORS.gatewayLine,
            "bold",
            `${PORTS.crossNetwork} mTLS: cross-network traffic between east-west gateways`,
            !!layout.networkPairs?.length,
        ],
    ];
    for (const [color, style, text, shown] of entries) {
        if (!shown) continue;
        legendRows.push(
            `<TR><TD><FONT COLOR="${color}">${{ dashed: "- - -▶", bold: "◀━━▶", dotted: "·····▶" }[style] ?? "───▶"}</FONT></TD>` +
                `<TD ALIGN="LEFT">${h(text)}</TD></TR>`,
        );
    }
    // Traffic policy between regions (failover pairs, weights), one line per policy (offline/trafficPlan.ts).
    const traffic = trafficLegend(plan.clusters);
    if (traffic.length > 0) {
        // Two short lines per policy (the host, then what it does and where), so the legend stays narrow.
        const rows = traffic
            .map((t) => `${h(t.host)} (in ${h(t.clusters.join(", "))}):<BR ALIGN="LEFT"/>  ${h(t.policy)}`)
            .join(`<BR ALIGN="LEFT"/>`);
        summary("traffic", "traffic policy", `<FONT COLOR="#be185d">traffic policy between regions:<BR ALIGN="LEFT"/>${rows}</FONT>`);
    }
    out.push(
        "  " +
            stmt("legend", {
                id: "legend",
                class: "legend",
                shape: "plaintext",
                style: "",
                fontsize: 10,
                label: `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">${legendRows.join("")}${summaryRows.join("")}</TABLE>>`,
            }),
    );
}

/** The rank sets, merged so that a node is in one only. */
function dotRanks(d: DotParts): void {
    const { out, sameRank } = d;
    sameRank.push(["root-ca", "legend"]);
    // A node may be in one rank=same set only: merge the sets that share one (in order of first appearance).
    const merged: string[][] = [];
    for (const set of sameRank) {
        const hits = merged.filter((m) => set.some((n) => m.includes(n)));
        const into = [...new Set([...hits.flat(), ...set])];
        for (const hit of hits) merged.splice(merged.indexOf(hit), 1);
        merged.push(into);
    }
    for (const m of merged) out.push(`  { rank=same; ${m.map(q).join("; ")}; }`);
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
