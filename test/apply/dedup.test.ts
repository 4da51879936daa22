import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DedupCache, type DedupOptions } from '../../src/apply/dedup.js';

function cache(over: Partial<DedupOptions> = {}, clock = { t: 0 }) {
  return new DedupCache<string>({ maxEntries: 100, maxBytes: 10_000, ttlMs: 1000, maxInFlight: 10, now: () => clock.t, ...over }, (v) => v.length);
}

describe('DedupCache', () => {
  test('a settled id is answered from the record until its TTL, then delivered afresh', () => {
    const clock = { t: 0 };
    const c = cache({}, clock);
    const first = c.begin('r1');
    assert.equal(first.kind, 'first');
    if (first.kind === 'first') first.settle('answer', true);
    assert.deepEqual(c.begin('r1'), { kind: 'done', value: 'answer' });
    clock.t = 999;
    assert.equal(c.begin('r1').kind, 'done');
    clock.t = 1000;
    assert.equal(c.begin('r1').kind, 'first');
  });

  test('a retry while the first is under way waits for it and gets its value', async () => {
    const c = cache();
    const first = c.begin('r1');
    const second = c.begin('r1');
    assert.equal(second.kind, 'pending');
    if (first.kind === 'first') first.settle('v', true);
    assert.equal(second.kind === 'pending' && (await second.wait), 'v');
  });

  test('an id settled with remember=false is forgotten (it never reached the app)', () => {
    const c = cache();
    const first = c.begin('r1');
    if (first.kind === 'first') first.settle('refused', false);
    assert.equal(c.begin('r1').kind, 'first');
  });

  test('more deliveries in flight than allowed: busy', () => {
    const c = cache({ maxInFlight: 2 });
    c.begin('a');
    c.begin('b');
    assert.equal(c.begin('c').kind, 'busy');
  });

  test('count and byte bounds push out the oldest, counted as early evictions', () => {
    const c = cache({ maxEntries: 2, maxBytes: 10 });
    for (const [id, v] of [['a', 'xxx'], ['b', 'yyy'], ['c', 'zzz']] as const) {
      const b = c.begin(id);
      if (b.kind === 'first') b.settle(v, true);
    }
    assert.equal(c.size, 2);
    assert.equal(c.begin('a').kind, 'first');
    assert.equal(c.evictedEarly, 1);
    const big = c.begin('big');
    if (big.kind === 'first') big.settle('0123456789', true);
    assert.ok(c.bytes <= 10);
  });

  test('model check: bounds always hold, and an id remembered and not evicted is never delivered twice within its TTL', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('begin' as const), id: fc.integer({ min: 0, max: 6 }), remember: fc.boolean(), size: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 600 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clock = { t: 0 };
        const c = new DedupCache<string>({ maxEntries: 4, maxBytes: 20, ttlMs: 1000, maxInFlight: 3, now: () => clock.t }, (v) => v.length);
        /** id -> time it was remembered, for ids the model expects the cache to still hold. */
        const model = new Map<number, { at: number; value: string }>();
        for (const o of ops) {
          if (o.kind === 'tick') {
            clock.t += o.ms;
            continue;
          }
          const evictedBefore = c.evictedEarly;
          const b = c.begin(String(o.id));
          const expected = model.get(o.id);
          if (expected && clock.t - expected.at < 1000 && b.kind === 'first') {
            // Allowed only if the id was pushed out early by the bounds.
            assert.ok(c.evictedEarly > 0, `id ${o.id} delivered twice within its TTL without an eviction`);
          }
          if (b.kind === 'done' && expected) assert.equal(b.value, expected.value);
          if (b.kind === 'first') {
            const value = 'v'.repeat(o.size) + String(o.id);
            b.settle(value, o.remember);
            if (o.remember && c.evictedEarly === evictedBefore) model.set(o.id, { at: clock.t, value });
            else model.delete(o.id);
          }
          assert.ok(c.size <= 4 && c.bytes <= 20 && c.pending <= 3);
        }
      }),
    );
  });
});
