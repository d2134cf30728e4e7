// The offline plan's command line (the work is in offline/plan.ts).
//
//   npm run plan -- --stack dev [--out out] [--against old/plan.json]
//
// Exit code: 0 planned (and, with --against, nothing changed); 2 planned and the mesh changes;
// 1 an error (bad config, unreadable --against file, …), one line per problem on stderr.
import * as path from "node:path";
import { Command } from "commander";
import { plan } from "../offline/plan";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const program = new Command()
        .name("plan")
        .description("Render what `pulumi up` would create for a stack, offline; with --against, the mesh-level diff (exit 2 when the mesh changes)")
        .option("-s, --stack <name>", "stack to plan (reads Pulumi.<stack>.yaml)", "dev")
        .option("-o, --out <dir>", "output directory", path.join(ROOT, "out"))
        .option("-a, --against <plan.json>", "an earlier plan.json to diff against")
        .parse();
    const o = program.opts<{ stack: string; out: string; against?: string }>();
    plan(o.stack, o.out, undefined, { against: o.against }).then(
        (r) => process.exit(!r.ok ? 1 : r.diff?.changed ? 2 : 0),
        (e) => {
            console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        },
    );
}
