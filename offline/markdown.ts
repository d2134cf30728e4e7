// Text from the config (an organization, a network, a gateway hostname) written into summary.md,
// which CI publishes as Markdown (GitHub's step summary renders it, HTML included). Every character
// Markdown or HTML gives a meaning is escaped, so a value shows as itself and can neither add links,
// images, headings or tables nor close the code block around the diff.

/** CommonMark's ASCII punctuation that a backslash escapes (spec 0.31, "Backslash escapes"), plus nothing else. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** One line of text as literal Markdown: punctuation backslash-escaped, `<`/`>`/`&` as entities, line breaks as spaces. */
export function mdText(s: string): string {
    return s
        .replace(/[\r\n]+/g, " ")
        .replace(PUNCTUATION, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : `\\${c}`));
}

/** A fenced code block that its content cannot close: the fence is longer than any run of backticks inside. */
export function mdFence(content: string): string[] {
    const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((r) => r.length));
    const fence = "`".repeat(Math.max(3, longest + 1));
    return [fence, content, fence];
}
