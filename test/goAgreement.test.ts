// components/caBundle.ts against Go's own crypto/x509: tools/x509check does what istiod does when it
// loads `cacerts` (istio/istio at 1.30.3, security/pkg/pki/util/keycertbundle.go `Verify` and
// security/pkg/pki/ca/ca.go `NewPluggedCertIstioCAOptions`), and both judge the same openssl-made
// corpus. Agreement means: every bundle Go rejects, verifyCaBundle rejects; every bundle Go accepts,
// verifyCaBundle accepts, except the short list of policy refusals below, each for its stated reason.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWED_EC_CURVES, INTERMEDIATE_MIN_RSA_BITS, ROOT_MIN_RSA_BITS, verifyCaBundle } from "../components/caBundle";
import { buildCorpus, CorpusBundle } from "./support/bundleCorpus";
import { OpensslCa } from "./support/opensslCa";

const execFileAsync = promisify(execFile);

const TOOL_DIR = path.join(__dirname, "..", "tools", "x509check");

/**
 * Bundles Go (istiod) accepts and we refuse on purpose. `problem` is a piece of the line
 * verifyCaBundle must give for it, so a refusal for some other reason does not count.
 */
const POLICY_DIFFERENCES: Record<string, { reason: string; problem: string }> = {
    "rsa2048-root": {
        reason: `Go takes any RSA size ≥ 1024; roots need ${ROOT_MIN_RSA_BITS} bits here, as config.ts asks of mesh.trust.rsaBits`,
        problem: `has an RSA-2048 key; a root needs at least ${ROOT_MIN_RSA_BITS} bits`,
    },
    "rsa1024-intermediate": {
        reason: `RSA-1024 is factorable by a well-funded attacker; intermediates need ${INTERMEDIATE_MIN_RSA_BITS} bits`,
        problem: `has an RSA-1024 key; an intermediate needs at least ${INTERMEDIATE_MIN_RSA_BITS} bits`,
    },
    "p224-intermediate": {
        reason: `Go verifies P-224; Istio and config.ts allow only ${ALLOWED_EC_CURVES.join("/")} (P-224 is the tls provider's default)`,
        problem: "has an ECDSA key on P-224; only P-256 and P-384 are allowed",
    },
    "p521-root": {
        reason: "Go verifies P-521; config.ts allows only P-256/P-384, and so does this check for provided bundles",
        problem: "has an ECDSA key on P-521",
    },
    "ed25519-ca": {
        reason: "Go verifies Ed25519, but istiod's KeyCertBundle.CertOptions knows only RSA and ECDSA CA keys",
        problem: "has an Ed25519 key; only RSA and ECDSA CA keys are allowed",
    },
    "sha1-self-signed-root": {
        reason: "Go never checks a root's own signature; a SHA-1 self-signature still fails scanners and other verifiers",
        problem: "is self-signed with sha1WithRSAEncryption: Go never checks a root's own signature",
    },
    "reversed-chain": {
        reason: "Go's pools ignore order; cert-chain.pem goes out with every workload certificate, and TLS 1.2 peers want it in order",
        problem: "cert-chain.pem does not start with ca-cert.pem",
    },
    "chain-without-root": {
        reason: "Go takes the root from root-cert.pem; the chain every workload presents must reach the root itself",
        problem: "cert-chain.pem does not end with a certificate of root-cert.pem",
    },
    "intermediate-outlives-root": {
        reason: "Go does not compare lifetimes; istiod clamps workload certificates only to ca-cert.pem (ca.go minTTL)",
        problem: "outlives its root",
    },
    "ca-without-keycertsign": {
        reason:
            "Go checks keyCertSign only on issuers (CheckSignatureFrom), and ca-cert.pem is the leaf of istiod's Verify; " +
            "Envoy (BoringSSL) then refuses every workload certificate it signs",
        problem: "has a keyUsage without keyCertSign",
    },
    "root-cert-is-intermediate": {
        reason: "Go anchors at any certificate of root-cert.pem; the trust anchor every workload gets must be the self-signed root",
        problem: "is not self-signed",
    },
    "ca-cert-is-root": {
        reason: "Go lets the root sign workloads itself; that puts the root key in every cluster's cacerts Secret",
        problem: "is the root itself",
    },
};

interface GoVerdict {
    name: string;
    ok: boolean;
    error?: string;
}

let ca: OpensslCa;
let tmp: string;
let corpus: CorpusBundle[];
let go: Map<string, GoVerdict>;
let ts: Map<string, string[]>;

/** Build tools/x509check with the local toolchain only: a temp GOCACHE/GOPATH, no proxy, no toolchain download. */
async function buildChecker(dir: string): Promise<string> {
    const probe = spawnSync("go", ["version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
        throw new Error(
            "the Go toolchain is missing (`go version` failed): apt-get install golang-go. " +
                "This test proves components/caBundle.ts against Go's crypto/x509, which is what istiod runs; CI installs it.",
        );
    }
    const bin = path.join(dir, "x509check");
    // Asynchronously: a cold build takes long enough to block the vitest worker past its RPC deadline.
    await execFileAsync("go", ["build", "-o", bin, "."], {
        cwd: TOOL_DIR,
        env: {
            ...process.env,
            GOFLAGS: "-mod=mod",
            GOCACHE: path.join(dir, "gocache"),
            GOPATH: path.join(dir, "gopath"),
            GOPROXY: "off",
            GOTOOLCHAIN: "local",
            GOTELEMETRY: "off",
            CGO_ENABLED: "0",
        },
    });
    return bin;
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-go-agreement-"));
    const bin = await buildChecker(tmp);
    ca = new OpensslCa();
    corpus = buildCorpus(ca);
    const out = execFileSync(bin, [], { input: JSON.stringify(corpus), encoding: "utf8" });
    go = new Map(
        out
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as GoVerdict)
            .map((v) => [v.name, v]),
    );
    ts = new Map(corpus.map((b) => [b.name, verifyCaBundle(b, new Date(b.now))]));
}, 120_000);
afterAll(() => {
    ca?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("verifyCaBundle agrees with Go's crypto/x509 (tools/x509check) on an openssl-made corpus", () => {
    it("has at least 25 bundles, good and bad, with unique names, and a Go verdict for each", () => {
        expect(corpus.length).toBeGreaterThanOrEqual(25);
        expect(new Set(corpus.map((b) => b.name)).size).toBe(corpus.length);
        expect(corpus.filter((b) => b.go === "accepts").length).toBeGreaterThanOrEqual(10);
        expect(corpus.filter((b) => b.go === "rejects").length).toBeGreaterThanOrEqual(10);
        expect([...go.keys()]).toEqual(corpus.map((b) => b.name));
    });

    it("each bundle is what it claims: Go accepts or rejects it as meant, with the meant error", () => {
        const wrong = corpus
            .filter((b) => {
                const v = go.get(b.name)!;
                return v.ok !== (b.go === "accepts") || (b.goError !== undefined && !v.error?.includes(b.goError));
            })
            .map((b) => ({ name: b.name, meant: b.go, goError: b.goError, got: go.get(b.name) }));
        expect(wrong).toEqual([]);
    });

    it("everything Go rejects, verifyCaBundle rejects", () => {
        const missed = corpus
            .filter((b) => !go.get(b.name)!.ok && ts.get(b.name)!.length === 0)
            .map((b) => ({ name: b.name, go: go.get(b.name)!.error }));
        expect(missed).toEqual([]);
    });

    it("everything Go accepts, verifyCaBundle accepts, except the named policy differences", () => {
        const extra = corpus.filter((b) => go.get(b.name)!.ok && ts.get(b.name)!.length > 0);
        const unexplained = extra.filter((b) => !(b.name in POLICY_DIFFERENCES)).map((b) => ({ name: b.name, problems: ts.get(b.name) }));
        expect(unexplained).toEqual([]);
    });

    it("each named difference is in the corpus, Go accepts it, and verifyCaBundle refuses it for the stated reason", () => {
        for (const [name, d] of Object.entries(POLICY_DIFFERENCES)) {
            const v = go.get(name);
            expect(v, `${name} is not in the corpus`).toBeDefined();
            expect(v!.ok, `${name}: Go rejects it (${v!.error}), so it is no policy difference`).toBe(true);
            const problems = ts.get(name)!;
            expect(
                problems.some((p) => p.includes(d.problem)),
                `${name} (${d.reason}): expected a problem containing ${JSON.stringify(d.problem)}, ` +
                    `got ${JSON.stringify(problems, null, 2)}`,
            ).toBe(true);
        }
    });

    it("the good bundles pass both, so the agreement is not all refusals", () => {
        const good = corpus.filter((b) => b.name.startsWith("good-"));
        expect(good.length).toBeGreaterThanOrEqual(10);
        expect(good.map((b) => [b.name, go.get(b.name)!.ok, ts.get(b.name)])).toEqual(good.map((b) => [b.name, true, []]));
    });

    it("agreement figure: identical verdicts on all bundles but the named differences", () => {
        const same = corpus.filter((b) => go.get(b.name)!.ok === (ts.get(b.name)!.length === 0)).length;
        const differ = corpus.length - same;
        expect(differ).toBe(Object.keys(POLICY_DIFFERENCES).length);
        console.log(`Go agreement: ${same}/${corpus.length} identical verdicts, ${differ} named policy refusals, 0 unexplained`);
    });
});
