// Reading stack files: Pulumi's stack name rule before any file is touched, `secure:` values at any
// depth, and the passphrase provider's format checked against values taken from pulumi/pulumi's
// own tests (data only).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isUndecryptedSecret, UNDECRYPTED_SECRET } from "../components/secretPlaceholder";
import { decryptValue, isSecureValue, readStackFile, stackNameProblem } from "../offline/stackFile";
import { planStack, shippedStacks, tempDir } from "./support/planRun";

const tmp = tempDir("stackfile-");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let dirNo = 0;
/** A project folder of its own: Pulumi.yaml (project `foo`) and the given stack files. */
function project(files: Record<string, string>, name = "foo"): string {
    const dir = path.join(tmp, `p${dirNo++}`, "repo");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
}

// pulumi/pulumi tests/roundtrip/roundtrip_test.go (TestConfigRoundtripComments) at v3.248.0: a stack
// file written by `pulumi` with the passphrase "TestConfigRoundtripComments"; its foo:d holds "secret-value".
const ROUNDTRIP = {
    passphrase: "TestConfigRoundtripComments",
    salt: "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==",
    secureD: "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==",
};
// pulumi/pulumi pkg/secrets/passphrase/manager_test.go at v3.248.0: this state opens with "password", not "password123".
const MANAGER_STATE = "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ==";

describe("stack names: Pulumi's rule (tokens.ParseStackName)", () => {
    it("accepts what Pulumi accepts, including every shipped stack", () => {
        for (const s of [...shippedStacks(), "dev", "my-stack_1.2", "A", "x".repeat(100), ".hidden", "a..b"])
            expect(stackNameProblem(s), s).toBeUndefined();
    });

    it("refuses what Pulumi refuses, with Pulumi's message", () => {
        expect(stackNameProblem("")).toBe("a stack name may not be empty");
        expect(stackNameProblem("x".repeat(101))).toBe("a stack name cannot exceed 100 characters");
        expect(stackNameProblem("a b")).toBe(
            "a stack name may only contain alphanumeric, hyphens, underscores, or periods: invalid character ' ' at position 1",
        );
        expect(stackNameProblem("dev\n")).toMatch(/invalid character '\n' at position 3/);
        expect(stackNameProblem("a/../../x")).toMatch(
            /^a stack name may only contain .*invalid character '\/' at position 1 \(give the stack's own name/,
        );
        expect(stackNameProblem("org/project/dev")).toMatch(/invalid character '\/' at position 3/);
        expect(stackNameProblem("..\\x")).toMatch(/invalid character '\\' at position 2/);
    });

    it("refuses . and .. (Pulumi allows them, but they cannot name out/<stack>/)", () => {
        expect(stackNameProblem(".")).toMatch(/cannot name a stack here/);
        expect(stackNameProblem("..")).toMatch(/cannot name a stack here/);
        expect(stackNameProblem("...")).toMatch(/cannot name a stack here/);
    });

    it("readStackFile refuses a traversing name before reading the file it would reach", () => {
        const dir = project({});
        // Pulumi.a/../../x.yaml inside `dir` would be ../x.yaml: put a readable stack file there.
        fs.writeFileSync(path.join(dir, "..", "x.yaml"), "config:\n  foo:a: outside\n");
        expect(() => readStackFile("a/../../x", dir)).toThrow(/^--stack "a\/\.\.\/\.\.\/x": a stack name may only contain/);
    });

    it("plan refuses --stack 'a/../../x' and touches nothing outside out/<stack>", async () => {
        const root = tempDir("stackname-");
        try {
            const out = path.join(root, "repo", "out");
            fs.mkdirSync(out, { recursive: true });
            // What out/a/../../x would name, and what a `..` stack would: both must survive.
            const victim = path.join(root, "repo", "x");
            fs.mkdirSync(victim);
            fs.writeFileSync(path.join(victim, "keep.txt"), "mine");
            fs.writeFileSync(path.join(out, "keep.txt"), "mine");
            for (const stack of ["a/../../x", "..", "."]) {
                const r = await planStack(stack, out);
                expect(r.ok).toBe(false);
                expect(r.errors).toHaveLength(1);
                expect(r.stderr).toContain(`error: --stack ${JSON.stringify(stack)}: `);
                expect(r.stdout).toBe("");
            }
            expect(fs.readFileSync(path.join(victim, "keep.txt"), "utf8")).toBe("mine");
            expect(fs.readFileSync(path.join(out, "keep.txt"), "utf8")).toBe("mine");
            expect(fs.readdirSync(out)).toEqual(["keep.txt"]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("secure values", () => {
    it("follows Pulumi's isSecureValue: exactly one key, `secure`, holding a string", () => {
        expect(isSecureValue({ secure: "v1:a:b" })).toBe(true);
        // pulumi/pulumi sdk/go/common/resource/config/map_test.go: {secure: foo, bar: blah} is a plain object.
        expect(isSecureValue({ secure: "foo", bar: "blah" })).toBe(false);
        expect(isSecureValue({ secure: 1 })).toBe(false);
        expect(isSecureValue(["secure"])).toBe(false);
        expect(isSecureValue("secure")).toBe(false);
    });

    it("replaces top-level and nested secure values it cannot decrypt by the marker, and marks their keys secret", () => {
        const dir = project({
            "Pulumi.s.yaml": [
                "config:",
                "  foo:plain: 1",
                "  foo:top:",
                "    secure: v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==",
                "  foo:caBundles:",
                "    east:",
                "      caCertPem: a certificate",
                "      caKeyPem:",
                "        secure: v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==",
                "  foo:list:",
                "    - token:",
                "        secure: v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA==",
                "    - {secure: not-alone, other: 1}",
                "",
            ].join("\n"),
        });
        const sf = readStackFile("s", dir, { env: {} });
        expect(sf.config["foo:plain"]).toBe(1);
        expect(sf.config["foo:top"]).toBe(UNDECRYPTED_SECRET);
        expect(sf.config["foo:caBundles"]).toEqual({ east: { caCertPem: "a certificate", caKeyPem: UNDECRYPTED_SECRET } });
        expect(sf.config["foo:list"]).toEqual([{ token: UNDECRYPTED_SECRET }, { secure: "not-alone", other: 1 }]);
        expect(isUndecryptedSecret((sf.config["foo:caBundles"] as { east: { caKeyPem: unknown } }).east.caKeyPem)).toBe(true);
        expect(sf.secretKeys.sort()).toEqual(["foo:caBundles", "foo:list", "foo:top"]);
        // Named as `pulumi config set --path` names them.
        expect(sf.undecrypted.sort()).toEqual(["foo:caBundles.east.caKeyPem", "foo:list[0].token", "foo:top"]);
        // No encryptionsalt: not the passphrase provider as far as this file shows.
        expect(sf.whyUndecrypted).toMatch(/cannot be used offline/);
    });

    it("says which secrets provider it cannot use", () => {
        const dir = project({
            "Pulumi.k.yaml": "secretsprovider: awskms://alias/x\nencryptedkey: abc\nconfig:\n  foo:k:\n    secure: AAEC\n",
        });
        const sf = readStackFile("k", dir, { env: { PULUMI_CONFIG_PASSPHRASE: "x" } });
        expect(sf.config["foo:k"]).toBe(UNDECRYPTED_SECRET);
        expect(sf.whyUndecrypted).toBe("the stack's secrets provider (awskms) cannot be used offline");
    });

    it("asks for PULUMI_CONFIG_PASSPHRASE when the stack uses the passphrase provider", () => {
        const dir = project({
            "Pulumi.p.yaml": `encryptionsalt: ${ROUNDTRIP.salt}\nconfig:\n  foo:d:\n    secure: ${ROUNDTRIP.secureD}\n`,
        });
        const sf = readStackFile("p", dir, { env: {} });
        expect(sf.undecrypted).toEqual(["foo:d"]);
        expect(sf.whyUndecrypted).toMatch(/set PULUMI_CONFIG_PASSPHRASE/);
    });
});

describe("the passphrase provider, against pulumi/pulumi's own values", () => {
    it("decrypts a Pulumi-written stack file (tests/roundtrip), top level and nested", () => {
        const file = [
            `encryptionsalt: ${ROUNDTRIP.salt}`,
            "config:",
            "  foo:a: some-value",
            "  foo:d:",
            `    secure: ${ROUNDTRIP.secureD} # a comment on the secret`,
            // The same ciphertext nested, as `--path` writes one: each value is sealed on its own.
            "  foo:c:",
            "    inner:",
            `      caKeyPem: {secure: "${ROUNDTRIP.secureD}"}`,
            "",
        ].join("\n");
        const dir = project({ "Pulumi.test.yaml": file });
        const sf = readStackFile("test", dir, { env: { PULUMI_CONFIG_PASSPHRASE: ROUNDTRIP.passphrase } });
        expect(sf.config["foo:d"]).toBe("secret-value");
        expect(sf.config["foo:c"]).toEqual({ inner: { caKeyPem: "secret-value" } });
        expect(sf.config["foo:a"]).toBe("some-value");
        expect(sf.undecrypted).toEqual([]);
        expect(sf.secretKeys.sort()).toEqual(["foo:c", "foo:d"]);
    });

    it("reads the passphrase from PULUMI_CONFIG_PASSPHRASE_FILE, trimmed, when the variable is unset", () => {
        const phraseFile = path.join(tmp, "phrase.txt");
        fs.writeFileSync(phraseFile, `${ROUNDTRIP.passphrase}\n`);
        const dir = project({
            "Pulumi.test.yaml": `encryptionsalt: ${ROUNDTRIP.salt}\nconfig:\n  foo:d:\n    secure: ${ROUNDTRIP.secureD}\n`,
        });
        expect(readStackFile("test", dir, { env: { PULUMI_CONFIG_PASSPHRASE_FILE: phraseFile } }).config["foo:d"]).toBe("secret-value");
    });

    it("refuses a wrong passphrase (manager_test's state: 'password' opens it, 'password123' does not)", () => {
        const value = `secure: ${ROUNDTRIP.secureD}`;
        const dir = project({ "Pulumi.m.yaml": `encryptionsalt: ${MANAGER_STATE}\nconfig:\n  foo:x:\n    ${value}\n` });
        expect(() => readStackFile("m", dir, { env: { PULUMI_CONFIG_PASSPHRASE: "password123" } })).toThrow(/^incorrect passphrase/);
        // The right passphrase opens the state, but this value was sealed with another stack's key.
        expect(() => readStackFile("m", dir, { env: { PULUMI_CONFIG_PASSPHRASE: "password" } })).toThrow(
            /^foo:x: cannot decrypt its secure value: cipher: message authentication failed/,
        );
    });

    it("decryptValue rejects what symmetricCrypter.DecryptValue rejects", () => {
        const key = Buffer.alloc(32);
        expect(() => decryptValue(key, "v1:abc")).toThrow("bad value");
        expect(() => decryptValue(key, "v2:AAAAAAAAAAAAAAAA:AAAA")).toThrow("unknown value version");
        expect(() => decryptValue(key, "v1:AAAA:AAAAAAAAAAAAAAAAAAAAAA==")).toThrow("nonce size is incorrect");
    });
});
