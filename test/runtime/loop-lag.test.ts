// The loop-lag clock: the member's own timers report how late they fire, and the watchdog only wakes
// the process when no member timer has fired for its whole period.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClockPort } from '../../src/member/ports.js';
import { LAG_WATCHDOG_MS, lagReportingClock, type Watchdog } from '../../src/shell/loop-lag.js';

/** A clock whose timers fire when the test says, at the time the test sets. */
function manualClock(): { clock: ClockPort; set: (t: number) => void; fireDue: () => void } {
  let t = 0;
  const timers: { at: number; fire: () => void }[] = [];
  return {
    clock: {
      now: () => t,
      wallNow: () => t,
      at(at, fire) {
        const entry = { at, fire };
        timers.push(entry);
        return () => void timers.splice(timers.indexOf(entry), 1);
      },
    },
    set: (to) => void (t = to),
    fireDue: () => {
      for (const e of timers.filter((x) => x.at <= t)) {
        timers.splice(timers.indexOf(e), 1);
        e.fire();
      }
    },
  };
}

function fakeWatchdog(): { make: (everyMs: number, fire: () => void) => Watchdog; refreshes: () => number; fire: () => void; stopped: () => boolean } {
  let refreshes = 0;
  let stopped = false;
  let fire = (): void => {};
  return {
    make: (everyMs, f) => {
      assert.equal(everyMs, LAG_WATCHDOG_MS);
      fire = f;
      return { refresh: () => void refreshes++, stop: () => void (stopped = true) };
    },
    refreshes: () => refreshes,
    fire: () => fire(),
    stopped: () => stopped,
  };
}

test('a member timer reports how late it fired and restarts the watchdog; its callback still runs', () => {
  const m = manualClock();
  const dog = fakeWatchdog();
  const lags: number[] = [];
  const { clock, stop } = lagReportingClock(m.clock, (ms) => lags.push(ms), dog.make, m.clock.now);
  let fired = 0;
  clock.at(1000, () => fired++);
  clock.at(2000, () => fired++);
  m.set(1000);
  m.fireDue();
  m.set(2350);
  m.fireDue();
  assert.equal(fired, 2);
  assert.deepEqual(lags, [0, 350]);
  assert.equal(dog.refreshes(), 2, 'each member timer that fires restarts the watchdog');
  stop();
  assert.equal(dog.stopped(), true);
});

test('a cancelled member timer reports nothing', () => {
  const m = manualClock();
  const dog = fakeWatchdog();
  const lags: number[] = [];
  const { clock } = lagReportingClock(m.clock, (ms) => lags.push(ms), dog.make, m.clock.now);
  const cancel = clock.at(500, () => assert.fail('cancelled'));
  cancel();
  m.set(600);
  m.fireDue();
  assert.deepEqual(lags, []);
  assert.equal(dog.refreshes(), 0);
});

test('with no member timer, the watchdog reports its own lateness from when it was last armed', () => {
  const m = manualClock();
  const dog = fakeWatchdog();
  const lags: number[] = [];
  lagReportingClock(m.clock, (ms) => lags.push(ms), dog.make, m.clock.now);
  m.set(LAG_WATCHDOG_MS);
  dog.fire();
  m.set(2 * LAG_WATCHDOG_MS + 6000);
  dog.fire();
  assert.deepEqual(lags, [0, 6000]);
});
