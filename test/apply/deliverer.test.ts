import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Deliverer } from '../../src/apply/deliverer.js';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { callApp, type AppCallResult, type AppDelivery } from '../../src/apply/app-client.js';
import { Forwarder } from '../../src/apply/forwarder.js';
import type { RemoteApply } from '../../src/apply/grpc-apply.js';
import { DEFAULT_RETRY } from '../../src/apply/retry.js';
import { applyError, failed, type ApplyCall } from '../../src/apply/types.js';
import type { RouteAnswer } from '../../src/runtime/view.js';
import { NO_TRACE } from '../../src/apply/trace-context.js';

const owned = (owner: string) => (key: string): RouteAnswer => ({
  key,
  shard: 1,
  owner: { name: owner, addresses: { gossip: '', grpc: `${owner}:7947`, app: '' }, serving: true },
  replicas: [],
  version: 'v1',
});

const call = (requestId: string): ApplyCall => ({ key: 'k', requestId, message: { body: Buffer.from('b'), contentType: '', trace: NO_TRACE } });

function deliverer(results: AppCallResult[], owner = 'me', handler: URL | null = new URL('http://127.0.0.1:1/x')) {
  const view = { name: 'me', route: owned(owner) };
  let calls = 0;
  const deliveries: AppDelivery[] = [];
  const d = new Deliverer({
    view,
    handlerUrl: handler,
    timeoutMs: 1000,
    maxBodyBytes: 100,
    dedup: { maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000, maxInFlight: 10 },
    callApp: async (_url, delivery) => {
      deliveries.push(delivery);
      return results[Math.min(calls++, results.length - 1)]!;
    },
  });
  return { d, view, calls: () => calls, deliveries };
}

const answered: AppCallResult = { kind: 'answered', answer: { status: 200, body: Buffer.from('ok'), contentType: 'text/plain' } };

describe('Deliverer (the owner side)', () => {
  test('an app that refused the connection is not remembered: a retry delivers', async () => {
    const { d, calls } = deliverer([{ kind: 'not-delivered', reason: 'ECONNREFUSED' }, answered]);
    const first = await d.deliver(call('r'), '', 1000);
    assert.ok(!first.ok && first.error.code === 'app_unreachable' && first.error.retriable && !first.error.mayHaveBeenDelivered);
    const second = await d.deliver(call('r'), '', 1000);
    assert.ok(second.ok && !second.duplicate);
    assert.equal(calls(), 2);
  });

  test('an app that took the request and timed out is remembered: the retry gets outcome_unknown, the app is not called again', async () => {
    const { d, calls } = deliverer([{ kind: 'unknown', code: 'app_timeout', reason: 'slow' }, answered]);
    const first = await d.deliver(call('r'), '', 1000);
    assert.ok(!first.ok && first.error.code === 'app_timeout' && first.error.mayHaveBeenDelivered && !first.error.retriable);
    const second = await d.deliver(call('r'), '', 1000);
    assert.ok(!second.ok && second.error.code === 'outcome_unknown');
    assert.equal(calls(), 1);
    assert.equal(d.counters.duplicatesSuppressed, 1);
  });

  test('not the owner: NOT_OWNER with the owner in this view and its address; nothing delivered', async () => {
    const { d, calls } = deliverer([answered], 'other');
    const r = await d.deliver(call('r'), '', 1000);
    assert.ok(!r.ok);
    assert.equal(!r.ok && r.error.code, 'not_owner');
    assert.equal(!r.ok && r.error.ownerHint, 'other');
    assert.equal(!r.ok && r.error.ownerAddrHint, 'other:7947');
    assert.equal(calls(), 0);
  });

  test('the record is read before the ownership check: a retry after ownership moved is still answered from it', async () => {
    const { d, view, calls } = deliverer([answered]);
    assert.ok((await d.deliver(call('r'), '', 1000)).ok);
    (view as { route: (k: string) => RouteAnswer }).route = owned('other');
    const again = await d.deliver(call('r'), '', 1000);
    assert.ok(again.ok && again.duplicate);
    assert.equal(calls(), 1);
  });

  test('a claimed key is delivered with its fencing token; a ring-owned key without one', async () => {
    const { d, view, deliveries } = deliverer([answered]);
    assert.ok((await d.deliver(call('ring'), '', 1000)).ok);
    (view as { route: (k: string) => RouteAnswer }).route = (key) => ({ ...owned('me')(key), claimed: true, fence: '117964800000000001' });
    assert.ok((await d.deliver(call('claimed'), '', 1000)).ok);
    assert.deepEqual(
      deliveries.map((x) => [x.requestId, x.fence]),
      [
        ['ring', undefined],
        ['claimed', '117964800000000001'],
      ],
    );
  });

  test('no handler configured: no_app_handler, not retriable', async () => {
    const { d } = deliverer([answered], 'me', null);
    const r = await d.deliver(call('r'), '', 1000);
    assert.ok(!r.ok && r.error.code === 'no_app_handler' && !r.error.retriable);
  });
});

describe('Forwarder (the caller side)', () => {
  /**
   * A forwarder on member a whose keys b owns at first; `remote` answers each attempt and may move the
   * key with `moveTo`. Returns the forwarder and the members it called, in order.
   */
  function forwarderFromA(remote: (name: string, moveTo: (owner: string) => void) => ReturnType<RemoteApply>) {
    let owner = 'b';
    const targets: string[] = [];
    const f = new Forwarder({
      view: { name: 'a', route: (k) => owned(owner)(k) },
      local: async () => failed(applyError('internal', 'unexpected')),
      remote: async (name) => {
        targets.push(name);
        return remote(name, (next) => {
          owner = next;
        });
      },
      policy: DEFAULT_RETRY,
      timeoutMs: 5000,
      sleep: async () => {},
    });
    return { f, targets };
  }

  test('after a call that may have reached owner b, the view moving to c ends in owner_changed, and c is never called', async () => {
    const { f, targets } = forwarderFromA(async (_name, moveTo) => {
      moveTo('c');
      return { result: failed(applyError('owner_unavailable', 'dropped', { retriable: true, mayHaveBeenDelivered: true })), mayHaveReached: true };
    });
    const out = await f.apply(call('r'));
    assert.deepEqual(targets, ['b']);
    assert.ok(!out.result.ok);
    assert.equal(!out.result.ok && out.result.error.code, 'owner_changed');
    assert.equal(!out.result.ok && out.result.error.ownerHint, 'c');
    assert.equal(!out.result.ok && out.result.error.mayHaveBeenDelivered, true);
  });

  test('a failure that proves nothing was sent lets the next attempt go to the new owner', async () => {
    const { f, targets } = forwarderFromA(async (name, moveTo) => {
      if (name === 'b') {
        moveTo('c');
        return { result: failed(applyError('owner_unavailable', 'refused', { retriable: true })), mayHaveReached: false };
      }
      return { result: { ok: true, answer: { status: 200, body: Buffer.alloc(0), contentType: '' }, owner: name, duplicate: false }, mayHaveReached: false };
    });
    const out = await f.apply(call('r'));
    assert.deepEqual(targets, ['b', 'c']);
    assert.ok(out.result.ok);
    assert.equal(out.path, 'forwarded');
    assert.equal(out.attempts, 2);
  });
});

describe('callApp', () => {
  test('the fencing token reaches the app as X-Swimring-Fence, and only when there is one', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      const v = req.headers['x-swimring-fence'];
      seen.push(typeof v === 'string' ? v : undefined);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const addr = server.address();
      const url = new URL(`http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/apply`);
      const base = { key: 'cart-1', requestId: 'r1', origin: '', message: { body: Buffer.from('{}'), contentType: 'application/json', trace: NO_TRACE }, timeoutMs: 5000 };
      assert.equal((await callApp(url, { ...base, fence: '117964800000000001' }, 1000)).kind, 'answered');
      assert.equal((await callApp(url, base, 1000)).kind, 'answered');
      assert.deepEqual(seen, ['117964800000000001', undefined]);
    } finally {
      server.close();
    }
  });
});
