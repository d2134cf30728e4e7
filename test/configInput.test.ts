// Config the Pulumi CLI accepts, the plan accepts; what it would silently take wrong, the plan
// refuses; every message names the path and the fix; big input is refused early, never hangs
// (issue 19 items 4, 5 and 6).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as YAML from "yaml";
import { afterAll, describe, expect, it, vi } from "vitest";
import { validateMeshConfig } from "../components/meshConfig";
import { phaseChecks } from "../components/rotation";
import { kubectlContexts } from "../offline/contexts";
import { outDirProblem } from "../offline/outArg";
import { plan, problemLines, readStackFile } from "../offline/offlinePlan";
import { estimatedResources, MAX_PLAN_RESOURCES } from "../offline/planLimits";
import { chartFilesProblems, render } from "../offline/render/render";
import { MAX_YAML_BYTES, parseYaml } from "../offline/yamlFile";
import { StackProblems, svgOf } from "../scripts/screenshots";
import { planStack, ROOT, tempDir } from "./support/planRun";

const tmp = tempDir("config-input-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const run = promisify(execFile);

let n = 0;
/** A project folder with Pulumi.yaml (project multicluster-mesh) and `Pulumi.<stack>.yaml` holding `text`. */
function stackDir(stack: string, text: string): string {
    const dir = path.join(tmp, `p${n++}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
}

/** The existing stack's mesh, with its kubeconfig paths absolute so it plans from any folder. */
function existingMesh(): Record<string, any> {
    const text = fs.readFileSync(path.join(ROOT, "Pulumi.existing.yaml"), "utf8").replace(/examples\//g, `${ROOT}/examples/`);
    return YAML.parse(text).config["multicluster-mesh:mesh"];
}
const stackText = (mesh: unknown, extra: Record<string, unknown> = {}) =>
    YAML.stringify({ config: { "multicluster-mesh:mesh": mesh, ...extra } });

async function planText(text: string, stack = "s") {
    return planStack(stack, path.join(tmp, `out${n++}`), { stackDir: stackDir(stack, text), sim: { cannedTls: true } });
}

const gke = (name: string, network: string, ranges: [string, string, string], vpc = "corp-vpc") => ({
    name,
    network,
    platform: "gke",
    gke: { project: "acme-mesh", location: "us-central1", network: vpc, subnetCidr: ranges[0], podCidr: ranges[1], serviceCidr: ranges[2] },
});

describe("item 4: config the Pulumi CLI accepts, the plan accepts", () => {
    it("YAML merge keys work as in Pulumi's parser (gopkg.in/yaml.v3): written keys win, of several merged maps the first", async () => {
        expect(parseYaml("a: &x {p: 1, q: 2}\nb: {<<: *x, q: 3}\n", "f")).toEqual({ a: { p: 1, q: 2 }, b: { p: 1, q: 3 } });
        expect(parseYaml("x: &x {p: 1}\ny: &y {p: 2, r: 5}\nb:\n  <<: [*x, *y]\n", "f")).toEqual({
            x: { p: 1 },
            y: { p: 2, r: 5 },
            b: { p: 1, r: 5 },
        });
        // A stack file that shares a cluster's settings through an anchor plans like the one written out.
        const mesh = existingMesh();
        const text = [
            "config:",
            "  multicluster-mesh:mesh:",
            "    meshId: mesh1",
            "    topology: multi-primary",
            "    trust: { mode: generated, keyAlgorithm: RSA, rsaBits: 4096, rootValidityDays: 3650, intermediateValidityDays: 730, protectRoot: false }",
            // The shipped stack's own Istio settings (JSON is YAML's flow style).
            `    istio: ${JSON.stringify(mesh.istio)}`,
            "    clusters:",
            "      - &east",
            "        name: east",
            "        network: net-east",
            "        role: primary",
            "        platform: existing",
            `        kubeconfig: ${mesh.clusters[0].kubeconfig}`,
            "        context: kind-east",
            "        apiServer: https://172.18.0.2:6443",
            "      - <<: *east",
            "        name: west",
            "        network: net-west",
            "        context: kind-west",
            "        apiServer: https://172.18.0.3:6443",
            "",
        ].join("\n");
        const merged = await planText(text, "existing");
        expect(merged.errors).toEqual([]);
        const plain = await planText(stackText(mesh), "existing");
        expect(merged.planFile!.resources).toEqual(plain.planFile!.resources);
    });

    it("an unknown key under the project is an error with 'did you mean'", async () => {
        const r = await planText(stackText(existingMesh(), { "multicluster-mesh:meshh": {}, "multicluster-mesh:rootCertPEM": "x" }));
        expect(r.ok).toBe(false);
        expect(r.errors).toEqual([
            expect.stringMatching(/^multicluster-mesh:meshh: is not a setting of this program; did you mean multicluster-mesh:mesh\?/),
            expect.stringMatching(
                /^multicluster-mesh:rootCertPEM: is not a setting of this program; did you mean multicluster-mesh:rootCertPem\?/,
            ),
        ]);
        // Other projects' keys (kubernetes:, pulumi:, aws:) are theirs.
        expect((await planText(stackText(existingMesh(), { "kubernetes:namespace": "x" }))).errors).toEqual([]);
    });

    it("refuses a network listed but used by no cluster, and two clusters on one API server", () => {
        const mesh = existingMesh();
        const unused = validateMeshConfig({ ...mesh, networks: { "net-eats": { routable: true } } });
        expect(unused.ok ? [] : unused.problems).toEqual([
            expect.stringMatching(/^mesh\.networks\.net-eats: no cluster is on network "net-eats" .*did you mean "net-east"\?/),
        ]);
        const twice = structuredClone(mesh);
        twice.clusters[1].apiServer = "https://172.18.0.2:6443/";
        const shared = validateMeshConfig(twice);
        expect(shared.ok ? [] : shared.problems).toEqual([
            expect.stringMatching(
                /^mesh\.clusters\[1\]\.apiServer: https:\/\/172\.18\.0\.2:6443\/ is also the API server of mesh\.clusters\[0\] \(east\)/,
            ),
        ]);
        // Through the kubeconfig too: two contexts on one server.
        const kubeconfig = path.join(tmp, "one-server.yaml");
        fs.writeFileSync(
            kubeconfig,
            YAML.stringify({
                apiVersion: "v1",
                clusters: [
                    { name: "a", cluster: { server: "https://10.9.0.1:6443" } },
                    { name: "b", cluster: { server: "https://10.9.0.1:6443" } },
                ],
                contexts: [
                    { name: "a", context: { cluster: "a", user: "u" } },
                    { name: "b", context: { cluster: "b", user: "u" } },
                ],
                users: [{ name: "u", user: {} }],
            }),
        );
        const viaKubeconfig = validateMeshConfig({
            ...mesh,
            clusters: [
                { name: "east", network: "net-east", kubeconfig, context: "a" },
                { name: "west", network: "net-west", kubeconfig, context: "b" },
            ],
        });
        expect(viaKubeconfig.ok ? [] : viaKubeconfig.problems).toEqual([
            expect.stringMatching(/^mesh\.clusters\[1\]\.apiServer: .* is also the API server/),
        ]);
    });

    it("refuses GKE clusters in one VPC with overlapping ranges, also on different mesh networks", () => {
        const base = { meshId: "mesh1", topology: "multi-primary", trust: { protectRoot: false } };
        const overlapping = validateMeshConfig({
            ...base,
            clusters: [
                gke("a", "net-a", ["10.0.0.0/20", "10.4.0.0/14", "10.8.0.0/20"]),
                gke("b", "net-b", ["10.0.0.0/20", "10.12.0.0/14", "10.8.16.0/20"]),
            ],
        });
        expect(overlapping.ok ? [] : overlapping.problems).toEqual([
            expect.stringMatching(
                /^mesh\.clusters\[1\]\.gke\.subnetCidr: 10\.0\.0\.0\/20 overlaps mesh\.clusters\[0\]\.gke\.subnetCidr .* in VPC acme-mesh\/corp-vpc/,
            ),
        ]);
        // Each in its own VPC: nothing to refuse.
        const apart = validateMeshConfig({
            ...base,
            clusters: [
                gke("a", "net-a", ["10.0.0.0/20", "10.4.0.0/14", "10.8.0.0/20"], "vpc-a"),
                gke("b", "net-b", ["10.0.0.0/20", "10.12.0.0/14", "10.8.16.0/20"], "vpc-b"),
            ],
        });
        expect(apart.ok).toBe(true);
    });

    it("refuses absurd counts: nodesPerZone 1e9, an EKS node group of a million, rsaBits above Go's limit, a validity past year 9999", () => {
        const base = { meshId: "mesh1", topology: "multi-primary" };
        const g = gke("a", "net-a", ["10.0.0.0/20", "10.4.0.0/14", "10.8.0.0/20"]);
        (g.gke as Record<string, unknown>).nodePool = { nodesPerZone: 1e9 };
        const eks = {
            name: "b",
            network: "net-b",
            platform: "eks",
            eks: { region: "us-east-1", vpcCidr: "10.16.0.0/16", azCount: 9, nodeGroup: { desired: 1e6, min: 1, max: 1e6 } },
        };
        const r = validateMeshConfig({
            ...base,
            clusters: [g, eks],
            trust: { rsaBits: 1e9, rootValidityDays: 1e9, intermediateValidityDays: 730 },
        });
        const problems = r.ok ? [] : r.problems;
        expect(problems).toContainEqual(
            expect.stringMatching(
                /^mesh\.clusters\[0\]\.gke\.nodePool\.nodesPerZone: 1000000000 per zone is 3000000000 nodes in 3 zones; GKE's largest cluster has 65,000 nodes/,
            ),
        );
        expect(problems).toContainEqual(
            expect.stringMatching(/^mesh\.clusters\[1\]\.eks\.nodeGroup\.desired: 1000000 nodes is beyond Kubernetes' tested 5,000/),
        );
        expect(problems).toContainEqual(
            expect.stringMatching(/^mesh\.clusters\[1\]\.eks\.azCount: 9 availability zones: no AWS region has more than 6/),
        );
        // The trust bounds are components/meshChecks.ts's (TRUST_BOUNDS), said once each.
        expect(problems.filter((p) => p.startsWith("mesh.trust.rsaBits"))).toEqual([
            expect.stringMatching(/^mesh\.trust\.rsaBits: 1000000000 is above 8192 bits; use 3072–8192 \(Go's TLS stack/),
        ]);
        expect(problems.filter((p) => p.startsWith("mesh.trust.rootValidityDays"))).toEqual([
            expect.stringMatching(/^mesh\.trust\.rootValidityDays: 1000000000 is above 36500 days/),
        ]);
    });

    it("a private key in plain text in the stack file gets a warning with the `pulumi config set --secret` command", async () => {
        const mesh = existingMesh();
        const key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n";
        const r = await planText(stackText(mesh, { "multicluster-mesh:caBundles": { east: { caKeyPem: key, caCertPem: "x" } } }));
        expect(r.stderr).toMatch(
            /^warning: stack s: multicluster-mesh:caBundles\.east\.caKeyPem in Pulumi\.s\.yaml holds a private key in plain text: .* pulumi config set --secret --path 'caBundles\.east\.caKeyPem' -- "\$\(cat <key file>\)"/m,
        );
        // An encrypted one is left alone.
        const sf = readStackFile(
            "s",
            stackDir("s", stackText(mesh, { "multicluster-mesh:caBundles": { east: { caKeyPem: { secure: "v1:x:y" } } } })),
        );
        expect(sf.warnings).toEqual([]);
    });
});

describe("item 5: messages that name the path and the fix", () => {
    it("a folder or an unreadable path is never 'does not exist', and EISDIR/ENOTDIR never show raw", async () => {
        const dir = stackDir("x", "");
        fs.rmSync(path.join(dir, "Pulumi.d.yaml"), { force: true });
        fs.mkdirSync(path.join(dir, "Pulumi.d.yaml"));
        const r = await plan("d", path.join(tmp, "o-d"), async () => ({}), { stackDir: dir, reportErrors: false });
        expect(r.errors).toEqual([expect.stringMatching(/Pulumi\.d\.yaml: is a folder, not a file$/)]);
        const mesh = existingMesh();
        const folder = path.join(tmp, "kube-folder");
        fs.mkdirSync(folder, { recursive: true });
        const through = path.join(ROOT, "package.json", "kubeconfig");
        mesh.clusters[0].kubeconfig = folder;
        mesh.clusters[1].kubeconfig = through;
        const v = validateMeshConfig(mesh);
        const problems = v.ok ? [] : v.problems;
        expect(problems).toContainEqual(
            `mesh.clusters[0].kubeconfig: ${folder} is a folder, not a file; give a kubeconfig file's path, or its content inline`,
        );
        expect(problems).toContainEqual(
            `mesh.clusters[1].kubeconfig: ${through} cannot exist: a part of its path is a file, not a folder; give a kubeconfig file's path, or its content inline`,
        );
        expect(problems.join("\n")).not.toMatch(/does not exist|EISDIR|ENOTDIR/);
    });

    it("multi-document YAML and deep nesting get a message of their own", () => {
        expect(() => parseYaml("config: {}\n---\nconfig: {}\n", "Pulumi.x.yaml")).toThrow(
            /^Pulumi\.x\.yaml:2:1: YAML syntax error: the file holds 2 YAML documents .*Pulumi would read only the first/,
        );
        expect(() => parseYaml(`config:\n  a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`, "Pulumi.x.yaml")).toThrow(
            /^Pulumi\.x\.yaml(:\d+:\d+)?: nested too deeply to read/,
        );
    });

    it('interval: 10 suggests "10s"; a root of 2 days is one line at mesh.trust.rootValidityDays', async () => {
        const mesh = existingMesh();
        const v = validateMeshConfig({ ...mesh, traffic: { outlierDetection: { interval: 10 } } });
        expect(v.ok ? [] : v.problems).toEqual([
            'mesh.traffic.outlierDetection.interval: expected a string, got the number 10; a duration needs a unit and quotes: write "10s" (or "10ms", "10m")',
        ]);
        const r = await planText(stackText({ ...mesh, trust: { ...mesh.trust, rootValidityDays: 2, intermediateValidityDays: 1 } }));
        // One line each, at their paths (the bounds are components/meshChecks.ts's TRUST_BOUNDS).
        expect(r.errors).toEqual([
            expect.stringMatching(/^mesh\.trust\.rootValidityDays: 2 days is too short for a root: .*give it at least 365 days/),
            expect.stringMatching(/^mesh\.trust\.intermediateValidityDays: 1 days is too short: .*at least 30 days/),
        ]);
        // An error thrown deep inside an Output reads as its own reason, without the SDK's wrapping.
        const wrapped = new Error(
            'error serializing property "stringData": error serializing property "outputs": the root expires\nThe Pulumi runtime detected that 514 promises were still active\nat the time',
        );
        expect(problemLines(wrapped)).toEqual(["the root expires"]);
    });

    it("says 'an existing cluster', not 'a existing cluster'", () => {
        const mesh = existingMesh();
        const v = validateMeshConfig({
            ...mesh,
            traffic: { policies: [{ host: "a.b.svc.cluster.local", mode: "failover", failover: [{ from: "r1", to: "r2" }] }] },
        });
        const text = (v.ok ? [] : v.problems).join("\n");
        expect(text).toMatch(/an existing cluster takes its region from config/);
        expect(text).not.toMatch(/a existing/);
    });

    it("a missing chart file names the file; render --stack nope says its error once", async () => {
        const charts = path.join(tmp, "charts");
        for (const c of ["base", "istiod", "gateway"]) {
            fs.mkdirSync(path.join(charts, c, "templates"), { recursive: true });
            fs.writeFileSync(path.join(charts, c, "Chart.yaml"), `apiVersion: v2\nname: ${c}\nversion: 1.30.3\n`);
            if (c !== "istiod") fs.writeFileSync(path.join(charts, c, "values.yaml"), "{}\n");
        }
        expect(chartFilesProblems(charts)).toEqual([
            expect.stringMatching(new RegExp(`^chart istiod: ${charts}/istiod/values.yaml is missing`)),
        ]);
        fs.writeFileSync(path.join(charts, "istiod", "values.yaml"), "{}\n");
        const said = vi.spyOn(console, "error").mockImplementation(() => {});
        try {
            const r = await render("nope", { outDir: path.join(tmp, "render-out"), chartsDir: charts });
            expect(r.errors.filter((e) => e.includes("no stack file"))).toHaveLength(1);
            expect(said.mock.calls.flat().join("\n")).not.toMatch(/no stack file/);
        } finally {
            said.mockRestore();
        }
    }, 120_000);

    it("screenshots of a stack that does not plan list every problem", async () => {
        const mesh = existingMesh();
        const dir = stackDir("bad", stackText({ ...mesh, meshId: "Mesh_1", topology: "multi-primry" }));
        vi.resetModules();
        const err = await svgOf("bad", dir, () => import("../index.js")).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StackProblems);
        expect((err as StackProblems).problems).toEqual([
            expect.stringMatching(/^mesh\.topology: /),
            expect.stringMatching(/^mesh\.meshId: "Mesh_1" is not a DNS-1123 label/),
        ]);
    });

    it("printed kubectl commands use each cluster's real context", async () => {
        expect(kubectlContexts(readStackFile("existing", ROOT).config["multicluster-mesh:mesh"])).toEqual({
            east: "kind-east",
            west: "kind-west",
        });
        expect(kubectlContexts(readStackFile("dev", ROOT).config["multicluster-mesh:mesh"])).toEqual({
            east: "kind-east",
            west: "kind-west",
        });
        expect(kubectlContexts(readStackFile("gcp-aws", ROOT).config["multicluster-mesh:mesh"])).toEqual({
            "gke-central": "gke_acme-mesh-prod_us-central1_gke-central",
            "eks-east": "arn:aws:eks:us-east-1:<account-id>:cluster/eks-east",
        });
        const checks = phaseChecks("add-root", ["east", "eks-east"], {
            east: "kind-east",
            "eks-east": "arn:aws:eks:us-east-1:<account-id>:cluster/eks-east",
        });
        expect(checks.join("\n")).toContain("kubectl --context kind-east -n istio-system get secret cacerts");
        expect(checks.join("\n")).toContain("kubectl --context 'arn:aws:eks:us-east-1:<account-id>:cluster/eks-east' -n istio-system");
        expect(checks.join("\n")).not.toMatch(/--context east /);
        // The plan's own warning for an intermediate re-issue.
        const mesh = existingMesh();
        const out = path.join(tmp, "ctx-out");
        const dir = stackDir("existing", stackText(mesh));
        const first = await planStack("existing", out, { stackDir: dir, sim: { cannedTls: true } });
        fs.copyFileSync(path.join(out, "existing", "plan.json"), path.join(tmp, "ctx-old.json"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.existing.yaml"),
            stackText({ ...mesh, trust: { ...mesh.trust, intermediateGeneration: 2 } }),
        );
        const again = await planStack("existing", out, {
            stackDir: dir,
            sim: { cannedTls: true },
            against: path.join(tmp, "ctx-old.json"),
        });
        expect(first.errors).toEqual([]);
        expect(again.stdout).toContain("kubectl --context kind-east -n istio-system rollout restart deployment/istiod");
    });

    it("the config reference (docs/config.md), copied as-is into a stack file, plans", async () => {
        const readme = fs.readFileSync(path.join(ROOT, "docs", "config.md"), "utf8");
        const at = readme.indexOf("## Config reference");
        const start = readme.indexOf("```yaml\n", at) + "```yaml\n".length;
        const block = readme.slice(start, readme.indexOf("\n```", start));
        expect(block).toMatch(/^config:\n {2}multicluster-mesh:mesh:/);
        // ~/.kube/config of whoever runs the tests must not decide: a home without one.
        const home = path.join(tmp, "home");
        fs.mkdirSync(home, { recursive: true });
        vi.stubEnv("HOME", home);
        try {
            const r = await planText(`${block}\n`, "reference");
            expect(r.errors).toEqual([]);
            expect(r.planFile!.clusters.map((c) => c.facts.platform).sort()).toEqual(["eks", "existing", "gke", "kind"]);
        } finally {
            vi.unstubAllEnvs();
        }
    });
});

describe("item 6: big input", () => {
    it("a 5 MB stack file is refused before it is parsed, after the first progress line", async () => {
        const dir = stackDir(
            "big",
            `config:\n  multicluster-mesh:mesh:\n    meshId: m\n    description: "${"x".repeat(5 * 1024 * 1024)}"\n`,
        );
        const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
        const started = performance.now();
        const r = await run(
            tsx,
            [path.join(ROOT, "scripts", "plan.ts"), "--stack", "big", "--stack-dir", dir, "--out", path.join(tmp, "big-out")],
            {
                cwd: ROOT,
                encoding: "utf8",
            },
        ).catch((e: { code: number; stdout: string; stderr: string }) => e);
        expect((r as { code?: number }).code).toBe(1);
        const lines = r.stderr.trim().split("\n");
        expect(lines[0]).toBe("plan big: reading Pulumi.big.yaml, 5.0 MB");
        expect(lines.filter((l) => l.startsWith("error:"))).toEqual([
            expect.stringMatching(
                new RegExp(
                    `^error: stack big: \\S*Pulumi\\.big\\.yaml: is 5\\.0 MB; the plan reads stack and project files of at most ${MAX_YAML_BYTES / 1024 / 1024} MB`,
                ),
            ),
        ]);
        expect(performance.now() - started).toBeLessThan(60_000);
    }, 90_000);

    it("parsing is linear: a mapping of 80,000 keys (the yaml library's own check is quadratic: 40,000 took 28 s)", () => {
        const text = `config:\n${Array.from({ length: 80_000 }, (_, k) => `  k${k}: v`).join("\n")}\n`;
        const t = performance.now();
        const doc = parseYaml(text, "f") as { config: Record<string, string> };
        expect(Object.keys(doc.config)).toHaveLength(80_000);
        expect(performance.now() - t).toBeLessThan(30_000);
        // The duplicate check still works, in one pass.
        expect(() => parseYaml("config:\n  a: 1\n  b: 2\n  a: 3\n", "Pulumi.x.yaml")).toThrow(
            /^Pulumi\.x\.yaml:4:3: YAML syntax error: Map keys must be unique$/,
        );
    }, 60_000);

    it("200 clusters: multi-primary is refused early with the reason, primary-remote stays under the limit", async () => {
        const clusters = (n: number, remote: boolean) =>
            Array.from({ length: n }, (_, i) => ({
                name: `c${i}`,
                kubeconfig: `/nonexistent/c${i}`,
                apiServer: `https://10.${i >> 8}.${i & 255}.1:6443`,
                ...(remote && i > 0 ? { role: "remote" } : {}),
            }));
        const mp = { meshId: "big", topology: "multi-primary", clusters: clusters(200, false) };
        expect(estimatedResources(mp)!.resources).toBeGreaterThan(MAX_PLAN_RESOURCES);
        const t = performance.now();
        const r = await planText(stackText(mp));
        expect(r.errors).toEqual([
            expect.stringMatching(
                /^multicluster-mesh:mesh\.clusters: 200 clusters make about 82,604 resources \(39,800 remote secrets and 39,800 reader tokens\); the offline plan takes at most 10,000/,
            ),
        ]);
        expect(performance.now() - t).toBeLessThan(20_000);
        const pr = { meshId: "big", topology: "primary-remote", clusters: clusters(200, true) };
        expect(estimatedResources(pr)!.resources).toBeLessThan(MAX_PLAN_RESOURCES);
        // The 50-cluster multi-primary mesh the benchmark measures is within the limit.
        expect(
            estimatedResources({ topology: "multi-primary", clusters: clusters(50, false), remoteSecrets: { tokens: "perSource" } })!
                .resources,
        ).toBe(3254);
    });

    it("--out that is not a folder on storage is refused: /proc, a file, a device, below a file", () => {
        expect(outDirProblem("/proc/x")).toMatch(/^is on \/proc, a proc file system/);
        expect(outDirProblem(path.join(ROOT, "package.json"))).toMatch(/^is not a folder \(it is a file\)/);
        expect(outDirProblem("/dev/null")).toMatch(/^is not a folder \(it is a device\)/);
        expect(outDirProblem(path.join(ROOT, "package.json", "x"))).toMatch(/^cannot be made: .*package\.json is not a folder/);
        expect(outDirProblem(path.join(tmp, "new", "folder"))).toBeUndefined();
    });
});
