// A 1.30 → 1.31 revision-based upgrade of a primary-remote mesh (primary west, remote east), phase by
// phase, with the real charts of both versions (test/support/upgradeWalkSuite.ts; skipped, saying why,
// when the charts are not on this machine). Each row: what the phase's change plan creates, updates
// and deletes; the remote's revisioned Service, EndpointSlice and webhook, and the primary's expose
// routes per revision.
import { type Tamper, walkSuite } from "./support/upgradeWalkSuite";

const R = "1-31-0-rc-0";

type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; webhooks?: any[] };
const objectsOf = (sources: { release: string; objects: unknown[] }[], release: string) =>
    sources.find((s) => s.release === release)!.objects as Obj[];

const tampers: Tamper[] = [
    {
        stack: "p1",
        cluster: "west",
        what: "the primary without the new revision's expose route: the remote's new webhook and proxies reach no istiod",
        change: (s) => {
            const o = objectsOf(s, "objects.yaml");
            o.splice(
                o.findIndex((x) => x.kind === "VirtualService" && x.metadata.name === `istiod-vs-${R}`),
                1,
            );
        },
        findings: [
            /VirtualService\/istiod-vs-\*.*are \["istiod-vs-default"\], expected \["istiod-vs-1-31-0-rc-0","istiod-vs-default"\]/,
            /release objects.yaml, VirtualService\/istiod-vs-1-31-0-rc-0, \(object\): missing: remote east runs revision 1-31-0-rc-0/,
        ],
    },
    {
        stack: "p1",
        cluster: "east",
        what: "the remote's new release without its revisioned Service",
        change: (s) => {
            const o = objectsOf(s, `istiod-${R}`);
            o.splice(
                o.findIndex((x) => x.kind === "Service" && x.metadata.name === `istiod-${R}`),
                1,
            );
        },
        findings: [
            /release istiod-1-31-0-rc-0, Service\/istiod-1-31-0-rc-0, \(object\): missing: the remote reaches west's istiod through it/,
        ],
    },
    {
        stack: "p3",
        cluster: "east",
        what: "the remote's default tag calling the old revision's Service",
        change: (s) => {
            const tag = objectsOf(s, "objects.yaml").find((x) => x.metadata.name === "istio-revision-tag-default")!;
            for (const w of tag.webhooks ?? []) if (w.clientConfig.service) w.clientConfig.service.name = "istiod";
        },
        // Each of the tag's four webhooks (the default tag also serves istio-injection=enabled and sidecar.istio.io/inject=true).
        findings: [0, 1, 2, 3].map(
            (i) =>
                new RegExp(
                    `istio-revision-tag-default, webhooks\\[${i}\\] .* clientConfig.service: is .*"name":"istiod".*expected istiod-1-31-0-rc-0.istio-system`,
                ),
        ),
    },
];

walkSuite(
    "primary-remote",
    {
        p1: {
            create: [
                `mesh1-east-istiod-${R}`,
                `mesh1-west-eastwest-istiod-vs-${R}`,
                "mesh1-west-eastwest-istiod-vs-default",
                `mesh1-west-istiod-${R}`,
            ],
            update: ["mesh1-east-base", "mesh1-west-base"],
            delete: [],
            then: /restart nothing; to try 1-31-0-rc-0/,
        },
        p2: {
            create: ["mesh1-west-tag-default"],
            // The catch-all expose route now leads to the tags' revision; the remote's proxies keep theirs by SNI.
            update: ["mesh1-west-base", "mesh1-west-eastwest-istiod-vs", "mesh1-west-istiod"],
            delete: [],
            then: /then you: restart the workloads of west namespace by namespace/,
        },
        p3: {
            create: ["mesh1-east-tag-default"],
            update: ["mesh1-east-base", "mesh1-east-istiod"],
            delete: [],
            then: /then you: restart the workloads of east namespace by namespace/,
        },
        p4: { create: [], update: ["mesh1-west-eastwest-release"], delete: [], then: /then you: run the post-deploy check/ },
        p5: {
            create: [],
            update: [],
            delete: ["mesh1-east-istiod", "mesh1-west-eastwest-istiod-vs-default", "mesh1-west-istiod"],
            then: /then you: restart nothing; finish next/,
        },
        p6: { create: [], update: [], delete: [], then: /no Istio release, tag or expose route changes/ },
    },
    {
        p0: {
            east: "EndpointSlice/istiod MWC/istio-sidecar-injector Service/istiod",
            west: "MWC/istio-sidecar-injector Service/istiod VS/istiod-vs",
        },
        // install: the remote gets Service, EndpointSlice and webhook istiod-<rev>; the primary a route per revision.
        p1: {
            east: `EndpointSlice/istiod EndpointSlice/istiod-${R} MWC/istio-sidecar-injector MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`,
            west: `MWC/istio-sidecar-injector MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R} VS/istiod-vs VS/istiod-vs-${R} VS/istiod-vs-default`,
        },
        p2: {
            east: `EndpointSlice/istiod EndpointSlice/istiod-${R} MWC/istio-sidecar-injector MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`,
            west: `MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R} VS/istiod-vs VS/istiod-vs-${R} VS/istiod-vs-default`,
        },
        p3: {
            east: `EndpointSlice/istiod EndpointSlice/istiod-${R} MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`,
            west: `MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R} VS/istiod-vs VS/istiod-vs-${R} VS/istiod-vs-default`,
        },
        p5: {
            east: `EndpointSlice/istiod-${R} MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R}`,
            west: `MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R} VS/istiod-vs VS/istiod-vs-${R}`,
        },
        p6: {
            east: `EndpointSlice/istiod-${R} MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R}`,
            west: `MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R} VS/istiod-vs VS/istiod-vs-${R}`,
        },
    },
    tampers,
);
