// The resources of a cluster's revisions (components/upgrade.ts has the layout per phase): one istiod
// Helm release per revision (on a remote, the remote profile), and the revision tags as webhook
// objects pointing at the tags' revision. Called by ControlPlane in place of its single istiod release.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "./istio";
import { imageValues, releaseChart } from "./istioSource";
import { type ClusterPlan, deepMerge, type MeshPlan, type Values } from "./meshPlan";
import { istiodName, type RevisionRelease, revisionValues, tagWebhookConfiguration } from "./upgrade";

export interface RevisionResourcesArgs {
    /** The ControlPlane's name: releases are `<name>-istiod` (no revision) and `<name>-istiod-<rev>`. */
    name: string;
    opts: pulumi.CustomResourceOptions;
    mesh: MeshPlan;
    plan: ClusterPlan;
    namespace: pulumi.Input<string>;
    /** The cluster's istiod values as the running version gets them (a remote's from remoteValues). */
    istiodValues: pulumi.Input<Values>;
    /** What every istiod release waits for: base (CRDs), cacerts, a remote's route to its primary. */
    dependsOn: pulumi.Resource[];
}

export interface RevisionResources {
    /** Revision ("" = unrevisioned) → its istiod release. */
    releases: Record<string, k8s.helm.v3.Release>;
    /** The release of the revision the tags point at (what injects new pods here). */
    tagTarget: k8s.helm.v3.Release;
    tags: k8s.admissionregistration.v1.MutatingWebhookConfiguration[];
}

/** A revision's istiod values: its own version's images (imageValues), its revision, its webhook where the default tag replaced it. */
export function releaseValues(mesh: MeshPlan, values: Values, release: RevisionRelease): Values {
    const images = imageValues({ version: release.version, hub: mesh.chart.hub, imagePullSecrets: mesh.chart.imagePullSecrets }).istiod;
    return revisionValues(release.version === mesh.chart.version ? values : deepMerge(values, images), release);
}

export function revisionResources(args: RevisionResourcesArgs): RevisionResources {
    const { mesh, plan } = args;
    const revs = plan.revisions;
    // Kept a plain object where it is one, so a secret leaf (a value from secret stack config) stays the
    // only secret path of the release's values instead of making all of them secret.
    const input = args.istiodValues;
    const valuesOf = (rel: RevisionRelease): pulumi.Input<Values> =>
        pulumi.Output.isInstance(input) ? input.apply((v) => releaseValues(mesh, v, rel)) : releaseValues(mesh, input as Values, rel);
    const target = revs.releases.find((r) => r.revision === revs.tagTarget) ?? revs.releases[revs.releases.length - 1];
    const release = (rel: RevisionRelease, extra: pulumi.Resource[]) =>
        new k8s.helm.v3.Release(
            rel.revision === "" ? `${args.name}-istiod` : `${args.name}-istiod-${rel.revision}`,
            {
                // Explicit release names: an unnamed Release gets a random suffix
                // (https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/#name_nodejs).
                name: istiodName(rel.revision),
                ...releaseChart(mesh.revisions.sources[rel.from], CHARTS.istiod.chart),
                version: rel.version,
                namespace: args.namespace,
                values: valuesOf(rel),
                // See ControlPlane: never reuse a previous release's values.
                resetValues: true,
            },
            { ...args.opts, dependsOn: [...args.dependsOn, ...extra] },
        );
    const releases: Record<string, k8s.helm.v3.Release> = {};
    releases[target.revision] = release(target, []);
    // The tags' webhooks call the target revision's istiod Service, so that release comes first; the
    // unrevisioned istiod's own webhook goes only after the default tag serves its selectors, so no
    // pod is created without an injector in between (while both exist, the injector that runs last
    // re-injects: pkg/kube/inject/inject.go stripPod).
    const tags = revs.tagObjects.map((tag) => {
        // The name and labels are fixed; only the webhooks' client config follows the values (a remote's, its primary's address).
        const metadata = tagWebhookConfiguration(tag, target.revision, {}).metadata as k8s.types.input.meta.v1.ObjectMeta;
        // They read only the injection path or URL and the injector's selectors from the values, never a
        // secret leaf: not secret because another value is.
        const webhooks = pulumi.unsecret(
            pulumi
                .output(valuesOf(target))
                .apply(
                    (v) =>
                        tagWebhookConfiguration(tag, target.revision, v as Values)
                            .webhooks as k8s.types.input.admissionregistration.v1.MutatingWebhook[],
                ),
        );
        return new k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            `${args.name}-tag-${tag}`,
            { metadata, webhooks },
            { ...args.opts, dependsOn: [releases[target.revision]] },
        );
    });
    for (const rel of revs.releases) if (rel !== target) releases[rel.revision] = release(rel, rel.ownWebhook ? [] : tags);
    return { releases, tagTarget: releases[target.revision], tags };
}
