// The /metrics of real sidecars (two members that have probed each other, routed keys, refused a
// request) passes `promtool check metrics` (names, types and suffixes as Prometheus means them), and
// exports every metric the Grafana dashboard and the alert rules query, the dashboard's own series with
// data in them. 127.0.0.120-121, local profile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROMTOOL, runTool, skipUnlessTool } from '../support/tools.js';
import { dashboardExprs, exportedNames, parsePromQl, withoutGrafanaVariables, type NamedExpr } from '../support/promql.js';
import { DASHBOARD, ROOT, arr, loadDeployYaml, obj, str } from '../deploy/manifests.js';
import { Cluster, metricValue, waitFor, type SidecarProcess } from './harness.js';

describe('live /metrics', { timeout: 120_000 }, () => {
  const cluster = new Cluster(undefined, { hostBase: 120, namePrefix: 'lm' });
  let first: SidecarProcess;
  let scrape = '';

  before(async () => {
    first = cluster.start(cluster.spec(0));
    cluster.start(cluster.spec(1));
    await waitFor('lm-1 alive on lm-0', 30_000, async () => {
      const body = (await first.json<{ members: { name: string; state: string }[] }>('/v1/members')).body;
      return body.members.some((m) => m.name === 'lm-1' && m.state === 'alive');
    });
    // Traffic that makes labelled series appear: routes, a refused request, probes of the peer.
    await first.json('/v1/route/cart-42');
    await first.json('/v1/route', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: ['a', 'b'] }) });
    await first.json('/v1/no-such-route');
    scrape = await waitFor('probe round trips and gRPC calls in /metrics', 20_000, async () => {
      const text = await first.metrics();
      return metricValue(text, 'swimring_probe_rtt_seconds_count') > 0 && metricValue(text, 'swimring_grpc_requests_total') > 0 && text;
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('the served scrape has the process and Node.js metrics, registered after the app API listens', () => {
    for (const name of ['process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_active_handles_current']) {
      assert.match(scrape, new RegExp(`^${name} `, 'm'), name);
    }
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

  test('every metric the dashboard and the alert rules query is exported', () => {
    const exported = exportedNames(scrape);
    const rules: NamedExpr[] = loadDeployYaml()
      .filter((d) => d.file.endsWith('swimring-alerts.yaml'))
      .flatMap((d) => arr(obj(d.value, d.file)['groups'], 'groups'))
      .flatMap((g) => arr(obj(g, 'group')['rules'], 'rules'))
      .map((r) => ({ where: `alert ${str(obj(r, 'rule')['alert'], 'alert')}`, expr: str(obj(r, 'rule')['expr'], 'expr') }));
    const queries = [...dashboardExprs(ROOT, DASHBOARD), ...rules];
    assert.ok(rules.length >= 3 && queries.length > rules.length);
    let names = 0;
    for (const { where, expr } of queries) {
      for (const name of parsePromQl(withoutGrafanaVariables(expr)).metrics) {
        names++;
        assert.ok(exported.has(name), `${where}: ${name} is not exported by a live sidecar`);
      }
    }
    assert.ok(names >= queries.length);
  });

  test("the dashboard's own series carry this member's numbers", async () => {
    const table = (await first.json<{ version: string; shards: number; shardsPerMember: Record<string, number> }>('/v1/table')).body;
    const text = await first.metrics();
    assert.equal(metricValue(text, 'swimring_owned_shards'), table.shards, 'owned shards add up to the shard count');
    for (const [member, shards] of Object.entries(table.shardsPerMember)) assert.equal(metricValue(text, 'swimring_owned_shards', `member="${member}"`), shards);
    assert.equal(metricValue(text, 'swimring_table_info', `version="${table.version}"`), 1);
    assert.equal(metricValue(text, 'swimring_table_info'), 1, 'one version series');
    assert.ok(metricValue(text, 'swimring_table_rebuild_duration_seconds_count') >= 1);
    assert.ok(metricValue(text, 'swimring_probe_rtt_seconds_count') >= 1);
    assert.ok(metricValue(text, 'swimring_grpc_requests_total', 'code="OK"') >= 1);
    assert.ok(metricValue(text, 'swimring_grpc_request_duration_seconds_count') >= 1);
  });

  test('every swimring_ family a live sidecar exports is documented in docs/metrics.md', () => {
    const documented = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    const families = [...scrape.matchAll(/^# TYPE (swimring_\S+) /gm)].map((m) => m[1] ?? '');
    assert.ok(families.length >= 40);
    for (const family of families) assert.ok(documented.includes(`\`${family}\``), `${family} is not in docs/metrics.md`);
  });
});
