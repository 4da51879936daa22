// Runs the bundled command line (dist/bundle/main.cjs) from V8's code cache: bytecode V8 compiled for
// it in an earlier run, so a start neither parses nor compiles the whole bundle nor the functions the
// cache holds. Node 20 has no compile cache of its own for modules (Node 22's
// module.enableCompileCache), so the bundle is CommonJS compiled through vm.Script, the one API that
// takes and produces V8's cache. `npm run build` leaves a cache written by one real start
// (scripts/build-code-cache.mjs); a start whose cache does not fit (absent, another V8, other flags,
// damaged) compiles from source and, once it runs, writes its own next to the bundle when it may.
//
// The cache records V8's flags: it is made and read only after the agent's own flags are set (bin.ts
// sets them before calling runBundle), so the flags the agent sets at start cannot make it misfit.
// V8 checks a cache's version, flags and source length, but its payload only with
// --verify-snapshot-checksum: set here, so a damaged file is rejected and compiled around, never run.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { readTextUnpooled, readUnpooled } from './read-unpooled.js';

/**
 * What this start did with the code cache: `accepted` (compiled from it), `rejected` (V8 refused it:
 * another V8 or flags, or a damaged file), `absent` (no cache file), `off` (not used: a command other than
 * the agent, or source maps asked for, which node applies only to modules it loads itself).
 */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'off';

/** What save() did: wrote a cache, kept the one that fitted (or none, when off), or failed to write. */
export type CodeCacheSave = 'written' | 'kept' | `failed: ${string}`;

export interface CodeCache {
  readonly state: CodeCacheState;
  readonly file: string;
  /** Writes what V8 has compiled so far as the cache, if this start had none that fitted. */
  save(): CodeCacheSave;
}

/** The bundle cannot import the bin's module instance: the two meet through this global. */
const SLOT = Symbol.for('swimring.codeCache');
const slot = globalThis as unknown as Record<symbol, CodeCache | undefined>;

/** The code cache this process ran under, if the bin loaded it (undefined under tsc output or tsx). */
export function codeCacheOfThisProcess(): CodeCache | undefined {
  return slot[SLOT];
}

/** Node's own CommonJS wrapper parameters: the bundle is written as one CommonJS module. */
type ModuleBody = (exports: object, require: NodeRequire, module: { exports: object }, filename: string, dirname: string) => void;

export function sourceMapsRequested(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  return process.sourceMapsEnabled || [...execArgv, ...nodeOptions.split(/\s+/)].includes('--enable-source-maps');
}

/** Runs the CommonJS bundle at `bundle`, from `${bundle}.cache` when `useCache` and it fits. */
export function runBundle(bundle: string, opts: { useCache: boolean; cacheFile?: string }): CodeCache {
  const file = opts.cacheFile ?? `${bundle}.cache`;
  if (!opts.useCache || sourceMapsRequested()) {
    const off: CodeCache = { state: 'off', file, save: () => 'kept' };
    slot[SLOT] = off;
    createRequire(bundle)(bundle);
    return off;
  }
  setFlagsFromString('--verify-snapshot-checksum');
  const text = readTextUnpooled(bundle);
  // A hashbang is only valid at the very start of a script; a comment of the same length keeps positions.
  const source = text.startsWith('#!') ? `//${text.slice(2)}` : text;
  let cachedData: Uint8Array | undefined;
  try {
    cachedData = readUnpooled(file);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const state: CodeCacheState = cachedData === undefined ? 'absent' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  let saved = state === 'accepted';
  const cache: CodeCache = {
    state,
    file,
    save: () => {
      if (saved) return 'kept';
      saved = true;
      // Written aside and renamed: a start reading the file meanwhile sees the old cache or the new one.
      const aside = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(aside, script.createCachedData());
        renameSync(aside, file);
        return 'written';
      } catch (err) {
        rmSync(aside, { force: true });
        return `failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    },
  };
  slot[SLOT] = cache;
  const body = script.runInThisContext() as ModuleBody;
  const module = { exports: {} };
  body.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return cache;
}

interface SaveLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * After start-up, writes the code cache if this start had none that fitted: by then V8 has compiled
 * what a start runs, and a later start reads it instead. A read-only install keeps compiling from
 * source (one warning); the agent runs the same either way.
 */
export function saveCodeCacheAfterStart(logger: SaveLogger, delayMs: number, cache = codeCacheOfThisProcess()): void {
  if (cache === undefined || cache.state === 'accepted' || cache.state === 'off') return;
  setTimeout(() => {
    const result = cache.save();
    if (result === 'written') logger.info({ file: cache.file, was: cache.state }, 'code cache written: later starts compile less');
    else if (result !== 'kept') logger.warn({ file: cache.file, was: cache.state, result }, 'could not write the code cache: starts compile the bundle from source');
  }, delayMs).unref();
}
