// The process's clock as a ClockPort: performance.now (monotonic), Date.now (wall) and setTimeout. Timers are unref'd:
// a pending deadline alone never keeps the process alive (sockets and servers do).
import { performance } from 'node:perf_hooks';
import type { ClockPort } from '../member/ports.js';

export const realClock: ClockPort = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  at(at, fire) {
    const timer = setTimeout(fire, Math.max(0, Math.ceil(at - performance.now())));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
