// out/<stack>/ as one unit: a plan writes into a private folder next to it and swaps it in only
// when everything is written, so a reader never sees a mix of two runs; a failed plan removes the
// previous results and leaves FAILED.txt saying why, so old files never pass for current ones.
import * as fs from "node:fs";
import * as path from "node:path";
import { checkStackName } from "./stackFile";

export const FAILED_FILE = "FAILED.txt";

/** out/<stack>, for a checked stack name: always a direct child of `outDir`. */
export function stackOutDir(outDir: string, stack: string): string {
    checkStackName(stack);
    const root = path.resolve(outDir);
    const dir = path.join(root, stack);
    if (path.dirname(dir) !== root || path.basename(dir) !== stack)
        throw new Error(`--stack ${JSON.stringify(stack)}: out/${stack} would be outside ${root}`);
    return dir;
}

/** The folder a run writes into before it is swapped in (same file system, so rename is atomic). */
function stagingDir(outDir: string, stack: string, what: "tmp" | "old"): string {
    return path.join(path.resolve(outDir), `.${stack}.${what}-${process.pid}`);
}

export interface StagedOut {
    /** Where the run writes. */
    readonly dir: string;
    /** Where the files will be once committed. */
    readonly final: string;
    /** Swap the staged folder in place of out/<stack>. */
    commit(): void;
    /** Drop the staged folder and mark out/<stack> as failed (see markFailed). */
    abort(errors: string[]): void;
}

export function stageOut(outDir: string, stack: string): StagedOut {
    const final = stackOutDir(outDir, stack);
    const dir = stagingDir(outDir, stack, "tmp");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return {
        dir,
        final,
        commit() {
            // rename(2) cannot replace a non-empty folder: move the old one aside first, then drop it.
            // Between the two renames out/<stack> is briefly absent, never half old and half new.
            const old = stagingDir(outDir, stack, "old");
            fs.rmSync(old, { recursive: true, force: true });
            if (fs.existsSync(final)) fs.renameSync(final, old);
            fs.renameSync(dir, final);
            fs.rmSync(old, { recursive: true, force: true });
        },
        abort(errors: string[]) {
            fs.rmSync(dir, { recursive: true, force: true });
            markFailed(outDir, stack, errors);
        },
    };
}

/**
 * After a failed plan: if out/<stack>/ holds earlier results, replace them by FAILED.txt with the
 * errors. With no earlier results nothing is written (the errors are on stderr).
 */
export function markFailed(outDir: string, stack: string, errors: string[]): void {
    const final = stackOutDir(outDir, stack);
    if (!fs.existsSync(final)) return;
    const text = [
        `The offline plan of stack ${stack} failed at ${new Date().toISOString()}; the results of the earlier plan were removed.`,
        "",
        ...errors.map((e) => `error: ${e}`),
        "",
    ].join("\n");
    const dir = stagingDir(outDir, stack, "tmp");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, FAILED_FILE), text);
    const old = stagingDir(outDir, stack, "old");
    fs.rmSync(old, { recursive: true, force: true });
    fs.renameSync(final, old);
    fs.renameSync(dir, final);
    fs.rmSync(old, { recursive: true, force: true });
}
