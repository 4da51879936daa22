// Compiles the native lookup (src/placement/native/lookup.cc, answers.cc) into dist/native/, after tsc (npm run build).
// Optional by design: without a C++ compiler or Node's headers the build says so and the agent uses the
// WebAssembly lookup (src/placement/wasm.ts), which gives the same answers. Nothing is downloaded: the headers
// are the ones installed with node (<prefix>/include/node). SWIMRING_NATIVE_BUILD=0 skips it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['lookup.cc', 'answers.cc'].map((file) => join(root, 'src', 'placement', 'native', file));
const outDir = join(root, 'dist', 'native');
const target = join(outDir, 'swimring_lookup.node');
const headers = resolve(dirname(process.execPath), '..', 'include', 'node');
const compiler = process.env.CXX || 'c++';

function skip(reason) {
  rmSync(target, { force: true });
  process.stderr.write(`build-native: ${reason}; the agent will use the WebAssembly lookup (wasm/swimring.wasm; same answers)\n`);
}

if (process.env.SWIMRING_NATIVE_BUILD === '0') skip('SWIMRING_NATIVE_BUILD=0');
else if (!existsSync(join(headers, 'node.h'))) skip(`no Node headers at ${headers}`);
else {
  mkdirSync(outDir, { recursive: true });
  const partial = `${target}.tmp-${process.pid}`;
  try {
    execFileSync(compiler, ['-O2', '-std=c++17', '-fPIC', '-shared', '-Wall', '-Werror', `-I${headers}`, '-o', partial, ...sources], { stdio: ['ignore', 'inherit', 'inherit'] });
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { force: true });
    skip(`${compiler} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
}
