import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { differingBuckets, syncWith } from '../../src/antientropy/sync.js';
import { sameHash } from '../../src/antientropy/tree.js';
import { claim, DirectPeer, fakeMember, member, type FakeMember } from './fakes.js';

/** One round as the runtime does it: sync, then the caller merges what came back. */
async function round(caller: FakeMember, callee: FakeMember, mode: 'digest' | 'full' = 'digest'): Promise<Awaited<ReturnType<typeof syncWith>> & { calls: number }> {
  const peer = new DirectPeer(callee.responder);
  const result = await syncWith(caller.digest, peer, mode);
  caller.members.merge(result.members);
  caller.claims.merge(result.claims);
  return { ...result, calls: peer.calls };
}

function roots(m: FakeMember): string[] {
  m.digest.refresh();
  return (['members', 'claims'] as const).map((t) => {
    const r = m.digest.tree(t)!.root();
    return `${r.hi}:${r.lo}`;
  });
}

const claimArb = fc.record({
  id: fc.stringMatching(/^[a-z0-9]{1,12}$/),
  owner: fc.constantFrom('m1', 'm2', 'm3'),
  at: fc.integer({ min: 1, max: 50 }),
  released: fc.boolean(),
});

describe('digest sync', () => {
  test('two random divergent stores are equal after one round', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(claimArb, { maxLength: 150 }),
        fc.array(claimArb, { maxLength: 150 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 1, max: 5 })), { maxLength: 10 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'f'), fc.integer({ min: 1, max: 5 })), { maxLength: 10 }),
        async (ca, cb, ma, mb) => {
          const a = fakeMember();
          const b = fakeMember();
          a.claims.merge(ca.map((c) => claim(c.id, c.owner, c.at, c.released)));
          b.claims.merge(cb.map((c) => claim(c.id, c.owner, c.at, c.released)));
          a.members.merge(ma.map(([n, i]) => member(n, i)));
          b.members.merge(mb.map(([n, i]) => member(n, i)));
          await round(a, b);
          assert.deepEqual(roots(a), roots(b));
          assert.deepEqual([...a.claims.slots.entries()].sort(), [...b.claims.slots.entries()].sort());
          assert.deepEqual(a.members.state().sort(byName), b.members.state().sort(byName));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('equal stores: one ExchangeRoots call and nothing else', async () => {
    const a = fakeMember();
    const b = fakeMember();
    for (const m of [a, b]) {
      m.members.merge([member('x', 1), member('y', 2)]);
      m.claims.merge(Array.from({ length: 1000 }, (_, i) => claim(`id-${i}`, 'm1', 5)));
    }
    const r = await round(a, b);
    assert.equal(r.inSync, true);
    assert.equal(r.calls, 1);
    assert.deepEqual(r.trees.map((t) => t.buckets), [0, 0]);
  });

  test('one differing claim among 10,000: walks one branch and swaps one bucket', async () => {
    const a = fakeMember();
    const b = fakeMember();
    const shared = Array.from({ length: 10_000 }, (_, i) => claim(`id-${i}`, i % 2 ? 'm1' : 'm2', 5));
    a.claims.merge(shared);
    b.claims.merge(shared);
    b.claims.merge([claim('only-on-b', 'm3', 9)]);
    const r = await round(a, b);
    const claims = r.trees.find((t) => t.tree === 'claims')!;
    assert.equal(claims.rootsEqual, false);
    assert.equal(claims.buckets, 1);
    assert.equal(claims.calls, 3 + 1, 'three levels walked, one fetch');
    assert.ok(r.claims.length < 20, `received ${r.claims.length} claims, only the one bucket's`);
    assert.ok(a.claims.get('only-on-b'));
    assert.deepEqual(roots(a), roots(b));
  });

  test('full mode swaps every bucket even when roots are equal (the baseline)', async () => {
    const a = fakeMember();
    const b = fakeMember();
    const shared = Array.from({ length: 500 }, (_, i) => claim(`id-${i}`, 'm1', 5));
    a.claims.merge(shared);
    b.claims.merge(shared);
    const r = await round(a, b, 'full');
    assert.equal(r.claims.length, 500);
    assert.equal(r.trees.find((t) => t.tree === 'claims')!.buckets, 4096);
  });

  test('a removal on one side shows up as a differing bucket', async () => {
    const a = fakeMember();
    const b = fakeMember();
    const records = Array.from({ length: 100 }, (_, i) => claim(`id-${i}`, 'm1', 5));
    a.claims.merge(records);
    b.claims.merge(records);
    b.claims.remove(records[7]!);
    const ta = a.digest.tree('claims')!;
    const tb = b.digest.tree('claims')!;
    assert.ok(!sameHash(ta.root(), tb.root()));
    const { buckets } = await differingBuckets(ta, 'claims', new DirectPeer(b.responder));
    assert.deepEqual(buckets, [ta.bucketOf('m1\u0000id-7')]);
  });

  test('the responder refuses indexes outside the tree, with the field named', () => {
    const a = fakeMember();
    assert.deepEqual(a.responder.getLeaves('claims', 0, [0]), { field: 'level', problem: 'must be 1..3, got 0' });
    assert.equal((a.responder.getLeaves('claims', 2, [16]) as { field: string }).field, 'parents[0]');
    assert.equal((a.responder.fetch('claims', [4096], { members: [], claims: [] }) as { field: string }).field, 'buckets[0]');
    assert.equal((a.responder.fetch('claims', [1, 1], { members: [], claims: [] }) as { field: string }).field, 'buckets[1]');
    assert.equal((a.responder.fetch('members', [1], { members: [], claims: [claim('x', 'm1', 1)] }) as { field: string }).field, 'claims');
    assert.equal((a.responder.getLeaves('claims', 1, new Array<number>(5000).fill(0)) as { field: string }).field, 'parents');
  });
});

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
