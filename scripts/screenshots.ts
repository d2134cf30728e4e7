// Plan every shipped stack offline and keep a screenshot of its topology picture, as a person sees it
// in Chromium, under docs/<stack>.png (needs Debian's `chromium`; .ci/run installs it).
//
//   npm run screenshots [-- --stack dev]
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { launchChromium, screenshotSvg } from "../offline/browser";
import { runProgram } from "../offline/runProgram";
import { buildPlanFile } from "../offline/planFile";
import { meshSvg } from "../offline/meshSvg";
import { readStackFile } from "../offline/plan";

const ROOT = path.resolve(__dirname, "..");

export function shippedStacks(dir = ROOT): string[] {
    return fs
        .readdirSync(dir)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .map((f) => f.slice("Pulumi.".length, -".yaml".length))
        .sort();
}

/** The topology picture of one stack's offline plan (canned certificates: the picture shows no key material). */
async function svgOf(stack: string): Promise<string> {
    const sf = readStackFile(stack);
    // A fresh copy of the program for every stack: forget its modules (not the SDK's, whose mocks runProgram resets).
    const mine = (k: string) => k.startsWith(ROOT + path.sep) && !k.includes(`${path.sep}node_modules${path.sep}`) && !k.startsWith(path.join(ROOT, "scripts") + path.sep);
    for (const k of Object.keys(require.cache)) if (mine(k)) delete require.cache[k];
    const r = await runProgram({ config: sf.config, secretKeys: sf.secretKeys, stack, load: async () => require(path.join(ROOT, "index.ts")), sim: { cannedTls: true } });
    if (r.error) throw new Error(`stack ${stack}: ${r.error.message.split("\n")[0]}`);
    return meshSvg(buildPlanFile({ stack, outputs: r.outputs, registrations: r.sim.registrations }));
}

async function main(): Promise<void> {
    const o = new Command().name("screenshots").option("-s, --stack <name...>", "stacks (default: every shipped stack)").option("-o, --out <dir>", "where the PNGs go", path.join(ROOT, "docs")).parse().opts<{ stack?: string[]; out: string }>();
    const stacks = o.stack ?? shippedStacks();
    const browser = await launchChromium();
    try {
        for (const stack of stacks) {
            const svg = await svgOf(stack);
            const file = path.join(o.out, `${stack}.png`);
            await screenshotSvg(browser.page, svg, `mesh ${stack}`, file);
            const rel = path.relative(process.cwd(), file);
            console.log(`wrote ${rel && !rel.startsWith("..") ? rel : file}`);
        }
    } finally {
        await browser.close();
    }
}

if (require.main === module) {
    main().catch((e) => {
        console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
    });
}
