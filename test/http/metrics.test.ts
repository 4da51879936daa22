// src/metrics.ts: own registry, typed handles, counters advanced from running totals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../../src/metrics.js';
import type { CoreCounters } from '../../src/core/types.js';

/** Core counters as the core would report them; fields not given are 0. */
function coreCounters(values: Partial<CoreCounters>): CoreCounters {
  return new Proxy(values, { get: (target, field) => (target as Record<string | symbol, number>)[field] ?? 0 }) as CoreCounters;
}

async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await m.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('createMetrics', () => {
  test('uses its own registry, so two instances do not collide', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.probesSent.inc(3);
    assert.equal(await value(a, 'swimring_probes_sent_total'), 3);
    assert.equal(await value(b, 'swimring_probes_sent_total'), 0);
    assert.equal(globalRegistry.getSingleMetric('swimring_probes_sent_total'), undefined);
  });

  test('every own metric is prefixed swimring_', () => {
    const m = createMetrics({ defaultMetrics: false });
    const names = m.registry.getMetricsAsArray().map((x) => x.name);
    assert.ok(names.length >= 20);
    for (const n of names) assert.match(n, /^swimring_/);
  });

  test('deferred default metrics are absent until addDefaultMetrics, which adds them once', async () => {
    const m = createMetrics({ defaultMetrics: 'deferred' });
    const processNames = (): string[] => m.registry.getMetricsAsArray().map((x) => x.name).filter((n) => !n.startsWith('swimring_'));
    assert.deepEqual(processNames(), []);
    m.addDefaultMetrics();
    const added = processNames();
    assert.ok(added.includes('process_cpu_seconds_total'), added.join(','));
    assert.ok(added.includes('nodejs_eventloop_lag_seconds'), added.join(','));
    m.addDefaultMetrics();
    assert.deepEqual(processNames(), added);
    assert.match(await m.render(), /^process_cpu_seconds_total /m);
  });

  test('setMemberCounts sets every state, zero for the missing ones', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setMemberCounts({ alive: 5, suspect: 1 });
    m.setMemberCounts({ alive: 4, dead: 2 });
    assert.equal(await value(m, 'swimring_members', { state: 'alive' }), 4);
    assert.equal(await value(m, 'swimring_members', { state: 'suspect' }), 0);
    assert.equal(await value(m, 'swimring_members', { state: 'dead' }), 2);
    assert.equal(await value(m, 'swimring_members', { state: 'left' }), 0);
  });

  test('advance follows a running total: never backwards, never double counted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 1000 }), { maxLength: 30 }), async (totals) => {
        const m = createMetrics({ defaultMetrics: false });
        let expected = 0;
        for (const t of totals) {
          m.advance(m.decodeRejections, t, { reason: 'truncated' });
          expected = Math.max(expected, t);
        }
        assert.equal((await value(m, 'swimring_decode_rejections_total', { reason: 'truncated' })) ?? 0, expected);
      }),
      { numRuns: 50 },
    );
  });

  test('syncCoreCounters copies the core counters in', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.syncCoreCounters(coreCounters({ probesSent: 10, suspicionsRaised: 2 }));
    m.syncCoreCounters(coreCounters({ probesSent: 15, suspicionsRaised: 2, relaysDropped: 4 }));
    // A counter the core may add later still reaches /metrics.
    m.syncCoreCounters({ ...coreCounters({ probesSent: 15 }), futureThingsSeen: 3 } as unknown as CoreCounters);
    assert.equal(await value(m, 'swimring_probes_sent_total'), 15);
    assert.equal(await value(m, 'swimring_suspicions_total'), 2);
    assert.equal(await value(m, 'swimring_relays_dropped_total'), 4);
    assert.equal(await value(m, 'swimring_future_things_seen_total'), 3);
  });

  test('onScrape refreshers run before each render; a failing one does not break the scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    let depth = 0;
    m.onScrape(() => {
      throw new Error('source gone');
    });
    m.onScrape(() => m.gossipQueueDepth.set(++depth));
    assert.match(await m.render(), /^swimring_gossip_queue_depth 1$/m);
    assert.match(await m.render(), /^swimring_gossip_queue_depth 2$/m);
  });
});

describe('route tallies', () => {
  test('the latency histogram is cumulative, +Inf equals the count, and counters follow the tallies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('single' as const, 'batch' as const), fc.nat({ max: 50 }), fc.double({ min: 0, max: 1, noNaN: true }))), async (records) => {
        const m = createMetrics({ defaultMetrics: false });
        for (const [kind, keys, seconds] of records) m.routes[kind].record(keys, seconds);
        const text = await m.render();
        for (const kind of ['single', 'batch'] as const) {
          const mine = records.filter((r) => r[0] === kind);
          const buckets = [...text.matchAll(new RegExp(`^swimring_route_duration_seconds_bucket\\{le="([^"]+)",kind="${kind}"\\} (\\S+)$`, 'gm'))];
          let previous = 0;
          for (const [, le, count] of buckets) {
            const n = Number(count);
            assert.ok(n >= previous, 'cumulative');
            previous = n;
            const expected = le === '+Inf' ? mine.length : mine.filter((r) => r[2] <= Number(le)).length;
            assert.equal(n, expected, `le=${le}`);
          }
          assert.match(text, new RegExp(`^swimring_route_duration_seconds_count\\{kind="${kind}"\\} ${mine.length}$`, 'm'));
          assert.match(text, new RegExp(`^swimring_route_requests_total\\{kind="${kind}"\\} ${mine.length}$`, 'm'));
        }
        const keys = records.reduce((a, r) => a + r[1], 0);
        assert.match(text, new RegExp(`^swimring_route_keys_total ${keys}$`, 'm'));
      }),
      { numRuns: 50 },
    );
  });
});
