// A 1.30 → 1.31 revision-based upgrade of a multi-primary mesh on two networks (east, west), phase by
// phase, with the real charts of both versions (test/support/upgradeWalkSuite.ts; skipped, saying why,
// when the charts are not on this machine). Each row: what the phase's change plan creates, updates
// and deletes, and the webhooks and istiod Services each cluster renders.
import { type Tamper, walkSuite } from "./support/upgradeWalkSuite";

const R = "1-31-0-rc-0";
const both = (objects: string) => ({ east: objects, west: objects });

type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; webhooks?: any[] };
const find = (sources: { release: string; objects: unknown[] }[], release: string, kind: string, name: string) =>
    sources.find((s) => s.release === release)!.objects.find((o) => (o as Obj).kind === kind && (o as Obj).metadata.name === name) as Obj;

const tampers: Tamper[] = [
    {
        stack: "p2",
        cluster: "east",
        what: "the unrevisioned injector left beside the default tag: two webhooks inject every pod",
        change: (s) => {
            const tag = structuredClone(find(s, "objects.yaml", "MutatingWebhookConfiguration", "istio-revision-tag-default"));
            tag.metadata = { name: "istio-sidecar-injector", labels: { "istio.io/rev": "default" } };
            for (const w of tag.webhooks ?? []) w.clientConfig.service.name = "istiod";
            s.find((x) => x.release === "istiod")!.objects.push(tag as never);
        },
        findings: [
            /served by 2 webhook configurations/,
            /release istiod, MutatingWebhookConfiguration\/istio-sidecar-injector, \(object\): still rendered: the default tag serves its selectors now/,
        ],
    },
    {
        stack: "p2",
        cluster: "east",
        what: "the default tag labelled with the old revision (istiod would not patch its caBundle)",
        change: (s) => {
            find(s, "objects.yaml", "MutatingWebhookConfiguration", "istio-revision-tag-default").metadata.labels!["istio.io/rev"] =
                "default";
        },
        findings: [/istio-revision-tag-default, metadata.labels\["istio.io\/rev"\]: is "default", the tags point at 1-31-0-rc-0/],
    },
    {
        stack: "p4",
        cluster: "west",
        what: "the east-west gateway not rolled for the new revision",
        change: (s) => {
            delete find(s, "istio-eastwestgateway", "Deployment", "istio-eastwestgateway").spec.template.metadata.annotations[
                "multicluster-mesh.io/injected-by-revision"
            ];
        },
        findings: [/injected-by-revision.*is undefined, expected "1-31-0-rc-0"/],
    },
];

walkSuite(
    "multi-primary",
    {
        p1: {
            create: [`mesh1-east-istiod-${R}`, `mesh1-west-istiod-${R}`],
            update: ["mesh1-east-base", "mesh1-west-base"],
            delete: [],
            then: /restart nothing; to try 1-31-0-rc-0, label a test namespace istio.io\/rev=1-31-0-rc-0/,
        },
        p2: {
            create: ["mesh1-east-tag-default"],
            update: ["mesh1-east-base", "mesh1-east-istiod"],
            delete: [],
            then: /then you: restart the workloads of east namespace by namespace/,
        },
        p3: {
            create: ["mesh1-west-tag-default"],
            update: ["mesh1-west-base", "mesh1-west-istiod"],
            delete: [],
            then: /then you: restart the workloads of west namespace by namespace/,
        },
        p4: {
            create: [],
            update: ["mesh1-east-eastwest-release", "mesh1-west-eastwest-release"],
            delete: [],
            then: /then you: run the post-deploy check \(npm run check\)/,
        },
        p5: {
            create: [],
            update: [],
            delete: ["mesh1-east-istiod", "mesh1-west-istiod"],
            then: /then you: restart nothing; finish next: istio.version 1.31.0-rc.0, istio.revision 1-31-0-rc-0/,
        },
        p6: { create: [], update: [], delete: [], then: /istio upgrade phase finish:\n {2}no Istio release, tag or expose route changes/ },
    },
    {
        p0: both("MWC/istio-sidecar-injector Service/istiod"),
        // install: the new revision's istiod and its own webhook beside the old ones; no tag yet.
        p1: both(`MWC/istio-sidecar-injector MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`),
        // tags moved in east: the default tag replaces the unrevisioned injector there only.
        p2: {
            east: `MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`,
            west: `MWC/istio-sidecar-injector MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`,
        },
        p3: both(`MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`),
        p4: both(`MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod Service/istiod-${R}`),
        p5: both(`MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R}`),
        p6: both(`MWC/istio-revision-tag-default MWC/istio-sidecar-injector-${R} Service/istiod-${R}`),
    },
    tampers,
);
