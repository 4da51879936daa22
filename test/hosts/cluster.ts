// Real sidecar processes, one per network namespace of a Lab, observed from the test process through
// the hub proxy: members' views, route answers, /metrics, and every member's watch stream (an event
// log with the harness's receive times). Every process started here is ended here, by PID.
import { AgentProcess, agentArgs } from '../support/agent-process.js';
import { waitFor as poll } from '../support/poll.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab, SUBNET } from './netns.js';
import type { MemberView, RouteAnswer, WatchEvent } from '../../src/runtime/view.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PROXY = fileURLToPath(new URL('./hub-proxy.ts', import.meta.url));
const RELAY = fileURLToPath(new URL('./delay-relay.ts', import.meta.url));
const TOKEN = 'host-tests-token-0123456789';
export const GOSSIP_PORT = 7946;
export const GRPC_PORT = 7947;
export const HTTP_PORT = 7948;
export const OPS_PORT = 7949;
export const SHARDS = 4096;

export interface MembersBody {
  readonly version: string;
  readonly members: readonly MemberView[];
}
export interface RoutesBody {
  readonly version: string;
  readonly routes: readonly RouteAnswer[];
}
export interface ObservedEvent {
  /** Harness clock (Date.now()) when the event arrived. */
  readonly at: number;
  readonly observer: string;
  readonly event: WatchEvent;
}

/** One sidecar life: a process in member i's namespace. A restart is a new Life. */
export class Life extends AgentProcess {
  frozen = false;

  /** What peers use to reach it: its own address, or its delay relay's in the hub. */
  readonly advertiseHost: string;

  /** `shards` null: the agent's default shard count. */
  constructor(readonly index: number, readonly name: string, readonly host: string, ns: string, seeds: readonly string[], profile: string, advertiseHost?: string, shards: number | null = SHARDS) {
    const args = agentArgs({
      name,
      host,
      ports: { gossip: GOSSIP_PORT, grpc: GRPC_PORT, http: HTTP_PORT, ops: OPS_PORT, app: 8080 },
      advertiseHost: advertiseHost ?? host,
      profile,
      // Fewer shards than the default keeps table rebuilds cheap on a small shared machine, where CPU
      // starvation would otherwise show up as false suspicions that no network fault caused.
      shards,
      seeds,
    });
    // `ip netns exec` execs the command in place, so this PID is the sidecar's own.
    super('ip', ['netns', 'exec', ns, process.execPath, ...args], { SWIMRING_HTTP_TOKEN: TOKEN, SWIMRING_LOG_LEVEL: 'info' }, 2000);
    this.advertiseHost = advertiseHost ?? host;
  }

  /** Answers HTTP: running and not stopped. */
  get responsive(): boolean {
    return this.running && !this.frozen;
  }
  get gossipAddr(): string {
    return `${this.advertiseHost}:${GOSSIP_PORT}`;
  }
  get grpcAddr(): string {
    return `${this.advertiseHost}:${GRPC_PORT}`;
  }

  override signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    super.signal(sig);
    if (sig === 'SIGSTOP') this.frozen = true;
    if (sig === 'SIGCONT') this.frozen = false;
  }
}

interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

export class HostCluster {
  readonly lab = new Lab();
  readonly lives: Life[] = [];
  /** Current life of each member index. */
  readonly current = new Map<number, Life>();
  readonly events: ObservedEvent[] = [];
  private readonly dir: string;
  private readonly socket: string;
  private proxy: ChildProcess | null = null;
  private relayProcess: ChildProcess | null = null;
  private closed = false;
  private nextHost = 101;

  /**
   * With `relay`, every member advertises a delay relay's address in the hub (scenario 7). `shards` null
   * runs the agents' default shard count (the scale bench); the tests keep the small one.
   */
  constructor(
    readonly size: number,
    readonly profile: 'lan' | 'local' | 'wan' = 'lan',
    readonly relay?: { readonly delayMs: number; readonly jitterMs: number },
    readonly shards: number | null = SHARDS,
  ) {
    this.dir = join(tmpdir(), this.lab.prefix);
    this.socket = join(this.dir, 'hub.sock');
  }

  name(i: number): string {
    return `m${i}`;
  }

  life(i: number): Life {
    const l = this.current.get(i);
    if (!l) throw new Error(`member ${i} never started`);
    return l;
  }

  all(): Life[] {
    return [...this.current.values()];
  }

  /** Milliseconds each setup step took (the shared CI machine can be slow; this says where). */
  readonly setupTimes: Record<string, number> = {};

  async create(): Promise<void> {
    let t = Date.now();
    mkdirSync(this.dir, { recursive: true });
    await this.lab.create(this.size);
    this.setupTimes.namespaces = Date.now() - t;
    t = Date.now();
    this.proxy = spawn('ip', ['netns', 'exec', this.lab.hub, process.execPath, '--import', 'tsx', PROXY, this.socket], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await startedUp(this.proxy, 'hub-proxy ready');
    if (this.relay !== undefined) {
      const opts = this.relay;
      const pairs: string[] = [];
      for (let i = 0; i < this.size; i++) {
        await this.lab.addHubAddress(this.relayHost(i));
        pairs.push(`${this.relayHost(i)}=${SUBNET}.${i + 1}`);
      }
      this.relayProcess = spawn('ip', ['netns', 'exec', this.lab.hub, process.execPath, '--import', 'tsx', RELAY, String(opts.delayMs), String(opts.jitterMs), String(GOSSIP_PORT), String(GRPC_PORT), ...pairs], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await startedUp(this.relayProcess, 'delay-relay ready');
    }
    this.setupTimes.proxy = Date.now() - t;
    // The seed first: members that find no seed back off (up to 10 s) before trying again.
    const seed = this.start(0, `${SUBNET}.1`, []);
    await waitFor('the seed member ready', 60_000, () => this.ready(seed), 300);
    this.setupTimes.seed = Date.now() - t - this.setupTimes.proxy;
    for (let i = 1; i < this.size; i++) this.start(i, `${SUBNET}.${i + 1}`, [seed.grpcAddr]);
  }

  /** Starts member i's sidecar at `host` (its namespace must already have that address). */
  start(i: number, host: string, seeds: readonly string[]): Life {
    const life = new Life(i, this.name(i), host, this.lab.memberNs(i), seeds, this.profile, this.relay ? this.relayHost(i) : undefined, this.shards);
    this.lives.push(life);
    this.current.set(i, life);
    void this.watch(life);
    return life;
  }

  relayHost(i: number): string {
    return `${SUBNET}.${200 + i}`;
  }

  /** Gossip seeds for a (re)starting member: every other member's gRPC address. */
  seedsFor(i: number): string[] {
    return this.all().filter((l) => l.index !== i && l.running).map((l) => l.grpcAddr);
  }

  /** Restarts member i (already stopped) under the same name on a fresh address. */
  async restartOnNewAddress(i: number): Promise<Life> {
    const host = `${SUBNET}.${this.nextHost++}`;
    await this.lab.readdress(i, host);
    return this.start(i, host, this.seedsFor(i));
  }

  async http(life: Life, port: number, path: string, init: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          path: `/${life.host}:${port}${path}`,
          method: init.method ?? 'GET',
          headers: { authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      const timeoutMs = init.timeoutMs ?? 8000;
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${life.name} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(init.body);
    });
  }

  async members(life: Life): Promise<MembersBody> {
    const res = await this.http(life, HTTP_PORT, '/v1/members');
    if (res.status !== 200) throw new Error(`${life.name} /v1/members: ${res.status} ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text) as MembersBody;
  }

  async routes(life: Life, keys: readonly string[]): Promise<RoutesBody> {
    const res = await this.http(life, HTTP_PORT, '/v1/route', { method: 'POST', body: JSON.stringify({ keys }) });
    if (res.status !== 200) throw new Error(`${life.name} /v1/route: ${res.status} ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text) as RoutesBody;
  }

  async metrics(life: Life): Promise<string> {
    const res = await this.http(life, OPS_PORT, '/metrics');
    if (res.status !== 200) throw new Error(`${life.name} /metrics: ${res.status}`);
    return res.text;
  }

  async ready(life: Life): Promise<boolean> {
    const res = await this.http(life, OPS_PORT, '/readyz');
    return res.status === 200;
  }

  /** Follows one life's watch stream for as long as it runs, reconnecting after cuts. */
  private async watch(life: Life): Promise<void> {
    while (!this.closed && life.running) {
      await new Promise<void>((resolve) => {
        const req = request({ socketPath: this.socket, path: `/${life.host}:${HTTP_PORT}/v1/watch`, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', resolve);
            return;
          }
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (!line.startsWith('data:')) continue;
              try {
                this.events.push({ at: Date.now(), observer: life.name, event: JSON.parse(line.slice(5)) as WatchEvent });
              } catch {
                // a cut mid-line; the next snapshot re-establishes the state
              }
            }
          });
          res.on('end', resolve);
          res.on('error', () => resolve());
          res.on('close', () => resolve());
        });
        req.on('error', () => resolve());
        req.end();
      });
      await sleep(300);
    }
  }

  /** Member events (`to` state) about `subject` seen by any observer since `since`. */
  memberEvents(since: number, filter: (e: { observer: string; name: string; to: string }) => boolean): ObservedEvent[] {
    return this.events.filter((e) => e.at >= since && e.event.type === 'member' && filter({ observer: e.observer, name: e.event.name, to: e.event.to }));
  }

  /** One line per responsive member: how it sees everyone (for failure reports). */
  async describeViews(): Promise<string> {
    const lines = await Promise.all(
      this.all().map(async (l) => {
        if (!l.responsive) return `${l.name}: ${l.running ? 'frozen' : 'not running'}`;
        try {
          const v = await this.members(l);
          return `${l.name} (version ${v.version}): ${v.members.map((m) => `${m.name}=${m.state}@${m.incarnation}`).join(' ')}`;
        } catch (err) {
          return `${l.name}: ${String(err)}`;
        }
      }),
    );
    return lines.join('\n');
  }

  dumpLogs(lines = 30): string {
    return this.lives
      .map((l) => `--- ${l.name}@${l.host} (${l.running ? 'running' : `exit ${l.exitCode ?? l.exitSignal}`})\n${l.logs.slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** Ends every process (by PID) and removes every namespace; synchronous so signal handlers can call it. */
  destroySync(): void {
    this.closed = true;
    for (const l of this.lives) {
      if (l.running && l.child.pid !== undefined) {
        try {
          process.kill(l.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const helper of [this.proxy, this.relayProcess]) {
      if (helper?.pid !== undefined && helper.exitCode === null) {
        try {
          process.kill(helper.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.lab.destroySync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for a helper process to print its ready line. */
async function startedUp(child: ChildProcess, readyLine: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${readyLine}: not seen in 60 s`)), 60_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes(readyLine)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`helper waiting for "${readyLine}" exited with ${code}`));
    });
  });
}

export { metricValue } from '../support/poll.js';

/** Polls until `check` returns a truthy value or the deadline passes (every 200 ms: ten members are polled at once). */
export function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>, intervalMs = 200): Promise<T> {
  return poll(what, timeoutMs, check, intervalMs);
}
