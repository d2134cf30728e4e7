// Config messages a new user reads (issue 12, items 1, 2 and 8): a wrong type names what was expected
// and what was found, an unknown platform is one line with the allowed values, a misspelt key gets
// "did you mean", a YAML syntax error is one line with file, line and column, an Istio version
// outside the supported range is refused with the range, and per-cluster Istio values (and
// `pilot.env`) reach the istiod release they are meant for. Pure (the unit tier); the two that run the
// offline plan and the program are in test/configMessagesRun.test.ts.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateMeshConfig } from "../config";
import { editDistance, nearest } from "../components/configMessages";
import { compareVersions, ISTIO_VERSION, SUPPORTED_ISTIO, unsupportedIstio } from "../components/istio";
import { planMesh, remoteValues } from "../components/meshPlan";
import { parseYaml, readYamlFile, YamlSyntaxError } from "../offline/yamlFile";

type Raw = Record<string, any>;

/** Two existing clusters whose kubeconfig is not on this machine (apiServer given): valid as it is. */
function base(topology = "multi-primary"): Raw {
    return {
        meshId: "mesh1",
        topology,
        clusters: [
            { name: "east", network: "n1", kubeconfig: "/absent", apiServer: "https://10.0.0.1:6443" },
            {
                name: "west",
                network: "n2",
                kubeconfig: "/absent",
                apiServer: "https://10.0.0.2:6443",
                ...(topology === "primary-remote" ? { role: "remote" } : {}),
            },
        ],
    };
}

function problems(raw: Raw): string[] {
    const r = validateMeshConfig(raw, { readFile: () => undefined });
    return r.ok ? [] : r.problems;
}

describe("wrong types name what was expected and what was found", () => {
    // The cases of issue 12 (each printed "is required" before), exactly as a user would see them.
    const cases: [string, (r: Raw) => void, string][] = [
        [
            "istio: {version: 1.30}",
            (r) => (r.istio = { version: 1.3 }),
            "mesh.istio.version: expected a string, got the number 1.3; " +
                "unquoted, YAML reads it as a number (1.30 as 1.3): put it in quotes",
        ],
        ['rsaBits: "4096"', (r) => (r.trust = { rsaBits: "4096" }), 'mesh.trust.rsaBits: expected a number, got "4096"; remove the quotes'],
        [
            'protectRoot: "yes"',
            (r) => (r.trust = { protectRoot: "yes" }),
            'mesh.trust.protectRoot: expected true or false, got "yes"; YAML reads only true and false (unquoted) as booleans',
        ],
        [
            "meshId: 42",
            (r) => (r.meshId = 42),
            "mesh.meshId: expected a string, got the number 42; unquoted, YAML reads it as a number: put it in quotes",
        ],
        [
            "trust: generated",
            (r) => (r.trust = "generated"),
            'mesh.trust: expected a map of settings, got "generated" (did you mean trust: {mode: generated}?)',
        ],
        [
            "clusters given as a map",
            (r) => (r.clusters = { east: { network: "n1" }, west: { network: "n2" } }),
            'mesh.clusters: expected a list, got a map (keys: east, west); write each entry as a list item ("- name: east", ...)',
        ],
        ["words", (r) => (r.trust = { rootValidityDays: "ten years" }), 'mesh.trust.rootValidityDays: expected a number, got "ten years"'],
        ["a fraction", (r) => (r.trust = { rsaBits: 4096.5 }), "mesh.trust.rsaBits: expected a whole number, got the number 4096.5"],
        ["an empty value", (r) => (r.trust = { rsaBits: null }), "mesh.trust.rsaBits: expected a number, got an empty value (null)"],
        ["a list where a map goes", (r) => (r.istio = { values: ["a"] }), "mesh.istio.values: expected a map, got a list of 1 item"],
        [
            "an enum value in the wrong case",
            (r) => (r.topology = "Multi-Primary"),
            'mesh.topology: must be multi-primary or primary-remote, got "Multi-Primary" (did you mean "multi-primary"?)',
        ],
        [
            'gateway enabled: "false"',
            (r) => (r.clusters[0].eastWestGateway = { enabled: "false" }),
            'mesh.clusters[0].eastWestGateway.enabled: must be auto, true or false, got "false"; remove the quotes',
        ],
        [
            "gateway enabled: yes",
            (r) => (r.clusters[0].eastWestGateway = { enabled: "yes" }),
            'mesh.clusters[0].eastWestGateway.enabled: must be auto, true or false, got "yes"',
        ],
    ];
    for (const [title, mutate, expected] of cases) {
        it(title, () => {
            const raw = base();
            mutate(raw);
            const found = problems(raw);
            expect(found).toEqual([expected]);
        });
    }

    it("still says `is required` for a key that is really missing", () => {
        const raw = base();
        delete raw.meshId;
        delete raw.clusters[0].name;
        expect(problems(raw)).toEqual(expect.arrayContaining(["mesh.meshId: is required", "mesh.clusters[0].name: is required"]));
        delete raw.topology;
        expect(problems(raw)).toContain("mesh.topology: is required; it must be multi-primary or primary-remote");
    });
});

describe("an unknown platform is one line", () => {
    it("platform: GKE names the allowed values and the near one, without knock-on lines about any platform's fields", () => {
        const raw = base();
        // A half-filled gke block and a stray eks block: neither may add lines while the platform itself is wrong.
        const wrong = { platform: "GKE", gke: { project: "acme-mesh" }, eks: { vpcCidr: 1 } };
        Object.assign(raw.clusters[0], { kubeconfig: undefined, apiServer: undefined, ...wrong });
        expect(problems(raw)).toEqual(['mesh.clusters[0].platform: must be existing, gke, eks or kind, got "GKE" (did you mean "gke"?)']);
    });
    it("a platform far from every name lists them without a guess", () => {
        const raw = base();
        raw.clusters[1].platform = "openshift";
        expect(problems(raw)).toEqual(['mesh.clusters[1].platform: must be existing, gke, eks or kind, got "openshift"']);
    });
});

describe("unknown keys: did you mean", () => {
    it("suggests the allowed key within edit distance 2 at that path", () => {
        const raw = base();
        raw.clusters[0].kubeConfig = "/absent"; // case only
        raw.trust = { rsaBtis: 4096 }; // two letters swapped
        raw.istio = { verison: ISTIO_VERSION };
        expect(problems(raw)).toEqual([
            'mesh.istio: unknown key "verison" (did you mean "version"?)',
            'mesh.trust: unknown key "rsaBtis" (did you mean "rsaBits"?)',
            'mesh.clusters[0]: unknown key "kubeConfig" (did you mean "kubeconfig"?)',
        ]);
    });
    it("inside a platform block, and without the knock-on `is required` of the key it misspells", () => {
        const raw = base();
        const ranges = { subnetCidr: "10.1.0.0/20", podCidr: "10.104.0.0/14", serviceCidr: "10.1.16.0/20" };
        const gke = { projekt: "acme-mesh", location: "us-central1", ...ranges };
        raw.clusters[1] = { name: "g", network: "n2", platform: "gke", gke };
        expect(problems(raw)).toEqual(['mesh.clusters[1].gke: unknown key "projekt" (did you mean "project"?)']);
    });
    it("lists the allowed keys when nothing is near", () => {
        const raw = base();
        raw.clusters[0].eastWestGateway = { internal: true };
        expect(problems(raw)).toEqual([
            'mesh.clusters[0].eastWestGateway: unknown key "internal"; remove or correct it ' +
                "(allowed here: serviceAnnotations, loadBalancerIP, enabled); see docs/config.md",
        ]);
    });
    it("edit distance counts a swap as one and ignores case; nothing beyond 2 is suggested", () => {
        expect(editDistance("rsaBtis", "rsaBits")).toBe(1);
        expect(editDistance("KubeConfig", "kubeconfig")).toBe(0);
        expect(editDistance("zone", "region")).toBeGreaterThan(2);
        expect(nearest("netwrk", ["network", "name", "role"])).toEqual(["network"]);
        expect(nearest("primry", ["primary", "primaries"])).toEqual(["primary"]);
        expect(nearest("colour", ["role", "zone"])).toEqual([]);
    });
});

describe("YAML syntax errors: one line with file, line and column", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-"));
    const file = path.join(dir, "Pulumi.broken.yaml");
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    it("a bad indent", () => {
        fs.writeFileSync(file, "config:\n  multicluster-mesh:mesh:\n    meshId: m\n   topology: multi-primary\n");
        let err: unknown;
        try {
            readYamlFile(file);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(YamlSyntaxError);
        const e = err as YamlSyntaxError;
        expect(e.problems).toHaveLength(1);
        expect(e.message).not.toContain("\n");
        expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4:\\d+: YAML syntax error: \\S`));
        expect(e.line).toBe(4);
    });
    it("an unclosed quote and a duplicate key, each at its own position", () => {
        // yaml reports an unclosed quote where the input ends.
        const open = () => parseYaml("config:\n  a: 'open\n", "Pulumi.x.yaml");
        expect(open).toThrow(/^Pulumi\.x\.yaml:3:1: YAML syntax error: Missing closing 'quote/);
        const twice = () => parseYaml("config:\n  a: 1\n  a: 2\n", "Pulumi.x.yaml");
        expect(twice).toThrow(/^Pulumi\.x\.yaml:3:3: YAML syntax error: Map keys must be unique$/);
    });
    it("valid YAML parses as yaml's parse does", () => {
        const text = "config:\n  foo:a: [1, 2]\n  foo:b: { c: x }\n";
        expect(parseYaml(text, "f")).toEqual({ config: { "foo:a": [1, 2], "foo:b": { c: "x" } } });
    });
});

describe("supported Istio versions", () => {
    it("declares 1.30.x and 1.31.x, and compares versions by their numbers", () => {
        expect(SUPPORTED_ISTIO.minors).toEqual(["1.30", "1.31"]);
        expect(compareVersions("1.30.10", "1.30.9")).toBeGreaterThan(0);
        expect(compareVersions("1.30.0-rc.1", "1.30.0")).toBeLessThan(0);
    });
    // Every supported minor, by table.
    for (const minor of SUPPORTED_ISTIO.minors) {
        for (const v of [`${minor}.0`, `${minor}.5`, `${minor}.12`, `${minor}.4-rc.0`]) {
            it(`accepts ${v}`, () => {
                const raw = base();
                raw.istio = { version: v };
                expect(problems(raw)).toEqual([]);
                expect(unsupportedIstio(v)).toBeUndefined();
            });
        }
    }
    for (const v of ["1.22.0", "1.29.9", "1.32.0", "1.32.0-alpha.1", "2.0.0"]) {
        it(`refuses ${v}, naming the supported minors and a release to use`, () => {
            const raw = base();
            raw.istio = { version: v };
            expect(problems(raw)).toEqual([
                `mesh.istio.version: Istio ${v} is not supported: this program installs 1.30.x and 1.31.x (the values and objects it ` +
                    `writes were checked against those minors' charts, components/data/istio/); use a supported release such as ` +
                    `"${ISTIO_VERSION}" (docs/upgrades.md)`,
            ]);
        });
    }
});

describe("Istio values per cluster", () => {
    it("are merged after the mesh's into that primary's istiod values only, and pilot.env is accepted", () => {
        const raw = base();
        raw.istio = { values: { env: { A: "mesh", B: "mesh" }, pilot: { autoscaleMin: 2 } } };
        raw.clusters[0].istio = { values: { env: { B: "east" }, pilot: { env: { C: "east" } } } };
        const r = validateMeshConfig(raw, { readFile: () => undefined });
        expect(r.ok ? [] : r.problems).toEqual([]);
        if (!r.ok) return;
        const [east, west] = planMesh(r.config.mesh).clusters;
        expect(east.istiodValues).toMatchObject({
            env: { A: "mesh", B: "east" },
            pilot: { autoscaleMin: 2, env: { C: "east" } },
            global: { multiCluster: { clusterName: "east" } },
        });
        expect(west.istiodValues).toMatchObject({ env: { A: "mesh", B: "mesh" }, pilot: { autoscaleMin: 2 } });
        expect((west.istiodValues.pilot as Raw).env).toBeUndefined();
    });
    it("reach a remote's istiod release after the mesh's", () => {
        const raw = base("primary-remote");
        raw.istio = { values: { env: { A: "mesh" } } };
        raw.clusters[1].istio = { values: { env: { A: "west" }, global: { logging: { level: "default:debug" } } } };
        const r = validateMeshConfig(raw, { readFile: () => undefined });
        if (!r.ok) throw new Error(r.problems.join("\n"));
        const meshPlan = planMesh(r.config.mesh);
        const remote = meshPlan.clusters[1];
        const { istiod } = remoteValues(meshPlan, remote, "10.9.0.1", "-----BEGIN CERTIFICATE-----\n");
        expect(istiod).toMatchObject({
            profile: "remote",
            env: { A: "west" },
            global: { remotePilotAddress: "10.9.0.1", logging: { level: "default:debug" } },
        });
        // The remote's values stay the remote's.
        expect(meshPlan.clusters[0].istiodValues.env).toEqual({ A: "mesh" });
    });
    it("follow the mesh-level rules: owned keys refused at their path, also under pilot", () => {
        const raw = base();
        raw.clusters[1].istio = { values: { profile: "demo", pilot: { global: { meshID: "x" } } }, version: ISTIO_VERSION };
        expect(problems(raw)).toEqual([
            'mesh.clusters[1].istio: unknown key "version"; remove or correct it (allowed here: values); see docs/config.md',
            "mesh.clusters[1].istio.values.pilot.global.meshID: is managed by this program per cluster; " +
                "remove it (set mesh.meshId instead)",
            "mesh.clusters[1].istio.values.profile: is managed by this program per cluster; remove it (the role decides the profile)",
        ]);
    });
});
