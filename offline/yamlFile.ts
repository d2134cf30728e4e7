// YAML files read by the offline plan (Pulumi.yaml, Pulumi.<stack>.yaml), read as the Pulumi CLI
// reads them and reported as compilers report: one line per error, `file:line:column: reason`.
//
// Pulumi parses stack and project files with gopkg.in/yaml.v3 (pulumi/pulumi
// sdk/go/common/encoding/marshal.go and sdk/go/common/workspace/loaders.go at v3.248.0), so:
//   - merge keys (`<<: *anchor`, or a list of anchors) work: yaml.v3 decode.go `merge` (v3.0.1); keys
//     written in the mapping win over merged ones, and of several merged maps the first wins;
//   - a key twice in one mapping is an error ("mapping key already defined");
//   - `yaml.Unmarshal` reads the first document of a stream and ignores the rest, silently: a
//     second document is refused here instead, so nothing the user wrote is dropped unseen.
// The yaml library's own duplicate-key check compares every key with every other (quadratic: a
// mapping of 40,000 keys took 28 s, 200,000 never finished), so it is off and keys are checked here
// in one pass. A file above MAX_YAML_BYTES is refused before it is parsed; deep nesting, which
// exhausts the parser's stack, gets its own message.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { fileProblem } from "../components/fileProblem";
import { readRegularFile, UnreadableFileError } from "../components/safeRead";

/** The largest stack or project file the plan reads: a stack config is kilobytes (the shipped ones are under 5 KB). */
export const MAX_YAML_BYTES = 1024 * 1024;

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(file: string): string {
    const r = path.relative(process.cwd(), file);
    return r === "" || r.startsWith("..") || path.isAbsolute(r) ? file : r;
}

/** Thrown for a YAML syntax error or an unreadable file; `problems` is its one line (what offline/offlinePlan.ts prints). */
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

const OPTIONS = { merge: true, uniqueKeys: false, prettyErrors: true } as const;

/** The first key that repeats within one mapping, in one pass over the document (no recursion). */
function duplicateKey(doc: YAML.Document.Parsed): YAML.Node | undefined {
    const stack: unknown[] = [doc.contents];
    while (stack.length) {
        const node = stack.pop();
        if (YAML.isMap(node)) {
            const seen = new Set<string>();
            for (const pair of node.items) {
                const k = pair.key;
                const name = YAML.isScalar(k) ? `${typeof k.value}:${String(k.value)}` : undefined;
                if (name !== undefined && name !== "string:<<") {
                    if (seen.has(name)) return k as YAML.Node;
                    seen.add(name);
                }
                stack.push(pair.value);
            }
        } else if (YAML.isSeq(node)) {
            for (const item of node.items) stack.push(item);
        }
    }
    return undefined;
}

/**
 * Parse YAML text; `file` names it in the message. Only the first error is reported: one mistake
 * (a bad indent, an unclosed quote) usually makes the parser report several more after it.
 */
export function parseYaml(text: string, file: string): unknown {
    const lines = new YAML.LineCounter();
    const at = (offset: number | undefined) => (offset === undefined ? "" : `:${lines.linePos(offset).line}:${lines.linePos(offset).col}`);
    const fail = (where: string, reason: string, offset?: number): never => {
        const pos = offset === undefined ? undefined : lines.linePos(offset);
        throw new YamlSyntaxError([`${shown(file)}${where}: ${reason}`], pos?.line, pos?.col);
    };
    let docs: YAML.Document.Parsed[];
    try {
        docs = YAML.parseAllDocuments(text, { ...OPTIONS, lineCounter: lines }) as YAML.Document.Parsed[];
    } catch (e) {
        if (e instanceof RangeError) tooDeep(file);
        throw e;
    }
    if (!Array.isArray(docs)) docs = [];
    if (docs.length > 1) {
        const second = docs[1].range[0];
        fail(
            at(second),
            `YAML syntax error: the file holds ${docs.length} YAML documents (a "---" line starts the next one here); a stack file ` +
                'is one document, and Pulumi would read only the first and ignore the rest: remove the "---" line, or merge the documents',
            second,
        );
    }
    const doc = docs[0];
    if (!doc) return null;
    const [first, ...rest] = doc.errors;
    if (first) {
        const offset = first.pos?.[0];
        // The library appends " at line L, column C:" and a code frame to its own reason.
        const reason = first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        if (/Maximum call stack/.test(reason)) tooDeep(file, at(offset));
        const more = rest.length ? ` (and ${rest.length} more error${rest.length > 1 ? "s" : ""} after it)` : "";
        fail(at(offset), `YAML syntax error: ${reason}${more}`, offset);
    }
    const dup = duplicateKey(doc);
    if (dup) fail(at(dup.range?.[0]), "YAML syntax error: Map keys must be unique", dup.range?.[0]);
    try {
        return doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
        if (e instanceof RangeError) tooDeep(file);
        // A merge key whose value is not a mapping (yaml.v3: "map merge requires map or sequence of maps as the value").
        throw new YamlSyntaxError([`${shown(file)}: YAML error: ${(e as Error).message.split("\n")[0]}`]);
    }
}

function tooDeep(file: string, where = ""): never {
    throw new YamlSyntaxError([
        `${shown(file)}${where}: nested too deeply to read (the YAML parser ran out of stack); a stack config is a few levels ` +
            "deep: look for brackets that are opened and never closed, or a generated file",
    ]);
}

/**
 * Read and parse a YAML file (see parseYaml). Only a regular file is read (a FIFO or a device is
 * refused at once: components/safeRead.ts); an unreadable one (a folder, no permission, a path through
 * a file) and one above MAX_YAML_BYTES get one line that says so.
 */
export function readYamlFile(file: string): unknown {
    let text: string;
    try {
        text = readRegularFile(file, shown(file), MAX_YAML_BYTES);
    } catch (e) {
        if (e instanceof UnreadableFileError && e.code === "ETOOBIG") {
            const size = fs.statSync(file).size;
            throw new YamlSyntaxError([
                `${shown(file)}: is ${(size / 1024 / 1024).toFixed(1)} MB; the plan reads stack and project files of at most ` +
                    `${MAX_YAML_BYTES / 1024 / 1024} MB (a stack config is kilobytes): keep large content such as kubeconfigs in ` +
                    "their own files and name them by path",
            ]);
        }
        if (e instanceof UnreadableFileError) {
            // A folder reads as the other unreadable paths do (components/fileProblem.ts); a FIFO or device says what it is.
            const folder = fs.statSync(file, { throwIfNoEntry: false })?.isDirectory();
            throw new YamlSyntaxError([folder ? `${shown(file)}: is a folder, not a file` : e.message]);
        }
        throw new YamlSyntaxError([`${shown(file)}: ${fileProblem(e, "file")}`]);
    }
    return parseYaml(text, file);
}
