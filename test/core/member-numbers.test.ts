// Member numbers (src/core/member-index.ts) and the structures indexed by them: the member table must
// behave exactly like the insertion-ordered Map it replaced, and the broadcast queue exactly like the
// object-and-Map queue it replaced (ReferenceQueue below), whether the index is private or shared.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BroadcastQueue } from '../../src/core/broadcast-queue.js';
import { PrivateMemberIndex, SharedMemberIndex, type MemberIndex } from '../../src/core/member-index.js';
import { MemberTable } from '../../src/core/member-table.js';
import { ProbeOrder } from '../../src/core/probe-order.js';
import type { MemberRecord, Update } from '../../src/core/types.js';
import { seededRandom } from '../../src/core/random.js';
import type { SwimCore } from '../../src/core/swim.js';
import { gossipTo, left, makeCore, nextPing, record as coreRecord, suspect } from './harness.js';

function record(name: string, incarnation: number): MemberRecord {
  return { name, lifeId: `${name}-life`, incarnation, state: 'alive', gossipAddr: `${name}:1`, grpcAddr: `${name}:2`, meta: { appAddr: '', serving: true, tags: {} } };
}

/**
 * Runs (set?, member, incarnation) operations on a table and on a Map standing for it; a set writes
 * incarnation + 1, so it always differs from a record of a list seeded at 0.
 */
function applyOps(table: MemberTable, model: Map<string, MemberRecord>, ops: readonly (readonly [boolean, number, number])[]): void {
  for (const [isSet, n, incarnation] of ops) {
    const name = `m${n}`;
    if (isSet) {
      const r = record(name, incarnation + 1);
      table.set(name, r);
      model.set(name, r);
    } else assert.equal(table.delete(name), model.delete(name));
  }
}

/** The queue as it was written with one object and one Map entry per update: the behaviour to keep. */
class ReferenceQueue {
  private readonly byName = new Map<string, { update: Update; size: number; transmits: number; prev: Entry | null; next: Entry | null }>();
  private readonly buckets: (Entry | null)[] = [];
  private smallestSize = Infinity;
  constructor(private readonly maxEntries: number) {}
  get size(): number {
    return this.byName.size;
  }
  transmitsOf(name: string): number | undefined {
    return this.byName.get(name)?.transmits;
  }
  enqueue(update: Update, size: number): void {
    const old = this.byName.get(update.name);
    if (old !== undefined) this.unlink(old);
    const entry: Entry = { update, size, transmits: 0, prev: null, next: null };
    this.byName.set(update.name, entry);
    this.link(entry);
    if (size < this.smallestSize) this.smallestSize = size;
    if (this.byName.size > this.maxEntries) this.dropMostSent();
  }
  remove(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.unlink(entry);
    this.byName.delete(name);
  }
  fill(bytesAvailable: number, limit: number, out: Update[]): number {
    if (this.byName.size === 0 || bytesAvailable < this.smallestSize) return 0;
    let used = 0;
    let misses = 0;
    const taken: Entry[] = [];
    scan: for (let t = 0; t < this.buckets.length; t++) {
      if (t >= limit) {
        for (let e = this.buckets[t] ?? null; e !== null; e = e.next) this.byName.delete(e.update.name);
        this.buckets[t] = null;
        continue;
      }
      for (let e = this.buckets[t] ?? null; e !== null; e = e.next) {
        if (used + e.size <= bytesAvailable) {
          out.push(e.update);
          used += e.size;
          taken.push(e);
          if (bytesAvailable - used < this.smallestSize) break scan;
        } else if (++misses > 32) break scan;
      }
    }
    for (const e of taken) {
      this.unlink(e);
      e.transmits++;
      if (e.transmits >= limit) this.byName.delete(e.update.name);
      else this.link(e);
    }
    if (this.byName.size === 0) this.smallestSize = Infinity;
    return used;
  }
  private link(e: Entry): void {
    while (this.buckets.length <= e.transmits) this.buckets.push(null);
    const head = this.buckets[e.transmits] ?? null;
    e.prev = null;
    e.next = head;
    if (head !== null) head.prev = e;
    this.buckets[e.transmits] = e;
  }
  private unlink(e: Entry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.buckets[e.transmits] = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
  }
  private dropMostSent(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      let tail = this.buckets[t] ?? null;
      if (tail === null) continue;
      while (tail.next !== null) tail = tail.next;
      this.unlink(tail);
      this.byName.delete(tail.update.name);
      return;
    }
  }
}
type Entry = { update: Update; size: number; transmits: number; prev: Entry | null; next: Entry | null };

type Op = { op: 'enqueue'; name: number; size: number } | { op: 'remove'; name: number } | { op: 'fill'; budget: number; limit: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('enqueue' as const), name: fc.integer({ min: 0, max: 12 }), size: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ op: fc.constant('remove' as const), name: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('fill' as const), budget: fc.integer({ min: 0, max: 400 }), limit: fc.integer({ min: 1, max: 5 }) }),
);

describe('BroadcastQueue over member numbers', () => {
  for (const kind of ['private', 'shared'] as const) {
    test(`picks, counts and drops exactly as the object-per-update queue did (${kind} index)`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 120 }), fc.integer({ min: 1, max: 14 }), (ops, maxEntries) => {
          // A shared index also numbers names the queue never holds (other cores' names).
          const shared = new SharedMemberIndex();
          for (let i = 20; i >= 0; i--) shared.acquire(`m${i}`);
          const q = new BroadcastQueue(maxEntries, kind === 'shared' ? shared : undefined);
          const other = kind === 'shared' ? new BroadcastQueue(maxEntries, shared) : null;
          other?.enqueue(left('m3'), 7);
          const ref = new ReferenceQueue(maxEntries);
          for (const o of ops) {
            if (o.op === 'enqueue') {
              const u = left(`m${o.name}`, o.size);
              q.enqueue(u, o.size);
              ref.enqueue(u, o.size);
            } else if (o.op === 'remove') {
              q.remove(`m${o.name}`);
              ref.remove(`m${o.name}`);
            } else {
              const got: Update[] = [];
              const want: Update[] = [];
              assert.equal(q.fill(o.budget, o.limit, got), ref.fill(o.budget, o.limit, want));
              assert.deepEqual(got, want);
            }
            assert.equal(q.size, ref.size);
            for (let i = 0; i <= 12; i++) assert.equal(q.transmitsOf(`m${i}`), ref.transmitsOf(`m${i}`));
          }
          if (other !== null) assert.equal(other.transmitsOf('m3'), 0, 'a queue sharing the index is untouched');
        }),
      );
    });
  }
});

describe('MemberTable', () => {
  test('keeps insertion order, replaces in place and appends re-added names, like a Map (private and shared index)', () => {
    const tableOps = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 9 })), { maxLength: 150 });
    fc.assert(
      fc.property(tableOps, fc.boolean(), (ops, useShared) => {
        const shared = new SharedMemberIndex();
        const table = new MemberTable(useShared ? shared : undefined);
        const neighbour = useShared ? new MemberTable(shared) : null;
        neighbour?.set('m7', record('m7', 99));
        const model = new Map<string, MemberRecord>();
        for (const [isSet, n, incarnation] of ops) {
          const name = `m${n}`;
          if (isSet) {
            const r = record(name, incarnation);
            table.set(name, r);
            model.set(name, r);
          } else assert.equal(table.delete(name), model.delete(name));
          assert.equal(table.size, model.size);
        }
        assert.deepEqual([...table.values()], [...model.values()]);
        assert.deepEqual(table.toArray(), [...model.values()]);
        assert.deepEqual([...table.keys()], [...model.keys()]);
        for (let n = 0; n <= 16; n++) {
          assert.equal(table.get(`m${n}`), model.get(`m${n}`));
          assert.equal(table.has(`m${n}`), model.has(`m${n}`));
        }
        if (neighbour !== null) assert.deepEqual(neighbour.toArray(), [record('m7', 99)], 'a table sharing the index is untouched');
      }),
    );
  });

  test('appendAll takes a list as set would one by one, and tables seeded from one list stay apart as they change (private and shared index)', () => {
    const tableOps = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 9 })), { maxLength: 60 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(tableOps, { minLength: 1, maxLength: 4 }), fc.boolean(), (members, opsPerTable, useShared) => {
        const shared = new SharedMemberIndex();
        const list = Array.from({ length: members }, (_, i) => record(`m${i}`, 0));
        // Each table first holds one record of the list (as a core holds itself), then takes the whole list.
        const tables = opsPerTable.map((_, t) => {
          const table = new MemberTable(useShared ? shared : undefined);
          const self = list[t % members] as MemberRecord;
          table.set(self.name, self);
          const model = new Map<string, MemberRecord>([[self.name, self]]);
          const ids = table.appendAll(list);
          assert.equal(ids.length, members);
          for (const r of list) if (!model.has(r.name)) model.set(r.name, r);
          return { table, model };
        });
        tables.forEach(({ table, model }, t) => applyOps(table, model, opsPerTable[t] ?? []));
        for (const { table, model } of tables) {
          assert.equal(table.size, model.size);
          assert.deepEqual(table.toArray(), [...model.values()]);
          for (let n = 0; n <= 16; n++) assert.equal(table.get(`m${n}`), model.get(`m${n}`));
        }
        assert.deepEqual(list, Array.from({ length: members }, (_, i) => record(`m${i}`, 0)), 'the list itself is never written');
      }),
    );
  });

  test('a table seeded from a long shared list stays a Map through more changes than it keeps beside the list (private and shared index)', () => {
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 320 }), fc.integer({ min: 0, max: 9 }));
    fc.assert(
      fc.property(fc.integer({ min: 150, max: 300 }), fc.array(op, { minLength: 400, maxLength: 500 }), fc.boolean(), (members, ops, useShared) => {
        const shared = new SharedMemberIndex();
        const list = Array.from({ length: members }, (_, i) => record(`m${i}`, 0));
        const neighbour = new MemberTable(useShared ? shared : undefined);
        neighbour.set('m1', list[1] as MemberRecord);
        neighbour.appendAll(list);
        const table = new MemberTable(useShared ? shared : undefined);
        table.set('m0', list[0] as MemberRecord);
        table.appendAll(list);
        const model = new Map<string, MemberRecord>(list.map((r) => [r.name, r]));
        applyOps(table, model, ops);
        assert.equal(table.size, model.size);
        assert.deepEqual([...table.keys()], [...model.keys()]);
        assert.deepEqual(table.toArray(), [...model.values()]);
        for (let n = 0; n <= 320; n++) assert.equal(table.get(`m${n}`), model.get(`m${n}`));
        assert.deepEqual(neighbour.toArray(), [list[1], ...list.filter((_, i) => i !== 1)], 'the table sharing the list is untouched');
      }),
      { numRuns: 40 },
    );
  });

  test('a table already holding more than itself takes a list name by name', () => {
    const index = new SharedMemberIndex();
    const list = [record('a', 0), record('b', 0), record('c', 0)];
    const table = new MemberTable(index);
    table.set('c', list[2] as MemberRecord);
    table.set('z', record('z', 3));
    table.appendAll(list);
    assert.deepEqual([...table.keys()], ['c', 'z', 'a', 'b']);
    const other = new MemberTable(index);
    other.set('b', record('b', 5)); // not the list's record for b: nothing is shared
    other.appendAll(list);
    assert.deepEqual(other.toArray(), [record('b', 5), list[0], list[2]]);
  });

  test('a table that shares a list takes a second list name by name, without writing the shared records', () => {
    const index = new SharedMemberIndex();
    const list = [record('a', 0), record('b', 0), record('c', 0)];
    const seeded = (self: number): MemberTable => {
      const table = new MemberTable(index);
      table.set((list[self] as MemberRecord).name, list[self] as MemberRecord);
      table.appendAll(list);
      return table;
    };
    const first = seeded(0);
    const second = seeded(1);
    // A later list with a name the first does not hold: the first table appends it to its own copy.
    first.appendAll([record('a', 0), record('d', 2)]);
    assert.deepEqual([...first.keys()], ['a', 'b', 'c', 'd']);
    assert.deepEqual([...second.keys()], ['b', 'a', 'c']);
    assert.equal(second.get('d'), undefined);
    // The second table still adds d as a new member, at the end of its own order.
    second.set('d', record('d', 7));
    assert.deepEqual([...second.keys()], ['b', 'a', 'c', 'd']);
    assert.deepEqual(second.get('d'), record('d', 7));
  });

  test('a private index recycles the numbers of forgotten names: churn through many names does not grow it', () => {
    const index = new PrivateMemberIndex();
    const table = new MemberTable(index);
    table.set('stays', record('stays', 1));
    for (let i = 0; i < 10_000; i++) {
      table.set(`churn-${i}`, record(`churn-${i}`, 1));
      if (i >= 2) table.delete(`churn-${i - 2}`);
    }
    assert.equal(table.size, 3);
    assert.equal(index.span, 4, 'numbers in use at once, not names ever seen');
    assert.equal(index.find('churn-0'), -1);
  });

  test('a lookup of an unknown name assigns no number', () => {
    const index: MemberIndex = new PrivateMemberIndex();
    const table = new MemberTable(index);
    assert.equal(table.get('stranger'), undefined);
    assert.equal(table.delete('stranger'), false);
    assert.equal(index.span, 0);
  });

  test('a shared index numbers each name once for every table that holds it', () => {
    const index = new SharedMemberIndex();
    const a = new MemberTable(index);
    const b = new MemberTable(index);
    a.set('x', record('x', 1));
    b.set('y', record('y', 1));
    b.set('x', record('x', 2));
    assert.equal(index.span, 2);
    assert.equal(a.get('x')?.incarnation, 1);
    assert.equal(b.get('x')?.incarnation, 2);
    assert.deepEqual([...b.keys()], ['y', 'x']);
  });
});

describe('A core seeded from a shared list', () => {
  test('holds and probes the same as a core seeded from its own copy of the list, and its changes stay its own', () => {
    const names = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const index = new SharedMemberIndex();
    const shared = makeCore('n4', { memberIndex: index });
    const neighbour = makeCore('n7', { memberIndex: index, random: seededRandom(99) });
    // Each core's own record is the list's, as in a simulator's converged start: both take one array.
    const own = new Map([shared, neighbour].map((core, i) => [i === 0 ? 'n4' : 'n7', core.member(i === 0 ? 'n4' : 'n7') as MemberRecord]));
    const list = names.map((n) => own.get(n) ?? coreRecord(n, 'alive'));
    neighbour.seedConverged(list);
    shared.seedConverged(list);
    // The same start with a list of copies: no array is shared, one record at a time.
    const alone = makeCore('n4');
    alone.seedConverged(list.map((r) => ({ ...r })));
    assert.deepEqual(shared.members(), alone.members());
    const probed = (core: SwimCore): string[] => Array.from({ length: 30 }, () => nextPing(core).ping.target);
    assert.deepEqual(probed(shared), probed(alone));
    gossipTo(shared, [suspect('n2', 1000)]);
    assert.equal(shared.member('n2')?.state, 'suspect');
    assert.equal(neighbour.member('n2')?.state, 'alive', 'a change in one core leaves the shared list and the other cores as they were');
    assert.equal(list[2]?.state, 'alive');
  });
});

describe('ProbeOrder over member numbers', () => {
  test('a list taken as member numbers gives the names, draws and picks it gives taken as names, until an add', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -1, max: 59 }), fc.integer({ min: 1, max: 1000 }), (members, skip, seed) => {
        const index = new SharedMemberIndex();
        index.acquire('elsewhere'); // numbers not starting at 0
        const names = Array.from({ length: members }, (_, i) => `m${i}`);
        const ids = Int32Array.from(names, (n) => index.acquire(n));
        const byName = new ProbeOrder(seededRandom(seed));
        const byNumber = new ProbeOrder(seededRandom(seed));
        byName.addEach(names, skip);
        byNumber.addEach(names, skip, { ids, nameOf: (id) => index.nameOf(id) });
        assert.equal(byNumber.length, byName.length);
        const eligible = (n: string): boolean => n !== 'm3';
        for (let i = 0; i < 5; i++) assert.deepEqual(byNumber.pick(3, (n) => !eligible(n)), byName.pick(3, (n) => !eligible(n)));
        const all = (): string[] => names.filter((_, i) => i !== skip);
        for (let i = 0; i < members / 2; i++) assert.equal(byNumber.next(all, eligible), byName.next(all, eligible));
        byName.add('late', members + 1, all);
        byNumber.add('late', members + 1, all);
        for (let i = 0; i < members + 3; i++) assert.equal(byNumber.next(all, eligible), byName.next(all, eligible));
      }),
      { numRuns: 60 },
    );
  });
});
