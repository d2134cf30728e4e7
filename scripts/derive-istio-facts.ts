// Derives the facts this program keeps about one Istio minor from istio/istio at a tag, into
// components/data/istio/<minor>/ (committed; the charts themselves never are):
//
//   source.json                  which tag and commit the facts come from, and from which upstream paths
//   chart-keys.json              every value key of the base, istiod and gateway charts: the defaults
//                                (values.yaml under _internal_defaults_do_not_set) plus what the templates
//                                read (`.Values.a.b` and `dig "a" "b" <default> .Values`)
//   gateway-values.schema.json   the gateway chart's values.schema.json (the only chart with one)
//   crd-schemas.json             the served versions of every networking.istio.io and security.istio.io CRD
//   minor-only-options.json      chart keys of this minor that no other minor here has (recomputed for
//                                every minor on each run)
//
// One command re-derives a minor from a newer tag (the git directory of an istio/istio clone or mirror):
//
//   npm run istio:facts -- --git <istio/.git> --tag 1.31.1
//   npm run istio:facts -- --git <istio/.git>              # every minor again, from the tag each records
//   npm run istio:facts -- --source <dir> --tag 1.31.1     # a tree that holds manifests/charts at that tag
//
// `--git` extracts manifests/charts with `git archive` into ~/.cache/multicluster-mesh/istio-src/<tag>/
// (outside the repository; $XDG_CACHE_HOME is honoured).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { ISTIO_FACTS_DIR, FACT_FILES, type IstioSource } from "../components/istioFacts";
import { PROJECT } from "../components/pulumiTypes";

const REPO_ROOT = path.resolve(__dirname, "..");
const UPSTREAM = "https://github.com/istio/istio";

/** Chart folder in istio/istio → the name this program installs it under. */
const CHART_DIRS = {
    base: "manifests/charts/base",
    istiod: "manifests/charts/istio-control/istio-discovery",
    gateway: "manifests/charts/gateway",
} as const;
type Chart = keyof typeof CHART_DIRS;
const CHARTS = Object.keys(CHART_DIRS) as Chart[];
const CRD_FILE = "manifests/charts/base/files/crd-all.gen.yaml";
const GATEWAY_SCHEMA = "manifests/charts/gateway/values.schema.json";
// `profile` is read by the charts' profile template (templates/zzz_profile.yaml) but is not in the defaults.
const EXTRA_KEYS: Record<Chart, string[]> = { base: ["profile"], istiod: ["profile"], gateway: [] };
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

/** "1.31" of "1.31.0-rc.0". */
function minorOf(tag: string): string {
    const m = /^(\d+)\.(\d+)\.\d+(-[0-9A-Za-z.-]+)?$/.exec(tag);
    if (!m) throw new Error(`--tag ${tag}: not an Istio release tag such as 1.31.1 or 1.31.0-rc.0`);
    return `${m[1]}.${m[2]}`;
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

function walk(dir: string): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...walk(p));
        else out.push(p);
    }
    return out.sort();
}

/**
 * The value keys a chart's templates read: `.Values.a.b` (also as `$.Values.a.b`), and Sprig's
 * `dig "a" "b" <default> .Values`, which reads a.b with a default (1.31's reader templates read
 * `global.readerServiceAccount.name` that way). Every prefix of a dug path is a key too.
 */
export function templateValueRefs(texts: string[]): string[] {
    const refs = new Set<string>();
    for (const t of texts) {
        for (const m of t.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) refs.add(m[1]!.slice(1));
        for (const m of t.matchAll(/\bdig((?:\s+"[^"]*")+)\s+\S+\s+\$?\.Values\b/g)) {
            const parts = [...m[1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!);
            for (let i = 1; i <= parts.length; i++) refs.add(parts.slice(0, i).join("."));
        }
    }
    return [...refs].sort();
}

function deriveChartKeys(root: string): Json {
    const out: Record<string, unknown> = {};
    for (const chart of CHARTS) {
        const dir = path.join(root, CHART_DIRS[chart]);
        const values: unknown = parseYaml(fs.readFileSync(path.join(dir, "values.yaml"), "utf8"));
        const defaults = isPlainObject(values) ? values[DEFAULTS_KEY] : undefined;
        if (!isPlainObject(defaults)) throw new Error(`${dir}/values.yaml: no ${DEFAULTS_KEY} map`);
        const { keys, open } = keyPaths(defaults);
        // Keys only the templates read (istiod's webhook reads base.validationURL) are just as real.
        const templates = walk(path.join(dir, "templates")).map((f) => fs.readFileSync(f, "utf8"));
        const refs = templateValueRefs(templates).filter((k) => !k.startsWith("_"));
        out[chart] = [...new Set([...keys, ...refs, ...EXTRA_KEYS[chart]])].sort();
        out[`${chart}Open`] = [...open].sort();
    }
    return sortKeys(out);
}

function deriveCrdSchemas(root: string): Json {
    const file = path.join(root, CRD_FILE);
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

function writeJson(file: string, data: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
    console.log(`wrote ${path.relative(REPO_ROOT, file)} (${fs.statSync(file).size} bytes)`);
}

function cacheRoot(): string {
    const base =
        process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME !== "" ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
    return path.join(base, PROJECT, "istio-src");
}

/** manifests/charts of istio/istio at `tag`, extracted once with `git archive` into the cache. */
function extract(gitDir: string, tag: string): { root: string; commit: string } {
    const commit = execFileSync("git", ["--git-dir", gitDir, "rev-parse", `${tag}^{commit}`], { encoding: "utf8" }).trim();
    const root = path.join(cacheRoot(), tag);
    const marker = path.join(root, ".commit");
    if (!fs.existsSync(marker) || fs.readFileSync(marker, "utf8").trim() !== commit) {
        const tmp = `${root}.${process.pid}.tmp`;
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.mkdirSync(tmp, { recursive: true });
        const tar = execFileSync("git", ["--git-dir", gitDir, "archive", "--format=tar", commit, "manifests/charts"], {
            maxBuffer: 512 * 1024 * 1024,
        });
        execFileSync("tar", ["-x", "-C", tmp], { input: tar });
        fs.writeFileSync(path.join(tmp, ".commit"), `${commit}\n`);
        fs.rmSync(root, { recursive: true, force: true });
        fs.renameSync(tmp, root);
    }
    return { root, commit };
}

function deriveMinor(root: string, tag: string, commit: string | null): string {
    const minor = minorOf(tag);
    const dir = path.join(ISTIO_FACTS_DIR, minor);
    const source: IstioSource = {
        minor,
        tag,
        commit,
        repository: UPSTREAM,
        derivedBy: "npm run istio:facts (scripts/derive-istio-facts.ts)",
        upstream: {
            base: CHART_DIRS.base,
            istiod: CHART_DIRS.istiod,
            gateway: CHART_DIRS.gateway,
            gatewaySchema: GATEWAY_SCHEMA,
            crds: CRD_FILE,
        },
    };
    writeJson(path.join(dir, FACT_FILES.source), sortKeys(source));
    writeJson(path.join(dir, FACT_FILES.chartKeys), deriveChartKeys(root));
    const schema: unknown = JSON.parse(fs.readFileSync(path.join(root, GATEWAY_SCHEMA), "utf8"));
    writeJson(path.join(dir, FACT_FILES.gatewaySchema), schema);
    const crds = deriveCrdSchemas(root);
    writeJson(path.join(dir, FACT_FILES.crdSchemas), crds);
    console.log(
        `  Istio ${minor} from ${UPSTREAM} tag ${tag}${commit ? ` (commit ${commit})` : ""}: ${Object.keys(crds as object).length} CRD versions`,
    );
    return minor;
}

/** Chart keys of each minor that no other minor here has. */
function writeMinorOnly(): void {
    const minors = fs
        .readdirSync(ISTIO_FACTS_DIR)
        .filter((d) => fs.existsSync(path.join(ISTIO_FACTS_DIR, d, FACT_FILES.chartKeys)))
        .sort();
    const keys = new Map(
        minors.map((m) => [
            m,
            JSON.parse(fs.readFileSync(path.join(ISTIO_FACTS_DIR, m, FACT_FILES.chartKeys), "utf8")) as Record<Chart, string[]>,
        ]),
    );
    for (const m of minors) {
        const others = minors.filter((o) => o !== m);
        const only: Record<string, unknown> = { comparedWith: others };
        for (const chart of CHARTS) {
            const elsewhere = new Set(others.flatMap((o) => keys.get(o)![chart]));
            only[chart] = keys.get(m)![chart].filter((k) => !elsewhere.has(k));
        }
        writeJson(path.join(ISTIO_FACTS_DIR, m, FACT_FILES.minorOnly), sortKeys(only));
    }
}

function main(): void {
    const { values } = parseArgs({ options: { git: { type: "string" }, source: { type: "string" }, tag: { type: "string" } } });
    if (values.source !== undefined) {
        if (values.tag === undefined) throw new Error("--source needs --tag (which tag of istio/istio the tree holds)");
        const root = path.resolve(values.source);
        if (!fs.existsSync(path.join(root, CHART_DIRS.istiod, "Chart.yaml")))
            throw new Error(`${root}: no ${CHART_DIRS.istiod}/Chart.yaml`);
        deriveMinor(root, values.tag, null);
    } else if (values.git !== undefined) {
        const gitDir = path.resolve(values.git);
        const tags =
            values.tag !== undefined
                ? [values.tag]
                : fs
                      .readdirSync(ISTIO_FACTS_DIR)
                      .filter((d) => fs.existsSync(path.join(ISTIO_FACTS_DIR, d, FACT_FILES.source)))
                      .map(
                          (d) => (JSON.parse(fs.readFileSync(path.join(ISTIO_FACTS_DIR, d, FACT_FILES.source), "utf8")) as IstioSource).tag,
                      );
        for (const tag of tags) {
            const { root, commit } = extract(gitDir, tag);
            deriveMinor(root, tag, commit);
        }
    } else {
        throw new Error("usage: npm run istio:facts -- --git <istio/.git> [--tag <tag>] | --source <tree> --tag <tag>");
    }
    writeMinorOnly();
}

if (require.main === module) {
    try {
        main();
    } catch (e) {
        console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
    }
}
