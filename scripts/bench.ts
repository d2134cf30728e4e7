// The benchmark's command line (the work is in offline/bench/).
//
//   npm run bench [-- --quick]
//
// Exit code: 0 every measured target passes (unmeasured ones are SKIP); 1 a measured target fails; 2 a run breaks.
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { benchExitCode, main, Options } from "../offline/bench/bench";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const program = new Command()
        .name("bench")
        .description("Program cost and simulated deploy critical path, 2 to 50 clusters")
        .option("--ns <list>", "cluster counts", "2,5,10,25,50")
        .option("--multinet <list>", "cluster counts of primary-remote on N networks (deploy only)", "2,10,50")
        .option("--mixed <list>", "cluster counts of the mixed GKE/EKS scenario (deploy only)", "2,10,50")
        .option("--kind <list>", "cluster counts of kind clusters (deploy only)", "2")
        .option("--runs <n>", "cost runs per point (median)", "3")
        .option("--quick", "N = 2,5,10 (deploy-only scenarios 2,10), one run per point, results to /tmp")
        .option("--source-maps", "keep Node's source maps on in the runs")
        .option("--strict", "(the default now: exit 1 when a measured target fails)")
        .option("--out <dir>", "where results.md and results.json go", path.join(ROOT, "bench"))
        .parse();
    const a = program.opts<{
        ns: string;
        multinet: string;
        mixed: string;
        kind: string;
        runs: string;
        quick?: boolean;
        sourceMaps?: boolean;
        strict?: boolean;
        out: string;
    }>();
    const list = (s: string) => s.split(",").filter(Boolean).map(Number);
    const o: Options = {
        ns: a.quick ? [2, 5, 10] : list(a.ns),
        multinetNs: a.quick ? [2, 10] : list(a.multinet),
        mixedNs: a.quick ? [2, 10] : list(a.mixed),
        kindNs: list(a.kind),
        runs: a.quick ? 1 : Number(a.runs),
        // A smoke run never overwrites the committed results unless asked to.
        out: a.quick && a.out === path.join(ROOT, "bench") ? path.join(os.tmpdir(), "mesh-bench-quick") : a.out,
        sourceMaps: !!a.sourceMaps,
        full:
            !a.quick &&
            program.getOptionValueSource("ns") === "default" &&
            program.getOptionValueSource("runs") === "default" &&
            !a.sourceMaps,
    };
    main(o).then(
        (ok) => process.exit(benchExitCode(ok)),
        (e) => {
            console.error(e instanceof Error ? e.stack : e);
            process.exit(2);
        },
    );
}
