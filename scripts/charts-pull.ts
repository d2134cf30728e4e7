// Fill the chart cache the render reads: `helm pull` of istio/base, istio/istiod and istio/gateway at
// the stack's pinned version from the stack's istio.repository (the work is in offline/render/charts.ts).
//
//   npm run charts:pull -- [--stack dev]
//
// Exit code: 0 pulled; 2 an error (repository unreachable, Helm checksum, …).
import { Command } from "commander";
import { ISTIO_REPOSITORY, ISTIO_VERSION } from "../components/istio";
import { readStackFile } from "../offline/plan";
import { pullCharts } from "../offline/render/charts";
import { helmBinary } from "../offline/render/helm";

if (require.main === module) {
    const program = new Command()
        .name("charts:pull")
        .description("helm pull the Istio charts a stack pins into the local cache used by npm run render")
        .option("-s, --stack <name>", "stack whose istio.version and istio.repository to use", "dev")
        .parse();
    const o = program.opts<{ stack: string }>();
    (async () => {
        const cfg = readStackFile(o.stack).config;
        const mesh = Object.entries(cfg).find(([k]) => k.endsWith(":mesh"))?.[1] as
            { istio?: { version?: string; repository?: string } } | undefined;
        const version = String(mesh?.istio?.version ?? ISTIO_VERSION);
        const repository = mesh?.istio?.repository ?? ISTIO_REPOSITORY;
        const dest = await pullCharts(await helmBinary(), version, repository);
        console.log(`pulled base, istiod and gateway ${version} from ${repository} into ${dest}`);
    })().catch((e) => {
        console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
    });
}
