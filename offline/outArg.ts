// The `--out` argument of the command lines, checked before anything runs: it must be a folder, or
// a path a folder can be made at, on a real file system the user may write. `--out /proc/x` used
// to spin forever; `--out /etc/passwd` or `/dev/null` must not be written through either.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileProblem } from "../components/fileProblem";

/**
 * File systems that are views of the kernel, not storage (statfs f_type magic numbers, linux
 * include/uapi/linux/magic.h): proc, sysfs, devtmpfs, debugfs, tracefs, securityfs, cgroup, cgroup2,
 * pstore, bpf, configfs, efivarfs, fusectl.
 */
const PSEUDO_FS: Record<number, string> = {
    0x9fa0: "proc",
    0x62656572: "sysfs",
    0x1373: "devtmpfs",
    0x64626720: "debugfs",
    0x74726163: "tracefs",
    0x73636673: "securityfs",
    0x27e0eb: "cgroup",
    0x63677270: "cgroup2",
    0x6165676c: "pstore",
    0xcafe4a11: "bpf",
    0x62656570: "configfs",
    0xde5e81e4: "efivarfs",
    0x65735543: "fusectl",
};

/** What is wrong with `dir` as the plan's output folder, or undefined when it can be used. */
export function outDirProblem(dir: string): string | undefined {
    const target = path.resolve(dir);
    // The path itself, or the nearest folder above it that exists (where the plan would create it).
    let existing = target;
    for (;;) {
        try {
            const st = fs.statSync(existing);
            if (!st.isDirectory()) {
                return existing === target
                    ? `is not a folder (it is ${st.isFile() ? "a file" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : "not a folder"}); give a folder for the plan's results`
                    : `cannot be made: ${existing} is not a folder`;
            }
            break;
        } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== "ENOENT" && code !== "ENOTDIR") return `cannot be used: ${existing} ${fileProblem(e, "folder")}`;
            const up = path.dirname(existing);
            if (up === existing) return "cannot be made: no folder above it exists";
            existing = up;
        }
    }
    try {
        const type = fs.statfsSync(existing).type;
        const name = PSEUDO_FS[type];
        if (name) return `is on ${existing}, a ${name} file system (a view of the kernel, not storage); give a folder on disk`;
    } catch {
        // statfs is not available everywhere; the write check below still applies.
    }
    try {
        fs.accessSync(existing, fs.constants.W_OK);
    } catch {
        return `cannot be written: ${existing} is not writable for this user`;
    }
    return undefined;
}
