// out/<stack>/import.json: the `pulumi import --file` document for objects a hand install already has
// in `existing` clusters. Checked against the CLI's own rules for the file (pkg/cmd/pulumi/operations/
// import.go at v3.248.0): components have no ID, everything else has one; every parent is a resource
// of the file or of the nameTable; every provider is in the nameTable; names are unique.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { ImportFile } from "../offline/importFile";
import { planStack, tempDir } from "./support/planRun";

describe("import.json for clusters that already run Istio", () => {
    it("lists every object a hand install has in the existing clusters, as the CLI's import file expects", async () => {
        const out = tempDir();
        const r = await planStack("existing", out, { sim: { cannedTls: true } });
        expect(r.ok).toBe(true);
        const file = JSON.parse(fs.readFileSync(path.join(out, "existing", "import.json"), "utf8")) as ImportFile;
        const names = file.resources.map((x) => x.name);
        expect(new Set(names).size).toBe(names.length);
        for (const x of file.resources) {
            if (x.component) expect(x.id, x.name).toBeUndefined();
            else expect(x.id, x.name).toMatch(/^[a-z0-9.-]+(\/[a-z0-9.-]+)?$/);
            if (x.parent) expect(names.includes(x.parent) || x.parent in file.nameTable, `${x.name}'s parent ${x.parent}`).toBe(true);
            if (!x.component) expect(file.nameTable[x.provider!], `${x.name}'s provider`).toMatch(/pulumi:providers:kubernetes::/);
        }
        // Per cluster: the namespace, cacerts, the three releases, the gateway Service, the remote secret.
        for (const c of ["east", "west"]) {
            const ids = file.resources.filter((x) => x.provider === `${c}-k8s`).map((x) => `${x.type.split(":").pop()} ${x.id}`);
            expect(ids).toEqual(
                expect.arrayContaining([
                    "Namespace istio-system",
                    "Secret istio-system/cacerts",
                    "Release istio-system/istio-base",
                    "Release istio-system/istiod",
                    "Release istio-system/istio-eastwestgateway",
                    "Service istio-system/istio-eastwestgateway",
                    `Secret istio-system/istio-remote-secret-${c === "east" ? "west" : "east"}`,
                ]),
            );
        }
        // Never a credential: the import file names objects, it does not carry their data.
        expect(JSON.stringify(file)).not.toMatch(/token|PRIVATE KEY|client-key/i);
    });

    it("is not written for a stack whose clusters this program creates", async () => {
        const out = tempDir();
        expect((await planStack("dev", out, { sim: { cannedTls: true } })).ok).toBe(true);
        expect(fs.existsSync(path.join(out, "dev", "import.json"))).toBe(false);
    });
});
