// Build the end-to-end suite's real tools from Go modules into the cache (e2e/tools.ts), or reuse them.
//
//   npm run e2e:tools            # cold: about 18 minutes on 2 cores; cached: seconds
//
// The last line is `tools: <folder>`: the folder holding the `pulumi` it built (and every other
// binary), for PATH when you configure stacks outside the suite. PULUMI_HOME with the provider plugin
// is printed on the line before.
import { ensureTools } from "../e2e/tools";

if (require.main === module) {
    const started = Date.now();
    ensureTools((line) => console.error(line))
        .then(({ layout, times }) => {
            const cold = times.filter((t) => !t.cached);
            console.error(
                `e2e:tools: ready in ${Math.round((Date.now() - started) / 1000)} s` +
                    (cold.length > 0
                        ? ` (built: ${cold.map((t) => `${t.tool} ${Math.round(t.ms / 1000)} s`).join(", ")})`
                        : " (all cached)"),
            );
            console.log(`pulumi-home: ${layout.pulumiHome}`);
            console.log(`tools: ${layout.bin}`);
        })
        .catch((e: unknown) => {
            console.error(`e2e:tools: ${e instanceof Error ? e.message : String(e)}`);
            process.exit(1);
        });
}
