// The change plan: how a real `pulumi up` would carry out the difference between two plans of a
// stack, resource by resource: same / update / replace (delete-first or create-first) / delete /
// create. Pure: planChanges(before, after) over the `resources` sections (planResources.ts).
//
// The engine's rules (pulumi/pulumi `pkg/resource/deploy/step_generator.go` at v3.248.0):
//   - old and new resources are matched by URN, or by one of the new resource's `aliases`;
//   - `providerChanged`: when a resource's provider reference changes (the provider is replaced, so
//     its ID changes, or the resource moves to another provider), the engine asks the *new*
//     provider's DiffConfig about the old and the new provider inputs, and replaces the resource
//     when that diff replaces (pulumi/pulumi#2753); the diff it returns carries no
//     DeleteBeforeReplace, so such a replacement is create-first unless the resource sets
//     `deleteBeforeReplace`; a replaced parent replaces nothing (component resources have no
//     provider diff at all);
//   - a replacement creates the new resource before deleting the old one unless the resource
//     sets `deleteBeforeReplace` or its provider's Diff asks for delete-first;
//   - `replaceOnChanges` (applyReplaceOnChanges) turns a change of a listed property into a
//     replacement and keeps the provider's DeleteBeforeReplace answer, which a provider gives only
//     for its own replacements: a Kubernetes object replaced through replaceOnChanges alone is
//     create-first;
//   - a delete-first replacement first deletes every dependent that its replacement replaces, in
//     reverse dependency order (calculateDependentReplacements: resources on a replaced provider,
//     and resources whose inputs come from a replaced one), so those are delete-first too;
//   - a resource protected in the old state cannot be replaced or deleted: the deploy stops.
// The providers' rules, one per resource type this program uses, are in RULES below, each with
// the source it follows: the shared ones (Kubernetes, Helm, TLS) here, each cloud's in its platform's
// folder (components/platforms/<name>/index.ts); docs/change-rules.md has the same table.
//
// What only a real engine and provider can tell: a value computed in the program from a
// re-created resource's outputs (a digest of an endpoint, say) is followed only when it embeds
// the output as text; types without a rule here are reported as updates and flagged `unverified`.
import { type ChangeRule, listed, rest } from "../components/platforms/changeRules";
import { PLATFORMS } from "../components/platforms/registry";
import { isComponentType, TYPES } from "../components/pulumiTypes";
import type { PlanFile } from "./planFile";
import type { PlanResource } from "./planResources";
import { changeWarnings } from "./changeWarnings";
import { upgradeChangeLines } from "./upgradePlan";

export type ChangeKind = "same" | "update" | "replace" | "delete" | "create" | "read";

export interface ResourceChange {
    key: string;
    type: string;
    name: string;
    kind: ChangeKind;
    /** For replacements: the order the engine uses. */
    order?: "delete-first" | "create-first";
    /** The old key when the resource is matched through an alias. */
    from?: string;
    /** Why, in plain words (changed inputs and the rule that decides). */
    reasons: string[];
    /** The rule applied (RULES label), or "engine". */
    rule: string;
    /** For replacements that follow from another resource's replacement: its key (the provider, or where an input came from). */
    cause?: string;
    /** No rule of this type was checked against its provider's source: a real preview decides. */
    unverified?: boolean;
    /** Set when the engine refuses to carry the change out (protect). */
    blocked?: string;
}

export interface ChangePlan {
    changed: boolean;
    counts: Record<ChangeKind, number>;
    /** Every resource of both plans, sorted by key. */
    changes: ResourceChange[];
    /**
     * One line per disruptive class, each saying what breaks and for how long: a provider replaced
     * (everything in its cluster is replaced), a cluster replaced or deleted, a cluster leaving the
     * mesh, istiod removed from a cluster, trust changed, a fixed-name object replaced or deleted
     * before its replacement, a protected resource in the way.
     */
    warnings: string[];
    /** During an Istio upgrade: what the phase creates, upgrades and deletes, and what to restart (offline/upgradePlan.ts). */
    upgrade?: string[];
}

type Rule = ChangeRule;

const K8S = "pulumi/pulumi-kubernetes provider/pkg/provider (master 94977969, after 4.32.0)";
const enabled = (v: unknown): boolean => v === true || v === "true";

export const RULES: Rule[] = [
    {
        label: "kubernetes provider",
        source:
            "pulumi/pulumi-kubernetes provider/pkg/provider/provider.go DiffConfig (identical at v4.25.0 and master 94977969, after " +
            "4.32.0): clusterIdentifier set before and after and changed replaces; set and unchanged, nothing replaces (the " +
            "response's Replaces are cleared); otherwise a change of the kubeconfig's active cluster (kubeconfig, context, cluster) " +
            "replaces, and so does renderYamlToDirectory",
        applies: (t) => t === TYPES.k8sProvider,
        paths: listed([
            "clusterIdentifier",
            "kubeconfig",
            "context",
            "cluster",
            "renderYamlToDirectory",
            "enableSecretMutable",
            "enableConfigMapMutable",
        ]),
        decide: (c) => {
            const both = c.before.decisive.clusterIdentifier !== undefined && c.after.decisive.clusterIdentifier !== undefined;
            const activeCluster = ["kubeconfig", "context", "cluster", "renderYamlToDirectory"];
            const replace = both
                ? c.changed.includes("clusterIdentifier")
                    ? c.changed.filter((p) => p === "clusterIdentifier" || activeCluster.includes(p))
                    : []
                : c.changed.filter((p) => activeCluster.includes(p));
            return { replace, update: [...c.changed.filter((p) => !replace.includes(p)), ...rest(c)] };
        },
    },
    {
        label: "helm.sh/v3 Release",
        source:
            `${K8S}/helm_release.go Diff: forceNewFields .name and .namespace; DeleteBeforeReplace false (create first); ` +
            "chart, repositoryOpts.repo and version (where the chart comes from) are updates: a helm upgrade in place",
        applies: (t) => t === TYPES.release,
        paths: listed(["name", "namespace", "chart", "repositoryOpts.repo", "version"]),
        decide: (c) => {
            const replace: string[] = c.changed.filter((p) => p === "name" || p === "namespace");
            const update = [...c.changed.filter((p) => !replace.includes(p)), ...rest(c)];
            const source = c.changed.some((p) => p === "chart" || p === "repositoryOpts.repo");
            return {
                replace,
                update,
                deleteFirst: false,
                note:
                    source && replace.length === 0
                        ? "chart source changes: helm upgrade in place (the mesh diff says which pods roll)"
                        : undefined,
            };
        },
    },
    {
        label: "kubernetes object",
        source:
            `${K8S}/provider.go Diff and diff.go forceNewProperties: .metadata.name and .metadata.namespace replace; ` +
            "Secret .type always, .data/.stringData unless the provider has enableSecretMutable (and the Secret is not " +
            "immutable); ConfigMap .data/.binaryData unless enableConfigMapMutable; Service .spec.clusterIP; a replaced " +
            "named object whose name and namespace stay is deleted first",
        applies: (t) => t.startsWith("kubernetes:") && t !== TYPES.release,
        paths: (inputs) => {
            const kind = inputs.kind;
            const out = ["metadata.name", "metadata.namespace"];
            if (kind === "Secret") out.push("type", "data", "stringData", "immutable");
            if (kind === "ConfigMap") out.push("data", "binaryData", "immutable");
            if (kind === "Service") out.push("spec.clusterIP");
            return out;
        },
        decide: (c) => {
            const kindOf = c.after.type.split(":").pop();
            const immutable = enabled(c.after.decisive.immutable);
            const secretMutable = enabled(c.provider?.decisive.enableSecretMutable);
            const configMapMutable = enabled(c.provider?.decisive.enableConfigMapMutable);
            const force = new Set(["metadata.name", "metadata.namespace"]);
            if (kindOf === "Secret") {
                force.add("type");
                if (!secretMutable || immutable) force.add("data").add("stringData");
            }
            if (kindOf === "ConfigMap" && (!configMapMutable || immutable)) force.add("data").add("binaryData");
            if (kindOf === "Service") force.add("spec.clusterIP");
            const replace = c.changed.filter((p) => force.has(p));
            const sameIdentity = !c.changed.includes("metadata.name") && !c.changed.includes("metadata.namespace");
            const named = c.after.decisive["metadata.name"] !== undefined;
            const note =
                kindOf === "Secret" && !force.has("data") ? "provider has enableSecretMutable: Secret data is updated in place" : undefined;
            return {
                replace,
                update: [...c.changed.filter((p) => !force.has(p)), ...rest(c)],
                deleteFirst: replace.length > 0 && named && sameIdentity,
                note,
            };
        },
    },
    {
        label: "tls",
        source:
            "hashicorp/terraform-provider-tls internal/provider/resource_*.go (pulumi/pulumi-tls bridges it): " +
            "every input has RequiresReplace " +
            "and Update is a no-op, except early_renewal_hours",
        applies: (t) => t.startsWith("tls:"),
        paths: (inputs) => Object.keys(inputs).filter((k) => k !== "earlyRenewalHours"),
        decide: (c) => ({ replace: c.changed, update: rest(c) }),
    },
    // Each platform's rules for its own cloud's types (components/platforms/<name>/, `resources.changeRules`).
    ...PLATFORMS.flatMap((p) => p.resources.changeRules),
];

/** What a type no rule covers gets (test/registry.test.ts refuses it for every type a platform registers). */
export const NO_RULE: Rule = {
    label: "unverified",
    source: "no rule checked against this provider's source: any change is reported as an update; a real `pulumi preview` decides",
    applies: () => true,
    paths: () => [],
    decide: (c) => ({ replace: [], update: [...c.changed, ...rest(c)] }),
    unverified: true,
};

export function ruleFor(type: string): Rule {
    return RULES.find((r) => r.applies(type)) ?? NO_RULE;
}

/** The inputs plan.json records as decisive for a resource of `type` (planResources.ts). */
export function decisivePaths(type: string, inputs: Record<string, unknown>): string[] {
    if (!type.includes(":") || isComponentType(type)) return [];
    return ruleFor(type).paths(inputs);
}

const K8S_PROVIDER = TYPES.k8sProvider;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A replaceOnChanges entry without its trailing wildcards (`triggers[*]` → `triggers`), as a dotted input path. */
export function replaceOnChangesPath(entry: string): string {
    return entry.replace(/(\[\*\]|\.\*)+$/, "");
}

/**
 * Does a change of the input `path` fall under a replaceOnChanges entry (the engine's
 * PropertyPath.Contains)? A change recorded at a shorter path than the entry may hit it, and counts.
 */
function coveredBy(entry: string, path: string): boolean {
    const e = replaceOnChangesPath(entry);
    if (e === "*" || e === "" || e === path) return true;
    return [".", "["].some((sep) => path.startsWith(`${e}${sep}`) || e.startsWith(`${path}${sep}`));
}

/** Classify every resource of `before` and `after`. */
export function planChanges(before: PlanFile, after: PlanFile, contexts: Record<string, string> = {}): ChangePlan {
    const olds = new Map((before.resources ?? []).map((r) => [r.key, r]));
    const news = new Map((after.resources ?? []).map((r) => [r.key, r]));
    // Match new resources to old ones: by key, then by alias (a renamed resource with an alias is the same resource).
    const oldOf = new Map<string, PlanResource>();
    const claimed = new Set<string>();
    for (const r of news.values()) {
        const o = olds.get(r.key);
        if (o) {
            oldOf.set(r.key, o);
            claimed.add(o.key);
        }
    }
    for (const r of news.values()) {
        if (oldOf.has(r.key)) continue;
        const alias = r.options.aliases.find((a) => olds.has(a) && !claimed.has(a) && !news.has(a));
        if (alias) {
            oldOf.set(r.key, olds.get(alias)!);
            claimed.add(alias);
        }
    }
    /** The old key a new key stands for (itself, or the alias it was matched through). */
    const asOld = (k: string): string => oldOf.get(k)?.key ?? k;

    const result = new Map<string, ResourceChange>();
    const visiting = new Set<string>();
    const classify = (key: string): ResourceChange => {
        const done = result.get(key);
        if (done) return done;
        const a = news.get(key)!;
        if (visiting.has(key)) return { key, type: a.type, name: a.name, kind: "same", reasons: [], rule: "engine" };
        visiting.add(key);
        const c = decide(a);
        visiting.delete(key);
        result.set(key, c);
        return c;
    };
    const renewed = (key: string): boolean => news.has(key) && ["replace", "create"].includes(classify(key).kind);

    /** Which decisive inputs of `a` differ from `o`: by value, by where deploy-time values came from, or because that resource is re-created. */
    const inputDiff = (o: PlanResource, a: PlanResource) => {
        const changedVia = (p: string): boolean => {
            const from = a.deployTime[p] ?? [];
            const was = o.deployTime[p] ?? [];
            return from.some(renewed) || !same(from.map(asOld), was);
        };
        const paths = [...new Set([...Object.keys(o.decisive), ...Object.keys(a.decisive)])].sort();
        const changed = paths.filter((p) => !same(o.decisive[p], a.decisive[p]) || changedVia(p));
        const restChanged = o.inputsDigest !== a.inputsDigest || changedVia("*");
        /** The first re-created resource a changed path's value comes from. */
        const causeOf = (ps: string[]): string | undefined => ps.flatMap((p) => a.deployTime[p] ?? []).find(renewed);
        return { changed, restChanged, causeOf };
    };

    /**
     * The engine's providerChanged for a resource whose provider reference changes to another
     * provider resource: the new provider's DiffConfig over the old and the new provider inputs.
     * Only the Kubernetes provider's rule is known here; any other move is taken as a replacement.
     */
    const providerMoveReplaces = (oldProvider: PlanResource | undefined, newProvider: PlanResource | undefined): string[] => {
        if (!oldProvider || !newProvider || oldProvider.type !== K8S_PROVIDER || newProvider.type !== K8S_PROVIDER) return ["provider"];
        const d = inputDiff(oldProvider, newProvider);
        return ruleFor(K8S_PROVIDER).decide({ before: oldProvider, after: newProvider, changed: d.changed, restChanged: d.restChanged })
            .replace;
    };

    const decide = (a: PlanResource): ResourceChange => {
        const o = oldOf.get(a.key);
        const base = { key: a.key, type: a.type, name: a.name, ...(o && o.key !== a.key ? { from: o.key } : {}) };
        if (!o) return { ...base, kind: "create", reasons: ["new resource"], rule: "engine" };
        const provider = a.provider ? news.get(a.provider) : undefined;
        const sameProvider = (o.provider ?? null) === (a.provider ? asOld(a.provider) : null);
        const providerReplaced = sameProvider && !!a.provider && renewed(a.provider);
        const moveReplaces = sameProvider ? [] : providerMoveReplaces(o.provider ? olds.get(o.provider) : undefined, provider);
        if (a.read) {
            const stale = providerReplaced || moveReplaces.length > 0 || a.options.dependsOn.some(renewed);
            return { ...base, kind: "read", reasons: stale ? ["read again from a re-created object"] : [], rule: "engine" };
        }
        if (!a.custom) return { ...base, kind: "same", reasons: [], rule: "engine" };
        if (providerReplaced || moveReplaces.length > 0) {
            return {
                ...base,
                kind: "replace",
                order: a.options.deleteBeforeReplace ? "delete-first" : "create-first",
                reasons: [
                    providerReplaced
                        ? `its provider ${a.provider} is replaced`
                        : `its provider changes (${o.provider ?? "default"} → ${a.provider ?? "default"}) and the new provider's ` +
                          `DiffConfig replaces (${moveReplaces.join(", ")} changed)`,
                ],
                rule: "engine",
                ...(a.provider && renewed(a.provider) ? { cause: a.provider } : {}),
            };
        }
        const { changed, restChanged, causeOf } = inputDiff(o, a);
        const rule = ruleFor(a.type);
        const v = rule.decide({ before: o, after: a, changed, restChanged, provider });
        // replaceOnChanges: a change under a listed path replaces, whatever the provider says.
        const roc = a.options.replaceOnChanges ?? [];
        const forced = roc.length
            ? [...changed, ...(restChanged ? ["(other inputs)"] : [])].filter(
                  (p) => !v.replace.includes(p) && roc.some((e) => (p === "(other inputs)" ? e === "*" : coveredBy(e, p))),
              )
            : [];
        const replaceKeys = [...v.replace, ...forced];
        const reasons: string[] = [];
        if (v.replace.length) reasons.push(`replaced: ${v.replace.join(", ")} changed (${rule.label})`);
        if (forced.length) reasons.push(`replaced: ${forced.join(", ")} changed (replaceOnChanges)`);
        const update = v.update.filter((p) => !forced.includes(p));
        if (update.length) reasons.push(`${replaceKeys.length ? "also " : ""}updated: ${update.join(", ")}`);
        if (v.note && (replaceKeys.length || update.length)) reasons.push(v.note);
        const flag = rule.unverified && update.length ? { unverified: true } : {};
        if (replaceKeys.length) {
            // The provider's DeleteBeforeReplace answers its own replacements only (applyReplaceOnChanges keeps it).
            const order = a.options.deleteBeforeReplace || (v.deleteFirst && v.replace.length > 0) ? "delete-first" : "create-first";
            if (
                order === "create-first" &&
                !a.type.startsWith("kubernetes:") &&
                a.decisive.name !== undefined &&
                same(o.decisive.name, a.decisive.name)
            ) {
                reasons.push(
                    "it keeps its name, so the cloud refuses to create the new one while the old one exists " +
                        "(deleteBeforeReplace avoids that)",
                );
            }
            const cause = causeOf(replaceKeys);
            return { ...base, kind: "replace", order, reasons, rule: rule.label, ...(cause ? { cause } : {}), ...flag };
        }
        if (update.length) return { ...base, kind: "update", reasons, rule: rule.label, ...flag };
        return { ...base, kind: "same", reasons: [], rule: rule.label };
    };

    for (const k of [...news.keys()].sort()) classify(k);
    // A delete-first replacement deletes, before itself, every dependent its replacement replaces
    // (step_generator.go calculateDependentReplacements): those are delete-first too, whatever their own order.
    const condemned = new Set([...result.values()].filter((c) => c.kind === "replace" && c.order === "delete-first").map((c) => c.key));
    for (let grew = true; grew;) {
        grew = false;
        for (const ch of [...result.values()].sort((x, y) => (x.key < y.key ? -1 : 1))) {
            if (ch.kind !== "replace" || condemned.has(ch.key) || !ch.cause || !condemned.has(ch.cause)) continue;
            ch.order = "delete-first";
            ch.reasons.push(
                `deleted before ${news.get(ch.cause)?.name ?? ch.cause}, whose delete-first replacement deletes its replaced dependents first`,
            );
            condemned.add(ch.key);
            grew = true;
        }
    }
    for (const o of olds.values()) {
        if (claimed.has(o.key)) continue;
        result.set(`${o.key}`, {
            key: o.key,
            type: o.type,
            name: o.name,
            kind: o.read ? "read" : "delete",
            reasons: o.read ? [] : ["no longer registered"],
            rule: "engine",
        });
    }
    // Protect: the old state decides (the engine refuses to replace or delete a protected resource).
    for (const ch of result.values()) {
        const o = olds.get(ch.from ?? ch.key);
        if (o?.options.protect && (ch.kind === "replace" || ch.kind === "delete")) {
            const what = ch.kind === "delete" ? "deleting" : "replacing";
            ch.blocked = `protected: the deploy stops before ${what} it (unprotect it first, or avoid the change)`;
        }
    }
    const changes = [...result.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const counts: Record<ChangeKind, number> = { same: 0, update: 0, replace: 0, delete: 0, create: 0, read: 0 };
    for (const ch of changes) counts[ch.kind]++;
    const warnings = changeWarnings({ changes, before, after, news, olds, contexts });
    const changed = changes.some((ch) => ch.kind !== "same" && !(ch.kind === "read" && ch.reasons.length === 0));
    const upgrade = upgradeChangeLines(before, after, changes);
    return { changed, counts, changes, warnings, ...(upgrade.length ? { upgrade } : {}) };
}

const ORDER: ChangeKind[] = ["replace", "delete", "create", "update", "read", "same"];

/** The summary printed after the mesh diff and written to changes.txt-like output: counts, then each change, then warnings. */
export function formatChanges(plan: ChangePlan, against: string): string {
    const c = plan.counts;
    const delFirst = plan.changes.filter((x) => x.kind === "replace" && x.order === "delete-first").length;
    const lines = [
        `change plan against ${against}: ${c.same} same, ${c.update} update, ${c.replace} replace (${delFirst} delete-first), ` +
            `${c.create} create, ${c.delete} delete`,
    ];
    for (const kind of ORDER) {
        for (const ch of plan.changes.filter((x) => x.kind === kind && kind !== "same" && !(kind === "read" && x.reasons.length === 0))) {
            const mark = { replace: "+-", delete: "-", create: "+", update: "~", read: ">", same: " " }[kind];
            const order = ch.order ? ` ${ch.order}` : "";
            const from = ch.from ? ` (was ${ch.from})` : "";
            const flags = `${ch.unverified ? " [unverified]" : ""}${ch.blocked ? " [BLOCKED]" : ""}`;
            lines.push(
                `  ${mark} ${kind}${order} ${ch.type} ${ch.name}${from}${ch.reasons.length ? `: ${ch.reasons.join("; ")}` : ""}${flags}`,
            );
        }
    }
    for (const l of plan.upgrade ?? []) lines.push(l);
    for (const w of plan.warnings) lines.push(`!! WARNING: ${w}`);
    return `${lines.join("\n")}\n`;
}

/** For the offline plan (plan.ts): classify, write changes.json, and return the plan and the summary to print after the mesh diff. */
export function writeChangePlan(
    before: PlanFile,
    after: PlanFile,
    against: string,
    write: (relPath: string, text: string) => void,
    contexts: Record<string, string> = {},
): { plan: ChangePlan; text: string } {
    const plan = planChanges(before, after, contexts);
    write("changes.json", stableJson({ against, ...plan }));
    return { plan, text: formatChanges(plan, against) };
}

/** "2 replaced (1 delete-first), 3 deleted": what the change plan does to resources, or "" when nothing. */
export function changeCount(plan: ChangePlan): string {
    const c = plan.counts;
    const delFirst = plan.changes.filter((x) => x.kind === "replace" && x.order === "delete-first").length;
    const parts = [
        c.replace ? `${c.replace} replaced${delFirst ? ` (${delFirst} delete-first)` : ""}` : "",
        c.delete ? `${c.delete} deleted` : "",
        c.create ? `${c.create} created` : "",
        c.update ? `${c.update} updated` : "",
    ].filter(Boolean);
    const reads = plan.changes.filter((x) => x.kind === "read" && x.reasons.length > 0).length;
    if (reads) parts.push(`${reads} read again`);
    return parts.join(", ");
}

function stableJson(v: unknown): string {
    const sort = (x: unknown): unknown =>
        Array.isArray(x)
            ? x.map(sort)
            : x && typeof x === "object"
              ? Object.fromEntries(
                    Object.keys(x)
                        .sort()
                        .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
                )
              : x;
    return `${JSON.stringify(sort(v), null, 2)}\n`;
}
