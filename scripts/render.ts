// The real manifests' command line (the work is in offline/render/render.ts).
//
//   npm run render -- --stack dev [--out out] [--reuse-plan] [--against <old out>/<stack>] [--stack-dir dir]
//
// Plans the stack offline, renders every Istio release of every cluster with Helm 3 and the official
// charts into out/<stack>/<cluster>/manifests/<release>.yaml, and checks the objects.
// Exit code: 0 rendered and every check passed; 1 a check failed; 2 an error (plan, Helm, checksum);
// 3 the charts are not available (the message says how to get them).
import * as path from "node:path";
import { Command } from "commander";
import * as fs from "node:fs";
import { diffManifests, formatManifestDiff } from "../offline/render/manifestDiff";
import { EXIT, formatRender, render } from "../offline/render/render";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const program = new Command()
        .name("render")
        .description("Render every Istio release of a stack with Helm 3 and the official charts, and check the objects")
        .option("-s, --stack <name>", "stack to render (reads Pulumi.<stack>.yaml)", "dev")
        .option("-o, --out <dir>", "output directory", path.join(ROOT, "out"))
        .option("--reuse-plan", "render the plan already in <out>/<stack>/ instead of planning again")
        .option("--against <dir>", "an earlier render's out/<stack>/: print the per-object diff of the manifests")
        .option("--stack-dir <dir>", "the folder with Pulumi.yaml and Pulumi.<stack>.yaml", ROOT)
        .parse();
    const o = program.opts<{ stack: string; out: string; reusePlan?: boolean; against?: string; stackDir: string }>();
    const stackDir = path.resolve(o.stackDir) === ROOT ? undefined : path.resolve(o.stackDir);
    render(o.stack, { outDir: o.out, reusePlan: o.reusePlan === true, ...(stackDir ? { planOptions: { stackDir } } : {}) }).then(
        (r) => {
            const text = formatRender(r);
            (r.exit === EXIT.ok ? process.stdout : process.stderr).write(text);
            if (o.against && r.exit !== EXIT.noCharts) {
                const diff = formatManifestDiff(diffManifests(o.against, path.join(o.out, o.stack)), o.against);
                fs.writeFileSync(path.join(o.out, o.stack, "manifests-diff.txt"), diff);
                process.stdout.write(diff);
            }
            process.exit(r.exit);
        },
        (e) => {
            console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(EXIT.error);
        },
    );
}
