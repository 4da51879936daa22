// test/vectors/placement.json (written by make-vectors.ts) is what other implementations check
// against, so it must stay what this implementation answers, and its smaller cases must also be what
// the brute-force reading of the spec answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { buildTable, xxh64 } from '../../src/placement/index.js';
import { naiveRanking, naiveRing, naiveShardOf } from './naive.js';

interface Route {
  key: string;
  xxh64: string;
  shard: number;
  owner: string | null;
  replicas: string[];
}

interface Case {
  name: string;
  members: string[];
  shards: number;
  replicas: number;
  vnodes: number;
  bounded_load: number | null;
  version: string;
  sorted_members: string[];
  shards_per_member: Record<string, number>;
  shard_owners: { shard: number; owner: string | null; replicas: string[] }[];
  routes: Route[];
}

const file = JSON.parse(readFileSync(new URL('../vectors/placement.json', import.meta.url), 'utf8')) as { cases: Case[] };
const encoder = new TextEncoder();

describe('placement vectors (test/vectors/placement.json)', () => {
  test('the file has cases with defaults, small rings, unicode names and bounded load', () => {
    assert.ok(file.cases.length >= 10);
    assert.ok(file.cases.some((c) => c.shards === 262144 && c.vnodes === 1024 && c.sorted_members.length === 50));
    assert.ok(file.cases.some((c) => c.bounded_load !== null));
    assert.ok(file.cases.some((c) => c.sorted_members.some((m) => /[^\x00-\x7f]/.test(m))));
  });

  for (const c of file.cases) {
    test(`${c.name}: this implementation answers the file`, () => {
      const t = buildTable(c.members, { shards: c.shards, replicas: c.replicas, vnodes: c.vnodes, boundedLoad: c.bounded_load });
      assert.equal(t.version, c.version);
      assert.deepEqual(t.members, c.sorted_members);
      assert.deepEqual({ ...t.shardsPerMember() }, c.shards_per_member);
      for (const s of c.shard_owners) {
        assert.equal(t.ownerOf(s.shard), s.owner, `shard ${s.shard}`);
        assert.deepEqual(t.replicasOf(s.shard), s.replicas, `shard ${s.shard}`);
      }
      for (const r of c.routes) {
        assert.equal(xxh64(encoder.encode(r.key)).toString(16).padStart(16, '0'), r.xxh64, JSON.stringify(r.key));
        assert.equal(t.shardOf(r.key), r.shard, JSON.stringify(r.key));
        assert.equal(t.ownerOf(r.shard), r.owner);
        assert.deepEqual(t.replicasOf(r.shard), r.replicas);
      }
    });

    if (c.bounded_load === null && c.sorted_members.length * c.vnodes <= 60_000) {
      test(`${c.name}: the brute-force reference answers the file`, () => {
        const ring = naiveRing(c.members, c.vnodes);
        const check = (shard: number, owner: string | null, replicas: string[]): void => {
          const ranking = naiveRanking(ring, shard, c.shards);
          assert.equal(owner, ranking[0] ?? null);
          assert.deepEqual(replicas, ranking.slice(1, 1 + c.replicas));
        };
        for (const s of c.shard_owners) check(s.shard, s.owner, s.replicas);
        for (const r of c.routes) {
          assert.equal(naiveShardOf(r.key, c.shards), r.shard);
          check(r.shard, r.owner, r.replicas);
        }
      });
    }
  }
});
