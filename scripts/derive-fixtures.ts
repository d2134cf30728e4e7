// Derives the test fixtures in test/fixtures/ from a local copy of the Istio reference data
// (istio/istio charts and CRDs). Tests read only the fixtures, because the reference data is
// not in users' clones. Usage: npx tsx scripts/derive-fixtures.ts [--reference DIR]
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const REPO_ROOT = path.resolve(__dirname, "..");
const DEFAULT_REFERENCE = path.resolve(REPO_ROOT, "../shared/reference/istio-1.30.3");
const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");

const CHARTS = ["base", "istiod", "gateway"] as const;
// README: `profile` is read by the charts' profile template but is not in the defaults.
const EXTRA_KEYS: Record<(typeof CHARTS)[number], string[]> = { base: ["profile"], istiod: ["profile"], gateway: [] };
// Every networking.istio.io and security.istio.io kind: the program writes Gateways, VirtualServices,
// DestinationRules and Sidecars, and `traffic.objects` may hold any kind of these two groups.
const CRDS = [
    "destinationrules.networking.istio.io",
    "envoyfilters.networking.istio.io",
    "gateways.networking.istio.io",
    "proxyconfigs.networking.istio.io",
    "serviceentries.networking.istio.io",
    "sidecars.networking.istio.io",
    "virtualservices.networking.istio.io",
    "workloadentries.networking.istio.io",
    "workloadgroups.networking.istio.io",
    "authorizationpolicies.security.istio.io",
    "peerauthentications.security.istio.io",
    "requestauthentications.security.istio.io",
];
const DEFAULTS_KEY = "_internal_defaults_do_not_set";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Recursively sorts object keys so the output does not depend on upstream key order. */
function sortKeys(v: unknown): Json {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (isPlainObject(v)) {
        const out: { [k: string]: Json } = {};
        for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
        return out;
    }
    return v as Json;
}

/** Every dotted path (intermediate objects and leaves; arrays are leaves), plus the `{}`-valued ones. */
function keyPaths(obj: Record<string, unknown>, prefix = "", keys: string[] = [], open: string[] = []): { keys: string[]; open: string[] } {
    for (const [k, v] of Object.entries(obj)) {
        const p = prefix === "" ? k : `${prefix}.${k}`;
        keys.push(p);
        if (isPlainObject(v)) {
            // An empty map in the defaults is a free-form map the user fills (env, podAnnotations, ...).
            if (Object.keys(v).length === 0) open.push(p);
            else keyPaths(v, p, keys, open);
        }
    }
    return { keys, open };
}

/** The README's "file here | upstream path" table, so the fixtures record where each input came from. */
function readSources(referenceDir: string): { version: string; upstream: Record<string, string> } {
    const readme = fs.readFileSync(path.join(referenceDir, "README.md"), "utf8");
    const version = /^# Istio (\S+) reference data/m.exec(readme)?.[1];
    if (version === undefined) throw new Error(`${referenceDir}/README.md: no "# Istio <version> reference data" heading`);
    const upstream: Record<string, string> = {};
    for (const m of readme.matchAll(/^\|\s*([^|\s]+)\s*\|\s*(\S+)/gm)) {
        if (m[1] === "file" || m[1]!.startsWith("---")) continue;
        upstream[m[1]!] = m[2]!;
    }
    return { version, upstream };
}

function upstreamOf(upstream: Record<string, string>, file: string): string {
    const u = upstream[file];
    if (u === undefined) throw new Error(`README.md table has no row for ${file}`);
    return u;
}

function deriveChartKeys(referenceDir: string, version: string, upstream: Record<string, string>): Json {
    const out: Record<string, unknown> = { istioVersion: version };
    const source: Record<string, string> = { repository: "https://github.com/istio/istio", tag: version };
    for (const chart of CHARTS) {
        const file = `${chart}/values.yaml`;
        const values: unknown = parseYaml(fs.readFileSync(path.join(referenceDir, file), "utf8"));
        const defaults = isPlainObject(values) ? values[DEFAULTS_KEY] : undefined;
        if (!isPlainObject(defaults)) throw new Error(`${file}: no ${DEFAULTS_KEY} map`);
        const { keys, open } = keyPaths(defaults);
        // Keys only the templates read (e.g. istiod's webhook reads base.validationURL) are just as real:
        // the `.Values.` references of each chart's templates, listed by the reference's template-value-refs.json.
        const templateRefs = templateValueRefs(referenceDir)[chart] ?? [];
        out[chart] = [...new Set([...keys, ...templateRefs.filter((k) => !k.startsWith("_")), ...EXTRA_KEYS[chart]])].sort();
        out[`${chart}Open`] = [...open].sort();
        source[chart] = upstreamOf(upstream, file);
    }
    // The other two fixtures carry no metadata of their own (one is an exact copy), so record them here.
    source.gatewaySchema = upstreamOf(upstream, "gateway/values.schema.json");
    source.crds = upstreamOf(upstream, "base/crd-all.gen.yaml");
    source.extraKeys = "profile (base, istiod): read by the charts' profile template, not listed in the defaults";
    source.templateRefs = "template-value-refs.json: the .Values references of each chart's templates at the tag";
    out.source = source;
    return sortKeys(out);
}

function templateValueRefs(referenceDir: string): Record<string, string[]> {
    const file = path.join(referenceDir, "template-value-refs.json");
    const refs: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!isPlainObject(refs)) throw new Error(`${file}: not a map of chart → keys`);
    return refs as Record<string, string[]>;
}

function deriveCrdSchemas(referenceDir: string): Json {
    const file = path.join(referenceDir, "base", "crd-all.gen.yaml");
    const out: Record<string, unknown> = {};
    const found = new Set<string>();
    for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
        const crd: unknown = doc.toJS();
        if (!isPlainObject(crd) || crd.kind !== "CustomResourceDefinition") continue;
        const name = (crd.metadata as { name?: string } | undefined)?.name;
        if (name === undefined || !CRDS.includes(name)) continue;
        found.add(name);
        const spec = crd.spec as {
            group: string;
            names: { kind: string };
            versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: unknown } }[];
        };
        for (const v of spec.versions) {
            if (!v.served) continue;
            if (v.schema?.openAPIV3Schema === undefined) throw new Error(`${name} ${v.name}: no openAPIV3Schema`);
            out[`${spec.group}/${v.name}/${spec.names.kind}`] = v.schema.openAPIV3Schema;
        }
    }
    for (const name of CRDS) if (!found.has(name)) throw new Error(`${file}: no CRD ${name}`);
    const mustServe = ["Gateway", "VirtualService", "DestinationRule", "Sidecar", "ServiceEntry"].map((k) => `networking.istio.io/v1/${k}`);
    for (const key of [...mustServe, "security.istio.io/v1/PeerAuthentication", "security.istio.io/v1/AuthorizationPolicy"]) {
        if (!(key in out)) throw new Error(`${file}: ${key} is not served`);
    }
    return sortKeys(out);
}

function writeJson(name: string, data: Json, dir: string = FIXTURES): void {
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, name);
    fs.writeFileSync(target, JSON.stringify(data, null, 2) + "\n");
    report(target, Object.keys(data as object).length + " top-level keys");
}

function report(target: string, what: string): void {
    console.log(`wrote ${path.relative(REPO_ROOT, target)} (${fs.statSync(target).size} bytes, ${what})`);
}

function main(): void {
    const { values } = parseArgs({ options: { reference: { type: "string" } } });
    const referenceDir = values.reference !== undefined ? path.resolve(values.reference) : DEFAULT_REFERENCE;
    if (!fs.existsSync(path.join(referenceDir, "README.md")))
        throw new Error(`${referenceDir}: not an Istio reference directory (no README.md)`);
    const { version, upstream } = readSources(referenceDir);
    fs.mkdirSync(FIXTURES, { recursive: true });

    writeJson("chart-keys.json", deriveChartKeys(referenceDir, version, upstream));
    const schemaTarget = path.join(FIXTURES, "gateway-values.schema.json");
    fs.copyFileSync(path.join(referenceDir, "gateway", "values.schema.json"), schemaTarget);
    fs.chmodSync(schemaTarget, 0o644); // the reference copy is read-only; keep the fixture writable for re-runs
    report(schemaTarget, "exact copy of gateway/values.schema.json");
    const crds = deriveCrdSchemas(referenceDir);
    writeJson("istio-crd-schemas.json", crds, path.join(REPO_ROOT, "components", "data"));
    console.log(`  CRD schemas: ${Object.keys(crds as object).join(", ")}`);
}

main();
