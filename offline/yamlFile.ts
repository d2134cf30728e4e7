// YAML files read by the offline plan (Pulumi.yaml, Pulumi.<stack>.yaml): a syntax error becomes one
// line per error, `file:line:column: reason`, as compilers print them, instead of the yaml library's
// multi-line message with its code frame and lone `^` (which the plan's output split into several
// `error:` lines without the file's name).
import * as path from "node:path";
import * as YAML from "yaml";
import { readRegularFile } from "../components/safeRead";

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(file: string): string {
    const r = path.relative(process.cwd(), file);
    return r === "" || r.startsWith("..") || path.isAbsolute(r) ? file : r;
}

/** Thrown for a YAML syntax error; `problems` is its one line (what offline/plan.ts prints). */
export class YamlSyntaxError extends Error {
    constructor(
        public readonly problems: [string],
        public readonly line?: number,
        public readonly column?: number,
    ) {
        super(problems[0]);
        this.name = "YamlSyntaxError";
    }
}

/**
 * Parse YAML text; `file` names it in the message. Only the first error is reported: one mistake
 * (a bad indent, an unclosed quote) usually makes the parser report several more after it.
 */
export function parseYaml(text: string, file: string): unknown {
    const doc = YAML.parseDocument(text);
    const [first, ...rest] = doc.errors;
    if (first) {
        const at = first.linePos?.[0];
        // The library appends " at line L, column C:" and a code frame to its own reason.
        const reason = first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        const more = rest.length ? ` (and ${rest.length} more error${rest.length > 1 ? "s" : ""} after it)` : "";
        const where = `${shown(file)}${at ? `:${at.line}:${at.col}` : ""}`;
        throw new YamlSyntaxError([`${where}: YAML syntax error: ${reason}${more}`], at?.line, at?.col);
    }
    return doc.toJS();
}

/** Read and parse a YAML file (see parseYaml): only a regular file of bounded size (components/safeRead.ts). */
export function readYamlFile(file: string): unknown {
    return parseYaml(readRegularFile(file, shown(file)), file);
}
