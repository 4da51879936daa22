// Writes test/vectors/placement.json: placement answers for fixed member sets and keys, produced by this
// implementation (and checked by test/placement/vectors.test.ts, which also holds the smaller cases
// against the brute-force reference). Clients in other languages test themselves against the file.
//   node --import tsx test/placement/make-vectors.ts
import { writeFileSync } from 'node:fs';
import { buildTable, keyHash, type PlacementOptions } from '../../src/placement/index.js';

const KEYS = [
  '',
  'a',
  'cart-1',
  'cart-42',
  'user:1234567890',
  'session-abc',
  'order/2024/07/15/000123',
  'ключ',
  'キー',
  '🙂 emoji key',
  'x'.repeat(100),
  'a slightly longer key with spaces, punctuation; and numbers 0123456789',
];

const pods = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Case {
  name: string;
  members: string[];
  opts: PlacementOptions;
}

const CASES: Case[] = [
  { name: 'one member, defaults', members: ['solo'], opts: { shards: 262144, replicas: 2 } },
  { name: 'two members, defaults', members: ['node-b', 'node-a'], opts: { shards: 262144, replicas: 2 } },
  { name: 'three members, defaults', members: ['node-c', 'node-a', 'node-b'], opts: { shards: 262144, replicas: 2 } },
  { name: 'five members, defaults', members: ['web-4', 'web-0', 'web-2', 'web-1', 'web-3'], opts: { shards: 262144, replicas: 2 } },
  { name: 'ten pods, defaults', members: pods('swimring-7d9f8b6c5d', 10).reverse(), opts: { shards: 262144, replicas: 2 } },
  { name: 'fifty pods, defaults', members: pods('app', 50), opts: { shards: 262144, replicas: 2 } },
  { name: 'non-ASCII names (UTF-8 byte order)', members: ['😀', '～', 'zeta', 'ärger', 'Zeta'], opts: { shards: 262144, replicas: 3 } },
  { name: 'small ring: 1 vnode, 7 shards', members: ['a', 'b', 'c', 'd'], opts: { shards: 7, replicas: 2, vnodes: 1 } },
  { name: 'small ring: 16 vnodes, 1000 shards', members: ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'], opts: { shards: 1000, replicas: 4, vnodes: 16 } },
  { name: 'one shard', members: ['p', 'q', 'r'], opts: { shards: 1, replicas: 1, vnodes: 4 } },
  { name: 'no replicas, 65536 shards, 256 vnodes', members: pods('db', 12), opts: { shards: 65536, replicas: 0, vnodes: 256 } },
  { name: 'more replicas than other members', members: ['x', 'y'], opts: { shards: 64, replicas: 5, vnodes: 8 } },
  { name: 'bounded load 1.02', members: pods('cache', 20), opts: { shards: 4096, replicas: 2, vnodes: 64, boundedLoad: 1.02 } },
];

/** A handful of shard indexes spread over the range, for checking the ring apart from key hashing. */
function sampleShards(shards: number): number[] {
  const out = new Set<number>([0, shards - 1]);
  for (let i = 1; i <= 8; i++) out.add(Math.floor((i * shards) / 9));
  return [...out].sort((a, b) => a - b);
}

const hex = (hi: number, lo: number): string => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');

const cases = CASES.map(({ name, members, opts }) => {
  const t = buildTable(members, opts);
  return {
    name,
    members,
    shards: t.shards,
    replicas: t.replicas,
    vnodes: t.vnodes,
    bounded_load: t.boundedLoad,
    version: t.version,
    sorted_members: t.members,
    shards_per_member: { ...t.shardsPerMember() },
    shard_owners: sampleShards(t.shards).map((shard) => ({ shard, owner: t.ownerOf(shard), replicas: t.replicasOf(shard) })),
    routes: KEYS.map((key) => {
      const { hi, lo } = keyHash(key);
      const shard = t.shardOf(key);
      return { key, xxh64: hex(hi, lo), shard, owner: t.ownerOf(shard), replicas: t.replicasOf(shard) };
    }),
  };
});

const doc = {
  description:
    'swimring placement vectors: (member set, options, key) -> (shard, owner, replicas), produced by this project. ' +
    'The mapping is specified in docs/placement.md. "members" is the set as given (order and duplicates do not matter); ' +
    '"shard_owners" checks the ring apart from key hashing; "xxh64" is the key hash in hex.',
  cases,
};
const url = new URL('../vectors/placement.json', import.meta.url);
writeFileSync(url, JSON.stringify(doc, null, 1) + '\n');
console.log(`wrote ${cases.length} cases to ${url.pathname}`);
