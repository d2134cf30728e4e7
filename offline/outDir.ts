// out/<stack>/ as one unit: a plan writes into a private folder next to it and swaps it in only
// when everything is written, so a reader never sees a mix of two runs.
//
// What it may replace: only a folder it made. Every out/<stack>/ carries MARKER_FILE; a folder
// without it (say `--out ~` and a stack named `dev`, which is ~/dev) is refused before anything is
// written, and checked again under the lock just before the swap. A symbolic link is never followed
// or replaced. Plans of one stack into one --out are serialized by a lock file beside the folder, so
// racing plans (CI jobs, a developer's two terminals) all succeed, one after the other, and leave no
// staging folder behind.
//
// A failed plan never destroys the previous out/<stack>/: it may be the very baseline the user
// compares against (`--against out/<stack>/plan.json`). Its report goes beside it, into
// <out>/<stack>.FAILED.txt, which the next successful plan removes.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readRegularFile } from "../components/safeRead";
import { checkStackName } from "./stackFile";

/** The file that marks out/<stack>/ as the plan's own. */
export const MARKER_FILE = ".multicluster-mesh-plan";
const MARKER_TEXT = "This folder was written by `npm run plan` (multicluster-mesh); the next plan of the stack replaces it whole.\n";
/** What out/<stack>/ held after a failed plan before 0.2 (a folder of the plan's own, still replaceable). */
const LEGACY_FAILED = "FAILED.txt";
const LEGACY_FAILED_HEAD = "The offline plan of stack ";
/** plan.json's $comment: a folder written before the marker existed is recognised by it. */
const PLAN_COMMENT_HEAD = '"$comment": "Offline plan of a multicluster-mesh stack';
const FAILED_HEAD = "The offline plan of stack ";

/** How long a plan waits for another plan of the same stack to finish its swap. */
export const LOCK_TIMEOUT_MS = 120_000;

/** out/<stack>, for a checked stack name: always a direct child of `outDir`. */
export function stackOutDir(outDir: string, stack: string): string {
    checkStackName(stack);
    const root = path.resolve(outDir);
    const dir = path.join(root, stack);
    if (path.dirname(dir) !== root || path.basename(dir) !== stack)
        throw new Error(`--stack ${JSON.stringify(stack)}: out/${stack} would be outside ${root}`);
    return dir;
}

/** <out>/<stack>.FAILED.txt: the report of the last failed plan, beside the results of the last good one. */
export function failedReportPath(outDir: string, stack: string): string {
    return path.join(path.dirname(stackOutDir(outDir, stack)), `${stack}.FAILED.txt`);
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
    try {
        return fs.lstatSync(p);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
}

/** The first bytes of a regular file, or undefined (never follows a link, never reads a FIFO). */
function head(file: string, bytes: number): string | undefined {
    const st = lstatOrUndefined(file);
    if (!st?.isFile()) return undefined;
    try {
        return readRegularFile(file, file, 64 * 1024 * 1024).slice(0, bytes);
    } catch {
        return undefined;
    }
}

/** True when `dir` is a folder the plan made: it carries the marker (or, from before the marker, the plan's own files). */
function isPlanFolder(dir: string, stack: string): boolean {
    if (head(path.join(dir, MARKER_FILE), MARKER_TEXT.length) === MARKER_TEXT) return true;
    if (head(path.join(dir, "plan.json"), 4096)?.includes(PLAN_COMMENT_HEAD)) return true;
    const entries = fs.readdirSync(dir);
    return entries.length === 1 && head(path.join(dir, LEGACY_FAILED), 200)?.startsWith(`${LEGACY_FAILED_HEAD}${stack} `) === true;
}

/**
 * Why out/<stack> must not be replaced, or undefined when it may be (absent, or the plan's own).
 * Call before writing anything; the swap checks again under the lock.
 */
export function outDirProblem(outDir: string, stack: string): string | undefined {
    const root = path.resolve(outDir);
    const rootStat = fs.existsSync(root) ? fs.statSync(root) : undefined;
    if (rootStat && !rootStat.isDirectory()) return `--out ${outDir}: ${root} is not a directory`;
    const final = stackOutDir(outDir, stack);
    const st = lstatOrUndefined(final);
    if (!st) return undefined;
    const refuse = (what: string) =>
        `--out ${outDir}: ${final} ${what}; the plan replaces only folders it wrote itself (they carry ${MARKER_FILE}). ` +
        `Choose another --out (the default is out/ in the repository), or move ${final} away`;
    if (st.isSymbolicLink()) return refuse("is a symbolic link");
    if (!st.isDirectory()) return refuse("exists and is not a folder");
    if (!isPlanFolder(final, stack)) return refuse("exists and was not written by npm run plan");
    return undefined;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Run `f` holding <out>/.<stack>.lock: created with O_EXCL (one holder at a time), naming its
 * holder's host and pid. A lock whose holder on this host has died is taken over (renamed aside,
 * checked to be the same stale lock, then removed), so a killed plan never blocks the next one.
 */
export function withOutLock<T>(outDir: string, stack: string, f: () => T): T {
    const root = path.resolve(outDir);
    fs.mkdirSync(root, { recursive: true });
    const lock = path.join(root, `.${stack}.lock`);
    const token = `${os.hostname()} ${process.pid} ${crypto.randomBytes(8).toString("hex")}\n`;
    const started = Date.now();
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
        try {
            const fd = fs.openSync(
                lock,
                fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
                0o600,
            );
            fs.writeSync(fd, token);
            fs.closeSync(fd);
            break;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const holder = head(lock, 200) ?? "";
        const [host, pid] = holder.split(" ");
        if (holder.endsWith("\n") && host === os.hostname() && Number(pid) > 0 && !alive(Number(pid))) {
            const aside = `${lock}.stale-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
            try {
                fs.renameSync(lock, aside);
                // Another plan may have taken the stale lock over and made its own since we read it: put it back.
                if (head(aside, 200) === holder) fs.rmSync(aside, { force: true });
                else fs.renameSync(aside, lock);
            } catch {
                // Someone else moved it first; try again.
            }
            continue;
        }
        if (Date.now() - started > LOCK_TIMEOUT_MS) {
            throw new Error(
                `another plan of stack ${stack} is writing into ${root} (${lock} held by ${holder.trim() || "an unknown process"} ` +
                    `for over ${LOCK_TIMEOUT_MS / 1000} s); wait for it, or remove the lock if that process is gone`,
            );
        }
        sleepSync(wait);
    }
    try {
        return f();
    } finally {
        if (head(lock, 200) === token) fs.rmSync(lock, { force: true });
    }
}

/** Staging folders of plans that died (their pid is gone): removed under the lock. */
function removeDeadStaging(root: string, stack: string): void {
    const re = new RegExp(`^\\.${stack.replace(/[.]/g, "\\.")}\\.(tmp|old)-(\\d+)-[0-9a-f]+$`);
    for (const name of fs.readdirSync(root)) {
        const m = re.exec(name);
        if (m && !alive(Number(m[2]))) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
}

function stagingName(root: string, stack: string, what: "tmp" | "old"): string {
    return path.join(root, `.${stack}.${what}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
}

export interface StagedOut {
    /** Where the run writes. */
    readonly dir: string;
    /** Where the files will be once committed. */
    readonly final: string;
    /** Swap the staged folder in place of out/<stack> (under the lock, if out/<stack> is still the plan's own). */
    commit(): void;
    /** Drop the staged folder and report the failure beside out/<stack> (see markFailed). */
    abort(errors: string[]): void;
}

/** A private staging folder for out/<stack>. Throws when out/<stack> is not the plan's to replace. */
export function stageOut(outDir: string, stack: string): StagedOut {
    const final = stackOutDir(outDir, stack);
    const problem = outDirProblem(outDir, stack);
    if (problem) throw new Error(problem);
    const root = path.dirname(final);
    fs.mkdirSync(root, { recursive: true });
    const dir = stagingName(root, stack, "tmp");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, MARKER_FILE), MARKER_TEXT, { flag: "wx" });
    return {
        dir,
        final,
        commit() {
            withOutLock(outDir, stack, () => {
                const late = outDirProblem(outDir, stack);
                if (late) {
                    fs.rmSync(dir, { recursive: true, force: true });
                    throw new Error(late);
                }
                removeDeadStaging(root, stack);
                // rename(2) cannot replace a non-empty folder: move the old one aside first, then drop it.
                // Between the two renames out/<stack> is briefly absent, never half old and half new.
                const old = stagingName(root, stack, "old");
                if (lstatOrUndefined(final)) fs.renameSync(final, old);
                fs.chmodSync(dir, 0o755);
                fs.renameSync(dir, final);
                fs.rmSync(old, { recursive: true, force: true });
                removeFailedReport(outDir, stack);
            });
        },
        abort(errors: string[]) {
            fs.rmSync(dir, { recursive: true, force: true });
            markFailed(outDir, stack, errors);
        },
    };
}

function removeFailedReport(outDir: string, stack: string): void {
    const report = failedReportPath(outDir, stack);
    if (head(report, FAILED_HEAD.length) === FAILED_HEAD) fs.rmSync(report, { force: true });
}

/**
 * After a failed plan: out/<stack>/ stays as the last good plan left it, and <out>/<stack>.FAILED.txt
 * beside it says that this run failed and why, so its files are not taken for this run's. With no
 * earlier results nothing is written (the errors are on stderr). A file of that name the plan did
 * not write is left alone.
 */
export function markFailed(outDir: string, stack: string, errors: string[]): void {
    const final = stackOutDir(outDir, stack);
    if (!lstatOrUndefined(final) || outDirProblem(outDir, stack)) return;
    const report = failedReportPath(outDir, stack);
    const text = [
        `${FAILED_HEAD}${stack} failed at ${new Date().toISOString()}. ${final} still holds the earlier plan's results, ` +
            `which do not reflect the config that failed.`,
        "",
        ...errors.map((e) => `error: ${e}`),
        "",
    ].join("\n");
    withOutLock(outDir, stack, () => {
        const st = lstatOrUndefined(report);
        if (st && !(st.isFile() && head(report, FAILED_HEAD.length) === FAILED_HEAD)) return;
        // Written aside and renamed over: a link in its place is replaced, never followed.
        const tmp = `${report}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
        fs.writeFileSync(tmp, text, { flag: "wx", mode: 0o644 });
        fs.renameSync(tmp, report);
    });
}
