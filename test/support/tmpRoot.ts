// vitest globalSetup: every temporary folder a test makes (os.tmpdir(), and the TMPDIR the commands
// it spawns inherit) lands in one folder of this run, removed when the run ends, so repeated runs
// leave nothing behind in the machine's temp folder. The forked workers start after this runs and
// inherit TMPDIR (vitest.config.ts pool "forks").
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const PREFIX = "multicluster-mesh-test-";

export default function setup(): () => void {
    // The three tier projects (vitest.config.ts) each run this in the one main process: the first
    // makes the folder, the others use it (nesting them made paths too long for Chromium's socket).
    if (path.basename(os.tmpdir()).startsWith(PREFIX)) return () => undefined;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = root;
    return () => {
        if (before === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = before;
        fs.rmSync(root, { recursive: true, force: true });
    };
}
