// The facts of each supported Istio minor (components/data/istio/<minor>/), and the checks that read
// them: chart keys, the gateway chart's values schema, the CRD schemas. Tables over the minors.
import * as fs from "fs";
import * as path from "path";
import { describe, it, expect } from "vitest";
import { ISTIO_VERSION, SUPPORTED_ISTIO } from "../components/istio";
import { FACT_FILES, FACTS_CHARTS, ISTIO_FACTS_DIR, istioFacts } from "../components/istioFacts";
import { templateValueRefs } from "../scripts/derive-istio-facts";
import { gatewaySchemaProblems, istioObjectProblems, valueKeyProblems } from "./support/istioSchemas";

const MINORS = [...SUPPORTED_ISTIO.minors];

// Istio samples/multicluster/expose-services.yaml (the same at 1.30.3 and 1.31.0-rc.0), inlined: the sources are not in users' clones.
const exposeServices = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "cross-network-gateway" },
    spec: {
        selector: { istio: "eastwestgateway" },
        servers: [{ port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] }],
    },
};

// Istio 1.30.3 samples/multicluster/expose-istiod.yaml, second document.
const istiodVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "istiod-vs" },
    spec: {
        hosts: ["*"],
        gateways: ["istiod-gateway"],
        tls: [
            {
                match: [{ port: 15012, sniHosts: ["*"] }],
                route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 15012 } } }],
            },
            {
                match: [{ port: 15017, sniHosts: ["*"] }],
                route: [{ destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 443 } } }],
            },
        ],
    },
};

/** exposeServices with its first server replaced by `server` merged over the original. */
function withServer(server: Record<string, unknown>): typeof exposeServices {
    return { ...exposeServices, spec: { ...exposeServices.spec, servers: [{ ...exposeServices.spec.servers[0]!, ...server }] } };
}

describe("facts per minor", () => {
    it("one folder per supported minor, nothing else", () => {
        expect(fs.readdirSync(ISTIO_FACTS_DIR).sort()).toEqual(MINORS);
    });

    it.each(MINORS)("%s: every file, derived from istio/istio at a tag of that minor, with its commit", (minor) => {
        for (const f of Object.values(FACT_FILES)) expect(fs.existsSync(path.join(ISTIO_FACTS_DIR, minor, f)), f).toBe(true);
        const facts = istioFacts(minor);
        expect(facts.source.minor).toBe(minor);
        expect(facts.source.tag.startsWith(`${minor}.`)).toBe(true);
        expect(facts.source.repository).toBe("https://github.com/istio/istio");
        expect(facts.source.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(facts.chartKeys.base).toContain("profile");
        expect(facts.chartKeys.istiod).toContain("profile");
        expect(facts.chartKeys.istiod).not.toContain("_internal_defaults_do_not_set");
        // Read by the templates only (dig), and needed on both base and istiod.
        expect(facts.chartKeys.base).toContain("global.enableReaderRBAC");
        expect(facts.chartKeys.istiod).toContain("global.enableReaderRBAC");
    });

    it.each(MINORS)("%s: minor-only options are exactly the keys no other minor has", (minor) => {
        const facts = istioFacts(minor);
        expect(facts.minorOnly.comparedWith).toEqual(MINORS.filter((m) => m !== minor));
        for (const chart of FACTS_CHARTS) {
            const elsewhere = new Set(facts.minorOnly.comparedWith.flatMap((m) => istioFacts(m).chartKeys[chart]));
            expect(facts.minorOnly[chart]).toEqual(facts.chartKeys[chart].filter((k) => !elsewhere.has(k)));
        }
    });

    it("1.31 adds the options its upgrade notes and chart diff name, and 1.30 has none 1.31 lacks", () => {
        expect(istioFacts("1.31").minorOnly.istiod).toEqual(
            expect.arrayContaining(["global.readerServiceAccount", "global.readerServiceAccount.name", "terminationMessagePolicy"]),
        );
        expect(istioFacts("1.31").minorOnly.base).toContain("global.readerServiceAccount.name");
        expect(istioFacts("1.31").minorOnly.gateway).toEqual(["dnsConfig", "dnsPolicy", "service.healthCheckNodePort"]);
        expect(istioFacts("1.30").minorOnly).toMatchObject({ base: [], istiod: [], gateway: [] });
    });

    it("reads the keys templates use: .Values paths and Sprig dig, with every prefix", () => {
        expect(
            templateValueRefs([
                "{{ .Values.global.hub }} {{ $.Values.base.validationURL }}",
                `{{- if dig "global" "readerServiceAccount" "name" "" .Values }}`,
                `{{ dig "global" "enableReaderRBAC" true .Values }}`,
            ]),
        ).toEqual([
            "base.validationURL",
            "global",
            "global.enableReaderRBAC",
            "global.hub",
            "global.readerServiceAccount",
            "global.readerServiceAccount.name",
        ]);
    });

    it.each(MINORS)("%s: every served version of every networking.istio.io and security.istio.io CRD", (minor) => {
        const keys = Object.keys(istioFacts(minor).crdSchemas()).sort();
        const v1 = ["DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "VirtualService", "WorkloadEntry", "WorkloadGroup"];
        const security = ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"];
        expect(keys).toEqual(
            [
                ...v1.map((k) => `networking.istio.io/v1/${k}`),
                ...[...v1, "EnvoyFilter"].map((k) => `networking.istio.io/v1alpha3/${k}`),
                ...[...v1, "ProxyConfig"].map((k) => `networking.istio.io/v1beta1/${k}`),
                ...security.map((k) => `security.istio.io/v1/${k}`),
                ...security.map((k) => `security.istio.io/v1beta1/${k}`),
            ].sort(),
        );
    });

    it.each(MINORS)("%s: CRD schemas never close objects themselves (the helper applies the API server's pruning rule)", (minor) => {
        expect(fs.readFileSync(path.join(ISTIO_FACTS_DIR, minor, FACT_FILES.crdSchemas), "utf8")).not.toMatch(
            /"additionalProperties": false/,
        );
    });

    it("validates against the pinned minor's CRDs, and says when another supported minor's would accept the object", () => {
        // 1.31's DestinationRule trafficPolicy.loadBalancer has zoneAwareLbSetting; 1.30's does not.
        const dr = {
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: { name: "r" },
            spec: { host: "a.b.svc.cluster.local", trafficPolicy: { loadBalancer: { zoneAwareLbSetting: {} } } },
        };
        expect(istioObjectProblems(dr, "1.31.1")).toEqual([]);
        expect(istioObjectProblems(dr, "1.30.5")).toEqual([
            'networking.istio.io/v1/DestinationRule /spec/trafficPolicy/loadBalancer must NOT have additional properties: "zoneAwareLbSetting"' +
                " (valid in Istio 1.31's CRDs: pin a 1.31.x version)",
        ]);
    });
});

describe("valueKeyProblems", () => {
    it("accepts the multicluster keys the program sets on a primary", () => {
        expect(
            valueKeyProblems("istiod", { global: { meshID: "m", multiCluster: { clusterName: "c" }, network: "n", externalIstiod: true } }),
        ).toEqual([]);
    });

    it("accepts the keys the program sets on a remote", () => {
        const istiod = {
            profile: "remote",
            global: { multiCluster: { clusterName: "c" }, network: "n", configCluster: true, remotePilotAddress: "10.0.0.1" },
            istiodRemote: { injectionPath: "/inject/cluster/c/net/n", injectionURL: "https://gw.example.com:15017/inject" },
        };
        expect(valueKeyProblems("istiod", istiod)).toEqual([]);
        expect(valueKeyProblems("base", { profile: "remote", base: { validationURL: "https://gw.example.com:15017/validate" } })).toEqual(
            [],
        );
    });

    it("rejects a misspelt key, naming it", () => {
        expect(valueKeyProblems("istiod", { global: { meshId: "m" } })).toEqual([
            'istiod: key "global.meshId" does not exist in the chart defaults',
        ]);
        expect(valueKeyProblems("istiod", { global: { multiCluster: { clustername: "c" } } })).toEqual([
            'istiod: key "global.multiCluster.clustername" does not exist in the chart defaults',
        ]);
    });

    it("reads pilot.* as the top level, as the istiod chart does since 1.24 (zzy_descope_legacy.yaml), and checks it the same way", () => {
        expect(valueKeyProblems("istiod", { pilot: { env: { X: "1" }, autoscaleMin: 2 } })).toEqual([]);
        const typo = valueKeyProblems("istiod", { pilot: { autoscaleMn: 2 } });
        expect(typo).toEqual(['istiod: key "pilot.autoscaleMn" does not exist in the chart defaults']);
        // Only the istiod chart has that merge.
        const base = valueKeyProblems("base", { pilot: { env: { X: "1" } } });
        expect(base).toEqual(['base: key "pilot.env.X" does not exist in the chart defaults']);
    });

    it("accepts any key under a map that is {} in the defaults", () => {
        expect(
            valueKeyProblems("istiod", {
                env: { ANYTHING: "1" },
                podAnnotations: { "a.b/c": "d" },
                global: { meshNetworks: { n1: { endpoints: [] } } },
            }),
        ).toEqual([]);
    });

    it("does not open maps whose defaults are non-empty, nor extend leaves", () => {
        // meshConfig defaults to {enablePrometheusMerge: true}, so only that key is known.
        expect(valueKeyProblems("istiod", { meshConfig: { enablePrometheusMerge: false } })).toEqual([]);
        expect(valueKeyProblems("istiod", { meshConfig: { defaultConfig: { proxyMetadata: {} } } })).toHaveLength(1);
        expect(valueKeyProblems("istiod", { global: { hub: { x: 1 } } })).toEqual([
            'istiod: key "global.hub.x" does not exist in the chart defaults',
        ]);
    });

    it("treats arrays as leaves and checks each chart's own keys", () => {
        expect(valueKeyProblems("istiod", { global: { imagePullSecrets: [{ name: "x", bogus: 1 }] } })).toEqual([]);
        // istiod's defaults list only base.enableIstioConfigCRDs, but its validating webhook template reads
        // base.validationURL too (validatingwebhookconfiguration.yaml): the fixture has the templates' keys.
        expect(valueKeyProblems("istiod", { base: { validationURL: "u", validationCABundle: "c" } })).toEqual([]);
        expect(valueKeyProblems("istiod", { base: { validationUrl: "u" } })).toEqual([
            'istiod: key "base.validationUrl" does not exist in the chart defaults',
        ]);
        expect(valueKeyProblems("base", { global: { meshID: "m" } })).toEqual([
            'base: key "global.meshID" does not exist in the chart defaults',
        ]);
    });

    it("reports one message per unknown path", () => {
        expect(
            valueKeyProblems("gateway", {
                name: "x",
                networkGateway: "n",
                nme: "y",
                service: { typ: "LoadBalancer", annotations: { a: "b" } },
            }),
        ).toEqual([
            'gateway: key "nme" does not exist in the chart defaults',
            'gateway: key "service.typ" does not exist in the chart defaults',
        ]);
    });
});

describe("gatewaySchemaProblems", () => {
    const eastWest = { name: "istio-eastwestgateway", networkGateway: "net1", service: { type: "LoadBalancer", annotations: { a: "b" } } };

    it("accepts the east-west gateway values", () => {
        expect(gatewaySchemaProblems(eastWest)).toEqual([]);
        expect(gatewaySchemaProblems({ ...eastWest, service: { ...eastWest.service, loadBalancerIP: "1.2.3.4" } })).toEqual([]);
        expect(valueKeyProblems("gateway", eastWest)).toEqual([]);
    });

    it("rejects an unknown top-level key (additionalProperties: false)", () => {
        const problems = gatewaySchemaProblems({ bogus: 1 });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/additional properties.*bogus/);
    });

    it("rejects wrong types and enum values", () => {
        expect(gatewaySchemaProblems({ service: { ports: "x" } })).toEqual(["/service/ports must be array"]);
        expect(gatewaySchemaProblems({ kind: "StatefulSet" })).toEqual([
            '/kind must be equal to one of the allowed values: ["Deployment","DaemonSet"]',
        ]);
        expect(gatewaySchemaProblems({ service: { ports: [{ port: "15443" }] } })).toEqual(["/service/ports/0/port must be integer"]);
    });
});

describe("istioObjectProblems", () => {
    it("accepts the expose-services sample in every served version", () => {
        for (const v of ["v1", "v1beta1", "v1alpha3"]) {
            expect(istioObjectProblems({ ...exposeServices, apiVersion: `networking.istio.io/${v}` })).toEqual([]);
        }
    });

    it("accepts the expose-istiod VirtualService", () => {
        expect(istioObjectProblems(istiodVirtualService)).toEqual([]);
    });

    it("rejects a port number that is not an integer", () => {
        expect(istioObjectProblems(withServer({ port: { number: "abc", name: "tls", protocol: "TLS" } }))).toEqual([
            "networking.istio.io/v1/Gateway /spec/servers/0/port/number must be integer",
        ]);
    });

    it("rejects unknown fields, as the API server's structural-schema pruning would", () => {
        expect(istioObjectProblems(withServer({ tls: { mode: "AUTO_PASSTHROUGH", bogus: true } }))).toEqual([
            'networking.istio.io/v1/Gateway /spec/servers/0/tls must NOT have additional properties: "bogus"',
        ]);
        expect(istioObjectProblems({ ...exposeServices, spec: { ...exposeServices.spec, server: [] } })).toEqual([
            'networking.istio.io/v1/Gateway /spec must NOT have additional properties: "server"',
        ]);
    });

    it("still accepts free-form maps and status (x-kubernetes-preserve-unknown-fields)", () => {
        const obj = { ...exposeServices, spec: { ...exposeServices.spec, selector: { anything: "goes" } }, status: { whatever: 1 } };
        expect(istioObjectProblems(obj)).toEqual([]);
    });

    it("rejects enum violations, missing required fields and oneOf conflicts", () => {
        expect(istioObjectProblems(withServer({ tls: { mode: "AUTO" } }))[0]).toMatch(
            /\/spec\/servers\/0\/tls\/mode must be equal to one of the allowed values/,
        );
        expect(istioObjectProblems(withServer({ hosts: undefined }))).toEqual([
            "networking.istio.io/v1/Gateway /spec/servers/0 must have required property 'hosts'",
        ]);
        const vs = { ...istiodVirtualService, spec: { hosts: ["*"], http: [{ match: [{ uri: { exact: "/a", prefix: "/b" } }] }] } };
        expect(istioObjectProblems(vs).join("\n")).toMatch(/\/spec\/http\/0\/match\/0\/uri must match exactly one schema in oneOf/);
    });

    it("reports a missing schema for an unknown apiVersion or kind", () => {
        const minor = ISTIO_VERSION.split(".").slice(0, 2).join(".");
        expect(istioObjectProblems({ ...exposeServices, apiVersion: "networking.istio.io/v2" })).toEqual([
            `networking.istio.io/v2/Gateway: no schema in Istio ${minor}'s CRDs (components/data/istio/${minor}/crd-schemas.json)`,
        ]);
        // (DestinationRule, Sidecar and the other networking and security kinds have schemas: the traffic block writes them.)
        expect(istioObjectProblems({ ...exposeServices, kind: "WasmPlugin" })).toEqual([
            `networking.istio.io/v1/WasmPlugin: no schema in Istio ${minor}'s CRDs (components/data/istio/${minor}/crd-schemas.json)`,
        ]);
    });
});
