// Starts real sidecar processes (node dist/main.js agent) on distinct loopback addresses and talks to
// them over their real HTTP listeners. Every process started here is ended here, by PID.
import { createSocket } from 'node:dgram';
import type { MemberView } from '../../src/runtime/view.js';
import { AgentProcess, agentArgs, MAIN } from '../support/agent-process.js';
import { metricValue } from '../support/poll.js';

export { MAIN };

export interface NodeSpec {
  readonly name: string;
  readonly host: string;
  readonly portBase: number;
  readonly seeds: readonly string[];
  readonly extraArgs?: readonly string[];
  readonly env?: Record<string, string>;
  /** Timing profile; tests use 'local' so detection takes seconds, benchmarks 'lan'. */
  readonly profile?: 'lan' | 'local' | 'wan';
  readonly shards?: number;
  /** Another build's dist/main.js (a bench comparing two builds); this worktree's by default. */
  readonly main?: string;
  /** Node's own flags for this member's process (a bench's --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

export class SidecarProcess extends AgentProcess {
  constructor(readonly spec: NodeSpec) {
    const p = spec.portBase;
    const args = agentArgs({
      name: spec.name,
      host: spec.host,
      ports: { gossip: p, grpc: p + 1, http: p + 2, ops: p + 3, app: p + 4 },
      advertiseHost: spec.host,
      profile: spec.profile ?? 'local',
      // 2^14 shards instead of the default 2^18: five agents rebuilding tables on two shared cores stay
      // quick, and nothing these tests check depends on the shard count.
      shards: spec.shards ?? 16384,
      seeds: spec.seeds,
      extraArgs: spec.extraArgs ?? [],
      ...(spec.main === undefined ? {} : { main: spec.main }),
      ...(spec.nodeArgs === undefined ? {} : { nodeArgs: spec.nodeArgs }),
    });
    super(process.execPath, args, { SWIMRING_LOG_LEVEL: 'info', ...spec.env }, 5000);
  }

  get name(): string {
    return this.spec.name;
  }
  get httpBase(): string {
    return `http://${this.spec.host}:${this.spec.portBase + 2}`;
  }
  get opsBase(): string {
    return `http://${this.spec.host}:${this.spec.portBase + 3}`;
  }
  get grpcAddr(): string {
    return `${this.spec.host}:${this.spec.portBase + 1}`;
  }
  get gossipAddr(): string {
    return `${this.spec.host}:${this.spec.portBase}`;
  }
  async stop(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  async json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const base = path.startsWith('/livez') || path.startsWith('/readyz') || path.startsWith('/metrics') ? this.opsBase : this.httpBase;
    const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // /metrics is text
    }
    return { status: res.status, body: body as T };
  }

  async metrics(): Promise<string> {
    const res = await fetch(this.opsBase + '/metrics', { signal: AbortSignal.timeout(10_000) });
    return res.text();
  }
}

export { metricValue, waitFor } from '../support/poll.js';

/** A member's view, from its HTTP API. */
export async function viewOf(n: SidecarProcess): Promise<MemberView[]> {
  return (await n.json<{ members: MemberView[] }>('/v1/members')).body.members;
}

/** Every node holds exactly these nodes alive. */
export async function converged(nodes: readonly SidecarProcess[]): Promise<boolean> {
  const names = nodes.map((n) => n.name).sort();
  for (const n of nodes) {
    const alive = (await viewOf(n)).filter((m) => m.state === 'alive').map((m) => m.name).sort();
    if (alive.join() !== names.join()) return false;
  }
  return true;
}

/** Sum of a metric over the nodes' /metrics. */
export async function sumMetric(nodes: readonly SidecarProcess[], name: string, filter = ''): Promise<number> {
  let sum = 0;
  for (const n of nodes) sum += metricValue(await n.metrics(), name, filter);
  return sum;
}

/** One datagram to a node's gossip port. */
export function sendUdp(to: SidecarProcess, bytes: Uint8Array): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.send(bytes, to.spec.portBase, to.spec.host, () => {
      socket.close();
      resolve();
    });
  });
}

/** A random port base so concurrent runs (and a developer's own agent on 7946) do not collide. */
export function randomPortBase(): number {
  return 20_000 + Math.floor(Math.random() * 3000) * 10;
}

/** Where a test file's members live: disjoint blocks of loopback addresses let test files run at once. */
export interface ClusterLayout {
  /** Member i listens on 127.0.0.(hostBase + i); 10 by default. */
  readonly hostBase?: number;
  /** Member i is named `${namePrefix}-${i}`; "node" by default. */
  readonly namePrefix?: string;
  /** The agents' shard count (the SidecarProcess default otherwise). */
  readonly shards?: number;
}

export class Cluster {
  readonly nodes: SidecarProcess[] = [];
  constructor(
    readonly portBase = randomPortBase(),
    private readonly layout: ClusterLayout = {},
  ) {}

  host(i: number): string {
    return `127.0.0.${(this.layout.hostBase ?? 10) + i}`;
  }

  /** Member i, seeded with member 0's gRPC address (member 0 itself with none). */
  spec(i: number, overrides: Partial<NodeSpec> = {}): NodeSpec {
    return {
      name: `${this.layout.namePrefix ?? 'node'}-${i}`,
      host: this.host(i),
      portBase: this.portBase,
      seeds: i === 0 ? [] : [`${this.host(0)}:${this.portBase + 1}`],
      ...(this.layout.shards === undefined ? {} : { shards: this.layout.shards }),
      ...overrides,
    };
  }

  start(spec: NodeSpec): SidecarProcess {
    const p = new SidecarProcess(spec);
    this.nodes.push(p);
    return p;
  }

  live(): SidecarProcess[] {
    return this.nodes.filter((n) => n.running);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  dumpLogs(lines = 40): string {
    return this.nodes.map((n) => `--- ${n.name} (${n.running ? 'running' : `exit ${n.exitCode ?? n.exitSignal}`})\n${n.logs.slice(-lines).join('\n')}`).join('\n');
  }

  /** Runs `step`; when it fails, prints every member's last log lines first, so a failed start is not blind. */
  async withLogsOnFailure<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      console.error(this.dumpLogs());
      throw err;
    }
  }
}
