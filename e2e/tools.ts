// The real tools of the end-to-end suite, built from Go modules only: the Pulumi CLI, the Kubernetes
// provider, kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok. Each comes from a
// wrapper module of ours under tools/e2e/<tool>/ (go.mod and go.sum pin every module; a few lines of
// `main` where upstream's cannot be used as is). Nothing is downloaded from a release site and no
// fetched source is copied: `go build` reads the modules from the Go module cache. This file only
// builds them; e2e/clusters.ts runs them, always inside a network namespace (netns) of loopback only.
//
// Everything built lives outside the repository, under the cache folder (MCM_CACHE, default
// ~/.cache/multicluster-mesh), keyed by tool, version and a digest of its wrapper, so a second run
// takes seconds and a changed pin builds anew beside the old one:
//   go/mod, go/build             GOMODCACHE and GOCACHE (about 4 GB and 11 GB once everything is built)
//   e2e/tools/<tool>-<version>-<digest>/   one tool's binaries and its build record
//   e2e/bin-<digest>/            the set: a link to every binary (what `tools: <folder>` names)
//   e2e/pulumi-home/             PULUMI_HOME, with the provider installed as the plugin version
//                                @pulumi/kubernetes asks for
//
// Versions and flags are the ones verified on this machine kind (docs/real-engine.md).
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");

/** The cache folder: MCM_CACHE, else ~/.cache/multicluster-mesh. Never inside the repository. */
export function cacheDir(): string {
    const dir = process.env.MCM_CACHE ? path.resolve(process.env.MCM_CACHE) : path.join(os.homedir(), ".cache", "multicluster-mesh");
    const rel = path.relative(ROOT, dir);
    if (rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))) {
        throw new Error(
            `MCM_CACHE=${dir} is inside the repository; the tools are gigabytes: point it outside (default ~/.cache/multicluster-mesh)`,
        );
    }
    return dir;
}

/** The provider version @pulumi/kubernetes asks the engine for (its package.json), stamped into the binary we build. */
export function kubernetesPluginVersion(): string {
    const pkg = JSON.parse(fs.readFileSync(require.resolve("@pulumi/kubernetes/package.json"), "utf8")) as { version: string };
    return pkg.version;
}

export interface ToolSpec {
    /** Folder under tools/e2e/. */
    wrapper: string;
    /** What the tool is, for progress lines. */
    title: string;
    version: string;
    /** Packages to build (Go import paths, or "." for the wrapper's own main) and the binary each makes. */
    builds: { pkg: string; bin: string }[];
    tags?: string[];
    /** -X flags; `{moduleDir:<module>}` in a value is replaced with that module's directory in the module cache. */
    ldflags?: Record<string, string>;
    /** Cold build on 2 cores, measured (docs/real-engine.md): said before the build starts. */
    coldMinutes: number;
}

const K8S_VERSION = "1.36.3";
const PROVIDER_BIN = "pulumi-resource-kubernetes";

export function toolSpecs(): ToolSpec[] {
    const plugin = kubernetesPluginVersion();
    return [
        {
            wrapper: "etcd",
            title: "etcd",
            version: "3.6.16",
            builds: [{ pkg: ".", bin: "etcd" }],
            coldMinutes: 1,
        },
        {
            wrapper: "kwok",
            title: "kwok",
            version: "0.8.0",
            builds: [{ pkg: "sigs.k8s.io/kwok/cmd/kwok", bin: "kwok" }],
            coldMinutes: 1.5,
        },
        {
            wrapper: "kube",
            title: "kube-apiserver, kube-controller-manager, kube-scheduler",
            version: K8S_VERSION,
            builds: ["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((b) => ({
                pkg: `k8s.io/kubernetes/cmd/${b}`,
                bin: b,
            })),
            // What `kubectl version` and /version report (k8s.io/component-base/version/base.go).
            ldflags: {
                "k8s.io/component-base/version.gitVersion": `v${K8S_VERSION}`,
                "k8s.io/component-base/version.gitMajor": K8S_VERSION.split(".")[0],
                "k8s.io/component-base/version.gitMinor": K8S_VERSION.split(".")[1],
                "k8s.io/component-base/version.gitTreeState": "clean",
            },
            coldMinutes: 5,
        },
        {
            wrapper: "kubernetes-provider",
            title: `Kubernetes provider (v4.25.0 source, served as plugin ${plugin})`,
            version: plugin,
            builds: [{ pkg: ".", bin: "pulumi-resource-kubernetes" }],
            ldflags: {
                "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version": plugin,
                // tools/e2e/kubernetes-provider/main.go reads the schema files from here at start.
                "main.moduleDir": "{moduleDir:github.com/pulumi/pulumi-kubernetes/provider/v4}",
            },
            coldMinutes: 6.5,
        },
        {
            wrapper: "pulumi",
            title: "Pulumi CLI",
            version: "3.276.0",
            builds: [{ pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", bin: "pulumi" }],
            // As Pulumi's own release build (pulumi/pulumi scripts/ and .goreleaser.yml at v3.276.0).
            tags: ["osusergo", "grpcnotrace"],
            ldflags: { "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": "v3.276.0" },
            coldMinutes: 5.5,
        },
    ];
}

/** A digest of what decides a tool's binary: its wrapper files, the spec and the Go version. */
export function toolKey(spec: ToolSpec, goVersion: string): string {
    const h = crypto.createHash("sha256");
    const dir = path.join(ROOT, "tools", "e2e", spec.wrapper);
    for (const f of fs.readdirSync(dir).sort())
        h.update(f)
            .update("\0")
            .update(fs.readFileSync(path.join(dir, f)))
            .update("\0");
    h.update(JSON.stringify({ ...spec, coldMinutes: 0 })).update(goVersion);
    return h.digest("hex").slice(0, 12);
}

export function goEnv(cache = cacheDir()): NodeJS.ProcessEnv {
    return {
        ...process.env,
        CGO_ENABLED: "0",
        GOFLAGS: "-buildvcs=false -modcacherw -mod=readonly",
        GOMODCACHE: path.join(cache, "go", "mod"),
        GOCACHE: path.join(cache, "go", "build"),
        GOTOOLCHAIN: "local",
    };
}

export interface ToolsLayout {
    cache: string;
    /** The set folder: a link to every binary (pulumi, kube-apiserver, …). */
    bin: string;
    pulumiHome: string;
    /** Per tool: its folder and whether it is built. */
    tools: { spec: ToolSpec; dir: string; built: boolean }[];
    /** The kwok module's folder in the module cache (its Stage files are read from there, never copied). */
    kwokModuleDir?: string;
}

function run(
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (l: string) => void } = {},
): Promise<string> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        const lines = (chunk: Buffer, into: "out" | "err") => {
            const s = chunk.toString();
            if (into === "out") out += s;
            else err += s;
            if (opts.onLine) for (const l of s.split("\n")) if (l.trim() !== "") opts.onLine(l);
        };
        p.stdout.on("data", (c: Buffer) => lines(c, "out"));
        p.stderr.on("data", (c: Buffer) => lines(c, "err"));
        p.on("error", reject);
        p.on("close", (code) =>
            code === 0
                ? resolve(out)
                : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${err.split("\n").slice(-30).join("\n")}`)),
        );
    });
}

export async function goVersion(): Promise<string> {
    try {
        return (await run("go", ["env", "GOVERSION"])).trim();
    } catch {
        throw new Error("go is not installed: the end-to-end tools build from Go modules (Debian: apt-get install golang-go, Go >= 1.26)");
    }
}

/** Where everything is, and what is built already (no build, no network). */
export function layout(go: string, cache = cacheDir()): ToolsLayout {
    const specs = toolSpecs();
    const tools = specs.map((spec) => {
        const dir = path.join(cache, "e2e", "tools", `${spec.wrapper}-${spec.version}-${toolKey(spec, go)}`);
        return { spec, dir, built: fs.existsSync(path.join(dir, "built.json")) };
    });
    const setKey = crypto
        .createHash("sha256")
        .update(tools.map((t) => t.dir).join("\n"))
        .digest("hex")
        .slice(0, 12);
    const kwokRecord = path.join(tools.find((t) => t.spec.wrapper === "kwok")!.dir, "built.json");
    let kwokModuleDir: string | undefined;
    if (fs.existsSync(kwokRecord))
        kwokModuleDir = (JSON.parse(fs.readFileSync(kwokRecord, "utf8")) as { moduleDirs?: Record<string, string> }).moduleDirs?.[
            "sigs.k8s.io/kwok"
        ];
    return {
        cache,
        bin: path.join(cache, "e2e", `bin-${setKey}`),
        pulumiHome: path.join(cache, "e2e", "pulumi-home"),
        tools,
        kwokModuleDir,
    };
}

/** The tools, when all are built and linked; otherwise why not (one line). */
export async function builtTools(): Promise<{ ok: true; layout: ToolsLayout } | { ok: false; why: string }> {
    let go: string;
    try {
        go = await goVersion();
    } catch (e) {
        return { ok: false, why: (e as Error).message };
    }
    const l = layout(go);
    const missing = l.tools.filter((t) => !t.built).map((t) => t.spec.wrapper);
    if (missing.length > 0)
        return { ok: false, why: `tools not built (${missing.join(", ")}): run npm run e2e:tools (about 18 minutes cold on 2 cores)` };
    if (!fs.existsSync(path.join(l.bin, "pulumi")) || !pluginInstalled(l))
        return { ok: false, why: "tools built but not linked: run npm run e2e:tools" };
    return { ok: true, layout: l };
}

function pluginInstalled(l: ToolsLayout): boolean {
    const v = kubernetesPluginVersion();
    return fs.existsSync(path.join(l.pulumiHome, "plugins", `resource-kubernetes-v${v}`, "pulumi-resource-kubernetes"));
}

export type Progress = (line: string) => void;

function fmt(ms: number): string {
    const s = Math.round(ms / 1000);
    return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** Build whatever is missing, link the set, install the provider plugin. Returns the layout and per-tool times. */
export async function ensureTools(
    progress: Progress,
): Promise<{ layout: ToolsLayout; times: { tool: string; ms: number; cached: boolean }[] }> {
    const go = await goVersion();
    const cache = cacheDir();
    const l = layout(go, cache);
    const env = goEnv(cache);
    const todo = l.tools.filter((t) => !t.built);
    const times: { tool: string; ms: number; cached: boolean }[] = [];
    if (todo.length > 0) {
        const minutes = todo.reduce((a, t) => a + t.spec.coldMinutes, 0);
        progress(
            `e2e:tools: ${todo.length} of ${l.tools.length} tools to build from Go modules with ${go}; a cold build takes about ` +
                `${Math.round(minutes)} minutes on 2 cores (module downloads, then compiling) and needs about 15 GB under ${cache}. ` +
                `Later runs reuse it and take seconds.`,
        );
    }
    let i = 0;
    for (const t of l.tools) {
        i++;
        const label = `[${i}/${l.tools.length}] ${t.spec.title} ${t.spec.version}`;
        if (t.built) {
            progress(`${label}: cached (${path.relative(cache, t.dir)})`);
            times.push({ tool: t.spec.wrapper, ms: 0, cached: true });
            continue;
        }
        const started = Date.now();
        progress(`${label}: building (cold: about ${t.spec.coldMinutes} min on 2 cores)`);
        await buildTool(t.spec, t.dir, env, (line) => progress(`${label}: ${line} (${fmt(Date.now() - started)})`));
        const ms = Date.now() - started;
        times.push({ tool: t.spec.wrapper, ms, cached: false });
        progress(`${label}: built in ${fmt(ms)}`);
    }
    // The set folder: one link per binary, so PATH needs one entry. Not the provider: the engine
    // would take a plugin found on PATH over the installed one (and warn); it is installed below.
    fs.mkdirSync(l.bin, { recursive: true });
    for (const t of l.tools)
        for (const b of t.spec.builds) {
            const link = path.join(l.bin, b.bin);
            fs.rmSync(link, { force: true });
            if (b.bin !== PROVIDER_BIN) fs.symlinkSync(path.join(t.dir, b.bin), link);
        }
    // The provider as the plugin version @pulumi/kubernetes asks for, in our PULUMI_HOME only.
    const version = kubernetesPluginVersion();
    if (!pluginInstalled(l)) {
        progress(`installing the Kubernetes provider as plugin resource kubernetes v${version} into ${l.pulumiHome}`);
        const providerDir = l.tools.find((t) => t.spec.builds.some((b) => b.bin === PROVIDER_BIN))!.dir;
        await run(
            path.join(l.bin, "pulumi"),
            ["plugin", "install", "resource", "kubernetes", `v${version}`, "--file", path.join(providerDir, PROVIDER_BIN)],
            {
                env: { ...process.env, PULUMI_HOME: l.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
            },
        );
    }
    return { layout: layout(go, cache), times };
}

async function buildTool(spec: ToolSpec, dir: string, env: NodeJS.ProcessEnv, progress: Progress): Promise<void> {
    // The wrapper is built from a copy in the cache (go.mod, go.sum, main.go: our own files), so the
    // repository never gets build output.
    const src = path.join(path.dirname(dir), `${path.basename(dir)}.src`);
    fs.rmSync(src, { recursive: true, force: true });
    fs.mkdirSync(src, { recursive: true });
    const wrapper = path.join(ROOT, "tools", "e2e", spec.wrapper);
    for (const f of fs.readdirSync(wrapper)) fs.copyFileSync(path.join(wrapper, f), path.join(src, f));

    progress("downloading modules (go mod download)");
    let downloaded = 0;
    await run("go", ["mod", "download", "-x"], {
        cwd: src,
        env,
        onLine: (l) => {
            if (/^# get .*\.zip$/.test(l) || /\.zip: 200/.test(l)) {
                downloaded++;
                if (downloaded % 25 === 0) progress(`${downloaded} module downloads`);
            }
        },
    });
    const moduleDirs: Record<string, string> = {};
    const ldflags: string[] = [];
    for (const [k, v] of Object.entries(spec.ldflags ?? {})) {
        const m = /^\{moduleDir:(.+)\}$/.exec(v);
        let value = v;
        if (m) {
            value = (await run("go", ["list", "-m", "-f", "{{.Dir}}", m[1]], { cwd: src, env })).trim();
            moduleDirs[m[1]] = value;
        }
        ldflags.push(`-X ${k}=${value}`);
    }
    if (spec.wrapper === "kwok")
        moduleDirs["sigs.k8s.io/kwok"] = (await run("go", ["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"], { cwd: src, env })).trim();

    const out = `${dir}.partial`;
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    let compiled = 0;
    let last = Date.now();
    const args = ["build", "-v", "-o", out + path.sep];
    if (spec.tags) args.push("-tags", spec.tags.join(","));
    if (ldflags.length > 0) args.push("-ldflags", ldflags.join(" "));
    args.push(...spec.builds.map((b) => b.pkg));
    progress("compiling");
    await run("go", args, {
        cwd: src,
        env,
        onLine: () => {
            compiled++;
            if (Date.now() - last > 20_000) {
                last = Date.now();
                progress(`${compiled} packages compiled`);
            }
        },
    });
    // `go build -o dir/` names each binary after its package path's last element (our wrapper modules
    // are named so: …/e2e/etcd, …/e2e/pulumi-resource-kubernetes).
    for (const b of spec.builds) if (!fs.existsSync(path.join(out, b.bin))) throw new Error(`${spec.title}: go build made no ${b.bin}`);
    fs.writeFileSync(
        path.join(out, "built.json"),
        JSON.stringify({ spec: { ...spec }, moduleDirs, at: new Date().toISOString() }, null, 2),
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(out, dir);
    fs.rmSync(src, { recursive: true, force: true });
}
