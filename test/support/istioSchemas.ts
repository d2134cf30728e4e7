// Checks generated Helm values and Istio objects against the Istio 1.30 charts and CRDs, using only
// the fixtures derived by scripts/derive-fixtures.ts (the reference data is not in users' clones).
import * as fs from "fs";
import * as path from "path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";

export type Chart = "base" | "istiod" | "gateway";

const FIXTURES = path.join(__dirname, "..", "fixtures");

function readFixture(name: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---- chart value keys ----

type ChartKeys = Record<Chart, string[]> & Record<`${Chart}Open`, string[]> & { istioVersion: string };
let chartKeys: { known: Record<Chart, Set<string>>; open: Record<Chart, string[]> } | undefined;

function keysFor(chart: Chart): { known: Set<string>; open: string[] } {
    if (chartKeys === undefined) {
        const raw = readFixture("chart-keys.json") as ChartKeys;
        chartKeys = {
            known: { base: new Set(raw.base), istiod: new Set(raw.istiod), gateway: new Set(raw.gateway) },
            open: { base: raw.baseOpen, istiod: raw.istiodOpen, gateway: raw.gatewayOpen },
        };
    }
    return { known: chartKeys.known[chart], open: chartKeys.open[chart] };
}

/** Dotted leaf paths; arrays and empty objects are leaves. Keys are joined as-is, like the fixture's. */
function leafPaths(obj: Record<string, unknown>, prefix = "", out: string[] = []): string[] {
    for (const [k, v] of Object.entries(obj)) {
        const p = prefix === "" ? k : `${prefix}.${k}`;
        if (isPlainObject(v) && Object.keys(v).length > 0) leafPaths(v, p, out);
        else out.push(p);
    }
    return out;
}

/**
 * One message per value path the chart does not define. Helm silently ignores unknown keys, so a
 * typo (`meshId` for `meshID`) or an IstioOperator-only path (`pilot.env`) would otherwise go unseen.
 * Paths under a map that is `{}` in the defaults (`env`, `podAnnotations`, ...) are always accepted.
 */
export function valueKeyProblems(chart: Chart, values: Record<string, unknown>): string[] {
    const { known, open } = keysFor(chart);
    return leafPaths(values)
        .filter((p) => !known.has(p) && !open.some((o) => p === o || p.startsWith(`${o}.`)))
        .map((p) => `${chart}: key "${p}" does not exist in the chart defaults`);
}

// ---- JSON Schema validation ----

function formatErrors(errors: ErrorObject[] | null | undefined, prefix = ""): string[] {
    return (errors ?? []).map((e) => {
        const at = e.instancePath === "" ? "(root)" : e.instancePath;
        const p = e.params as Record<string, unknown>;
        const detail =
            e.keyword === "additionalProperties"
                ? `: "${String(p.additionalProperty)}"`
                : e.keyword === "enum"
                  ? `: ${JSON.stringify(p.allowedValues)}`
                  : "";
        return `${prefix}${at} ${e.message ?? e.keyword}${detail}`;
    });
}

let gatewayValidator: ValidateFunction | undefined;

/** Problems Helm would report when installing the `gateway` chart with these values (its values.schema.json). */
export function gatewaySchemaProblems(values: unknown): string[] {
    if (gatewayValidator === undefined) {
        // "$schema": "http://json-schema.org/schema#" names no draft, so Ajv has no meta-schema for
        // it; Helm's validator reads it as the latest draft (2020-12), which also owns `$defs`.
        const schema = { ...(readFixture("gateway-values.schema.json") as Record<string, unknown>) };
        delete schema.$schema;
        gatewayValidator = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    }
    return gatewayValidator(values) ? [] : formatErrors(gatewayValidator.errors);
}

// ---- Istio CRD objects ----

/**
 * The API server's reading of a structural CRD schema, in JSON Schema terms: an object with
 * `properties` knows no other fields (unknown fields are rejected by strict field validation, or
 * silently pruned, which is as bad) unless it says x-kubernetes-preserve-unknown-fields.
 */
function asApiServer(schema: unknown): unknown {
    if (!isPlainObject(schema)) return schema;
    const out: Record<string, unknown> = { ...schema };
    const sub = (v: unknown): unknown => (isPlainObject(v) ? asApiServer(v) : v);
    // Only recurse where JSON Schema holds subschemas: `default`/`example` values are data.
    for (const k of ["properties", "patternProperties"]) {
        const m = out[k];
        if (isPlainObject(m)) out[k] = Object.fromEntries(Object.entries(m).map(([f, s]) => [f, sub(s)]));
    }
    for (const k of ["items", "additionalProperties", "not"]) out[k] = sub(out[k]);
    for (const k of ["anyOf", "oneOf", "allOf"]) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(sub);
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    if (isPlainObject(out.properties) && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
        out.additionalProperties = false;
    }
    if (out["x-kubernetes-int-or-string"] === true && out.type === undefined && out.anyOf === undefined) {
        out.anyOf = [{ type: "integer" }, { type: "string" }];
    }
    return out;
}

// The CRD schemas list only spec and status; the API server supplies these for every object.
const IMPLICIT_ROOT_PROPERTIES = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: {
        type: "object",
        properties: {
            name: { type: "string" },
            namespace: { type: "string" },
            labels: { type: "object", additionalProperties: { type: "string" } },
            annotations: { type: "object", additionalProperties: { type: "string" } },
        },
    },
};

let crdSchemas: Record<string, unknown> | undefined;
const crdValidators = new Map<string, ValidateFunction>();
let crdAjv: Ajv | undefined;

function crdValidator(key: string): ValidateFunction | undefined {
    crdSchemas ??= readFixture("istio-crd-schemas.json") as Record<string, unknown>;
    const raw = crdSchemas[key];
    if (raw === undefined) return undefined;
    let validate = crdValidators.get(key);
    if (validate === undefined) {
        // Formats the CRDs use, checked as the API server would; Ajv knows none of them by default.
        crdAjv ??= new Ajv({
            strict: false,
            allErrors: true,
            formats: {
                int32: { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
                double: { type: "number", validate: () => true },
                byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
                "date-time": { type: "string", validate: (s: string) => !Number.isNaN(Date.parse(s)) },
            },
        });
        const schema = asApiServer(raw) as Record<string, unknown>;
        schema.properties = { ...IMPLICIT_ROOT_PROPERTIES, ...(schema.properties as object) };
        validate = crdAjv.compile(schema);
        crdValidators.set(key, validate);
    }
    return validate;
}

/** Problems the API server would report for this Istio object (CEL x-kubernetes-validations are not evaluated). */
export function istioObjectProblems(obj: { apiVersion: string; kind: string; metadata?: unknown; spec?: unknown }): string[] {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const validate = crdValidator(key);
    if (validate === undefined) return [`${key}: no schema in test/fixtures/istio-crd-schemas.json`];
    return validate(obj) ? [] : formatErrors(validate.errors, `${key} `);
}
