// Prints, as JSON, every module a fresh Node process loads to import the module named on its command
// line (tsx's CommonJS loader, as `npm run plan` and ts-node load the program): test/sdkFree.test.ts.
//   tsx test/support/loadedModules.ts ./components/meshConfig
import * as path from "node:path";

const target = path.resolve(process.argv[2]);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the point is what a plain require loads
require(target);
console.log(JSON.stringify(Object.keys(require.cache)));
