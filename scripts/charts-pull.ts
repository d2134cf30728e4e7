// Fill the chart cache the render reads, or a local chart folder a stack can install from
// (offline/render/charts.ts does the work):
//
//   npm run charts:pull -- [--stack dev] [--into <dir>]
//       helm pull base, istiod and gateway at the stack's istio.version from its istio.repository
//       (an https Helm repository or an oci:// reference; a local folder is copied)
//   npm run charts:pull -- --all-stacks
//       the same for every shipped stack (Pulumi.*.yaml), once per version and source, skipping
//       versions already in the cache and stacks whose repository is a local folder
//   npm run charts:pull -- --source <istio/istio checkout> --tag <tag> [--into <dir>]
//       stage the charts of a source checkout at that tag as release <tag> (no network)
//
// Without --into, the charts go to node_modules/.cache/multicluster-mesh/charts-<version>/. A folder
// written with --into holds base/, istiod/ and gateway/: point a stack's istio.repository at it
// (docs/istio-sources.md). Exit code: 0 done; 2 an error (repository unreachable, Helm checksum, …).
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { ISTIO_REPOSITORY, ISTIO_VERSION } from "../components/istio";
import { chartSource, retiredLocation, sourceText } from "../components/istioSource";
import { readStackFile } from "../offline/offlinePlan";
import { pullCharts, pulledChartsDir, stageSourceCharts } from "../offline/render/charts";
import { helmBinary } from "../offline/render/helm";

if (require.main === module) {
    const program = new Command()
        .name("charts:pull")
        .description("Get the Istio charts a stack pins (or a source checkout's) into the render's cache or a local chart folder")
        .option("-s, --stack <name>", "stack whose istio.version and istio.repository to use", "dev")
        .option("--source <dir>", "an istio/istio checkout (or a folder of base/, istiod/, gateway/) to stage instead of pulling")
        .option("--tag <tag>", "with --source: the istio/istio tag the checkout is at (becomes the charts' version)")
        .option("--into <dir>", "write the charts here (a local chart folder) instead of the cache")
        .option("--all-stacks", "pull what every shipped stack pins (Pulumi.*.yaml), skipping what the cache holds")
        .parse();
    const o = program.opts<{ stack: string; source?: string; tag?: string; into?: string; allStacks?: boolean }>();
    (async () => {
        if (o.allStacks) {
            const root = path.resolve(__dirname, "..");
            const stacks = fs
                .readdirSync(root)
                .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
                .map((f) => f.slice("Pulumi.".length, -".yaml".length));
            const helm = await helmBinary();
            const done = new Set<string>();
            for (const stack of stacks) {
                const { version, repository } = pinnedOf(stack);
                const source = chartSource(repository);
                if ("problem" in source) throw new Error(`stack ${stack}: istio.repository ${source.problem}`);
                const key = `${version} ${sourceText(source)}`;
                if (source.kind === "local" || done.has(key) || fs.existsSync(pulledChartsDir(version))) continue;
                done.add(key);
                const dest = await pullCharts(helm, version, source, pulledChartsDir(version));
                console.log(`pulled base, istiod and gateway ${version} from ${sourceText(source)} into ${dest} (stack ${stack})`);
            }
            return;
        }
        if (o.source !== undefined) {
            if (!o.tag) throw new Error("--source needs --tag <tag> (the istio/istio tag the checkout is at)");
            const dest = stageSourceCharts(o.source, o.tag, o.into ? path.resolve(o.into) : pulledChartsDir(o.tag));
            console.log(`staged base, istiod and gateway of ${path.resolve(o.source)} as release ${o.tag} into ${dest}`);
            return;
        }
        const { version, repository } = pinnedOf(o.stack);
        const source = chartSource(repository);
        if ("problem" in source) throw new Error(`stack ${o.stack}: istio.repository ${source.problem}`);
        const dest = await pullCharts(await helmBinary(), version, source, o.into ? path.resolve(o.into) : pulledChartsDir(version));
        console.log(`pulled base, istiod and gateway ${version} from ${sourceText(source)} into ${dest}`);
    })().catch((e: unknown) => {
        console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
    });
}

/** A stack's pinned version and repository (defaults as the config has them); a retired repository is refused. */
function pinnedOf(stack: string): { version: string; repository: string } {
    const cfg = readStackFile(stack).config;
    const mesh = Object.entries(cfg).find(([k]) => k.endsWith(":mesh"))?.[1] as
        { istio?: { version?: string; repository?: string } } | undefined;
    const version = String(mesh?.istio?.version ?? ISTIO_VERSION);
    const repository = mesh?.istio?.repository ?? ISTIO_REPOSITORY;
    const retired = retiredLocation(repository);
    if (retired) throw new Error(`stack ${stack}: istio.repository ${repository} is retired (${retired.location}); use ${retired.charts}`);
    return { version, repository };
}
