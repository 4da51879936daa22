// How to start each system's agent and how to read membership news from its log. Both systems bind
// 127.0.0.X:7946 for gossip (same ports, one system at a time) and use the LAN timing profile.
import { fileURLToPath } from 'node:url';

export type SystemName = 'swimring' | 'serf';
export type ViewState = 'alive' | 'suspect' | 'dead' | 'left';

/** One line of news from one agent's log: `observer` now holds `subject` in `state`. */
export type LogEvent =
  | { readonly kind: 'view'; readonly at: number; readonly subject: string; readonly state: ViewState }
  | { readonly kind: 'reaped'; readonly at: number; readonly subject: string }
  /** A suspicion raised (Serf logs only the prober's own; swimring every member's). */
  | { readonly kind: 'suspicion'; readonly at: number; readonly subject: string }
  /** The agent is up and has made its first join attempt. */
  | { readonly kind: 'running'; readonly at: number };

export interface AgentSpec {
  readonly name: string;
  readonly host: string;
  readonly seedHost: string | null;
}

export interface SystemDriver {
  readonly name: SystemName;
  command(spec: AgentSpec): { command: string; args: string[]; env: Record<string, string> };
  /** The signal that makes the agent leave gracefully. */
  readonly leaveSignal: NodeJS.Signals;
  /** Ports whose TCP traffic is the agent's own (push-pull / control plane), for byte counting. */
  readonly tcpPorts: readonly number[];
  parse(line: string, receivedAt: number): LogEvent | null;
}

export const GOSSIP_PORT = 7946;
const SWIMRING_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const SWIM_STATES: ReadonlySet<string> = new Set(['alive', 'suspect', 'dead', 'left']);

function isViewState(s: unknown): s is ViewState {
  return typeof s === 'string' && SWIM_STATES.has(s);
}

export const swimring: SystemDriver = {
  name: 'swimring',
  leaveSignal: 'SIGTERM',
  tcpPorts: [GOSSIP_PORT + 1],
  command(spec) {
    const h = spec.host;
    return {
      command: process.execPath,
      args: [
        SWIMRING_MAIN, 'agent',
        '--name', spec.name,
        '--gossip-addr', `${h}:${GOSSIP_PORT}`,
        '--grpc-addr', `${h}:${GOSSIP_PORT + 1}`,
        '--http-addr', `${h}:${GOSSIP_PORT + 2}`,
        '--ops-addr', `${h}:${GOSSIP_PORT + 3}`,
        '--advertise-host', h,
        '--profile', 'lan',
        ...(spec.seedHost ? ['--seeds', `${spec.seedHost}:${GOSSIP_PORT + 1}`] : []),
      ],
      env: { SWIMRING_LOG_LEVEL: 'info' },
    };
  },
  parse(line) {
    if (!line.startsWith('{')) return null;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return null;
    }
    if (typeof rec !== 'object' || rec === null) return null;
    const r = rec as Record<string, unknown>;
    const at = typeof r['time'] === 'number' ? r['time'] : Date.now();
    const member = r['member'];
    switch (r['msg']) {
      case 'membership change':
        if (typeof member !== 'string' || member === r['self'] || !isViewState(r['to'])) return null;
        return { kind: 'view', at, subject: member, state: r['to'] };
      case 'member reaped':
        return typeof member === 'string' ? { kind: 'reaped', at, subject: member } : null;
      case 'swimring is running':
        return { kind: 'running', at };
      default:
        return null;
    }
  },
};

const SERF_VIEW: ReadonlyArray<readonly [RegExp, ViewState]> = [
  [/serf: EventMemberJoin: (\S+)/, 'alive'],
  [/serf: EventMemberFailed: (\S+)/, 'dead'],
  [/serf: EventMemberLeave: (\S+)/, 'left'],
];

export const serf: SystemDriver = {
  name: 'serf',
  leaveSignal: 'SIGINT',
  tcpPorts: [GOSSIP_PORT],
  command(spec) {
    return {
      command: 'serf',
      args: [
        'agent',
        `-node=${spec.name}`,
        `-bind=${spec.host}:${GOSSIP_PORT}`,
        `-rpc-addr=${spec.host}:7373`,
        '-profile=lan',
        '-log-level=info',
        ...(spec.seedHost ? [`-retry-join=${spec.seedHost}:${GOSSIP_PORT}`, '-retry-interval=1s'] : []),
      ],
      env: {},
    };
  },
  // Serf's log has one-second timestamps, so the bench stamps each line on arrival instead.
  parse(line, receivedAt) {
    for (const [re, state] of SERF_VIEW) {
      const m = re.exec(line);
      if (m?.[1]) return { kind: 'view', at: receivedAt, subject: m[1], state };
    }
    const reap = /serf: EventMemberReap: (\S+)/.exec(line);
    if (reap?.[1]) return { kind: 'reaped', at: receivedAt, subject: reap[1] };
    const suspect = /memberlist: Suspect (\S+) has failed/.exec(line);
    if (suspect?.[1]) return { kind: 'suspicion', at: receivedAt, subject: suspect[1] };
    if (line.includes('Serf agent running!')) return { kind: 'running', at: receivedAt };
    return null;
  },
};
