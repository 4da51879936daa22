import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { buildTable, DEFAULT_REPLICAS, DEFAULT_SHARDS, DEFAULT_VNODES, type OwnershipTable } from '../../src/placement/index.js';
import { clearRingCache } from '../../src/placement/ring-cache.js';
import { memberSet, smallShape } from './arbitraries.js';
import { naiveRanking, naiveRing, naiveShardOf } from './naive.js';

function answers(t: OwnershipTable): string[] {
  const out: string[] = [];
  for (let s = 0; s < t.shards; s++) out.push(`${t.ownerOf(s)}|${t.replicasOf(s).join(',')}`);
  return out;
}

describe('buildTable agrees with the brute-force reference', () => {
  test('owner and replicas of every shard, for random member sets and shapes', () => {
    fc.assert(
      fc.property(memberSet(1, 9), smallShape, (members, shape) => {
        clearRingCache();
        const t = buildTable(members, shape);
        const ring = naiveRing(members, shape.vnodes);
        for (let s = 0; s < shape.shards; s++) {
          const ranking = naiveRanking(ring, s, shape.shards);
          assert.equal(t.ownerOf(s), ranking[0]);
          assert.deepEqual(t.replicasOf(s), ranking.slice(1, 1 + shape.replicas));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('one member owns every shard with no replicas, with or without bounded load, at any shard count', () => {
    for (const shards of [1, 4096, DEFAULT_SHARDS]) {
      for (const boundedLoad of [null, 1.25]) {
        const t = buildTable(['solo'], { shards, replicas: DEFAULT_REPLICAS, boundedLoad });
        assert.equal(t.shards, shards);
        assert.equal(t.ownerIndex.length, shards);
        assert.equal(t.ownerIndex.findIndex((m) => m !== 0), -1, `shards ${shards}, boundedLoad ${String(boundedLoad)}`);
        for (let s = 0; s < shards; s += 1021) assert.deepEqual(t.replicasOf(s), []);
        assert.deepEqual({ ...t.shardsPerMember() }, { solo: shards });
      }
    }
  });

  test('with the defaults, on sampled shards', () => {
    const members = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    const t = buildTable(members, { shards: DEFAULT_SHARDS, replicas: DEFAULT_REPLICAS });
    const ring = naiveRing(members, DEFAULT_VNODES);
    for (let s = 0; s < DEFAULT_SHARDS; s += 8191) {
      const ranking = naiveRanking(ring, s, DEFAULT_SHARDS);
      assert.equal(t.ownerOf(s), ranking[0]);
      assert.deepEqual(t.replicasOf(s), ranking.slice(1, 1 + DEFAULT_REPLICAS));
    }
  });

  test('shardOf is jump(XXH64(UTF-8 key), shards)', () => {
    const t = buildTable(['a'], { shards: 1000, replicas: 0 });
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (key) => {
        assert.equal(t.shardOf(key), naiveShardOf(key, 1000));
      }),
      { numRuns: 500 },
    );
  });
});

describe('ownership table', () => {
  test('is a function of the member set: order and duplicates do not matter', () => {
    fc.assert(
      fc.property(memberSet(1, 12), smallShape, fc.integer(), (members, shape, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(members, { minLength: members.length, maxLength: members.length }), { seed, numRuns: 1 })[0]!;
        const a = buildTable(members, shape);
        clearRingCache();
        const b = buildTable([...shuffled, ...shuffled.slice(0, 3)], shape);
        assert.equal(a.version, b.version);
        assert.deepEqual(a.members, b.members);
        assert.deepEqual(answers(a), answers(b));
      }),
      { numRuns: 100 },
    );
  });

  test('replicas are distinct, never the owner, and fewer only when there are fewer members', () => {
    fc.assert(
      fc.property(memberSet(1, 12), smallShape, (members, shape) => {
        const t = buildTable(members, shape);
        const want = Math.min(shape.replicas, members.length - 1);
        for (let s = 0; s < shape.shards; s++) {
          const owner = t.ownerOf(s);
          const reps = t.replicasOf(s);
          assert.ok(owner !== null && members.includes(owner));
          assert.equal(reps.length, want);
          assert.equal(new Set(reps).size, reps.length);
          assert.ok(!reps.includes(owner));
          for (const r of reps) assert.ok(members.includes(r));
        }
      }),
      { numRuns: 100 },
    );
  });

  test('members are listed in UTF-8 byte order', () => {
    // U+FF5E sorts before U+1F600 in UTF-16 code units but after it in UTF-8 bytes.
    const t = buildTable(['😀', '～', 'b', 'a'], { shards: 8, replicas: 1 });
    assert.deepEqual(t.members, ['a', 'b', '～', '😀']);
  });

  test('shardsPerMember lists every member and sums to the shard count', () => {
    const t = buildTable(['__proto__', 'constructor', 'x'], { shards: 5000, replicas: 1, vnodes: 64 });
    const counts = t.shardsPerMember();
    assert.deepEqual(Object.keys(counts).sort(), ['__proto__', 'constructor', 'x']);
    assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 5000);
    assert.ok(counts['__proto__']! > 0);
  });

  test('no members: every owner is null and there are no replicas', () => {
    const t = buildTable([], { shards: 16, replicas: 2 });
    assert.deepEqual(t.members, []);
    for (let s = 0; s < 16; s++) {
      assert.equal(t.ownerOf(s), null);
      assert.deepEqual(t.replicasOf(s), []);
    }
    assert.deepEqual(Object.keys(t.shardsPerMember()), []);
  });

  test('one member owns everything', () => {
    const t = buildTable(['solo'], { shards: 100, replicas: 3 });
    for (let s = 0; s < 100; s++) {
      assert.equal(t.ownerOf(s), 'solo');
      assert.deepEqual(t.replicasOf(s), []);
    }
  });

  test('the version digests the member set and the options, and nothing else', () => {
    const base = { shards: 64, replicas: 2, vnodes: 8 };
    const v = buildTable(['a', 'b'], base).version;
    assert.match(v, /^[0-9a-f]{16}$/);
    assert.equal(buildTable(['b', 'a', 'a'], base).version, v);
    const others = [
      buildTable(['a', 'b', 'c'], base),
      buildTable(['a'], base),
      buildTable(['a', 'b'], { ...base, shards: 65 }),
      buildTable(['a', 'b'], { ...base, replicas: 1 }),
      buildTable(['a', 'b'], { ...base, vnodes: 16 }),
      buildTable(['a', 'b'], { ...base, boundedLoad: 1.25 }),
      buildTable(['ab'], base),
      buildTable([], base),
    ].map((t) => t.version);
    assert.equal(new Set([v, ...others]).size, others.length + 1);
  });

  test('shard arguments out of range are refused', () => {
    const t = buildTable(['a'], { shards: 4, replicas: 0 });
    for (const s of [-1, 4, 1.5, Number.NaN]) {
      assert.throws(() => t.ownerOf(s), RangeError);
      assert.throws(() => t.replicasOf(s), RangeError);
    }
  });
});

describe('buildTable refuses bad input with a RangeError that says why', () => {
  const ok = { shards: 16, replicas: 1 };
  const cases: [string, () => unknown, RegExp][] = [
    ['shards 0', () => buildTable(['a'], { ...ok, shards: 0 }), /shards must be an integer from 1/],
    ['shards too many', () => buildTable(['a'], { ...ok, shards: 2 ** 20 + 1 }), /shards must be/],
    ['shards fractional', () => buildTable(['a'], { ...ok, shards: 2.5 }), /shards must be/],
    ['replicas negative', () => buildTable(['a'], { ...ok, replicas: -1 }), /replicas must be/],
    ['replicas too many', () => buildTable(['a'], { ...ok, replicas: 17 }), /replicas must be/],
    ['vnodes 0', () => buildTable(['a'], { ...ok, vnodes: 0 }), /vnodes must be/],
    ['vnodes not a power of two', () => buildTable(['a'], { ...ok, vnodes: 100 }), /power of two/],
    ['bounded load below 1', () => buildTable(['a'], { ...ok, boundedLoad: 0.9 }), /boundedLoad/],
    ['bounded load NaN', () => buildTable(['a'], { ...ok, boundedLoad: Number.NaN }), /boundedLoad/],
    ['slots', () => buildTable(['a'], { shards: 2 ** 20, replicas: 4 }), /shards x \(replicas \+ 1\)/],
    ['empty name', () => buildTable(['a', ''], ok), /must not be empty/],
    ['lone surrogate', () => buildTable(['a\uD800'], ok), /lone surrogate/],
    ['huge name', () => buildTable(['x'.repeat(2000)], ok), /longer than/],
    ['not a string', () => buildTable([42 as unknown as string], ok), /must be strings/],
    ['not an array', () => buildTable('abc' as unknown as string[], ok), /array/],
  ];
  for (const [name, run, message] of cases) {
    test(name, () => assert.throws(run, (err: unknown) => err instanceof RangeError && message.test(err.message)));
  }
});
