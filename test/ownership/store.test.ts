import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeClaimRecord, encodeClaimRecord } from '../../src/ownership/canonical.js';
import { ClaimStore } from '../../src/ownership/store.js';
import type { ClaimRecord } from '../../src/ownership/types.js';

const limits = { maxRecords: 10_000, maxClaimsPerOwner: 10_000 };

function rec(partial: Partial<ClaimRecord> & Pick<ClaimRecord, 'id' | 'owner'>): ClaimRecord {
  const claimedAtMs = partial.claimedAtMs ?? 1000;
  const expiresAtMs = partial.expiresAtMs ?? null;
  return {
    ownerLifeId: 'L1',
    ownerIncarnation: 1,
    claimedAtMs,
    claimedAtLogical: 0,
    expiresAtMs,
    ttlMs: expiresAtMs === null ? null : Math.max(0, expiresAtMs - claimedAtMs),
    fence: BigInt(Math.max(0, claimedAtMs)) << 16n,
    released: false,
    ...partial,
  };
}

const recordArb: fc.Arbitrary<ClaimRecord> = fc
  .record({
    id: fc.constantFrom('a', 'b', 'c'),
    owner: fc.constantFrom('m1', 'm2', 'm3'),
    ownerLifeId: fc.constantFrom('L1', 'L2'),
    ownerIncarnation: fc.integer({ min: 1, max: 3 }),
    claimedAtMs: fc.integer({ min: 1, max: 4 }),
    claimedAtLogical: fc.integer({ min: 0, max: 2 }),
    expiresAtMs: fc.option(fc.integer({ min: 5, max: 7 }), { nil: null }),
    refenced: fc.integer({ min: 0, max: 1 }),
    released: fc.boolean(),
  })
  .map(({ refenced, ...r }) => ({
    ...r,
    ttlMs: r.expiresAtMs === null ? null : r.expiresAtMs - r.claimedAtMs,
    fence: ((BigInt(r.claimedAtMs) << 16n) | BigInt(r.claimedAtLogical)) + BigInt(refenced) * 100n,
  }));

function snapshot(store: ClaimStore): string[] {
  return [...store.entries()].map((r) => Buffer.from(encodeClaimRecord(r)).toString('hex')).sort();
}

function owners(store: ClaimStore): Record<string, string | undefined> {
  return { a: store.get('a')?.owner, b: store.get('b')?.owner, c: store.get('c')?.owner };
}

describe('ClaimStore.merge', () => {
  test('any order and any batching of the same records gives the same records and owners', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (records, batch) => {
        const one = new ClaimStore({ limits });
        one.merge(records);
        const two = new ClaimStore({ limits });
        const reversed = [...records].reverse();
        for (let i = 0; i < reversed.length; i += batch) two.merge(reversed.slice(i, i + batch));
        assert.deepEqual(snapshot(two), snapshot(one));
        assert.deepEqual(owners(two), owners(one));
      }),
    );
  });

  test('merging is idempotent and merging two stores into each other converges', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), fc.array(recordArb, { maxLength: 20 }), (left, right) => {
        const a = new ClaimStore({ limits });
        const b = new ClaimStore({ limits });
        a.merge(left);
        b.merge(right);
        a.merge([...b.entries()]);
        b.merge([...a.entries()]);
        assert.deepEqual(snapshot(a), snapshot(b));
        assert.deepEqual(owners(a), owners(b));
        const before = snapshot(a);
        const again = a.merge([...a.entries()]);
        assert.equal(again.applied, 0);
        assert.deepEqual(snapshot(a), before);
      }),
    );
  });

  test('the owner is always the earliest live claim (hybrid clock stamp, then name)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 30 }), (records) => {
        const store = new ClaimStore({ limits });
        store.merge(records);
        for (const id of ['a', 'b', 'c']) {
          const live = store.recordsFor(id).filter((r) => !r.released);
          const expected = [...live].sort(
            (x, y) => x.claimedAtMs - y.claimedAtMs || x.claimedAtLogical - y.claimedAtLogical || (x.owner < y.owner ? -1 : 1),
          )[0];
          assert.equal(store.get(id), expected);
        }
      }),
    );
  });
});

describe('ClaimStore conflicts', () => {
  test('a later claim by another owner is refused with a conflict naming the winner', () => {
    const store = new ClaimStore({ limits });
    store.merge([rec({ id: 'x', owner: 'm1', claimedAtMs: 100 })]);
    const out = store.merge([rec({ id: 'x', owner: 'm2', claimedAtMs: 200 })]);
    assert.equal(store.get('x')?.owner, 'm1');
    assert.equal(out.conflicts.length, 1);
    assert.equal(out.conflicts[0]?.winner.owner, 'm1');
    assert.equal(out.conflicts[0]?.loser.owner, 'm2');
  });

  test('an earlier claim (a healed partition) displaces the holder and reports it as the loser', () => {
    const store = new ClaimStore({ limits });
    store.merge([rec({ id: 'x', owner: 'm2', claimedAtMs: 200 })]);
    const out = store.merge([rec({ id: 'x', owner: 'm1', claimedAtMs: 100 })]);
    assert.equal(store.get('x')?.owner, 'm1');
    assert.deepEqual(out.conflicts.map((c) => [c.winner.owner, c.loser.owner]), [['m1', 'm2']]);
  });

  test('equal claim times are broken by the smaller owner name', () => {
    const store = new ClaimStore({ limits });
    store.merge([rec({ id: 'x', owner: 'zeta', claimedAtMs: 5 }), rec({ id: 'x', owner: 'alpha', claimedAtMs: 5 })]);
    assert.equal(store.get('x')?.owner, 'alpha');
  });

  test('a renewal by the same owner is no conflict', () => {
    const store = new ClaimStore({ limits });
    store.merge([rec({ id: 'x', owner: 'm1', expiresAtMs: 10 })]);
    const out = store.merge([rec({ id: 'x', owner: 'm1', expiresAtMs: 20 })]);
    assert.equal(out.applied, 1);
    assert.equal(out.conflicts.length, 0);
    assert.equal(store.get('x')?.expiresAtMs, 20);
  });

  test('a release frees the id; a loser that released stays out when the winner releases too', () => {
    const store = new ClaimStore({ limits });
    store.merge([rec({ id: 'x', owner: 'm1', claimedAtMs: 1 }), rec({ id: 'x', owner: 'm2', claimedAtMs: 2 })]);
    store.merge([rec({ id: 'x', owner: 'm2', claimedAtMs: 2, released: true })]);
    assert.equal(store.get('x')?.owner, 'm1');
    store.merge([rec({ id: 'x', owner: 'm1', claimedAtMs: 1, released: true })]);
    assert.equal(store.get('x'), undefined);
    assert.equal(store.claimCount(), 0);
    assert.equal(store.size(), 2);
  });
});

describe('ClaimStore bounds and owners', () => {
  test('records of a gone owner are refused; dropOwner releases an owner everywhere', () => {
    const store = new ClaimStore({ limits, ownerStatus: (r) => (r.owner === 'dead' ? 'gone' : 'live') });
    const out = store.merge([rec({ id: 'x', owner: 'dead' }), rec({ id: 'y', owner: 'm1' }), rec({ id: 'z', owner: 'm1', ownerLifeId: 'old' })]);
    assert.deepEqual(out.rejected.map((r) => r.reason), ['owner-gone']);
    assert.deepEqual(store.dropOwner('m1', 'L1'), ['z']);
    assert.equal(store.get('y')?.owner, 'm1');
    assert.deepEqual(store.dropOwner('m1'), ['y']);
    assert.equal(store.size(), 0);
  });

  test('per-owner and total limits refuse new records, not renewals', () => {
    const store = new ClaimStore({ limits: { maxRecords: 3, maxClaimsPerOwner: 2 } });
    const out = store.merge([rec({ id: 'a', owner: 'm1', expiresAtMs: 5 }), rec({ id: 'b', owner: 'm1' }), rec({ id: 'c', owner: 'm1' })]);
    assert.deepEqual(out.rejected.map((r) => [r.record.id, r.reason]), [['c', 'limit']]);
    assert.equal(store.merge([rec({ id: 'a', owner: 'm1', expiresAtMs: 9 })]).applied, 1);
    store.merge([rec({ id: 'c', owner: 'm2' })]);
    assert.equal(store.merge([rec({ id: 'd', owner: 'm2' })]).rejected[0]?.reason, 'limit');
  });

  test('invalid records are refused, not thrown', () => {
    const store = new ClaimStore({ limits });
    const out = store.merge([rec({ id: '', owner: 'm1' }), rec({ id: 'x'.repeat(256), owner: 'm1' }), rec({ id: 'x', owner: 'm1', claimedAtMs: -1 })]);
    assert.deepEqual(out.rejected.map((r) => r.reason), ['invalid', 'invalid', 'invalid']);
  });

  test('sweep forgets old releases and lapsed foreign claims, never our own', () => {
    let now = 0;
    const store = new ClaimStore({ limits, clock: () => now });
    store.merge([
      rec({ id: 'r', owner: 'm1', released: true }),
      rec({ id: 'f', owner: 'm2', expiresAtMs: 1500 }),
      rec({ id: 's', owner: 'me', expiresAtMs: 1500 }),
    ]);
    assert.equal(store.get('f')?.ttlMs, 500);
    now = 500;
    assert.deepEqual(store.sweep(1000, 1000, 'me').map((r) => r.id), [], 'f lapsed 0 ms ago, r is 500 ms old');
    now = 1499;
    assert.deepEqual(store.sweep(1500, 1000, 'me').map((r) => r.id), []);
    now = 1500;
    assert.deepEqual(store.sweep(1500, 1000, 'me').map((r) => r.id).sort(), ['f', 'r']);
    assert.equal(store.get('s')?.owner, 'me');
  });

  test('onChange reports sets and deletes in order', () => {
    const store = new ClaimStore({ limits });
    const seen: string[] = [];
    store.onChange((c) => seen.push(`${c.kind}:${c.record.id}:${c.record.released}`));
    store.merge([rec({ id: 'x', owner: 'm1' })]);
    store.merge([rec({ id: 'x', owner: 'm1', released: true })]);
    store.dropOwner('m1');
    assert.deepEqual(seen, ['set:x:false', 'set:x:true', 'delete:x:true']);
  });
});

describe('canonical encoding', () => {
  test('round-trips every valid record and rejects every truncation', () => {
    fc.assert(
      fc.property(recordArb, fc.string({ minLength: 1, maxLength: 40 }), (r, id) => {
        const record = { ...r, id };
        const bytes = encodeClaimRecord(record);
        const back = decodeClaimRecord(bytes);
        assert.ok(back.ok);
        assert.deepEqual(back.record, record);
        for (let cut = 0; cut < bytes.length; cut++) assert.equal(decodeClaimRecord(bytes.subarray(0, cut)).ok, false);
      }),
    );
  });
  test('version 1 records (earlier releases) are still read: logical 0, the fence of their stamp, TTL from claim to expiry', () => {
    const id = Buffer.from('cart-1');
    const owner = Buffer.from('m1');
    const life = Buffer.from('L1');
    const fixed = Buffer.alloc(24);
    fixed.writeBigUInt64BE(7n, 0); // incarnation
    fixed.writeBigUInt64BE(1000n, 8); // claimedAtMs
    fixed.writeBigUInt64BE(61_000n, 16); // expiresAtMs
    const v1 = Buffer.concat([Buffer.from([1, id.length]), id, Buffer.from([owner.length]), owner, Buffer.from([life.length]), life, Buffer.from([2]), fixed]);
    const back = decodeClaimRecord(v1);
    assert.ok(back.ok);
    assert.deepEqual(back.record, {
      id: 'cart-1',
      owner: 'm1',
      ownerLifeId: 'L1',
      ownerIncarnation: 7,
      claimedAtMs: 1000,
      claimedAtLogical: 0,
      expiresAtMs: 61_000,
      ttlMs: 60_000,
      fence: 1000n << 16n,
      released: false,
    });
    assert.equal(encodeClaimRecord(back.record)[0], 2, 'written back as version 2');
    assert.equal(decodeClaimRecord(Buffer.concat([Buffer.from([3]), v1.subarray(1)])).ok, false, 'an unknown version is refused');
  });
});
