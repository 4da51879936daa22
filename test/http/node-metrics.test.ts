// src/node-metrics.ts: prom-client's process and Node.js series without its event-loop monitor; the
// nodejs_eventloop_lag_* summary computed per scrape from the lateness the runtime records.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createMetrics } from '../../src/metrics.js';
import { LOOP_LAG_SAMPLES, LoopLagSamples } from '../../src/node-metrics.js';

/** The value of an unlabelled series in a Prometheus text exposition. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} missing`);
  return Number(line.slice(name.length + 1));
}

describe('LoopLagSamples', () => {
  test('summarizes the samples since the previous take, in seconds, then starts over', () => {
    const lag = new LoopLagSamples();
    for (const ms of [4, 0, 10, 2, 4]) lag.record(ms);
    const s = lag.take();
    assert.equal(s.samples, 5);
    assert.equal(s.min, 0);
    assert.equal(s.max, 0.01);
    assert.equal(s.mean, 0.004);
    assert.equal(s.p50, 0.004);
    assert.equal(s.p99, 0.01);
    assert.ok(Math.abs(s.stddev - Math.sqrt(((0 - 4) ** 2 + 0 + 6 ** 2 + 2 ** 2 + 0) / 5) / 1000) < 1e-12, String(s.stddev));
    assert.deepEqual(lag.take(), { samples: 0, min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 });
  });

  test('keeps count, max and mean exact past its ring; percentiles over the last samples; ignores non-numbers', () => {
    const lag = new LoopLagSamples();
    lag.record(5000);
    for (let i = 0; i < LOOP_LAG_SAMPLES; i++) lag.record(1);
    lag.record(Number.NaN);
    lag.record(-3);
    const s = lag.take();
    assert.equal(s.samples, LOOP_LAG_SAMPLES + 1);
    assert.equal(s.max, 5);
    assert.equal(s.p99, 0.001);
    assert.ok(Math.abs(s.mean - (5000 + LOOP_LAG_SAMPLES) / (LOOP_LAG_SAMPLES + 1) / 1000) < 1e-12);
  });
});

describe('node metrics', () => {
  test('the same series as prom-client’s default set', async () => {
    const stock = new Registry();
    collectDefaultMetrics({ register: stock });
    const ours = createMetrics({ defaultMetrics: 'deferred' });
    ours.addDefaultMetrics();
    const names = (r: Registry): string[] => r.getMetricsAsArray().map((m) => m.name).filter((n) => !n.startsWith('swimring_')).sort();
    const renamed = (n: string): string => n.replace(/^(nodejs_active_(?:handles|requests|resources))_total$/, '$1_current');
    assert.deepEqual(names(ours.registry), names(stock).map(renamed).sort());
    await stock.metrics();
  });

  test('the lag series report what was recorded since the previous scrape', async () => {
    const m = createMetrics({ defaultMetrics: 'deferred' });
    m.addDefaultMetrics();
    for (const ms of [3, 12, 0]) m.recordLoopLag(ms);
    const first = await m.render();
    assert.equal(sample(first, 'nodejs_eventloop_lag_max_seconds'), 0.012);
    assert.equal(sample(first, 'nodejs_eventloop_lag_min_seconds'), 0);
    assert.equal(sample(first, 'nodejs_eventloop_lag_mean_seconds'), 0.005);
    m.recordLoopLag(7);
    const second = await m.render();
    assert.equal(sample(second, 'nodejs_eventloop_lag_max_seconds'), 0.007);
    assert.equal(sample(second, 'nodejs_eventloop_lag_p50_seconds'), 0.007);
    const third = await m.render();
    assert.equal(sample(third, 'nodejs_eventloop_lag_max_seconds'), 0);
    assert.ok(sample(third, 'nodejs_eventloop_lag_seconds') >= 0);
  });
});
