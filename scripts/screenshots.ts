// Plan every shipped stack offline and keep a screenshot of its topology picture, as a person sees it
// in Chromium, under docs/<stack>.png, and of synthetic 10-cluster meshes (offline/syntheticMesh.ts)
// under docs/mesh-10-clusters*.png (needs Debian's `chromium`; .ci/run installs it). Only the shipped
// stacks (SHIPPED_STACKS): a stack of your own (Pulumi.mine.yaml) gets a picture only when named.
//
//   npm run screenshots [-- --stack dev mine] [--out dir]   (--stack: only those stacks, no synthetic mesh)
//
// A stack that does not plan stops the run with every problem it has, one line each.
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { launchChromium, screenshotSvg } from "../offline/browser";
import { runProgram } from "../offline/runProgram";
import { buildPlanFile } from "../offline/planFile";
import { meshSvg } from "../offline/meshSvg";
import { problemLines, readStackFile } from "../offline/offlinePlan";
import { syntheticPlan, SyntheticModel } from "../offline/syntheticMesh";

const ROOT = path.resolve(__dirname, "..");

/** The stacks this repository ships (README, "Shipped stacks"); test/tools.test.ts checks the list against git. */
export const SHIPPED_STACKS = [
    "dev",
    "eks-primary-remote",
    "existing",
    "gcp-aws",
    "gke-primary-remote",
    "primary-remote",
    "primary-remote-multinet",
    "traffic",
] as const;

/** The shipped stacks whose stack file is in `dir`. */
export function shippedStacks(dir = ROOT): string[] {
    return SHIPPED_STACKS.filter((s) => fs.existsSync(path.join(dir, `Pulumi.${s}.yaml`)));
}

/** A stack that does not plan, with every problem it has. */
export class StackProblems extends Error {
    constructor(
        public readonly stack: string,
        public readonly problems: string[],
    ) {
        super(problems.map((p) => `stack ${stack}: ${p}`).join("\n"));
        this.name = "StackProblems";
    }
}

/** The synthetic meshes pictured in docs/: file name → model and size. */
export const SYNTHETIC_SHOTS: Record<string, { model: SyntheticModel; n: number }> = {
    "mesh-10-clusters": { model: "multi-primary", n: 10 },
    "mesh-10-clusters-primary-remote": { model: "primary-remote-multinet", n: 10 },
};

/** A fresh copy of the program for every run: forget its modules (not the SDK's, whose mocks runProgram resets). */
async function freshProgram(): Promise<Record<string, unknown>> {
    const mine = (k: string) =>
        k.startsWith(ROOT + path.sep) &&
        !k.includes(`${path.sep}node_modules${path.sep}`) &&
        !k.startsWith(path.join(ROOT, "scripts") + path.sep);
    for (const k of Object.keys(require.cache)) if (mine(k)) delete require.cache[k];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the program per stack (require.cache was cleared above)
    return require(path.join(ROOT, "index.ts")) as Record<string, unknown>;
}

/** The topology picture of one stack's offline plan (canned certificates: the picture shows no key material). */
export async function svgOf(stack: string, dir = ROOT, load: () => Promise<Record<string, unknown>> = freshProgram): Promise<string> {
    let sf: ReturnType<typeof readStackFile>;
    try {
        sf = readStackFile(stack, dir);
    } catch (e) {
        throw new StackProblems(stack, problemLines(e as Error));
    }
    const r = await runProgram({ config: sf.config, secretKeys: sf.secretKeys, stack, load, sim: { cannedTls: true } });
    if (r.error) throw new StackProblems(stack, problemLines(r.error));
    return meshSvg(buildPlanFile({ stack, outputs: r.outputs, registrations: r.sim.registrations }));
}

async function main(): Promise<void> {
    const o = new Command()
        .name("screenshots")
        .option("-s, --stack <name...>", "stacks (default: every shipped stack)")
        .option("-o, --out <dir>", "where the PNGs go", path.join(ROOT, "docs"))
        .parse()
        .opts<{ stack?: string[]; out: string }>();
    const stacks = o.stack ?? shippedStacks();
    const browser = await launchChromium();
    const shoot = async (name: string, svg: string) => {
        const file = path.join(o.out, `${name}.png`);
        await screenshotSvg(browser.page, svg, `mesh ${name}`, file);
        const rel = path.relative(process.cwd(), file);
        console.log(`wrote ${rel && !rel.startsWith("..") ? rel : file}`);
    };
    try {
        for (const stack of stacks) await shoot(stack, await svgOf(stack));
        if (!o.stack) {
            for (const [name, { model, n }] of Object.entries(SYNTHETIC_SHOTS))
                await shoot(name, await meshSvg(await syntheticPlan(model, n, freshProgram)));
        }
    } finally {
        await browser.close();
    }
}

if (require.main === module) {
    main().catch((e) => {
        for (const line of (e instanceof Error ? e.message : String(e)).split("\n")) console.error(`error: ${line}`);
        process.exit(1);
    });
}
