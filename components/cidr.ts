// IPv4 CIDR arithmetic for network planning: parse, overlap, carve subnets, pick address ranges.
// Small and exact on purpose: the checks only need IPv4 prefixes, and every function is pure.

export interface Cidr {
    base: number; // network address as an unsigned 32-bit integer
    prefix: number;
}

export function parseIpv4(ip: string): number | undefined {
    const parts = ip.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Parse `a.b.c.d/n`; undefined when malformed or when host bits are set (10.0.0.1/8). */
export function parseCidr(s: string): Cidr | undefined {
    const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
    if (!m) return undefined;
    const ip = parseIpv4(m[1]);
    const prefix = Number(m[2]);
    if (ip === undefined || prefix > 32) return undefined;
    const size = 2 ** (32 - prefix);
    if (ip % size !== 0) return undefined;
    return { base: ip, prefix };
}

export function cidrSize(c: Cidr): number {
    return 2 ** (32 - c.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

export function formatCidr(c: Cidr): string {
    return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** The `index`-th subnet of `newPrefix` inside `parent` (like Terraform's cidrsubnet). */
export function subnet(parent: string, newPrefix: number, index: number): string {
    const p = parseCidr(parent);
    if (!p || newPrefix < p.prefix || newPrefix > 32) throw new Error(`cannot carve /${newPrefix} subnets from ${parent}`);
    const count = 2 ** (newPrefix - p.prefix);
    if (index < 0 || index >= count) throw new Error(`${parent} holds only ${count} /${newPrefix} subnets`);
    return formatCidr({ base: p.base + index * 2 ** (32 - newPrefix), prefix: newPrefix });
}

/**
 * A slice of `count` addresses for cluster number `slot`, taken from the tail of `subnet`, as
 * Istio's kind provisioner does for MetalLB (common/scripts/kind_provisioner.sh in istio/istio at 1.30.3): slices never overlap and
 * stay clear of the low addresses Docker hands to containers.
 */
export function addressSlice(subnetCidr: string, slot: number, count = 20): { first: string; last: string } {
    const c = parseCidr(subnetCidr);
    if (!c) throw new Error(`not an IPv4 CIDR: ${subnetCidr}`);
    const end = c.base + cidrSize(c) - 2; // skip the broadcast address
    const last = end - slot * count;
    const first = last - count + 1;
    if (first <= c.base + 255) throw new Error(`${subnetCidr} is too small for ${slot + 1} slices of ${count} addresses`);
    return { first: formatIpv4(first), last: formatIpv4(last) };
}
