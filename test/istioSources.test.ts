// Where Istio's charts and images come from (components/istioSource.ts, docs/istio-sources.md): the
// three kinds of chart source and the Release fields each becomes, the image values every release
// gets, the config checks (retired locations, a local folder, the hub, pull secrets, options of
// another minor), and that no file but the check names a retired location.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
    ISTIO_HUB,
    ISTIO_OCI_REPOSITORY,
    ISTIO_REPOSITORY,
    ISTIO_VERSION,
    newestWithoutDefects,
    SUPPORTED_ISTIO,
} from "../components/istio";
import {
    chartSource,
    describeReleaseChart,
    imageValues,
    localChartProblems,
    releaseChart,
    RETIRED_ISTIO_LOCATIONS,
    retiredLocation,
    sourceText,
} from "../components/istioSource";
import { validateMeshConfig } from "../components/meshConfig";

const ROOT = path.resolve(__dirname, "..");

function problems(istio: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
    const raw = {
        meshId: "m",
        topology: "multi-primary",
        istio,
        clusters: [
            { name: "east", kubeconfig: "/absent", apiServer: "https://10.0.0.1:6443" },
            { name: "west", kubeconfig: "/absent", apiServer: "https://10.0.1.1:6443" },
        ],
        ...extra,
    };
    const r = validateMeshConfig(raw, { readFile: (p) => (p === "/absent" ? undefined : readIfExists(p)) });
    return r.ok ? [] : r.problems;
}
function readIfExists(p: string): string | undefined {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return undefined;
    }
}
/** A local chart folder as `helm pull --untar` writes it. */
function chartFolder(versions: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
    for (const [c, v] of Object.entries(versions)) {
        fs.mkdirSync(path.join(dir, c));
        fs.writeFileSync(path.join(dir, c, "Chart.yaml"), `apiVersion: v2\nname: ${c}\nversion: ${v}\n`);
    }
    return dir;
}

describe("istio.repository: three kinds of chart source", () => {
    it.each([
        [ISTIO_REPOSITORY, { kind: "helm", url: ISTIO_REPOSITORY }],
        [`${ISTIO_REPOSITORY}/`, { kind: "helm", url: ISTIO_REPOSITORY }],
        ["http://charts.internal:8080/istio", { kind: "helm", url: "http://charts.internal:8080/istio" }],
        [ISTIO_OCI_REPOSITORY, { kind: "oci", ref: ISTIO_OCI_REPOSITORY }],
        ["oci://registry.example.com:5000/mirror/istio/", { kind: "oci", ref: "oci://registry.example.com:5000/mirror/istio" }],
        ["/srv/charts/istio", { kind: "local", dir: "/srv/charts/istio" }],
        ["./charts/istio", { kind: "local", dir: "/project/charts/istio" }],
        ["file:///srv/charts", { kind: "local", dir: "/srv/charts" }],
    ])("%s", (repository, want) => {
        expect(chartSource(repository, "/project")).toEqual(want);
    });

    it("refuses another scheme, an OCI reference without a path, an empty value", () => {
        expect(chartSource("s3://bucket/charts")).toEqual({ problem: expect.stringMatching(/is neither a Helm repository/) });
        expect(chartSource("oci://ghcr.io")).toEqual({ problem: expect.stringMatching(/is not an OCI reference such as/) });
        expect(chartSource("  ")).toEqual({ problem: expect.stringMatching(/is empty/) });
    });

    // pulumi-kubernetes provider/pkg/provider/helm_release.go: repositoryOpts.repo is always fetched as a
    // Helm repository (an index.yaml), so OCI goes into `chart`; a local chart is its folder (localChart).
    it("becomes the Release's chart and repositoryOpts as pulumi-kubernetes resolves them, and back", () => {
        const cases: [string, { chart: string; repositoryOpts?: { repo: string } }][] = [
            [ISTIO_REPOSITORY, { chart: "istiod", repositoryOpts: { repo: ISTIO_REPOSITORY } }],
            [ISTIO_OCI_REPOSITORY, { chart: `${ISTIO_OCI_REPOSITORY}/istiod` }],
            ["/srv/charts/istio", { chart: "/srv/charts/istio/istiod" }],
        ];
        for (const [repository, want] of cases) {
            const source = chartSource(repository);
            if ("problem" in source) throw new Error(source.problem);
            const ref = releaseChart(source, "istiod");
            expect(ref).toEqual(want);
            expect(describeReleaseChart(ref)).toEqual({ name: "istiod", source: sourceText(source) });
        }
        expect(describeReleaseChart({ chart: "metallb", repositoryOpts: { repo: "https://metallb.github.io/metallb" } })).toEqual({
            name: "metallb",
            source: "https://metallb.github.io/metallb",
        });
    });
});

describe("image values: every release names its image source", () => {
    it("sets istiod's hub, global.hub and the tags; pull secrets on base, istiod and the gateway", () => {
        expect(imageValues({ version: "1.31.1", hub: "registry.example.com/istio", imagePullSecrets: ["pull"] })).toEqual({
            base: { global: { imagePullSecrets: ["pull"] } },
            istiod: {
                hub: "registry.example.com/istio",
                tag: "1.31.1",
                global: { hub: "registry.example.com/istio", tag: "1.31.1", imagePullSecrets: ["pull"] },
            },
            gateway: { imagePullSecrets: [{ name: "pull" }] },
        });
        expect(imageValues({ version: ISTIO_VERSION, hub: ISTIO_HUB, imagePullSecrets: [] })).toEqual({
            base: {},
            istiod: { hub: ISTIO_HUB, tag: ISTIO_VERSION, global: { hub: ISTIO_HUB, tag: ISTIO_VERSION } },
            gateway: {},
        });
    });

    it("refuses the values this program owns, naming the setting to use", () => {
        expect(problems({ values: { hub: "x/y", global: { tag: "1", imagePullSecrets: ["s"] }, pilot: { hub: "x/y" } } })).toEqual([
            "mesh.istio.values.hub: is managed by this program per cluster; remove it (set mesh.istio.hub instead)",
            "mesh.istio.values.pilot.hub: is managed by this program per cluster; remove it (set mesh.istio.hub instead)",
            "mesh.istio.values.global.tag: is managed by this program per cluster; remove it (the images follow mesh.istio.version)",
            "mesh.istio.values.global.imagePullSecrets: is managed by this program per cluster; remove it (set mesh.istio.imagePullSecrets instead)",
        ]);
    });

    it("checks the hub and the pull secrets' names", () => {
        expect(problems({ hub: "https://docker.io/istio" })).toEqual([
            expect.stringMatching(/^mesh\.istio\.hub: "https:\/\/docker\.io\/istio" is not an image registry path/),
        ]);
        expect(problems({ hub: "docker.io/istio:1.31.1" })).toEqual([expect.stringMatching(/^mesh\.istio\.hub: .* \(no scheme, no tag/)]);
        expect(problems({ hub: "registry.example.com:5000/mirror/istio" })).toEqual([]);
        expect(problems({ imagePullSecrets: ["ok-secret", "Not_OK"] })).toEqual([
            'mesh.istio.imagePullSecrets[1]: "Not_OK" is not a Secret name (a DNS-1123 subdomain)',
        ]);
    });
});

describe("retired locations", () => {
    // Every retired location, by table, in every place the config names a source.
    it.each(RETIRED_ISTIO_LOCATIONS.map((r) => [r.location, r] as const))(
        "%s: refused as repository, hub and in values, with the replacement",
        (_loc, r) => {
            expect(retiredLocation(`https://${r.location}/charts`)).toBe(r);
            expect(retiredLocation(`oci://${r.location}/charts`)).toBe(r);
            expect(retiredLocation(`${r.location}/proxyv2:1.30.5`)).toBe(r);
            expect(problems({ repository: `https://${r.location}/charts` })).toEqual([
                `mesh.istio.repository: "https://${r.location}/charts" is a retired Istio location (${r.location}): nothing is published there ` +
                    `since Istio 1.31 and it goes away after 2026-12-09 (Istio 1.31 upgrade notes); use ${r.charts}`,
            ]);
            expect(problems({ hub: r.location })).toEqual([expect.stringContaining(`is a retired Istio location (${r.location})`)]);
            expect(problems({ hub: r.location })[0]).toContain(`use ${r.images} or your mirror of it`);
            const inValues = problems(
                {},
                {
                    clusters: [
                        {
                            name: "east",
                            kubeconfig: "/absent",
                            apiServer: "https://10.0.0.1:6443",
                            istio: { values: { global: { proxy: { image: `${r.location}/proxyv2:1` } } } },
                        },
                    ],
                },
            );
            expect(inValues).toEqual([
                expect.stringMatching(
                    new RegExp(`^mesh\\.clusters\\[0\\]\\.istio\\.values\\.global\\.proxy\\.image: .* names a retired Istio location`),
                ),
            ]);
        },
    );

    it("does not take a current location for a retired one", () => {
        for (const ok of [
            ISTIO_REPOSITORY,
            ISTIO_OCI_REPOSITORY,
            ISTIO_HUB,
            "registry.example.com/istio",
            "docker.io/istio-release",
            "storage.googleapis.com/other-bucket/charts",
        ])
            expect(retiredLocation(ok)).toBeUndefined();
    });

    it("no file of the repository names a retired location, except the check that refuses it", () => {
        const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
            .split("\n")
            .filter((f) => f !== "" && f !== "components/istioSource.ts" && fs.existsSync(path.join(ROOT, f)))
            .filter((f) => !/\.(png|zip|tgz)$/.test(f));
        const offenders: string[] = [];
        for (const f of files) {
            const text = fs.readFileSync(path.join(ROOT, f), "utf8");
            for (const r of RETIRED_ISTIO_LOCATIONS) if (text.toLowerCase().includes(r.location)) offenders.push(`${f}: ${r.location}`);
        }
        expect(files.length).toBeGreaterThan(100);
        expect(offenders).toEqual([]);
    });
});

describe("a local chart folder", () => {
    const v = ISTIO_VERSION;
    it("plans when it holds base, istiod and gateway of the pinned version", () => {
        expect(problems({ version: v, repository: chartFolder({ base: v, istiod: v, gateway: v }) })).toEqual([]);
    });
    it("is refused before anything is built when a chart is missing, of another version, or a source checkout's", () => {
        const missing = chartFolder({ base: v, istiod: v });
        expect(problems({ version: v, repository: missing })).toEqual([
            `mesh.istio.repository: ${missing} has no gateway/Chart.yaml: a local chart folder holds base/, istiod/ and gateway/; ` +
                `put the charts there with npm run charts:pull -- --stack <stack> --into ${missing} (docs/istio-sources.md)`,
        ]);
        const other = chartFolder({ base: "1.31.0-rc.0", istiod: "1.31.0-rc.0", gateway: "1.31.0-rc.0" });
        expect(problems({ version: "1.31.1", repository: other })).toHaveLength(3);
        expect(problems({ version: "1.31.1", repository: other })[0]).toMatch(
            /base\/Chart\.yaml is version 1\.31\.0-rc\.0, the stack pins 1\.31\.1: .* or pin 1\.31\.0-rc\.0$/,
        );
        const source = chartFolder({ base: "1.0.0", istiod: "1.0.0", gateway: "1.0.0" });
        expect(localChartProblems(source, v)[0]).toMatch(
            new RegExp(
                `says version 1\\.0\\.0, the placeholder of a source checkout of istio/istio: stage the charts of a tag as a release with npm run charts:pull -- --source <checkout> --tag ${v.replace(/\./g, "\\.")}`,
            ),
        );
    });
});

describe("options of another minor", () => {
    // 1.31's charts add options (components/data/istio/1.31/minor-only-options.json); the 1.30 charts ignore them.
    const v130 = newestWithoutDefects("1.30")!;
    const v131 = newestWithoutDefects("1.31")!;
    it("refuses, on a 1.30 pin, an istiod option only 1.31 has; accepts it on 1.31", () => {
        expect(problems({ version: v130, values: { terminationMessagePolicy: "FallbackToLogsOnError" } })).toEqual([
            `mesh.istio.values.terminationMessagePolicy: exists only in Istio 1.31's istiod chart (terminationMessagePolicy); the 1.30 ` +
                `charts of the pinned ${v130} ignore it: pin a 1.31.x version, or remove it`,
        ]);
        expect(problems({ version: v131, values: { terminationMessagePolicy: "FallbackToLogsOnError" } })).toEqual([]);
        expect(problems({ version: v130, values: { pilot: { terminationMessagePolicy: "File" } } })).toEqual([
            expect.stringMatching(/^mesh\.istio\.values\.pilot\.terminationMessagePolicy: exists only in Istio 1\.31's istiod chart/),
        ]);
    });
    it("refuses 1.31's readerServiceAccount on either minor: the remote secrets hold istio-reader-service-account tokens", () => {
        for (const version of [v130, v131]) {
            expect(problems({ version, values: { global: { readerServiceAccount: { name: "r", namespace: "x" } } } })).toEqual([
                "mesh.istio.values.global.readerServiceAccount: is managed by this program per cluster; remove it (the remote secrets " +
                    "use the reader tokens this program creates, docs/reader-rbac.md)",
            ]);
        }
    });
    it("checks traffic objects against the pinned minor's CRDs", () => {
        const traffic = {
            objects: [
                {
                    apiVersion: "networking.istio.io/v1",
                    kind: "DestinationRule",
                    metadata: { name: "r", namespace: "istio-system" },
                    spec: { host: "a.b.svc.cluster.local", trafficPolicy: { loadBalancer: { zoneAwareLbSetting: { enabled: true } } } },
                },
            ],
        };
        expect(problems({ version: v131 }, { traffic })).toEqual([]);
        expect(problems({ version: v130 }, { traffic }).join("\n")).toMatch(
            /zoneAwareLbSetting.*valid in Istio 1\.31's CRDs: pin a 1\.31\.x version/,
        );
    });
    it("is a table over the supported minors", () => {
        expect(SUPPORTED_ISTIO.minors).toEqual(["1.30", "1.31"]);
    });
});
