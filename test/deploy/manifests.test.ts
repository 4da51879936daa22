// Every YAML document in deploy/ parses, and every Kubernetes object in it validates against the
// Kubernetes schemas (kubernetes-models) with no field the schema does not know. Kustomizations list
// files that exist, and every manifest is reachable from one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DEPLOY, ROOT, arr, isKubernetesObject, isObject, kubernetesProblems, listFiles, loadDeployYaml, obj, str, type JsonObject } from './manifests.js';

const docs = loadDeployYaml();
const kubernetesDocs = docs.filter((d) => isKubernetesObject(d.value));

describe('deploy/ YAML', () => {
  test('parses: at least the example objects, the kustomizations and the alert rules', () => {
    const kinds = kubernetesDocs.map((d) => str(obj(d.value, d.file)['kind'], 'kind')).sort();
    for (const kind of ['Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service']) assert.ok(kinds.includes(kind), `no ${kind} in deploy/: ${kinds.join(', ')}`);
    assert.ok(docs.some((d) => d.file.endsWith('kustomization.yaml')));
    assert.ok(docs.some((d) => isObject(d.value) && Array.isArray(d.value['groups'])), 'no Prometheus rule file');
  });

  test('every document is a Kubernetes object, a kustomization or a Prometheus rule file', () => {
    for (const d of docs) {
      const v = obj(d.value, d.file);
      const known = isKubernetesObject(v) || d.file.endsWith('kustomization.yaml') || Array.isArray(v['groups']);
      assert.ok(known, `${d.file}#${d.index}: what is this?`);
    }
  });

  for (const d of kubernetesDocs) {
    const v = obj(d.value, d.file);
    const name = str(obj(v['metadata'], 'metadata')['name'], 'metadata.name');
    test(`${d.file}: ${String(v['kind'])} ${name} validates against the Kubernetes schema`, async () => {
      assert.deepEqual(await kubernetesProblems(v), []);
    });
  }
});

describe('the schema check catches mistakes', () => {
  const deployment = kubernetesDocs.find((d) => obj(d.value, d.file)['kind'] === 'Deployment');
  const copy = (): JsonObject => structuredClone(obj(deployment?.value, 'a Deployment'));

  test('a wrong type', async () => {
    const bad = copy();
    obj(obj(bad['spec'], 'spec'), 'spec')['replicas'] = 'three';
    assert.match((await kubernetesProblems(bad)).join('\n'), /replicas/);
  });

  test('a misspelt field, which the schemas alone would let through', async () => {
    const bad = copy();
    obj(bad['spec'], 'spec')['minReadySecond'] = 5;
    assert.deepEqual(await kubernetesProblems(bad), ['unknown field /spec/minReadySecond']);
  });

  test('an unknown kind', async () => {
    assert.match((await kubernetesProblems({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).join(), /no schema/);
  });
});

describe('kustomizations', () => {
  const kustomizations = docs.filter((d) => d.file.endsWith('kustomization.yaml'));

  test('list only resources that exist (a file, or a directory with its own kustomization.yaml)', () => {
    assert.ok(kustomizations.length > 0);
    for (const k of kustomizations) {
      const v = obj(k.value, k.file);
      assert.equal(v['apiVersion'], 'kustomize.config.k8s.io/v1beta1', k.file);
      assert.equal(v['kind'], 'Kustomization', k.file);
      for (const r of arr(v['resources'], `${k.file} resources`)) {
        const target = join(ROOT, dirname(k.file), str(r, 'resource'));
        assert.ok(existsSync(target), `${k.file}: ${String(r)} does not exist`);
        if (statSync(target).isDirectory()) assert.ok(existsSync(join(target, 'kustomization.yaml')), `${k.file}: ${String(r)} has no kustomization.yaml`);
      }
    }
  });

  test('every manifest under deploy/kubernetes is a resource of some kustomization', () => {
    const listed = new Set<string>();
    for (const k of kustomizations) {
      for (const r of arr(obj(k.value, k.file)['resources'], 'resources')) listed.add(relative(ROOT, join(ROOT, dirname(k.file), str(r, 'resource'))));
    }
    const manifests = listFiles(join(DEPLOY, 'kubernetes'), ['.yaml', '.yml'])
      .map((p) => relative(ROOT, p))
      .filter((f) => !f.endsWith('kustomization.yaml'));
    assert.ok(manifests.length > 0);
    for (const f of manifests) assert.ok(listed.has(f), `${f} is in no kustomization`);
  });

  test('the top kustomization deploys one form of the example, the classic form has its own', () => {
    const top = kustomizations.find((k) => k.file === join('deploy', 'kubernetes', 'kustomization.yaml'));
    assert.ok(top, 'deploy/kubernetes/kustomization.yaml');
    assert.deepEqual(arr(obj(top.value, 'top')['resources'], 'resources'), ['native']);
    assert.ok(kustomizations.some((k) => k.file === join('deploy', 'kubernetes', 'classic', 'kustomization.yaml')));
  });
});
