// The monitoring pieces of deploy/: the alert rule file passes `promtool check rules`, the Prometheus
// Operator's PrometheusRule carries the same groups, and the PodMonitor scrapes the port the sidecar's
// ops listener is published on in both deployment forms.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, arr, findContainer, isObject, kubernetesProblems, loadDeployYaml, obj, str, type JsonObject } from './manifests.js';
import { PROMTOOL, runTool, skipUnlessTool } from '../support/tools.js';

const docs = loadDeployYaml();
const ALERTS = join('deploy', 'prometheus', 'swimring-alerts.yaml');
const alertFile = obj(docs.find((d) => d.file === ALERTS)?.value, ALERTS);
const ofKind = (kind: string): JsonObject[] =>
  docs.map((d) => d.value).filter((v): v is JsonObject => isObject(v) && v['kind'] === kind);

describe('promtool check rules', { skip: skipUnlessTool(PROMTOOL) }, () => {
  test('accepts deploy/prometheus/swimring-alerts.yaml', () => {
    const run = runTool(PROMTOOL, ['check', 'rules', join(ROOT, ALERTS)]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS: 3 rules found/);
  });

  test('refuses a rule file with a broken expression (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swimring-rules-'));
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(swimring_members[5m]\n');
      const run = runTool(PROMTOOL, ['check', 'rules', bad]);
      assert.notEqual(run.status, 0, run.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus Operator manifests', () => {
  test('the PrometheusRule has exactly the groups of the rule file', () => {
    const rules = ofKind('PrometheusRule');
    assert.equal(rules.length, 1);
    assert.deepEqual(obj(rules[0]?.['spec'], 'spec')['groups'], alertFile['groups']);
  });

  test('the PodMonitor scrapes /metrics on a port the sidecar publishes in every Deployment', () => {
    const monitors = ofKind('PodMonitor');
    assert.equal(monitors.length, 1);
    const spec = obj(monitors[0]?.['spec'], 'spec');
    const endpoints = arr(spec['podMetricsEndpoints'], 'podMetricsEndpoints').map((e) => obj(e, 'endpoint'));
    assert.equal(endpoints.length, 1);
    const port = str(endpoints[0]?.['port'], 'port');
    assert.equal(endpoints[0]?.['path'], '/metrics');
    const deployments = ofKind('Deployment');
    assert.ok(deployments.length >= 2);
    for (const deployment of deployments) {
      const sidecar = findContainer(deployment, 'swimring');
      assert.ok(sidecar, 'a swimring container');
      const ports = arr(sidecar.container['ports'], 'ports').map((p) => obj(p, 'port'));
      const published = ports.find((p) => p['name'] === port);
      assert.ok(published, `the sidecar publishes no port named ${port}`);
      assert.equal(published['containerPort'], 7949, 'the ops listener');
      const podLabels = obj(obj(obj(obj(deployment['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['labels'], 'labels');
      for (const [k, v] of Object.entries(obj(obj(spec['selector'], 'selector')['matchLabels'], 'matchLabels'))) assert.equal(podLabels[k], v, `pod label ${k}`);
    }
  });

  test('the schema check knows the Operator kinds: a misspelt PodMonitor field is caught', async () => {
    const bad = structuredClone(ofKind('PodMonitor')[0]);
    assert.ok(bad);
    obj(bad['spec'], 'spec')['podMetricEndpoints'] = [];
    assert.ok((await kubernetesProblems(bad)).includes('unknown field /spec/podMetricEndpoints'));
  });
});
