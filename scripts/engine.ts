// The real Pulumi engine on any stack of this project (e2e/engine.ts), with the tools of
// `npm run e2e:tools`:
//
//   npm run engine -- <preview|up|refresh|destroy> --stack <name> [--cwd DIR] [--expect-no-changes] [--json]
//
// State: PULUMI_BACKEND_URL (default file://~/.cache/multicluster-mesh/e2e/state), passphrase:
// PULUMI_CONFIG_PASSPHRASE (default a fixed local one). When the local clusters of
// `npm run e2e:clusters` run, the command enters their network namespace by itself (their API
// servers are reachable only there); --netns names another, --no-netns stays outside.
//
// Exit: 0 the operation succeeded (and, with --expect-no-changes, planned nothing); 1 it failed, or
// changes were found; 64 usage. With --json the last line is
// { "op", "counts", "steps": [{ "op", "type", "name" }] }.
import { spawnSync } from "node:child_process";
import { Command, Option } from "commander";
import { alive, currentNetns, DEFAULT_NETNS, netnsExists, readState } from "../e2e/clusters";
import { EngineOp, runEngine } from "../e2e/engine";
import { builtTools } from "../e2e/tools";
import { clustersDir } from "./e2e-clusters";

/** The namespace to run in: --netns, or the default one while its clusters run; undefined to stay. */
export function netnsToEnter(o: { netns?: string | false }): string | undefined {
    if (o.netns === false) return undefined;
    if (typeof o.netns === "string") return o.netns;
    const state = readState(clustersDir(DEFAULT_NETNS));
    return state && netnsExists(DEFAULT_NETNS) && state.processes.some(alive) ? DEFAULT_NETNS : undefined;
}

/** Re-run this command inside the namespace when it is not there yet; returns only when already inside. */
export function enterNetns(netns: string | undefined): void {
    if (!netns || currentNetns() === netns) return;
    if (!netnsExists(netns)) {
        console.error(`network namespace ${netns} does not exist (npm run e2e:clusters -- up N starts clusters in ${DEFAULT_NETNS})`);
        process.exit(1);
    }
    const r = spawnSync("ip", ["netns", "exec", netns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
        stdio: "inherit",
    });
    process.exit(r.status ?? 1);
}

if (require.main === module) {
    const program = new Command()
        .name("engine")
        .description("run the real Pulumi engine (Automation API, inline program) on a stack")
        .addOption(new Option("--stack <name>", "stack (Pulumi.<name>.yaml in --cwd)").makeOptionMandatory())
        .argument("<op>", "preview | up | refresh | destroy")
        .option("--cwd <dir>", "folder with Pulumi.yaml and the stack file (default: this repository)")
        .option("--expect-no-changes", "fail when the operation plans or makes any change")
        .option("--json", "print the result as JSON on the last line")
        .option("--netns <name>", "run inside this network namespace")
        .option("--no-netns", "stay in this network namespace")
        .addHelpText("after", "\nExit codes: 0 success; 1 failed, or changes found with --expect-no-changes; 64 usage.");
    program.parse();
    const [op] = program.args;
    const o = program.opts<{ stack: string; cwd?: string; expectNoChanges?: boolean; json?: boolean; netns?: string | false }>();
    if (!["preview", "up", "refresh", "destroy"].includes(op)) {
        console.error(`engine: unknown operation "${op}"; use preview, up, refresh or destroy`);
        process.exit(64);
    }
    enterNetns(netnsToEnter(o));
    (async () => {
        const tools = await builtTools();
        if (!tools.ok) {
            console.error(`engine: ${tools.why}`);
            process.exit(1);
        }
        if (!process.env.PULUMI_CONFIG_PASSPHRASE)
            console.error("engine: PULUMI_CONFIG_PASSPHRASE is not set; using the fixed local e2e passphrase");
        const r = await runEngine({
            op: op as EngineOp,
            stack: o.stack,
            workDir: o.cwd,
            expectNoChanges: o.expectNoChanges,
            tools: tools.layout,
            onOutput: (t) => process.stderr.write(t),
        });
        const summary = Object.entries(r.counts)
            .map(([k, n]) => `${n} ${k}`)
            .join(", ");
        console.error(
            `engine: ${op} ${o.stack} ${r.ok ? "succeeded" : "FAILED"} in ${(r.ms / 1000).toFixed(1)} s: ${summary || "nothing"}`,
        );
        if (!r.ok && r.error) console.error(`engine: ${r.error.split("\n").slice(0, 40).join("\n")}`);
        if (o.json)
            console.log(
                JSON.stringify({
                    op: r.op,
                    ok: r.ok,
                    counts: r.counts,
                    steps: r.steps.map(({ op, type, name }) => ({ op, type, name })),
                    // Stack outputs of an up, secret ones as "[secret]".
                    ...(r.outputs ? { outputs: r.outputs } : {}),
                }),
            );
        process.exit(r.ok ? 0 : 1);
    })().catch((e: unknown) => {
        console.error(`engine: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
    });
}
