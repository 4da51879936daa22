// Tables keep member indexes in the narrowest signed array for their member count; answers do not
// depend on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memberIndexArray } from '../../src/placement/member-index.js';
import { buildTable } from '../../src/placement/index.js';

test('the array type follows the member count, and -1 fits in every one', () => {
  for (const [members, type] of [[0, Int8Array], [127, Int8Array], [128, Int16Array], [32_767, Int16Array], [32_768, Int32Array]] as const) {
    const a = memberIndexArray(members, 3);
    assert.ok(a instanceof type, `${members} members: ${a.constructor.name}`);
    a[0] = -1;
    a[1] = members - 1;
    assert.deepEqual([a[0], a[1], a[2]], [-1, Math.max(-1, members - 1), 0]);
  }
});

test('a table of 300 members (16-bit indexes) names the same owners as its member list says', () => {
  const names = Array.from({ length: 300 }, (_, i) => `m${String(i).padStart(3, '0')}`);
  const table = buildTable(names, { shards: 4096, replicas: 2 });
  assert.ok(table.ownerIndex instanceof Int16Array);
  const counts = table.shardsPerMember();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 4096);
  // Members past index 127 own shards too: an 8-bit array would have wrapped them to negatives.
  assert.ok(names.slice(128).some((n) => (counts[n] ?? 0) > 0));
  for (let s = 0; s < 4096; s += 97) {
    assert.ok(names.includes(table.ownerOf(s)!));
    assert.ok(!table.replicasOf(s).includes(table.ownerOf(s)!));
  }
  assert.ok(buildTable(names.slice(0, 5), { shards: 64, replicas: 2 }).ownerIndex instanceof Int8Array);
  assert.ok(buildTable([], { shards: 64, replicas: 2 }).ownerIndex.every((m) => m === -1));
});
