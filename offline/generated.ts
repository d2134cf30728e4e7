// Files generated from the config schema (components/meshConfig.ts `meshSchema`), so the schema is
// the one source of the shape: the JSON Schema of a stack file (docs/stack.schema.json), which an
// editor uses to complete and check `Pulumi.<stack>.yaml`, and the key table of docs/config.md.
// `npm run gen` (scripts/gen.ts) writes them; test/generated.test.ts fails when a committed copy is stale.
import { z } from "zod";
import { PROJECT_CONFIG_KEYS } from "../components/configKeys";
import { meshSchema } from "../components/meshConfig";
import { PROJECT } from "../components/pulumiTypes";

type Json = Record<string, any>;

/** A config value Pulumi stores encrypted (`pulumi config set --secret`): `{ secure: <ciphertext> }`. */
const SECURE: Json = { type: "object", properties: { secure: { type: "string" } }, required: ["secure"], additionalProperties: false };
const PEM: Json = { type: "string", description: "PEM text" };
const BUNDLES: Json = {
    type: "object",
    description: "per istiod cluster, its intermediate CA bundle (provided trust)",
    additionalProperties: {
        type: "object",
        properties: { caCertPem: { anyOf: [PEM, SECURE] }, caKeyPem: { anyOf: [PEM, SECURE] }, certChainPem: { anyOf: [PEM, SECURE] } },
        required: ["caCertPem", "caKeyPem", "certChainPem"],
        additionalProperties: false,
    },
};

/** The mesh key's schema as JSON Schema (what a stack file gives: the schema's input side, defaults shown). */
export function meshJsonSchema(): Json {
    const s = z.toJSONSchema(meshSchema, { io: "input", unrepresentable: "any" }) as Json;
    delete s.$schema;
    // zod writes the full safe-integer range for every .int(); it says nothing a reader needs.
    const strip = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(strip);
        else if (v && typeof v === "object") {
            const o = v as Json;
            if (o.type === "integer" && o.minimum === -Number.MAX_SAFE_INTEGER) delete o.minimum;
            if (o.type === "integer" && o.maximum === Number.MAX_SAFE_INTEGER) delete o.maximum;
            Object.values(o).forEach(strip);
        }
    };
    strip(s);
    return s;
}

/** The JSON Schema of `Pulumi.<stack>.yaml` (docs/stack.schema.json). */
export function stackFileSchema(): Json {
    const other: Record<string, Json> = {
        rootCertPem: { anyOf: [PEM, SECURE], description: "provided trust: the root certificate" },
        caBundles: { anyOf: [BUNDLES, SECURE] },
        newRootCertPem: { anyOf: [PEM, SECURE], description: "provided trust, root rotation: the new root certificate" },
        newCaBundles: { anyOf: [BUNDLES, SECURE], description: "provided trust, root rotation: the bundles signed by the new root" },
    };
    const keys = Object.fromEntries(PROJECT_CONFIG_KEYS.map((k) => [`${PROJECT}:${k}`, k === "mesh" ? meshJsonSchema() : other[k]]));
    return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: `${PROJECT} stack file (Pulumi.<stack>.yaml), generated from components/meshConfig.ts by npm run gen`,
        type: "object",
        properties: {
            config: {
                type: "object",
                properties: keys,
                required: [`${PROJECT}:mesh`],
                // Other namespaces (aws:region, pulumi:…, kubernetes:…) are Pulumi's and the providers'.
                propertyNames: { not: { pattern: `^${PROJECT}:(?!(${PROJECT_CONFIG_KEYS.join("|")})$)` } },
            },
            secretsprovider: { type: "string" },
            encryptedkey: { type: "string" },
            encryptionsalt: { type: "string" },
        },
        required: ["config"],
    };
}

function typeOf(s: Json): string {
    if (s.enum) return s.enum.map((v: unknown) => JSON.stringify(v)).join(" \\| ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" or ");
    if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "any"}`;
    if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object" && !s.properties)
        return `map of ${typeOf(s.additionalProperties)}`;
    return s.type ?? "any";
}

/** Every key under `multicluster-mesh:mesh`, with its type and default, as a Markdown table. */
export function configKeyTable(): string {
    const rows: string[] = [];
    const walk = (s: Json, at: string, required: boolean) => {
        const d =
            s.default !== undefined && (typeof s.default !== "object" || Object.keys(s.default).length === 0)
                ? JSON.stringify(s.default)
                : "";
        const need = required ? "required" : d ? d : "";
        rows.push(`| \`${at}\` | ${typeOf(s)} | ${need.replace(/\|/g, "\\|")} |`);
        const props = s.properties ?? s.items?.properties;
        const req: string[] = s.required ?? s.items?.required ?? [];
        const prefix = s.items ? `${at}[]` : at;
        if (props) for (const [k, v] of Object.entries(props)) walk(v as Json, `${prefix}.${k}`, req.includes(k));
        else if (s.additionalProperties && typeof s.additionalProperties === "object" && s.additionalProperties.properties)
            walk(s.additionalProperties, `${at}.<name>`, false);
    };
    walk(meshJsonSchema(), "mesh", true);
    return ["| key | type | required or default |", "|---|---|---|", ...rows.slice(1)].join("\n");
}

export const TABLE_START = "<!-- gen:config-keys:start (npm run gen) -->";
export const TABLE_END = "<!-- gen:config-keys:end -->";

/** docs/config.md with its generated table replaced (everything else untouched). */
export function withKeyTable(doc: string): string {
    const a = doc.indexOf(TABLE_START);
    const b = doc.indexOf(TABLE_END);
    if (a < 0 || b < a) throw new Error(`docs/config.md has no ${TABLE_START} … ${TABLE_END} markers`);
    return `${doc.slice(0, a + TABLE_START.length)}\n\n${configKeyTable()}\n\n${doc.slice(b)}`;
}
