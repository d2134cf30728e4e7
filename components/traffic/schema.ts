// The zod schema of the mesh config's `traffic` block (components/meshConfig.ts embeds it). Shapes
// only: every rule with a message of its own lives in validate.ts, so one run reports them all.
import { z } from "zod";

const outlierDetectionSchema = z.strictObject({
    consecutive5xxErrors: z.number().optional(),
    consecutiveGatewayErrors: z.number().optional(),
    interval: z.string().optional(),
    baseEjectionTime: z.string().optional(),
    maxEjectionPercent: z.number().optional(),
    minHealthPercent: z.number().optional(),
});

const policySchema = z.strictObject({
    host: z.string(),
    namespace: z.string().optional(),
    mode: z.enum(["locality", "failover", "weighted"], { error: "must be locality, failover or weighted" }),
    failover: z.array(z.strictObject({ from: z.string(), to: z.string() })).optional(),
    failoverPriority: z.array(z.string()).optional(),
    weights: z.record(z.string(), z.number()).optional(),
    outlierDetection: outlierDetectionSchema.optional(),
});

export const trafficSchema = z.strictObject({
    dnsProxying: z.boolean().default(false),
    clusterLocal: z.array(z.string()).default([]),
    namespaces: z.array(z.strictObject({ name: z.string(), clusters: z.array(z.string()).optional() })).default([]),
    outlierDetection: outlierDetectionSchema.default({}),
    policies: z.array(policySchema).default([]),
    dependencies: z.array(z.strictObject({ client: z.strictObject({ namespace: z.string() }), calls: z.array(z.string()) })).default([]),
    objects: z.array(z.record(z.string(), z.unknown())).default([]),
});

/** The block's default: nothing at all (no object, no value changes). */
export const TRAFFIC_DEFAULT: z.output<typeof trafficSchema> = trafficSchema.parse({});

export type TrafficConfig = z.output<typeof trafficSchema>;
export type PolicyConfig = TrafficConfig["policies"][number];
export type OutlierDetectionConfig = z.output<typeof outlierDetectionSchema>;
