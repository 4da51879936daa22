// How to start each system's agent and how to read membership news from its log. Both systems bind
// 127.0.0.X:7946 for gossip (same ports, one system at a time) and use the LAN timing profile.
import { existsSync, readFileSync } from 'node:fs';
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
  | { readonly kind: 'running'; readonly at: number }
  /** The agent itself starts announcing its leave (swimring: after its drain; Serf: at once). */
  | { readonly kind: 'leaving'; readonly at: number }
  /** swimring finished an ownership table for this many owners (Serf has no table). */
  | { readonly kind: 'table'; readonly at: number; readonly owners: number };

/** Per-agent settings a scenario may change; each system maps what it has an equivalent for. */
export interface AgentOptions {
  /** swimring's --drain-ms (Serf has no drain: ignored). Absent: the system's default. */
  readonly drainMs?: number;
}

export interface AgentSpec {
  readonly name: string;
  readonly host: string;
  readonly seedHost: string | null;
  readonly options: AgentOptions;
  /** Every agent's outgoing TCP leaves from one address (loopback: 127.0.0.1), so peers cannot tell callers apart by IP. */
  readonly sharedTcpSource: boolean;
}

export interface SystemDriver {
  readonly name: SystemName;
  /** Whether agents log 'table' events: the bench then waits for every table to cover the whole cluster before a repetition. */
  readonly hasTables: boolean;
  command(spec: AgentSpec): { command: string; args: string[]; env: Record<string, string> };
  /** The signal that makes the agent leave gracefully. */
  readonly leaveSignal: NodeJS.Signals;
  /** Ports whose TCP traffic is the agent's own (push-pull / control plane), for byte counting. */
  readonly tcpPorts: readonly number[];
  parse(line: string, receivedAt: number): LogEvent | null;
}

export const GOSSIP_PORT = 7946;

/** Labels of swimring's two leave variants (results' `variant`): its default drain (value in meta), and none. */
export const DEFAULT_DRAIN = 'default drain';
export const NO_DRAIN = '--drain-ms 0';
const SWIMRING_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const SWIMRING_OPTIONS = fileURLToPath(new URL('../../dist/config/options.js', import.meta.url));

/** Whether the built swimring has the per-caller-IP Negotiate limit, whose flags older builds reject. */
let perPeerLimitKnown: boolean | null = null;
function hasPerPeerNegotiateLimit(): boolean {
  perPeerLimitKnown ??= existsSync(SWIMRING_OPTIONS) && readFileSync(SWIMRING_OPTIONS, 'utf8').includes('negotiatePeerRate');
  return perPeerLimitKnown;
}

/**
 * On loopback every agent's gRPC client connects from 127.0.0.1, so a per-caller-IP limit would treat the whole
 * cluster as one caller and throttle a cold start that separate hosts would not see. The per-IP limit is raised
 * to the all-callers one there; in namespaces each agent has its own address and the defaults apply.
 */
/** Extra flags for every swimring agent of the run (`--swimring-args`), e.g. `--shards 4096` to isolate the table's cost. */
let swimringExtraArgs: readonly string[] = [];
export function setSwimringExtraArgs(args: readonly string[]): void {
  swimringExtraArgs = args;
}

function sharedSourceArgs(spec: AgentSpec): string[] {
  if (!spec.sharedTcpSource || !hasPerPeerNegotiateLimit()) return [];
  return ['--negotiate-peer-rate', '100', '--negotiate-peer-burst', '200'];
}

const SWIM_STATES: ReadonlySet<string> = new Set(['alive', 'suspect', 'dead', 'left']);

function isViewState(s: unknown): s is ViewState {
  return typeof s === 'string' && SWIM_STATES.has(s);
}

/** swimring run from another build's dist/main.js (e.g. a build of main, to compare before/after in one run). */
export function swimringAt(main: string): SystemDriver {
  return {
    ...swimringDriver,
    command: (spec) => {
      const own = swimringDriver.command(spec);
      return { ...own, args: [main, ...own.args.slice(1)] };
    },
  };
}

const swimringDriver: SystemDriver = {
  name: 'swimring',
  hasTables: true,
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
        ...(spec.options.drainMs !== undefined ? ['--drain-ms', String(spec.options.drainMs)] : []),
        ...sharedSourceArgs(spec),
        ...swimringExtraArgs,
      ],
      // The API listens on the agent's own address (reachable from other namespaces), which needs a token.
      env: { SWIMRING_LOG_LEVEL: 'info', SWIMRING_HTTP_TOKEN: 'cluster-bench-token-0123456789' },
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
      case 'leaving the cluster':
        return { kind: 'leaving', at };
      case 'ownership table rebuilt':
        return typeof r['owners'] === 'number' ? { kind: 'table', at, owners: r['owners'] } : null;
      default:
        return null;
    }
  },
};

export const swimring: SystemDriver = swimringDriver;

const SERF_VIEW: ReadonlyArray<readonly [RegExp, ViewState]> = [
  [/serf: EventMemberJoin: (\S+)/, 'alive'],
  [/serf: EventMemberFailed: (\S+)/, 'dead'],
  [/serf: EventMemberLeave: (\S+)/, 'left'],
];

export const serf: SystemDriver = {
  name: 'serf',
  hasTables: false,
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
    if (line.includes('agent: requesting graceful leave from Serf')) return { kind: 'leaving', at: receivedAt };
    return null;
  },
};
