// When tables are built (src/runtime/table-debounce.ts): at once after a quiet view, once per burst while
// the view churns, never later than the maximum delay; a view that only grows by the longer pair of bounds. The mass join runs whole members on the in-memory
// ports (manual clock), arriving as the processes of a real cold start do, one every few tens of ms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { profileConfig } from '../../src/core/config.js';
import type { TableBuilderPort } from '../../src/member/ports.js';
import { buildTable, type PlacementTable } from '../../src/placement/index.js';
import { DebouncedTables, DEFAULT_TABLE_DEBOUNCE, type TableDebounceTuning } from '../../src/runtime/table-debounce.js';
import { ManualClock } from '../../src/shell/memory-ports.js';
import { MemoryCluster } from '../support/memory-members.js';

const TUNING: TableDebounceTuning = { quietMs: 300, maxDelayMs: 2000, growthQuietMs: 1000, growthMaxDelayMs: 6000 };

/** A builder that only records what it was asked for, and when. */
class RecordingBuilder implements TableBuilderPort {
  readonly asked: { readonly at: number; readonly owners: readonly string[] }[] = [];
  busyNow = false;
  closed = false;
  constructor(private readonly clock: { now(): number }) {}
  emptyTable(): PlacementTable {
    return buildTable([], { shards: 16, replicas: 1 });
  }
  request(owners: readonly string[]): void {
    this.asked.push({ at: this.clock.now(), owners: [...owners] });
  }
  get busy(): boolean {
    return this.busyNow;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function setup(tuning = TUNING): { clock: ManualClock; builder: RecordingBuilder; tables: DebouncedTables } {
  const clock = new ManualClock(10_000);
  const builder = new RecordingBuilder(clock);
  return { clock, builder, tables: new DebouncedTables(builder, clock, tuning) };
}

describe('DebouncedTables', () => {
  test('the defaults are the tuning these tests check', () => {
    assert.deepEqual({ ...DEFAULT_TABLE_DEBOUNCE }, TUNING);
  });

  test('a request after a quiet view goes to the builder at once; a repeat is no news', () => {
    const { clock, builder, tables } = setup();
    tables.request(['b', 'a']);
    assert.deepEqual(builder.asked, [{ at: 10_000, owners: ['a', 'b'] }]);
    tables.request(['a', 'b']);
    assert.equal(builder.asked.length, 1);
    assert.equal(tables.busy, false);
    void clock;
  });

  test('a burst that lost an owner is held until the view is quiet, then built once with its last set', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a', 'z']);
    for (let i = 0; i < 5; i++) {
      await clock.advance(100);
      tables.request(['a', ...Array.from({ length: i + 1 }, (_, j) => `m${j}`)]);
      assert.equal(tables.busy, true, 'a held request counts as a build under way');
    }
    assert.equal(builder.asked.length, 1, 'only the leading request so far');
    await clock.advance(TUNING.quietMs - 1);
    assert.equal(builder.asked.length, 1, 'not before the quiet window');
    await clock.advance(1);
    assert.equal(builder.asked.length, 2);
    assert.deepEqual(builder.asked[1], { at: 10_000 + 500 + TUNING.quietMs, owners: ['a', 'm0', 'm1', 'm2', 'm3', 'm4'] });
    assert.equal(tables.busy, false);
    assert.deepEqual([tables.forwarded, tables.debounced], [2, 1]);
  });

  test('a view that only grows is held for the longer quiet window, even after a quiet view', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a']);
    assert.deepEqual(builder.asked, [{ at: 10_000, owners: ['a'] }], 'the table of one owner at once');
    await clock.advance(5000);
    tables.request(['a', 'b']);
    assert.equal(builder.asked.length, 1, 'an added owner is held although the view was quiet');
    assert.equal(tables.busy, true);
    await clock.advance(TUNING.growthQuietMs - 100);
    tables.request(['c', 'a', 'b']);
    await clock.advance(TUNING.growthQuietMs - 1);
    assert.equal(builder.asked.length, 1, 'not before the growing view has been quiet for its window');
    await clock.advance(1);
    assert.deepEqual(builder.asked.slice(1), [{ at: 10_000 + 5000 + 2 * TUNING.growthQuietMs - 100, owners: ['a', 'b', 'c'] }]);
    assert.equal(tables.busy, false);
  });

  test('a growing view under endless joins is built at the longer maximum delay', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a']);
    await clock.advance(1);
    const heldAt = clock.now();
    const owners = ['a'];
    for (let i = 0; i < 150; i++) {
      owners.push(`n${String(i).padStart(3, '0')}`);
      tables.request(owners);
      await clock.advance(100);
    }
    const times = builder.asked.slice(1).map((a) => a.at - heldAt);
    assert.deepEqual(times.slice(0, 2), [6000, 12_000], 'one build per longer maximum delay');
  });

  test('a growing view waits for the build under way to end, and its bounds count from then', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a', 'b']);
    builder.busyNow = true;
    await clock.advance(5000);
    tables.request(['a', 'b', 'c']);
    await clock.advance(TUNING.growthMaxDelayMs * 3);
    assert.equal(builder.asked.length, 1, 'nothing while the builder is busy');
    builder.busyNow = false;
    const endedBy = clock.now();
    await clock.advance(TUNING.growthQuietMs + 1);
    assert.deepEqual(builder.asked.slice(1).map((a) => a.owners), [['a', 'b', 'c']]);
    assert.ok(builder.asked[1]!.at - endedBy <= TUNING.growthQuietMs, 'within the quiet window of the build ending');
  });

  test('an owner lost while the builder is busy goes to it as before, busy or not (the builder keeps it next)', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a', 'b', 'c']);
    builder.busyNow = true;
    await clock.advance(5000);
    tables.request(['a', 'c']);
    await clock.advance(100);
    tables.request(['a']);
    assert.deepEqual(builder.asked.slice(1), [{ at: 15_000, owners: ['a', 'c'] }], 'after a quiet view at once');
    await clock.advance(TUNING.quietMs);
    assert.deepEqual(builder.asked.slice(2), [{ at: 15_100 + TUNING.quietMs, owners: ['a'] }], 'a burst at the short bounds');
  });

  test('an owner lost while a growing view is held brings the build forward to the short bounds', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['a', 'b']);
    await clock.advance(5000);
    tables.request(['a', 'b', 'c']);
    await clock.advance(100);
    tables.request(['a', 'c']);
    await clock.advance(TUNING.quietMs);
    assert.deepEqual(builder.asked.slice(1), [{ at: 10_000 + 5000 + 100 + TUNING.quietMs, owners: ['a', 'c'] }]);
  });

  test('under endless churn a held request is built at the maximum delay', async () => {
    const { clock, builder, tables } = setup();
    tables.request(['x']);
    await clock.advance(1);
    const heldAt = clock.now();
    for (let i = 0; i < 100; i++) {
      tables.request([`n${i}`]);
      await clock.advance(100);
    }
    const times = builder.asked.slice(1).map((a) => a.at - heldAt);
    assert.deepEqual(times.slice(0, 4), [2000, 4000, 6000, 8000], 'one build per maximum delay');
  });

  test('the builder busy counts as busy; close stops a held request and closes the builder', async () => {
    const { clock, builder, tables } = setup();
    builder.busyNow = true;
    assert.equal(tables.busy, true);
    builder.busyNow = false;
    tables.request(['a']);
    tables.request(['a', 'b']);
    await tables.close();
    await clock.advance(TUNING.maxDelayMs * 2);
    assert.equal(builder.asked.length, 1);
    assert.equal(builder.closed, true);
    tables.request(['c']);
    assert.equal(builder.asked.length, 1, 'nothing after close');
  });
});

describe('tables through a simulated mass join', () => {
  test('60 members arriving over seconds: a few builds each instead of one per owner set, each set built within the bound', async () => {
    const LAN = profileConfig('lan');
    const cluster = new MemoryCluster();
    const seed = cluster.add('m0', { swim: LAN });
    await cluster.clock.advance(3000);
    const STEP_MS = 5;
    const MEMBERS = 60;
    // Per member: its own debounce in front of a recording builder, fed the owner set its view holds
    // (alive or suspect, serving), sampled every STEP_MS as the runner would ask on each view change.
    const watched = new Map<string, { tables: DebouncedTables; builder: RecordingBuilder; asks: { at: number; key: string }[]; lastKey: string }>();
    const owners = (name: string): string[] =>
      (cluster.members.get(name)?.member.core.members() ?? []).filter((r) => (r.state === 'alive' || r.state === 'suspect') && r.meta.serving).map((r) => r.name).sort();
    const sample = (): void => {
      for (const [name, w] of watched) {
        const set = owners(name);
        const key = set.join(',');
        if (key === w.lastKey) continue;
        w.lastKey = key;
        w.asks.push({ at: cluster.clock.now(), key });
        w.tables.request(set);
      }
    };
    const watch = (name: string): void => {
      const builder = new RecordingBuilder(cluster.clock);
      watched.set(name, { tables: new DebouncedTables(builder, cluster.clock, TUNING), builder, asks: [], lastKey: '' });
    };
    watch(seed.name);
    // Arrivals 20-180 ms apart (a fixed pattern, no randomness): about six seconds of joins.
    for (let i = 1; i < MEMBERS; i++) {
      cluster.add(`m${i}`, { swim: LAN, seeds: [seed.grpcAddr] });
      watch(`m${i}`);
      const gapMs = 20 + ((i * 37) % 161);
      for (let t = 0; t < gapMs; t += STEP_MS) {
        await cluster.clock.advance(STEP_MS);
        sample();
      }
    }
    for (let t = 0; t < 20_000 && !cluster.converged(); t += STEP_MS) {
      await cluster.clock.advance(STEP_MS);
      sample();
    }
    assert.ok(cluster.converged(), 'the cluster formed');
    for (let t = 0; t <= TUNING.growthMaxDelayMs; t += STEP_MS) {
      await cluster.clock.advance(STEP_MS);
      sample();
    }
    const everyone = owners('m0').join(',');
    let asked = 0;
    let built = 0;
    for (const [name, w] of watched) {
      asked += w.asks.length;
      built += w.builder.asked.length;
      assert.equal(w.tables.busy, false, `${name}: nothing held once the view is quiet`);
      assert.equal(w.builder.asked.at(-1)?.owners.join(','), everyone, `${name}: its last build is the whole cluster`);
      // The bound: every owner set asked for reaches the builder (itself or a newer one) within the maximum delay.
      for (const a of w.asks) {
        const next = w.builder.asked.find((b) => b.at >= a.at);
        assert.ok(next !== undefined && next.at - a.at <= TUNING.growthMaxDelayMs, `${name}: the set asked for at ${a.at} built by ${next?.at}`);
      }
    }
    assert.equal(cluster.members.size, MEMBERS);
    assert.ok(asked >= MEMBERS * 10, `the view changed many times per member (${asked} owner sets asked for)`);
    assert.ok(built * 4 <= asked, `builds ${built} at most a quarter of the owner sets asked for (${asked})`);
    assert.ok(built <= MEMBERS * 6, `builds ${built}: at most six per member over about six seconds of joins`);
  });
});
