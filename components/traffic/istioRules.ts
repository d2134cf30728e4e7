// Istio's own validation rules for what the traffic block compiles to, ported from istio/istio at
// 1.30.3 so that a config istiod would reject (or accept and then ignore) fails before anything is
// deployed. Each function names the Go function it follows; the messages are Istio's.
import { LOCALITY_LABELS } from "../istio";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// pkg/config/labels/instance.go: `*`, or a DNS-1123 label optionally prefixed by `*` or `*-`.
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

export function isDns1123Label(s: string): boolean {
    return s.length <= 63 && DNS1123_LABEL.test(s);
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (what CEL's duration() and istiod's protobuf durations accept), in nanoseconds; undefined if invalid. */
export function parseGoDuration(s: string): number | undefined {
    if (s === "0") return 0;
    const m = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
    if (!m) return undefined;
    let total = 0;
    for (const part of s.replace(/^[-+]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
        total += Number(part[1]) * UNIT_NS[part[2]];
    return s.startsWith("-") ? -total : total;
}

/** `ValidateDuration` (pkg/config/validation/agent/validation.go): at least 1ms, whole milliseconds. */
export function durationProblem(s: string): string | undefined {
    const ns = parseGoDuration(s);
    if (ns === undefined) return `"${s}" is not a duration; write it as Go does: "10s", "1m30s", "500ms"`;
    if (ns < 1e6) return `"${s}": duration must be greater than 1ms`;
    if (Math.round(ns) % 1e6 !== 0) return `"${s}": only durations to ms precision are supported`;
    return undefined;
}

/** `ValidateDNS1123Labels`. */
function dns1123LabelsProblem(domain: string): string | undefined {
    const parts = domain.split(".");
    const tld = parts[parts.length - 1];
    if (/^\d+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
    for (let i = 0; i < parts.length; i++) {
        if (i === parts.length - 1 && parts[i] === "") return undefined;
        if (!isDns1123Label(parts[i])) return `domain name "${domain}" invalid (label "${parts[i]}" invalid)`;
    }
    return undefined;
}

/** `ValidateWildcardDomain`: an FQDN whose first label may be a wildcard. */
export function wildcardDomainProblem(domain: string): string | undefined {
    if (domain.length > 255) return `domain name "${domain}" too long (max 255)`;
    if (domain.length === 0) return "empty domain name not allowed";
    const dot = domain.indexOf(".");
    const first = dot < 0 ? domain : domain.slice(0, dot);
    if (!(first.length <= 63 && WILDCARD_LABEL.test(first))) return `domain name "${domain}" invalid (label "${first}" invalid)`;
    return dot < 0 ? undefined : dns1123LabelsProblem(domain.slice(dot + 1));
}

/**
 * The traffic block's host rule: Istio's wildcard domain, and no short name (a DestinationRule in
 * the root namespace would read `payments` as `payments.istio-system`), and no bare `*`.
 */
export function hostProblem(host: string): string | undefined {
    if (host === "*") return `"*" matches every host; name one service (an FQDN) or a "*."-prefixed domain`;
    if (!host.includes("."))
        return (
            `"${host}" is a short name; give the FQDN (e.g. ${host}.<namespace>.svc.cluster.local), as it would resolve in the root ` +
            `namespace`
        );
    const p = wildcardDomainProblem(host);
    if (p) return p;
    if (host.includes("*") && !host.startsWith("*.")) return `"${host}": a wildcard must be the whole first label ("*.example.com")`;
    return undefined;
}

/** `ValidateNamespaceSlashWildcardHostname` for a Sidecar egress host (`ns/dnsName`). */
export function sidecarHostProblem(hostname: string): string | undefined {
    const slash = hostname.indexOf("/");
    if (slash < 0) return "host must be of form namespace/dnsName";
    const ns = hostname.slice(0, slash);
    const name = hostname.slice(slash + 1);
    if (ns === "" || name === "") return "config namespace and dnsName in host entry cannot be empty";
    if (!["*", ".", "~"].includes(ns) && !isDns1123Label(ns)) return `invalid namespace value "${ns}" in sidecar`;
    if (name !== "*" && !name.includes(".")) return "short names (non FQDN) are not allowed";
    if (name !== "*") return wildcardDomainProblem(name);
    return undefined;
}

export interface LocalityLbSetting {
    enabled?: boolean;
    distribute?: { from: string; to: Record<string, number> }[];
    failover?: { from: string; to: string }[];
    failoverPriority?: string[];
}

/**
 * `ValidateLocalityLbSetting` (pkg/config/validation/agent/validation.go at 1.30.3, called for a
 * DestinationRule's loadBalancer): errors, and the warnings istiod only logs.
 */
export function localityLbProblems(
    lb: LocalityLbSetting | undefined,
    hasOutlierDetection: boolean,
): { errors: string[]; warnings: string[] } {
    const errors: string[] = [];
    const warnings: string[] = [];
    if (!lb) return { errors, warnings };
    const distribute = lb.distribute ?? [];
    const failover = lb.failover ?? [];
    const priority = lb.failoverPriority ?? [];
    if (distribute.length > 0 && failover.length > 0)
        return { errors: ["can not simultaneously specify 'distribute' and 'failover'"], warnings };
    if (failover.length > 0) {
        const topology: string[] = [LOCALITY_LABELS.region, LOCALITY_LABELS.zone, LOCALITY_LABELS.subzone];
        const hit = priority.find((l) => topology.includes(l));
        if (hit) return { errors: [`can not simultaneously set 'failover' and topology label '${hit}' in 'failover_priority'`], warnings };
    }
    for (const d of distribute) {
        let total = 0;
        for (const w of Object.values(d.to)) {
            if (w <= 0 || w > 100) return { errors: [...errors, "locality weight must be in range [1, 100]"], warnings };
            total += w;
        }
        if (total !== 100) return { errors: [...errors, `total locality weight ${total} != 100`], warnings };
        const p = localitiesProblem(Object.keys(d.to));
        if (p) errors.push(p);
    }
    const p = localitiesProblem(distribute.map((d) => d.from));
    if (p) errors.push(p);
    if ((failover.length > 0 || priority.length > 0) && !hasOutlierDetection)
        warnings.push("outlier detection policy must be provided for failover");
    for (const f of failover) {
        if (f.from === f.to) errors.push("locality lb failover settings must specify different regions");
        if (f.from.includes("/") || f.to.includes("/")) errors.push("locality lb failover only specify region");
        if (f.from.includes("*") || f.to.includes("*")) errors.push("locality lb failover region should not contain '*' wildcard");
    }
    return { errors, warnings };
}

/** `validateLocalities`: one `*` at most, at the end; no empty part; no overlap. */
function localitiesProblem(localities: string[]): string | undefined {
    const seen = new Map<string, Map<string, Set<string>>>();
    for (const l of localities) {
        const stars = (l.match(/\*/g) ?? []).length;
        if (stars > 0 && (stars > 1 || !l.endsWith("*")))
            return `locality ${l} wildcard '*' number can not exceed 1 and must be in the end`;
        if (seen.has("*")) return `locality ${l} overlap with previous specified ones`;
        const items = l.split("/").slice(0, 3);
        if (l.split("/").length > 3) items[2] = l.split("/").slice(2).join("/");
        if (items.some((x) => x === "")) return `locality ${l} must not contain empty region/zone/subzone info`;
        const [region, zone, sub] = items;
        const r = seen.get(region);
        if (items.length === 1) {
            if (r) return `locality ${l} overlap with previous specified ones`;
            seen.set(region, new Map([["*", new Set(["*"])]]));
        } else if (items.length === 2) {
            if (r && (r.has("*") || r.has(zone))) return `locality ${l} overlap with previous specified ones`;
            if (r) r.set(zone, new Set(["*"]));
            else seen.set(region, new Map([[zone, new Set(["*"])]]));
        } else {
            if (r?.has("*")) return `locality ${l} overlap with previous specified ones`;
            const z = r?.get(zone);
            if (z && (z.has("*") || z.has(sub))) return `locality ${l} overlap with previous specified ones`;
            if (z) z.add(sub);
            else if (r) r.set(zone, new Set([sub]));
            else seen.set(region, new Map([[zone, new Set([sub])]]));
        }
    }
    return undefined;
}

/** `validateOutlierDetection`: durations, and percentages within 0–100 (`ValidatePercent`). */
export function outlierDetectionProblems(o: Record<string, unknown>): { field: string; problem: string }[] {
    const out: { field: string; problem: string }[] = [];
    for (const f of ["interval", "baseEjectionTime"]) {
        const v = o[f];
        if (typeof v === "string") {
            const p = durationProblem(v);
            if (p) out.push({ field: f, problem: p });
        }
    }
    for (const f of ["maxEjectionPercent", "minHealthPercent"]) {
        const v = o[f];
        if (typeof v === "number" && (!Number.isInteger(v) || v < 0 || v > 100))
            out.push({ field: f, problem: `${v}: percentage ${v} is not in range 0..100` });
    }
    for (const f of ["consecutive5xxErrors", "consecutiveGatewayErrors"]) {
        const v = o[f];
        if (typeof v === "number" && (!Number.isInteger(v) || v < 0 || v > 4294967295))
            out.push({ field: f, problem: `${v} must be a whole number, 0 or more` });
    }
    return out;
}

type TrafficPolicyLike = {
    loadBalancer?: { localityLbSetting?: LocalityLbSetting & { enabled?: boolean } };
    outlierDetection?: Record<string, unknown>;
    portLevelSettings?: {
        port?: { number?: number };
        loadBalancer?: TrafficPolicyLike["loadBalancer"];
        outlierDetection?: Record<string, unknown>;
    }[];
};

/**
 * True when outlier detection can eject an endpoint: set, and not with both consecutive5xxErrors
 * (default 5) and consecutiveGatewayErrors (default 0) at 0, which ejects nothing
 * (networking/v1alpha3/destination_rule.proto in istio/api: "0 disables").
 */
export function outlierDetectionEjects(od: Record<string, unknown> | undefined): boolean {
    if (!od || typeof od !== "object") return false;
    const five = od.consecutive5xxErrors ?? od.consecutiveErrors ?? 5;
    const gateway = od.consecutiveGatewayErrors ?? 0;
    return !(Number(five) === 0 && Number(gateway) === 0);
}

/**
 * Istio's locality rules applied to a whole DestinationRule spec, at every level a load balancer can
 * be set: the top-level trafficPolicy, each port's settings, each subset's policy and its ports. A
 * lower level overrides the loadBalancer and outlierDetection above it field by field (istiod's
 * MergeTrafficPolicy and port-level selection, pilot/pkg/networking/core/cluster_traffic_policy.go at
 * 1.30.3), so each level is checked with what takes effect there. Besides ValidateLocalityLbSetting's
 * errors, failover, failoverPriority or distribute without an outlier detection that can eject is
 * refused (M9: failover never happens without it; istiod only logs a warning).
 */
export function destinationRuleLocalityProblems(spec: unknown): { at: string; problem: string }[] {
    const out: { at: string; problem: string }[] = [];
    if (!spec || typeof spec !== "object") return out;
    const s = spec as { trafficPolicy?: TrafficPolicyLike; subsets?: { name?: string; trafficPolicy?: TrafficPolicyLike }[] };
    const level = (at: string, lb: TrafficPolicyLike["loadBalancer"], od: Record<string, unknown> | undefined) => {
        const setting = lb?.localityLbSetting;
        if (!setting || typeof setting !== "object" || setting.enabled === false) return;
        const ejects = outlierDetectionEjects(od);
        const r = localityLbProblems(setting, ejects);
        for (const e of r.errors) out.push({ at, problem: e });
        const moves = [
            setting.failover?.length ? "failover" : "",
            setting.failoverPriority?.length ? "failoverPriority" : "",
            setting.distribute?.length ? "distribute" : "",
        ].filter(Boolean);
        if (moves.length > 0 && !ejects) {
            out.push({
                at,
                problem:
                    `sets localityLbSetting.${moves.join(" and ")} without an outlierDetection that can eject an endpoint ` +
                    `(${od ? "consecutive5xxErrors and consecutiveGatewayErrors are both 0" : "none applies here"}); no endpoint is ` +
                    `ever ejected, so traffic never leaves a failed locality. Add outlierDetection (e.g. consecutive5xxErrors: 5)`,
            });
        }
    };
    const policy = (at: string, tp: TrafficPolicyLike | undefined, parent: TrafficPolicyLike | undefined) => {
        const lb = tp?.loadBalancer ?? parent?.loadBalancer;
        const od = tp?.outlierDetection ?? parent?.outlierDetection;
        level(`${at}.loadBalancer.localityLbSetting`, lb, od);
        // Port-level settings of this level, else those of the parent (a subset without its own inherits them).
        const ports = tp?.portLevelSettings ?? parent?.portLevelSettings ?? [];
        (Array.isArray(ports) ? ports : []).forEach((p, i) => {
            if (!p || typeof p !== "object" || (p.loadBalancer === undefined && p.outlierDetection === undefined)) return;
            level(`${at}.portLevelSettings[${i}]`, p.loadBalancer ?? lb, p.outlierDetection ?? od);
        });
    };
    policy("trafficPolicy", s.trafficPolicy, undefined);
    (Array.isArray(s.subsets) ? s.subsets : []).forEach((sub, i) => {
        if (sub?.trafficPolicy) policy(`subsets[${i}].trafficPolicy`, sub.trafficPolicy, s.trafficPolicy);
    });
    return out;
}
