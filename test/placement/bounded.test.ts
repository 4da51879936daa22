import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { boundedCap, buildTable } from '../../src/placement/index.js';
import { memberSet, smallShape } from './arbitraries.js';
import { naiveRanking, naiveRing } from './naive.js';

describe('bounded loads (option)', () => {
  test('matches the brute-force definition, including shards whose every listed candidate is full', () => {
    fc.assert(
      fc.property(memberSet(1, 20), smallShape, fc.constantFrom(1, 1.01, 1.1, 1.25, 2), (members, shape, c) => {
        const t = buildTable(members, { ...shape, boundedLoad: c });
        const ring = naiveRing(members, shape.vnodes);
        const cap = boundedCap(c, shape.shards, ring.names.length);
        const load = new Map<string, number>();
        for (let s = 0; s < shape.shards; s++) {
          const ranking = naiveRanking(ring, s, shape.shards);
          const owner = ranking.find((m) => (load.get(m) ?? 0) < cap)!;
          load.set(owner, (load.get(owner) ?? 0) + 1);
          assert.equal(t.ownerOf(s), owner, `shard ${s}`);
          assert.deepEqual(t.replicasOf(s), ranking.filter((m) => m !== owner).slice(0, shape.replicas));
        }
      }),
      { numRuns: 150 },
    );
  });

  test('no member owns more than ceil(c x shards / members)', () => {
    fc.assert(
      fc.property(memberSet(2, 30), fc.constantFrom(1, 1.02, 1.05, 1.25), (members, c) => {
        const shards = 4096;
        const t = buildTable(members, { shards, replicas: 2, vnodes: 64, boundedLoad: c });
        const cap = Math.ceil((c * shards) / members.length);
        for (const count of Object.values(t.shardsPerMember())) assert.ok(count <= cap, `${count} > ${cap}`);
      }),
      { numRuns: 40 },
    );
  });

  test('a cap no member reaches changes nothing but the version', () => {
    const members = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const shape = { shards: 2000, replicas: 2, vnodes: 32 };
    const plain = buildTable(members, shape);
    const loose = buildTable(members, { ...shape, boundedLoad: 1000 });
    assert.notEqual(plain.version, loose.version);
    for (let s = 0; s < shape.shards; s++) {
      assert.equal(loose.ownerOf(s), plain.ownerOf(s));
      assert.deepEqual(loose.replicasOf(s), plain.replicasOf(s));
    }
  });

  test('is a function of the member set', () => {
    const opts = { shards: 1000, replicas: 1, vnodes: 16, boundedLoad: 1.05 };
    const a = buildTable(['p', 'q', 'r', 's', 't'], opts);
    const b = buildTable(['t', 's', 'r', 'q', 'p', 'p'], opts);
    assert.equal(a.version, b.version);
    for (let s = 0; s < 1000; s++) assert.equal(a.ownerOf(s), b.ownerOf(s));
  });
});
