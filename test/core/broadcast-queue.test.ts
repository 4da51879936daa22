import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BroadcastQueue, retransmitLimit } from '../../src/core/broadcast-queue.js';
import { SharedMemberIndex } from '../../src/core/member-index.js';
import type { Update } from '../../src/core/types.js';
import { alive, left, suspect } from './harness.js';

function names(updates: readonly Update[]): string[] {
  return updates.map((u) => u.name);
}

describe('retransmitLimit', () => {
  test('is mult * ceil(log10(n + 1))', () => {
    const table: [mult: number, n: number, expected: number][] = [
      [4, 1, 4],
      [4, 9, 4],
      [4, 10, 8],
      [4, 99, 8],
      [4, 100, 12],
      [4, 10_000, 20],
      [3, 5, 3],
    ];
    for (const [mult, n, expected] of table) assert.equal(retransmitLimit(mult, n), expected, `n ${n}`);
  });
});

describe('BroadcastQueue', () => {
  test('updates retransmitted exactly limit times, then dropped', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(left('a'), 10);
    let sent = 0;
    for (let i = 0; i < 10; i++) {
      const out: Update[] = [];
      q.fill(1000, 3, out);
      sent += out.length;
    }
    assert.equal(sent, 3);
    assert.equal(q.size, 0);
  });

  test('an emptied queue gives its arrays back, and queues and orders news as before once refilled', () => {
    const index = new SharedMemberIndex();
    for (let i = 0; i < 1000; i++) index.acquire(`m${i}`);
    const q = new BroadcastQueue(10_000, index);
    for (let i = 0; i < 1000; i += 10) q.enqueue(alive(`m${i}`), 10, true);
    assert.equal(q.capacity, 1000, 'sized by the shared index at the first news');
    for (let round = 0; round < 100 && q.size > 0; round++) q.fill(1000, 2, []);
    assert.equal(q.size, 0);
    assert.equal(q.capacity, 0, 'nothing kept once every update was sent its limit');
    q.enqueue(alive('m999'), 10, true);
    q.enqueue(suspect('m5'), 10);
    assert.equal(q.capacity, 1000);
    const out: Update[] = [];
    q.fill(1000, 2, out);
    assert.deepEqual(names(out), ['m5', 'm999'], 'news about a known member before an introduction');
    assert.equal(q.transmitsOf('m999'), 1, 'send counts start again from 0');
    q.remove('m5');
    q.remove('m999');
    assert.equal(q.capacity, 0, 'removing the last update empties it too');
  });

  test('fewest transmits first', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(left('old'), 10);
    const first: Update[] = [];
    q.fill(10, 5, first);
    assert.deepEqual(names(first), ['old']);
    q.enqueue(left('new'), 10);
    const second: Update[] = [];
    q.fill(10, 5, second);
    assert.deepEqual(names(second), ['new'], 'the never-sent update goes before the once-sent one');
    assert.equal(q.transmitsOf('old'), 1);
    assert.equal(q.transmitsOf('new'), 1);
  });

  test('newer update invalidates queued older one', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(alive('a'), 50);
    q.fill(1000, 5, []);
    q.enqueue(suspect('a'), 20);
    assert.equal(q.size, 1);
    assert.equal(q.queued('a')?.kind, 'suspect');
    assert.equal(q.transmitsOf('a'), 0, 'news starts its own retransmit count');
    const out: Update[] = [];
    q.fill(1000, 5, out);
    assert.deepEqual(out, [suspect('a')]);
  });

  test('fills leftover space with updates that fit, skipping ones that do not', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(left('small1'), 10);
    q.enqueue(left('big'), 100);
    q.enqueue(left('small2'), 10);
    const out: Update[] = [];
    const used = q.fill(50, 5, out);
    assert.deepEqual(names(out).sort(), ['small1', 'small2']);
    assert.equal(used, 20);
    assert.equal(q.transmitsOf('big'), 0);
  });

  test('a smaller limit after the cluster shrank drops updates already sent enough', () => {
    const q = new BroadcastQueue(100);
    q.enqueue(left('a'), 10);
    for (let i = 0; i < 4; i++) q.fill(100, 8, []);
    const out: Update[] = [];
    q.fill(100, 4, out);
    assert.deepEqual(out, []);
    assert.equal(q.size, 0);
  });

  test('a queue full of introductions does not starve news about a known member', () => {
    // A mass join leaves an introduction of every member queued; a refutation (alive at a raised
    // incarnation) arriving then must ride in every packet until it has been sent `limit` times.
    const q = new BroadcastQueue(2000);
    for (let i = 0; i < 1000; i++) q.enqueue(alive(`m${i}`), 60, true);
    q.fill(600, 16, []);
    q.enqueue(alive('m7', 1001), 60);
    q.enqueue(suspect('m8'), 30);
    const limit = 16;
    for (let packet = 0; packet < limit; packet++) {
      const out: Update[] = [];
      q.fill(600, limit, out);
      assert.deepEqual(names(out.slice(0, 2)).sort(), ['m7', 'm8'], `packet ${packet} leads with the news about known members`);
      assert.equal(out.length, 2 + Math.floor((600 - 90) / 60), 'introductions fill the rest');
    }
    assert.equal(q.queued('m7'), undefined, 'the refutation left after its limit');
    assert.equal(q.queued('m8'), undefined);
    assert.equal(q.size, 998, 'the other introductions stay queued (m7 and m8 were replaced by newer news)');
  });

  test('introductions are dropped before news about known members when over the bound', () => {
    const q = new BroadcastQueue(2);
    q.enqueue(suspect('a'), 10);
    q.enqueue(alive('b'), 10, true);
    q.enqueue(alive('c'), 10, true);
    assert.equal(q.size, 2);
    assert.equal(q.queued('a')?.kind, 'suspect');
    assert.equal(q.queued('b'), undefined, 'the oldest introduction went');
  });

  test('is bounded: beyond maxEntries the most-sent update goes', () => {
    const q = new BroadcastQueue(2);
    q.enqueue(left('a'), 10);
    q.fill(10, 5, []);
    q.enqueue(left('b'), 10);
    q.enqueue(left('c'), 10);
    assert.equal(q.size, 2);
    assert.equal(q.queued('a'), undefined);
  });

  test('never exceeds the bytes offered, never repeats an update in one fill, and sends each exactly limit times', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 1400 }),
        fc.integer({ min: 1, max: 6 }),
        (sizes, budget, limit) => {
          const q = new BroadcastQueue(1000);
          sizes.forEach((size, i) => q.enqueue(left(`m${i}`), size));
          const sent = new Map<string, number>();
          for (let round = 0; round < sizes.length * limit + 2; round++) {
            const out: Update[] = [];
            const used = q.fill(budget, limit, out);
            assert.ok(used <= budget);
            assert.equal(new Set(names(out)).size, out.length);
            for (const u of out) sent.set(u.name, (sent.get(u.name) ?? 0) + 1);
          }
          sizes.forEach((size, i) => {
            assert.equal(sent.get(`m${i}`) ?? 0, size <= budget ? limit : 0);
          });
        },
      ),
    );
  });
});
