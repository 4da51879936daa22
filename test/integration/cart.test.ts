// The cart example (examples/cart, `npm run example:cart`) in short: three instances on swimring-client
// with real sidecars, a load of updates through a kill -9 and a graceful stop. Every acknowledged update
// must be in its cart afterwards, and no cart may have been served by two owners at one table version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCart } from '../../examples/cart/run.js';

test('cart service: no acknowledged update lost, no cart with two owners at one version', { timeout: 300_000 }, async () => {
  const r = await runCart({ updates: 300, carts: 30, concurrency: 4, shards: 16_384 });
  assert.equal(r.acknowledged + r.abandoned, 300);
  assert.ok(r.acknowledged > 0);
  assert.equal(r.missing, 0, 'acknowledged updates missing');
  assert.equal(r.doubleOwners, 0, 'carts served by two owners at one table version');
  assert.ok(r.handedOff > 0, 'the graceful instance handed its carts over');
});
