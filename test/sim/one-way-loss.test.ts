// One-way loss: a member whose every outgoing packet is lost is declared dead by the others, and it
// does not get healthy members declared dead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { converge, startCluster } from './helpers.js';

test('a mute member is declared dead by the others and gets nobody else declared dead', () => {
  const deathsByOthers: string[] = [];
  let mute = '';
  const { sim, nodes } = startCluster(30, {
    seed: 81,
    onEvent: (node, event) => {
      if (event.type === 'member' && event.to === 'dead' && node.name !== mute && event.name !== mute) deathsByOthers.push(`${node.name} declared ${event.name}`);
    },
  });
  converge(sim, 60_000);
  sim.runFor(5_000);
  const muted = nodes[9];
  assert.ok(muted !== undefined);
  mute = muted.name;
  sim.network.setOutboundLoss(muted.id, 1);
  sim.observer.resetName(muted.name, sim.now);
  sim.runFor(120_000);
  assert.ok(!Number.isNaN(sim.observer.everyoneSawAt(muted.name, 'dead')), 'every other member declared the mute member dead');
  assert.deepEqual(deathsByOthers, [], 'no healthy member was declared dead by a healthy member');
  // The mute member itself never hears an ack, so in its own view its probe targets do die (after
  // Lifeguard has slowed it down); that belief cannot leave it, which is what matters.
  const healthy = nodes.filter((n) => n !== muted);
  const heldDead = healthy.flatMap((o) => healthy.filter((t) => sim.observer.stateSeenBy(o.id, t.name) === 'dead').map((t) => `${o.name} holds ${t.name}`));
  assert.deepEqual(heldDead, [], 'no healthy member holds a healthy member dead at the end');
});
