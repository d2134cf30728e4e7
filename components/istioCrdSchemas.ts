// The CRD schemas of each supported Istio minor (components/data/istio/<minor>/crd-schemas.json,
// derived from the base chart's CRDs by `npm run istio:facts`), and validation of an Istio object
// against the pinned version's schemas as the API server reads a structural schema. Used at run
// time by the traffic policy checks (a user's `traffic.objects`) and by the render command, and by
// the tests.
import * as path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { ISTIO_VERSION, minorOf, SUPPORTED_ISTIO } from "./istio";
import { FACT_FILES, istioFacts } from "./istioFacts";

/** The CRD schema file of a minor, as the messages name it. */
export function crdSchemasFile(version: string): string {
    return path.join("components", "data", "istio", minorOf(version), FACT_FILES.crdSchemas);
}

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

const crdValidators = new Map<string, ValidateFunction>();
let crdAjv: Ajv | undefined;

function crdValidator(key: string, minor: string): ValidateFunction | undefined {
    const raw = istioFacts(minor).crdSchemas()[key];
    if (raw === undefined) return undefined;
    let validate = crdValidators.get(`${minor} ${key}`);
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
        crdValidators.set(`${minor} ${key}`, validate);
    }
    return validate;
}

type IstioObject = { apiVersion: string; kind: string; metadata?: unknown; spec?: unknown };

/**
 * Problems the API server of the Istio `version` (default: the default version) would report for
 * this Istio object, by that minor's CRD schemas (CEL x-kubernetes-validations are not evaluated).
 * When another supported minor's CRDs accept the object, the problem says so: a field such as
 * 1.31's DestinationRule `zoneAwareLbSetting` needs that minor.
 */
export function istioObjectProblems(obj: IstioObject, version: string = ISTIO_VERSION): string[] {
    const minor = minorOf(version);
    const key = `${obj.apiVersion}/${obj.kind}`;
    const validate = crdValidator(key, minor);
    if (validate === undefined) {
        const elsewhere = otherMinorsAccepting(obj, minor);
        return [`${key}: no schema in Istio ${minor}'s CRDs (${crdSchemasFile(minor)})${elsewhere}`];
    }
    if (validate(obj)) return [];
    const problems = formatErrors(validate.errors, `${key} `);
    const elsewhere = otherMinorsAccepting(obj, minor);
    return elsewhere ? [...problems.slice(0, -1), `${problems[problems.length - 1]}${elsewhere}`] : problems;
}

/** ", valid in Istio 1.31's CRDs: pin a 1.31.x version" when another supported minor accepts the object. */
function otherMinorsAccepting(obj: IstioObject, minor: string): string {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const accepting = SUPPORTED_ISTIO.minors.filter((m) => {
        if (m === minor) return false;
        const v = crdValidator(key, m);
        return v !== undefined && v(obj);
    });
    return accepting.length ? ` (valid in Istio ${accepting.join(", ")}'s CRDs: pin a ${accepting[0]}.x version)` : "";
}
