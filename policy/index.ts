// The multicluster-mesh policy pack. Run it with a preview or an update of any mesh stack:
//
//   pulumi preview -s <stack> --policy-pack policy [--policy-pack-config policy-config.json]
//
// It uses the @pulumi/policy and @pulumi/pulumi of the project (same pinned versions as in
// policy/package.json), so after `npm ci` at the root it needs no install of its own.
// The policies, what each checks and its config, are in policies.ts; tests in test/policy.test.ts.
import { PolicyPack } from "@pulumi/policy";
import { PROJECT } from "../components/pulumiTypes";
import { meshPolicies } from "./policies";

new PolicyPack(PROJECT, {
    description: "Guard rails for one Istio mesh across Kubernetes clusters.",
    enforcementLevel: "mandatory",
    policies: meshPolicies(),
});
