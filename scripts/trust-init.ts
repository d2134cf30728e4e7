// `npm run trust:init -- --stack <name> [--stack-dir <dir>] [--out <dir>] [--rotation]`: an offline root and one
// intermediate per istiod cluster, outside the repository, and the commands for provided trust
// (the work is in offline/trustInit.ts).
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { readStackFile, stackNameProblem } from "../offline/stackFile";
import { trustInit } from "../offline/trustInit";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const o = new Command()
        .name("trust:init")
        .description(
            "Create an offline root CA and one intermediate per istiod cluster (files 0600, outside the repo) " +
                "and print the pulumi config commands",
        )
        .requiredOption("-s, --stack <name>", "stack whose clusters get intermediates (reads Pulumi.<stack>.yaml)")
        .option("-o, --out <dir>", "directory outside the repository", path.join(os.homedir(), ".multicluster-mesh", "trust"))
        .option("--rotation", "make the new root of a staged rotation (newRootCertPem / newCaBundles)", false)
        .option("--stack-dir <dir>", "the folder with Pulumi.<stack>.yaml (default: this repository)", ROOT)
        .parse()
        .opts<{ stack: string; out: string; rotation: boolean; stackDir: string }>();
    const bad = stackNameProblem(o.stack);
    if (bad) {
        console.error(`error: --stack ${bad}`);
        process.exit(1);
    }
    Promise.resolve()
        .then(() =>
            trustInit({
                stack: o.stack,
                out: o.out,
                repoRoot: ROOT,
                rotation: o.rotation,
                mesh: readStackFile(o.stack, path.resolve(o.stackDir), { env: {} }).config["multicluster-mesh:mesh"],
            }),
        )
        .then(
            (r) => {
                console.log(`wrote ${r.files.length} files (mode 0600) under ${r.dir}`);
                for (const c of r.commands) console.log(c);
            },
            (e) => {
                console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
                process.exit(1);
            },
        );
}
