import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAppApi, buildOpsApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView } from './fake-view.js';

/** Every series docs/metrics.md promises (the default process metrics aside). */
export const SWIMRING_METRICS = [
  'swimring_members',
  'swimring_probes_sent_total',
  'swimring_probes_failed_total',
  'swimring_indirect_probes_sent_total',
  'swimring_nacks_sent_total',
  'swimring_nacks_received_total',
  'swimring_suspicions_total',
  'swimring_refutations_total',
  'swimring_name_conflicts_total',
  'swimring_updates_queued_total',
  'swimring_gossip_packets_sent_total',
  'swimring_push_pulls_total',
  'swimring_members_dropped_total',
  'swimring_updates_rejected_total',
  'swimring_relays_dropped_total',
  'swimring_reconnects_total',
  'swimring_stale_accusations_answered_total',
  'swimring_local_health_score',
  'swimring_packets_received_total',
  'swimring_packets_sent_total',
  'swimring_bytes_received_total',
  'swimring_bytes_sent_total',
  'swimring_udp_receive_errors_total',
  'swimring_udp_socket_reopens_total',
  'swimring_decode_rejections_total',
  'swimring_grpc_rejections_total',
  'swimring_gossip_packets_by_version_total',
  'swimring_join_refusals_total',
  'swimring_http_rejections_total',
  'swimring_gossip_queue_depth',
  'swimring_route_requests_total',
  'swimring_route_keys_total',
  'swimring_route_duration_seconds',
  'swimring_table_version_changes_total',
  'swimring_shard_moves_total',
  'swimring_http_watchers',
  'swimring_http_watch_disconnects_total',
];

function setup() {
  const view = new FakeView();
  const metrics = createMetrics();
  return { view, metrics, ops: buildOpsApi(view, metrics) };
}

describe('ops API', () => {
  test('/livez and /readyz answer 200 {ok: true} when healthy', async () => {
    const { ops } = setup();
    for (const url of ['/livez', '/readyz']) {
      const res = await ops.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(res.json(), { ok: true });
    }
  });

  test('/readyz answers 503 with the reasons when not ready; /livez likewise', async () => {
    const { view, ops } = setup();
    view.ready = { ok: false, reasons: ['not joined: no seed answered', 'leaving'] };
    const res = await ops.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { ok: false, reasons: ['not joined: no seed answered', 'leaving'] });
    view.live = { ok: false, reasons: ['event loop stalled'] };
    const live = await ops.inject({ method: 'GET', url: '/livez' });
    assert.equal(live.statusCode, 503);
    assert.deepEqual(live.json(), { ok: false, reasons: ['event loop stalled'] });
  });

  test('/metrics is Prometheus text with every swimring metric and the process defaults', async () => {
    const { ops } = setup();
    const res = await ops.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    for (const name of SWIMRING_METRICS) assert.match(res.body, new RegExp(`^# TYPE ${name} `, 'm'), name);
    assert.match(res.body, /^process_cpu_seconds_total /m);
  });

  test('/metrics shows what the app API counted on the same Metrics', async () => {
    const { view, metrics, ops } = setup();
    const app = buildAppApi(view, { metrics });
    await app.inject({ method: 'GET', url: '/v1/route/' });
    const res = await ops.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /^swimring_http_rejections_total\{route="\/v1\/route\/:key",code="key_empty"\} 1$/m);
  });

  test('the ops listener serves nothing else: app routes are JSON 404s there', async () => {
    const { ops } = setup();
    for (const url of ['/v1/members', '/v1/route/x', '/']) {
      const res = await ops.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'not_found');
    }
  });
});
