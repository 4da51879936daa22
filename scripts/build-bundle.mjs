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
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * zod's namespace re-exports every translation of its messages (`z.locales`, ~250 KB minified, a
 * tenth of what a start compiles); the agent uses none but English, which zod installs itself from
 * locales/en.js. The bundle gets a locales/index.js that holds English alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: relative(ROOT, fileURLToPath(new URL('../locales/en.js', pathToFileURL(args.importer)))), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(`./${args.path.split(sep).join('/')}`)};`,
      resolveDir: ROOT,
    }));
  },
};

/**
 * Required by dependencies only on paths the agent never takes, so left out of the bundle (node
 * resolves them from node_modules should one ever be): grpc-js loads @grpc/proto-loader only for its
 * channelz and ORCA services; fastify loads its default schema compilers (ajv, fast-json-stringify)
 * only when the server is created without compilers of its own, and src/http/server.ts gives it zod's.
 */
const NOT_ON_THE_AGENTS_PATHS = ['@grpc/proto-loader', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler'];

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
  external: NOT_ON_THE_AGENTS_PATHS,
  plugins: [zodEnglishOnly],
  // Dependencies written as CommonJS call require() for node's built-in modules.
  banner: { js: "import { createRequire as __swimringRequire } from 'node:module'; const require = __swimringRequire(import.meta.url);" },
});
writeFileSync(
  `${ROOT}dist/main.js`,
  "#!/usr/bin/env node\n// The bin: the bundled agent (scripts/build-bundle.mjs). dist/cli/ and the rest are tsc's per-module output.\nimport './bundle/main.js';\n",
  { mode: 0o755 },
);
