// The provider identity of an existing cluster (components/platforms/identity.ts): a table of
// previous-run records and kubeconfig changes, with the identity each must give, and the one case
// that must be refused. The real engine confirms what these rules are for (test/e2e: respelling the
// server leaves every object in place).
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { caSha256, decideIdentity, IdentityInput } from "../components/platforms/identity";
import { instanceDigest } from "../components/platforms/provider";
import { existingIdentity } from "../components/platforms/existing/cluster";

/** A real self-signed CA certificate (openssl, as the other certificate tests). */
function selfSigned(cn: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "identity-"));
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            `${dir}/k`,
            "-out",
            `${dir}/c`,
            "-days",
            "2",
            "-subj",
            `/CN=${cn}`,
        ],
        { stdio: "ignore" },
    );
    const pem = fs.readFileSync(`${dir}/c`, "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    return pem;
}

const CA_A = selfSigned("cluster-a");
const CA_B = selfSigned("cluster-b");
const SHA_A = caSha256(CA_A)!;
const SHA_B = caSha256(CA_B)!;

describe("caSha256", () => {
    it("is the digest of the certificates' DER, so a re-encoded PEM is the same CA", () => {
        const der = new crypto.X509Certificate(CA_A).raw;
        expect(SHA_A).toBe(crypto.createHash("sha256").update(der).digest("hex"));
        const reflowed = CA_A.replace(/\r?\n/g, "\r\n").replace("-----END CERTIFICATE-----", "-----END CERTIFICATE-----\n\n");
        expect(caSha256(reflowed)).toBe(SHA_A);
        expect(SHA_B).not.toBe(SHA_A);
        expect(caSha256("not a certificate")).toBeUndefined();
    });
});

describe("decideIdentity", () => {
    const base: IdentityInput = { at: "mesh.clusters[0]", cluster: "east", server: "https://198.19.0.10:6443", legacyCaText: "Q0E=" };
    const derivedA = `ca-${SHA_A.slice(0, 16)}`;
    const cases: { name: string; input: Partial<IdentityInput>; instance?: string; refused?: RegExp }[] = [
        { name: "a new cluster: derived from its CA", input: { caSha256: SHA_A }, instance: derivedA },
        {
            name: "a new cluster whose kubeconfig names no CA: derived from the server",
            input: {},
            instance: `server-${instanceDigest("https://198.19.0.10:6443")}`,
        },
        {
            name: "the server respelled, same CA: the previous identity stays",
            input: {
                caSha256: SHA_A,
                server: "https://east.example:6443",
                previous: { providerIdentity: "old-value", apiServerCaSha256: SHA_A },
            },
            instance: "old-value",
        },
        {
            name: "a new CA behind the same context: a new cluster, a new identity",
            input: { caSha256: SHA_B, previous: { providerIdentity: derivedA, apiServerCaSha256: SHA_A } },
            instance: `ca-${SHA_B.slice(0, 16)}`,
        },
        {
            name: "a stack last deployed by 0.2.x (no identity recorded): what 0.2.x derived, so the upgrade replaces nothing",
            input: { caSha256: SHA_A, previous: {} },
            instance: instanceDigest("https://198.19.0.10:6443", "Q0E="),
        },
        { name: "identity pinned on a new cluster", input: { pinned: "p1", caSha256: SHA_A }, instance: "p1" },
        {
            name: "identity pinned to the value recorded",
            input: { pinned: "p1", caSha256: SHA_A, previous: { providerIdentity: "p1", apiServerCaSha256: SHA_A } },
            instance: "p1",
        },
        {
            name: "identity pinned to a new value while the CA is the recorded one: refused",
            input: { pinned: "p2", caSha256: SHA_A, previous: { providerIdentity: "p1", apiServerCaSha256: SHA_A } },
            refused:
                /^mesh\.clusters\[0\]\.identity: "p2" would replace the provider of cluster east \(it was "p1"\), but its API server has the same CA.*set identity: "p1"/,
        },
        {
            name: "identity pinned to a new value with a new CA: the replacement the user asked for",
            input: { pinned: "p2", caSha256: SHA_B, previous: { providerIdentity: "p1", apiServerCaSha256: SHA_A } },
            instance: "p2",
        },
        {
            name: "identity pinned anew where the CA is unknown: allowed (nothing to compare)",
            input: { pinned: "p2", previous: { providerIdentity: "p1" } },
            instance: "p2",
        },
    ];
    for (const c of cases)
        it(c.name, () => {
            const d = decideIdentity({ ...base, ...c.input });
            if (c.refused) {
                expect(d.ok).toBe(false);
                if (!d.ok) expect(d.problem).toMatch(c.refused);
            } else {
                expect(d).toMatchObject({ ok: true, instance: c.instance });
            }
        });
});

describe("existingIdentity (the kubeconfig as the platform reads it)", () => {
    const kubeconfig = (server: string, ctx = "east", user: Record<string, string> = { token: "t1" }) =>
        [
            "apiVersion: v1",
            "kind: Config",
            `clusters: [{name: c, cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(CA_A).toString("base64")}}}]`,
            `contexts: [{name: ${ctx}, context: {cluster: c, user: u}}]`,
            `current-context: ${ctx}`,
            `users: [{name: u, user: ${JSON.stringify(user)}}]`,
        ].join("\n");
    const resolved = (content: string) => ({ content, missing: false, apiServer: "https://198.19.0.10:6443" });
    const first = existingIdentity({ name: "east" }, resolved(kubeconfig("https://198.19.0.10:6443")), "mesh.clusters[0]");
    it("derives one identity from the CA, whatever spells the server, the context or the credentials", () => {
        expect(first).toMatchObject({ ok: true, instance: `ca-${SHA_A.slice(0, 16)}`, caSha256: SHA_A });
        for (const k of [
            kubeconfig("https://east.e2e.invalid:6443"),
            kubeconfig("https://198.19.0.10:6443", "renamed"),
            kubeconfig("https://198.19.0.10:6443", "east", { token: "t2" }),
        ]) {
            expect(existingIdentity({ name: "east" }, resolved(k), "mesh.clusters[0]")).toMatchObject({
                ok: true,
                instance: (first as { instance: string }).instance,
            });
        }
    });
});
