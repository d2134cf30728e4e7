// What is wrong with a path the user gave, in words, from the error node's fs functions throw: a
// folder or a path through a file is not "does not exist", and nobody should have to decode EISDIR.

/** `e` from a failed fs call on a path the user named as a file (or a folder, with `want: "folder"`). */
export function fileProblem(e: unknown, want: "file" | "folder" = "file"): string {
    const code = (e as NodeJS.ErrnoException)?.code;
    switch (code) {
        case "ENOENT":
            return "does not exist";
        case "EISDIR":
            return want === "file" ? "is a folder, not a file" : "is a folder";
        case "ENOTDIR":
            return want === "folder" ? "is not a folder" : "cannot exist: a part of its path is a file, not a folder";
        case "EACCES":
        case "EPERM":
            return "cannot be read: permission denied";
        case "ELOOP":
            return "cannot be read: its symbolic links loop";
        case "ENAMETOOLONG":
            return "is too long a path";
        case "EMFILE":
        case "ENFILE":
            return "cannot be opened now: too many open files";
        default:
            return `cannot be read (${code ?? (e as Error)?.message ?? String(e)})`;
    }
}
