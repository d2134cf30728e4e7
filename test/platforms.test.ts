// GKE, EKS and kind clusters under the mock runtime: the cloud resources and their key inputs,
// kubeconfigs, provider identity and ordering, firewall rules from the topology, load-balancer
// handling per cloud, and a mixed GKE + EKS + existing mesh end to end.
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { Simulator } from "../simulator/simulator";
import { cluster, dependsOn, MeshRun, one, runMesh, gkeEntry } from "./support/harness";
import { instanceDigest } from "../components/platforms/provider";

const FAST = { keyAlgorithm: "ECDSA", ecdsaCurve: "P256" };

const gke = gkeEntry;
function eks(name: string, n: number, extra: Record<string, unknown> = {}, eksExtra: Record<string, unknown> = {}) {
    return { name, platform: "eks", eks: { region: "us-east-1", vpcCidr: `10.${n}.0.0/16`, ...eksExtra }, ...extra };
}
function ofType(run: MeshRun, type: string) {
    return run.sim.ofType(type);
}
function providerKubeconfig(run: MeshRun, cluster: string) {
    return JSON.parse(one(run, `${cluster}-k8s`).inputs.kubeconfig);
}
function remoteKubeconfig(run: MeshRun, meshId: string, source: string, target: string) {
    const s = one(run, `${meshId}-${source}-remote-to-${target}`);
    return YAML.parse(s.inputs.stringData[source]);
}

describe("GKE", () => {
    it("builds a VPC-native cluster, a separate node pool and a gcloud-plugin kubeconfig", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [
                gke(
                    "g1",
                    1,
                    { network: "n1", protect: true },
                    { deletionProtection: true, releaseChannel: "STABLE", nodePool: { machineType: "e2-standard-8", nodesPerZone: 2 } },
                ),
                gke(
                    "g2",
                    2,
                    { network: "n2" },
                    { location: "europe-west1-b", nodePool: { autoscaling: { minNodesPerZone: 1, maxNodesPerZone: 3 } } },
                ),
            ],
        });
        expect(run.error).toBeUndefined();
        // One provider per project; VPCs per (project, mesh network).
        expect(ofType(run, "pulumi:providers:gcp").map((p) => [p.name, p.inputs.project])).toEqual([["gcp-acme-mesh", "acme-mesh"]]);
        expect(ofType(run, "gcp:compute/network:Network").map((n) => n.inputs)).toEqual([
            { name: "m-n1", project: "acme-mesh", autoCreateSubnetworks: false, routingMode: "GLOBAL" },
            { name: "m-n2", project: "acme-mesh", autoCreateSubnetworks: false, routingMode: "GLOBAL" },
        ]);
        expect(one(run, "g1-subnet").inputs).toMatchObject({
            region: "us-central1",
            network: "m-n1",
            ipCidrRange: "10.1.0.0/20",
            privateIpGoogleAccess: true,
            secondaryIpRanges: [
                { rangeName: "g1-pods", ipCidrRange: "10.104.0.0/14" },
                { rangeName: "g1-services", ipCidrRange: "10.1.16.0/20" },
            ],
        });
        expect(one(run, "g2-subnet").inputs.region).toBe("europe-west1");
        const c1 = one(run, "g1-cluster");
        expect(c1.inputs).toMatchObject({
            name: "g1",
            project: "acme-mesh",
            location: "us-central1",
            networkingMode: "VPC_NATIVE",
            removeDefaultNodePool: true,
            initialNodeCount: 1,
            ipAllocationPolicy: { clusterSecondaryRangeName: "g1-pods", servicesSecondaryRangeName: "g1-services" },
            workloadIdentityConfig: { workloadPool: "acme-mesh.svc.id.goog" },
            releaseChannel: { channel: "STABLE" },
            deletionProtection: true,
        });
        expect(c1.protect).toBe(true);
        expect(one(run, "g2-cluster").inputs.deletionProtection).toBe(false);
        expect(one(run, "g2-cluster").protect).toBe(false);
        expect(one(run, "g1-nodes").inputs).toMatchObject({
            cluster: "g1",
            location: "us-central1",
            nodeCount: 2,
            nodeConfig: { machineType: "e2-standard-8", workloadMetadataConfig: { mode: "GKE_METADATA" }, tags: ["m-g1-node"] },
        });
        expect(one(run, "g2-nodes").inputs.nodeCount).toBeUndefined();
        expect(one(run, "g2-nodes").inputs.autoscaling).toEqual({ minNodeCount: 1, maxNodeCount: 3 });
        // Every GCP resource goes through the project's provider.
        for (const r of run.sim.registrations.filter((x) => x.type.startsWith("gcp:"))) expect(r.providerName).toBe("gcp-acme-mesh");

        const kc = providerKubeconfig(run, "g1");
        const endpoint = c1.state.endpoint;
        expect(kc.clusters[0].cluster).toEqual({
            server: `https://${endpoint}`,
            "certificate-authority-data": c1.state.masterAuth.clusterCaCertificate,
        });
        expect(kc.users[0].user.exec).toMatchObject({
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            provideClusterInfo: true,
        });
        const provider = one(run, "g1-k8s");
        // The identity changes with the cluster (endpoint and CA), not with its rebuilt-identical `id`;
        // Secrets are updated in place (components/platforms/provider.ts).
        expect(provider.inputs.clusterIdentifier).toBe(
            `multicluster-mesh/gke/g1/${instanceDigest(endpoint, c1.state.masterAuth.clusterCaCertificate)}`,
        );
        expect(provider.inputs.clusterIdentifier).not.toContain(c1.id);
        expect(provider.inputs.enableSecretMutable).toBe("true"); // provider config travels as strings
        expect(provider.secretPaths).toContain("kubeconfig");
        expect(dependsOn(run, "g1-k8s", "g1-nodes")).toBe(true);
        // Peers read the GKE API server at its endpoint.
        expect(remoteKubeconfig(run, "m", "g1", "g2").clusters[0].cluster.server).toBe(`https://${endpoint}`);
        // Different mesh networks: no pod-to-pod firewall.
        expect(ofType(run, "gcp:compute/firewall:Firewall")).toEqual([]);
        expect(run.outputs.clusters).toMatchObject({
            g1: { platform: "gke", cloud: "gcp", region: "us-central1", zone: null, endpoint: `https://${endpoint}` },
            g2: { region: "europe-west1", zone: "europe-west1-b" },
        });
    });

    it("lets the pods of clusters on one network reach each other, and nothing more", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "primary-remote",
            trust: FAST,
            clusters: [gke("p", 1, { network: "shared" }), gke("r", 2, { network: "shared", role: "remote" }, { location: "us-east1-b" })],
        });
        expect(run.error).toBeUndefined();
        expect(ofType(run, "gcp:compute/network:Network")).toHaveLength(1);
        const fw = ofType(run, "gcp:compute/firewall:Firewall");
        expect(fw).toHaveLength(1);
        expect(fw[0].inputs).toMatchObject({
            network: "m-shared",
            direction: "INGRESS",
            sourceRanges: ["10.104.0.0/14", "10.108.0.0/14"],
            targetTags: ["m-p-node", "m-r-node"],
            allows: [{ protocol: "tcp" }],
        });
        expect(fw[0].inputs.allows).toHaveLength(1);
        expect(fw[0].inputs.sourceRanges).not.toContain("0.0.0.0/0");
    });

    it("uses an existing VPC by name without creating one", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [gke("g1", 1, { network: "n1" }, { network: "corp-vpc" }), gke("g2", 2, { network: "n1" }, { network: "corp-vpc" })],
        });
        expect(run.error).toBeUndefined();
        expect(ofType(run, "gcp:compute/network:Network")).toEqual([]);
        expect(one(run, "g1-subnet").inputs.network).toBe("corp-vpc");
        expect(ofType(run, "gcp:compute/firewall:Firewall")[0].inputs.network).toBe("corp-vpc");
    });
});

describe("EKS", () => {
    it("builds the VPC, IAM with attachments ordered first, access entries, node group and an aws-cli kubeconfig", async () => {
        const arn = "arn:aws:iam::123456789012:role/platform-ci";
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [
                eks(
                    "e1",
                    16,
                    { network: "n1", protect: true },
                    { accessEntries: [arn], nodeGroup: { instanceTypes: ["m6i.xlarge"], desired: 3, min: 2, max: 5 } },
                ),
                eks("e2", 32, { network: "n2" }, { region: "eu-west-1", privateSubnets: true }),
            ],
        });
        expect(run.error).toBeUndefined();
        expect(
            ofType(run, "pulumi:providers:aws")
                .map((p) => [p.name, p.inputs.region])
                .sort(),
        ).toEqual([
            ["aws-eu-west-1", "eu-west-1"],
            ["aws-us-east-1", "us-east-1"],
        ]);
        for (const r of run.sim.registrations.filter((x) => x.type.startsWith("aws:") && x.name.startsWith("e1-")))
            expect(r.providerName).toBe("aws-us-east-1");
        expect(one(run, "e1-vpc").inputs).toMatchObject({ cidrBlock: "10.16.0.0/16", enableDnsSupport: true, enableDnsHostnames: true });
        // Public subnets in two zones from the region's available zones, tagged for load balancers.
        const pub = ["e1-public-0", "e1-public-1"].map((n) => one(run, n).inputs);
        expect(pub.map((s) => [s.cidrBlock, s.availabilityZone, s.mapPublicIpOnLaunch])).toEqual([
            ["10.16.0.0/20", "us-east-1a", true],
            ["10.16.16.0/20", "us-east-1b", true],
        ]);
        for (const s of pub) expect(s.tags).toMatchObject({ "kubernetes.io/role/elb": "1", "kubernetes.io/cluster/e1": "shared" });
        expect(run.sim.registrations.some((r) => r.name === "e1-nat")).toBe(false);
        // Private variant: nodes behind a NAT gateway, in private subnets.
        expect(one(run, "e2-nat").inputs.subnetId).toBe(one(run, "e2-public-0").id);
        expect(one(run, "e2-nodes").inputs.subnetIds).toEqual([one(run, "e2-private-0").id, one(run, "e2-private-1").id]);
        expect(one(run, "e2-private-0").inputs.tags).toMatchObject({ "kubernetes.io/role/internal-elb": "1" });
        // ... and the node group waits for the NAT route of those subnets.
        const assoc = run.sim.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation").filter((r) => r.name.startsWith("e2-private-"));
        expect(assoc).toHaveLength(2);
        for (const a of assoc) expect(one(run, "e2-nodes").dependencies).toContain(a.urn);
        // Nodes in public subnets wait for those subnets' route-table associations (the internet route).
        const publicAssoc = run.sim
            .ofType("aws:ec2/routeTableAssociation:RouteTableAssociation")
            .filter((r) => r.name.startsWith("e1-public-"));
        expect(publicAssoc).toHaveLength(2);
        for (const a of publicAssoc) expect(one(run, "e1-nodes").dependencies).toContain(a.urn);

        // IAM, and the ordering the engine sees.
        expect(JSON.parse(one(run, "e1-cluster-role").inputs.assumeRolePolicy).Statement[0].Principal.Service).toBe("eks.amazonaws.com");
        expect(JSON.parse(one(run, "e1-node-role").inputs.assumeRolePolicy).Statement[0].Principal.Service).toBe("ec2.amazonaws.com");
        expect(one(run, "e1-cluster-AmazonEKSClusterPolicy").inputs.policyArn).toBe("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy");
        for (const p of ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])
            expect(dependsOn(run, "e1-nodes", `e1-node-${p}`)).toBe(true);
        expect(dependsOn(run, "e1-cluster", "e1-cluster-AmazonEKSClusterPolicy")).toBe(true);

        const cl = one(run, "e1-cluster");
        expect(cl.inputs).toMatchObject({
            name: "e1",
            version: "1.33",
            accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
            kubernetesNetworkConfig: { serviceIpv4Cidr: "172.20.0.0/16" },
            vpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true },
        });
        expect(cl.protect).toBe(true);
        expect(one(run, "e1-nodes").inputs).toMatchObject({
            clusterName: "e1",
            instanceTypes: ["m6i.xlarge"],
            amiType: "AL2023_x86_64_STANDARD",
            scalingConfig: { desiredSize: 3, minSize: 2, maxSize: 5 },
        });
        expect(one(run, "e1-access-0").inputs).toMatchObject({ clusterName: "e1", principalArn: arn, type: "STANDARD" });
        expect(one(run, "e1-access-0-admin").inputs).toMatchObject({
            principalArn: arn,
            policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope: { type: "cluster" },
        });

        // Kubeconfig: aws eks get-token with the cluster name and region; provider identity and order.
        const kc = providerKubeconfig(run, "e1");
        expect(kc.clusters[0].cluster).toEqual({
            server: cl.state.endpoint,
            "certificate-authority-data": cl.state.certificateAuthority.data,
        });
        expect(kc.users[0].user.exec).toMatchObject({
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", "e1", "--region", "us-east-1", "--output", "json"],
        });
        expect(one(run, "e1-k8s").inputs.clusterIdentifier).toBe(
            `multicluster-mesh/eks/e1/${instanceDigest(cl.state.endpoint, cl.state.createdAt)}`,
        );
        expect(one(run, "e1-k8s").inputs.enableSecretMutable).toBe("true"); // provider config travels as strings
        expect(dependsOn(run, "e1-k8s", "e1-nodes")).toBe(true);
        expect(dependsOn(run, "e1-k8s", "e1-access-0")).toBe(true);

        // The east-west gateway asks for an NLB; AWS answers with a hostname, exported as such.
        expect(one(run, "m-e1-eastwest-lb").inputs.metadata.annotations).toEqual({
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
        });
        expect((run.outputs.gatewayAddresses as Record<string, string>).e1).toMatch(/\.elb\.simulated\.example$/);
        expect(run.outputs.clusters).toMatchObject({
            e1: { platform: "eks", cloud: "aws", region: "us-east-1", endpoint: cl.state.endpoint },
        });
    });

    it("keeps user annotations over the NLB default and uses explicit zones without an invoke", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [
                eks(
                    "e1",
                    16,
                    {
                        network: "n1",
                        eastWestGateway: { serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" } },
                    },
                    { availabilityZones: ["us-east-1c", "us-east-1d", "us-east-1f"] },
                ),
                cluster("x", 9, { network: "n2" }),
            ],
        });
        expect(run.error).toBeUndefined();
        expect(one(run, "m-e1-eastwest-lb").inputs.metadata.annotations).toEqual({
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
        });
        expect(["e1-public-0", "e1-public-1", "e1-public-2"].map((n) => one(run, n).inputs.availabilityZone)).toEqual([
            "us-east-1c",
            "us-east-1d",
            "us-east-1f",
        ]);
    });

    it("primary-remote on EKS: the remote reaches istiod through the hostname with injectionURL/validationURL on 15017", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "primary-remote",
            trust: FAST,
            clusters: [eks("p", 16, { network: "n1" }), eks("r", 32, { network: "n2", role: "remote" })],
        });
        expect(run.error).toBeUndefined();
        const host = (run.outputs.gatewayAddresses as Record<string, string>).p;
        expect(host).toMatch(/[a-z]/);
        expect(one(run, "m-r-istiod").inputs.values).toMatchObject({
            profile: "remote",
            global: { remotePilotAddress: host },
            istiodRemote: { injectionURL: `https://${host}:15017/inject/cluster/r/net/n2` },
        });
        expect(one(run, "m-r-istiod").inputs.values.istiodRemote.injectionPath).toBeUndefined();
        const validation = {
            validationURL: `https://${host}:15017/validate`,
            validationCABundle: Buffer.from(run.outputs.rootCertPem as string).toString("base64"),
        };
        expect(one(run, "m-r-base").inputs.values).toEqual({ profile: "remote", base: validation });
        // Both validating webhooks (base's and istiod's) on the primary's host, and its istiod's
        // certificate names that host; the host is known before istiod (the Service comes first).
        expect(one(run, "m-r-istiod").inputs.values.base).toEqual(validation);
        expect(one(run, "m-p-istiod").inputs.values.env).toEqual({ ISTIOD_CUSTOM_HOST: host });
        expect(dependsOn(run, "m-p-istiod", "m-p-eastwest-lb")).toBe(true);
        expect(one(run, "m-p-eastwest-lb").finishedAt).toBeLessThanOrEqual(one(run, "m-p-istiod").startedAt);
    });
});

describe("kind", () => {
    it("creates clusters with the kind CLI, reads the container address for peers, and gives each MetalLB its own slice", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [
                { name: "k1", network: "n1", platform: "kind" },
                { name: "k2", network: "n2", platform: "kind", kind: { podSubnet: "10.50.0.0/16", serviceSubnet: "10.255.50.0/24" } },
            ],
        });
        expect(run.error).toBeUndefined();
        const create = one(run, "k1-cluster");
        expect(create.inputs.create).toBe("kind create cluster --name k1 --config - --wait 180s");
        expect(create.inputs.delete).toBe("kind delete cluster --name k1");
        expect(YAML.parse(create.inputs.stdin)).toEqual({
            kind: "Cluster",
            apiVersion: "kind.x-k8s.io/v1alpha4",
            networking: { podSubnet: "10.10.0.0/16", serviceSubnet: "10.255.10.0/24" },
            nodes: [{ role: "control-plane", image: "kindest/node:v1.33.1" }],
        });
        expect(YAML.parse(one(run, "k2-cluster").inputs.stdin).networking).toEqual({
            podSubnet: "10.50.0.0/16",
            serviceSubnet: "10.255.50.0/24",
        });
        // The kubeconfig holds a client key: never logged, kept secret.
        const kcCmd = one(run, "k1-kubeconfig");
        expect(kcCmd.inputs).toMatchObject({ create: "kind get kubeconfig --name k1", logging: "none" });
        expect(kcCmd.additionalSecretOutputs).toContain("stdout");
        expect(dependsOn(run, "k1-kubeconfig", "k1-cluster")).toBe(true);
        // A changed kind config deletes the old cluster first (`kind create` refuses an existing name),
        // and the re-created cluster's new Command ID is the provider's new identity.
        expect(create.deleteBeforeReplace).toBe(true);
        expect(one(run, "k1-k8s").inputs.clusterIdentifier).toBe(`multicluster-mesh/kind/k1/${create.id}`);
        expect(one(run, "k1-k8s").inputs.enableSecretMutable).toBe("true"); // provider config travels as strings
        expect(one(run, "k1-k8s").secretPaths).toContain("kubeconfig");
        // Peers use the control-plane container's address, not the host's 127.0.0.1 port.
        const ip = one(run, "k1-address").state.stdout.trim();
        expect(ip).toMatch(/^172\.18\.0\.\d+$/);
        expect(remoteKubeconfig(run, "m", "k1", "k2").clusters[0].cluster.server).toBe(`https://${ip}:6443`);
        expect(providerKubeconfig).toBeDefined();
        // MetalLB: pinned chart, address pools from distinct slices of the kind network.
        expect(one(run, "k1-metallb").inputs).toMatchObject({
            name: "metallb",
            chart: "metallb",
            version: "0.14.9",
            repositoryOpts: { repo: "https://metallb.github.io/metallb" },
            namespace: "metallb-system",
            // Helm's wait: the webhook that admits the pool is served once the release is done.
            skipAwait: false,
        });
        const pools = ["k1", "k2"].map((c) => one(run, `${c}-address-pool`).inputs.spec.addresses[0] as string);
        expect(pools).toEqual(["172.18.255.235-172.18.255.254", "172.18.255.215-172.18.255.234"]);
        expect(dependsOn(run, "k1-address-pool", "k1-metallb")).toBe(true);
        // The east-west gateway's Service needs an address: it waits for the pool.
        expect(dependsOn(run, "m-k1-eastwest-lb", "k1-address-pool")).toBe(true);
        expect(run.outputs.clusters).toMatchObject({ k1: { platform: "kind", cloud: "local", endpoint: `https://${ip}:6443` } });
    });
});

describe("a mixed GKE + EKS + existing mesh", () => {
    it("wires every pair across clouds with each cluster's own API server and provider", async () => {
        const run = await runMesh({
            meshId: "m",
            topology: "multi-primary",
            trust: FAST,
            clusters: [gke("g", 1, { network: "gcp" }), eks("e", 16, { network: "aws" }), cluster("x", 3, { network: "dc" })],
        });
        expect(run.error).toBeUndefined();
        const servers: Record<string, string> = {
            g: `https://${one(run, "g-cluster").state.endpoint}`,
            e: one(run, "e-cluster").state.endpoint,
            x: "https://10.3.0.1:6443",
        };
        for (const s of ["g", "e", "x"]) {
            for (const t of ["g", "e", "x"]) {
                if (s === t) continue;
                expect(remoteKubeconfig(run, "m", s, t).clusters[0].cluster.server).toBe(servers[s]);
                expect(one(run, `m-${s}-remote-to-${t}`).providerName).toBe(`${t}-k8s`);
                // One reader token per reading cluster (remoteSecrets.tokens: perReader, the default), minted in the source.
                expect(one(run, `m-${s}-remote-token-${t}`).providerName).toBe(`${s}-k8s`);
            }
        }
        for (const r of run.k8s) expect(["g-k8s", "e-k8s", "x-k8s"]).toContain(r.providerName);
        const addr = run.outputs.gatewayAddresses as Record<string, string>;
        expect(addr.g).toMatch(/^203\.0\.113\./);
        expect(addr.e).toMatch(/elb/);
        // kubeconfigs output: secret, one per cluster.
        expect(await pulumi.isSecret(run.rawOutputs.kubeconfigs as pulumi.Output<unknown>)).toBe(true);
        expect(Object.keys(run.outputs.kubeconfigs as object).sort()).toEqual(["e", "g", "x"]);
        expect(run.outputs.clusters).toMatchObject({ g: { cloud: "gcp" }, e: { cloud: "aws" }, x: { cloud: "existing" } });
    });
});

describe("the simulated cloud", () => {
    it("throws on an invoke it does not know", async () => {
        const sim = new Simulator();
        await sim.install("multicluster-mesh", "test");
        expect(() => sim.invoke({ token: "aws:index/getRegion:getRegion", inputs: {} })).toThrow(
            /unmocked invoke aws:index\/getRegion:getRegion/,
        );
        expect(() => sim.invoke({ token: "gcp:container/getEngineVersions:getEngineVersions", inputs: {} })).toThrow(/unmocked invoke/);
        // Through the runtime the program sees a failed invoke (the SDK drops the mock's message).
        await expect(pulumi.runtime.invoke("aws:index/getRegion:getRegion", {})).rejects.toBeInstanceOf(Error);
        // The ones the program uses are answered as the cloud would.
        expect(sim.invoke({ token: "aws:index/getPartition:getPartition", inputs: {} }).partition).toBe("aws");
    });
});
