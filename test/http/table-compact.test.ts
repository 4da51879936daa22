// GET /v1/table/compact: the whole table as member indexes, decoded as docs/http.md describes, gives
// every shard the owner and replicas route answers name, and lists the claims route answers apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAppApi } from '../../src/http/index.js';
import { compactTableJson, indexBytesFor } from '../../src/http/serialize-table.js';
import { createMetrics } from '../../src/metrics.js';
import type { CompactTableView, RouteOwner } from '../../src/runtime/view.js';
import { decodeCompactTable, type CompactTableJson } from '../support/compact-table.js';
import { FakeViewWithClaims } from './fake-view.js';

test('the compact table answers like route() for every key, claims included', async () => {
  const view = new FakeViewWithClaims();
  const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
  try {
    const res = await app.inject({ method: 'GET', url: '/v1/table/compact' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const raw = res.json<CompactTableJson>();
    assert.equal(raw.format, 'swimring-table-v1');
    assert.equal(raw.indexBytes, 1);
    const t = decodeCompactTable(raw);
    assert.equal(t.version, view.version);
    for (let i = 0; i < 500; i++) {
      const key = i % 50 === 0 ? 'theirs' : `key-${i}`;
      const want = view.route(key);
      const claim = t.claims.get(key);
      const ringOwner = t.owner(want.shard);
      const ringReplicas = t.replicas(want.shard);
      // docs/http.md: a claimed key's replicas are the shard's ring owner and replicas without the claimant,
      // as many as the ring names.
      const replicas = claim === undefined ? ringReplicas : [ringOwner, ...ringReplicas].filter((m) => m !== null && m.name !== claim.owner.name).slice(0, ringReplicas.length);
      const got = { key, shard: want.shard, owner: claim?.owner ?? ringOwner, replicas, version: t.version, ...(claim ? { claimed: true, fence: claim.fence } : {}) };
      assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
    }
    assert.deepEqual([...t.claims.keys()].sort(), ['mine', 'theirs']);
  } finally {
    await app.close();
  }
});

function syntheticTable(tableMembers: number, shards: number, claimant: RouteOwner | null): CompactTableView {
  const members: RouteOwner[] = Array.from({ length: tableMembers }, (_, i) => ({ name: `n${i}`, addresses: { gossip: `g${i}`, grpc: `r${i}`, app: '' }, serving: true }));
  const replicas = tableMembers === 0 ? 0 : 2;
  const pick = (s: number, k: number): number => (s * 7919 + k * 104729) % tableMembers;
  return {
    version: 'v',
    shards,
    replicas,
    members: claimant ? [...members, claimant] : members,
    tableMembers,
    ownerIndex: Array.from({ length: shards }, (_, s) => (tableMembers === 0 ? -1 : pick(s, 0))),
    replicaIndex: Array.from({ length: shards * replicas }, (_, i) => pick(Math.floor(i / replicas), 1 + (i % replicas))),
    claims: claimant ? [['pinned', tableMembers, '65536']] : [],
  };
}

test('index width follows the member count: 1, 2 and 4 bytes decode to the same indexes', () => {
  assert.deepEqual([1, 256, 257, 65536, 65537].map(indexBytesFor), [1, 1, 2, 2, 4]);
  for (const n of [3, 256, 300]) {
    const table = syntheticTable(n, 1000, { name: 'outsider', addresses: { gossip: 'x', grpc: 'y', app: 'z' }, serving: false });
    const raw = JSON.parse(compactTableJson(table)) as CompactTableJson;
    assert.equal(raw.indexBytes, indexBytesFor(n));
    const t = decodeCompactTable(raw);
    for (let s = 0; s < table.shards; s++) {
      assert.deepEqual(t.owner(s), table.members[table.ownerIndex[s]!]);
      assert.deepEqual(t.replicas(s), [table.members[table.replicaIndex[2 * s]!], table.members[table.replicaIndex[2 * s + 1]!]]);
    }
    assert.deepEqual([t.claims.get('pinned')?.owner.name, t.claims.get('pinned')?.fence], ['outsider', '65536']);
  }
});

test('a table without members: empty index arrays, every owner null', () => {
  const raw = JSON.parse(compactTableJson(syntheticTable(0, 64, null))) as CompactTableJson;
  assert.equal(raw.owners, '');
  assert.equal(raw.replicaIndexes, '');
  const t = decodeCompactTable(raw);
  assert.equal(t.owner(5), null);
  assert.deepEqual(t.replicas(5), []);
});
