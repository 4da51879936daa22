// CPU time of the calling thread, for judging what a build step cost the event loop.
//
// process.cpuUsage() counts every thread of the process: V8's garbage collection helpers, libuv's pool,
// gRPC's. While a cluster forms those run beside the build and can double a step's figure, so a rule
// keyed on it sends builds to a worker (and its isolate's memory) on machines where the event loop was
// never held for long. The thread's own time says what the loop waited. Node 20 has no API for it:
// newer Node's process.threadCpuUsage() is used where it exists, Linux's per-thread scheduler
// statistics (nanoseconds on the CPU) where they can be read, else the process's time (the old, cautious
// over-count).
import { openSync, readSync } from 'node:fs';

/** Milliseconds of CPU time used so far, by the calling thread where the platform tells, else by the process. */
export type CpuClock = () => number;

export interface ThreadCpuClock {
  readonly now: CpuClock;
  /** What the clock counts: the thread alone, or (fallback) every thread of the process. */
  readonly counts: 'thread' | 'process';
}

const usageMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/** The scheduler's run time of the calling thread: the first field of /proc/thread-self/schedstat, in ns. */
export function parseSchedstat(text: string): number | null {
  const first = text.trim().split(/\s+/, 1)[0] ?? '';
  if (!/^\d+$/.test(first)) return null;
  const ns = Number(first);
  return Number.isSafeInteger(ns) ? ns / 1e6 : null;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * A reader of the calling thread's schedstat, or null where it cannot be opened. The file stays open and
 * is re-read from offset 0: a build step reads it twice, and an open, stat and close per read cost more
 * than a short step. The descriptor names the thread that opened it, which is the one that builds.
 */
function schedstatReader(): (() => number | null) | null {
  let fd: number;
  try {
    fd = openSync(SCHEDSTAT, 'r');
  } catch {
    return null;
  }
  const buf = Buffer.alloc(256);
  return () => {
    try {
      return parseSchedstat(buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)));
    } catch {
      return null;
    }
  };
}

/** Picks the best clock this platform offers (once: the caller keeps it). */
export function threadCpuClock(): ThreadCpuClock {
  const threadUsage: unknown = Reflect.get(process, 'threadCpuUsage');
  if (typeof threadUsage === 'function') {
    return { counts: 'thread', now: () => usageMs(Reflect.apply(threadUsage, process, []) as NodeJS.CpuUsage) };
  }
  const readSchedstat = schedstatReader();
  let last = readSchedstat?.() ?? null;
  if (readSchedstat !== null && last !== null) {
    // Should /proc go away later, time stands still rather than jumping to another clock's figures.
    return {
      counts: 'thread',
      now: () => {
        last = readSchedstat() ?? last;
        return last ?? 0;
      },
    };
  }
  return { counts: 'process', now: () => usageMs(process.cpuUsage()) };
}
