// Prints, as JSON, the modules a fresh Node process has loaded after importing each module named on
// its command line, in order (tsx's CommonJS loader, as `npm run plan` and ts-node load the program):
// test/sdkFree.test.ts. The first list is the first module's alone; each later one is cumulative.
//   tsx test/support/loadedModules.ts ./components/meshConfig ./components/index
import * as path from "node:path";

const lists: string[][] = [];
for (const m of process.argv.slice(2)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the point is what a plain require loads
    require(path.resolve(m));
    lists.push(Object.keys(require.cache));
}
console.log(JSON.stringify(lists));
