// Checks that several platforms share: CIDR syntax and size, and ranges that must not overlap.
import { Cidr, formatCidr, overlaps, parseCidr } from "../cidr";
import type { Say } from "./types";

/** Kubernetes' tested scale: "No more than 5,000 nodes" (https://kubernetes.io/docs/setup/best-practices/cluster-large/). */
export const K8S_MAX_NODES = 5_000;

export function checkCidr(value: unknown, path: string, say: Say, maxPrefix = 29): Cidr | undefined {
    if (typeof value !== "string") return undefined;
    const c = parseCidr(value);
    if (!c) say(path, `"${value}" is not an IPv4 CIDR (a.b.c.d/n with no host bits set, n ≤ 32)`);
    else if (c.prefix > maxPrefix) say(path, `"${value}" is too small; use /${maxPrefix} or larger`);
    return c;
}

export function checkDisjoint(entries: [string, Cidr | undefined][], say: Say): void {
    for (let i = 0; i < entries.length; i++) {
        for (let j = i + 1; j < entries.length; j++) {
            const [pa, a] = entries[i];
            const [pb, b] = entries[j];
            if (a && b && overlaps(a, b)) say(pb, `${formatCidr(b)} overlaps ${pa} (${formatCidr(a)}); give each range its own addresses`);
        }
    }
}
