// deploy/grafana/swimring-dashboard.json: a Grafana dashboard whose every query is valid PromQL (the
// Prometheus grammar, Grafana's variables filled in), with panels for each area operators look at.
// test/integration/live-metrics.test.ts checks the metric names against a real sidecar.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARD, ROOT } from './manifests.js';
import { dashboardExprs, parsePromQl, withoutGrafanaVariables } from '../support/promql.js';

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly gridPos: { readonly h: number; readonly w: number; readonly x: number; readonly y: number };
}

const dashboard = JSON.parse(readFileSync(join(ROOT, DASHBOARD), 'utf8')) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string }[] } };
const exprs = dashboardExprs(ROOT, DASHBOARD);

describe('Grafana dashboard', () => {
  test('has a uid, a data source variable and namespace/pod filters', () => {
    assert.equal(dashboard.uid, 'swimring');
    assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'namespace', 'pod']);
  });

  test('panels have unique ids, fit the 24-column grid and query through the data source variable', () => {
    const ids = new Set<number>();
    for (const p of dashboard.panels) {
      assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
      ids.add(p.id);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} leaves the grid`);
      if (p.type !== 'row') assert.equal(p.datasource?.uid, '${datasource}', p.title);
    }
  });

  test('every query is valid PromQL and selects only swimring_ series, filtered by namespace and pod', () => {
    assert.ok(exprs.length >= 30);
    for (const { where, expr } of exprs) {
      const parsed = parsePromQl(withoutGrafanaVariables(expr));
      assert.deepEqual(parsed.errors, [], `${where}: syntax error in ${expr}`);
      assert.ok(parsed.metrics.length > 0, `${where}: selects nothing`);
      for (const m of parsed.metrics) assert.match(m, /^swimring_/, where);
      assert.ok(expr.includes('namespace=~"$namespace"') && expr.includes('pod=~"$pod"'), `${where}: not filtered`);
    }
  });

  test('the parser does catch a broken query (the check can fail)', () => {
    assert.notDeepEqual(parsePromQl('sum by (le (rate(x[5m]))').errors, []);
  });

  test('covers membership, detection, ownership, HTTP/gRPC, claims and Apply', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Membership', 'Failure detection', 'Ownership', 'HTTP and gRPC', 'Claims and Apply']);
    const all = exprs.map((e) => e.expr).join('\n');
    for (const series of [
      'swimring_members',
      'swimring_probes_sent_total',
      'swimring_suspicions_total',
      'swimring_refutations_total',
      'swimring_local_health_score',
      'swimring_probe_rtt_seconds_bucket',
      'swimring_owned_shards',
      'swimring_shard_moves_total',
      'swimring_table_rebuild_duration_seconds_bucket',
      'swimring_table_info',
      'swimring_route_requests_total',
      'swimring_route_duration_seconds_bucket',
      'swimring_http_rejections_total',
      'swimring_grpc_requests_total',
      'swimring_grpc_request_duration_seconds_bucket',
      'swimring_grpc_rejections_total',
      'swimring_claims',
      'swimring_apply_requests_total',
      'swimring_apply_duration_seconds_bucket',
    ]) {
      assert.ok(all.includes(series), `no panel queries ${series}`);
    }
    assert.ok(all.includes('count(count by (version) (swimring_table_info'), 'version agreement: distinct versions across members');
  });
});
