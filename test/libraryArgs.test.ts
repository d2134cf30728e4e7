// One set of rules for stack and library (issue 19 item 3): the `Mesh` args go through every rule a
// stack config gets, the cluster args' own (apiServer, provider) included, before anything is
// registered (the Mesh itself included), and the message speaks of the args. Every type the docs
// name is exported, and `opts` is optional wherever a default exists.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import type { MeshArgs, OutlierDetectionArgs, TrafficArgs, TrafficPolicyArgs } from "../components/index";
import type { meshSchema } from "../components/meshConfig";
import { runProgram } from "../offline/runProgram";

const ROOT = path.resolve(__dirname, "..");
const FAST = { keyAlgorithm: "ECDSA" as const, ecdsaCurve: "P256", protectRoot: false };

/** Run a program that builds a Mesh from `clusters` (each gets its own provider unless `provider` is given). */
async function meshWith(clusters: (Record<string, unknown> | ((p: (n: string) => unknown) => Record<string, unknown>))[], extra = {}) {
    vi.resetModules();
    const { Mesh } = await import("../components/index.js");
    const k8s = await import("@pulumi/kubernetes");
    return runProgram({
        config: {},
        load: async () => {
            const providers = new Map<string, unknown>();
            const provider = (n: string) => {
                if (!providers.has(n)) providers.set(n, new k8s.Provider(n, { kubeconfig: "{}", clusterIdentifier: `id/${n}` }));
                return providers.get(n);
            };
            new Mesh("m", {
                meshId: "mesh1",
                topology: "multi-primary",
                trust: FAST,
                clusters: clusters.map((c, i) => {
                    const args = typeof c === "function" ? c(provider) : c;
                    return { provider: provider(String(args.name ?? i)), ...args } as never;
                }),
                ...extra,
            });
            return {};
        },
    });
}

const nothingRegistered = (r: Awaited<ReturnType<typeof meshWith>>) =>
    expect(r.sim.registrations.filter((x) => x.type !== "pulumi:providers:kubernetes").map((x) => `${x.type} ${x.name}`)).toEqual([]);

describe("Mesh args get the stack config's rules, before anything is registered", () => {
    it("refuses a loopback and a plain-http apiServer, at args.clusters[i].apiServer, registering nothing (not even the Mesh)", async () => {
        const r = await meshWith([
            { name: "east", network: "net-east", apiServer: "https://127.0.0.1:6443" },
            { name: "west", network: "net-west", apiServer: "http://west" },
        ]);
        expect(r.error?.name).toBe("ConfigError");
        expect(r.error?.message).toMatch(/^the Mesh args have 2 problems \(nothing was deployed\):/);
        expect(r.error?.message).not.toMatch(/stack config/);
        expect((r.error as Error & { problems: string[] }).problems).toEqual([
            expect.stringMatching(/^args\.clusters\[0\]\.apiServer: https:\/\/127\.0\.0\.1:6443 is a loopback address/),
            expect.stringMatching(/^args\.clusters\[1\]\.apiServer: "http:\/\/west" is not an https:\/\/ URL/),
        ]);
        nothingRegistered(r);
    });

    it("refuses two clusters on one API server or one provider, and a cluster without a provider", async () => {
        const r = await meshWith([
            { name: "east", network: "net-east", apiServer: "https://10.0.0.1:6443" },
            (p) => ({ name: "west", network: "net-west", apiServer: "https://10.0.0.1:6443/", provider: p("east") }),
            { name: "north", network: "net-north", apiServer: "https://10.0.0.3:6443", provider: undefined },
        ]);
        const problems = (r.error as Error & { problems: string[] }).problems;
        expect(problems).toContainEqual(
            expect.stringMatching(
                /^args\.clusters\[1\]\.apiServer: https:\/\/10\.0\.0\.1:6443\/ is also the API server of args\.clusters\[0\] \(east\)/,
            ),
        );
        expect(problems).toContainEqual(
            expect.stringMatching(/^args\.clusters\[1\]\.provider: is the same k8s\.Provider as args\.clusters\[0\]/),
        );
        expect(problems).toContainEqual(expect.stringMatching(/^args\.clusters\[2\]\.provider: is required/));
        nothingRegistered(r);
    });

    it("the rest of the rules too: names, networks, a network listed but unused, with args paths", async () => {
        const r = await meshWith(
            [
                { name: "East", network: "net-east", apiServer: "https://10.0.0.1:6443" },
                { name: "west", apiServer: "https://10.0.0.2:6443" },
            ],
            {
                networks: { "net-eats": { routable: true } },
            },
        );
        const problems = (r.error as Error & { problems: string[] }).problems;
        expect(problems).toContainEqual(expect.stringMatching(/^args\.clusters\[0\]\.name: "East" is not a DNS-1123 label/));
        expect(problems).toContainEqual(expect.stringMatching(/^args\.clusters\[1\]\.network: is required/));
        expect(problems).toContainEqual(
            expect.stringMatching(/^args\.networks\.net-eats: no cluster is on network "net-eats" .*did you mean "net-east"/),
        );
        nothingRegistered(r);
    });

    it("an apiServer given as an Output is checked when it resolves, with the same rule", async () => {
        const r = await meshWith([
            { name: "east", network: "net-east", apiServer: pulumi.output("https://localhost:6443") },
            { name: "west", network: "net-west", apiServer: "https://10.0.0.2:6443" },
        ]);
        expect(r.error?.message).toMatch(/args\.clusters\[0\]\.apiServer: https:\/\/localhost:6443 is a loopback address/);
    });

    it("good args still build the mesh", async () => {
        const r = await meshWith([
            { name: "east", network: "net-east", apiServer: "https://10.0.0.1:6443" },
            { name: "west", network: "net-west", apiServer: pulumi.output("https://10.0.0.2:6443") },
        ]);
        expect(r.error).toBeUndefined();
        expect(r.sim.registrations.some((x) => x.type === "multicluster-mesh:index:Mesh")).toBe(true);
    });
});

describe("the public surface", () => {
    it("exports every type the docs name, and the traffic types are usable from the package entry", async () => {
        const entry = fs.readFileSync(path.join(ROOT, "components", "index.ts"), "utf8");
        const docs = [
            "README.md",
            "CONTRIBUTING.md",
            ...fs
                .readdirSync(path.join(ROOT, "docs"))
                .filter((f) => f.endsWith(".md"))
                .map((f) => `docs/${f}`),
        ];
        const named = new Set<string>();
        for (const f of docs)
            for (const m of fs.readFileSync(path.join(ROOT, f), "utf8").matchAll(/`([A-Z][A-Za-z]*Args)`/g)) named.add(m[1]);
        expect([...named]).toContain("TrafficArgs");
        for (const t of named) expect(entry, t).toMatch(new RegExp(`\\b${t}\\b`));
        // Compiles only if exported (tsc runs on the tests).
        const outlier: OutlierDetectionArgs = { interval: "10s" };
        const policy: TrafficPolicyArgs = { host: "a.b.svc.cluster.local", mode: "locality", outlierDetection: outlier };
        const traffic: TrafficArgs = { policies: [policy] };
        expect(traffic.policies).toHaveLength(1);
    });

    it("clusterProvider's opts are optional", async () => {
        vi.resetModules();
        const { clusterProvider } = await import("../components/index.js");
        const r = await runProgram({
            config: {},
            load: async () => {
                clusterProvider("east-k8s", { platform: "existing", cluster: "east", kubeconfig: "{}", instance: "1" });
                return {};
            },
        });
        expect(r.error).toBeUndefined();
        expect(r.sim.registrations.map((x) => x.name)).toEqual(["east-k8s"]);
    });
});

// The Mesh args and the config schema have the same keys, checked by the compiler (npm run typecheck):
// a key added to the schema and not to MeshArgs, or the reverse, is a type error here.
type SchemaKeys = keyof z.input<typeof meshSchema>;
type NotInArgs = Exclude<SchemaKeys, keyof MeshArgs>;
type NotInSchema = Exclude<keyof MeshArgs, SchemaKeys>;
const sameKeys: [NotInArgs | NotInSchema] extends [never] ? true : NotInArgs | NotInSchema = true;

describe("one shape for stack and library (issue 18)", () => {
    it("MeshArgs has exactly the schema's keys (a compile-time check, above)", () => {
        expect(sameKeys).toBe(true);
    });

    it("registers every output of the Mesh (registerOutputs lists each of its public fields)", async () => {
        const spy = vi.spyOn(pulumi.ComponentResource.prototype as unknown as { registerOutputs: (o: unknown) => void }, "registerOutputs");
        try {
            const r = await meshWith([
                { name: "east", network: "net-east", apiServer: "https://10.0.0.1:6443" },
                { name: "west", network: "net-west", apiServer: "https://10.0.0.2:6443" },
            ]);
            expect(r.error).toBeUndefined();
            const i = spy.mock.contexts.findIndex((c) => (c as { __pulumiType?: string }).__pulumiType === "multicluster-mesh:index:Mesh");
            expect(i).toBeGreaterThanOrEqual(0);
            const mesh = spy.mock.contexts[i] as Record<string, unknown>;
            const fields = Object.keys(mesh).filter((k) => !k.startsWith("__") && k !== "urn");
            expect(fields.length).toBeGreaterThanOrEqual(9);
            expect(Object.keys(spy.mock.calls[i][0] as object).sort()).toEqual(fields.sort());
        } finally {
            spy.mockRestore();
        }
    });

    it("hands every schema key to the validator: check and environment reach it, an unknown key is refused at its path", async () => {
        const clusters = [
            { name: "east", network: "net-east", apiServer: "https://10.0.0.1:6443" },
            { name: "west", network: "net-west", apiServer: "https://10.0.0.2:6443" },
        ];
        const check = await meshWith(clusters, { check: { gate: true, timeoutSeconds: 5 }, environment: "staging" });
        expect((check.error as Error & { problems: string[] }).problems).toEqual([
            expect.stringMatching(/^args\.check\.timeoutSeconds: must be at least 10/),
        ]);
        const typo = await meshWith(clusters, { meshID: "x" });
        expect((typo.error as Error & { problems: string[] }).problems).toEqual([expect.stringMatching(/^args: unknown key "meshID"/)]);
        const env = await meshWith(clusters, { environment: "prod" });
        expect((env.error as Error & { problems: string[] }).problems).toEqual([
            expect.stringMatching(/^args\.environment: must be production/),
        ]);
    });

    it("says what to pass in the args, not which `pulumi config set` to run, for provided trust and rotation", async () => {
        const r = await meshWith(
            [
                { name: "east", network: "net-east", apiServer: "https://10.0.0.1:6443" },
                { name: "west", network: "net-west", apiServer: "https://10.0.0.2:6443" },
            ],
            { trust: { mode: "provided", rotation: { phase: "switch-intermediates" } } },
        );
        const problems = (r.error as Error & { problems: string[] }).problems;
        expect(problems).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/^args\.trust\.rootCertPem: is required with trust\.mode provided; pass it in the Mesh args/),
                expect.stringMatching(/^args\.trust\.newRootCertPem: is required in rotation phase switch-intermediates/),
                expect.stringMatching(
                    /^args\.trust\.newCaBundles: is required in rotation phase switch-intermediates.*npm run trust:init makes them/,
                ),
            ]),
        );
        expect(problems.join("\n")).not.toMatch(/pulumi config|multicluster-mesh:|\bmesh\./);
    });
});

describe("every component registers its outputs (registerOutputs)", () => {
    /** An Output or a resource, or a record or list of them (a field another program could read). */
    const holdsOutputs = (v: unknown, depth = 0): boolean =>
        pulumi.Output.isInstance(v) ||
        pulumi.Resource.isInstance(v) ||
        (depth < 2 && !!v && typeof v === "object" && Object.values(v as object).some((x) => holdsOutputs(x, depth + 1)));

    it("on every platform: each field of a component that holds an Output or a resource is among its registered outputs", async () => {
        const { runMesh, gkeEntry } = await import("./support/harness.js");
        const spy = vi.spyOn(pulumi.ComponentResource.prototype as unknown as { registerOutputs: (o: unknown) => void }, "registerOutputs");
        try {
            const r = await runMesh({
                meshId: "m",
                topology: "multi-primary",
                trust: FAST,
                clusters: [
                    gkeEntry("g1", 1, { network: "n1" }),
                    { name: "e1", network: "n2", platform: "eks", eks: { region: "us-east-1", vpcCidr: "10.40.0.0/16" } },
                    { name: "k1", network: "n3", platform: "kind" },
                    { name: "x1", network: "n4", kubeconfig: "/nonexistent/x1", apiServer: "https://10.9.0.1:6443" },
                ],
                traffic: { namespaces: [{ name: "apps" }] },
            });
            expect(r.error).toBeUndefined();
            const missing: string[] = [];
            const types = new Set<string>();
            // Pulumi's ComponentResource registers `{}` itself after initialize(); the component's own call adds its outputs.
            const registered = new Map<object, Set<string>>();
            spy.mock.contexts.forEach((ctx, i) => {
                const keys = registered.get(ctx as object) ?? new Set<string>();
                for (const k of Object.keys((spy.mock.calls[i][0] as object) ?? {})) keys.add(k);
                registered.set(ctx as object, keys);
            });
            for (const [ctx, keys] of registered) {
                const c = ctx as Record<string, unknown> & { __pulumiType?: string };
                types.add(String(c.__pulumiType));
                for (const [k, v] of Object.entries(c))
                    if (!k.startsWith("__") && k !== "urn" && holdsOutputs(v) && !keys.has(k)) missing.push(`${c.__pulumiType}.${k}`);
            }
            // Not vacuous: every kind of component of the mesh was built.
            for (const t of [
                "Mesh",
                "ControlPlane",
                "EastWestGateway",
                "RemoteSecrets",
                "RootOfTrust",
                "TrafficPolicy",
                "GkeCluster",
                "EksCluster",
                "KindCluster",
                "ExistingCluster",
            ])
                expect(
                    [...types].some((x) => x.endsWith(`:${t}`)),
                    t,
                ).toBe(true);
            expect(missing).toEqual([]);
        } finally {
            spy.mockRestore();
        }
    });
});
