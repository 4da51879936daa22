// The event loop's lag, measured as how late timers fire, without a timer of its own while the member
// has timers: every deadline the member's clock fires reports its lateness. A watchdog interval covers
// the stretches with no member timer (an agent alone has none); each member timer that fires restarts
// its countdown, so while the member probes every second or more often the watchdog never wakes the
// process.
import { performance } from 'node:perf_hooks';
import type { ClockPort } from '../member/ports.js';

/** The watchdog's period: longer than the longest gap between a probing member's timers at the LAN profile. */
export const LAG_WATCHDOG_MS = 2000;

/** A restartable repeating timer (setInterval's Timeout: refresh restarts the countdown). */
export interface Watchdog {
  refresh(): void;
  stop(): void;
}

function realWatchdog(everyMs: number, fire: () => void): Watchdog {
  const timer = setInterval(fire, everyMs);
  timer.unref();
  return { refresh: () => void timer.refresh(), stop: () => clearInterval(timer) };
}

/**
 * `clock` with every timer reporting how late it fired to onLag (ms, 0 when on time), plus the watchdog;
 * stop() ends the watchdog.
 */
export function lagReportingClock(
  clock: ClockPort,
  onLag: (ms: number) => void,
  watchdog: (everyMs: number, fire: () => void) => Watchdog = realWatchdog,
  now: () => number = () => performance.now(),
): { clock: ClockPort; stop: () => void } {
  let armedAt = now();
  const dog = watchdog(LAG_WATCHDOG_MS, () => {
    const t = now();
    onLag(Math.max(0, t - armedAt - LAG_WATCHDOG_MS));
    armedAt = t;
  });
  const lagged: ClockPort = {
    now: () => clock.now(),
    wallNow: () => clock.wallNow(),
    at(at, fire) {
      return clock.at(at, () => {
        const t = clock.now();
        onLag(Math.max(0, t - at));
        dog.refresh();
        armedAt = now();
        fire();
      });
    },
  };
  return { clock: lagged, stop: () => dog.stop() };
}
