// Reading a file a user named (a kubeconfig, a stack file, an earlier plan.json): only a regular file,
// and only up to a size limit. A named pipe would block the plan forever at open or read, and a
// device such as /dev/zero never ends (the plan grew to gigabytes before it was refused). The file is
// opened once with O_NONBLOCK (a FIFO then opens at once instead of waiting for a writer), checked
// through its descriptor (so what is checked is what is read, even if the path is swapped), and read
// to at most the limit. Messages name the file and what it is, never its content.
import * as fs from "node:fs";

/** Config files this program reads are small: a kubeconfig, a stack file or a plan.json of 50 clusters stays far below this. */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;

/** A file that exists but must not be read (not a regular file, or too large). */
export class UnreadableFileError extends Error {
    constructor(
        message: string,
        public readonly code: "ENOTREG" | "ETOOBIG",
    ) {
        super(message);
        this.name = "UnreadableFileError";
    }
}

function kindOf(st: fs.Stats): string {
    if (st.isDirectory()) return "a directory";
    if (st.isFIFO()) return "a named pipe (FIFO)";
    if (st.isCharacterDevice()) return "a character device";
    if (st.isBlockDevice()) return "a block device";
    if (st.isSocket()) return "a socket";
    return "something else";
}

/**
 * The text of a regular file of at most `limit` bytes. Throws UnreadableFileError for anything else
 * (the message names `shown` and what it is); errors of the file system (ENOENT, EACCES) pass through.
 */
export function readRegularFile(file: string, shown: string = file, limit: number = MAX_INPUT_FILE_BYTES): string {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (fs.constants.O_NOCTTY ?? 0));
    try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) throw new UnreadableFileError(`${shown} is ${kindOf(st)}, not a regular file`, "ENOTREG");
        if (st.size > limit) throw new UnreadableFileError(`${shown} has ${st.size} bytes, more than the ${limit} this reads`, "ETOOBIG");
        // Read until the end, but never past the limit: a file that grows while it is read is refused too.
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
            const chunk = Buffer.alloc(64 * 1024);
            const n = fs.readSync(fd, chunk, 0, chunk.length, null);
            if (n === 0) break;
            total += n;
            if (total > limit) throw new UnreadableFileError(`${shown} grew past ${limit} bytes while it was read`, "ETOOBIG");
            chunks.push(chunk.subarray(0, n));
        }
        return Buffer.concat(chunks).toString("utf8");
    } finally {
        fs.closeSync(fd);
    }
}
