// The agent as the package ships it: one minified ESM bundle of src/ and its dependencies in dist/bundle/
// (with source maps: run node with --enable-source-maps to see src/ lines in stacks), and dist/main.js, the
// bin, replaced by a two-line entry that loads it. Loading one file instead of some hundreds of modules is
// most of what a start costs before the agent does anything (docs/operations.md, "Start-up").
// Commands the agent loads only on demand (sim, placement, keys, inspect) stay separate chunks.
// Runs after tsc (npm run build): dist/ keeps tsc's per-module output for tests and tools that import it.
//
// Layout rule: dist/bundle/ is one directory below dist/, as every src/ module that reads a shipped file
// is one below src/ (../../proto, ../../docs/openapi.json, ../../ui, ../../wasm): the same relative URL
// finds the file from src/, dist/ and the bundle. The table worker is its own entry next to the chunks,
// where src/runtime/table-builder.ts looks for it.
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${ROOT}dist/bundle`;

await rm(OUT, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/main.ts', 'table-worker': 'src/runtime/table-worker.ts' },
  outdir: OUT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  splitting: true,
  minify: true,
  sourcemap: true,
  // Stable chunk names: the same source gives the same files.
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
  // Dependencies written as CommonJS call require() for node's built-in modules.
  banner: { js: "import { createRequire as __swimringRequire } from 'node:module'; const require = __swimringRequire(import.meta.url);" },
});
writeFileSync(
  `${ROOT}dist/main.js`,
  "#!/usr/bin/env node\n// The bin: the bundled agent (scripts/build-bundle.mjs). dist/cli/ and the rest are tsc's per-module output.\nimport './bundle/main.js';\n",
  { mode: 0o755 },
);
