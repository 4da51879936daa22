// The lookup path (key -> XXH64 -> jump -> table read) must not allocate or use BigInt. Allocation is
// observed through the garbage collector: a couple of million lookups that each allocated even a few
// bytes would set off several young-generation collections; lookups that allocate nothing, none.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { buildTable, type OwnershipTable } from '../../src/placement/index.js';

function lookups(t: OwnershipTable, keys: readonly string[], rounds: number): number {
  let acc = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) {
      const shard = t.shardOf(keys[i]!);
      acc = (acc + shard + (t.ownerOf(shard) === null ? 1 : 0)) | 0;
    }
  }
  return acc;
}

async function collectionsDuring(run: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    count += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  run();
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  return count;
}

describe('hot path', () => {
  test('shardOf and ownerOf allocate nothing, for ASCII, non-ASCII and long keys', async () => {
    const t = buildTable(['a', 'b', 'c', 'd', 'e'], { shards: 65536, replicas: 2, vnodes: 64 });
    // Flat strings, as keys parsed off the wire are (concatenations would be flattened on first use).
    const keys: string[] = JSON.parse(
      JSON.stringify([
        ...Array.from({ length: 2000 }, (_, i) => `user-${i}-${'x'.repeat(i % 80)}`),
        ...Array.from({ length: 200 }, (_, i) => `ключ-${i}-🙂`),
        'y'.repeat(3000),
      ]),
    ) as string[];
    lookups(t, keys, 100); // warm up: optimized code, buffers grown to the longest key
    const rounds = 400; // 880,000 lookups; at 16 bytes each that would be 14 MB of garbage
    // On a loaded machine the optimizing compiler (a background thread) may deliver its code late, and
    // until then unoptimized code boxes numbers: so the quietest of three windows counts. A lookup that
    // allocates sets off collections in every window.
    const counts: number[] = [];
    for (let window = 0; window < 3; window++) {
      let result = 0;
      counts.push(
        await collectionsDuring(() => {
          result = lookups(t, keys, rounds);
        }),
      );
      assert.notEqual(result, 0);
    }
    const collections = Math.min(...counts);
    // One collection may be pending from before; an allocating lookup sets off several.
    assert.ok(collections <= 2, `${counts.join('/')} garbage collections in three windows of ${rounds * keys.length} lookups`);
  });

  test('the lookup path has no BigInt in it', () => {
    for (const file of ['xxh64-fast.ts', 'jump.ts', 'key-hash.ts']) {
      const code = readFileSync(new URL(`../../src/placement/${file}`, import.meta.url), 'utf8').replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /BigInt|\b\d+n\b/, file);
    }
  });
});
