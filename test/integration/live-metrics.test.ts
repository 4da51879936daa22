// The /metrics of real sidecars (two members that have probed each other, routed keys, refused a
// request) passes `promtool check metrics`: names, types and suffixes as Prometheus means them.
// 127.0.0.120-121, local profile.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROMTOOL, runTool, skipUnlessTool } from '../support/tools.js';
import { Cluster, metricValue, waitFor, type SidecarProcess } from './harness.js';

describe('live /metrics', { timeout: 120_000 }, () => {
  const cluster = new Cluster();
  const host = (i: number): string => `127.0.0.${120 + i}`;
  let first: SidecarProcess;
  let scrape = '';

  before(async () => {
    first = cluster.start(cluster.spec(0, { name: 'lm-0', host: host(0) }));
    cluster.start(cluster.spec(1, { name: 'lm-1', host: host(1), seeds: [`${host(0)}:${cluster.portBase + 1}`] }));
    await waitFor('lm-1 alive on lm-0', 30_000, async () => {
      const body = (await first.json<{ members: { name: string; state: string }[] }>('/v1/members')).body;
      return body.members.some((m) => m.name === 'lm-1' && m.state === 'alive');
    });
    // Traffic that makes labelled series appear: routes, a refused request, probes of the peer.
    await first.json('/v1/route/cart-42');
    await first.json('/v1/route', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: ['a', 'b'] }) });
    await first.json('/v1/no-such-route');
    scrape = await waitFor('probes in /metrics', 20_000, async () => {
      const text = await first.metrics();
      return metricValue(text, 'swimring_probes_sent_total') > 0 && text;
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('promtool check metrics finds no problem', { skip: skipUnlessTool(PROMTOOL) }, () => {
    assert.ok(scrape.includes('swimring_route_duration_seconds_bucket'));
    assert.ok(scrape.includes('nodejs_active_handles_current'), 'the active handle count is still there, under a gauge name');
    const run = runTool(PROMTOOL, ['check', 'metrics'], scrape);
    assert.equal(run.output.trim(), '', run.output);
    assert.equal(run.status, 0);
  });

  test('promtool check metrics does refuse a gauge named like a counter (the check can fail)', { skip: skipUnlessTool(PROMTOOL) }, () => {
    const run = runTool(PROMTOOL, ['check', 'metrics'], '# HELP x_total A gauge.\n# TYPE x_total gauge\nx_total 1\n');
    assert.notEqual(run.status, 0);
    assert.match(run.output, /x_total non-counter metrics should not have "_total" suffix/);
  });
});
