// `platform: kind`: a local cluster made by the kind CLI, with MetalLB for LoadBalancer addresses.
// Every fact of the platform in one place; its builder (./cluster.ts, @pulumi/command) is loaded
// only where clusters are created.
import * as crypto from "node:crypto";
import { z } from "zod";
import { componentType, TYPES } from "../../pulumiTypes";
import { forceNewRule } from "../changeRules";
import { checkCidr, checkDisjoint } from "../checks";
import type { Platform, PlatformBuilder } from "../types";

/** pulumi-command's local command: kind's clusters are made by `kind create cluster`. */
export const COMMAND = TYPES.command;
/** The type token of the component that makes one kind cluster (./cluster.ts). */
export const KIND_CLUSTER = componentType("cluster", "KindCluster");

export const KIND_NODE_IMAGE = "kindest/node:v1.33.1";

export const kindSchema = z.strictObject({
    podSubnet: z.string().optional(),
    serviceSubnet: z.string().optional(),
    /** The kind node image; pin it to pin the Kubernetes version. */
    nodeImage: z.string().default(KIND_NODE_IMAGE),
});
export type KindConfig = { podSubnet: string; serviceSubnet: string; nodeImage: string };

/**
 * Default kind subnets per kind cluster (the index among the mesh's kind clusters), numbered as
 * Istio's own multicluster CI does (common/scripts/kind_provisioner.sh at 1.30.3).
 */
export function kindSubnets(index: number): { podSubnet: string; serviceSubnet: string } {
    return { podSubnet: `10.${10 + index * 10}.0.0/16`, serviceSubnet: `10.255.${10 + index * 10}.0/24` };
}

/**
 * The node container is `<cluster>-control-plane`, also its hostname, which is a DNS label of at
 * most 63 characters (https://kind.sigs.k8s.io/docs/user/configuration/#name-your-cluster).
 */
export const KIND_CLUSTER_NAME_MAX = 63 - "-control-plane".length;

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export const kind: Platform = {
    name: "kind",
    cloud: "local",
    block: kindSchema,
    takesKubeconfig: false,
    // kind clusters on one network would need node routes between them that this program does not build.
    sharesNetwork: false,
    check(c, at, say) {
        if (typeof c.name === "string" && c.name.length > KIND_CLUSTER_NAME_MAX) {
            say(
                `${at}.name`,
                `"${c.name}" has ${c.name.length} characters; kind names its node "<cluster>-control-plane", ` +
                    `a hostname of at most 63, so use at most ${KIND_CLUSTER_NAME_MAX}`,
            );
        }
        const k = (c.kind ?? {}) as Partial<KindConfig>;
        const b = `${at}.kind`;
        checkDisjoint(
            [
                [`${b}.podSubnet`, checkCidr(k.podSubnet, `${b}.podSubnet`, say)],
                [`${b}.serviceSubnet`, checkCidr(k.serviceSubnet, `${b}.serviceSubnet`, say)],
            ],
            say,
        );
        if (c.region !== undefined && c.zone !== undefined && !c.zone.startsWith(c.region)) {
            say(`${at}.zone`, `"${c.zone}" is not in region "${c.region}"; a zone name starts with its region's name`);
        }
    },
    fill: (block, index) => ({ ...kindSubnets(index), ...(block ?? { nodeImage: KIND_NODE_IMAGE }) }),
    routingDomain: () => "the local kind Docker network",
    podRanges(c, index) {
        const d = kindSubnets(index);
        const k = (c.kind ?? {}) as Partial<KindConfig>;
        return [
            ["kind.podSubnet", k.podSubnet ?? d.podSubnet],
            ["kind.serviceSubnet", k.serviceSubnet ?? d.serviceSubnet],
        ];
    },
    locality: (c) => ({ region: c.region, zone: c.zone }),
    gatewayServiceAnnotations: {},
    // What `kind create cluster --name <name>` writes (https://kind.sigs.k8s.io/docs/user/quick-start/#interacting-with-your-cluster).
    kubeContext: (c) => `kind-${c.name}`,
    // The node image's tag pins the Kubernetes version (kindest/node:v1.33.1).
    kubeVersion(c) {
        const image = (c.kind as Partial<KindConfig> | undefined)?.nodeImage;
        return image ? /:v?(\d+\.\d+(?:\.\d+)?)/.exec(image)?.[1] : undefined;
    },
    sdks: ["@pulumi/command"],
    sampleCluster: () => ({}),
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: it imports @pulumi/command
    builder: () => require("./cluster") as PlatformBuilder,
    resources: {
        changeRules: [
            forceNewRule(
                COMMAND,
                COMMAND,
                "pulumi/pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go: `triggers` is replaceOnChanges; other inputs " +
                    "update (the update, else the create command runs again); replacement is the engine default, create first, unless " +
                    "deleteBeforeReplace",
                ["triggers"],
            ),
        ],
        // The `kind create cluster` Command of a KindCluster is the cluster.
        isCluster: (r) =>
            r.type === COMMAND &&
            r.name.endsWith("-cluster") &&
            (r.parent ?? "").endsWith(`${KIND_CLUSTER}::${r.name.replace(/-cluster$/, "")}`),
        // pulumi-command gives every Create a new random ID (provider/pkg/provider/local/commandController.go, NewUniqueHex).
        deployTimeOutputs: (r) =>
            r.type === COMMAND
                ? [
                      { path: "id", value: r.id },
                      { path: "stdout", value: r.state.stdout },
                      { path: "stderr", value: r.state.stderr },
                  ]
                : [],
    },
    simulator: {
        loadBalancerAddress: "ip",
        /** What `kind` and `docker` print on this machine. */
        command(cmd, ctx) {
            let m: RegExpExecArray | null;
            if ((m = /^kind create cluster --name (\S+)/.exec(cmd))) return `Creating cluster "${m[1]}" ...\n`;
            if ((m = /^kind get kubeconfig --name (\S+)/.exec(cmd))) {
                const port = 40000 + (crypto.createHash("sha256").update(m[1]).digest().readUInt16BE(0) % 20000);
                const n = m[1];
                return (
                    `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ` +
                    `${b64("SIMULATED-KIND-CA")}\n    server: https://127.0.0.1:${port}\n  name: kind-${n}\n` +
                    `contexts:\n- context:\n    cluster: kind-${n}\n    user: kind-${n}\n  name: kind-${n}\ncurrent-context: kind-${n}\n` +
                    `users:\n- name: kind-${n}\n  user:\n    client-certificate-data: ${b64("SIMULATED-CERT")}\n ` +
                    `   client-key-data: ${b64("SIMULATED-KEY")}\n`
                );
            }
            if ((m = /^docker inspect .* (\S+)-control-plane$/.exec(cmd))) return `${ctx.simulatedIp(`kind:${m[1]}`, "172.18.0")}\n`;
            if (/^docker network inspect kind/.test(cmd)) return "172.18.0.0/16 fc00:f853:ccd:e793::/64 \n";
            return undefined;
        },
    },
    bench: {
        latencies: [
            { key: `${COMMAND} [kind create cluster]`, seconds: 60, why: "kind cluster (one node, --wait)" },
            { key: COMMAND, seconds: 1, why: "kind/docker query" },
            { key: `${TYPES.release} [metallb]`, seconds: 45, why: "MetalLB (kind)" },
        ],
        latencyKey: (r) =>
            r.type === COMMAND
                ? String(r.inputs?.create ?? "").startsWith("kind create cluster")
                    ? `${COMMAND} [kind create cluster]`
                    : COMMAND
                : undefined,
        nodePoolTypes: [],
        example: () => ({}),
    },
};
