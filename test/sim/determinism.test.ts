// Same seed, same report (byte for byte, wall clock aside); another seed, another report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScenarioOptions, SimReport } from '../../src/sim/scenario.js';
import { reportWithoutWallClock } from './helpers.js';

const scenario: ScenarioOptions = {
  members: 40,
  seed: 42,
  profile: 'local',
  loss: 0.05,
  crash: 2,
  pauseCount: 1,
  pauseSeconds: 2,
  durationS: 30,
};

test('the same seed gives an identical report', () => {
  const first = reportWithoutWallClock(scenario);
  const second = reportWithoutWallClock(scenario);
  assert.equal(first, second);
  const parsed = JSON.parse(first) as SimReport;
  assert.equal(parsed.crashed_dead_everywhere, 2, 'the scenario exercised crash detection');
  assert.ok(parsed.packets_dropped.loss > 0, 'the scenario exercised loss');
});

test('another seed gives a different report', () => {
  assert.notEqual(reportWithoutWallClock(scenario), reportWithoutWallClock({ ...scenario, seed: 43 }));
});
