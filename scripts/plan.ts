// The offline plan's command line (the work is in offline/offlinePlan.ts).
//
//   npm run plan -- --stack dev [--out out] [--against old/plan.json] [--stack-dir dir]
//
// Exit code (EXIT_CODES below, also in --help): 0 planned, and with --against nothing changes;
// 2 planned and something changes, at the mesh level or in the change plan (a resource replaced,
// deleted, created or updated); 1 an error (bad config, unreadable --against file, …), one line per
// problem on stderr.
// Progress goes to stderr, one line per phase: `plan dev: running program 1.92 s`.
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { outDirProblem } from "../offline/outArg";
import { expectedKeys, readStackFile, stackNameProblem } from "../offline/stackFile";
import { prefetchKeys } from "../simulator/tlsSim";

const ROOT = path.resolve(__dirname, "..");

/** Stack files up to this size are read twice (once here to start key generation early). */
const PREFETCH_MAX_BYTES = 64 * 1024;

function stackFileSize(dir: string, stack: string): number | undefined {
    try {
        const st = fs.statSync(path.join(dir, `Pulumi.${stack}.yaml`));
        return st.isFile() ? st.size : undefined;
    } catch {
        return undefined;
    }
}

function formatBytes(n: number): string {
    return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const EXIT_CODES = [
    "Exit codes:",
    "  0  planned; with --against: no change (the mesh-level diff and the change plan are both empty)",
    "  1  an error or a refused change (bad config, unreadable --against file, a skipped root-rotation phase); one line per problem on stderr",
    "  2  planned with --against, and something changes: at the mesh level, or any resource replaced, deleted, created or updated",
    "     (changes.json); every replacement, deletion and delete-first step that breaks something gets a !! WARNING line",
].join("\n");

if (require.main === module) {
    const program = new Command()
        .name("plan")
        .description(
            "Render what `pulumi up` would create for a stack, offline; with --against, the mesh-level diff and the change plan " +
                "(exit 2 when anything changes)",
        )
        .addHelpText("after", `\n${EXIT_CODES}`)
        .option("-s, --stack <name>", "stack to plan (reads Pulumi.<stack>.yaml)", "dev")
        .option("-o, --out <dir>", "output directory", path.join(ROOT, "out"))
        .option("-a, --against <plan.json>", "an earlier plan.json to diff against")
        .option("--stack-dir <dir>", "the folder with Pulumi.yaml and Pulumi.<stack>.yaml", ROOT)
        .parse();
    const o = program.opts<{ stack: string; out: string; against?: string; stackDir: string }>();
    // One line per phase with its time, so a CI log shows where a slow plan spends it.
    const progress = (line: string) => void process.stderr.write(`${line}\n`);
    // --out first: a folder on real storage, never a file, a device or /proc (offline/outArg.ts).
    const badOut = outDirProblem(o.out);
    if (badOut) {
        console.error(`error: --out ${o.out}: ${badOut}`);
        process.exit(1);
    }
    // The first line comes before anything is parsed, so a big or slow file never leaves a silent terminal.
    const size = stackNameProblem(o.stack) ? undefined : stackFileSize(o.stackDir, o.stack);
    if (size !== undefined) progress(`plan ${o.stack}: reading Pulumi.${o.stack}.yaml, ${formatBytes(size)}`);
    // Start generating the trust keys (RSA-4096: about a second each) on the thread pool while the
    // plan engine and the program load; the plan itself reads and checks the stack file again (a
    // small file: a large one is read once, by the plan).
    try {
        if (size !== undefined && size <= PREFETCH_MAX_BYTES) {
            const wanted = expectedKeys(readStackFile(o.stack, o.stackDir, { env: {} }).config);
            if (wanted) prefetchKeys(wanted.spec, wanted.count);
        }
    } catch {
        // Reported by the plan below.
    }
    import("../offline/offlinePlan.js")
        .then(({ plan }) => {
            // performance.now() counts from process start: node, tsx and the modules.
            progress(`plan ${o.stack}: loading ${(performance.now() / 1000).toFixed(2)} s`);
            return plan(o.stack, o.out, undefined, { against: o.against, progress, stackDir: o.stackDir });
        })
        .then(
            (r) => process.exit(!r.ok ? 1 : r.changed ? 2 : 0),
            (e) => {
                console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
                process.exit(1);
            },
        );
}
