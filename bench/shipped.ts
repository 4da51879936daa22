// Benchmarks measure the code that ships: dist/ as `npm run build` (tsc) writes it, which is what
// `node dist/main.js agent` runs, not src/ compiled on the fly by tsx. Measured side by side in one
// run on a quiet machine (bench/README.md, HTTP): the same placement and batch-writer code ran 1.3-2.5x slower from src/
// through tsx's loader than from dist/ (10,000 16-byte keys: hash + jump 5.9-7.9 ms against 2.5-3.1 ms;
// the batch writer 13-17 ms against 8-10 ms), so numbers taken on src/ understated the product.
// Types still come from src/ (`typeof import('../src/...')`), so a bench cannot drift from the API.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = new URL('../dist/', import.meta.url);
const SRC = new URL('../src/', import.meta.url);

/** The built module at `path` (relative to dist/, e.g. 'placement/index.js'); refuses a missing or stale build. */
export async function shipped<T>(path: string): Promise<T> {
  const built = new URL(path, DIST);
  const source = new URL(path.replace(/\.js$/, '.ts'), SRC);
  if (!existsSync(built)) throw new Error(`bench: ${fileURLToPath(built)} is missing: run \`npm run build\` first`);
  if (existsSync(source) && statSync(source).mtimeMs > statSync(built).mtimeMs) {
    throw new Error(`bench: ${fileURLToPath(built)} is older than its source: run \`npm run build\` first`);
  }
  return (await import(built.href)) as T;
}
