// Write the files generated from the config schema (offline/generated.ts): docs/stack.schema.json and
// the key table of docs/config.md. test/generated.test.ts fails when they are stale.
//
//   npm run gen
import * as fs from "node:fs";
import * as path from "node:path";
import { stackFileSchema, withKeyTable } from "../offline/generated";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const schemaFile = path.join(ROOT, "docs", "stack.schema.json");
    fs.writeFileSync(schemaFile, `${JSON.stringify(stackFileSchema(), null, 2)}\n`);
    const doc = path.join(ROOT, "docs", "config.md");
    fs.writeFileSync(doc, withKeyTable(fs.readFileSync(doc, "utf8")));
    console.log("wrote docs/stack.schema.json and the key table of docs/config.md");
}
