// Checks generated Helm values and Istio objects against the Istio 1.30 charts and CRDs, using only
// the fixtures derived by scripts/derive-fixtures.ts (the reference data is not in users' clones).
import * as fs from "fs";
import * as path from "path";
import { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import { formatErrors } from "../../components/istioCrdSchemas";

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
 * typo (`meshId` for `meshID`) would otherwise go unseen. Paths under a map that is `{}` in the
 * defaults (`env`, `podAnnotations`, ...) are always accepted. The istiod chart merges `pilot.*`
 * over the top level (templates/zzy_descope_legacy.yaml, since 1.24), so `pilot.env.X` is checked as
 * `env.X`; an earlier version of this helper refused `pilot.env` as an IstioOperator-only path.
 */
export function valueKeyProblems(chart: Chart, values: Record<string, unknown>): string[] {
    const { known, open } = keysFor(chart);
    const defined = (p: string) => known.has(p) || open.some((o) => p === o || p.startsWith(`${o}.`));
    return leafPaths(values)
        .filter((p) => !defined(p) && !(chart === "istiod" && p.startsWith("pilot.") && defined(p.slice("pilot.".length))))
        .map((p) => `${chart}: key "${p}" does not exist in the chart defaults`);
}

// ---- JSON Schema validation ----

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

// The render command validates objects at run time too, so the CRD validation lives in offline/render/schemas.ts.
export { istioObjectProblems } from "../../offline/render/schemas";
