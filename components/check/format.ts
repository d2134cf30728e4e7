// The check's report as text: one line per check, grouped by cluster (npm run check, the deploy gate's error).
import type { CheckReport } from "./checks";

/** One line per check, grouped by cluster, ✔ or × (⚠ for a warning), each failure with its fix. */
export function formatReport(r: CheckReport): string {
    const lines: string[] = [];
    const clusters = [...new Set([...r.results.map((x) => x.cluster), ...r.unreachable.map((u) => u.cluster)])];
    for (const c of clusters) {
        lines.push(`${c}`);
        const u = r.unreachable.find((x) => x.cluster === c);
        if (u) lines.push(`  × unreachable: ${u.why}`, `      fix: check the kubeconfig's server and that it answers from here`);
        for (const x of r.results.filter((y) => y.cluster === c)) {
            const mark = x.ok ? "✔" : x.severity === "warning" ? "⚠" : "×";
            lines.push(`  ${mark} ${x.check}: ${x.message}`);
            if (!x.ok && x.fix) lines.push(`      fix: ${x.fix}`);
        }
    }
    const failed = r.results.filter((x) => !x.ok && x.severity === "error").length;
    const warned = r.results.filter((x) => !x.ok && x.severity === "warning").length;
    lines.push(
        `${r.results.filter((x) => x.ok).length} passed, ${failed} failed, ${warned} warning${warned === 1 ? "" : "s"}` +
            (r.unreachable.length ? `, ${r.unreachable.length} cluster${r.unreachable.length > 1 ? "s" : ""} unreachable` : ""),
    );
    return lines.join("\n");
}
