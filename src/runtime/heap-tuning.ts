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

export const AGENT_V8_FLAGS: readonly string[] = Object.freeze(['--semi-space-growth-factor=1']);

/** Whether the operator sized the young generation by hand (node flags or NODE_OPTIONS): then we keep out. */
export function youngGenerationSetByHand(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) => /semi[-_]space/.test(flag));
}

/** Applies AGENT_V8_FLAGS unless the young generation was sized by hand; returns the flags applied. */
export function tuneHeapForAgent(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env['NODE_OPTIONS']): readonly string[] {
  if (youngGenerationSetByHand(execArgv, nodeOptions)) return [];
  for (const flag of AGENT_V8_FLAGS) setFlagsFromString(flag);
  return AGENT_V8_FLAGS;
}

// After a burst (start-up, a wave of joins), the old generation holds pages of garbage: module loading,
// tables awaiting collection, gRPC and HTTP buffers. V8's memory reducer is meant to give them back once
// the process goes quiet, but it starts only after an incremental mark-compact and in practice left an
// idle agent at 35-48 MB of heap for 25 live. One full collection when a burst ends returns those pages
// at once (and frees the ArrayBuffers of dropped tables): 20-40 ms of main-thread time per burst.
let fullGc: (() => void) | null = null;

/**
 * Lets compactHeap() run full collections in this process (the agent; main.ts calls it). --expose-gc set
 * now installs gc() only into contexts created afterwards, so one small context provides the function
 * and the main context gets no global `gc` for library code to find.
 */
export function enableHeapCompaction(): void {
  if (fullGc !== null) return;
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') fullGc = () => void gc();
}

/** One full, synchronous collection if enabled (see above); returns whether it ran. */
export function compactHeap(): boolean {
  if (fullGc === null) return false;
  fullGc();
  return true;
}
