// The shipped Deployments start: each kustomization is rendered, and its swimring container is run under
// the constraints the manifest and the image put on it (read-only root, emptyDir mounts, the uid, no
// capabilities, no_new_privs, the env and args as the kubelet builds them; test/hosts/container.ts).
// Then what a kubelet does: the startup probe at its period and failure threshold, the readiness and
// liveness probes, the preStop hook, SIGTERM within the grace period. A manifest that cannot start fails.
// Needs root, util-linux (unshare, nsenter, setpriv) and iproute2.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, arr, num, obj, podSpecOf, renderKustomization, str, type JsonObject } from '../deploy/manifests.js';
import { Sandbox, containerSpecOf, sandboxSkipReason, type ContainerSpec } from './container.js';

const skip = sandboxSkipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const FORMS = [
  { name: 'native (deploy/kubernetes)', dir: join(ROOT, 'deploy', 'kubernetes') },
  { name: 'classic (deploy/kubernetes/classic)', dir: join(ROOT, 'deploy', 'kubernetes', 'classic') },
];

function deploymentOf(dir: string): JsonObject {
  const found = renderKustomization(dir).filter((o) => o['kind'] === 'Deployment');
  assert.equal(found.length, 1, `${dir}: one Deployment`);
  return found[0] as JsonObject;
}

function swimringContainer(deployment: JsonObject): JsonObject {
  const pod = podSpecOf(deployment);
  const all = [...arr(pod['initContainers'] ?? [], 'initContainers'), ...arr(pod['containers'], 'containers')].map((c) => obj(c, 'container'));
  const c = all.find((x) => x['name'] === 'swimring');
  assert.ok(c, 'a swimring container');
  return c;
}

interface Probe {
  readonly command?: string[];
  readonly httpPath?: string;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
}

function probeOf(container: JsonObject, key: string): Probe {
  const p = obj(container[key], key);
  const exec = p['exec'] !== undefined ? arr(obj(p['exec'], 'exec')['command'], 'command').map((w) => str(w, 'word')) : undefined;
  const path = p['httpGet'] !== undefined ? str(obj(p['httpGet'], 'httpGet')['path'], 'path') : undefined;
  return {
    ...(exec ? { command: exec } : {}),
    ...(path !== undefined ? { httpPath: path } : {}),
    periodMs: num(p['periodSeconds'] ?? 10, 'periodSeconds') * 1000,
    timeoutMs: num(p['timeoutSeconds'] ?? 1, 'timeoutSeconds') * 1000,
    failureThreshold: num(p['failureThreshold'] ?? 3, 'failureThreshold'),
  };
}

const opsPort = (env: Readonly<Record<string, string>>): number => Number(/:(\d+)$/.exec(env['SWIMRING_OPS_ADDR'] ?? '0.0.0.0:7949')?.[1]);
const appPort = (env: Readonly<Record<string, string>>): number => Number(/:(\d+)$/.exec(env['SWIMRING_APP_ADDR'] ?? '')?.[1]);

/** The kubelet's startup probe: every period until it passes or fails failureThreshold times. */
async function startupProbe(box: Sandbox, probe: Probe): Promise<{ passed: boolean; last: string }> {
  let last = '';
  for (let attempt = 0; attempt < probe.failureThreshold; attempt++) {
    if ((await box.exited(0)) !== 'running') return { passed: false, last: 'the container exited' };
    const r = await box.exec(probe.command ?? [], probe.timeoutMs);
    if (r.code === 0) return { passed: true, last: r.stdout };
    last = `${r.code}: ${r.stdout}${r.stderr}`;
    await sleep(probe.periodMs);
  }
  return { passed: false, last };
}

/** Polls an HTTP probe path every period, at most `attempts` times, until it answers 200. */
async function untilOk(box: Sandbox, port: number, probe: Probe, attempts: number): Promise<{ status: number; body: string }> {
  let r = { status: 0, body: '' };
  for (let i = 0; i < attempts; i++) {
    r = await box.httpGet(port, probe.httpPath ?? '/');
    if (r.status === 200) return r;
    await sleep(probe.periodMs);
  }
  return r;
}

/** Ends a process this test started, by its PID, unless it has already ended. */
function end(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
  try {
    process.kill(p.pid, signal);
  } catch {
    // gone in between
  }
}

const started: { box?: Sandbox; procs: ChildProcess[] }[] = [];
after(async () => {
  for (const s of started) {
    for (const p of s.procs) end(p);
    await s.box?.destroy();
  }
});

function log(box: Sandbox): string {
  return box.output.slice(-40).join('\n');
}

describe('the shipped Deployments start under their containers\' constraints', { skip }, () => {
  for (const form of FORMS) {
    test(`${form.name}: starts, passes its startup, readiness and liveness probes, leaves on preStop, exits 0 on SIGTERM`, async () => {
      const deployment = deploymentOf(form.dir);
      const container = swimringContainer(deployment);
      const spec = containerSpecOf(deployment, 'swimring');
      assert.ok(spec.readOnlyRoot && spec.dropAllCapabilities && spec.noNewPrivs && spec.uid !== 0, 'the manifest hardens the container (else this test proves less)');
      const box = await Sandbox.start(spec);
      const run: { box: Sandbox; procs: ChildProcess[] } = { box, procs: [] };
      started.push(run);

      // The sandbox is what the manifest says: not root, no capabilities, root and the image unwritable.
      const who = await box.exec(['sh', '-c', 'id -u; grep CapEff /proc/self/status; (echo x > /probe) 2>/dev/null && echo root-writable; (echo x > dist/probe) 2>/dev/null && echo image-writable; true'], 5000);
      assert.equal(who.code, 0, who.stderr);
      assert.deepEqual(who.stdout.trim().split('\n'), [String(spec.uid), 'CapEff:\t0000000000000000']);

      const startup = await startupProbe(box, probeOf(container, 'startupProbe'));
      assert.ok(startup.passed, `startup probe never passed (${startup.last})\n${log(box)}`);

      // The app container (a stand-in) starts; the sidecar's readiness then follows it.
      const app = box.startApp(appPort(spec.env));
      run.procs.push(app);
      const readiness = probeOf(container, 'readinessProbe');
      const ready = await untilOk(box, opsPort(spec.env), readiness, 12);
      assert.equal(ready.status, 200, `readyz: ${ready.body}\n${log(box)}`);
      const live = await box.httpGet(opsPort(spec.env), probeOf(container, 'livenessProbe').httpPath ?? '/');
      assert.equal(live.status, 200, live.body);
      // The sandbox has no cluster DNS, so the seed warnings of a first pod are expected; nothing else.
      const unexpected = box.logLines().filter((l) => l.level >= 40 && !/seed/.test(l.msg));
      assert.deepEqual(unexpected, [], 'no other warning or error while starting');

      // preStop: the hook finds the admin token the agent wrote and starts the leave.
      const preStop = arr(obj(obj(obj(container['lifecycle'], 'lifecycle')['preStop'], 'preStop')['exec'], 'exec')['command'], 'command').map((w) => str(w, 'word'));
      const hook = box.spawnInside(preStop);
      run.procs.push(hook);
      let hookOut = '';
      hook.stdout?.setEncoding('utf8').on('data', (d: string) => (hookOut += d));
      hook.stderr?.setEncoding('utf8').on('data', (d: string) => (hookOut += d));
      const hookDone = new Promise<number | null>((r) => hook.on('exit', (code) => r(code)));
      // The hook may hold on afterwards (the app's drain); only its first answer matters here.
      for (let i = 0; i < 50 && !/leave: started|leave: /.test(hookOut); i++) await sleep(100);
      assert.match(hookOut, /leave: started/, `preStop hook: ${hookOut}`);
      end(hook, 'SIGTERM');
      await hookDone;

      // Then the kubelet sends SIGTERM and waits at most the grace period.
      box.signal('SIGTERM');
      const grace = num(podSpecOf(deployment)['terminationGracePeriodSeconds'] ?? 30, 'terminationGracePeriodSeconds') * 1000;
      assert.equal(await box.exited(grace), 0, log(box));
      end(app);
    });
  }

  test('without a writable /tmp (the manifests before the emptyDir) the agent still starts and serves, says why admin actions are refused, and leaves on SIGTERM', async () => {
    const deployment = deploymentOf(FORMS[0]?.dir ?? '');
    const shipped = containerSpecOf(deployment, 'swimring');
    const spec: ContainerSpec = { ...shipped, emptyDirs: [] };
    const box = await Sandbox.start(spec);
    started.push({ box, procs: [] });
    const tmp = await box.exec(['sh', '-c', '(echo x > /tmp/probe) 2>&1 || true'], 5000);
    assert.match(tmp.stdout, /Read-only file system/, 'the sandbox reproduces the read-only /tmp');

    const startup = await startupProbe(box, probeOf(swimringContainer(deployment), 'startupProbe'));
    assert.ok(startup.passed, `startup probe never passed (${startup.last})\n${log(box)}`);
    const live = await box.httpGet(opsPort(spec.env), '/livez');
    assert.equal(live.status, 200, live.body);
    const warned = box.logLines().filter((l) => l.level === 40 && /admin token file/.test(l.msg));
    assert.equal(warned.length, 1, log(box));
    assert.match(String(warned[0]?.['err']), /read-only file system/i);
    assert.match(warned[0]?.msg ?? '', /SWIMRING_ADMIN_TOKEN/);

    // Admin actions are refused with the reason; routes are served.
    const leave = await box.httpGet(7948, '/v1/leave', 'POST');
    assert.equal(leave.status, 401);
    assert.match(leave.body, /no admin token/);
    assert.equal((await box.httpGet(7948, '/v1/members')).status, 200);

    box.signal('SIGTERM');
    assert.equal(await box.exited(40_000), 0, log(box));
  });
});
