// The files generated from the config schema (offline/generated.ts, `npm run gen`) are current, and
// the JSON Schema of a stack file agrees with the validator: every shipped stack passes it, and a
// typo it refuses is refused by the validator at the same path.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import * as prettier from "prettier";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { validateMeshConfig } from "../components/meshConfig";
import { configKeyTable, stackFileSchema, withKeyTable } from "../offline/generated";

const ROOT = path.resolve(__dirname, "..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const stacks = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f));

async function formatted(text: string, file: string): Promise<string> {
    const options = (await prettier.resolveConfig(path.join(ROOT, file))) ?? {};
    return prettier.format(text, { ...options, filepath: path.join(ROOT, file) });
}

describe("generated from the config schema (npm run gen)", () => {
    it("docs/stack.schema.json is current", async () => {
        expect(read("docs/stack.schema.json")).toBe(
            await formatted(`${JSON.stringify(stackFileSchema(), null, 2)}\n`, "docs/stack.schema.json"),
        );
    });

    it("the key table of docs/config.md is current", () => {
        const doc = read("docs/config.md");
        // Markdown is not prettier-formatted (.prettierignore): the file is exactly what the generator writes.
        expect(doc).toBe(withKeyTable(doc));
    });

    it("lists every key of the schema, platform blocks and traffic included", () => {
        const table = configKeyTable();
        for (const key of [
            "mesh.meshId",
            "mesh.check.gate",
            "mesh.environment",
            "mesh.clusters[].gke.project",
            "mesh.clusters[].kind.nodeImage",
            "mesh.traffic",
        ])
            expect(table).toContain(`| \`${key}\` |`);
    });
});

describe("the stack file's JSON Schema", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(read("docs/stack.schema.json")));

    it.each(stacks)("accepts %s", (f) => {
        const ok = validate(YAML.parse(read(f)));
        expect(validate.errors ?? [], f).toEqual([]);
        expect(ok).toBe(true);
    });

    it("refuses what the validator refuses: an unknown key, a wrong enum, a missing required key, a key outside the program's settings", () => {
        const dev = YAML.parse(read("Pulumi.dev.yaml"));
        const mesh = dev.config["multicluster-mesh:mesh"];
        const cases: [string, Record<string, unknown>, string][] = [
            ["unknown key", { ...mesh, meshID: "x" }, "mesh"],
            ["wrong enum", { ...mesh, topology: "star" }, "mesh.topology"],
            ["missing key", { ...mesh, meshId: undefined }, "mesh.meshId"],
            ["cluster typo", { ...mesh, clusters: [{ ...mesh.clusters[0], netwrok: "n" }, mesh.clusters[1]] }, "mesh.clusters[0]"],
        ];
        for (const [what, bad, at] of cases) {
            const clean = JSON.parse(JSON.stringify(bad));
            expect(validate({ config: { "multicluster-mesh:mesh": clean } }), what).toBe(false);
            const r = validateMeshConfig(clean, {});
            expect(r.ok, what).toBe(false);
            expect(r.ok ? [] : r.problems.join("\n"), what).toContain(`${at}`);
        }
        expect(validate({ config: { "multicluster-mesh:mesh": mesh, "multicluster-mesh:meshh": 1 } })).toBe(false);
        expect(validate({ config: { "multicluster-mesh:mesh": mesh, "aws:region": "us-east-1" } })).toBe(true);
    });
});
