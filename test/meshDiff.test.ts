// The mesh-level diff: each kind of change, made by hand on a real plan, is reported in plain words;
// changes of the root of trust or an intermediate come with the loud warning; nothing is reported
// for what differs only between runs (random keys, simulated addresses). Then the CLI: exit codes
// 0 (no change), 2 (changes), 1 (errors), and a config change planned end to end.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffPlans, formatDiff, leaves } from "../offline/meshDiff";
import { buildPlanFile, parsePlanFile, PlanCluster, PlanFile, stableStringify } from "../offline/planFile";
import { ISTIO_HUB, ISTIO_OCI_REPOSITORY, ISTIO_REPOSITORY, minorOf, newestWithoutDefects, SUPPORTED_ISTIO } from "../components/istio";
import { runMesh } from "./support/harness";
import { planStack, ROOT, tempDir } from "./support/planRun";

const run = promisify(execFile);
const out = tempDir();
let multinet: PlanFile; // primary-remote on two networks: a fixed gateway address, a remote
let multiPrimary: PlanFile; // two primaries on two networks

beforeAll(async () => {
    for (const stack of ["primary-remote-multinet", "existing", "primary-remote"]) {
        const r = await planStack(stack, out, { sim: { cannedTls: true } });
        expect(r.errors).toEqual([]);
    }
    multinet = parsePlanFile(fs.readFileSync(path.join(out, "primary-remote-multinet", "plan.json"), "utf8"), "multinet");
    multiPrimary = parsePlanFile(fs.readFileSync(path.join(out, "existing", "plan.json"), "utf8"), "existing");
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

/** A deep copy to edit by hand. */
function edit(p: PlanFile, f: (q: PlanFile) => void): PlanFile {
    const q = structuredClone(p);
    f(q);
    return q;
}
const cluster = (p: PlanFile, name: string): PlanCluster => p.clusters.find((c) => c.name === name)!;

function expectOnly(d: ReturnType<typeof diffPlans>, lines: (string | RegExp)[], warnings: (string | RegExp)[] = []) {
    expect(d.changed).toBe(true);
    expect(d.lines, d.lines.join("\n")).toHaveLength(lines.length);
    lines.forEach((l, i) => (typeof l === "string" ? expect(d.lines[i]).toBe(l) : expect(d.lines[i]).toMatch(l)));
    expect(d.warnings, d.warnings.join("\n")).toHaveLength(warnings.length);
    warnings.forEach((w, i) => (typeof w === "string" ? expect(d.warnings[i]).toContain(w) : expect(d.warnings[i]).toMatch(w)));
}

describe("diffPlans", () => {
    it("reports nothing for the same plan, and says so", () => {
        const d = diffPlans(multinet, structuredClone(multinet));
        expect(d).toEqual({ changed: false, lines: [], warnings: [] });
        expect(formatDiff(d, "old.json")).toBe("mesh-level diff against old.json: no change\n");
    });

    it("a cluster joins: the cluster, its new trust edges and who reads it", () => {
        const after = edit(multiPrimary, (p) => {
            const c3 = structuredClone(cluster(p, "east"));
            c3.name = "north";
            c3.network = "net-north";
            p.clusters.push(c3);
            p.remoteSecrets.push(
                { source: "north", target: "east", secretName: "istio-remote-secret-north", server: "https://10.3.0.1:6443" },
                { source: "east", target: "north", secretName: "istio-remote-secret-east", server: "https://10.0.0.1:6443" },
            );
        });
        expectOnly(diffPlans(multiPrimary, after), [
            /^\+ cluster north joins the mesh: primary on network net-north, runs istiod with a new intermediate CA, east-west gateway address assigned at deploy$/,
            "+ trust edge: east starts reading north's API server (istio-remote-secret-north in east)",
            "+ trust edge: north starts reading east's API server (istio-remote-secret-east in north)",
        ]);
    });

    it("a cluster leaves: the cluster and the trust edges it had", () => {
        const after = edit(multiPrimary, (p) => {
            p.clusters = p.clusters.filter((c) => c.name !== "west");
            p.remoteSecrets = p.remoteSecrets.filter((s) => s.source !== "west" && s.target !== "west");
            delete p.trust.intermediates.west;
        });
        const d = diffPlans(multiPrimary, after);
        expectOnly(d, [
            /^- cluster west leaves the mesh \(was primary on network net-west\)/,
            /^- trust edge: east stops reading west/,
            /^- trust edge: west stops reading east \(istio-remote-secret-east deleted from west; east's endpoints disappear from west's istiod\)$/,
        ]);
    });

    it("trust edges gained and lost, and a trust edge whose API server moves", () => {
        const after = edit(multinet, (p) => {
            p.remoteSecrets[0].server = "https://10.1.0.99:6443";
        });
        expectOnly(diffPlans(multinet, after), ["~ trust edge: west reads east at https://10.1.0.10:6443 → https://10.1.0.99:6443"]);
        const lost = edit(multinet, (p) => {
            p.remoteSecrets = [];
        });
        expectOnly(diffPlans(multinet, lost), [/^- trust edge: west stops reading east/]);
        expectOnly(diffPlans(lost, multinet), ["+ trust edge: west starts reading east's API server (istio-remote-secret-east in west)"]);
    });

    it("a fixed gateway address that moves, and one that becomes fixed", () => {
        const moved = edit(multinet, (p) => {
            cluster(p, "west").gateway!.address = "10.0.0.101";
        });
        expectOnly(diffPlans(multinet, moved), [
            /^west: east-west gateway address moves: fixed address 10\.0\.0\.100 → fixed address 10\.0\.0\.101;/,
        ]);
        const fixed = edit(multinet, (p) => {
            Object.assign(cluster(p, "east").gateway!, { address: "10.1.0.100", fixed: true });
        });
        expectOnly(diffPlans(multinet, fixed), [
            /^east: east-west gateway address moves: address assigned at deploy → fixed address 10\.1\.0\.100;/,
        ]);
    });

    it("gateways added and removed, the network they serve, and their Service annotations", () => {
        const noGw = edit(multinet, (p) => {
            cluster(p, "east").gateway = null;
        });
        expectOnly(diffPlans(multinet, noGw), [/^east: loses its east-west gateway \(was address assigned at deploy\)/]);
        expectOnly(diffPlans(noGw, multinet), ["east: gets an east-west gateway (address assigned at deploy, network net-east)"]);
        const ann = edit(multinet, (p) => {
            const g = cluster(p, "west").gateway!;
            g.network = "net-x";
            g.serviceAnnotations = {};
        });
        expectOnly(diffPlans(multinet, ann), [
            "west: east-west gateway serves network net-west → net-x",
            /^west: east-west gateway Service annotation removes networking\.gke\.io\/load-balancer-type/,
        ]);
    });

    it("a cluster changes network, role, primary, facts, and namespace labels", () => {
        const after = edit(multiPrimary, (p) => {
            const e = cluster(p, "east");
            e.network = "net-moved";
            e.namespace.labels["topology.istio.io/network"] = "net-moved";
            e.facts.region = "eu-west1";
        });
        expectOnly(diffPlans(multiPrimary, after), [
            "east: network net-east → net-moved (pods pick up the new network when they restart)",
            "east: region (none) → eu-west1",
            "east: istio-system label topology.istio.io/network net-east → net-moved",
        ]);
        const demoted = edit(multinet, (p) => {
            cluster(p, "east").primary = "south";
        });
        expectOnly(diffPlans(multinet, demoted), ["east: controlled by west → south (istiod of south leads it from now on)"]);
        const role = edit(multiPrimary, (p) => {
            Object.assign(cluster(p, "west"), { role: "remote", primary: "east", runsIstiod: false });
        });
        expectOnly(diffPlans(multiPrimary, role), ["west: role primary → remote of east (stops running istiod)"]);
    });

    it("chart version changes per cluster, and value changes by path", () => {
        // The stack's pin (NEW) and the newest release of the other supported minor (OLD).
        const NEW = multinet.istioVersions[0]!;
        const OLD = newestWithoutDefects(SUPPORTED_ISTIO.minors.find((m) => m !== minorOf(NEW))!)!;
        const esc = (v: string) => v.replace(/\./g, "\\.");
        const before = edit(multinet, (p) => {
            for (const c of p.clusters) c.charts.istiod.version = OLD;
        });
        const after = edit(multinet, (p) => {
            (cluster(p, "west").charts.istiod.values as any).global.network = "net-y";
            (cluster(p, "west").charts.istiod.values as any).pilot = { autoscaleMin: 2 };
        });
        expectOnly(
            diffPlans(before, after),
            [
                `east: istiod chart version ${OLD} → ${NEW}`,
                `west: istiod chart version ${OLD} → ${NEW}`,
                "west: istiod values: global.network net-west → net-y",
                "west: istiod values: sets pilot.autoscaleMin = 2",
            ],
            [
                new RegExp(
                    `^ISTIO MINOR VERSION CHANGES \\(${esc(OLD)}, ${esc(NEW)} → ${esc(NEW)}\\): this deploy upgrades every control plane in place`,
                ),
            ],
        );
        // A patch within the supported minor stays one in-place step, with the warning of what restarts (issue 20 item 3).
        const bumped = `${minorOf(NEW)}.99`;
        const patch = edit(multinet, (p) => {
            for (const c of p.clusters) for (const ch of Object.values(c.charts)) if (ch.version === NEW) ch.version = bumped;
        });
        expect(diffPlans(multinet, patch).warnings).toEqual([
            `ISTIO PATCH UPGRADE IN PLACE (${NEW} → ${bumped}): the base, istiod and east-west gateway releases of all 2 clusters ` +
                `(east, west) move to the new patch in this deploy: istiod restarts in west; the east-west gateways roll in ` +
                `east, west (their pods are injected again, with the new proxy); every sidecar keeps its old proxy until its pod ` +
                `restarts: afterwards restart workloads namespace by namespace (kubectl rollout restart deployment -n <ns>) and ` +
                `watch istioctl proxy-status.`,
        ]);
        expect(diffPlans(multinet, patch).refusals).toBeUndefined();
        const minor = edit(multinet, (p) => {
            for (const c of p.clusters) for (const ch of Object.values(c.charts)) if (ch.version === NEW) ch.version = OLD;
        });
        expect(diffPlans(multinet, minor).warnings).toEqual([expect.stringContaining(`ISTIO MINOR VERSION CHANGES (${NEW} → ${OLD})`)]);
        expect(diffPlans(multinet, minor).warnings[0]).toContain("all 2 clusters (east, west)");
        const dropped = edit(multinet, (p) => {
            delete cluster(p, "east").charts["istio-eastwestgateway"];
        });
        expectOnly(diffPlans(multinet, dropped), [
            new RegExp(`^east: uninstalls Helm release istio-eastwestgateway \\(chart gateway ${esc(NEW)}\\)$`),
        ]);
    });

    it("a new chart source: every Istio release upgraded in place, nothing rolls for the same version", () => {
        const after = edit(multinet, (p) => {
            for (const c of p.clusters) for (const ch of Object.values(c.charts)) ch.repository = ISTIO_OCI_REPOSITORY;
        });
        const d = diffPlans(multinet, after);
        expect(d.warnings).toEqual([]);
        const source = d.lines.filter((l) => l.startsWith("istio source:"));
        expect(source).toEqual([
            `istio source: charts from ${ISTIO_REPOSITORY} → ${ISTIO_OCI_REPOSITORY}: every Istio release (6: east/istio-base, ` +
                `east/istio-eastwestgateway, east/istiod, west/istio-base, west/istio-eastwestgateway, west/istiod) is upgraded in place (helm upgrade; ` +
                `a release is replaced only when its name or namespace changes); the same version ${multinet.istioVersions[0]} from the ` +
                `new source renders the same objects, so no pod rolls unless the new source serves different charts under that version`,
        ]);
        // The per-release lines stay, one per release.
        expect(d.lines.filter((l) => / chart repository /.test(l))).toHaveLength(6);
    });

    it("a new image hub restarts istiod; gateways and sidecars keep their image until they restart; new pull secrets roll the gateways", () => {
        const mirror = "registry.example.com/istio";
        const after = edit(multinet, (p) => {
            for (const c of p.clusters) {
                const v = c.charts.istiod.values as any;
                v.hub = mirror;
                v.global.hub = mirror;
                v.global.imagePullSecrets = ["pull"];
                const gw = c.charts["istio-eastwestgateway"];
                if (gw) (gw.values as any).imagePullSecrets = [{ name: "pull" }];
            }
        });
        const source = diffPlans(multinet, after).lines.filter((l) => l.startsWith("istio source:"));
        expect(source).toHaveLength(2);
        expect(source[0]).toMatch(
            new RegExp(
                `^istio source: images from ${ISTIO_HUB} → ${mirror}: istiod restarts in west \\(its image moves to ${mirror}/pilot\\)`,
            ),
        );
        expect(source[0]).toContain("the running east-west gateways (east, west) and sidecars keep the image they were injected with");
        expect(source[1]).toMatch(
            /^istio source: image pull secrets \(chart defaults\) → pull: the east-west gateway pods roll in east, west/,
        );
    });

    it("Istio objects added and removed", () => {
        const after = edit(multinet, (p) => {
            cluster(p, "west").istioObjects = cluster(p, "west").istioObjects.filter((o) => o !== "Gateway/cross-network-gateway");
        });
        expectOnly(diffPlans(multinet, after), ["west: removes Istio Gateway/cross-network-gateway"]);
    });

    it("warns loudly when the root of trust changes: what restarts and what breaks", () => {
        const after = edit(multinet, (p) => {
            Object.assign(p.trust.root, { keyAlgorithm: "ECDSA", rsaBits: null, ecdsaCurve: "P384" });
        });
        const d = diffPlans(multinet, after);
        expectOnly(
            d,
            [],
            [/^ROOT OF TRUST CHANGES \(key RSA 4096 → ECDSA P384\)\. .*Every istiod restarts.*every workload.*must restart.*FAILS/],
        );
        expect(formatDiff(d, "old.json")).toMatch(/^!! WARNING: ROOT OF TRUST CHANGES/m);
        for (const change of [
            (p: PlanFile) => (p.trust.root.organization = "Acme"),
            (p: PlanFile) => (p.trust.root.validityDays = 1000),
            (p: PlanFile) => (p.trust.mode = "provided"),
        ]) {
            expect(diffPlans(multinet, edit(multinet, change)).warnings[0]).toMatch(/^ROOT OF TRUST CHANGES/);
        }
    });

    it("warns when a provided root is replaced, never for generated fingerprints", () => {
        const provided = edit(multinet, (p) => {
            p.trust.mode = "provided";
            p.trust.root = {
                keyAlgorithm: null,
                rsaBits: null,
                ecdsaCurve: null,
                validityDays: null,
                organization: "O=Istio, CN=Root CA",
                protect: null,
                sha256: "a".repeat(64),
            };
            p.trust.intermediates.west = {
                keyAlgorithm: null,
                rsaBits: null,
                ecdsaCurve: null,
                validityDays: null,
                organization: "x",
                generation: null,
                sha256: "b".repeat(64),
            };
        });
        const replaced = edit(provided, (p) => {
            p.trust.root.sha256 = "c".repeat(64);
            p.trust.intermediates.west.sha256 = "d".repeat(64);
        });
        expectOnly(
            diffPlans(provided, replaced),
            [],
            [
                /^ROOT OF TRUST CHANGES \(root certificate sha256 aaaaaaaaaaaaaaaa… → cccccccccccccccc…\)/,
                /^INTERMEDIATE CA OF west CHANGES \(certificate sha256/,
            ],
        );
        expect(diffPlans(multinet, structuredClone(multinet)).changed).toBe(false);
    });

    it("warns when an intermediate is re-issued, saying it keeps working under the same root", () => {
        const after = edit(multiPrimary, (p) => {
            p.trust.intermediates.east.generation = 2;
        });
        expectOnly(
            diffPlans(multiPrimary, after),
            [],
            [
                /^INTERMEDIATE CA OF east CHANGES \(generation 1 → 2\)\. east's cacerts Secret is rewritten and istiod in east loads the new intermediate.*Under the same root traffic keeps flowing/,
            ],
        );
        const validity = edit(multiPrimary, (p) => {
            for (const i of Object.values(p.trust.intermediates)) i.validityDays = 365;
        });
        expect(diffPlans(multiPrimary, validity).warnings.map((w) => w.slice(0, 40))).toEqual([
            "INTERMEDIATE CA OF east CHANGES (validit",
            "INTERMEDIATE CA OF west CHANGES (validit",
        ]);
    });

    it("root protection and mesh ID", () => {
        const unprotected = edit(multinet, (p) => {
            p.trust.root.protect = false;
        });
        expectOnly(diffPlans(multinet, unprotected), [/^trust: the root key and certificate are no longer protected/]);
        const renamed = edit(multinet, (p) => {
            p.meshId = "mesh2";
            p.topology = "multi-primary";
        });
        expectOnly(
            diffPlans(multinet, renamed),
            ["mesh: install model primary-remote → multi-primary"],
            [/^MESH ID CHANGES \(mesh1 → mesh2\)/],
        );
    });

    it("flattens values by leaf path, arrays whole", () => {
        expect(leaves({ a: { b: 1, c: [1, 2] }, d: {} })).toEqual({ "a.b": 1, "a.c": [1, 2], d: {} });
    });
});

describe("a config change planned end to end", () => {
    it("bumping intermediateGeneration and fixing the primary's gateway address", async () => {
        const mesh = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.primary-remote.yaml"), "utf8")).config["multicluster-mesh:mesh"];
        const planOf = async (m: unknown) => {
            const r = await runMesh(m, { sim: { cannedTls: true } });
            expect(r.error).toBeUndefined();
            return buildPlanFile({ stack: "primary-remote", outputs: r.outputs, registrations: r.sim.registrations });
        };
        const before = await planOf(mesh);
        const changed = structuredClone(mesh);
        changed.trust.intermediateGeneration = 2;
        const primary = changed.clusters.find((c: { role: string }) => c.role === "primary");
        primary.eastWestGateway = { loadBalancerIP: "10.0.0.50" };
        const after = await planOf(changed);
        const d = diffPlans(before, after);
        const remote = changed.clusters.find((c: { role: string }) => c.role === "remote").name;
        expect(d.lines).toEqual([
            `${primary.name}: east-west gateway address moves: address assigned at deploy → fixed ` +
                `address 10.0.0.50; whatever reaches it by address (remotes' istiod address, peers' ` +
                `endpoints) follows`,
            `${remote}: istiod values: global.remotePilotAddress <${primary.name} east-west gateway ` +
                `address, assigned at deploy> → 10.0.0.50`,
            // The requested IP is on the program's own LoadBalancer Service now, not in the chart's values;
            // the address line above says it, and changes.json lists the Service's update.
        ]);
        expect(d.warnings).toHaveLength(1);
        expect(d.warnings[0]).toMatch(new RegExp(`^INTERMEDIATE CA OF ${primary.name} CHANGES \\(generation 1 → 2\\)`));
        // And two plans of the same config, with fresh random keys, do not differ.
        expect(diffPlans(before, await planOf(mesh)).changed).toBe(false);
    });
});

describe("npm run plan -- --against (CLI)", () => {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const cli = (args: string[]) =>
        run(tsx, [path.join(ROOT, "scripts", "plan.ts"), ...args], { cwd: ROOT, encoding: "utf8" }).then(
            (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
            (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
        );
    // primary-remote: ECDSA keys, quick to generate in a child process.
    const base = () => path.join(out, "primary-remote", "plan.json");

    it("exits 0 when nothing changed and 2 when the mesh changes, printing the diff and writing diff.txt", async () => {
        const cliOut = tempDir();
        try {
            const old = path.join(cliOut, "old.json");
            fs.copyFileSync(base(), old);
            const same = await cli(["--stack", "primary-remote", "--out", cliOut, "--against", old]);
            // stderr carries only the progress lines (one per phase, with its time), no warning or error.
            expect(
                same.stderr
                    .trim()
                    .split("\n")
                    .filter(
                        (l) =>
                            !/^plan primary-remote: [a-z ]+ \d+\.\d+ s$/.test(l) &&
                            !/^plan primary-remote: reading Pulumi\.primary-remote\.yaml, [\d.]+ (B|KB)$/.test(l),
                    ),
            ).toEqual([]);
            expect(same.code).toBe(0);
            expect(same.stdout).toContain("no change");
            expect(same.stdout).toMatch(/plan\.json/);
            expect(same.stdout).toMatch(/mesh\.svg/);

            let pinned = "";
            const hand = edit(parsePlanFile(fs.readFileSync(old, "utf8"), "old"), (p) => {
                Object.assign(cluster(p, "west").gateway!, { address: "10.0.0.7", fixed: true });
                cluster(p, "east").charts.istiod.version = "1.29.0";
                pinned = p.istioVersions[0]!;
            });
            fs.writeFileSync(old, stableStringify(hand));
            const changed = await cli(["--stack", "primary-remote", "--out", cliOut, "--against", old]);
            expect(changed.code).toBe(2);
            expect(changed.stdout).toContain("west: east-west gateway address moves: fixed address 10.0.0.7 → address assigned at deploy");
            expect(changed.stdout).toContain(`east: istiod chart version 1.29.0 → ${pinned}`);
            const diffTxt = fs.readFileSync(path.join(cliOut, "primary-remote", "diff.txt"), "utf8");
            // Two lines and the minor-version warning (1.29 → the pin's minor upgrades every control plane in place).
            expect(diffTxt).toContain("3 changes");
            expect(diffTxt).toMatch(/!! WARNING: ISTIO MINOR VERSION CHANGES/);
            expect(fs.readFileSync(path.join(cliOut, "primary-remote", "summary.md"), "utf8")).toContain("### Mesh-level diff");
        } finally {
            fs.rmSync(cliOut, { recursive: true, force: true });
        }
    });

    it("exits 1 with one line per problem: a missing --against file, an unknown stack", async () => {
        const missing = await cli(["--stack", "primary-remote-multinet", "--out", out, "--against", "/nonexistent/plan.json"]);
        expect(missing.code).toBe(1);
        const problems = (stderr: string) =>
            stderr
                .trim()
                .split("\n")
                .filter((l) => l.startsWith("error:"));
        expect(problems(missing.stderr)).toEqual(["error: stack primary-remote-multinet: --against /nonexistent/plan.json: no such file"]);
        const unknown = await cli(["--stack", "nope", "--out", out]);
        expect(unknown.code).toBe(1);
        expect(problems(unknown.stderr)).toHaveLength(1);
        expect(problems(unknown.stderr)[0]).toMatch(/^error: stack nope: no stack file Pulumi\.nope\.yaml; shipped stacks: /);
    });
});
