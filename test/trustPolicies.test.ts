// The trust policies of the pack and `npm run trust:init`, on real output:
//   - production-root-key-offline fails a production stack whose generated root key is in state,
//     and passes the same stack in provided mode with trust:init's files;
//   - root-rotation-phase accepts every phase the program plans and refuses a tampered one;
//   - root-of-trust-expiry fails a root with < 30 days left (warns < 180), except during a rotation;
//   - trust:init writes 0600 files outside the repo that openssl and verifyCaBundle accept.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCaBundle } from "../components/caBundle";
import { CACERTS_KEYS } from "../components/istio";
import { rootExpiryFinding } from "../components/rotation";
import { trustInit } from "../offline/trustInit";
import { makeProductionRootKeyOffline, rootExpiry, rootExpiryWarning, rootRotationPhase } from "../policy/policies";
import { checkResource, checkStack, fromRegistrations } from "../policy/testing";
import { cluster, runMesh } from "./support/harness";
import { EXT, OpensslCa } from "./support/opensslCa";

const REPO = path.resolve(__dirname, "..");
const CLUSTERS = ["east", "west"];
const meshOf = (trust: Record<string, unknown>) => ({
    meshId: "mesh1",
    topology: "multi-primary",
    trust,
    clusters: [...CLUSTERS.map((c, i) => cluster(c, i + 1, { network: `n${i + 1}` }))],
});
const ECDSA = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" };
const env = (stack: string) => ({ stackName: () => stack });

let out: string;
beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), "trust-init-test-"));
});
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe("npm run trust:init", () => {
    it("writes an offline root and one intermediate per istiod cluster, 0600, that openssl and istiod's checks accept", async () => {
        const mesh = {
            meshId: "mesh1",
            topology: "primary-remote",
            clusters: [{ name: "east" }, { name: "west" }, { name: "edge", role: "remote", primary: "east" }],
            trust: { keyAlgorithm: "RSA", rsaBits: 3072 },
        };
        const r = await trustInit({ stack: "prod-eu", out, repoRoot: REPO, mesh });
        expect(Object.keys(r.bundles).sort()).toEqual(["east", "west"]);
        for (const f of r.files) expect(fs.statSync(f).mode & 0o777, f).toBe(0o600);
        expect(fs.statSync(r.dir).mode & 0o777).toBe(0o700);
        for (const c of ["east", "west"]) {
            const dir = path.join(r.dir, c);
            const verified = execFileSync(
                "openssl",
                ["verify", "-x509_strict", "-CAfile", path.join(r.dir, "root-cert.pem"), path.join(dir, "ca-cert.pem")],
                { encoding: "utf8" },
            );
            expect(verified.trim()).toBe(`${path.join(dir, "ca-cert.pem")}: OK`);
            const text = execFileSync("openssl", ["x509", "-in", path.join(dir, "ca-cert.pem"), "-noout", "-text"], { encoding: "utf8" });
            expect(text).toMatch(/CA:TRUE, pathlen:0/);
            expect(text).toMatch(/Public-Key: \(3072 bit\)/);
            expect(text).toContain("DNS:istiod.istio-system.svc");
            const bundle = {
                caCertPem: read(dir, "ca-cert.pem"),
                caKeyPem: read(dir, "ca-key.pem"),
                certChainPem: read(dir, "cert-chain.pem"),
                rootCertPem: read(r.dir, "root-cert.pem"),
            };
            expect(verifyCaBundle(bundle)).toEqual([]);
            // NotBefore back-dated by an hour for clock skew.
            const nb = new Date(new crypto.X509Certificate(bundle.caCertPem).validFrom).getTime();
            expect(Date.now() - nb).toBeGreaterThan(59 * 60_000);
        }
        expect(r.commands).toContain("pulumi config set --stack prod-eu --path 'mesh.trust.mode' provided");
        expect(r.commands.join("\n")).toContain(
            "pulumi config set --stack prod-eu --secret --path 'caBundles.west.caKeyPem' -- " +
                `"$(cat '${path.join(r.dir, "west", "ca-key.pem")}')"`,
        );
        expect(r.commands.join("\n")).not.toContain("edge");
        // Never overwrites a root key.
        await expect(trustInit({ stack: "prod-eu", out, repoRoot: REPO, mesh })).rejects.toThrow(/refusing to overwrite/);
        // The rotation's new root: its own folder, the newRootCertPem/newCaBundles commands.
        const next = await trustInit({ stack: "prod-eu", out, repoRoot: REPO, mesh: { ...mesh, trust: ECDSA }, rotation: true });
        expect(next.dir).toBe(path.join(r.dir, "next-root"));
        expect(next.commands.join("\n")).toContain("newRootCertPem -- ");
        expect(next.commands.join("\n")).toContain("'newCaBundles.east.certChainPem'");
        expect(next.rootCertPem).not.toBe(r.rootCertPem);
    }, 60_000);

    it("refuses a directory inside the repository, also through a symlink", async () => {
        await expect(
            trustInit({
                stack: "dev",
                out: path.join(REPO, "out", "keys"),
                repoRoot: REPO,
                mesh: { meshId: "m", topology: "multi-primary", clusters: [{ name: "a" }] },
            }),
        ).rejects.toThrow(/inside the repository/);
        const link = path.join(out, "to-repo");
        fs.symlinkSync(REPO, link);
        await expect(
            trustInit({
                stack: "dev",
                out: path.join(link, "x"),
                repoRoot: REPO,
                mesh: { meshId: "m", topology: "multi-primary", clusters: [{ name: "a" }] },
            }),
        ).rejects.toThrow(/inside the repository/);
        expect(fs.existsSync(path.join(REPO, "out", "keys"))).toBe(false);
    });

    it("feeds provided mode: the program deploys trust:init's bundles and keeps no key of its own", async () => {
        const r = await trustInit({
            stack: "prodlike",
            out,
            repoRoot: REPO,
            mesh: { meshId: "mesh1", topology: "multi-primary", clusters: CLUSTERS.map((name) => ({ name, network: name })), trust: ECDSA },
        });
        const caBundles = Object.fromEntries(
            Object.entries(r.bundles).map(([c, b]) => [c, { caCertPem: b.caCertPem, caKeyPem: b.caKeyPem, certChainPem: b.certChainPem }]),
        );
        const run = await runMesh(meshOf({ mode: "provided" }), {
            config: { "multicluster-mesh:rootCertPem": r.rootCertPem, "multicluster-mesh:caBundles": caBundles },
            secretKeys: ["multicluster-mesh:caBundles"],
        });
        expect(run.error).toBeUndefined();
        const policy = makeProductionRootKeyOffline(env("prodlike"));
        const res = await checkStack(policy, fromRegistrations(run.sim.registrations, run.outputs, "prodlike"), {
            productionStackPattern: "prod",
        });
        expect(res.violations).toEqual([]);
        expect(run.sim.registrations.some((x) => x.type.startsWith("tls:"))).toBe(false);
    }, 60_000);
});

function read(dir: string, f: string): string {
    return fs.readFileSync(path.join(dir, f), "utf8");
}

describe("production-root-key-offline", () => {
    it("fails a production stack with a generated root key, not a dev stack", async () => {
        const run = await runMesh(meshOf(ECDSA));
        const resources = fromRegistrations(run.sim.registrations, run.outputs, "prod-eu");
        const prod = await checkStack(makeProductionRootKeyOffline(env("prod-eu")), resources, { productionStackPattern: "prod" });
        expect(prod.violations.map((v) => v.message).join("\n")).toMatch(
            /keeps the mesh's root CA key in its state \(mesh1-trust-root-key\)[\s\S]*trust:init/,
        );
        expect(prod.violations).toHaveLength(1);
        const dev = await checkStack(makeProductionRootKeyOffline(env("dev")), resources, { productionStackPattern: "prod" });
        expect(dev.violations).toEqual([]);
    }, 60_000);
});

describe("root-rotation-phase", () => {
    it("accepts each planned phase and refuses a tampered one", async () => {
        for (const phase of ["prepare", "add-root", "switch-intermediates", "drop-old-root"]) {
            const run = await runMesh(meshOf({ ...ECDSA, rotation: { phase } }));
            expect(run.error).toBeUndefined();
            const res = await checkStack(rootRotationPhase, fromRegistrations(run.sim.registrations, run.outputs, "s"));
            expect(res.violations, phase).toEqual([]);
        }
        const run = await runMesh(meshOf({ ...ECDSA, rotation: { phase: "add-root" } }));
        const resources = fromRegistrations(run.sim.registrations, run.outputs, "s");
        // Claim switch-intermediates on east while its intermediate is still signed by the old root.
        const east = resources.find((r) => r.name === "mesh1-east-cacerts")!;
        east.props = {
            ...east.props,
            metadata: { ...east.props.metadata, annotations: { "multicluster-mesh.io/trust-phase": "switch-intermediates" } },
        };
        const res = await checkStack(rootRotationPhase, resources);
        const text = res.violations.map((v) => v.message).join("\n");
        expect(text).toContain("different rotation phases");
        expect(text).toContain("ca-cert.pem is signed by root 1; the phase needs the new root");
        // istiod without the multi-root env during a rotation.
        const untouched = fromRegistrations(run.sim.registrations, run.outputs, "s");
        const rel = untouched.find((r) => r.name === "mesh1-west-istiod")!;
        rel.props = { ...rel.props, values: { ...rel.props.values, env: {} } };
        const envRes = await checkStack(rootRotationPhase, untouched);
        expect(envRes.violations.map((v) => v.message)).toEqual([
            expect.stringContaining("istiod release mesh1-west-istiod (provider west-k8s) lacks env ISTIO_MULTIROOT_MESH=true"),
        ]);
    }, 120_000);
});

describe("root-of-trust-expiry and root-of-trust-expiry-warning", () => {
    let ca: OpensslCa;
    beforeAll(() => {
        ca = new OpensslCa();
    });
    afterAll(() => ca.cleanup());
    const cacerts = (rootPem: string, caPem: string, phase = "none") => ({
        type: "kubernetes:core/v1:Secret",
        name: "mesh1-east-cacerts",
        props: {
            metadata: { name: "cacerts", annotations: { "multicluster-mesh.io/trust-phase": phase } },
            stringData: { [CACERTS_KEYS.rootCert]: rootPem, [CACERTS_KEYS.caCert]: caPem },
        },
    });

    it("fails under 30 days outside a rotation, warns under 180, passes a fresh root", async () => {
        const short = ca.cert("short", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 20 });
        const mid = ca.cert("mid", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 100 });
        const fresh = ca.cert("fresh", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
        const fail = await checkResource(rootExpiry, cacerts(short.certPem, short.certPem));
        expect(fail.violations[0]?.message).toMatch(/expires in 19 days[\s\S]*under 30[\s\S]*docs\/root-rotation\.md/);
        expect((await checkResource(rootExpiryWarning, cacerts(mid.certPem, mid.certPem))).violations[0]?.message).toContain("under 180");
        expect((await checkResource(rootExpiry, cacerts(mid.certPem, mid.certPem))).violations).toEqual([]);
        expect((await checkResource(rootExpiry, cacerts(fresh.certPem, fresh.certPem))).violations).toEqual([]);
        expect((await checkResource(rootExpiryWarning, cacerts(fresh.certPem, fresh.certPem))).violations).toEqual([]);
        // During a rotation the short-lived root only warns: the rotation is the fix and must be able to run.
        expect((await checkResource(rootExpiry, cacerts(short.certPem + fresh.certPem, short.certPem, "add-root"))).violations).toEqual([]);
        expect(rootExpiryFinding([short.certPem], "add-root").level).toBe("warn");
    });

    it("stops the program itself under 30 days", async () => {
        const short = ca.cert("short2", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 20 });
        const inter = ca.cert("east-short", "/O=Istio/CN=Intermediate CA/L=east", { issuer: "short2", ext: EXT.intermediate, days: 10 });
        const west = ca.cert("west-short", "/O=Istio/CN=Intermediate CA/L=west", { issuer: "short2", ext: EXT.intermediate, days: 10 });
        const b = (i: { certPem: string; keyPem: string }) => ({
            caCertPem: i.certPem,
            caKeyPem: i.keyPem,
            certChainPem: i.certPem + short.certPem,
        });
        const run = await runMesh(meshOf({ mode: "provided" }), {
            config: { "multicluster-mesh:rootCertPem": short.certPem, "multicluster-mesh:caBundles": { east: b(inter), west: b(west) } },
            secretKeys: ["multicluster-mesh:caBundles"],
        });
        expect(String(run.error?.message)).toMatch(/expires in 19 days \(.*\), under 30: start the staged root rotation/);
    }, 60_000);
});
