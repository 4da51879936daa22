import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerHeap } from '../../src/core/timer-heap.js';

interface T {
  at: number;
  cancelled: boolean;
  id: number;
}

describe('TimerHeap', () => {
  test('pops live timers in deadline order, ties in insertion order, skipping cancelled ones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean())), (specs) => {
        const heap = new TimerHeap<T>();
        const timers = specs.map(([at, cancel], id) => heap.push({ at, cancelled: false, id }));
        specs.forEach(([, cancel], i) => {
          if (cancel) timers[i]!.cancelled = true;
        });
        const expected = timers.filter((t) => !t.cancelled).sort((a, b) => a.at - b.at || a.id - b.id).map((t) => t.id);
        const got: number[] = [];
        for (let t = heap.popDue(Infinity); t !== undefined; t = heap.popDue(Infinity)) got.push(t.id);
        assert.deepEqual(got, expected);
      }),
    );
  });

  test('popDue leaves timers that are not yet due', () => {
    const heap = new TimerHeap<T>();
    heap.push({ at: 10, cancelled: false, id: 1 });
    heap.push({ at: 5, cancelled: false, id: 2 });
    assert.equal(heap.popDue(4), undefined);
    assert.equal(heap.popDue(5)?.id, 2);
    assert.equal(heap.peek()?.at, 10);
  });
});
