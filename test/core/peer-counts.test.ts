// The per-state counts readiness reads on every probe are kept as records change; they must always
// equal a walk of the table, through joins, suspicions, deaths, leaves, refutations, reaps and rejoins.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberState, SwimCore } from '../../src/core/index.js';
import { alive, coreKnowing, dead, gossipTo, left, suspect } from './harness.js';

const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

function walked(core: SwimCore, state: MemberState): number {
  return core.members().filter((m) => m.name !== core.self.name && m.state === state).length;
}

const seen = new Set<MemberState>();

function assertCounts(core: SwimCore, step: string): void {
  for (const state of STATES) {
    assert.equal(core.peersInState(state), walked(core, state), `${state} after ${step}`);
    if (core.peersInState(state) > 0) seen.add(state);
  }
}

test('peersInState equals a walk of the table after every kind of change', () => {
  const names = Array.from({ length: 12 }, (_, i) => `m${i}`);
  const core = coreKnowing('self', names);
  assertCounts(core, 'joins');
  let now = 1;
  // A fixed mix of news: suspicions, verdicts, leaves, refutations at higher incarnations, new lives.
  for (let round = 0; round < 6; round++) {
    for (const [i, name] of names.entries()) {
      const incarnation = 1000 + round * 10;
      const news = [suspect(name, incarnation), dead(name, incarnation), left(name, incarnation), alive(name, incarnation + 1), alive(name, incarnation + 2, `${name}-life-${round + 2}`)][(i + round) % 5];
      if (news === undefined) continue;
      gossipTo(core, [news], now);
      assertCounts(core, `round ${round}, ${name}`);
      now += 50;
    }
    // Let suspicions run out and dead or left records be reaped.
    for (let t = 0; t < 400 && Number.isFinite(core.nextDeadline()); t++) {
      const at = core.nextDeadline();
      if (at > now + 10 * 60_000) break;
      core.tick(at);
      now = Math.max(now, at);
      assertCounts(core, `tick at ${at}`);
    }
  }
  gossipTo(core, [alive('newcomer', 1)], now);
  assertCounts(core, 'a newcomer');
  assert.deepEqual([...seen].sort(), [...STATES].sort(), 'the run held members in every state');
});
