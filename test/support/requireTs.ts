// Vitest runs the repository's TypeScript through its own module runner, which does not see
// `require` calls. The platform registry loads each platform's builder with `require` where
// clusters are created (components/platforms/<name>/index.ts `builder`), as Node, ts-node and the
// compiled library do; tsx's CommonJS hook lets Node's own `require` load those .ts files here too.
import { register } from "tsx/cjs/api";

register();
