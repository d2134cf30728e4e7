// The offline plan: run the real program for one stack under the simulator (no cloud, no cluster,
// no Pulumi CLI), print what each cluster gets and write the rendered Helm values and Kubernetes
// objects under out/<stack>/, with every secret value redacted.
//
//   npm run plan -- --stack dev [--out out]
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import * as YAML from "yaml";
import { runProgram } from "./lib/runProgram";
import type { Registration } from "./lib/simulator";

const ROOT = path.resolve(__dirname, "..");

export interface StackFile {
    config: Record<string, unknown>;
    secretKeys: string[];
    /** Keys whose `secure:` values cannot be decrypted offline. */
    encrypted: string[];
}

/** Read Pulumi.<stack>.yaml into the flat config map the Pulumi CLI would hand the program. */
export function readStackFile(stack: string, dir = ROOT): StackFile {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
        throw new Error(`no stack file ${path.relative(process.cwd(), file)}; shipped stacks: ${known.join(", ")}`);
    }
    const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const project = (YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const out: StackFile = { config: {}, secretKeys: [], encrypted: [] };
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        const key = k.includes(":") ? k : `${project}:${k}`;
        if (v && typeof v === "object" && "secure" in (v as object)) {
            out.encrypted.push(key);
            continue;
        }
        out.config[key] = v;
    }
    return out;
}

function redactLeaves(v: unknown): unknown {
    if (v && typeof v === "object" && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactLeaves(x)]));
    if (typeof v === "string" && v.startsWith("<redacted")) return v;
    return `<redacted: ${String(v).length} bytes>`;
}

const SECRET_KINDS = new Set(["kubernetes:core/v1:Secret"]);

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

interface ClusterSummary {
    name: string;
    role: string;
    network: string;
    charts: string[];
    gateway: string;
    receivesFrom: string[];
}

export async function plan(
    stack: string,
    outDir: string,
    // The program is loaded after the mocks are installed; tests pass their own module loader.
    load: () => Promise<Record<string, unknown>> = async () => require(path.join(ROOT, "index.ts")),
): Promise<{ ok: boolean; clusters: ClusterSummary[]; written: string[] }> {
    const stackFile = readStackFile(stack);
    const result = await runProgram({ config: stackFile.config, secretKeys: stackFile.secretKeys, stack, load });
    if (result.error) {
        console.error(`plan for stack ${stack} failed:\n${result.error.message}`);
        if (stackFile.encrypted.length) console.error(`note: ${stackFile.encrypted.join(", ")} are encrypted (secure:) and cannot be read offline`);
        return { ok: false, clusters: [], written: [] };
    }
    const sim = result.sim;
    const facts = result.outputs.clusters as Record<string, { network: string; role: string; primary: string | null }>;
    const addresses = (result.outputs.gatewayAddresses ?? {}) as Record<string, string>;
    const dir = path.join(outDir, stack);
    fs.rmSync(dir, { recursive: true, force: true });
    const written: string[] = [];
    const write = (rel: string, text: string) => {
        const f = path.join(dir, rel);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, text);
        written.push(f);
    };

    const summaries: ClusterSummary[] = [];
    for (const [name, fact] of Object.entries(facts)) {
        const mine = sim.registrations.filter((r) => r.providerName === `${name}-k8s`);
        const releases = mine.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
        for (const r of releases) {
            write(`${name}/helm/${r.inputs.name}.values.yaml`, `# chart ${r.inputs.chart} ${r.inputs.version} from ${r.inputs.repositoryOpts?.repo}, release ${r.inputs.name} in ${r.inputs.namespace}\n${YAML.stringify(r.inputs.values ?? {})}`);
        }
        const objects = mine
            .filter((r) => r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release" && !r.read)
            .sort((a, b) => `${a.inputs.kind}/${a.inputs.metadata?.name}`.localeCompare(`${b.inputs.kind}/${b.inputs.metadata?.name}`));
        write(`${name}/objects.yaml`, objects.map((o) => YAML.stringify(redact(o))).join("---\n"));
        summaries.push({
            name,
            role: fact.role + (fact.primary ? ` of ${fact.primary}` : ""),
            network: fact.network,
            charts: releases.map((r) => `${r.inputs.chart}@${r.inputs.version}`),
            gateway: addresses[name] ? `${addresses[name]} (simulated; assigned at deploy)` : "-",
            receivesFrom: objects.filter((o) => o.inputs.metadata?.labels?.["istio/multiCluster"] === "true").map((o) => o.inputs.metadata.annotations["networking.istio.io/cluster"]),
        });
    }
    const outputs = { ...result.outputs };
    write("outputs.json", `${JSON.stringify(outputs, null, 2)}\n`);

    const rows = summaries.map((s) => [s.name, s.role, s.network, s.charts.join(" "), s.gateway, s.receivesFrom.join(", ") || "-"]);
    const head = ["cluster", "role", "network", "charts", "east-west gateway", "remote secrets from"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
    console.log(`mesh ${result.outputs.meshId} (${result.outputs.topology}), stack ${stack}: ${sim.registrations.length} resources`);
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    console.log(`root CA sha256 ${result.outputs.rootCertSha256}`);
    console.log(`wrote ${written.length} files under ${path.relative(process.cwd(), dir) || dir}/`);
    for (const f of written) console.log(`  ${path.relative(process.cwd(), f)}`);
    return { ok: true, clusters: summaries, written };
}

if (require.main === module) {
    const program = new Command()
        .name("plan")
        .description("Render what `pulumi up` would create for a stack, offline")
        .option("-s, --stack <name>", "stack to plan (reads Pulumi.<stack>.yaml)", "dev")
        .option("-o, --out <dir>", "output directory", path.join(ROOT, "out"))
        .parse();
    const o = program.opts<{ stack: string; out: string }>();
    plan(o.stack, o.out).then(
        (r) => process.exit(r.ok ? 0 : 1),
        (e) => {
            console.error(e instanceof Error ? e.message : e);
            process.exit(1);
        },
    );
}
