// RouteIndex: the pre-encoded answers (RouteEncoder) are exactly the JSON of route()'s answers, which
// follow the table; unchanged views keep the index.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTable } from '../../src/placement/index.js';
import { MAX_CACHED_TAILS, RouteIndex } from '../../src/runtime/route-index.js';
import { recordsOf } from './route-fixtures.js';

/** The JSON after the shard number, as JSON.stringify writes the answer object. */
function expectedTail(index: RouteIndex, key: string): string {
  const full = JSON.stringify(index.route(key));
  return full.slice(full.indexOf(',"owner":'));
}

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', '"', '\\', '\n', 'é', '😀'), minLength: 1, maxLength: 12 });

describe('RouteIndex', () => {
  test('answers follow the table: shard, owner and replicas by member index', () => {
    const names = ['a', 'b', 'c', 'd"quoted'];
    const table = buildTable(names, { shards: 1024, replicas: 2 });
    const index = new RouteIndex(table, recordsOf(names));
    fc.assert(
      fc.property(keyArb, (key) => {
        const a = index.route(key);
        assert.equal(a.shard, table.shardOf(key));
        assert.equal(a.owner?.name, table.ownerOf(a.shard));
        assert.deepEqual(a.replicas.map((r) => r.name), table.replicasOf(a.shard));
        assert.equal(a.version, table.version);
        assert.equal(a.owner?.addresses.app, `10.0.0.${names.indexOf(a.owner!.name)}:8080`);
        assert.equal(Buffer.from(index.tailOf(key, index.shardOf(key))).toString('utf8'), expectedTail(index, key));
        assert.equal(index.answerText(key), JSON.stringify(index.route(key)));
      }),
    );
  });

  test('a table without members answers owner null and no replicas', () => {
    const index = new RouteIndex(buildTable([], { shards: 64, replicas: 2 }), new Map());
    assert.deepEqual(JSON.parse(JSON.stringify(index.route('k'))).owner, null);
    assert.equal(Buffer.from(index.tailOf('k', index.shardOf('k'))).toString(), expectedTail(index, 'k'));
  });

  test('more combinations than the cache holds are still answered right', () => {
    const names = Array.from({ length: 60 }, (_, i) => `m${i}`);
    const table = buildTable(names, { shards: 32_768, replicas: 3 });
    const index = new RouteIndex(table, recordsOf(names));
    const keys = Array.from({ length: 40_000 }, (_, i) => `key-${i}`);
    const combos = new Set(keys.map((k) => { const s = table.shardOf(k); return `${table.ownerOf(s)}|${table.replicasOf(s).join(',')}`; }));
    assert.ok(combos.size > MAX_CACHED_TAILS, `the test needs more than ${MAX_CACHED_TAILS} combinations, has ${combos.size}`);
    const out = Buffer.alloc(index.compactTailRoom);
    for (const key of keys) {
      const shard = index.shardOf(key);
      assert.equal(Buffer.from(index.tailOf(key, shard)).toString(), expectedTail(index, key));
      // The compact tail too, cached (arena) or past the cache: member indexes of the table.
      const end = index.writeCompactTail(shard, out, 0);
      const owner = table.members.indexOf(table.ownerOf(shard)!);
      const replicas = table.replicasOf(shard).map((r) => table.members.indexOf(r));
      assert.equal(out.subarray(0, end).toString(), `,"owner":${owner},"replicas":[${replicas.join(',')}]}`);
    }
  });

  test('next() keeps the index while table and owners are unchanged, and renews it otherwise', () => {
    const names = ['a', 'b', 'c'];
    const table = buildTable(names, { shards: 256, replicas: 1 });
    const index = new RouteIndex(table, recordsOf(names));
    assert.equal(index.next(table, recordsOf(names)), index);
    const moved = index.next(table, recordsOf(names, true, 9090));
    assert.notEqual(moved, index);
    assert.equal(moved.route('k').owner?.addresses.app.endsWith(':9090'), true);
    assert.equal(Buffer.from(moved.tailOf('k', moved.shardOf('k'))).toString(), expectedTail(moved, 'k'));
    const other = buildTable(['a', 'b'], { shards: 256, replicas: 1 });
    assert.equal(index.next(other, recordsOf(names)).version, other.version);
  });

  test('a member that stopped serving before the table was rebuilt is skipped: the next serving member of the ranking is answered', () => {
    const names = ['a', 'b', 'c', 'd'];
    const table = buildTable(names, { shards: 1024, replicas: 2 });
    // "b" is draining: its records say it no longer serves, the table (rebuilt later) still has it.
    const records = recordsOf(names);
    const b = records.get('b')!;
    records.set('b', { ...b, meta: { ...b.meta, serving: false } });
    const index = new RouteIndex(table, records);
    const after = buildTable(['a', 'c', 'd'], { shards: 1024, replicas: 2 });
    let ownedByB = 0;
    const out = Buffer.alloc(index.compactTailRoom);
    for (let i = 0; i < 2000; i++) {
      const key = `key-${i}`;
      const a = index.route(key);
      const ranking = [table.ownerOf(a.shard)!, ...table.replicasOf(a.shard)];
      const serving = ranking.filter((n) => n !== 'b');
      if (table.ownerOf(a.shard) === 'b') {
        ownedByB++;
        // The owner the rebuilt table will name (a leaver is removed from every ranking).
        assert.equal(a.owner?.name, after.ownerOf(a.shard));
      }
      assert.equal(a.owner?.name, serving[0]);
      assert.equal(a.owner?.serving, true);
      assert.deepEqual(a.replicas.map((r) => r.name), serving.slice(1));
      assert.equal(Buffer.from(index.tailOf(key, a.shard)).toString('utf8'), expectedTail(index, key));
      assert.equal(index.answerText(key), JSON.stringify(a));
      const end = index.writeCompactTail(a.shard, out, 0);
      assert.equal(out.subarray(0, end).toString(), `,"owner":${names.indexOf(serving[0]!)},"replicas":[${serving.slice(1).map((n) => names.indexOf(n)).join(',')}]}`);
    }
    assert.ok(ownedByB > 0, 'some keys were owned by the draining member');
  });

  test('when no member of a ranking serves, the table\'s owner is answered as it is', () => {
    const names = ['a', 'b'];
    const table = buildTable(names, { shards: 64, replicas: 1 });
    const index = new RouteIndex(table, recordsOf(names, false));
    const a = index.route('k');
    assert.equal(a.owner?.name, table.ownerOf(a.shard));
    assert.equal(a.owner?.serving, false);
    assert.deepEqual(a.replicas.map((r) => r.name), table.replicasOf(a.shard));
  });
});
