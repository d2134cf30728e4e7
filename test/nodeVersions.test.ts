// Node versions (issue 19 item 9): the project supports what package.json's `engines` says, and
// `npm ci` on any such Node installs without an EBADENGINE warning, because every package the lockfile
// installs accepts it. kubernetes-models 5.1.0 (and its @kubernetes-models/* 5.x/6.x) needs Node ≥ 22,
// so it is pinned at 4.5.1 (Node ≥ 14), which models every API the rendered charts use (the full render
// of every stack passes its schema checks with it: test/render.test.ts with charts at hand).
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; dev?: boolean }>;
};

describe("Node versions", () => {
    it("every package npm ci installs accepts the lowest Node of each line the project supports", () => {
        // The lowest version of each branch of `engines` (20.19.0, 22.13.0, 24.0.0): eslint 10 asks for
        // ^20.19.0 || ^22.13.0 || >=24, so the project says the same instead of >=20.19 (22.0–22.12 would warn).
        const lowest = new semver.Range(pkg.engines.node).set.map((set) => semver.minVersion(set.map((c) => c.value).join(" "))!.version);
        expect(lowest).toEqual(["20.19.0", "22.13.0", "24.0.0"]);
        const refusing: string[] = [];
        for (const [where, p] of Object.entries(lock.packages)) {
            const range = Array.isArray(p.engines) ? undefined : p.engines?.node;
            if (!where || !range) continue;
            for (const node of [...lowest, process.versions.node])
                if (!semver.satisfies(node, range))
                    refusing.push(`${where.replace(/^node_modules\//, "")} (node ${range}) refuses ${node}`);
        }
        expect(refusing).toEqual([]);
    });

    it("this machine's Node is one the project supports", () => {
        expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    });
});
