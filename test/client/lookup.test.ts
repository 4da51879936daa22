// The library's own lookup (client/src/table.ts) against the project's vectors: test/vectors/placement.json
// (key -> shard, owner, replicas for fixed member sets) through a RingTable read from the compact table
// encoding the sidecar serves, and ../shared/vectors/xxh64.json through its shardOf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { wasmHashHex } from '../../client/src/lookup.js';
import { RingTable, movesOf, shardOf } from '../../client/src/table.js';
import type { CompactTableJson } from '../../client/src/types.js';
import { compactTableJson } from '../../src/http/serialize-table.js';
import { buildTable, jumpHash, keyHash, type PlacementTable } from '../../src/placement/index.js';
import type { RouteOwner } from '../../src/runtime/view.js';
import { readSharedVectors } from '../placement/shared-vectors.js';
import { ringTableOf, testOwner as owner } from '../support/ring-table.js';

interface VectorCase {
  readonly name: string;
  readonly members: string[];
  readonly shards: number;
  readonly replicas: number;
  readonly vnodes: number;
  readonly bounded_load: number | null;
  readonly version: string;
  readonly shard_owners: { shard: number; owner: string | null; replicas: string[] }[];
  readonly routes: { key: string; shard: number; owner: string | null; replicas: string[] }[];
}

const cases = (JSON.parse(readFileSync(new URL('../vectors/placement.json', import.meta.url), 'utf8')) as { cases: VectorCase[] }).cases;

test('every placement vector case routes through the library as the vectors say', () => {
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const t = ringTableOf(buildTable(c.members, { shards: c.shards, replicas: c.replicas, vnodes: c.vnodes, ...(c.bounded_load === null ? {} : { boundedLoad: c.bounded_load }) }));
    assert.equal(t.version, c.version, c.name);
    for (const r of c.routes) {
      const shard = shardOf(r.key, t.shards);
      const a = t.ringAnswer(r.key, shard);
      assert.deepEqual({ shard: a.shard, owner: a.owner?.name ?? null, replicas: a.replicas.map((m) => m.name) }, { shard: r.shard, owner: r.owner, replicas: r.replicas }, `${c.name}: ${JSON.stringify(r.key)}`);
    }
    for (const s of c.shard_owners) {
      assert.deepEqual({ owner: t.owner(s.shard)?.name ?? null, replicas: t.replicas(s.shard).map((m) => m.name) }, { owner: s.owner, replicas: s.replicas }, `${c.name}: shard ${s.shard}`);
    }
  }
});

test('shardOf is jump(XXH64(key)) on the shared XXH64 vectors', () => {
  const vectors = readSharedVectors<{ key: string; xxh64: string }>('xxh64.json');
  for (const v of vectors) {
    const hi = parseInt(v.xxh64.slice(0, 8), 16);
    const lo = parseInt(v.xxh64.slice(8), 16);
    for (const buckets of [1, 7, 1000, 262_144, 1 << 20]) assert.equal(shardOf(v.key, buckets), jumpHash(hi, lo, buckets), `${JSON.stringify(v.key)} over ${buckets}`);
  }
});

test('the WebAssembly XXH64 gives the shared vectors', () => {
  for (const v of readSharedVectors<{ key: string; xxh64: string }>('xxh64.json')) assert.equal(wasmHashHex(v.key), v.xxh64, JSON.stringify(v.key));
});

test('shardOf answers as the sidecar (XXH64 + jump in JavaScript) on random keys and bucket counts', () => {
  const sidecar = (key: string, buckets: number): number => {
    const h = keyHash(key);
    return jumpHash(h.hi, h.lo, buckets);
  };
  const keys = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }));
  fc.assert(
    fc.property(keys, fc.oneof(fc.integer({ min: 1, max: 0x7fffffff }), fc.constantFrom(1, 262_144, 1 << 20, 0x7fffffff)), (key, buckets) => {
      assert.equal(shardOf(key, buckets), sidecar(key, buckets));
    }),
    { numRuns: 3000 },
  );
  // Every length around the 32-byte stripe and 8/4/1-byte tails, and keys past the module's memory.
  for (let n = 0; n < 100; n++) assert.equal(shardOf('k'.repeat(n), 262_144), sidecar('k'.repeat(n), 262_144), `length ${n}`);
  for (const key of ['x'.repeat(30_000), 'é'.repeat(25_000), '\ud800'.repeat(40)]) assert.equal(shardOf(key, 262_144), sidecar(key, 262_144));
});

test('a table that is not the documented format, or is inconsistent, is refused', () => {
  const good = JSON.parse(compactTableJson({ version: 'v', shards: 4, replicas: 1, members: [owner('a'), owner('b')], tableMembers: 2, ownerIndex: [0, 1, 0, 1], replicaIndex: [1, 0, 1, 0], claims: [] })) as CompactTableJson;
  assert.equal(new RingTable(good).owner(1)?.name, 'b');
  assert.throws(() => new RingTable({ ...good, format: 'other' }), /unknown format/);
  assert.throws(() => new RingTable({ ...good, owners: Buffer.from([0, 1, 0]).toString('base64') }), /owners holds 3 bytes/);
  assert.throws(() => new RingTable({ ...good, owners: Buffer.from([0, 1, 0, 2]).toString('base64') }), /out of range/);
  const words = (...xs: number[]): string => {
    const b = Buffer.alloc(xs.length * 4);
    xs.forEach((x, i) => b.writeUInt32LE(x, i * 4));
    return b.toString('base64');
  };
  assert.equal(new RingTable({ ...good, indexBytes: 4, owners: words(0, 1, 0, 1), replicaIndexes: words(1, 0, 1, 0) }).owner(3)?.name, 'b');
  assert.throws(() => new RingTable({ ...good, indexBytes: 4, owners: words(0, 1, 0, 0xffffffff), replicaIndexes: words(1, 0, 1, 0) }), /out of range/);
  assert.throws(() => new RingTable({ ...good, claims: [['x', 5, '1']] }), /claim names no member/);
  assert.throws(() => new RingTable({ ...good, claims: [['x', 1, 'not a number']] }), /no fencing token/);
});

test("movesOf: the owner shards and replica slots one member gained and lost, as ranges", () => {
  const before = buildTable(['a', 'b', 'c'], { shards: 4096, replicas: 1 });
  const after = buildTable(['a', 'b', 'c', 'd'], { shards: 4096, replicas: 1 });
  const tb = ringTableOf(before);
  const ta = ringTableOf(after);
  const expand = (ranges: readonly (readonly [number, number])[]): number[] => ranges.flatMap(([f, l]) => Array.from({ length: l - f + 1 }, (_, i) => f + i));
  const d = movesOf(tb, ta, 'd');
  assert.equal(d.lost.length, 0);
  const gainedOwner = d.gained.filter((g) => g.role === 'owner').flatMap((g) => expand(g.ranges)).sort((x, y) => x - y);
  const ownedNow = Array.from({ length: 4096 }, (_, s) => s).filter((s) => ta.owner(s)?.name === 'd');
  assert.deepEqual(gainedOwner, ownedNow);
  for (const g of d.gained) if (g.role === 'owner') for (const s of expand(g.ranges)) assert.equal(tb.owner(s)?.name, g.from);
  const a = movesOf(tb, ta, 'a');
  const lostOwner = a.lost.filter((g) => g.role === 'owner').flatMap((g) => expand(g.ranges));
  assert.deepEqual(lostOwner.sort((x, y) => x - y), Array.from({ length: 4096 }, (_, s) => s).filter((s) => tb.owner(s)?.name === 'a' && ta.owner(s)?.name !== 'a'));
  assert.ok(a.lost.every((g) => g.role === 'replica' || g.to === 'd'), 'owners move only to the joiner');
});

test('every shard answers its owner and replicas, from shared placements and past their bound from per-shard ones', () => {
  const cases: [string, PlacementTable, (distinct: number) => boolean][] = [
    // 10 members, 2 replicas: at most 720 placements, shared by every shard placed alike.
    ['shared', buildTable(Array.from({ length: 10 }, (_, i) => `m${i}`), { shards: 16_384, replicas: 2 }), (d) => d <= 720],
    // 60 members, 3 replicas over 16,384 shards: thousands of placements, past the shared bound.
    ['per shard', buildTable(Array.from({ length: 60 }, (_, i) => `m${i}`), { shards: 16_384, replicas: 3 }), (d) => d === 16_384],
    ['no members', buildTable([], { shards: 64, replicas: 2 }), (d) => d === 1],
  ];
  for (const [what, table, distinctOk] of cases) {
    const t = ringTableOf(table);
    const lists = new Set<readonly RouteOwner[]>();
    for (let s = 0; s < table.shards; s++) {
      const a = t.ringAnswer(`k${s}`, s);
      assert.deepEqual({ owner: a.owner?.name ?? null, replicas: a.replicas.map((m) => m.name) }, { owner: table.ownerOf(s), replicas: [...table.replicasOf(s)] }, `${what}: shard ${s}`);
      assert.equal(t.ownerName(s), table.ownerOf(s), `${what}: ownerName of shard ${s}`);
      assert.equal(a.replicas, t.replicas(s), `${what}: one list per shard`);
      assert.ok(Object.isFrozen(a.replicas), `${what}: the shared list cannot be changed through an answer`);
      lists.add(a.replicas);
    }
    assert.ok(distinctOk(lists.size), `${what}: ${lists.size} distinct replica lists`);
  }
});
