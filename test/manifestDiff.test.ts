// The per-object diff of two renders (offline/render/manifestDiff.ts), on manifests written the way
// the render command writes them.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { diffManifests, fieldChanges, formatManifestDiff } from "../offline/render/manifestDiff";
import { tempDir } from "./support/planRun";

function write(dir: string, cluster: string, release: string, objects: unknown[]): void {
    const d = path.join(dir, cluster, "manifests");
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `${release}.yaml`), objects.map((o) => YAML.stringify(o)).join("---\n"));
}
const deployment = (image: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "istiod", namespace: "istio-system", labels: { "helm.sh/chart": `istiod-${image}` } },
    spec: { template: { spec: { containers: [{ name: "discovery", image: `docker.io/istio/pilot:${image}` }] } }, ...extra },
});

describe("the manifests' per-object diff", () => {
    it("reports a patch-version bump as the changed fields of each object, and added and removed objects", () => {
        const a = tempDir("mdiff-a-");
        const b = tempDir("mdiff-b-");
        write(a, "east", "istiod", [
            deployment("1.30.3"),
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "old", namespace: "istio-system" } },
        ]);
        write(b, "east", "istiod", [
            deployment("1.30.4", { replicas: 2 }),
            { apiVersion: "v1", kind: "Service", metadata: { name: "new", namespace: "istio-system" } },
        ]);
        const changes = diffManifests(a, b);
        expect(changes.map((c) => `${c.object} ${c.change}`)).toEqual([
            "ConfigMap/istio-system/old removed",
            "Deployment/istio-system/istiod changed",
            "Service/istio-system/new added",
        ]);
        const dep = changes.find((c) => c.change === "changed")!;
        expect(dep.fields).toEqual([
            '~ metadata.labels.helm.sh/chart: "istiod-1.30.3" → "istiod-1.30.4"',
            "+ spec.replicas: 2",
            '~ spec.template.spec.containers[discovery].image: "docker.io/istio/pilot:1.30.3" → "docker.io/istio/pilot:1.30.4"',
        ]);
        expect(formatManifestDiff(changes, "old")).toMatch(
            /^manifests against old: 3 objects change\n {2}east istiod ConfigMap\/istio-system\/old: removed/,
        );
    });

    it("looks inside the JSON documents Istio's ConfigMaps hold", () => {
        const cm = (v: unknown) => ({ data: { values: JSON.stringify(v, null, 2) } });
        expect(fieldChanges(cm({ global: { meshID: "a", hub: "x" } }), cm({ global: { meshID: "b", hub: "x" } }))).toEqual([
            '~ data.values{json}.global.meshID: "a" → "b"',
        ]);
    });

    it("finds nothing to report between two identical renders", () => {
        const a = tempDir("mdiff-same-");
        write(a, "west", "istio-base", [deployment("1.30.3")]);
        expect(diffManifests(a, a)).toEqual([]);
        expect(fieldChanges({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
        expect(fieldChanges({ a: [1, 2] }, { a: [2, 1] })).toEqual(["~ a: [1,2] → [2,1]"]);
    });
});
