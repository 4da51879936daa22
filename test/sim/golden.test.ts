// The report of a fixed run, held to the one recorded in test/sim/golden/ before the simulator's data
// structures were reworked for 10,000 members: how members hold records, queues and views may change,
// what they do may not. A change to the protocol model (not to its representation) re-records the file:
//   node --import tsx test/sim/golden.test.ts --record
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { runScenario, WALL_CLOCK_FIELDS, type ScenarioOptions, type SimReport } from '../../src/sim/scenario.js';

const GOLDEN = new URL('./golden/report-150-seed1.json', import.meta.url);

/** Loss with false suspicions and refutations, a pause, two crashes after the queues drained. */
const scenario: ScenarioOptions = {
  members: 150,
  seed: 1,
  profile: 'lan',
  loss: 0.05,
  crash: 2,
  pauseCount: 1,
  pauseSeconds: 3,
  durationS: 70,
};

function report(): string {
  const full: Partial<SimReport> = runScenario(scenario);
  for (const field of WALL_CLOCK_FIELDS) delete full[field];
  return `${JSON.stringify(full, null, 2)}\n`;
}

if (process.argv.includes('--record')) {
  writeFileSync(GOLDEN, report());
} else {
  test('a fixed run gives the recorded report, byte for byte', () => {
    const recorded = readFileSync(GOLDEN, 'utf8');
    const parsed = JSON.parse(recorded) as SimReport;
    // The recorded run went through every phase the comparison is meant to cover.
    assert.equal(parsed.settle_capped, false);
    assert.equal(parsed.crashed_dead_everywhere, 2);
    assert.ok(parsed.false_suspect > 0 && parsed.refutations > 0, 'loss caused suspicions and refutations');
    assert.equal(report(), recorded);
  });
}
