// The post-deploy check of a stack: the live clusters against the plan (offline/checkCommand.ts,
// components/check/, docs/check.md).
//
//   npm run check -- --stack <name> [--stack-dir DIR] [--kubeconfig name=path[#context] …] [--plan plan.json] [--json]
//
// Exit: 0 every check passed (warnings allowed); 1 a check failed; 2 a cluster could not be reached;
// 64 usage or setup (no plan, no kubeconfigs). When the local clusters of `npm run e2e:clusters` run,
// the command enters their network namespace by itself (--netns NAME for another, --no-netns to stay).
import * as path from "node:path";
import { Command } from "commander";
import { engineEnv } from "../e2e/engine";
import { builtTools } from "../e2e/tools";
import { EXIT, formatReport, runCheck } from "../offline/checkCommand";
import { enterNetns, netnsToEnter } from "./engine";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const program = new Command()
        .name("check")
        .description("check a deployed mesh against its plan, through each cluster's Kubernetes API")
        .requiredOption("-s, --stack <name>", "the stack (Pulumi.<name>.yaml)")
        .option("--stack-dir <dir>", "the folder with Pulumi.yaml and the stack file", ROOT)
        .option(
            "--kubeconfig <name=path>",
            "a cluster's kubeconfig (repeat for each); default: the stack output kubeconfigs",
            (v: string, acc: string[]) => [...acc, v],
            [] as string[],
        )
        .option("--plan <plan.json>", "compare with this offline plan instead of planning the stack now")
        .option("--json", "print the report as JSON")
        .option("--no-tier2", "skip istiod's debug endpoints")
        .option("--timeout <seconds>", "per request", "10")
        .option("--netns <name>", "run inside this network namespace")
        .option("--no-netns", "stay in this network namespace")
        .addHelpText("after", "\nExit codes: 0 all checks pass; 1 a check failed; 2 a cluster is unreachable; 64 usage or setup.");
    program.parse();
    const o = program.opts<{
        stack: string;
        stackDir: string;
        kubeconfig: string[];
        plan?: string;
        json?: boolean;
        tier2: boolean;
        timeout: string;
        netns?: string | false;
    }>();
    enterNetns(netnsToEnter(o));
    (async () => {
        // The CLI this machine built (npm run e2e:tools), when there is one: it reads the stack outputs.
        const tools = await builtTools();
        // The Automation API runs `pulumi` from this process's PATH.
        if (tools.ok) Object.assign(process.env, engineEnv(tools.layout));
        const env = process.env;
        let result: Awaited<ReturnType<typeof runCheck>>;
        try {
            result = await runCheck({
                stack: o.stack,
                stackDir: path.resolve(o.stackDir),
                kubeconfigs: o.kubeconfig,
                plan: o.plan,
                env,
                tier2: o.tier2,
                timeoutMs: Number(o.timeout) * 1000,
            });
        } catch (e) {
            console.error(`check: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(EXIT.usage);
        }
        if (o.json)
            console.log(
                JSON.stringify({
                    ok: result.report.ok,
                    exit: result.exit,
                    unreachable: result.report.unreachable,
                    results: result.report.results,
                }),
            );
        else console.log(formatReport(result.report));
        process.exit(result.exit);
    })().catch((e: unknown) => {
        console.error(`check: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(EXIT.usage);
    });
}
