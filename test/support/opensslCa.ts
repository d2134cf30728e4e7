// Real certificate fixtures built with the openssl CLI at test time (no checked-in keys). Each
// instance owns one mkdtemp directory; call cleanup() when done.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Extension sections for `openssl x509 -req -extfile`. */
export const EXT = {
    root: ["basicConstraints=critical,CA:true", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=hash"],
    intermediate: [
        "basicConstraints=critical,CA:true",
        "keyUsage=critical,keyCertSign,cRLSign",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid:always",
    ],
};

export type KeyKind = "ec-pkcs8" | "ec-sec1" | "rsa-pkcs1" | "rsa-pkcs8";
/** Keys for the policy corpus (test/support/bundleCorpus.ts), all PKCS#8 ("PRIVATE KEY"). */
export type PolicyKeyKind = "rsa-1024" | "rsa-3072" | "rsa-4096" | "ec-p224" | "ec-p384" | "ec-p521" | "ed25519";

export interface Issued {
    name: string;
    certPem: string;
    keyPem: string;
}

export class OpensslCa {
    readonly dir: string;
    private serial = 1;

    constructor() {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-ca-test-"));
    }

    run(args: string[]): string {
        return execFileSync("openssl", args, { cwd: this.dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    }

    /** Like run, but returns the combined output and exit status instead of throwing. */
    tryRun(args: string[]): { ok: boolean; output: string } {
        try {
            return { ok: true, output: this.run(args) };
        } catch (e) {
            const err = e as { stdout?: string; stderr?: string };
            return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
        }
    }

    write(file: string, text: string): string {
        fs.writeFileSync(path.join(this.dir, file), text);
        return file;
    }

    read(file: string): string {
        return fs.readFileSync(path.join(this.dir, file), "utf8");
    }

    /** A new private key in `<name>.key`; returns its PEM. */
    key(name: string, kind: KeyKind | PolicyKeyKind = "ec-pkcs8"): string {
        const out = `${name}.key`;
        switch (kind) {
            case "rsa-1024":
            case "rsa-3072":
            case "rsa-4096":
                this.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${kind.slice(4)}`, "-out", out]);
                break;
            case "ec-p224":
            case "ec-p384":
            case "ec-p521":
                this.run(["genpkey", "-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:P-${kind.slice(4)}`, "-out", out]);
                break;
            case "ed25519":
                this.run(["genpkey", "-algorithm", "ED25519", "-out", out]);
                break;
            case "ec-pkcs8":
                this.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out]);
                break;
            case "ec-sec1":
                this.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", out]);
                break;
            case "rsa-pkcs1":
                this.run(["genrsa", "-traditional", "-out", out, "2048"]);
                break;
            case "rsa-pkcs8":
                this.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", out]);
                break;
        }
        return this.read(out);
    }

    /**
     * A certificate for `<name>.key` (generated if absent), signed by `issuer` or self-signed.
     * `ext` lines go into an `-extfile` section applied with `-extensions`. `md` is the signing digest
     * ("sha256" unless given; "" for none, as Ed25519 needs), `sigopt` extra `-sigopt` values (RSA-PSS).
     */
    cert(
        name: string,
        subject: string,
        opts: { issuer?: string; ext: string[]; days?: number; kind?: KeyKind | PolicyKeyKind; md?: string; sigopt?: string[] },
    ): Issued {
        if (!fs.existsSync(path.join(this.dir, `${name}.key`))) this.key(name, opts.kind);
        this.write(`${name}.ext`, `[ext]\n${opts.ext.join("\n")}\n`);
        this.run(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
        const sign = opts.issuer ? ["-CA", `${opts.issuer}.pem`, "-CAkey", `${opts.issuer}.key`] : ["-signkey", `${name}.key`];
        this.run([
            "x509",
            "-req",
            "-in",
            `${name}.csr`,
            ...sign,
            "-set_serial",
            String(1000 + this.serial++),
            "-days",
            String(opts.days ?? 365),
            ...(opts.md === "" ? [] : [`-${opts.md ?? "sha256"}`]),
            ...(opts.sigopt ?? []).flatMap((o) => ["-sigopt", o]),
            "-extfile",
            `${name}.ext`,
            "-extensions",
            "ext",
            "-out",
            `${name}.pem`,
        ]);
        return { name, certPem: this.read(`${name}.pem`), keyPem: this.read(`${name}.key`) };
    }

    /** `openssl verify -CAfile <root> -untrusted <chain> <leaf>`, all given as PEM text. */
    verify(rootPem: string, chainPem: string, leafPem: string): { ok: boolean; output: string } {
        this.write("v-root.pem", rootPem);
        this.write("v-chain.pem", chainPem);
        this.write("v-leaf.pem", leafPem);
        return this.tryRun(["verify", "-CAfile", "v-root.pem", "-untrusted", "v-chain.pem", "v-leaf.pem"]);
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
