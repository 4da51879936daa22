// Kubernetes semantics on the host harness: pods of a Deployment or a StatefulSet as sidecar lives in
// network-namespace slots, started, probed and terminated as the kubelet would with the shipped
// manifest's probes, lifecycle hooks and grace period (read from deploy/kubernetes/native as rendered).
// A pod always gets a fresh address; a slot is reused only once its last pod has exited.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostCluster, HTTP_PORT, OPS_PORT, type Life } from './cluster.js';
import { Lab, SUBNET } from './netns.js';
import { DEPLOY, arr, findContainer, num, obj, renderKustomization, str, type JsonObject } from '../deploy/manifests.js';

/** Slots beyond the initial pods: a surge pod and terminating pods, or a drain's replacements. */
const SPARE_SLOTS = 4;
/** No pod lives longer than this in a test; every probe loop ends by then at the latest. */
const POD_LIFETIME_BOUND_MS = 15 * 60_000;

/** What the shipped Deployment asks of the kubelet and the Deployment controller. */
export interface PodTemplate {
  readonly readiness: { readonly periodMs: number; readonly timeoutMs: number; readonly failureThreshold: number };
  readonly startup: { readonly periodMs: number; readonly timeoutMs: number; readonly failureThreshold: number };
  readonly minReadyMs: number;
  readonly gracePeriodMs: number;
  /** The app container's preStop sleep: the sidecar gets SIGTERM once the app has exited after it. */
  readonly appDrainMs: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
}

function probeOf(container: JsonObject, which: string): { periodMs: number; timeoutMs: number; failureThreshold: number } {
  const p = obj(container[which], which);
  return { periodMs: num(p['periodSeconds'], `${which}.periodSeconds`) * 1000, timeoutMs: num(p['timeoutSeconds'], `${which}.timeoutSeconds`) * 1000, failureThreshold: num(p['failureThreshold'], `${which}.failureThreshold`) };
}

/** The native-sidecar Deployment of deploy/kubernetes/native, as `kubectl apply -k` would create it. */
export function shippedPodTemplate(): PodTemplate {
  const deployment = renderKustomization(join(DEPLOY, 'kubernetes', 'native')).find((o) => o['kind'] === 'Deployment');
  if (!deployment) throw new Error('deploy/kubernetes/native renders no Deployment');
  const spec = obj(deployment['spec'], 'spec');
  const rolling = obj(obj(spec['strategy'], 'strategy')['rollingUpdate'], 'rollingUpdate');
  const sidecar = findContainer(deployment, 'swimring');
  const app = findContainer(deployment, 'app');
  if (!sidecar || !app) throw new Error('the Deployment has no swimring or no app container');
  const appPreStop = arr(obj(obj(obj(app.container['lifecycle'], 'app lifecycle')['preStop'], 'app preStop')['exec'], 'app preStop exec')['command'], 'command').map((w) => str(w, 'word')).join(' ');
  const sleepFor = /\bsleep (\d+)\b/.exec(appPreStop);
  if (!sleepFor) throw new Error(`the app's preStop is not a sleep: ${appPreStop}`);
  const podSpec = obj(obj(spec['template'], 'template')['spec'], 'template.spec');
  return {
    readiness: probeOf(sidecar.container, 'readinessProbe'),
    startup: probeOf(sidecar.container, 'startupProbe'),
    minReadyMs: num(spec['minReadySeconds'] ?? 0, 'minReadySeconds') * 1000,
    gracePeriodMs: num(podSpec['terminationGracePeriodSeconds'], 'terminationGracePeriodSeconds') * 1000,
    appDrainMs: Number(sleepFor[1]) * 1000,
    maxSurge: num(rolling['maxSurge'], 'maxSurge'),
    maxUnavailable: num(rolling['maxUnavailable'], 'maxUnavailable'),
  };
}

interface Hook {
  startupPasses(status: number, body: unknown): boolean;
  adminToken(env: Readonly<Record<string, string>>): string | undefined;
}
/** The hook the manifests run (deploy/bin/swimring-hook.mjs): its startup rule and its admin token lookup. */
const hook = (await import(pathToFileURL(join(DEPLOY, 'bin', 'swimring-hook.mjs')).href)) as Hook;

class SlotLab extends Lab {
  override async create(members: number): Promise<void> {
    await super.create(members + SPARE_SLOTS);
  }
}

/** A HostCluster whose slots hold pods by name: the initial pods start in slots 0..n-1, later ones anywhere free. */
export class FleetCluster extends HostCluster {
  override readonly lab: Lab = new SlotLab();
  private readonly slotNames = new Map<number, string>();
  private nextAddress = 101;

  constructor(initialNames: readonly string[]) {
    super(initialNames.length, 'lan');
    initialNames.forEach((n, i) => this.slotNames.set(i, n));
  }

  override name(i: number): string {
    return this.slotNames.get(i) ?? super.name(i);
  }

  get slotCount(): number {
    return this.size + SPARE_SLOTS;
  }

  /** Starts `name` in `slot` (whose last pod has exited) on an address no pod had before. */
  async startIn(slot: number, name: string, seeds: readonly string[]): Promise<Life> {
    if (this.nextAddress > 250) throw new Error('out of pod addresses in the /24');
    const host = `${SUBNET}.${this.nextAddress++}`;
    this.slotNames.set(slot, name);
    await this.lab.readdress(slot, host);
    return this.start(slot, host, seeds);
  }

  /**
   * The preStop hook's request, made as the hook makes it: from loopback inside the pod (the app API
   * listens on the pod address here, so the source is bound to 127.0.0.1), with the admin token the
   * agent wrote for its name.
   */
  async leaveFromLoopback(life: Life): Promise<string> {
    const token = hook.adminToken({ SWIMRING_NAME: life.name });
    if (token === undefined) return `no admin token file for ${life.name}`;
    const script = [
      'const [host, port, token] = process.argv.slice(1);',
      "const req = require('node:http').request({ host, port: Number(port), localAddress: '127.0.0.1', method: 'POST', path: '/v1/leave', timeout: 2000,",
      "  headers: { authorization: 'Bearer ' + token, 'content-length': '0' } }, (res) => { res.resume(); res.on('end', () => { console.log(res.statusCode); process.exit(0); }); });",
      "req.on('timeout', () => req.destroy(new Error('no answer in 2000 ms')));",
      "req.on('error', (e) => { console.log(e.message); process.exit(1); });",
      'req.end();',
    ].join('\n');
    const child = spawn('ip', ['netns', 'exec', this.lab.memberNs(life.index), process.execPath, '-e', script, life.host, String(HTTP_PORT), token], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    // 'close', not 'exit': a child can exit before its piped output has been read, and the answer is that output.
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    clearTimeout(timer);
    return out.trim();
  }
}

const PROBER = fileURLToPath(new URL('./prober.ts', import.meta.url));

/** The kubelet's HTTP prober (prober.ts) in the hub namespace, fed over stdin; ended by PID. */
export class Prober {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, (answer: { status: number; text: string }) => void>();
  private nextId = 1;
  readonly ready: Promise<void>;

  constructor(hubNamespace: string) {
    this.child = spawn('ip', ['netns', 'exec', hubNamespace, process.execPath, '--import', 'tsx', PROBER], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('prober not ready in 60 s')), 60_000);
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        if (line === 'prober ready') {
          clearTimeout(timer);
          resolve();
          return;
        }
        const [id, status, ...body] = line.split('\t');
        const settle = this.pending.get(Number(id));
        this.pending.delete(Number(id));
        settle?.({ status: Number(status), text: body.join('\t') });
      });
      this.child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`prober exited with ${code}`));
        for (const settle of this.pending.values()) settle({ status: 0, text: 'prober exited' });
        this.pending.clear();
      });
    });
    this.ready.catch(() => undefined);
  }

  /** One GET as the kubelet makes it; status 0 when there was no answer within `timeoutMs`. */
  get(life: Life, port: number, path: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin?.write(`${id}\t${life.host}:${port}\t${path}\t${timeoutMs}\n`);
    });
  }

  stopSync(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export interface ProbeResult {
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string;
  /** The pod was Ready before and is not terminating: a failure here is one the issue forbids. */
  readonly serving: boolean;
}

/** One pod: a sidecar life plus what the kubelet knows of it. */
export class Pod {
  readonly createdAt = Date.now();
  startedAt: number | null = null;
  readyAt: number | null = null;
  ready = false;
  terminatingAt: number | null = null;
  sigtermAt: number | null = null;
  exitedAt: number | null = null;
  killed = false;
  preStop = '';
  readonly probes: ProbeResult[] = [];
  /** Ready -> NotReady while not terminating: the pod left its Service. */
  readonly leftService: number[] = [];
  private consecutiveFailures = 0;

  constructor(readonly life: Life) {
    void life.exited.then(() => (this.exitedAt = Date.now()));
  }

  get name(): string {
    return this.life.name;
  }
  get slot(): number {
    return this.life.index;
  }
  get exited(): boolean {
    return this.exitedAt !== null;
  }
  /** In the Service's endpoints: Ready and not terminating. */
  get inService(): boolean {
    return this.ready && this.terminatingAt === null;
  }

  /** The kubelet's readiness bookkeeping: Ready after one success, NotReady after failureThreshold in a row. */
  recordReadiness(ok: boolean, detail: string, failureThreshold: number): void {
    const at = Date.now();
    this.probes.push({ at, ok, detail, serving: this.readyAt !== null && this.terminatingAt === null });
    if (ok) {
      this.consecutiveFailures = 0;
      if (!this.ready) {
        this.ready = true;
        this.readyAt ??= at;
      }
      return;
    }
    this.consecutiveFailures++;
    if (this.ready && this.consecutiveFailures >= failureThreshold) {
      this.ready = false;
      if (this.terminatingAt === null) this.leftService.push(at);
    }
  }
}

/** Starts pods, probes them and terminates them as the kubelet does with the template's settings. */
export class Kubelet {
  readonly pods: Pod[] = [];
  private stopped = false;
  private prober: Prober | null = null;

  constructor(readonly cluster: FleetCluster, readonly template: PodTemplate) {}

  /** Starts the prober in the hub namespace (which exists once the cluster is created). */
  async startProber(): Promise<void> {
    this.prober = new Prober(this.cluster.lab.hub);
    await this.prober.ready;
  }

  private probe(pod: Pod, timeoutMs: number): Promise<{ status: number; text: string }> {
    if (!this.prober) throw new Error('the prober is not started');
    return this.prober.get(pod.life, OPS_PORT, '/readyz', timeoutMs);
  }

  /** Pods not yet terminating (what a controller counts), oldest first. */
  live(): Pod[] {
    return this.pods.filter((p) => p.terminatingAt === null && !p.exited);
  }

  /** The running pod of that name (a StatefulSet's new pod only starts once the old one is gone). */
  byName(name: string): Pod | undefined {
    return this.pods.find((p) => p.name === name && !p.exited);
  }

  /** Adopts a life already started (the initial pods) and starts probing it. */
  adopt(life: Life): Pod {
    const pod = new Pod(life);
    this.pods.push(pod);
    void this.probeStartup(pod);
    void this.probeReadiness(pod);
    return pod;
  }

  /** Creates a pod in a free slot, on a new address, seeded as the headless Service would seed it. */
  async create(name: string, slot = this.freeSlot()): Promise<Pod> {
    const seeds = this.live().map((p) => p.life.grpcAddr);
    return this.adopt(await this.cluster.startIn(slot, name, seeds));
  }

  freeSlot(): number {
    for (let s = 0; s < this.cluster.slotCount; s++) if (!this.pods.some((p) => p.slot === s && !p.exited)) return s;
    throw new Error('no free slot');
  }

  /** Ready, and Ready for minReadySeconds: what a Deployment counts as available (a StatefulSet: 0). Bounded. */
  async available(pod: Pod, boundMs: number, minReadyMs = this.template.minReadyMs): Promise<number> {
    const deadline = Date.now() + boundMs;
    while (Date.now() < deadline) {
      if (pod.exited) throw new Error(`${pod.name} exited before it was available`);
      if (pod.ready && pod.readyAt !== null && Date.now() - pod.readyAt >= minReadyMs) return Date.now() - pod.createdAt;
      await sleep(100);
    }
    throw new Error(`${pod.name} not available within ${boundMs} ms (started ${pod.startedAt !== null}, ready ${pod.ready}; last probe ${pod.probes.at(-1)?.detail ?? 'none'})`);
  }

  /**
   * Pod deletion, native sidecar form: the pod leaves its Service's endpoints at once; the sidecar's
   * preStop (the leave) and the app's preStop (its drain sleep) run together; the app then exits, and
   * the sidecar gets SIGTERM once its hook is done and the app is gone; SIGKILL at the grace period.
   */
  async terminate(pod: Pod): Promise<void> {
    const t0 = Date.now();
    pod.terminatingAt = t0;
    const sidecarHook = this.cluster.leaveFromLoopback(pod.life).then((out) => (pod.preStop = out));
    await Promise.all([sidecarHook, sleep(this.template.appDrainMs)]);
    pod.sigtermAt = Date.now();
    pod.life.signal('SIGTERM');
    const left = Math.max(0, t0 + this.template.gracePeriodMs - Date.now());
    const timer = new AbortController();
    await Promise.race([pod.life.exited, sleep(left, undefined, { signal: timer.signal }).catch(() => undefined)]);
    timer.abort();
    if (pod.life.running) {
      pod.killed = true;
      pod.life.signal('SIGKILL');
      await pod.life.exited;
    }
  }

  /** Ends the probe loops and the prober (synchronous: cleanup hooks call it). */
  stop(): void {
    this.stopped = true;
    this.prober?.stopSync();
  }

  private alive(pod: Pod): boolean {
    return !this.stopped && !pod.exited && Date.now() - pod.createdAt < POD_LIFETIME_BOUND_MS;
  }

  /** The startupProbe (the hook's rule on /readyz) every period until it passes; readiness waits for it. */
  private async probeStartup(pod: Pod): Promise<void> {
    const { periodMs, timeoutMs, failureThreshold } = this.template.startup;
    for (let attempt = 0; attempt < failureThreshold && this.alive(pod); attempt++) {
      const res = await this.probe(pod, timeoutMs);
      let body: unknown = null;
      try {
        body = JSON.parse(res.text);
      } catch {
        // not JSON (or no answer yet: the process is starting): the rule fails it
      }
      if (hook.startupPasses(res.status, body)) {
        pod.startedAt = Date.now();
        return;
      }
      await sleep(periodMs);
    }
  }

  /** The readinessProbe: a tick every period from container start, skipped until the startup probe passed. */
  private async probeReadiness(pod: Pod): Promise<void> {
    const { periodMs, timeoutMs, failureThreshold } = this.template.readiness;
    for (let tick = 0; this.alive(pod); tick++) {
      await sleep(Math.max(0, pod.createdAt + tick * periodMs - Date.now()));
      if (!this.alive(pod) || pod.sigtermAt !== null) return;
      if (pod.startedAt === null) continue;
      const res = await this.probe(pod, timeoutMs);
      if (res.status === 0 && pod.sigtermAt !== null) return;
      pod.recordReadiness(res.status >= 200 && res.status < 400, `${res.status} ${res.text.slice(0, 200)}`, failureThreshold);
    }
  }
}
