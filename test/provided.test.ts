// `trust.mode: provided` end to end under the mock runtime: openssl-made root and intermediates go
// into stack config, the program writes them unchanged to each cluster's cacerts, never creates a
// key of its own (the root key never enters state: docs/istio-notes.md, "Security rules"), and refuses a bad bundle
// before registering anything.
import * as crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXT, Issued, OpensslCa } from "./support/opensslCa";
import { dependsOn, MeshRun, one, runMesh } from "./support/harness";

const MESH = {
    meshId: "mesh1",
    topology: "multi-primary",
    trust: { mode: "provided" },
    clusters: [
        { name: "east", network: "n1", kubeconfig: "/nonexistent/east", apiServer: "https://10.1.0.1:6443" },
        { name: "west", network: "n2", kubeconfig: "/nonexistent/west", apiServer: "https://10.2.0.1:6443" },
    ],
};
const SECRET_KEYS = ["multicluster-mesh:caBundles"];

interface ConfigBundle {
    caCertPem: string;
    caKeyPem: string;
    certChainPem: string;
}

let ca: OpensslCa;
let root: Issued;
let east: Issued;
let west: Issued;
let impostorWest: Issued;

function configBundle(i: Issued, r: Issued = root): ConfigBundle {
    return { caCertPem: i.certPem, caKeyPem: i.keyPem, certChainPem: i.certPem + r.certPem };
}
function goodBundles(): Record<string, ConfigBundle> {
    return { east: configBundle(east), west: configBundle(west) };
}
function run(config: Record<string, unknown>): Promise<MeshRun> {
    return runMesh(MESH, { config, secretKeys: SECRET_KEYS });
}
/** A rejected config: a ConfigError naming every expected fragment, and nothing registered. */
function expectRejected(r: MeshRun, ...fragments: string[]) {
    expect(r.error, "the program should have failed").toBeDefined();
    expect(r.error!.name).toBe("ConfigError");
    for (const f of fragments) expect(r.error!.message).toContain(f);
    expect(r.error!.message).toContain("nothing was deployed");
    expect(r.error!.message).not.toMatch(/PRIVATE KEY-----/);
    expect(r.sim.registrations).toEqual([]);
}

beforeAll(() => {
    ca = new OpensslCa();
    root = ca.cert("root", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
    east = ca.cert("east", "/O=Istio/CN=Intermediate CA/L=east", { issuer: "root", ext: EXT.intermediate, days: 730 });
    west = ca.cert("west", "/O=Istio/CN=Intermediate CA/L=west", { issuer: "root", ext: EXT.intermediate, days: 730 });
    // Same subject as the real root, different key: west's intermediate under it.
    ca.cert("root2", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
    impostorWest = ca.cert("west2", "/O=Istio/CN=Intermediate CA/L=west", { issuer: "root2", ext: EXT.intermediate, days: 730 });
});
afterAll(() => ca?.cleanup());

describe("trust.mode provided", () => {
    let good: MeshRun;
    beforeAll(async () => {
        good = await run({ "multicluster-mesh:rootCertPem": root.certPem, "multicluster-mesh:caBundles": goodBundles() });
    });

    it("deploys without error and creates no tls resources (the root key never enters state)", () => {
        expect(good.error).toBeUndefined();
        expect(good.sim.registrations.length).toBeGreaterThan(0);
        expect(good.sim.registrations.filter((r) => r.type.startsWith("tls:") || r.type === "pulumi:providers:tls")).toEqual([]);
        // No registration carries the root's key material anywhere: only the intermediates' keys exist.
        const everything = JSON.stringify(good.sim.registrations.map((r) => r.inputs));
        expect(everything).not.toContain(ca.read("root.key").split("\n")[1]);
    });

    it("writes each cacerts Secret with exactly the provided PEMs, as secret", () => {
        for (const [c, i] of [
            ["east", east],
            ["west", west],
        ] as const) {
            const s = one(good, `mesh1-${c}-cacerts`);
            expect(s.type).toBe("kubernetes:core/v1:Secret");
            expect(s.providerName).toBe(`${c}-k8s`);
            expect(s.inputs.metadata).toEqual({ name: "cacerts", namespace: "istio-system" });
            expect(s.inputs.type).toBe("Opaque");
            expect(s.inputs.stringData).toEqual({
                "ca-cert.pem": i.certPem,
                "ca-key.pem": i.keyPem,
                "cert-chain.pem": i.certPem + root.certPem,
                "root-cert.pem": root.certPem,
            });
            expect(s.secretPaths).toContain("stringData");
        }
    });

    it("exports the provided root and the SHA-256 of its DER", () => {
        expect(good.outputs.rootCertPem).toBe(root.certPem);
        const der = new crypto.X509Certificate(root.certPem).raw;
        expect(good.outputs.rootCertSha256).toBe(crypto.createHash("sha256").update(der).digest("hex"));
        expect(JSON.stringify(good.outputs)).not.toMatch(/PRIVATE KEY/);
    });

    it("starts istiod only after cacerts is written", () => {
        for (const c of ["east", "west"]) expect(dependsOn(good, `mesh1-${c}-istiod`, `mesh1-${c}-cacerts`)).toBe(true);
    });

    it("rejects a bundle whose key does not match its certificate", async () => {
        const bundles = goodBundles();
        bundles.west = { ...bundles.west, caKeyPem: east.keyPem };
        const r = await run({ "multicluster-mesh:rootCertPem": root.certPem, "multicluster-mesh:caBundles": bundles });
        expectRejected(r, "multicluster-mesh:caBundles.west:", "does not match");
        expect(r.error!.message).not.toContain("multicluster-mesh:caBundles.east:");
    });

    it("rejects caBundles without a bundle for west", async () => {
        const { east: e } = goodBundles();
        const r = await run({ "multicluster-mesh:rootCertPem": root.certPem, "multicluster-mesh:caBundles": { east: e } });
        expectRejected(r, "multicluster-mesh:caBundles.west: is missing");
    });

    it("rejects a missing rootCertPem", async () => {
        const r = await run({ "multicluster-mesh:caBundles": goodBundles() });
        expectRejected(r, "multicluster-mesh:rootCertPem: is required");
    });

    it("rejects a bundle for a cluster that is not in the mesh", async () => {
        const r = await run({
            "multicluster-mesh:rootCertPem": root.certPem,
            "multicluster-mesh:caBundles": { ...goodBundles(), south: configBundle(east) },
        });
        expectRejected(r, "multicluster-mesh:caBundles.south: is not a cluster of this mesh");
    });

    it("rejects an intermediate that chains to a different root than rootCertPem", async () => {
        const bundles = goodBundles();
        bundles.west = configBundle(impostorWest, { name: "root2", certPem: ca.read("root2.pem"), keyPem: "" });
        const r = await run({ "multicluster-mesh:rootCertPem": root.certPem, "multicluster-mesh:caBundles": bundles });
        expectRejected(r, "multicluster-mesh:caBundles.west:", "does not verify to root-cert.pem");
    });
});

describe("trust.mode provided, planned offline with the key set the documented way", () => {
    it("plans a stack whose caKeyPem is a nested secure: value it cannot decrypt, and still refuses a bad certificate", async () => {
        const fs = await import("node:fs");
        const os = await import("node:os");
        const path = await import("node:path");
        const YAML = await import("yaml");
        const { planStack } = await import("./support/planRun.js");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provided-stack-"));
        fs.copyFileSync(path.join(__dirname, "..", "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        // What `pulumi config set --secret --path 'caBundles.east.caKeyPem'` writes: a nested secure value.
        const secure = { secure: "v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==" };
        const bundles = (w: Issued) => ({
            east: { ...configBundle(east), caKeyPem: secure },
            west: { ...configBundle(w), caKeyPem: secure },
        });
        const write = (name: string, w: Issued) =>
            fs.writeFileSync(
                path.join(dir, `Pulumi.${name}.yaml`),
                YAML.stringify({
                    config: {
                        "multicluster-mesh:mesh": MESH,
                        "multicluster-mesh:rootCertPem": root.certPem,
                        "multicluster-mesh:caBundles": bundles(w),
                    },
                }),
            );
        write("provided", west);
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "provided-out-"));
        const ok = await planStack("provided", out, { stackDir: dir, env: {} });
        expect(ok.errors).toEqual([]);
        expect(ok.ok).toBe(true);
        // The certificates are still checked: an intermediate under another root is refused.
        write("impostor", impostorWest);
        const bad = await planStack("impostor", out, { stackDir: dir, env: {} });
        expect(bad.ok).toBe(false);
        expect(bad.errors.join("\n")).toMatch(/caBundles\.west/);
        expect(bad.errors.join("\n")).not.toMatch(/lacks caKeyPem/);
    });
});
