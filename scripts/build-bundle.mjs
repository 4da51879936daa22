// The command line as the package ships it: one minified CommonJS bundle of src/ and its dependencies,
// dist/bundle/main.cjs (with a source map: run node with --enable-source-maps to see src/ lines in
// stacks), and dist/main.js, the bin, built from src/bin.ts: it runs the bundle, the agent from V8's code
// cache (src/cli/code-cache.ts; scripts/build-code-cache.mjs writes the cache after this). Loading one
// file instead of some hundreds of modules, and from compiled bytecode, is most of what a start costs
// before the agent does anything (docs/operations.md, "Start-up"). CommonJS because V8's code cache is
// reachable from Node 20 only through vm.Script; one file because CommonJS bundles do not split: the
// commands an agent never runs (sim, placement, keys, inspect) are in it but evaluated only when asked
// for, and V8 compiles none of their functions until they run.
// Runs after tsc (npm run build): dist/ keeps tsc's per-module output for tests and tools that import it.
//
// Layout rule: dist/bundle/ is one directory below dist/, as every src/ module that reads a shipped file
// is one below src/ (../../proto, ../../docs/openapi.json, ../../ui, ../../wasm): the same relative URL
// finds the file from src/, dist/ and the bundle. The table worker is its own bundle (ESM) next to the
// main one, where src/runtime/table-builder.ts looks for it.
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
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
 * Modules the bundle loads at their first use instead of when the module requiring them loads. Each is
 * required at the top of a module on the start path but used only later, or never by the agent:
 * fastify's server.js requires node's https and http2 for servers the agent never creates (its app
 * and ops APIs are plain HTTP); prom-client requires https for its push gateway, which the
 * agent never uses (its zlib, taken apart at require, stays eager); and src/ reaches @grpc/grpc-js from modules the agent loads before its app API
 * listens, while the gRPC server is attached after it (src/runtime/agent.ts). node's http2 alone loads
 * tls, https and a dozen internal modules. `importers` says which modules get the lazy form; everyone
 * else gets the module itself.
 */
const LAZY_MODULES = [
  // node's assert (and the dozen internal modules it loads) is called by fastify, find-my-way,
  // light-my-request and sonic-boom on their set-up paths, always with a message, and fails only on a
  // bug: the lazy form below checks the value itself and hands a falsy one to the real assert.
  { module: 'assert', importers: /(^|[\\/])node_modules[\\/]/ },
  { module: 'https', importers: /(^|[\\/])node_modules[\\/](fastify[\\/]lib[\\/]server|prom-client[\\/]lib[\\/]pushgateway)\.js$/ },
  { module: 'http2', importers: /(^|[\\/])node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/ },
  { module: 'tls', importers: /^src[\\/]/ },
  // src/ draws its start's random bytes without node's crypto (src/runtime/start-random.ts) and writes
  // the admin token file with synchronous calls: both modules are used later (requests, a keyring, TLS).
  { module: 'crypto', importers: /^src[\\/]/ },
  { module: 'fs/promises', importers: /^src[\\/]/ },
  { module: '@grpc/grpc-js', importers: /^src[\\/]/ },
];

/**
 * The lazy form of a module: an object with one getter per export of the module (listed here, at build
 * time), each loading the module at its first call. A module that is itself a function (assert) gets a
 * function in front instead: called with a truthy value it returns, as the real one does, without
 * loading anything; a falsy value goes to the real function, which throws its own error. Property reads of a module object are what
 * esbuild's output and CommonJS code do with an import, so only reading an export loads the module; a
 * module that lost or renamed an export since the list was made is caught here: the getter of a name
 * the module no longer has throws instead of answering undefined.
 */
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const require = createRequire(`${ROOT}package.json`);
    b.onResolve({ filter: /^(node:)?(assert|https|http2|tls|crypto|fs\/promises)$|^@grpc\/grpc-js$/ }, (args) => {
      if (args.namespace === 'lazy-module') return undefined;
      const module = args.path.replace(/^node:/, '');
      const lazy = LAZY_MODULES.find((l) => l.module === module && l.importers.test(relative(ROOT, args.importer)));
      return lazy === undefined ? undefined : { path: module, namespace: 'lazy-module' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (args) => {
      const real = require(args.path);
      // A function's own length, name and prototype are the lazy function's own.
      const own = typeof real === 'function' ? ['__esModule', 'default', 'length', 'name', 'prototype'] : ['__esModule', 'default'];
      const names = Object.getOwnPropertyNames(real).filter((n) => !own.includes(n));
      if (names.length === 0) throw new Error(`lazy-modules: ${args.path} exports nothing to make lazy`);
      const spec = JSON.stringify(args.path.startsWith('@') ? args.path : `node:${args.path}`);
      return {
        resolveDir: ROOT,
        contents: [
          'let real;',
          `const load = () => (real ??= require(${spec}));`,
          'const get = (name) => { const m = load(); if (!(name in m)) throw new Error(`${' + spec + '} has no export ${name}`); return m[name]; };',
          ...(typeof real === 'function'
            ? ['function lazy(value, ...rest) { if (!value) return load()(value, ...rest); }']
            : ['const lazy = {};']),
          `module.exports = Object.defineProperties(lazy, {${real.__esModule === true ? '__esModule: { value: true },' : ''}`,
          ...names.map((n) => `  ${JSON.stringify(n)}: { enumerable: true, get: () => get(${JSON.stringify(n)}) },`),
          '});',
        ].join('\n'),
      };
    });
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

/** Options both bundles share. */
const COMMON = {
  absWorkingDir: ROOT,
  outdir: OUT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  external: NOT_ON_THE_AGENTS_PATHS,
  plugins: [zodEnglishOnly, lazyModules],
};

await rm(OUT, { recursive: true, force: true });
await build({
  ...COMMON,
  entryPoints: { main: 'src/main.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // src/ finds shipped files relative to its own module's URL: in the bundle, the bundle's.
  define: { 'import.meta.url': '__swimringModuleUrl' },
  banner: { js: "var __swimringModuleUrl=require('node:url').pathToFileURL(__filename).href;" },
});
await build({
  ...COMMON,
  entryPoints: { 'table-worker': 'src/runtime/table-worker.ts' },
  format: 'esm',
  // Dependencies written as CommonJS call require() for node's built-in modules.
  banner: { js: "import { createRequire as __swimringRequire } from 'node:module'; const require = __swimringRequire(import.meta.url);" },
});
// The bin: node's built-in modules only, nothing to bundle but src/bin.ts and what it imports. Built
// twice: dist/main.cjs, the package's bin, as CommonJS, because node runs an ES module entry through its
// ESM loader, a dozen built-in modules of its own to load and compile before the agent's first line;
// dist/main.js, the same program as an ES module, for the commands, images and scripts that name it.
const BIN = {
  absWorkingDir: ROOT,
  entryPoints: ['src/bin.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  banner: { js: '// The bin, built from src/bin.ts by scripts/build-bundle.mjs; dist/cli/ and the rest are tsc\'s per-module output.' },
};
await build({ ...BIN, outfile: `${ROOT}dist/main.js`, format: 'esm' });
await build({
  ...BIN,
  outfile: `${ROOT}dist/main.cjs`,
  format: 'cjs',
  define: { 'import.meta.url': '__swimringBinUrl' },
  banner: { js: `${BIN.banner.js}\nvar __swimringBinUrl=require('node:url').pathToFileURL(__filename).href;` },
});
chmodSync(`${ROOT}dist/main.js`, 0o755);
chmodSync(`${ROOT}dist/main.cjs`, 0o755);
