// Headless Chromium (Debian's `chromium`, which .ci/run installs) driven by playwright-core, for
// looking at the topology picture the way a person would: the browser test and `npm run screenshots`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Where Debian installs Chromium; override with CHROMIUM_PATH (e.g. /usr/bin/google-chrome on a GitHub runner). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

export interface Browser {
    page: Page;
    close(): Promise<void>;
}

/** Start Chromium with a fresh profile; fails with one clear line when it is not installed. */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
    if (!fs.existsSync(executablePath)) {
        throw new Error(
            `Chromium not found at ${executablePath}: install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH`,
        );
    }
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-chromium-"));
    let context: BrowserContext;
    try {
        // A persistent context on a new, empty directory is the fresh --user-data-dir (playwright
        // refuses --user-data-dir in args and passes this one itself).
        context = await chromium.launchPersistentContext(profile, {
            executablePath,
            headless: true,
            args: CHROMIUM_ARGS,
            viewport: { width: 1400, height: 1000 },
            deviceScaleFactor: 1,
            timeout: 60_000,
        });
    } catch (e) {
        fs.rmSync(profile, { recursive: true, force: true });
        throw new Error(`Chromium at ${executablePath} did not start: ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
    const page = context.pages()[0] ?? (await context.newPage());
    return {
        page,
        close: async () => {
            await context.close().catch(() => undefined);
            fs.rmSync(profile, { recursive: true, force: true });
        },
    };
}

/** The page that shows one SVG, inline (so scripts and tests can query its DOM), with nothing to fetch. */
export function svgPage(svg: string, title: string): string {
    const body = svg.replace(/^<\?xml[^>]*>\s*/, "").replace(/<!DOCTYPE[^>]*>\s*/, "");
    const esc = title.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return `<!doctype html><html><head><meta charset="utf-8"><title>${esc}</title><style>html,body{margin:0;background:#fff}#picture{display:inline-block;padding:8px}</style></head><body><div id="picture">${body}</div></body></html>`;
}

/** Show the SVG in the page and write a PNG of it. */
export async function screenshotSvg(page: Page, svg: string, title: string, file: string): Promise<void> {
    await page.setContent(svgPage(svg, title), { waitUntil: "load" });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.locator("#picture").screenshot({ path: file });
}
