// The shape of a change rule: how a provider carries out a change of one resource type (replace or
// update, and in which order). The engine's rules and the rules of the packages every platform uses
// (Kubernetes, TLS) are in offline/changes.ts; each platform keeps the rules of its own cloud's types
// in its folder (`resources.changeRules`), so a new platform brings its rules with it. Pure: no SDK.

/** What a rule sees of a resource of the plan (offline/planResources.ts records it). */
export interface RuleResource {
    type: string;
    /** The inputs that decide replacement, by dotted path. */
    decisive: Record<string, unknown>;
}

export interface RuleContext {
    before: RuleResource;
    after: RuleResource;
    /** Decisive inputs that changed (by value, or because the resource they came from is re-created). */
    changed: string[];
    /** Any other input changed. */
    restChanged: boolean;
    /** The new plan's provider resource of `after`, if any. */
    provider?: RuleResource;
}

export interface Verdict {
    /** Changed inputs that force a replacement. */
    replace: string[];
    /** Changed inputs updated in place. */
    update: string[];
    /** The provider asks for delete-before-replace. */
    deleteFirst?: boolean;
    note?: string;
}

export interface ChangeRule {
    label: string;
    /** Where the rule comes from (repository, path, commit or tag). */
    source: string;
    applies: (type: string) => boolean;
    /** Input paths recorded as decisive for a resource of this type. */
    paths: (inputs: Record<string, unknown>) => string[];
    decide: (c: RuleContext) => Verdict;
    /** No rule of this type was checked against its provider's source: a real preview decides. */
    unverified?: boolean;
}

/** "(other inputs)" when anything but the decisive inputs changed. */
export const rest = (c: RuleContext): string[] => (c.restChanged ? ["(other inputs)"] : []);

/** A force-new rule: every changed decisive input replaces, the rest updates. */
export const forceNew = (c: RuleContext): Verdict => ({ replace: c.changed, update: rest(c) });

/** The same decisive paths for every resource of the type. */
export const listed = (paths: string[]) => (): string[] => paths;

/** A rule for one type whose listed inputs force a new resource (Terraform's ForceNew, a provider's replaceOnChanges). */
export function forceNewRule(type: string, label: string, source: string, paths: string[]): ChangeRule {
    return { label, source, applies: (t) => t === type, paths: listed(paths), decide: forceNew };
}

/**
 * A type the platform registers whose provider rules were not checked against its source here: any
 * change is reported as an update, flagged unverified, and a real `pulumi preview` decides. Declared,
 * so that no type of a platform falls through to the catch-all unnoticed (the registry test).
 */
export function unverifiedRule(type: string, why: string): ChangeRule {
    return {
        label: "unverified",
        source: `${type}: ${why}; any change is reported as an update and a real \`pulumi preview\` decides`,
        applies: (t) => t === type,
        paths: () => [],
        decide: (c) => ({ replace: [], update: [...c.changed, ...rest(c)] }),
        unverified: true,
    };
}
