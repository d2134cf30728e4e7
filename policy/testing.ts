// Testing helpers for the pack: run one policy against constructed resources, the way the
// @pulumi/policy analyzer server would call it, without the Pulumi CLI. @pulumi/policy 1.21 ships
// no test harness, so these build its ResourceValidationArgs and StackValidationArgs (same fields,
// config passed through untouched as the SDK does, notApplicable throwing).
import type {
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PROJECT, TYPES } from "../components/pulumiTypes";

/** A resource as a test describes it; dependencies, parent and provider refer to other resources by URN. */
export interface TestResource {
    type: string;
    name: string;
    props: Record<string, any>;
    urn?: string;
    protect?: boolean;
    /** URN of a provider resource in the same list, or a provider described inline. */
    provider?: string | PolicyProviderResource;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    parent?: string;
}

export interface PolicyResult {
    violations: { message: string; urn?: string }[];
    /** Set when the policy declared itself not applicable. */
    notApplicable?: string;
}

class NotApplicable extends Error {
    constructor(public readonly reason: string) {
        super(reason);
    }
}

export function testUrn(type: string, name: string, stack = "test", project = PROJECT): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

function optionsOf(r: TestResource): PolicyResourceOptions {
    return {
        protect: !!r.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: r.parent,
    };
}

const typeHelpers = {
    isType(): boolean {
        throw new Error("isType needs the provider SDK's classes; the mesh policies compare type tokens instead");
    },
    asType(): undefined {
        throw new Error("asType needs the provider SDK's classes; the mesh policies compare type tokens instead");
    },
};

function providerOf(r: TestResource, all: TestResource[]): PolicyProviderResource | undefined {
    if (!r.provider) return undefined;
    if (typeof r.provider !== "string") return r.provider;
    const p = all.find((x) => (x.urn ?? testUrn(x.type, x.name)) === r.provider);
    const urn = r.provider;
    return p
        ? { type: p.type, props: p.props, urn, name: p.name }
        : { type: urn.split("::")[2] ?? "", props: {}, urn, name: urn.split("::").pop() ?? "" };
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

/** Run a resource policy on one resource (`others` resolve its provider reference). */
export async function checkResource(
    policy: ResourceValidationPolicy,
    r: TestResource,
    config: Record<string, unknown> = {},
    others: TestResource[] = [],
): Promise<PolicyResult> {
    const violations: PolicyResult["violations"] = [];
    const args: ResourceValidationArgs = {
        type: r.type,
        props: r.props,
        urn: r.urn ?? testUrn(r.type, r.name),
        name: r.name,
        opts: optionsOf(r),
        provider: providerOf(r, [r, ...others]),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
        ...(typeHelpers as Pick<ResourceValidationArgs, "isType" | "asType">),
    };
    const validations =
        policy.validateResource === undefined
            ? []
            : Array.isArray(policy.validateResource)
              ? policy.validateResource
              : [policy.validateResource];
    try {
        for (const v of validations) await v(args, (message) => violations.push({ message, urn: args.urn }));
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        throw e;
    }
    return { violations };
}

/** Run a resource policy on every resource of a list; violations of all of them. */
export async function checkResources(
    policy: ResourceValidationPolicy,
    resources: TestResource[],
    config: Record<string, unknown> = {},
): Promise<PolicyResult> {
    const violations: PolicyResult["violations"] = [];
    for (const r of resources) violations.push(...(await checkResource(policy, r, config, resources)).violations);
    return { violations };
}

/** Build the resolved PolicyResource graph a stack policy receives. */
export function policyResources(resources: TestResource[]): PolicyResource[] {
    const built = resources.map((r): PolicyResource => ({
        type: r.type,
        props: r.props,
        urn: r.urn ?? testUrn(r.type, r.name),
        name: r.name,
        opts: optionsOf(r),
        provider: providerOf(r, resources),
        dependencies: [],
        propertyDependencies: {},
        ...(typeHelpers as Pick<PolicyResource, "isType" | "asType">),
    }));
    const byUrn = new Map(built.map((b) => [b.urn, b]));
    resources.forEach((r, i) => {
        built[i].dependencies = (r.dependencies ?? []).map((u) => byUrn.get(u)).filter((d): d is PolicyResource => !!d);
        for (const [k, urns] of Object.entries(r.propertyDependencies ?? {}))
            built[i].propertyDependencies[k] = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => !!d);
        if (r.parent) built[i].parent = byUrn.get(r.parent);
    });
    return built;
}

/** Run a stack policy over a list of resources. */
export async function checkStack(
    policy: StackValidationPolicy,
    resources: TestResource[],
    config: Record<string, unknown> = {},
): Promise<PolicyResult> {
    const violations: PolicyResult["violations"] = [];
    const args: StackValidationArgs = {
        resources: policyResources(resources),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
    try {
        await policy.validateStack(args, (message, urn) => violations.push({ message, urn }));
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        throw e;
    }
    return { violations };
}

/** What the simulator records per registration (simulator/simulator.ts `Registration`), structurally. */
export interface RegistrationLike {
    type: string;
    name: string;
    urn: string;
    inputs: Record<string, any>;
    state: Record<string, any>;
    /** `<provider urn>::<id>`, or "". */
    provider: string;
    parent: string;
    dependencies: string[];
    protect: boolean;
}

/**
 * The resources a preview of a simulated run would hand the pack: each registration with its
 * outputs (the simulator's state) as props, its provider, dependencies and protect flag, plus the
 * root Stack resource whose props are the stack outputs.
 */
export function fromRegistrations(
    registrations: RegistrationLike[],
    outputs: Record<string, unknown>,
    stack: string,
    project = PROJECT,
): TestResource[] {
    const out: TestResource[] = registrations.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn || testUrn(r.type, r.name, stack, project),
        props: r.state ?? r.inputs,
        protect: r.protect,
        provider: r.provider ? r.provider.split("::").slice(0, -1).join("::") : undefined,
        dependencies: r.dependencies,
        parent: r.parent || undefined,
    }));
    out.push({
        type: TYPES.stack,
        name: `${project}-${stack}`,
        urn: testUrn(TYPES.stack, `${project}-${stack}`, stack, project),
        props: outputs,
    });
    return out;
}
