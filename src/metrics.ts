// Prometheus metrics on a registry of our own (never prom-client's global one), so several agents or
// tests in one process do not collide. docs/metrics.md describes every series.
import { Counter, Gauge, Registry, type LabelValues, type Metric } from 'prom-client';
import type { CoreCounters, MemberState } from './core/types.js';
import { LoopLagSamples, registerNodeMetrics } from './node-metrics.js';

export const METRIC_PREFIX = 'swimring_';

const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** Handler time of a route call is microseconds; the buckets resolve that range, then catch stragglers. */
export const ROUTE_LATENCY_BUCKETS = [
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1,
];

export interface MetricsOptions {
  /**
   * Process and Node.js metrics (process_*, nodejs_*): at creation (the default), never (false), or
   * when addDefaultMetrics() is called ('deferred').
   */
  readonly defaultMetrics?: boolean | 'deferred';
}

type Label<N extends string> = N;

export type RouteKind = 'single' | 'batch';

/**
 * Route requests of one kind, tallied in plain numbers: prom-client's own observe() validates and
 * hashes labels on every call, which cost more than the route lookup itself. The registry reads the
 * tally when it is scraped (route counters through collect(), the latency histogram directly).
 */
export class RouteTally {
  requests = 0;
  keys = 0;
  secondsSum = 0;
  /** Observations per bucket (not cumulative); the last slot is above every bound (+Inf). */
  readonly bucketCounts: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  record(keys: number, seconds: number): void {
    this.requests++;
    this.keys += keys;
    this.secondsSum += seconds;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
  }
}

interface HistogramValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

/** A histogram metric read from RouteTallies, shaped like prom-client's so the registry renders it alike. */
function tallyHistogram(name: string, help: string, tallies: Readonly<Record<RouteKind, RouteTally>>) {
  const read = () => {
    const values: HistogramValue[] = [];
    for (const [kind, tally] of Object.entries(tallies)) {
      let cumulative = 0;
      tally.bounds.forEach((le, i) => {
        cumulative += tally.bucketCounts[i] ?? 0;
        values.push({ labels: { le, kind }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', kind }, value: tally.requests, metricName: `${name}_bucket` });
      values.push({ labels: { kind }, value: tally.secondsSum, metricName: `${name}_sum` });
      values.push({ labels: { kind }, value: tally.requests, metricName: `${name}_count` });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  return { name, help, type: 'histogram', aggregator: 'sum', labelNames: ['kind'], get: async () => read(), reset: () => {} };
}

/** prom-client's default gauges whose names end in a counter's suffix. */
const DEFAULT_GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Prometheus reserves _total for counters (promtool check metrics refuses these gauges). Each is
 * re-registered as <name without _total>_current, reading the same prom-client source, so the number
 * stays; the by-type gauges (nodejs_active_handles{type}, ...) are untouched.
 */
function renameCountGauges(registry: Registry): void {
  for (const name of DEFAULT_GAUGES_NAMED_LIKE_COUNTERS) {
    const original = registry.getSingleMetric(name);
    if (original === undefined) continue;
    registry.removeSingleMetric(name);
    new Gauge({
      name: `${name.slice(0, -'_total'.length)}_current`,
      help: (original as unknown as { help: string }).help.replace(/^Total number/, 'Number'),
      registers: [registry],
      async collect() {
        const read = await original.get();
        this.set(read.values[0]?.value ?? 0);
      },
    });
  }
}

export interface Metrics {
  readonly registry: Registry;
  readonly members: Gauge<Label<'state'>>;
  readonly probesSent: Counter;
  readonly probesFailed: Counter;
  readonly indirectProbesSent: Counter;
  readonly nacksSent: Counter;
  readonly nacksReceived: Counter;
  readonly suspicions: Counter;
  readonly refutations: Counter;
  readonly nameConflicts: Counter;
  readonly updatesQueued: Counter;
  readonly gossipPacketsSent: Counter;
  readonly pushPulls: Counter;
  readonly membersDropped: Counter;
  readonly updatesRejected: Counter;
  readonly relaysDropped: Counter;
  readonly reconnects: Counter;
  readonly staleAccusationsAnswered: Counter;
  readonly healthScore: Gauge;
  readonly packetsIn: Counter;
  readonly packetsOut: Counter;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly udpReceiveErrors: Counter;
  readonly udpReopens: Counter;
  readonly decodeRejections: Counter<Label<'reason'>>;
  readonly grpcRejections: Counter<Label<'rpc' | 'reason'>>;
  readonly gossipPacketsByVersion: Counter<Label<'direction' | 'version'>>;
  readonly joinRefusals: Counter<Label<'reason'>>;
  readonly effectFailures: Counter<Label<'effect'>>;
  readonly keySeals: Counter<Label<'key'>>;
  /** sec-edge: control-plane TLS file changes, by result (reloaded, failed). */
  readonly tlsReloads: Counter<Label<'result'>>;
  readonly httpRejections: Counter<Label<'route' | 'code'>>;
  readonly gossipQueueDepth: Gauge;
  /** Hot-path tallies behind swimring_route_requests_total, _keys_total and _duration_seconds. */
  readonly routes: Readonly<Record<RouteKind, RouteTally>>;
  readonly tableVersionChanges: Counter;
  readonly shardMoves: Counter<Label<'role'>>;
  readonly watchers: Gauge;
  readonly watchDisconnects: Counter<Label<'reason'>>;
  /** Sets the members gauge for every state at once (states not given are 0). */
  setMemberCounts(counts: Partial<Record<MemberState, number>>): void;
  /**
   * Advances a counter to a running total kept elsewhere (the core's and runtime's plain counters):
   * adds the growth since the last call, so it never goes backwards and never double counts.
   */
  advance<T extends string>(counter: Counter<T>, total: number, labels?: LabelValues<T>): void;
  /** Advances the protocol counters from the core's CoreCounters. */
  syncCoreCounters(counters: Readonly<CoreCounters>): void;
  /** Runs before each scrape, so pull-style sources can copy their numbers in just in time. */
  onScrape(refresh: () => void): void;
  /** Prometheus text exposition, after the onScrape refreshes. */
  render(): Promise<string>;
  /**
   * Registers the process and Node.js metrics if they are not yet: the agent does it just before it
   * serves /metrics, so their set-up (observers, event-loop monitor) is not on the way to its app API.
   */
  addDefaultMetrics(): void;
  /** How late a timer fired (ms, 0 = on time): the nodejs_eventloop_lag_* series summarize these per scrape. */
  recordLoopLag(ms: number): void;
  readonly contentType: string;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const counter = <T extends string = string>(name: string, help: string, labelNames: readonly T[] = []): Counter<T> =>
    new Counter<T>({ name: METRIC_PREFIX + name, help, labelNames, registers });
  const gauge = <T extends string = string>(name: string, help: string, labelNames: readonly T[] = []): Gauge<T> =>
    new Gauge<T>({ name: METRIC_PREFIX + name, help, labelNames, registers });

  let defaultMetricsAdded = false;
  const loopLag = new LoopLagSamples();
  const addDefaultMetrics = (): void => {
    if (defaultMetricsAdded) return;
    defaultMetricsAdded = true;
    registerNodeMetrics(registry, loopLag);
    renameCountGauges(registry);
  };
  if (options.defaultMetrics === undefined || options.defaultMetrics === true) addDefaultMetrics();

  const members = gauge('members', 'Members in the local view, by state.', ['state']);
  for (const state of MEMBER_STATES) members.set({ state }, 0);

  const lastTotals = new Map<Counter<string>, Map<string, number>>();
  const routes: Record<RouteKind, RouteTally> = { single: new RouteTally(ROUTE_LATENCY_BUCKETS), batch: new RouteTally(ROUTE_LATENCY_BUCKETS) };
  // Route counters are brought up to the tallies whenever they are read (scrape or get()).
  const routeRequests = new Counter({
    name: `${METRIC_PREFIX}route_requests_total`,
    help: 'Route requests answered, single key or batch.',
    labelNames: ['kind'],
    registers,
    collect() {
      for (const kind of ['single', 'batch'] as const) metrics.advance(this, routes[kind].requests, { kind });
    },
  });
  const routeKeys = new Counter({
    name: `${METRIC_PREFIX}route_keys_total`,
    help: 'Keys routed, over single and batch requests.',
    registers,
    collect() {
      metrics.advance(this, routes.single.keys + routes.batch.keys);
    },
  });
  registry.registerMetric(
    // Duck-typed: the registry only needs name, type and get(); prom-client's types list only its classes.
    tallyHistogram(
      `${METRIC_PREFIX}route_duration_seconds`,
      'Handler time of a route request (lookup and serialization, not HTTP parsing), single key or batch.',
      routes,
    ) as unknown as Metric,
  );
  const refreshers: (() => void)[] = [];

  const metrics: Metrics = {
    registry,
    members,
    probesSent: counter('probes_sent_total', 'Direct probes (pings) sent.'),
    probesFailed: counter('probes_failed_total', 'Probes that got no ack, directly or through relays.'),
    indirectProbesSent: counter('indirect_probes_sent_total', 'Indirect probe requests (ping-req) sent.'),
    nacksSent: counter('nacks_sent_total', 'Lifeguard nacks sent as a relay that heard nothing from the target.'),
    nacksReceived: counter('nacks_received_total', 'Lifeguard nacks received from relays.'),
    suspicions: counter('suspicions_total', 'Suspicions this member raised.'),
    refutations: counter('refutations_total', 'Times this member refuted a suspicion, death or stale record about itself.'),
    nameConflicts: counter('name_conflicts_total', 'Times another live process was seen claiming a member name.'),
    updatesQueued: counter('updates_queued_total', 'Membership updates queued for dissemination.'),
    gossipPacketsSent: counter('gossip_packets_sent_total', 'Gossip-only packets sent (updates without a probe to carry them).'),
    pushPulls: counter('push_pulls_total', 'Full-state exchanges (Negotiate) started, periodic and on join.'),
    membersDropped: counter('members_dropped_total', 'Alive updates about unknown members dropped because the member table was full.'),
    updatesRejected: counter('updates_rejected_total', 'Malformed membership updates or records ignored.'),
    relaysDropped: counter('relays_dropped_total', 'Indirect probe requests refused because too many relays were pending.'),
    reconnects: counter('reconnects_total', 'Negotiations started with a dead or reaped member, to find the other side of a healed partition.'),
    staleAccusationsAnswered: counter('stale_accusations_answered_total', 'Stale accusations about this member answered with its current alive record.'),
    healthScore: gauge('local_health_score', 'Lifeguard local health (awareness) score; 0 is healthy.'),
    packetsIn: counter('packets_received_total', 'UDP packets received.'),
    packetsOut: counter('packets_sent_total', 'UDP packets sent.'),
    bytesIn: counter('bytes_received_total', 'UDP bytes received.'),
    bytesOut: counter('bytes_sent_total', 'UDP bytes sent.'),
    udpReceiveErrors: counter('udp_receive_errors_total', 'Gossip socket failures: socket errors, unexpected closes and failed reopens.'),
    udpReopens: counter('udp_socket_reopens_total', 'Times the gossip socket was reopened after a failure.'),
    decodeRejections: counter('decode_rejections_total', 'UDP packets refused by the decoder, by reason.', ['reason']),
    grpcRejections: counter('grpc_rejections_total', 'gRPC requests refused, by rpc and reason.', ['rpc', 'reason']),
    gossipPacketsByVersion: counter('gossip_packets_by_version_total', 'Gossip packets sent (out) and accepted (in), by the protocol version they were written in.', ['direction', 'version']),
    joinRefusals: counter('join_refusals_total', "Joins this member's seeds refused, by reason (unsupported-version: no protocol version in common).", ['reason']),
    keySeals: counter('gossip_key_seals_total', 'Payloads this member sealed with each gossip key (by key id): UDP packets, key proofs, keyring operations.', ['key']),
    effectFailures: counter('effect_failures_total', 'Membership effects (or core steps) that threw; counted and logged, the member keeps running.', ['effect']),
    tlsReloads: counter('tls_reloads_total', 'Control-plane TLS file changes, by result: reloaded (new connections use it) or failed (old material kept).', ['result']),
    httpRejections: counter('http_rejections_total', 'HTTP requests answered with an error, by route pattern and error code.', ['route', 'code']),
    gossipQueueDepth: gauge('gossip_queue_depth', 'Membership updates waiting to be piggybacked or gossiped.'),
    routes,
    tableVersionChanges: counter('table_version_changes_total', 'Times the ownership table changed version.'),
    shardMoves: counter('shard_moves_total', 'Shard ownership moves, by role (owner or replica).', ['role']),
    watchers: gauge('http_watchers', 'Open /v1/watch streams.'),
    watchDisconnects: counter('http_watch_disconnects_total', 'Watch streams closed by the server, by reason.', ['reason']),
    setMemberCounts(counts) {
      for (const state of MEMBER_STATES) members.set({ state }, counts[state] ?? 0);
    },
    advance(counterToMove, total, labels) {
      if (!Number.isFinite(total)) return;
      const key = labels === undefined ? '' : JSON.stringify(labels);
      const generic = counterToMove as unknown as Counter<string>;
      let seen = lastTotals.get(generic);
      if (seen === undefined) lastTotals.set(generic, (seen = new Map()));
      const delta = total - (seen.get(key) ?? 0);
      if (delta <= 0) return;
      seen.set(key, total);
      if (labels === undefined) counterToMove.inc(delta);
      else counterToMove.inc(labels, delta);
    },
    syncCoreCounters(c) {
      for (const [field, total] of Object.entries(c)) {
        if (typeof total === 'number') metrics.advance(coreCounter(field), total);
      }
    },
    onScrape(refresh) {
      refreshers.push(refresh);
    },
    async render() {
      for (const refresh of refreshers) {
        try {
          refresh();
        } catch {
          // A broken source must not take the whole scrape down; its series just stay where they were.
        }
      }
      return registry.metrics();
    },
    addDefaultMetrics,
    recordLoopLag: (ms) => loopLag.record(ms),
    get contentType() {
      return registry.contentType;
    },
  };
  // The core's counters with a documented series each. A field the core adds later still gets exported,
  // as swimring_<snake_case>_total, the first time it is synced (see coreCounter below).
  const coreCounterTargets: Partial<Record<keyof CoreCounters, Counter>> = {
    probesSent: metrics.probesSent,
    probesFailed: metrics.probesFailed,
    indirectProbesSent: metrics.indirectProbesSent,
    nacksSent: metrics.nacksSent,
    nacksReceived: metrics.nacksReceived,
    suspicionsRaised: metrics.suspicions,
    refutations: metrics.refutations,
    nameConflicts: metrics.nameConflicts,
    updatesQueued: metrics.updatesQueued,
    gossipPacketsSent: metrics.gossipPacketsSent,
    pushPullsStarted: metrics.pushPulls,
    membersDropped: metrics.membersDropped,
    updatesRejected: metrics.updatesRejected,
    relaysDropped: metrics.relaysDropped,
    reconnectsStarted: metrics.reconnects,
    staleAccusationsAnswered: metrics.staleAccusationsAnswered,
  };
  const coreCounter = (field: string): Counter => {
    const known = coreCounterTargets[field as keyof CoreCounters];
    if (known !== undefined) return known;
    const snake = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const made = counter(`${snake}_total`, `Core counter ${field}.`);
    coreCounterTargets[field as keyof CoreCounters] = made;
    return made;
  };
  // Series that exist from the start, so dashboards see zeros rather than gaps.
  routeRequests.inc({ kind: 'single' }, 0);
  routeRequests.inc({ kind: 'batch' }, 0);
  routeKeys.inc(0);
  // Shard move roles are a fixed pair; zeroes make the series exist before the first move.
  metrics.shardMoves.inc({ role: 'owner' }, 0);
  metrics.shardMoves.inc({ role: 'replica' }, 0);
  return metrics;
}
