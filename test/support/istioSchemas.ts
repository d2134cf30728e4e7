// Checks generated Helm values and Istio objects against an Istio minor's charts and CRDs, using
// only the facts the library carries (components/data/istio/<minor>/, derived by npm run istio:facts).
// Every helper takes the Istio version whose facts to use (default: the default version).
import { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { ISTIO_VERSION, minorOf } from "../../components/istio";
import { formatErrors } from "../../components/istioCrdSchemas";
import { istioFacts, type FactsChart } from "../../components/istioFacts";

export type Chart = FactsChart;

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Dotted leaf paths; arrays and empty objects are leaves. Keys are joined as-is, like the facts'. */
function leafPaths(obj: Record<string, unknown>, prefix = "", out: string[] = []): string[] {
    for (const [k, v] of Object.entries(obj)) {
        const p = prefix === "" ? k : `${prefix}.${k}`;
        if (isPlainObject(v) && Object.keys(v).length > 0) leafPaths(v, p, out);
        else out.push(p);
    }
    return out;
}

/**
 * One message per value path the chart of `version`'s minor does not define. Helm silently ignores
 * unknown keys, so a typo (`meshId` for `meshID`) would otherwise go unseen. Paths under a map that
 * is `{}` in the defaults (`env`, `podAnnotations`, ...) are always accepted. The istiod chart merges
 * `pilot.*` over the top level (templates/zzy_descope_legacy.yaml, since 1.24), so `pilot.env.X` is
 * checked as `env.X`.
 */
export function valueKeyProblems(chart: Chart, values: Record<string, unknown>, version: string = ISTIO_VERSION): string[] {
    const keys = istioFacts(version).chartKeys;
    const known = new Set(keys[chart]);
    const open = keys[`${chart}Open`];
    const defined = (p: string) => known.has(p) || open.some((o) => p === o || p.startsWith(`${o}.`));
    return leafPaths(values)
        .filter((p) => !defined(p) && !(chart === "istiod" && p.startsWith("pilot.") && defined(p.slice("pilot.".length))))
        .map((p) => `${chart}: key "${p}" does not exist in the chart defaults`);
}

const gatewayValidators = new Map<string, ValidateFunction>();

/** Problems Helm would report when installing the `gateway` chart of `version`'s minor with these values (its values.schema.json). */
export function gatewaySchemaProblems(values: unknown, version: string = ISTIO_VERSION): string[] {
    const minor = minorOf(version);
    let validate = gatewayValidators.get(minor);
    if (validate === undefined) {
        // "$schema": "http://json-schema.org/schema#" names no draft, so Ajv has no meta-schema for
        // it; Helm's validator reads it as the latest draft (2020-12), which also owns `$defs`.
        const schema = { ...istioFacts(minor).gatewaySchema() };
        delete schema.$schema;
        validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
        gatewayValidators.set(minor, validate);
    }
    return validate(values) ? [] : formatErrors(validate.errors);
}

// The render command validates objects at run time too, so the CRD validation lives in the library.
export { istioObjectProblems } from "../../components/istioCrdSchemas";
