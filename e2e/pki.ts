// Certificates for the local clusters and the webhook stand-in, with openssl (as the certificate
// tests use it): a self-signed CA and leaves it issues, EC P-256, 30 days, files 0600 in a 0700
// folder outside the repository. One home for e2e/clusters.ts and e2e/standIn.ts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface KeyPair {
    crt: string;
    key: string;
}

function openssl(args: string[]): void {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
}

/** A self-signed CA in `dir` (ca.crt, ca.key) with the subject CN `cn`. */
export function selfSignedCa(dir: string, cn: string): KeyPair {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = { crt: path.join(dir, "ca.crt"), key: path.join(dir, "ca.key") };
    openssl([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        ca.key,
        "-out",
        ca.crt,
        "-days",
        "30",
        "-subj",
        `/CN=${cn}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return ca;
}

/** A leaf `<name>.crt`/`<name>.key` in `dir`, subject `subj`, the extension lines `ext`, issued by `ca`. */
export function issue(dir: string, name: string, subj: string, ext: string[], ca: KeyPair): KeyPair {
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const crt = path.join(dir, `${name}.crt`);
    const extFile = path.join(dir, `${name}.ext`);
    fs.writeFileSync(extFile, ext.join("\n") + "\n");
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", subj]);
    openssl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca.crt,
        "-CAkey",
        ca.key,
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-out",
        crt,
        "-extfile",
        extFile,
    ]);
    return { crt, key };
}
