// The policy pack run offline against a stack (the work is in offline/policyRun.ts).
//
//   npm run policy -- --stack dev [--stack-dir dir] [--config policy-config.json]
//
// Exit code: 0 every mandatory policy passes; 1 a mandatory policy fails, or the stack does not plan.
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";

const ROOT = path.resolve(__dirname, "..");

if (require.main === module) {
    const o = new Command()
        .name("policy")
        .description("Run the policy pack (policy/) on a stack's offline plan, without the Pulumi CLI")
        .option("-s, --stack <name>", "stack (reads Pulumi.<stack>.yaml)", "dev")
        .option("--stack-dir <dir>", "the folder with Pulumi.yaml and Pulumi.<stack>.yaml", ROOT)
        .option("--config <file>", "policy config as `pulumi preview --policy-pack-config` takes it: policy name → config")
        .addHelpText(
            "after",
            "\nExit codes:\n  0  every mandatory policy passes\n  1  a mandatory policy fails, or the stack does not plan",
        )
        .parse()
        .opts<{ stack: string; stackDir: string; config?: string }>();
    let config: Record<string, Record<string, unknown>> = {};
    if (o.config) {
        try {
            config = JSON.parse(fs.readFileSync(o.config, "utf8"));
        } catch (e) {
            console.error(`error: --config ${o.config}: ${(e as Error).message}`);
            process.exit(1);
        }
    }
    import("../offline/policyRun.js")
        .then(async ({ runPolicyPack, formatPolicyRun }) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program loads after the simulator's mocks are installed
            const run = await runPolicyPack(o.stack, o.stackDir, async () => require(path.join(ROOT, "index.ts")), config);
            const { text, exit } = formatPolicyRun(o.stack, run);
            (exit === 0 ? process.stdout : process.stderr).write(text);
            process.exit(exit);
        })
        .catch((e) => {
            console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        });
}
