// The test tiers (CONTRIBUTING.md, "Test tiers"). Every test file is in exactly one
// (test/tiers.test.ts checks it); vitest.config.ts makes one vitest project of each.
//   unit      pure logic, no simulator run, no process, no tool: `npm run test:unit`, under 15 s of CPU
//   program   the real program (index.ts) or the offline plan under the simulator, and Node processes
//             of this repository (tsx): `npm run test:program`
//   external  a tool from outside Node: openssl, Go, Helm, Chromium, git, bash, npm pack:
//             `npm run test:external` (bash scripts/ci.sh install puts them on a Debian machine)
export const TIERS = {
    unit: [
        "bench",
        "config",
        "configMessages",
        "dependencies",
        "generated",
        "istioSchemas",
        "lintRules",
        "nodeVersions",
        "plan",
        "readme",
        "renderChecks",
        "sourceRules",
        "tiers",
        "upgrade",
    ],
    program: [
        "changeWarnings",
        "changes",
        "check",
        "configInput",
        "configMessagesRun",
        "gateways",
        "importFile",
        "istioVersions",
        "libraryArgs",
        "manifestDiff",
        "meshDiff",
        "meshSvgLegend",
        "platforms",
        "policy",
        "realUp",
        "registry",
        "sdkFree",
        "stackFile",
        "stacks",
        "tools",
        "traffic",
    ],
    external: [
        "audit",
        "caBundle",
        "goAgreement",
        "identity",
        "istioSources",
        "library",
        "mesh",
        "meshSvg",
        "planFile",
        "planOut",
        "provided",
        "render",
        "rotation",
        "tlsSim",
        "trustPolicies",
        "upgradeMultiPrimary",
        "upgradePrimaryRemote",
        "workflow",
    ],
} as const;

export type Tier = keyof typeof TIERS;

/** The vitest include globs of a tier. */
export const includeOf = (tier: Tier): string[] => TIERS[tier].map((f) => `test/${f}.test.ts`);
