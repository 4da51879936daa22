// The manifests agree with the code: every SWIMRING_* variable is a config option and the container's
// whole environment loads (src/config) into what the manifests assume; ports, port names, probe paths,
// hook paths and the peers Service line up with the defaults, the HTTP routes and the Dockerfile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_KEYS, envOf } from '../../src/config/options.js';
import { KEYRING_ENV, loadKeyringSource } from '../../src/security/keyring-file.js';
import { isLoopbackHost, loadConfig, type SwimringConfig } from '../../src/config.js';
import { buildAppApi, buildOpsApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import { FakeView } from '../http/fake-view.js';
import { copies, finalPath, readDockerfile } from './dockerfile.js';
import { ROOT, arr, findContainer, isObject, listFiles, loadDeployYaml, num, obj, podSpecOf, str, type Json, type JsonObject } from './manifests.js';

const docs = loadDeployYaml();
const ofKind = (kind: string): { file: string; value: JsonObject }[] =>
  docs.filter((d) => isObject(d.value) && d.value['kind'] === kind).map((d) => ({ file: d.file, value: obj(d.value, d.file) }));

const deployments = ofKind('Deployment');
const [service] = ofKind('Service');
const [policy] = ofKind('NetworkPolicy');
const [pdb] = ofKind('PodDisruptionBudget');

const POD = { name: 'example-app-7d9c5-x2x8q', ip: '10.244.1.17', uid: '0b8f2f4e-6a55-4b8e-9c62-3f1d3b0e6a11', namespace: 'shop' };
const FIELD_VALUES: Record<string, string> = {
  'metadata.name': POD.name,
  'status.podIP': POD.ip,
  'metadata.uid': POD.uid,
  'metadata.namespace': POD.namespace,
};
/** The Secret docs/operations.md ("Gossip key") has the operator create: one 32-byte key, base64. */
const SECRET_VALUES: Record<string, string> = { 'example-app-swimring/keyring': Buffer.alloc(32, 7).toString('base64') };
const DOWNWARD = { POD_NAME: 'metadata.name', POD_IP: 'status.podIP', POD_UID: 'metadata.uid' } as const;

/** The container's environment as the kubelet builds it: downward API values, $(VAR) of earlier entries. */
function containerEnv(container: JsonObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of arr(container['env'] ?? [], 'env')) {
    const e = obj(item, 'env entry');
    const name = str(e['name'], 'env name');
    const secretRef = e['valueFrom'] === undefined ? undefined : obj(e['valueFrom'], `${name}.valueFrom`)['secretKeyRef'];
    if (secretRef !== undefined) {
      const ref = obj(secretRef, `${name} secretKeyRef`);
      const value = SECRET_VALUES[`${str(ref['name'], 'secret name')}/${str(ref['key'], 'secret key')}`];
      assert.ok(value !== undefined, `${name}: unexpected secret ${JSON.stringify(ref)}`);
      env[name] = value;
    } else if (e['valueFrom'] !== undefined) {
      const path = str(obj(obj(e['valueFrom'], `${name}.valueFrom`)['fieldRef'], `${name} fieldRef`)['fieldPath'], 'fieldPath');
      const value = FIELD_VALUES[path];
      assert.ok(value !== undefined, `${name}: unexpected fieldPath ${path}`);
      env[name] = value;
    } else {
      env[name] = str(e['value'], `${name}.value`).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, v: string) => env[v] ?? whole);
    }
  }
  return env;
}

function namedPorts(container: JsonObject): Map<string, { port: number; protocol: string }> {
  const out = new Map<string, { port: number; protocol: string }>();
  for (const p of arr(container['ports'] ?? [], 'ports')) {
    const port = obj(p, 'port');
    out.set(str(port['name'], 'port name'), { port: num(port['containerPort'], 'containerPort'), protocol: typeof port['protocol'] === 'string' ? port['protocol'] : 'TCP' });
  }
  return out;
}

function labelsMatch(selector: Json | undefined, labels: JsonObject): boolean {
  const match = obj(obj(selector, 'selector')['matchLabels'], 'matchLabels');
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v);
}

function execCommand(handler: Json | undefined, what: string): string[] {
  return arr(obj(obj(handler, what)['exec'], `${what}.exec`)['command'], `${what} command`).map((w) => str(w, 'command word'));
}

/** Memory quantity in bytes (the binary and decimal suffixes the manifests may use). */
function bytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(q);
  assert.ok(m, `memory quantity ${q}`);
  const unit: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * (m[2] ? (unit[m[2]] ?? NaN) : 1);
}

const dockerfile = readDockerfile();
const hookCopy = copies(dockerfile).find((c) => c.sources.includes('deploy/bin/swimring-hook.mjs'));
const HOOK_PATH = hookCopy ? finalPath(dockerfile, hookCopy.dest) : '(not copied)';
const dockerUser = dockerfile.filter((i) => i.keyword === 'USER').pop()?.args ?? '';

test('there are two example deployments: native sidecar and classic second container', () => {
  assert.deepEqual(deployments.map((d) => findContainer(d.value, 'swimring')?.list).sort(), ['containers', 'initContainers']);
  assert.ok(service && policy && pdb);
});

for (const d of deployments) {
  const ref = findContainer(d.value, 'swimring');
  const form = ref?.list === 'initContainers' ? 'native' : 'classic';
  const c = ref?.container ?? {};
  const pod = podSpecOf(d.value);
  const podLabels = obj(obj(obj(obj(d.value['spec'], 'spec')['template'], 'template')['metadata'], 'template.metadata')['labels'], 'pod labels');
  const env = containerEnv(c);
  const args = arr(c['args'] ?? [], 'args').map((a) => str(a, 'arg'));
  const loaded = loadConfig({ argv: args.slice(1), env, hostname: () => 'node-hostname', networkInterfaces: () => ({}) });
  const config: SwimringConfig | null = loaded.ok ? loaded.config : null;
  const ports = namedPorts(c);
  const app = arr(pod['containers'], 'containers').map((x) => obj(x, 'container')).find((x) => x['name'] !== 'swimring');

  describe(`${d.file} (${form})`, () => {
    test('swimring is placed for its form', () => {
      assert.ok(ref, 'no container named swimring');
      if (form === 'native') assert.equal(c['restartPolicy'], 'Always', 'a native sidecar is an init container with restartPolicy: Always');
      else assert.equal(c['restartPolicy'], undefined);
      assert.ok(app, 'an app container next to it');
    });

    test('gossips with a keyring from a Secret and a cluster label', () => {
      assert.equal(env[KEYRING_ENV], SECRET_VALUES['example-app-swimring/keyring']);
      const keyring = loadKeyringSource(null, env);
      assert.ok(keyring.ok && keyring.source !== null, 'the Secret holds a valid keyring');
      assert.equal(config?.label, 'example-app');
    });

    test('runs `agent`, and the whole environment loads as a valid configuration', () => {
      assert.equal(args[0], 'agent');
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('\n'));
    });

    test('every SWIMRING_* variable is a config option (docs/config.md)', () => {
      // SWIMRING_KEYRING is read beside the options (src/security/keyring-file.ts: never a flag).
      const known = new Set([...CONFIG_KEYS.map(envOf), KEYRING_ENV]);
      const used = Object.keys(env).filter((k) => k.startsWith('SWIMRING_'));
      assert.ok(used.length > 0);
      for (const name of used) assert.ok(known.has(name), `${name} is not an option of src/config/options.ts`);
    });

    test('identity comes from the downward API: name POD_NAME, advertise POD_IP, tag uid POD_UID', () => {
      for (const [name, path] of Object.entries(DOWNWARD)) assert.equal(env[name], FIELD_VALUES[path], `${name} from ${path}`);
      assert.equal(config?.name, POD.name);
      assert.equal(config?.advertiseHost, POD.ip);
      assert.equal(config?.tags['uid'], POD.uid);
    });

    test('the seed is the headless peers Service, at this member\'s gRPC port; the first pod may bootstrap', () => {
      const svcName = str(obj(service?.value['metadata'], 'metadata')['name'], 'service name');
      assert.equal(config?.seeds.length, 1);
      assert.equal(config?.seeds[0]?.host, `${svcName}.${POD.namespace}.svc.cluster.local`);
      assert.equal(config?.seeds[0]?.port, config?.grpcAddr.port);
      assert.equal(config?.bootstrap, true);
    });

    test('named ports are the listen ports of the configuration; the app API stays on loopback', () => {
      assert.deepEqual(ports.get('swim-gossip'), { port: config?.gossipAddr.port, protocol: 'UDP' });
      assert.deepEqual(ports.get('swim-grpc'), { port: config?.grpcAddr.port, protocol: 'TCP' });
      assert.deepEqual(ports.get('swim-ops'), { port: config?.opsAddr.port, protocol: 'TCP' });
      assert.ok(config && isLoopbackHost(config.httpAddr.host), 'the app API must not listen on the pod IP');
      assert.ok(![...ports.values()].some((p) => p.port === config?.httpAddr.port), 'the app API port is not exposed');
      assert.equal(obj(obj(obj(d.value['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['annotations'] !== undefined, true);
      const annotations = obj(obj(obj(obj(d.value['spec'], 'spec')['template'], 'template')['metadata'], 'metadata')['annotations'], 'annotations');
      assert.equal(Number(annotations['prometheus.io/port']), config?.opsAddr.port);
    });

    test('the advertised app address and app health check point at the app container\'s port', () => {
      const appPort = app ? namedPorts(app).get('http')?.port : undefined;
      assert.deepEqual(config?.appAddr, { host: POD.ip, port: appPort });
      const health = config?.appHealth;
      assert.ok(health?.kind === 'http' && new URL(health.url).port === String(appPort) && isLoopbackHost(new URL(health.url).hostname));
    });

    test('readiness and liveness probe /readyz and /livez on the ops port; liveness is the more patient', async () => {
      const ready = obj(c['readinessProbe'], 'readinessProbe');
      const live = obj(c['livenessProbe'], 'livenessProbe');
      assert.deepEqual(obj(ready['httpGet'], 'readiness httpGet'), { path: '/readyz', port: 'swim-ops' });
      assert.deepEqual(obj(live['httpGet'], 'liveness httpGet'), { path: '/livez', port: 'swim-ops' });
      const patience = (p: JsonObject): number => num(p['failureThreshold'], 'failureThreshold') * num(p['periodSeconds'], 'periodSeconds');
      assert.ok(num(live['failureThreshold'], 'f') > num(ready['failureThreshold'], 'f'));
      assert.ok(patience(live) > patience(ready));
      // The paths are served by the ops API the agent listens with on that port.
      const ops = buildOpsApi(new FakeView(), createMetrics());
      try {
        for (const path of ['/readyz', '/livez']) assert.equal((await ops.inject({ method: 'GET', url: path })).statusCode, 200, path);
      } finally {
        await ops.close();
      }
    });

    test('startupProbe and preStop run the hook the image ships, at the path the Dockerfile copies it to', async () => {
      assert.equal(HOOK_PATH, '/app/bin/swimring-hook.mjs');
      assert.deepEqual(execCommand(c['startupProbe'], 'startupProbe'), ['node', HOOK_PATH, 'startup']);
      const preStop = execCommand(obj(c['lifecycle'], 'lifecycle')['preStop'], 'preStop');
      assert.deepEqual(preStop.slice(0, 3), ['node', HOOK_PATH, 'leave']);
      // The route the hook posts to exists and answers 202 as the hook expects.
      const view = new FakeView();
      const api = buildAppApi(view, { metrics: createMetrics(), adminToken: 'admin-token-0123456789abcdef' });
      try {
        assert.equal((await api.inject({ method: 'POST', url: '/v1/leave', headers: { authorization: 'Bearer admin-token-0123456789abcdef' } })).statusCode, 202);
        assert.equal(view.leaveCalls, 1);
      } finally {
        await api.close();
      }
      // Startup may take the join timeout, the join retries and the settle window.
      const startup = obj(c['startupProbe'], 'startupProbe');
      const budgetMs = num(startup['failureThreshold'], 'f') * num(startup['periodSeconds'], 'p') * 1000;
      assert.ok(config && budgetMs >= config.joinTimeoutMs + config.settleMs + config.joinRetryMaxMs, `startup budget ${budgetMs} ms`);
    });

    test('the termination grace period covers the preStop hold and the leave', () => {
      const preStop = execCommand(obj(c['lifecycle'], 'lifecycle')['preStop'], 'preStop');
      const waitIdx = preStop.indexOf('--wait-ms');
      const holdMs = waitIdx >= 0 ? Number(preStop[waitIdx + 1]) : 0;
      if (form === 'classic') assert.ok(holdMs > 0, 'a classic sidecar must hold its preStop while the app drains');
      else assert.equal(holdMs, 0, 'a native sidecar is stopped after the app: no hold needed');
      const graceMs = num(pod['terminationGracePeriodSeconds'], 'terminationGracePeriodSeconds') * 1000;
      assert.ok(config && graceMs >= holdMs + config.leaveTimeoutMs + 5000, `grace ${graceMs} ms < hold ${holdMs} + leave ${config?.leaveTimeoutMs} + 5000`);
    });

    test('resources: requests for CPU and memory, a memory limit above the request, runs as the image user', () => {
      const res = obj(c['resources'], 'resources');
      const req = obj(res['requests'], 'requests');
      const lim = obj(res['limits'], 'limits');
      assert.ok(typeof req['cpu'] === 'string');
      assert.ok(bytes(str(lim['memory'], 'limit')) > bytes(str(req['memory'], 'request')));
      const sc = obj(c['securityContext'], 'securityContext');
      assert.equal(`${num(sc['runAsUser'], 'runAsUser')}:${num(sc['runAsGroup'], 'runAsGroup')}`, dockerUser);
      assert.equal(obj(pod['securityContext'], 'pod securityContext')['runAsNonRoot'], true);
    });

    test('the peers Service, NetworkPolicy and PodDisruptionBudget select these pods', () => {
      assert.ok(labelsMatch({ matchLabels: obj(service?.value['spec'], 'spec')['selector'] ?? null }, podLabels), 'Service selector');
      assert.ok(labelsMatch(obj(policy?.value['spec'], 'spec')['podSelector'], podLabels), 'NetworkPolicy podSelector');
      assert.ok(labelsMatch(obj(pdb?.value['spec'], 'spec')['selector'], podLabels), 'PDB selector');
      for (const p of arr(obj(service?.value['spec'], 'spec')['ports'], 'service ports')) {
        const sp = obj(p, 'service port');
        const target = ports.get(str(sp['targetPort'], 'targetPort'));
        assert.deepEqual(target, { port: sp['port'], protocol: sp['protocol'] }, `Service port ${String(sp['name'])}`);
      }
    });
  });
}

describe('peer discovery and isolation', () => {
  test('the peers Service is headless and publishes pods before they are ready', () => {
    const spec = obj(service?.value['spec'], 'spec');
    assert.equal(spec['clusterIP'], 'None');
    assert.equal(spec['publishNotReadyAddresses'], true);
  });

  test('only pods of the same app may reach the gossip and gRPC ports', () => {
    const spec = obj(policy?.value['spec'], 'spec');
    const podLabels = obj(spec['podSelector'], 'podSelector');
    assert.deepEqual(spec['policyTypes'], ['Ingress']);
    let opened = 0;
    for (const r of arr(spec['ingress'], 'ingress')) {
      const rule = obj(r, 'rule');
      const rulePorts = arr(rule['ports'] ?? [], 'ports').map((p) => obj(p, 'port'));
      // A rule without ports opens every port, gossip and gRPC included.
      assert.ok(rulePorts.length > 0, 'an ingress rule without ports');
      const peerPorts = rulePorts.filter((p) => p['port'] === 'swim-gossip' || p['port'] === 'swim-grpc');
      if (peerPorts.length === 0) continue;
      opened += peerPorts.length;
      const from = arr(rule['from'], 'from');
      assert.ok(from.length > 0, 'gossip/gRPC open to everyone');
      for (const f of from) assert.deepEqual(f, { podSelector: podLabels }, 'only the same app\'s pods, in this namespace');
      for (const p of peerPorts) assert.equal(p['protocol'], p['port'] === 'swim-gossip' ? 'UDP' : 'TCP');
    }
    assert.equal(opened, 2, 'gossip (UDP) and gRPC (TCP) are each opened once');
  });
});

describe('docs/operations.md', () => {
  const text = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');

  test('every SWIMRING_* variable it names is a config option', () => {
    const known = new Set([...CONFIG_KEYS.map(envOf), KEYRING_ENV]);
    const named = new Set(text.match(/\bSWIMRING_[A-Z0-9_]+/g) ?? []);
    assert.ok(named.size > 5);
    for (const name of named) assert.ok(known.has(name), `${name} is not an option`);
  });

  test('every file in deploy/ is listed in its table', () => {
    for (const path of listFiles(join(ROOT, 'deploy'), [''])) {
      const rel = relative(join(ROOT, 'deploy'), path);
      const dir = rel.includes('/') ? `${rel.slice(0, rel.lastIndexOf('/') + 1)}` : rel;
      assert.ok(text.includes(`\`${rel}\``) || text.includes(`\`${dir}\``), `deploy/${rel} is not in the table`);
    }
  });
});
