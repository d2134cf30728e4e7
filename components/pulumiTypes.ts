// Pulumi's names for what this program registers, each spelled once: the project (also the
// namespace of its config keys and of its component type tokens) and the resource type tokens the
// offline tools, the simulator and the policy pack match on. A cloud's own types (gcp:…, aws:…) are
// facts of its platform and live in its folder (components/platforms/<name>/).
// test/sourceRules.test.ts refuses a type token spelled anywhere else.

/** The Pulumi project, the namespace of the stack config (`multicluster-mesh:mesh`) and of the component types. */
export const PROJECT = "multicluster-mesh";

/** A component's type token: `multicluster-mesh:<module>:<Type>`. */
export function componentType(module: string, type: string): string {
    return `${PROJECT}:${module}:${type}`;
}

/** True for one of this program's component types. */
export function isComponentType(type: string): boolean {
    return type.startsWith(`${PROJECT}:`);
}

/** Resource types of the packages shared by the platforms (Pulumi itself, Kubernetes, TLS, local commands). */
export const TYPES = {
    stack: "pulumi:pulumi:Stack",
    stackReference: "pulumi:pulumi:StackReference",
    k8sProvider: "pulumi:providers:kubernetes",
    release: "kubernetes:helm.sh/v3:Release",
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    service: "kubernetes:core/v1:Service",
    /** Istio's revision tags are MutatingWebhookConfigurations (components/upgrade.ts). */
    mutatingWebhook: "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    privateKey: "tls:index/privateKey:PrivateKey",
    certRequest: "tls:index/certRequest:CertRequest",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
    /** pulumi-command's local command (kind's clusters are made by `kind create cluster`). */
    command: "command:local:Command",
} as const;
