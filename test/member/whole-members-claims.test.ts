// Claims on whole members in memory: each Member runs its claims (timers from its tick, announcements
// as effects), carried by the agent's runner on the in-memory ports, with the clock (and each member's
// wall clock) in the test's hands: no sockets, no sleeps. The app's claims are member inputs (withClaims).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClaimLoss } from '../../src/ownership/service-types.js';
import { testClaimOptions } from '../ownership/options.js';
import { MemoryCluster, type MemoryMember } from '../support/memory-members.js';

const SEED = 'a:7947';

async function fourMembers(wallOffsets: Readonly<Record<string, number>>): Promise<{ cluster: MemoryCluster; m: Record<string, MemoryMember> }> {
  const cluster = new MemoryCluster();
  const options = testClaimOptions({ maxClockSkewMs: 10_000 });
  const m: Record<string, MemoryMember> = {};
  for (const name of ['a', 'b', 'c', 'd']) {
    m[name] = cluster.add(name, { ...(name === 'a' ? {} : { seeds: [SEED] }), claims: { options, wallOffsetMs: wallOffsets[name] ?? 0 } });
  }
  assert.ok(await cluster.clock.advanceUntil(() => cluster.converged(), 30_000), 'four members see each other alive');
  return { cluster, m };
}

const ownerSeenBy = (x: MemoryMember, id: string): string => x.claims?.service.store.get(id)?.owner ?? '-';

for (const behind of ['a', 'c'] as const) {
  test(`both sides of a cut claim one id: after the heal the earlier claim wins everywhere (${behind}'s clock 1 s behind)`, async () => {
    const { cluster, m } = await fourMembers({ [behind]: -1000 });
    const losses: ClaimLoss[] = [];
    m['c']!.claims!.service.onLoss((l) => losses.push(l));
    cluster.cut(['a', 'b'], ['c', 'd']);
    assert.equal(m['a']!.runner.withClaims((s) => s.claim(['cart']))[0]?.status, 'claimed');
    await cluster.clock.advance(3000);
    assert.equal(m['c']!.runner.withClaims((s) => s.claim(['cart']))[0]?.status, 'claimed', 'c cannot see a\'s claim');
    await cluster.clock.advance(1000);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((n) => ownerSeenBy(m[n]!, 'cart')), ['a', 'a', 'c', 'c']);
    // Long enough for each side to declare the other dead (and drop its claims).
    await cluster.clock.advance(30_000);
    cluster.net.heal();
    const agreed = () => ['a', 'b', 'c', 'd'].every((n) => ownerSeenBy(m[n]!, 'cart') === 'a');
    assert.ok(await cluster.clock.advanceUntil(() => cluster.converged() && agreed(), 60_000), 'one view and one owner again');
    assert.deepEqual(losses.map((l) => `${l.id} ${l.reason} ${l.owner ?? '-'}`), ['cart lost a']);
    for (const x of Object.values(m)) assert.deepEqual(x.failures, [], `${x.name}: no failed effects`);
  });
}

test('the claims of a crashed member are dropped on every other member', async () => {
  const { cluster, m } = await fourMembers({});
  assert.equal(m['b']!.runner.withClaims((s) => s.claim(['x', 'y']))[0]?.status, 'claimed');
  await cluster.clock.advance(1000);
  assert.deepEqual(['a', 'c', 'd'].map((n) => ownerSeenBy(m[n]!, 'y')), ['b', 'b', 'b']);
  m['b']!.crash();
  assert.ok(await cluster.clock.advanceUntil(() => ['a', 'c', 'd'].every((n) => m[n]!.claims!.service.store.liveIdsOf('b').size === 0), 60_000));
  assert.deepEqual(['a', 'c', 'd'].map((n) => ownerSeenBy(m[n]!, 'x')), ['-', '-', '-']);
});
