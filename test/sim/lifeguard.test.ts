// Lifeguard: a member that was paused (SIGSTOP-like) wakes up to a pile of missed acks and buffered
// packets; its overdue timers must not get healthy members declared dead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, falselyDead, startCluster } from './helpers.js';

test('a member paused for 5 s does not get healthy members declared dead when it wakes', () => {
  const accusedByPaused: string[] = [];
  const pausedNames = new Set<string>();
  const { sim, nodes } = startCluster(50, {
    seed: 21,
    onEvent: (node, event) => {
      if (pausedNames.has(node.name) && event.type === 'member' && (event.to === 'suspect' || event.to === 'dead')) accusedByPaused.push(event.name);
    },
  });
  converge(sim, 60_000);
  sim.runFor(10_000);
  // Three different members, one after another, each paused mid-protocol-period.
  const paused = [nodes[4], nodes[17], nodes[33]].filter((n) => n !== undefined);
  for (const node of paused) {
    pausedNames.add(node.name);
    sim.pause(node, 5_000);
    sim.runFor(5_000 + 20_000 + 137);
  }
  sim.runFor(60_000);
  assert.ok(sim.drops.buffer === 0, 'the socket buffer held everything sent to the paused members');
  assert.deepEqual(falselyDead(sim, paused), [], 'no healthy member declared dead');
  assert.ok(sim.observer.isConverged(), 'everyone sees everyone alive again');
  // The test is only meaningful if waking up did make the paused members doubt someone.
  assert.ok(accusedByPaused.length + paused.reduce((s, n) => s + sim.observer.falseSuspicions(n.name), 0) > 0, 'the pauses caused suspicions');
});
