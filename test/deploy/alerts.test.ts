// deploy/prometheus/swimring-alerts.yaml: a well-formed Prometheus rule file whose expressions name only
// series the agent exports (src/metrics.ts) and documents (docs/metrics.md), with the three alerts the
// operations guide promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics } from '../../src/metrics.js';
import { ROOT, arr, isObject, loadDeployYaml, obj, str, type JsonObject } from './manifests.js';

const ruleFiles = loadDeployYaml().filter((d) => isObject(d.value) && Array.isArray(d.value['groups']));
const rules: JsonObject[] = ruleFiles.flatMap((f) =>
  arr(obj(f.value, f.file)['groups'], 'groups').flatMap((g) => arr(obj(g, 'group')['rules'], 'rules').map((r) => obj(r, 'rule'))),
);
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

test('the rule file is in the Prometheus format: named groups of alerts with for, severity and summary', () => {
  assert.equal(ruleFiles.length, 1);
  const names = new Set<string>();
  for (const g of arr(obj(ruleFiles[0]?.value, 'rules')['groups'], 'groups')) assert.ok(str(obj(g, 'group')['name'], 'group name').length > 0);
  assert.ok(rules.length >= 3);
  for (const r of rules) {
    const name = str(r['alert'], 'alert');
    assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/);
    assert.ok(!names.has(name), `${name} twice`);
    names.add(name);
    assert.ok(str(r['expr'], `${name} expr`).length > 0);
    assert.match(str(r['for'], `${name} for`), DURATION);
    assert.match(str(obj(r['labels'], `${name} labels`)['severity'], 'severity'), /^(critical|warning|info)$/);
    assert.ok(str(obj(r['annotations'], `${name} annotations`)['summary'], 'summary').length > 0);
    for (const key of Object.keys(r)) assert.ok(['alert', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'].includes(key), `${name}: unknown key ${key}`);
  }
});

test('every swimring series an alert uses is exported and documented', async () => {
  const exported = new Set(
    (await createMetrics().render())
      .split('\n')
      .filter((l) => l.startsWith('# HELP '))
      .map((l) => l.split(' ')[2]),
  );
  const documented = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const used = new Set(rules.flatMap((r) => str(r['expr'], 'expr').match(/\bswimring_[a-z0-9_]+/g) ?? []));
  assert.ok(used.size >= 3);
  for (const series of used) {
    assert.ok(exported.has(series), `${series} is not exported by src/metrics.ts`);
    assert.ok(documented.includes(`\`${series}\``), `${series} is not in docs/metrics.md`);
  }
});

test('the alerts the issue asks for: dead members for 5 min, degraded local health, rising decode rejections', () => {
  const find = (re: RegExp): JsonObject | undefined => rules.find((r) => re.test(str(r['expr'], 'expr')));
  const dead = find(/swimring_members\{state="dead"\}[^>]*\)?\s*>\s*0/);
  assert.ok(dead, 'dead members > 0');
  assert.equal(dead['for'], '5m');
  assert.ok(find(/swimring_local_health_score/), 'local health score');
  assert.ok(find(/rate\(swimring_decode_rejections_total\[/), 'decode rejections rate');
});
