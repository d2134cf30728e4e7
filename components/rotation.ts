// Staged root rotation, as Istio supports it: the set of roots in root-cert.pem may only grow or
// shrink (A → A+B → B), never swap (`pemBundleHasSubsetRelation`, pilot/pkg/bootstrap/istio_ca.go at
// 1.30.3), and only with ISTIO_MULTIROOT_MESH=true (pilot/pkg/features/pilot.go). Each phase is one
// `up`; docs/root-rotation.md walks through them. Pure: the components and the plan read these tables.
import * as crypto from "node:crypto";
import { pemBlocks } from "./caBundle";
import { CACERTS_KEYS, CACERTS_SECRET, ISTIO_NAMESPACE, MULTIROOT_ENV, PROXY_XDS_AGENT_METADATA, ROOT_CERT_CONFIGMAP } from "./istio";

export const ROTATION_PHASES = ["prepare", "add-root", "switch-intermediates", "drop-old-root"] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];
/** "none": no rotation in progress (before the first phase, or after the last one is finished). */
export type TrustPhase = RotationPhase | "none";

export const ROTATION_DOC = "docs/root-rotation.md";
/** On each cacerts Secret: the phase its contents belong to (read by offline/planFile.ts and the policy pack). */
export const TRUST_PHASE_ANNOTATION = "multicluster-mesh.io/trust-phase";
export const ROTATION_PROCEDURE =
    "the staged root rotation (trust.rotation.phase prepare → add-root → switch-intermediates → drop-old-root, " +
    `one \`up\` each; ${ROTATION_DOC})`;

/** What each phase puts in `cacerts` and istiod. */
export interface PhaseShape {
    /** Which roots `root-cert.pem` holds, in this order. */
    roots: ("old" | "new")[];
    /** Which root signs the intermediates. */
    signer: "old" | "new";
    /** istiod ISTIO_MULTIROOT_MESH and proxies' PROXY_CONFIG_XDS_AGENT. */
    multiRoot: boolean;
}

export const PHASES: Record<TrustPhase, PhaseShape> = {
    none: { roots: ["old"], signer: "old", multiRoot: false },
    prepare: { roots: ["old"], signer: "old", multiRoot: true },
    "add-root": { roots: ["old", "new"], signer: "old", multiRoot: true },
    "switch-intermediates": { roots: ["old", "new"], signer: "new", multiRoot: true },
    "drop-old-root": { roots: ["new"], signer: "new", multiRoot: true },
};

/** Position in the walk; `none` after a finished rotation is recognised by its roots, not by this index. */
export function phaseIndex(p: TrustPhase): number {
    return p === "none" ? 0 : ROTATION_PHASES.indexOf(p) + 1;
}

/** Whether the root set may move from `before` to `after` in one `up`: equal, subset or superset. */
export function subsetRelation(before: string[], after: string[]): boolean {
    const a = new Set(before);
    const b = new Set(after);
    return [...a].every((x) => b.has(x)) || [...b].every((x) => a.has(x));
}

/** What plan.json records of the trust phase (offline/planFile.ts). */
export interface PhaseRecord {
    phase: TrustPhase;
    /** Identities of the roots in root-cert.pem: a provided root's SHA-256, a generated root's generation and definition. */
    roots: string[];
    /** Identity of the root that signs the intermediates. */
    signer: string;
}

/**
 * Problems with moving from one recorded phase to the next: more than one phase at a time, or a root
 * set that is neither a subset nor a superset of the one before (a direct root swap).
 */
export function phaseStepProblems(before: PhaseRecord, after: PhaseRecord): string[] {
    const problems: string[] = [];
    const finishing = before.phase === "drop-old-root" && after.phase === "none";
    const step = phaseIndex(after.phase) - phaseIndex(before.phase);
    if (!finishing && Math.abs(step) > 1) {
        const next =
            before.phase === "none" ? "prepare" : (ROTATION_PHASES[phaseIndex(before.phase)] ?? "none (finish: remove trust.rotation)");
        problems.push(
            `trust.rotation.phase jumps from ${before.phase} to ${after.phase}; ` +
                "a phase must be deployed and checked in every cluster before the next " +
                `(next is ${next}). Follow ${ROTATION_PROCEDURE}`,
        );
    }
    if (!subsetRelation(before.roots, after.roots)) {
        problems.push(
            `the root of trust changes from ${before.roots.map(short).join(" + ")} to ${after.roots.map(short).join(" + ")} in one step; ` +
                "istiod ignores a root set that is neither a subset nor a superset of the old one " +
                `and mTLS between clusters breaks until every workload restarts. Use ${ROTATION_PROCEDURE}`,
        );
    }
    return problems;
}

function short(id: string): string {
    return /^[0-9a-f]{64}$/.test(id) ? `${id.slice(0, 16)}…` : id;
}

/** The roots of a phase as one `root-cert.pem`, byte for byte the same wherever it is built. */
export function rootBundle(phase: TrustPhase, oldRootPem: string, newRootPem: string | undefined): string {
    const pems = PHASES[phase].roots.map((r) => (r === "old" ? oldRootPem : newRootPem));
    if (pems.some((p) => p === undefined)) throw new Error(`trust phase ${phase} needs the new root`);
    return pems.map((p) => normalizePem(p!)).join("");
}

/** Each PEM block re-emitted as `-----BEGIN…-----\n<base64>\n-----END…-----\n`, so every cluster gets the same bytes. */
export function normalizePem(pem: string): string {
    return pemBlocks(pem)
        .map((b) => b.text.trim() + "\n")
        .join("");
}

/** Days until the certificate expires (negative once expired). */
export function daysLeft(pem: string, now: Date = new Date()): number {
    const c = new crypto.X509Certificate(pem);
    return (new Date(c.validTo).getTime() - now.getTime()) / 86_400_000;
}

export const ROOT_WARN_DAYS = 180;
export const ROOT_FAIL_DAYS = 30;

/**
 * The root never renews by itself (no early renewal on it). Warn under 180 days and fail under 30,
 * unless a rotation is under way (the rotation is the fix, so it must be able to run).
 */
export function rootExpiryFinding(
    rootPems: string[],
    phase: TrustPhase,
    now: Date = new Date(),
): { level: "ok" | "warn" | "fail"; message: string } {
    let worst: { level: "ok" | "warn" | "fail"; message: string } = { level: "ok", message: "" };
    for (const pem of rootPems) {
        const left = daysLeft(pem, now);
        const subject = new crypto.X509Certificate(pem).subject.split("\n").join(", ");
        const what = `the root certificate ${subject} expires in ${Math.floor(left)} days (${new crypto.X509Certificate(pem).validTo})`;
        if (left < ROOT_FAIL_DAYS && phase === "none") {
            return {
                level: "fail",
                message: `${what}, under ${ROOT_FAIL_DAYS}: start ${ROTATION_PROCEDURE} now; the mesh breaks when it expires`,
            };
        }
        if (left < ROOT_WARN_DAYS && worst.level === "ok") {
            worst = { level: "warn", message: `${what}, under ${ROOT_WARN_DAYS}: plan ${ROTATION_PROCEDURE}` };
        }
    }
    return worst;
}

/** Certificates in a PEM bundle, one PEM each. */
export function certPems(pem: string): string[] {
    return pemBlocks(pem)
        .filter((b) => b.type === "CERTIFICATE")
        .map((b) => b.text.trim() + "\n");
}

/** A word as a shell reads it back unchanged: as is when plain, else in single quotes. */
export function shellWord(w: string): string {
    return /^[A-Za-z0-9_.:/@%+=,-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

/**
 * The checks that prove a phase is done in every cluster, as commands a user can run (from Istio's
 * cacert_rotation integration test and the plug-in CA guide). Run them before moving to the next phase.
 * `contexts`: each cluster's kubectl context (offline/contexts.ts); a cluster without one is addressed by its name.
 */
export function phaseChecks(phase: TrustPhase, clusters: string[], contexts: Record<string, string> = {}): string[] {
    // Each command is written as its parts, joined by spaces: one shell line per check.
    const line = (...parts: string[]) => parts.join(" ");
    const ctx = (c: string) => shellWord(contexts[c] ?? c);
    const kubectl = (c: string) => `kubectl --context ${ctx(c)}`;
    const rootKey = CACERTS_KEYS.rootCert.replace(/\./g, "\\.");
    const rootsOf = (c: string) =>
        line(
            kubectl(c),
            `-n ${ISTIO_NAMESPACE} get secret ${CACERTS_SECRET}`,
            `-o jsonpath='{.data.${rootKey}}'`,
            "| base64 -d | sha256sum",
        );
    const countCerts = "| grep -c 'BEGIN CERTIFICATE'";
    const cm = (c: string) =>
        line(kubectl(c), `-n default get configmap ${ROOT_CERT_CONFIGMAP}`, "-o jsonpath='{.data.root-cert\\.pem}'", countCerts);
    const secretOf = (c: string, name: string, field: string) =>
        line(
            `istioctl --context ${ctx(c)} proxy-config secret <pod>.<namespace> -o json |`,
            `jq -r '.dynamicActiveSecrets[] | select(.name=="${name}") | .secret.${field}.inlineBytes' | base64 -d`,
        );
    const proxyRoots = (c: string) => line(secretOf(c, "ROOTCA", "validationContext.trustedCa"), countCerts);
    const out: string[] = [];
    switch (phase) {
        case "none":
            return [];
        case "prepare":
            for (const c of clusters) {
                const env = `{.spec.template.spec.containers[0].env[?(@.name=="${MULTIROOT_ENV}")].value}`;
                out.push(line(kubectl(c), `-n ${ISTIO_NAMESPACE} get deploy istiod -o jsonpath='${env}'`, "  # true"));
                out.push(
                    line(
                        kubectl(c),
                        "rollout restart deployment -n <each namespace with injected pods>",
                        `  # then every injected pod carries ${PROXY_XDS_AGENT_METADATA}:`,
                    ),
                );
                out.push(
                    line(
                        kubectl(c),
                        "get pods -A -l security.istio.io/tlsMode=istio -o json |",
                        `jq -r '.items[] | select([.spec.containers[].env[]?.name] | index("${PROXY_XDS_AGENT_METADATA}") | not)`,
                        `| .metadata.namespace+"/"+.metadata.name'`,
                        "  # prints nothing",
                    ),
                );
            }
            return out;
        case "add-root":
            for (const c of clusters) {
                out.push(line(rootsOf(c), "  # the same digest in every cluster"));
                out.push(line(cm(c), "  # 2"));
                out.push(line(proxyRoots(c), "  # 2, for a pod in each namespace"));
                out.push(
                    line(
                        kubectl(c),
                        `-n ${ISTIO_NAMESPACE} logs deploy/istiod | grep -E 'Updating new ROOT-CA|not supported'`,
                        `  # "Updating new ROOT-CA", never "not supported"`,
                    ),
                );
            }
            return out;
        case "switch-intermediates":
            for (const c of clusters) {
                out.push(line(rootsOf(c), "  # unchanged since add-root, the same in every cluster"));
                out.push(
                    line(
                        secretOf(c, "default", "tlsCertificate.certificateChain"),
                        "| openssl crl2pkcs7 -nocrl -certfile /dev/stdin | openssl pkcs7 -print_certs -noout",
                        "  # the issuer chain ends at the new root (≈12 h, or restart pods)",
                    ),
                );
            }
            return out;
        case "drop-old-root":
            for (const c of clusters) {
                out.push(line(cm(c), "  # 1"));
                out.push(line(proxyRoots(c), "  # 1"));
            }
            return out;
    }
}
