// Istio's charts for the end-to-end suite: found where a developer keeps them (never in the
// repository), packaged with the real Helm into a chart repository folder, and served over HTTP on
// loopback inside the suite's network namespace, so helm.v3.Release installs them as it would from
// Istio's repository, with no network.
//
// Where the charts may be (the first that has base/, istiod/ and gateway/ of the version):
//   ISTIO_CHARTS_DIR                         a folder with base/, istiod/, gateway/
//   <cache>/charts/istio-<version>/          (e.g. from istio/istio at the tag: docs/real-engine.md)
//   node_modules/.cache/multicluster-mesh/   what `npm run charts:pull` fetched
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { locateCharts } from "../offline/render/charts";
import { helmBinary, runHelm } from "../offline/render/helm";
import { cacheDir } from "./tools";

/** Where the suite looks for a local chart folder of `version` (base/, istiod/, gateway/ at that version). */
export function chartCandidates(version: string): string[] {
    return [process.env.ISTIO_CHARTS_DIR, path.join(cacheDir(), "charts", `istio-${version}`)].filter((d): d is string => !!d);
}

/**
 * The local chart folder of exactly `version` (a deploy installs what the folder's Chart.yaml says:
 * components/istioSource.ts), or why there is none (one line).
 */
export function findCharts(
    version: string,
): { ok: true; dir: string; dirs: Record<string, string>; origin: string } | { ok: false; why: string } {
    for (const dir of chartCandidates(version)) {
        if (!fs.existsSync(dir)) continue;
        const found = locateCharts(version, { localRepository: dir, cacheDir: path.join(dir, ".none") });
        if (found.ok && found.exact)
            return {
                ok: true,
                dir: path.resolve(dir),
                dirs: Object.fromEntries(Object.entries(found.charts).map(([k, c]) => [k, c.dir])),
                origin: found.origin,
            };
    }
    return {
        ok: false,
        why:
            `Istio ${version} charts not at hand (ISTIO_CHARTS_DIR or ${path.join(cacheDir(), "charts", `istio-${version}`)}: ` +
            `npm run charts:pull -- --stack <a stack pinning ${version}> --into <that folder>, or --source <istio checkout> --tag ${version})`,
    };
}

/** Package the charts into a Helm repository folder (index.yaml + .tgz), with the real Helm. */
export async function chartRepository(version: string, into: string): Promise<string> {
    const found = findCharts(version);
    if (!found.ok) throw new Error(found.why);
    const helm = await helmBinary();
    fs.rmSync(into, { recursive: true, force: true });
    fs.mkdirSync(into, { recursive: true });
    for (const dir of Object.values(found.dirs))
        await runHelm(helm, ["package", dir, "--version", version, "--app-version", version, "--destination", into]);
    await runHelm(helm, ["repo", "index", into]);
    return into;
}

/** Serve a folder on 127.0.0.1 (inside the namespace); resolves to its URL. */
export function serveFolder(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
        const name = path.basename(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
        const file = path.join(dir, name);
        if (!name || !fs.existsSync(file)) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "content-type": name.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
        fs.createReadStream(file).pipe(res);
    });
    return new Promise((resolve, reject) => {
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as { port: number }).port;
            resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
        });
    });
}
