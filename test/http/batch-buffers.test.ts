// Batch answers are written into reused buffers: the pool's own rules, and over a real socket, that an
// answer still queued for a slow reader is never overwritten by the batches answered meanwhile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchBufferPool } from '../../src/http/batch-buffers.js';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { indexedView } from '../runtime/route-fixtures.js';
import { FakeView } from './fake-view.js';

describe('BatchBufferPool', () => {
  test('gives back a released buffer that is large enough, and allocates otherwise', () => {
    const pool = new BatchBufferPool(2, 60_000);
    const a = pool.acquire(1000);
    assert.ok(a.length >= 1000);
    pool.release(a);
    assert.equal(pool.acquire(500), a, 'a kept buffer that fits is reused');
    pool.release(a);
    const b = pool.acquire(5000);
    assert.notEqual(b, a, 'too small: a new one');
    assert.ok(b.length >= 5000);
    pool.clear();
  });

  test('keeps at most `kept` buffers, preferring the largest', () => {
    const pool = new BatchBufferPool(2, 60_000);
    const sizes = [100, 300, 200, 50];
    const buffers = sizes.map((n) => pool.acquire(n));
    for (const b of buffers) pool.release(b);
    assert.equal(pool.keptCount, 2);
    assert.equal(pool.acquire(250), buffers[1], 'the 300-byte buffer was kept');
    assert.equal(pool.acquire(150), buffers[2], 'and the 200-byte one');
    pool.clear();
  });

  test('lets kept buffers go after the idle period', async () => {
    const pool = new BatchBufferPool(2, 30);
    pool.release(pool.acquire(10));
    assert.equal(pool.keptCount, 1);
    await sleep(120);
    assert.equal(pool.keptCount, 0);
  });
});

/** POSTs a batch and resolves with the response stream paused, before reading a byte of the body. */
function postPaused(port: number, keys: readonly string[]): Promise<{ read: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/route', headers: { 'content-type': 'application/json' } }, (res) => {
      res.pause();
      resolve({
        read: () =>
          new Promise<string>((done, fail) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
            res.on('error', fail);
            res.resume();
          }),
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ keys }));
  });
}

describe('batch answers over a real socket', () => {
  test('an answer queued behind a slow reader stays intact while other batches are answered', async () => {
    const { view } = indexedView(new FakeView(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      // 10,000 keys: a ~4 MB answer, more than loopback's socket buffers hold, so part of it waits in
      // the server's queue while nobody reads.
      const batch = (tag: string): string[] => Array.from({ length: 10_000 }, (_, i) => `${tag}-${i}`.padEnd(16, 'x'));
      const slowKeys = batch('slow');
      const slow = await postPaused(port, slowKeys);
      for (let round = 0; round < 4; round++) {
        const keys = batch(`fast${round}`);
        const fast = await postPaused(port, keys);
        const answer = JSON.parse(await fast.read()) as { routes: { key: string }[] };
        assert.deepEqual(answer.routes.map((r) => r.key), keys);
      }
      const body = await slow.read();
      const answer = JSON.parse(body) as { version: string; routes: { key: string; shard: number }[] };
      assert.deepEqual(answer.routes.map((r) => r.key), slowKeys);
      const expected = JSON.parse(JSON.stringify({ version: answer.version, routes: view.routeMany(slowKeys) })) as unknown;
      assert.deepEqual(answer, expected);
    } finally {
      await app.close();
    }
  });
});
