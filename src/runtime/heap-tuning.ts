// V8 heap sizing for the long-running agent, applied in-process before the heavy modules load (the start
// commands stay `node dist/main.js agent`: no re-exec, no NODE_OPTIONS needed).
//
// V8 grows the young generation up to 16 MB per semi-space (two of them, plus a large-object space)
// whenever allocation is brisk, for example while loading modules at start or during a burst of table
// builds, and an idle process gives little of it back. A sidecar allocates little per request, so a
// young generation held at its initial 1 MB semi-space keeps ~10-30 MB of RSS off every pod for a few
// more (cheap) scavenges under load. --max-semi-space-size cannot be changed once the heap exists, but
// the growth factor can, and a factor of 1 means "never grow".
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';
// --no-sparkplug: no baseline machine code next to the bytecode of functions that run now and then (the
// gossip and probe loops at idle); hot paths still get optimized code. 1.6 MB less heap per idle sidecar
// (bench/idle.ts, 10 agents: 82.1 -> 80.5 MB median RSS), idle CPU unchanged (0.8 -> 0.72%).
const NO_BASELINE_CODE_FLAG = '--no-sparkplug';

// --no-concurrent-recompilation: optimizing compiles run on the main thread instead of V8's background
// threads. Their scratch memory comes and goes in malloc; freed on a background thread it stays in that
// thread's own malloc arena, which glibc rarely gives back (one arena per thread). A sidecar optimizes
// its few hot functions once, so the compiles on the loop are a warm-up cost, not a steady one.
const OPTIMIZE_ON_MAIN_THREAD_FLAG = '--no-concurrent-recompilation';

export const AGENT_V8_FLAGS: readonly string[] = Object.freeze([YOUNG_GENERATION_FLAG, NO_BASELINE_CODE_FLAG, OPTIMIZE_ON_MAIN_THREAD_FLAG]);

/** What a flag of the operator's own, on the command line or in NODE_OPTIONS, matches to take precedence over ours. */
const SET_BY_HAND: Readonly<Record<string, RegExp>> = {
  [YOUNG_GENERATION_FLAG]: /semi[-_]space/,
  [NO_BASELINE_CODE_FLAG]: /sparkplug/,
  [OPTIMIZE_ON_MAIN_THREAD_FLAG]: /concurrent[-_]recompilation/,
};

const flagsOf = (execArgv: readonly string[], nodeOptions: string | undefined): string[] => [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];

/** Whether the operator sized the young generation by hand (node flags or NODE_OPTIONS): then we keep out. */
export function youngGenerationSetByHand(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return flagsOf(execArgv, nodeOptions).some((flag) => /semi[-_]space/.test(flag));
}

/** Applies AGENT_V8_FLAGS but those the operator set by hand (young generation, sparkplug, concurrent recompilation); returns the flags applied. */
export function tuneHeapForAgent(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env['NODE_OPTIONS']): readonly string[] {
  const byHand = flagsOf(execArgv, nodeOptions);
  const applied = AGENT_V8_FLAGS.filter((flag) => !byHand.some((f) => SET_BY_HAND[flag]?.test(f) === true));
  for (const flag of applied) setFlagsFromString(flag);
  return applied;
}

// After a burst (start-up, a wave of joins), the old generation holds pages of garbage: module loading,
// tables awaiting collection, gRPC and HTTP buffers. V8's memory reducer is meant to give them back once
// the process goes quiet, but it starts only after an incremental mark-compact and in practice left an
// idle agent at 35-48 MB of heap for 25 live. One full collection when a burst ends returns those pages
// at once (and frees the ArrayBuffers of dropped tables): 20-40 ms of main-thread time per burst.
let compactionEnabled = false;
let fullGc: (() => void) | null = null;

/**
 * Lets compactHeap() run full collections in this process (the agent; main.ts calls it). --expose-gc set
 * now installs gc() only into contexts created afterwards, so one small context provides the function
 * and the main context gets no global `gc` for library code to find. That context is made at the first
 * collection, not here: start-up does not pay for it.
 */
export function enableHeapCompaction(): void {
  if (compactionEnabled) return;
  setFlagsFromString('--expose-gc');
  compactionEnabled = true;
}

/** One full, synchronous collection if enabled (see above); returns whether it ran. */
export function compactHeap(): boolean {
  if (!compactionEnabled) return false;
  if (fullGc === null) {
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return false;
    fullGc = () => void gc();
  }
  fullGc();
  return true;
}
