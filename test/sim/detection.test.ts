// Detection speed and accuracy at the lan defaults, through the same scenario `swimring sim` runs
// (whole members, virtual time, deterministic): a crash must be dead on every member, and no running
// member may be declared dead by anyone, at the loss rates the cluster must ride out. docs/sim.md
// ("Detection at the lan defaults") holds the figures these runs give.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runScenario, type SimReport } from '../../src/sim/scenario.js';

function crashRun(members: number, seed: number, loss: number, durationS: number): SimReport {
  return runScenario({ members, seed, profile: 'lan', loss, crash: 1, pauseCount: 0, pauseSeconds: 0, durationS });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

describe('detection at the lan defaults', () => {
  for (const loss of [0.01, 0.05]) {
    test(`${loss * 100} % loss, 20 seeds at 10-48 members: every crash dead everywhere, no running member declared dead`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const members = 10 + 2 * (seed - 1);
        const r = crashRun(members, seed, loss, 90);
        assert.equal(r.crashed_dead_everywhere, 1, `seed ${seed}, ${members} members: the crash was not dead everywhere`);
        assert.equal(r.false_dead, 0, `seed ${seed}, ${members} members: running members declared dead`);
      }
    });
  }

  for (const loss of [0.1, 0.3]) {
    test(`${loss * 100} % loss on 10 members (the namespace loss scenario), 20 seeds of 300 s: no running member declared dead`, () => {
      let suspicions = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const r = runScenario({ members: 10, seed, profile: 'lan', loss, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 300 });
        assert.equal(r.false_dead, 0, `seed ${seed}: running members declared dead`);
        suspicions += r.false_suspect;
      }
      assert.ok(suspicions > 100, `the loss raised suspicions that had to be refuted (${suspicions})`);
    });
  }

  test('10 members, 20 seeds: a crash is dead everywhere within first suspicion + the suspicion minimum + 1 s', () => {
    const deadEverywhere: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const r = crashRun(10, seed, 0, 60);
      const [first, dead] = [r.detection_first_suspect_s, r.detection_all_dead_s];
      assert.ok(first !== null && dead !== null, `seed ${seed}: not detected`);
      // Minimum 3 s at 10 members (lan: suspicionMult 3, probe interval 1 s).
      assert.ok(dead - first <= 4, `seed ${seed}: ${dead - first} s from first suspicion to dead everywhere`);
      deadEverywhere.push(dead);
    }
    // The same runs with the earlier timing (relays nacking after their whole probe timeout, a failed
    // probe judged two probe timeouts after the ping-req, suspicionMult 4) gave a median of 6.85 s.
    assert.ok(median(deadEverywhere) < 5.5, `median dead everywhere ${median(deadEverywhere)} s`);
  });
});
