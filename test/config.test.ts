// Pure tests of config validation: every rule, with the config path it names, and several at once.
import { describe, expect, it } from "vitest";
import { validateMeshConfig, ValidationEnv } from "../config";
import { gkeEntry } from "./support/entries";
import { ISTIO_HUB, ISTIO_REPOSITORY, ISTIO_VERSION } from "../components/istio";

type Raw = Record<string, any>;

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: kind-east
    cluster: { server: "https://127.0.0.1:40001" }
  - name: prod-west
    cluster: { server: "https://10.0.0.7:6443" }
contexts:
  - name: kind-east
    context: { cluster: kind-east, user: u }
  - name: prod-west
    context: { cluster: prod-west, user: u }
current-context: prod-west
users:
  - name: u
    user: { token: t }
`;
const files: Record<string, string> = { "/home/u/.kube/config": KUBECONFIG };
const env: ValidationEnv = { readFile: (p) => files[p] };

function multiPrimary(): Raw {
    return {
        meshId: "mesh1",
        topology: "multi-primary",
        clusters: [
            { name: "east", network: "n1", kubeconfig: "/home/u/.kube/config", context: "kind-east", apiServer: "https://172.18.0.2:6443" },
            { name: "west", network: "n2", kubeconfig: "/home/u/.kube/config", context: "prod-west" },
        ],
    };
}

function problems(raw: Raw, e: ValidationEnv = env): string[] {
    const r = validateMeshConfig(raw, e);
    return r.ok ? [] : r.problems;
}

describe("config validation", () => {
    it("accepts a valid multi-primary config and fills the defaults", () => {
        const r = validateMeshConfig(multiPrimary(), env);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.config.mesh.istio).toEqual({
            version: ISTIO_VERSION,
            repository: ISTIO_REPOSITORY,
            hub: ISTIO_HUB,
            imagePullSecrets: [],
            values: {},
            // No revision and no named tag unless the config names them (docs/upgrades.md).
            revision: "",
            tags: [],
        });
        expect(r.config.mesh.trust).toMatchObject({
            mode: "generated",
            keyAlgorithm: "RSA",
            rsaBits: 4096,
            rootValidityDays: 3650,
            intermediateValidityDays: 730,
            protectRoot: true,
        });
        expect(r.config.mesh.clusters.map((c) => c.role)).toEqual(["primary", "primary"]);
        // apiServer from config wins; otherwise the context's server is used.
        expect(r.config.kubeconfigs.east.apiServer).toBe("https://172.18.0.2:6443");
        expect(r.config.kubeconfigs.west.apiServer).toBe("https://10.0.0.7:6443");
        expect(r.config.kubeconfigs.west.content).toBe(KUBECONFIG);
    });

    it("names one network when every cluster leaves it out", () => {
        const raw = multiPrimary();
        for (const c of raw.clusters) delete c.network;
        const r = validateMeshConfig(raw, env);
        expect(r.ok && r.config.mesh.clusters.map((c) => c.network)).toEqual(["network1", "network1"]);
    });

    const cases: [string, (raw: Raw) => void, string][] = [
        ["meshId not DNS-1123", (r) => (r.meshId = "Mesh_1"), 'mesh.meshId: "Mesh_1" is not a DNS-1123 label'],
        ["meshId missing", (r) => delete r.meshId, "mesh.meshId: is required"],
        ["cluster name not DNS-1123", (r) => (r.clusters[1].name = "West_1"), 'mesh.clusters[1].name: "West_1" is not a DNS-1123 label'],
        ["cluster name too long", (r) => (r.clusters[1].name = "a".repeat(64)), "mesh.clusters[1].name:"],
        [
            "cluster named kubernetes",
            (r) => (r.clusters[1].name = "kubernetes"),
            `mesh.clusters[1].name: "kubernetes" is istiod's default cluster ID`,
        ],
        [
            "duplicate names",
            (r) => (r.clusters[1].name = "east"),
            'mesh.clusters[1].name: "east" is used twice (also mesh.clusters[0]); cluster names must be unique',
        ],
        ["unknown topology", (r) => (r.topology = "mesh-of-meshes"), "mesh.topology: must be multi-primary or primary-remote"],
        [
            "remote in multi-primary",
            (r) => (r.clusters[1].role = "remote"),
            'mesh.clusters[1].role: "remote" is not allowed with topology multi-primary',
        ],
        ["unknown role", (r) => (r.clusters[1].role = "secondary"), "mesh.clusters[1].role: must be primary or remote"],
        ["primary names a primary", (r) => (r.clusters[0].primary = "west"), "mesh.clusters[0].primary: only a remote names its primary"],
        [
            "network missing while another cluster names one",
            (r) => delete r.clusters[1].network,
            'mesh.clusters[1].network: is required: other clusters name network "n1"',
        ],
        [
            "network missing with several networks",
            (r) => r.clusters.push({ name: "south", kubeconfig: "/x", apiServer: "https://10.9.0.1:6443" }),
            "mesh.clusters[2].network: is required: the mesh spans several networks (n1, n2)",
        ],
        [
            "invalid network name",
            (r) => (r.clusters[1].network = "net west"),
            'mesh.clusters[1].network: "net west" is not a valid label value',
        ],
        [
            "loopback apiServer read by a peer",
            (r) => (r.clusters[0].apiServer = "https://localhost:6443"),
            "mesh.clusters[0].apiServer: apiServer https://localhost:6443 is a loopback address, which istiod in west cannot reach",
        ],
        ["loopback ::1", (r) => (r.clusters[0].apiServer = "https://[::1]:6443"), "is a loopback address"],
        [
            "loopback kubeconfig server without override",
            (r) => delete r.clusters[0].apiServer,
            "mesh.clusters[0].apiServer: the kubeconfig's server https://127.0.0.1:40001 is a loopback address",
        ],
        [
            "malformed apiServer",
            (r) => (r.clusters[0].apiServer = "10.0.0.5:6443"),
            'mesh.clusters[0].apiServer: "10.0.0.5:6443" is not an https:// URL',
        ],
        [
            "malformed repository",
            (r) => (r.istio = { repository: "s3://bucket/charts" }),
            'mesh.istio.repository: "s3://bucket/charts" is neither a Helm repository (https://…), an OCI reference (oci://…) nor a local folder',
        ],
        ["unpinned chart version", (r) => (r.istio = { version: "^1.31" }), 'mesh.istio.version: "^1.31" is not a pinned chart version'],
        [
            "values override meshID",
            (r) => (r.istio = { values: { global: { meshID: "x" } } }),
            "mesh.istio.values.global.meshID: is managed by this program",
        ],
        // pilot.* is merged over the top level since Istio 1.24 (zzy_descope_legacy.yaml), so an owned key under it is refused too;
        // pilot.env itself is accepted (test/configMessages.test.ts): the earlier refusal of it was wrong.
        [
            "values set an owned key under pilot",
            (r) => (r.istio = { values: { pilot: { global: { meshID: "x" } } } }),
            "mesh.istio.values.pilot.global.meshID: is managed by this program",
        ],
        [
            "cluster values override the network",
            (r) => (r.clusters[1].istio = { values: { global: { network: "x" } } }),
            "mesh.clusters[1].istio.values.global.network: is managed by this program",
        ],
        [
            "RSA root too small",
            (r) => (r.trust = { rsaBits: 2048 }),
            "mesh.trust.rsaBits: 2048 is too small: the root key needs at least 3072 bits",
        ],
        [
            "ECDSA P224",
            (r) => (r.trust = { keyAlgorithm: "ECDSA", ecdsaCurve: "P224" }),
            'mesh.trust.ecdsaCurve: "P224" is not allowed; use P256 or P384',
        ],
        [
            "intermediate outlives root",
            (r) => (r.trust = { rootValidityDays: 365, intermediateValidityDays: 365 }),
            "mesh.trust.intermediateValidityDays: 365 must be shorter than rootValidityDays (365)",
        ],
        ["unknown trust mode", (r) => (r.trust = { mode: "vault" }), "mesh.trust.mode: must be generated or provided"],
        [
            "provided without bundles",
            (r) => (r.trust = { mode: "provided" }),
            "multicluster-mesh:rootCertPem: is required with trust.mode provided",
        ],
        ["unknown key (typo)", (r) => (r.clusters[0].kubeConfig = "x"), 'mesh.clusters[0]: unknown key "kubeConfig"'],
        ["kubeconfig missing", (r) => delete r.clusters[1].kubeconfig, "mesh.clusters[1].kubeconfig: is required for platform existing"],
        [
            "kubeconfig file absent and no apiServer",
            (r) => (r.clusters[1].kubeconfig = "/nowhere/config"),
            "mesh.clusters[1].kubeconfig: file /nowhere/config does not exist; fix the path, or set apiServer",
        ],
        [
            "context not in kubeconfig",
            (r) => (r.clusters[1].context = "nope"),
            'mesh.clusters[1].context: the kubeconfig has no context "nope" (it has: kind-east, prod-west)',
        ],
        [
            "two clusters on one context",
            (r) => (r.clusters[1].context = "kind-east"),
            "mesh.clusters[1].context: points at the same kubeconfig context as mesh.clusters[0]",
        ],
        [
            "zone outside region",
            (r) => Object.assign(r.clusters[1], { region: "us-east1", zone: "us-west1-a" }),
            'mesh.clusters[1].zone: "us-west1-a" is not in region "us-east1"',
        ],
        [
            "gateway loadBalancerIP not an IP",
            (r) => (r.clusters[1].eastWestGateway = { loadBalancerIP: "lb.example" }),
            'mesh.clusters[1].eastWestGateway.loadBalancerIP: "lb.example" is not an IP address',
        ],
        [
            "platform gke without its settings",
            (r) => Object.assign(r.clusters[1], { platform: "gke", kubeconfig: undefined, context: undefined }),
            "mesh.clusters[1].gke: is required for platform gke",
        ],
        ["no clusters", (r) => (r.clusters = []), "mesh.clusters: list at least one cluster"],
    ];
    for (const [title, mutate, expected] of cases) {
        it(`rejects: ${title}`, () => {
            const raw = multiPrimary();
            mutate(raw);
            const found = problems(raw);
            expect(found.join("\n")).toContain(expected);
        });
    }

    it("lets an absent kubeconfig file through when apiServer is given (offline plan)", () => {
        const raw = multiPrimary();
        raw.clusters[1].kubeconfig = "/nowhere/config";
        raw.clusters[1].apiServer = "https://10.0.0.7:6443";
        const r = validateMeshConfig(raw, env);
        expect(r.ok).toBe(true);
        if (r.ok)
            expect(r.config.kubeconfigs.west).toMatchObject({ missing: true, path: "/nowhere/config", apiServer: "https://10.0.0.7:6443" });
    });

    it("allows a loopback API server that no other cluster reads (a one-cluster mesh)", () => {
        const raw = multiPrimary();
        raw.clusters = [{ name: "solo", kubeconfig: "/home/u/.kube/config", context: "kind-east" }];
        expect(problems(raw)).toEqual([]);
    });

    describe("primary-remote", () => {
        const pr = (): Raw => ({
            meshId: "mesh1",
            topology: "primary-remote",
            clusters: [
                { name: "p1", kubeconfig: "/x", apiServer: "https://10.0.0.1:6443" },
                { name: "r1", role: "remote", kubeconfig: "/x", apiServer: "https://10.0.0.2:6443" },
            ],
        });
        it("accepts one primary and a remote that leaves `primary` to the default", () => {
            expect(problems(pr())).toEqual([]);
        });
        const rejects: [string, (r: Raw) => void, string][] = [
            [
                "a mesh without a primary",
                (r) => (r.clusters[0].role = "remote"),
                "mesh.clusters: primary-remote needs at least one cluster with role: primary",
            ],
            [
                "a mesh without a remote",
                (r) => (r.clusters[1].role = "primary"),
                "primary-remote needs at least one cluster with role: remote",
            ],
            [
                "a remote whose primary is unknown",
                (r) => (r.clusters[1].primary = "p9"),
                'mesh.clusters[1].primary: "p9" is not a cluster of this mesh; name one of: p1',
            ],
            [
                "a remote whose primary is itself a remote",
                (r) => r.clusters.push({ name: "r2", role: "remote", primary: "r1", kubeconfig: "/x", apiServer: "https://10.0.0.3:6443" }),
                'mesh.clusters[2].primary: "r1" is a remote',
            ],
            [
                "a remote without `primary` when there are several primaries",
                (r) => r.clusters.push({ name: "p2", kubeconfig: "/x", apiServer: "https://10.0.0.4:6443" }),
                "mesh.clusters[1].primary: is required when the mesh has several primaries (p1, p2)",
            ],
            [
                "a loopback address on a remote, which its primary reads",
                (r) => (r.clusters[1].apiServer = "https://127.0.0.1:6443"),
                "mesh.clusters[1].apiServer: apiServer https://127.0.0.1:6443 is a loopback address, which istiod in p1 cannot reach",
            ],
        ];
        it.each(rejects)("rejects %s", (_title, mutate, expected) => {
            const raw = pr();
            mutate(raw);
            expect(problems(raw).join("\n")).toContain(expected);
        });
    });

    it("reports every problem at once, shape and semantics together", () => {
        const raw = multiPrimary();
        raw.topology = "star"; // enum error
        raw.clusters[1].name = "east"; // duplicate
        raw.clusters[0].apiServer = "https://127.0.0.1:6443"; // loopback
        raw.trust = { rsaBits: 1024, rootValidityDays: 10, intermediateValidityDays: 20 };
        raw.clusters.push({ name: "Bad_Name", kubeconfig: "/x" });
        const found = problems(raw);
        expect(found).toEqual(
            expect.arrayContaining([
                expect.stringContaining("mesh.topology: must be multi-primary or primary-remote"),
                expect.stringContaining('mesh.clusters[1].name: "east" is used twice'),
                expect.stringContaining('mesh.clusters[2].name: "Bad_Name" is not a DNS-1123 label'),
                expect.stringContaining("mesh.clusters[2].network: is required"),
                expect.stringContaining("mesh.clusters[2].kubeconfig: file /x does not exist"),
                expect.stringContaining("mesh.trust.rsaBits: 1024 is too small"),
                expect.stringContaining("mesh.trust.intermediateValidityDays: 20 must be shorter than rootValidityDays (10)"),
            ]),
        );
        expect(found.length).toBeGreaterThanOrEqual(7);
        // Each message starts with the path it is about.
        for (const p of found) expect(p).toMatch(/^(mesh[.[]|mesh:|multicluster-mesh:)/);
    });
});

describe("platform validation", () => {
    const gke = (name: string, n: number, extra: Raw = {}, g: Raw = {}): Raw => gkeEntry(name, n, extra, g);
    const eks = (name: string, n: number, extra: Raw = {}, e: Raw = {}): Raw => ({
        name,
        platform: "eks",
        eks: { region: "us-east-1", vpcCidr: `10.${n}.0.0/16`, ...e },
        ...extra,
    });
    const mesh = (clusters: Raw[], extra: Raw = {}): Raw => ({ meshId: "m", topology: "multi-primary", clusters, ...extra });

    it("accepts GKE + EKS + kind on their own networks and fills kind's default subnets", () => {
        const r = validateMeshConfig(
            mesh([
                gke("g", 1, { network: "a" }),
                eks("e", 16, { network: "b" }),
                { name: "k1", platform: "kind", network: "c" },
                { name: "k2", platform: "kind", network: "d" },
            ]),
            env,
        );
        expect(r.ok ? [] : r.problems).toEqual([]);
        if (r.ok) {
            expect(r.config.mesh.clusters[2].kind).toEqual({
                podSubnet: "10.10.0.0/16",
                serviceSubnet: "10.255.10.0/24",
                nodeImage: "kindest/node:v1.33.1",
            });
            expect(r.config.mesh.clusters[3].kind).toMatchObject({ podSubnet: "10.20.0.0/16", serviceSubnet: "10.255.20.0/24" });
            expect(r.config.mesh.clusters[1].eks).toMatchObject({
                azCount: 2,
                serviceCidr: "172.20.0.0/16",
                version: "1.33",
                nodeGroup: { desired: 2, min: 2, max: 4 },
            });
        }
    });

    const cases: [string, Raw, string][] = [
        ["gke without project", mesh([gke("g", 1, {}, { project: undefined }), gke("h", 2)]), "mesh.clusters[0].gke.project: is required"],
        [
            "gke bad location",
            mesh([gke("g", 1, {}, { location: "uscentral" }), gke("h", 2)]),
            'mesh.clusters[0].gke.location: "uscentral" is not a GCP region',
        ],
        [
            "gke malformed CIDR",
            mesh([gke("g", 1, {}, { podCidr: "10.0.0.0/33" }), gke("h", 2)]),
            'mesh.clusters[0].gke.podCidr: "10.0.0.0/33" is not an IPv4 CIDR',
        ],
        [
            "gke CIDR with host bits",
            mesh([gke("g", 1, {}, { subnetCidr: "10.1.0.1/20" }), gke("h", 2)]),
            'mesh.clusters[0].gke.subnetCidr: "10.1.0.1/20" is not an IPv4 CIDR',
        ],
        [
            "gke ranges overlap inside a cluster",
            mesh([gke("g", 1, {}, { serviceCidr: "10.1.0.0/24" }), gke("h", 2)]),
            "mesh.clusters[0].gke.serviceCidr: 10.1.0.0/24 overlaps mesh.clusters[0].gke.subnetCidr",
        ],
        [
            "pod ranges overlap on a shared network",
            mesh([gke("g", 1), gke("h", 2, {}, { podCidr: "10.104.0.0/14" })]),
            "mesh.clusters[1].gke.podCidr: 10.104.0.0/14 overlaps mesh.clusters[0].gke.podCidr " +
                '(10.104.0.0/14) on the shared network "network1"',
        ],
        [
            "apiServer on a gke cluster",
            mesh([gke("g", 1, { apiServer: "https://1.2.3.4" }), gke("h", 2)]),
            "mesh.clusters[0].apiServer: is only for platform existing",
        ],
        [
            "platform block mismatch",
            mesh([gke("g", 1, { eks: { region: "us-east-1", vpcCidr: "10.9.0.0/16" } }), gke("h", 2)]),
            'mesh.clusters[0].eks: is set but platform is "gke"',
        ],
        [
            "eks block missing",
            mesh([{ name: "e", platform: "eks" }, gke("h", 2, { network: "x" })]),
            "mesh.clusters[0].eks: is required for platform eks",
        ],
        [
            "eks bad region",
            mesh([eks("e", 16, {}, { region: "us-east1" })]),
            'mesh.clusters[0].eks.region: "us-east1" is not an AWS region',
        ],
        [
            "eks zone outside region",
            mesh([eks("e", 16, {}, { availabilityZones: ["us-east-1a", "us-west-2b"] })]),
            'mesh.clusters[0].eks.availabilityZones[1]: "us-west-2b" is not a zone of region us-east-1',
        ],
        [
            "eks one zone",
            mesh([eks("e", 16, {}, { azCount: 1 })]),
            "mesh.clusters[0].eks.azCount: EKS needs subnets in at least two availability zones",
        ],
        [
            "eks small VPC",
            mesh([eks("e", 16, {}, { vpcCidr: "10.16.0.0/24" })]),
            "mesh.clusters[0].eks.vpcCidr: /24 leaves too few addresses for pods",
        ],
        [
            "eks node group sizes",
            mesh([eks("e", 16, {}, { nodeGroup: { desired: 1, min: 2, max: 3 } })]),
            "mesh.clusters[0].eks.nodeGroup: needs 1 ≤ min ≤ desired ≤ max",
        ],
        [
            "eks access entry not an ARN",
            mesh([eks("e", 16, {}, { accessEntries: ["admin"] })]),
            'mesh.clusters[0].eks.accessEntries[0]: "admin" is not an IAM role or user ARN',
        ],
        [
            "two EKS clusters on one network (two VPCs)",
            mesh([eks("e1", 16), eks("e2", 32)]),
            'mesh.clusters[1].network: "network1" joins the AWS VPC of e2 with the AWS VPC of e1',
        ],
        [
            "GKE and EKS on one network",
            mesh([gke("g", 1, { network: "n" }), eks("e", 16, { network: "n" })]),
            "mesh.networks.n.routable: true",
        ],
        [
            "GKE clusters in two projects on one network",
            mesh([gke("g", 1), gke("h", 2, {}, { project: "other-proj" })]),
            "joins GCP VPC other-proj/m-network1 with GCP VPC acme-mesh/m-network1",
        ],
        [
            "kind clusters sharing a network",
            mesh([
                { name: "k1", platform: "kind" },
                { name: "k2", platform: "kind" },
            ]),
            'mesh.clusters[1].network: kind clusters k1, k2 share network "network1"',
        ],
        [
            "kind subnets overlap on a shared routable network",
            mesh(
                [
                    { name: "k1", platform: "kind", network: "n" },
                    { name: "k2", platform: "kind", network: "n", kind: { podSubnet: "10.10.0.0/16" } },
                ],
                { networks: { n: { routable: true } } },
            ),
            "mesh.clusters[1].kind.podSubnet: 10.10.0.0/16 overlaps mesh.clusters[0].kind.podSubnet",
        ],
    ];
    for (const [title, raw, expected] of cases) {
        it(`rejects: ${title}`, () => {
            expect(problems(raw).join("\n")).toContain(expected);
        });
    }

    it("accepts clouds sharing a network the user declared routable", () => {
        const raw = mesh([gke("g", 1, { network: "n" }), eks("e", 16, { network: "n" })], { networks: { n: { routable: true } } });
        expect(problems(raw)).toEqual([]);
    });
});
