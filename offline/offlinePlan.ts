// The offline plan: run the real program for one stack under the simulator (no cloud, no cluster,
// no Pulumi CLI), print what each cluster gets and write under out/<stack>/ the rendered Helm values
// and Kubernetes objects (every secret value redacted), plan.json (the mesh, stable and sorted),
// mesh.svg (the topology picture) and summary.md; with --against, the mesh-level diff (diff.txt).
// The stack name is checked with Pulumi's rule before any file is read; out/<stack>/ is written
// into a staging folder and swapped in whole, only over a folder of the plan's own (offline/outDir.ts);
// a failed plan leaves the previous out/<stack>/ as it was and reports beside it, in <stack>.FAILED.txt.
//
//   npm run plan -- --stack dev [--out out] [--against old/plan.json]
//
// Exit code (scripts/plan.ts): 0 planned (and, with --against, nothing changed); 2 planned and
// something changes (mesh-level diff or change plan); 1 an error (bad config, unreadable --against
// file, …), one line per problem on stderr.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ChangePlan, changeCount, writeChangePlan } from "./changes";
import { buildImportFile } from "./importFile";
import { PlacementCluster, placeGateways } from "../components/gatewayPlacement";
import { DEFAULT_NETWORK } from "../components/meshConfig";
import { certSummary, diffPlans, formatDiff, MeshDiff } from "./meshDiff";
import { meshSvg } from "./meshSvg";
import { buildPlanFile, istioPlanLines, parsePlanFile, PlanFile, stableStringify } from "./planFile";
import { describeReleaseChart } from "../components/istioSource";
import { markFailed, outDirProblem, stageOut } from "./outDir";
import { planSizeProblem } from "./planLimits";
import { kubectlContexts } from "./contexts";
import { runProgram } from "./runProgram";
import { readStackFile as readStack, ReadStackOptions, StackFile, stackNameProblem } from "./stackFile";
import { UNDECRYPTED_SECRET_NOTE } from "../components/secretPlaceholder";
import { readRegularFile } from "../components/safeRead";
import { againstProblem } from "./inputFiles";
import { mdFence, mdText } from "./markdown";
import { secretScrubber } from "./secretScrub";
import { upgradeSummary } from "./upgradePlan";
import type { Registration, SimulatorOptions } from "../simulator/simulator";
import { TYPES } from "../components/pulumiTypes";

const ROOT = path.resolve(__dirname, "..");

export type { StackFile } from "./stackFile";

/** Read Pulumi.<stack>.yaml (of this repository by default) as the Pulumi CLI hands it to the program; see offline/stackFile.ts. */
export function readStackFile(stack: string, dir = ROOT, options: ReadStackOptions = {}): StackFile {
    return readStack(stack, dir, options);
}

function redactLeaves(v: unknown): unknown {
    if (v && typeof v === "object" && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactLeaves(x)]));
    if (typeof v === "string" && v.startsWith("<redacted")) return v;
    return `<redacted: ${String(v).length} bytes>`;
}

const SECRET_KINDS = new Set<string>([TYPES.secret]);

/** A release's Helm values with the inputs sent as secrets (secret stack config) redacted, as redact() does for objects. */
function redactValues(r: Registration): unknown {
    return redact({ ...r, type: "", inputs: { values: r.inputs.values ?? {} } }).values;
}

/** The object as it would be applied, with secret data replaced by a note of its size. */
export function redact(r: Registration): Record<string, unknown> {
    const obj = JSON.parse(JSON.stringify(r.inputs)) as Record<string, any>;
    if (SECRET_KINDS.has(r.type)) {
        for (const field of ["data", "stringData"]) {
            if (obj[field]) obj[field] = redactLeaves(obj[field]);
        }
    }
    for (const p of r.secretPaths) {
        const parts = p.split(".");
        let cur: any = obj;
        for (const part of parts.slice(0, -1)) cur = cur?.[part];
        const leaf = parts[parts.length - 1];
        if (!cur || !(leaf in cur)) continue;
        // Keep the shape (which keys a Secret holds), drop the values.
        cur[leaf] = redactLeaves(cur[leaf]);
    }
    delete obj.__defaults;
    return obj;
}

export interface ClusterSummary {
    name: string;
    role: string;
    network: string;
    charts: string[];
    gateway: string;
    receivesFrom: string[];
}

export interface PlanOptions {
    /** A plan.json from an earlier plan: print the mesh-level diff against it and write diff.txt. */
    against?: string;
    /** Simulator options (tests use `cannedTls` to skip key generation). */
    sim?: SimulatorOptions;
    /** Called with one line per finished phase and its time (the CLI prints them on stderr). */
    progress?: (line: string) => void;
    /** Where PULUMI_CONFIG_PASSPHRASE(_FILE) are read (default process.env). */
    env?: NodeJS.ProcessEnv;
    /** The folder with Pulumi.yaml and Pulumi.<stack>.yaml (default: this repository; tests use their own). */
    stackDir?: string;
    /** Print each error on stderr (default true); a caller that reports `errors` itself (npm run render) turns it off. */
    reportErrors?: boolean;
}

export interface PlanResult {
    ok: boolean;
    clusters: ClusterSummary[];
    written: string[];
    planFile?: PlanFile;
    /** Set with `against`. */
    diff?: MeshDiff;
    /** Set with `against` a plan that records resources (format 2): the change plan. */
    changes?: ChangePlan;
    /**
     * Set with `against`: anything changes, at the mesh level or in any resource (replaced, deleted,
     * created, updated), or the old plan records no resources to rule that out. The CLI exits 2.
     */
    changed?: boolean;
    /** Problems, one line each (empty when ok). */
    errors: string[];
    /** `secure:` values not decrypted offline, as `pulumi config set --path` names them. */
    undecrypted?: string[];
}

/**
 * Against a plan of format 1 (multicluster-mesh 0.1.x before the change plan), which records no
 * resources: the mesh diff still runs, the change plan cannot, and "no change" cannot be claimed.
 */
function noChangePlanText(against: string): string {
    return (
        `!! WARNING: NO CHANGE PLAN: ${against} is a plan of format 1 (multicluster-mesh 0.1.x before the change plan), which ` +
        "records no resources, so what is replaced or deleted cannot be told from it (a provider replacement does not show " +
        "at the mesh level). For a comparable baseline, plan the config you deployed with this version: " +
        "`git stash && npm run plan -- --stack <stack> --out /tmp/base && git stash pop`, then `--against " +
        "/tmp/base/<stack>/plan.json` (differences of the program itself between versions then do not show: read " +
        '`pulumi preview --diff` for those, and docs/deploy.md, "Upgrading a stack deployed with 0.1.x").\n'
    );
}

/** A path as the user would type it: relative to the working directory when inside it. */
function rel(f: string): string {
    const r = path.relative(process.cwd(), f);
    return r === "" || r.startsWith("..") || path.isAbsolute(r) ? f : r;
}

/**
 * One line per problem: a ConfigError's list, or the lines of any other error. An error thrown
 * inside an Output loses its own shape on the way out: the SDK prefixes one `error serializing
 * property "x": ` per level it passed, and the runtime appends its note on the promises left
 * pending when the program stopped. Both are dropped: the reason is the line.
 */
export function problemLines(e: Error): string[] {
    const problems = (e as Error & { problems?: unknown }).problems;
    if (Array.isArray(problems) && problems.length > 0) return problems.map(String);
    const message = e.message.split(/The Pulumi runtime detected that \d+ promises were still active/)[0];
    return message
        .split("\n")
        .map((l) =>
            l
                .replace(/^(error serializing property "[^"]*": )+/, "")
                .replace(/^\s*-\s+/, "")
                .trim(),
        )
        .filter(Boolean);
}

function table(head: string[], rows: string[][]): string[] {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    return [line(head), ...rows.map(line)];
}

function markdownTable(head: string[], rows: string[][]): string[] {
    const esc = mdText;
    return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)];
}

export async function plan(
    stack: string,
    outDir: string,
    // The program is loaded after the mocks are installed; tests pass their own module loader.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks are installed
    load: () => Promise<Record<string, unknown>> = async () => require(path.join(ROOT, "index.ts")),
    options: PlanOptions = {},
): Promise<PlanResult> {
    const started = performance.now();
    let phaseStart = started;
    const phase = (name: string) => {
        const now = performance.now();
        options.progress?.(`plan ${stack}: ${name} ${((now - phaseStart) / 1000).toFixed(2)} s`);
        phaseStart = now;
    };
    // Checked before anything is read or written: the name becomes a file name and a folder name.
    const badName = stackNameProblem(stack);
    const report = options.reportErrors !== false;
    if (badName) {
        if (report) console.error(`error: --stack ${JSON.stringify(stack)}: ${badName}`);
        return { ok: false, clusters: [], written: [], errors: [badName] };
    }
    // A folder the plan did not write is never replaced (say `--out ~` and stack `dev`): refused before anything runs.
    const outProblem = outDirProblem(outDir, stack);
    if (outProblem) {
        console.error(`error: ${outProblem}`);
        return { ok: false, clusters: [], written: [], errors: [outProblem] };
    }
    let stackFile: StackFile | undefined;
    const fail = (errors: string[]): PlanResult => {
        if (report) for (const e of errors) console.error(`error: stack ${stack}: ${e}`);
        // Earlier results must not pass for this run's.
        markFailed(outDir, stack, errors);
        return { ok: false, clusters: [], written: [], errors, undecrypted: stackFile?.undecrypted };
    };
    try {
        stackFile = readStackFile(stack, options.stackDir ?? ROOT, { env: options.env });
    } catch (e) {
        return fail(problemLines(e as Error));
    }
    for (const w of stackFile.warnings) console.error(`warning: stack ${stack}: ${w}`);
    // A mesh the plan cannot hold in memory is refused before the program runs (offline/planLimits.ts).
    const tooBig = planSizeProblem(stackFile.config);
    if (tooBig) return fail([tooBig]);
    // Read the old plan first, so a wrong path fails before the program runs.
    let before: PlanFile | undefined;
    if (options.against) {
        try {
            const shown = `--against ${rel(options.against)}`;
            before = parsePlanFile(readRegularFile(options.against, shown), shown);
        } catch (e) {
            return fail([againstProblem(e as NodeJS.ErrnoException, rel(options.against))]);
        }
    }
    const sf = stackFile;
    const undecryptedNote = sf.undecrypted.length
        ? `${stackFile.undecrypted.join(", ")}: ${UNDECRYPTED_SECRET_NOTE} (not decrypted offline: ${sf.whyUndecrypted})`
        : undefined;
    phase("reading stack");
    // The program reads its previous run's outputs (provider identities): with --against, the old plan's cluster facts.
    const previousOutputs = before ? { clusters: Object.fromEntries(before.clusters.map((c) => [c.name, c.facts])) } : undefined;
    const result = await runProgram({
        config: sf.config,
        secretKeys: sf.secretKeys,
        secretPaths: sf.secretPaths,
        stack,
        load,
        sim: { previousOutputs, ...options.sim },
    });
    phase("running program");
    if (result.error) {
        const errors = problemLines(result.error);
        if (undecryptedNote) errors.push(undecryptedNote);
        return fail(errors);
    }
    const sim = result.sim;
    // Decrypted secrets of the stack config appear in no file and no diff (offline/secretScrub.ts).
    const scrub = secretScrubber(sf.secretValues);
    const planFile = scrub.object(buildPlanFile({ stack, outputs: result.outputs, registrations: sim.registrations }));
    const staged = stageOut(outDir, stack);
    const dir = staged.final;
    try {
        return await writeResults();
    } catch (e) {
        staged.abort(problemLines(e as Error));
        throw e;
    }

    async function writeResults(): Promise<PlanResult> {
        const written: string[] = [];
        // Written into the staging folder; recorded under the name they have once committed.
        const write = (relPath: string, text: string, mode = 0o644) => {
            const f = path.join(staged.dir, relPath);
            fs.mkdirSync(path.dirname(f), { recursive: true });
            fs.writeFileSync(f, scrub.text(text), { mode });
            written.push(path.join(dir, relPath));
        };

        const summaries: ClusterSummary[] = [];
        for (const c of planFile.clusters) {
            const mine = sim.registrations.filter((r) => r.cluster === c.name);
            const releases = mine.filter((r) => r.type === TYPES.release);
            for (const r of releases) {
                // Secret values are redacted like a Secret's data; a file that had any is still only the user's to read.
                const secretValues = r.secretPaths.some((p) => p === "(root)" || p === "values" || p.startsWith("values."));
                write(
                    `${c.name}/helm/${r.inputs.name}.values.yaml`,
                    `# chart ${describeReleaseChart(r.inputs).name} ${r.inputs.version} from ${describeReleaseChart(r.inputs).source}, ` +
                        `release ${r.inputs.name} in ${r.inputs.namespace}\n${YAML.stringify(redactValues(r) ?? {})}`,
                    secretValues ? 0o600 : 0o644,
                );
            }
            const objects = mine
                .filter((r) => r.type.startsWith("kubernetes:") && r.type !== TYPES.release && !r.read)
                .sort((a, b) => `${a.inputs.kind}/${a.inputs.metadata?.name}`.localeCompare(`${b.inputs.kind}/${b.inputs.metadata?.name}`));
            write(`${c.name}/objects.yaml`, objects.map((o) => YAML.stringify(redact(o))).join("---\n"));
            summaries.push({
                name: c.name,
                role: c.role + (c.primary ? ` of ${c.primary}` : ""),
                network: c.network,
                charts: Object.values(c.charts).map((ch) => `${ch.chart}@${ch.version}`),
                gateway: c.gateway ? c.gateway.address : "-",
                receivesFrom: c.readsFrom,
            });
        }
        // Outputs the program marks secret (e.g. kubeconfigs) keep their shape, not their values.
        const outputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(result.outputs)) {
            const raw = result.rawOutputs[k];
            outputs[k] = pulumi.Output.isInstance(raw) && (await pulumi.isSecret(raw as pulumi.Output<unknown>)) ? redactLeaves(v) : v;
        }
        write("outputs.json", `${JSON.stringify(outputs, null, 2)}\n`);
        write("plan.json", stableStringify(planFile));
        // Clusters you already have may already run Istio: what `pulumi import --file` adopts (offline/importFile.ts).
        const existing = planFile.clusters.filter((c) => (c.facts.platform ?? "existing") === "existing").map((c) => c.name);
        if (existing.length > 0) write("import.json", `${JSON.stringify(buildImportFile(sim.registrations, existing), null, 2)}\n`);
        const pictureStart = performance.now();
        const svg = await meshSvg(planFile);
        const pictureSeconds = (performance.now() - pictureStart) / 1000;
        write("mesh.svg", svg);

        // The commands the plan prints address each cluster by its kubectl context, not its mesh name.
        const contexts = kubectlContexts(sf.config["multicluster-mesh:mesh"]);
        const diff = before ? diffPlans(before, planFile, contexts) : undefined;
        // The change plan needs the old plan's resources (format 2); a format-1 plan gets the mesh diff only.
        const against = options.against ? rel(options.against) : "";
        const changePlan = before?.resources ? writeChangePlan(before, planFile, against, write, contexts) : undefined;
        const noResources = before && !before.resources ? noChangePlanText(against) : "";
        const counted = changePlan ? changeCount(changePlan.plan) : "";
        const belowMesh = counted
            ? `resources change (${counted}): see the change plan below`
            : noResources
              ? "what happens to resources is not known (no change plan against a format-1 plan, below)"
              : undefined;
        const diffText = diff ? formatDiff(diff, against, belowMesh) : "";
        if (diff) write("diff.txt", diffText);
        const changesText = changePlan?.text ?? noResources;
        const changed = diff ? diff.changed || !!changePlan?.plan.changed || !!noResources : undefined;

        // The compact table: one row per cluster.
        const head = ["cluster", "role", "network", "charts", "east-west gateway", "reads"];
        const rows = planFile.clusters.map((c) => {
            // Charts grouped by version: "base istiod gateway 1.30.3", "metallb 0.14.9, base istiod 1.30.3".
            const byVersion = new Map<string, string[]>();
            for (const ch of Object.values(c.charts)) byVersion.set(ch.version, [...(byVersion.get(ch.version) ?? []), ch.chart]);
            const chartText = [...byVersion].map(([v, names]) => `${names.join(" ")} ${v}`).join(", ");
            return [
                c.name,
                c.role + (c.primary ? ` of ${c.primary}` : ""),
                c.network,
                chartText,
                c.gateway ? c.gateway.address : "-",
                c.readsFrom.join(", ") || "-",
            ];
        });
        const headline =
            `mesh ${planFile.meshId} (${planFile.topology}), stack ${stack}: ${planFile.clusters.length} ` +
            `clusters on ${planFile.networks.length} network${planFile.networks.length === 1 ? "" : "s"}, ` +
            `${sim.registrations.length} resources`;
        const trustLine = `trust: ${certSummary(planFile.trust, contexts)}`;
        // The running revision, an upgrade's phase and the checks before its next one (offline/upgradePlan.ts).
        const revisionLines = upgradeSummary(planFile, contexts);
        // Where Istio comes from, which facts the checks read, and the pinned version's known defects (with the fix).
        const istioLines = istioPlanLines(planFile);
        // Free text (organization, networks, hostnames) is escaped: summary.md is published as Markdown (offline/markdown.ts).
        const md = [
            `## Stack ${mdText(stack)}: mesh ${mdText(planFile.meshId)} (${mdText(planFile.topology)})`,
            "",
            ...markdownTable(head, rows),
            "",
            mdText(trustLine),
            "",
            ...(revisionLines.length ? [...mdFence(revisionLines.join("\n")), ""] : []),
            ...istioLines.flatMap((l) => [l.startsWith("WARNING: ") ? `**${l}**` : l, ""]),
        ];
        if (diff) md.push("### Mesh-level diff", "", ...mdFence(diffText.trimEnd()), "");
        // What a reviewer must not miss: the change plan's counts and warnings (changes.json has every resource).
        if (changesText) {
            const keep = changesText.split("\n").filter((l) => l.startsWith("change plan") || l.startsWith("!! "));
            md.push("### Change plan", "", ...mdFence(keep.join("\n")), "");
        }
        write("summary.md", `${md.join("\n")}\n`);

        staged.commit();
        const total = (performance.now() - phaseStart) / 1000;
        options.progress?.(`plan ${stack}: picture ${pictureSeconds.toFixed(2)} s`);
        options.progress?.(`plan ${stack}: writing files ${(total - pictureSeconds).toFixed(2)} s`);

        console.log(headline);
        for (const l of table(head, rows)) console.log(`  ${l}`);
        console.log(`  ${trustLine}`);
        for (const l of revisionLines) console.log(`  ${l}`);
        // (The known-defect warnings were printed as the program ran: the Mesh logs them, as in a real preview.)
        for (const l of istioLines.filter((x) => !x.startsWith("WARNING: "))) console.log(`  ${l}`);
        // Which clusters got an east-west gateway, and why (components/gatewayPlacement.ts, the plan's own rule).
        const meshConfig = stackFile!.config["multicluster-mesh:mesh"] as { clusters?: PlacementCluster[]; topology?: unknown } | undefined;
        if (Array.isArray(meshConfig?.clusters)) {
            const placed = placeGateways(meshConfig.clusters, meshConfig.topology, DEFAULT_NETWORK).placements;
            const why = meshConfig.clusters.map((c, i) => `${String(c.name)}: ${placed[i].gateway ? "" : "none, "}${placed[i].why}`);
            console.log(`  east-west gateways: ${why.join("; ")}`);
        }
        if (undecryptedNote) console.log(`  secrets: ${undecryptedNote}`);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`wrote ${written.length} files under ${rel(dir)}/ in ${seconds} s:`);
        for (const f of written) console.log(`  ${rel(f)}`);
        if (diff) process.stdout.write(diffText + changesText);
        // A skipped root-rotation phase or a one-step root swap: planned and written, but refused (exit 1).
        const refusals = diff?.refusals ?? [];
        if (report) for (const r of refusals) console.error(`error: ${r}`);
        return {
            ok: refusals.length === 0,
            clusters: summaries,
            written,
            planFile,
            diff,
            ...(changePlan ? { changes: changePlan.plan } : {}),
            ...(changed !== undefined ? { changed } : {}),
            errors: refusals,
            undecrypted: sf.undecrypted,
        };
    }
}
