// The Istio 1.30.3 CRD schemas (components/data/istio-crd-schemas.json, derived from the chart's
// CRDs by scripts/derive-fixtures.ts), and validation of an Istio object against them as the API
// server reads a structural schema. Used at run time by the traffic policy checks (a user's
// `traffic.objects`) and by the render command, and by the tests.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

/** Next to this module in the repository and in the published package (dist/components/data/). */
export const CRD_SCHEMAS_FILE = path.join(__dirname, "data", "istio-crd-schemas.json");

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function formatErrors(errors: ErrorObject[] | null | undefined, prefix = ""): string[] {
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
    crdSchemas ??= JSON.parse(fs.readFileSync(CRD_SCHEMAS_FILE, "utf8")) as Record<string, unknown>;
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
    if (validate === undefined) return [`${key}: no schema in components/data/istio-crd-schemas.json`];
    return validate(obj) ? [] : formatErrors(validate.errors, `${key} `);
}
