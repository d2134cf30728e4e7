// The facts of each supported Istio minor, side by side in components/data/istio/<minor>/, derived
// from istio/istio at a tag by `npm run istio:facts` (scripts/derive-istio-facts.ts): the chart
// keys, the gateway chart's values schema, the CRD schemas, and the chart options only that minor
// has. Read at run time by the config checks, the traffic CRD validation and the render, for the
// pinned version's minor; next to this module in the repository and in the published package
// (dist/components/data/istio/).
import * as fs from "node:fs";
import * as path from "node:path";
import { minorOf, SUPPORTED_ISTIO } from "./istio";

export const ISTIO_FACTS_DIR = path.join(__dirname, "data", "istio");
export const FACT_FILES = {
    source: "source.json",
    chartKeys: "chart-keys.json",
    gatewaySchema: "gateway-values.schema.json",
    crdSchemas: "crd-schemas.json",
    minorOnly: "minor-only-options.json",
} as const;

export type FactsChart = "base" | "istiod" | "gateway";
export const FACTS_CHARTS: readonly FactsChart[] = ["base", "istiod", "gateway"];

/** Where one minor's facts come from. */
export interface IstioSource {
    minor: string;
    /** The istio/istio tag the facts were derived from (not always a release: 1.31's is 1.31.0-rc.0). */
    tag: string;
    commit: string | null;
    repository: string;
    derivedBy: string;
    /** Upstream paths in istio/istio at the tag. */
    upstream: Record<string, string>;
}

/** Every value key of each chart (dotted paths) and the free-form maps (`{}` in the defaults). */
export type ChartKeys = Record<FactsChart, string[]> & Record<`${FactsChart}Open`, string[]>;

export interface MinorFacts {
    minor: string;
    source: IstioSource;
    chartKeys: ChartKeys;
    /** Chart keys of this minor that no other minor here has (e.g. 1.31's `global.readerServiceAccount`). */
    minorOnly: Record<FactsChart, string[]> & { comparedWith: string[] };
    gatewaySchema(): Record<string, unknown>;
    crdSchemas(): Record<string, unknown>;
}

const cache = new Map<string, MinorFacts>();

function readJson<T>(minor: string, file: string): T {
    return JSON.parse(fs.readFileSync(path.join(ISTIO_FACTS_DIR, minor, file), "utf8")) as T;
}

/** The facts of the minor of `version` ("1.31.1" or "1.31"). Throws for a minor without facts. */
export function istioFacts(version: string): MinorFacts {
    const minor = minorOf(version);
    const hit = cache.get(minor);
    if (hit) return hit;
    if (!fs.existsSync(path.join(ISTIO_FACTS_DIR, minor, FACT_FILES.source))) {
        throw new Error(
            `no facts for Istio ${minor} in ${path.join(ISTIO_FACTS_DIR, minor)}: derive them with npm run istio:facts -- --git <istio/.git> --tag <tag>`,
        );
    }
    let gateway: Record<string, unknown> | undefined;
    let crds: Record<string, unknown> | undefined;
    const facts: MinorFacts = {
        minor,
        source: readJson(minor, FACT_FILES.source),
        chartKeys: readJson(minor, FACT_FILES.chartKeys),
        minorOnly: readJson(minor, FACT_FILES.minorOnly),
        gatewaySchema: () => (gateway ??= readJson<Record<string, unknown>>(minor, FACT_FILES.gatewaySchema)),
        crdSchemas: () => (crds ??= readJson<Record<string, unknown>>(minor, FACT_FILES.crdSchemas)),
    };
    cache.set(minor, facts);
    return facts;
}

/** The supported minors, each with its facts. */
export function supportedFacts(): MinorFacts[] {
    return SUPPORTED_ISTIO.minors.map((m) => istioFacts(m));
}

/** "1.31 (facts from istio/istio tag 1.31.0-rc.0)". */
export function factsLabel(version: string): string {
    const f = istioFacts(version);
    return `Istio ${f.minor} (facts from istio/istio tag ${f.source.tag})`;
}
