// One line for a file the plan could not take as input (--against): where it is and why, never what
// it holds (components/safeRead.ts reads only regular files of bounded size; planFile.ts parses
// without quoting the text).

export function againstProblem(e: NodeJS.ErrnoException, shown: string): string {
    switch (e.code) {
        case "ENOENT":
            return `--against ${shown}: no such file`;
        case "EACCES":
        case "EPERM":
            return `--against ${shown}: permission denied`;
        case "ENOTDIR":
            return `--against ${shown}: a part of the path is not a directory`;
        default:
            return e.message;
    }
}
