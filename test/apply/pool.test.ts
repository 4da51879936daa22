// Apply's channel pool against a cluster of 200 peers: Applies spread over every owner must reuse one
// connection per peer, not reopen one per Apply as a fixed pool smaller than the cluster does.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { setupApply, type ApplySetup } from '../../src/apply/setup.js';
import type { ApplyConfig } from '../../src/apply/service.js';
import { NO_TRACE } from '../../src/apply/trace-context.js';
import type { MemberView, RouteAnswer } from '../../src/runtime/view.js';
import { createMetrics } from '../../src/metrics.js';
import { closedAddresses } from '../support/closed-addresses.js';
import { metricValue } from '../support/poll.js';

const config: ApplyConfig = {
  handlerUrl: null,
  timeoutMs: 5000,
  maxBodyBytes: 1024,
  // One attempt per Apply: every owner refuses the connection, and the count is of channels per peer.
  maxAttempts: 1,
  dedupTtlMs: 60_000,
  dedupEntries: 100,
  dedupMaxBytes: 1 << 20,
  maxChannels: 4096,
};

function memberView(name: string, grpc: string, state: MemberView['state'], self = false): MemberView {
  return { name, state, incarnation: 1, serving: true, addresses: { gossip: '', grpc, app: '' }, tags: {}, self };
}

/** Key `k<i>` is owned by peer i; the peers' gRPC addresses refuse connections. */
function applyOver(addrs: readonly string[], cfg: ApplyConfig = config): ApplySetup {
  const route = (key: string): RouteAnswer => {
    const i = Number(key.slice(1));
    return { key, shard: i, owner: { name: `p${i}`, addresses: { gossip: '', grpc: addrs[i] ?? '', app: '' }, serving: true }, replicas: [], version: 'v1' };
  };
  return setupApply({ name: 'self', label: null, config: cfg, route, maxKeyBytes: 256, logger: pino({ level: 'silent' }) });
}

/** Every peer's key, in order, 8 Applies at a time. */
async function walk(apply: ApplySetup, peers: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < peers; i += 8) {
    const batch = Array.from({ length: Math.min(8, peers - i) }, (_, j) =>
      apply.service.apply({ key: `k${i + j}`, requestId: `r${i + j}`, message: { body: Buffer.from('{}'), contentType: 'application/json', trace: NO_TRACE } }),
    );
    for (const outcome of await Promise.all(batch)) if (!outcome.result.ok) failed++;
  }
  return failed;
}

describe('Apply channel pool', () => {
  test('walking 200 peers twice opens one channel per peer; a departed peer\'s channel is closed', async () => {
    const addrs = await closedAddresses(200);
    const apply = applyOver(addrs);
    try {
      apply.peersChanged([memberView('self', '127.0.0.1:1', 'alive', true), ...addrs.map((a, i) => memberView(`p${i}`, a, i % 2 === 0 ? 'alive' : 'suspect'))]);
      assert.ok(apply.channels().limit >= 200, `pool bound ${apply.channels().limit} fits 200 peers`);
      assert.equal(await walk(apply, 200), 200, 'every owner refused (nothing listens)');
      assert.equal(await walk(apply, 200), 200);
      assert.equal(apply.channels().opened, 200, 'one channel per peer, reused on the second walk: no churn');
      assert.equal(apply.channels().open, 200);
      const metrics = createMetrics();
      apply.attachMetrics(metrics);
      const text = await metrics.render();
      assert.equal(metricValue(text, 'swimring_apply_channels_opened_total'), 200, 'operators see the churn (none) too');
      assert.equal(metricValue(text, 'swimring_apply_channels'), 200);

      apply.peersChanged([memberView('self', '127.0.0.1:1', 'alive', true), ...addrs.map((a, i) => memberView(`p${i}`, a, i === 7 ? 'dead' : i === 9 ? 'left' : 'alive'))]);
      assert.equal(apply.channels().open, 198, 'the dead and the left peer\'s channels are closed');
    } finally {
      apply.close();
    }
  });

  test('--apply-max-channels bounds the pool however many peers', async () => {
    const addrs = await closedAddresses(40);
    const apply = applyOver(addrs, { ...config, maxChannels: 16 });
    try {
      apply.peersChanged(addrs.map((a, i) => memberView(`p${i}`, a, 'alive')));
      assert.equal(apply.channels().limit, 16);
      await walk(apply, 40);
      assert.equal(apply.channels().open, 16, 'no more channels than the bound');
      assert.equal(apply.channels().opened, 40);
    } finally {
      apply.close();
    }
  });
});
