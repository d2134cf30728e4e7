// The rules of a revision-based upgrade (components/upgrade.ts, components/upgradeChecks.ts,
// components/upgradeGuard.ts), as tables: the steps between two phases the plan and the program
// refuse (a skipped phase, tags out of order, a control plane behind its data plane), the config
// checks (a remote ahead of its primary, a removal while in use), each cluster's layout per phase,
// what each phase asks the user to restart, and the refusal of a removal the live count says is in use.
// The renders of every phase with the real charts are in test/upgradeMultiPrimary.test.ts and
// test/upgradePrimaryRemote.test.ts; the count against a real API server in test/e2e/.
import { describe, expect, it, vi } from "vitest";
import { describeUse, injectedBy, type RevisionPods, type RevisionUse, revisionUseResult } from "../components/check/revisions";
import {
    clusterRevisions,
    type IstioRevisions,
    phaseEffects,
    type RevisionRecord,
    type UpgradeConfig,
    type UpgradePhase,
    upgradeStepProblems,
} from "../components/upgrade";
import { checkIstioRevisions } from "../components/upgradeChecks";
import { removalGuard } from "../components/upgradeGuard";
import { ISTIO_REPOSITORY } from "../components/istio";

const OLD = "1.30.5";
const NEW = "1.31.1";
const REV = "1-31-1";
const ORDER = ["east", "west"];

/** A recorded phase: none (no upgrade), or an upgrade phase with the clusters whose tags moved. */
function rec(
    phase: UpgradePhase | "none",
    moved: string[] = [],
    over: Partial<RevisionRecord> & { upgradeVersion?: string; order?: string[] } = {},
): RevisionRecord {
    const { upgradeVersion, order, ...r } = over;
    return {
        version: OLD,
        revision: "",
        tags: [],
        upgrade:
            phase === "none"
                ? null
                : {
                      version: upgradeVersion ?? NEW,
                      revision: upgradeVersion ? upgradeVersion.replace(/\./g, "-") : REV,
                      phase,
                      order: order ?? ORDER,
                      moved,
                  },
        ...r,
    };
}
const done = rec("none", [], { version: NEW, revision: REV });

describe("one step per up: the steps between two phases (the mesh diff and pulumi up refuse the others)", () => {
    const table: { step: string; before: RevisionRecord; after: RevisionRecord; refused?: RegExp }[] = [
        { step: "start: none → install", before: rec("none"), after: rec("install") },
        { step: "install → tags, first cluster of the order", before: rec("install"), after: rec("tags", ["east"]) },
        { step: "tags → tags, the next cluster", before: rec("tags", ["east"]), after: rec("tags", ["east", "west"]) },
        { step: "tags, every cluster → gateways", before: rec("tags", ORDER), after: rec("gateways") },
        { step: "gateways → remove-old", before: rec("gateways"), after: rec("remove-old") },
        { step: "remove-old → finished on the new revision", before: rec("remove-old"), after: done },
        { step: "back: tags(east) → install (east's tags move back)", before: rec("tags", ["east"]), after: rec("install") },
        { step: "install → abandon", before: rec("install"), after: rec("abandon") },
        { step: "abandon → finished on the old revision", before: rec("abandon"), after: rec("none") },
        {
            step: "a patch in place (1.30.3 → 1.30.5): one step, with the warning of what restarts",
            before: rec("none", [], { version: "1.30.3" }),
            after: rec("none"),
        },
        { step: "a minor in place (1.30.5 → 1.31.1): warned, not refused", before: rec("none"), after: rec("none", [], { version: NEW }) },
        // Skipped phases.
        {
            step: "skipped: none → tags",
            before: rec("none"),
            after: rec("tags", ["east"]),
            refused: /upgrade.phase starts at tags: an upgrade starts with install/,
        },
        {
            step: "skipped: install → tags of two clusters at once",
            before: rec("install"),
            after: rec("tags", ORDER),
            refused: /jumps from upgrade 1.30.5 → 1.31.1, phase install to .*tags moved in east, west: one step per up/,
        },
        {
            step: "skipped: install → gateways",
            before: rec("install"),
            after: rec("gateways"),
            refused: /jumps .*\(next is tags \(the first cluster of upgrade.order\)\)/,
        },
        {
            step: "skipped: tags(east) → gateways, west's tags never moved",
            before: rec("tags", ["east"]),
            after: rec("gateways"),
            refused: /jumps/,
        },
        { step: "skipped: install → remove-old", before: rec("install"), after: rec("remove-old"), refused: /jumps/ },
        {
            step: "skipped: gateways → upgrade block removed",
            before: rec("gateways"),
            after: done,
            refused:
                /the upgrade block is removed in phase gateways: that would remove the old revision without the check that nothing uses it/,
        },
        {
            step: "skipped: install → upgrade block removed, old version kept",
            before: rec("install"),
            after: rec("none"),
            refused: /the upgrade block is removed in phase install: that would remove the new revision/,
        },
        // Wrong order.
        {
            step: "wrong order: tags(east) → tags(west)",
            before: rec("tags", ["east"]),
            after: rec("tags", ["west"]),
            refused: /upgrade.moved changes east → west: tags move one cluster at a time, in upgrade.order/,
        },
        {
            step: "wrong order: the order changed after a cluster moved",
            before: rec("tags", ["east"]),
            after: rec("tags", ["east"], { order: ["west", "east"] }),
            refused: /upgrade.order changes after tags have moved/,
        },
        {
            step: "wrong order: tags(east) → abandon with east still moved",
            before: rec("tags", ["east"]),
            after: rec("abandon"),
            refused: /abandon follows install only \(move every tag back first\)/,
        },
        {
            step: "wrong order: back from remove-old",
            before: rec("remove-old"),
            after: rec("gateways"),
            refused: /goes back from remove-old: the old revision is gone/,
        },
        {
            step: "wrong finish: remove-old → the old version kept",
            before: rec("remove-old"),
            after: rec("none"),
            refused: /finish with istio.version 1.31.1 and istio.revision 1-31-1/,
        },
        {
            step: "versions changed mid-upgrade",
            before: rec("install"),
            after: rec("install", [], { upgradeVersion: "1.31.2" }),
            refused: /the versions change in the middle of an upgrade/,
        },
        {
            step: "an upgrade starting while istio.version changes too",
            before: rec("none"),
            after: rec("install", [], { version: "1.30.6" }),
            refused: /an upgrade starts while istio.version or istio.revision also changes/,
        },
        // Skew: a control plane behind its data plane.
        {
            step: "skew: a minor back in place (1.31.1 → 1.30.5)",
            before: done,
            after: rec("none"),
            refused: /istio.revision changes from 1-31-1 to default with no upgrade/,
        },
        {
            step: "skew: a minor back in place, same revision",
            before: rec("none", [], { version: NEW }),
            after: rec("none"),
            refused: /goes back from 1.31.1 to 1.30.5 in place: the control plane would be behind the proxies it serves/,
        },
        {
            step: "a revision renamed with no upgrade",
            before: rec("none"),
            after: rec("none", [], { revision: "blue" }),
            refused: /istio.revision changes from default to blue with no upgrade/,
        },
    ];
    for (const row of table)
        it(`${row.step}: ${row.refused ? "refused" : "allowed"}`, () => {
            const problems = upgradeStepProblems(row.before, row.after);
            if (!row.refused) expect(problems).toEqual([]);
            else {
                expect(problems).toHaveLength(1);
                expect(problems[0]).toMatch(row.refused);
                // Every refusal says what to do instead.
                expect(problems[0]).toMatch(
                    /docs\/upgrades.md|next|finish|one cluster at a time|fixed once|old revision is gone|change them only/,
                );
            }
        });
});

type Loose = Parameters<typeof checkIstioRevisions>[0];
const MP = [
    { name: "east", role: "primary" },
    { name: "west", role: "primary" },
];
const PR = [
    { name: "west", role: "primary" },
    { name: "east", role: "remote", primary: "west" },
];
function problems(istio: Loose, clusters = MP): string[] {
    const out: string[] = [];
    checkIstioRevisions(istio, clusters, {}, (p, m) => out.push(`${p}: ${m}`));
    return out;
}
const up = (u: Record<string, unknown>, istio: Record<string, unknown> = {}): Loose => ({
    version: OLD,
    repository: ISTIO_REPOSITORY,
    revision: "",
    tags: [],
    ...istio,
    upgrade: { version: NEW, phase: "install", order: ORDER, removeInUse: false, ...u },
});

describe("the config's own rules (mesh.istio.upgrade), each naming its path and the fix", () => {
    const table: { what: string; istio: Loose; clusters?: typeof MP; says?: RegExp }[] = [
        { what: "a whole install phase", istio: up({}) },
        { what: "primary-remote, the primary first", istio: up({ order: ["west", "east"] }), clusters: PR },
        {
            what: "a remote ahead of its primary",
            istio: up({ order: ["east", "west"] }),
            clusters: PR,
            says: /^mesh.istio.upgrade.order: moves remote east before its primary west: a remote ahead of its primary.*put west first \(for example \[west, east\]\)/,
        },
        {
            what: "a control plane behind its data plane: the new version older",
            istio: up({ version: "1.30.1" }),
            says: /^mesh.istio.upgrade.version: 1.30.1 is not newer than istio.version 1.30.5: a revision-based upgrade goes forward/,
        },
        {
            what: "an order that lacks a cluster",
            istio: up({ order: ["east"] }),
            says: /^mesh.istio.upgrade.order: lacks west: list every cluster once/,
        },
        {
            what: "phase tags without moved",
            istio: up({ phase: "tags" }),
            says: /^mesh.istio.upgrade.moved: is required in phase tags.*starting with east/,
        },
        {
            what: "tags moved out of the stated order",
            istio: up({ phase: "tags", moved: ["west"] }),
            says: /^mesh.istio.upgrade.moved: \[west\] is not the start of upgrade.order \[east, west\]/,
        },
        {
            what: "moved outside phase tags",
            istio: up({ phase: "gateways", moved: ["east"] }),
            says: /^mesh.istio.upgrade.moved: is only for phase tags/,
        },
        { what: "remove-old without a recorded count (pulumi up counts itself)", istio: up({ phase: "remove-old" }) },
        { what: "remove-old with a recorded count of 0", istio: up({ phase: "remove-old", removedRevisionPods: { east: 0, west: 0 } }) },
        {
            what: "removal while in use (a recorded count above 0)",
            istio: up({ phase: "remove-old", removedRevisionPods: { east: 2, west: 0 } }),
            says: /^mesh.istio.upgrade.removedRevisionPods: revision default is still in use: 2 pods in east\..*or set mesh.istio.upgrade.removeInUse: true to remove it anyway/,
        },
        {
            what: "removal while in use, overridden",
            istio: up({ phase: "remove-old", removedRevisionPods: { east: 2, west: 0 }, removeInUse: true }),
        },
        {
            what: "the override outside a removal",
            istio: up({ phase: "tags", moved: ["east"], removeInUse: true }),
            says: /^mesh.istio.upgrade.removeInUse: is only for phases remove-old and abandon/,
        },
        {
            what: "revision named default",
            istio: { version: OLD, revision: "default" } as Loose,
            says: /^mesh.istio.revision: "default" is what Istio calls the unrevisioned istiod/,
        },
        {
            what: "the new revision named as the running one",
            istio: up({ revision: "blue" }, { revision: "blue" }),
            says: /^mesh.istio.upgrade.revision: revision blue is the running one/,
        },
    ];
    for (const row of table)
        it(`${row.what}: ${row.says ? "refused" : "accepted"}`, () => {
            const p = problems(row.istio, row.clusters);
            if (!row.says) expect(p).toEqual([]);
            else {
                expect(p).toHaveLength(1);
                expect(p[0]).toMatch(row.says);
            }
        });
});

describe("each cluster's layout per phase (what the components install)", () => {
    const istio = (u?: Partial<UpgradeConfig>): IstioRevisions => ({
        version: OLD,
        repository: "r",
        revision: "",
        tags: ["prod"],
        ...(u ? { upgrade: { version: NEW, phase: "install", order: ORDER, removeInUse: false, ...u } as UpgradeConfig } : {}),
    });
    const show = (i: IstioRevisions, name: string) => {
        const l = clusterRevisions(i, { name, exposeIstiod: false });
        return {
            istiod: l.releases.map((r) => `${r.revision || "default"}@${r.version}${r.ownWebhook ? "" : " (no own webhook)"}`).join(", "),
            tags: `${l.tagObjects.join(", ") || "-"} → ${l.tagTarget || "default"}`,
            base: `${l.base.version}${l.base.defaultRevision ? ` validates with ${l.base.defaultRevision}` : ""}`,
            gateway: `${l.gateway.version}${l.gateway.restartedFor ? ` rolled for ${l.gateway.restartedFor}` : ""}`,
        };
    };
    const table: { phase: string; i: IstioRevisions; cluster: string; want: ReturnType<typeof show> }[] = [
        { phase: "none", i: istio(), cluster: "east", want: { istiod: `default@${OLD}`, tags: "prod → default", base: OLD, gateway: OLD } },
        {
            phase: "install",
            i: istio({}),
            cluster: "east",
            want: { istiod: `default@${OLD}, ${REV}@${NEW}`, tags: "prod → default", base: NEW, gateway: OLD },
        },
        {
            phase: "tags (east moved), east",
            i: istio({ phase: "tags", moved: ["east"] }),
            cluster: "east",
            want: {
                istiod: `default@${OLD} (no own webhook), ${REV}@${NEW}`,
                tags: `default, prod → ${REV}`,
                base: `${NEW} validates with ${REV}`,
                gateway: OLD,
            },
        },
        {
            phase: "tags (east moved), west",
            i: istio({ phase: "tags", moved: ["east"] }),
            cluster: "west",
            want: { istiod: `default@${OLD}, ${REV}@${NEW}`, tags: "prod → default", base: NEW, gateway: OLD },
        },
        {
            phase: "gateways",
            i: istio({ phase: "gateways" }),
            cluster: "west",
            want: {
                istiod: `default@${OLD} (no own webhook), ${REV}@${NEW}`,
                tags: `default, prod → ${REV}`,
                base: `${NEW} validates with ${REV}`,
                gateway: `${NEW} rolled for ${REV}`,
            },
        },
        {
            phase: "remove-old",
            i: istio({ phase: "remove-old" }),
            cluster: "west",
            want: {
                istiod: `${REV}@${NEW}`,
                tags: `default, prod → ${REV}`,
                base: `${NEW} validates with ${REV}`,
                gateway: `${NEW} rolled for ${REV}`,
            },
        },
        {
            phase: "abandon",
            i: istio({ phase: "abandon" }),
            cluster: "east",
            want: { istiod: `default@${OLD}`, tags: "prod → default", base: OLD, gateway: OLD },
        },
    ];
    for (const row of table) it(row.phase, () => expect(show(row.i, row.cluster)).toEqual(row.want));
});

describe("what each phase asks the user to restart (the change plan's `then you:`)", () => {
    const clusters = [
        { name: "west", role: "primary" },
        { name: "east", role: "remote", primary: "west" },
    ];
    const table: { phase: string; r: RevisionRecord; then: RegExp }[] = [
        {
            phase: "install",
            r: rec("install"),
            then: /^restart nothing; to try 1-31-1, label a test namespace istio.io\/rev=1-31-1 and restart its pods$/,
        },
        {
            phase: "tags (west)",
            r: rec("tags", ["west"], { order: ["west", "east"] }),
            then: /^restart the workloads of west namespace by namespace .*: each pod gets the 1.31.1 proxy when it restarts and keeps the 1.30.5 one until then$/,
        },
        {
            phase: "gateways",
            r: rec("gateways"),
            then: /npm run check.*pulumi up of phase remove-old counts again and refuses while anything does \(override: mesh.istio.upgrade.removeInUse\)/,
        },
        {
            phase: "remove-old",
            r: rec("remove-old"),
            then: /^restart nothing; finish next: istio.version 1.31.1, istio.revision 1-31-1, istio.upgrade removed$/,
        },
        { phase: "abandon", r: rec("abandon"), then: /^restart nothing; finish next: remove istio.upgrade$/ },
    ];
    for (const row of table)
        it(row.phase, () => {
            const e = phaseEffects(row.r, clusters);
            expect(e.then).toHaveLength(1);
            expect(e.then[0]).toMatch(row.then);
        });
    it("install names the remote's revisioned release; remove-old names every istiod it deletes", () => {
        expect(phaseEffects(rec("install"), clusters).does.join("\n")).toContain(
            "installs istiod revision 1-31-1 (1.31.1) beside default (1.30.5) in west, and its remote release (Service and webhook istiod-1-31-1) in east",
        );
        expect(phaseEffects(rec("remove-old"), clusters).does).toEqual([
            "removes istiod revision default (1.30.5) from west and its remote releases from east",
        ]);
    });
});

const none = (): RevisionUse => ({ pods: 0, examples: [], namespaces: [], labelledPods: [], tags: [] });

describe("what uses a revision (components/check/revisions.ts)", () => {
    it("a pod's injecting revision is its annotation istio.io/rev, else its sidecar status; a label alone is not an injection", () => {
        const table: { pod: unknown; by: string | undefined }[] = [
            { pod: { metadata: { annotations: { "istio.io/rev": "default" } } }, by: "default" },
            { pod: { metadata: { annotations: { "istio.io/rev": REV }, labels: { "istio.io/rev": "default" } } }, by: REV },
            { pod: { metadata: { annotations: { "sidecar.istio.io/status": JSON.stringify({ revision: REV }) } } }, by: REV },
            { pod: { metadata: { annotations: { "sidecar.istio.io/status": "{}" } } }, by: "default" },
            { pod: { metadata: { labels: { "istio.io/rev": REV } } }, by: undefined },
            { pod: {}, by: undefined },
        ];
        for (const row of table) expect(injectedBy(row.pod)).toBe(row.by);
    });
    it("the check line counts each revision's pods and judges the one the upgrade removes (a warning in the post-deploy check)", () => {
        const use = { default: { ...none(), pods: 2, examples: ["shop/cart-1", "shop/web-2"] }, [REV]: { ...none(), pods: 5 } };
        expect(revisionUseResult("east", use, rec("gateways"), "warning")).toEqual({
            cluster: "east",
            check: "revision-in-use",
            ok: false,
            severity: "warning",
            message: `2 pods injected by default, 5 pods injected by ${REV}; revision default is in use: 2 running pods it injected (shop/cart-1, shop/web-2)`,
            fix: expect.stringMatching(/^restart those pods .*Removing default now leaves them without a control plane$/),
        });
        expect(revisionUseResult("east", { default: none(), [REV]: { ...none(), pods: 7 } }, rec("gateways"), "warning")).toMatchObject({
            ok: true,
            message: `0 pods injected by default, 7 pods injected by ${REV}; nothing uses revision default, which the upgrade removes`,
        });
        // In phase tags nothing is about to be removed: counts only.
        expect(revisionUseResult("east", { default: none(), [REV]: none() }, rec("tags", ["east"]), "warning")).toMatchObject({ ok: true });
    });
    it("namespaces and pods that ask for the revision by name, and tags pointing at it, count as use", () => {
        expect(describeUse("blue", { ...none(), namespaces: ["shop"], labelledPods: ["ops/job-1"], tags: ["prod"] })).toBe(
            "revision blue is in use: namespace shop labelled istio.io/rev=blue; pod ops/job-1 labelled istio.io/rev=blue; tag prod pointing at it",
        );
    });
});

describe("pulumi up refuses to remove a revision the live count says is in use (components/upgradeGuard.ts)", () => {
    const access = [
        { name: "east", kubeconfig: "k" },
        { name: "west", kubeconfig: "k" },
    ];
    /** The count's answer for the decision under test (the count itself runs against a real API server in test/e2e/). */
    const found = (east: Partial<RevisionUse>, unreachable: RevisionPods["unreachable"] = []): RevisionPods => ({
        use: { east: { default: { ...none(), ...east }, [REV]: none() }, west: { default: none(), [REV]: none() } },
        unreachable,
        results: [],
    });
    const table: {
        what: string;
        r: RevisionRecord;
        removeInUse?: boolean;
        access?: typeof access;
        count?: RevisionPods;
        counted: boolean;
        refused?: RegExp[];
    }[] = [
        { what: "phase gateways removes nothing: no count", r: rec("gateways"), counted: false },
        { what: "remove-old, nothing uses the old revision", r: rec("remove-old"), count: found({}), counted: true },
        {
            what: "remove-old while pods still run the old proxy",
            r: rec("remove-old"),
            count: found({ pods: 3, examples: ["shop/a", "shop/b", "shop/c"] }),
            counted: true,
            refused: [
                /^mesh.istio.upgrade.phase: remove-old removes istiod revision default, and the post-deploy count says it is still in use:$/,
                /^east: revision default is in use: 3 running pods it injected \(shop\/a, shop\/b, shop\/c\)$/,
                /set mesh.istio.upgrade.removeInUse: true to remove it anyway/,
            ],
        },
        {
            what: "remove-old while a tag still points at the old revision",
            r: rec("remove-old"),
            count: found({ tags: ["canary"] }),
            counted: true,
            refused: [/still in use/, /^east: revision default is in use: tag canary pointing at it$/, /removeInUse/],
        },
        {
            what: "remove-old with a cluster that does not answer",
            r: rec("remove-old"),
            count: found({}, [{ cluster: "west", why: "connect ECONNREFUSED" }]),
            counted: true,
            refused: [
                /still in use/,
                /^cluster west did not answer the count of what uses revision default: connect ECONNREFUSED$/,
                /removeInUse/,
            ],
        },
        { what: "remove-old in use, overridden by removeInUse", r: rec("remove-old"), removeInUse: true, counted: false },
        { what: "offline (no cluster to ask): the plan prints the commands instead", r: rec("remove-old"), access: [], counted: false },
    ];
    for (const row of table)
        it(`${row.what}: ${row.refused ? "refused" : "goes ahead"}`, async () => {
            const count = vi.fn(async () => row.count ?? found({}));
            const p = await removalGuard(row.r, row.removeInUse ?? false, row.access ?? access, count);
            expect(count).toHaveBeenCalledTimes(row.counted ? 1 : 0);
            if (!row.refused) expect(p).toEqual([]);
            else {
                expect(p).toHaveLength(row.refused.length);
                row.refused.forEach((re, i) => expect(p[i]).toMatch(re));
            }
        });
    it("abandon counts the new revision", async () => {
        const count = vi.fn(async (): Promise<RevisionPods> => ({
            use: { east: { default: none(), [REV]: { ...none(), pods: 1, examples: ["test/canary-1"] } } },
            unreachable: [],
            results: [],
        }));
        const p = await removalGuard(rec("abandon"), false, access, count);
        expect(p[0]).toMatch(/^mesh.istio.upgrade.phase: abandon removes istiod revision 1-31-1/);
        expect(p[1]).toBe("east: revision 1-31-1 is in use: 1 running pod it injected (test/canary-1)");
    });
});
