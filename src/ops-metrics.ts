// The series the Grafana dashboard (deploy/grafana/) needs beyond src/metrics.ts: probe round trips,
// table rebuild time, gRPC calls served, shards owned per member and the table version. The runtime
// and the gRPC server report through RuntimeObservers; owned shards and the version are read at scrape.
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from './metrics.js';
import type { TableView } from './runtime/view.js';

/** What the runtime shell measures as events happen; every call is cheap and never throws. */
export interface RuntimeObservers {
  /** A direct probe's ack arrived this long after the ping. */
  probeRoundTrip(seconds: number): void;
  /** An ownership table was built (requested to handed back), inline or on the worker thread. */
  tableBuilt(seconds: number, where: 'inline' | 'worker'): void;
  /** A unary control-plane call was answered with this status code name (OK, UNAVAILABLE, ...). */
  grpcCall(rpc: string, code: string, seconds: number): void;
  /** One of the member's timers fired this late (ms, 0 = on time): the event loop's lag, sampled for free. */
  loopLag(ms: number): void;
}

export const NO_OBSERVERS: RuntimeObservers = Object.freeze({
  probeRoundTrip: () => {},
  tableBuilt: () => {},
  grpcCall: () => {},
  loopLag: () => {},
});

/** Loopback round trips are tens of µs, LAN ones a few ms; the probe timeout caps what can be seen. */
export const PROBE_RTT_BUCKETS = [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Small tables build in a few ms; 2^20 shards at hundreds of members take seconds. */
export const TABLE_BUILD_BUCKETS = [0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Control-plane calls answer from memory; Apply waits for the owner's app. */
export const GRPC_CALL_BUCKETS = [0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface OpsMetricSources {
  /** This member's current table (shard counts per owner, version). */
  readonly table: () => TableView;
}

export function registerOpsMetrics(metrics: Metrics, sources: OpsMetricSources): RuntimeObservers {
  const registers = [metrics.registry];
  const probeRtt = new Histogram({
    name: `${METRIC_PREFIX}probe_rtt_seconds`,
    help: 'Round-trip time of direct probes: ping sent to its ack received.',
    buckets: PROBE_RTT_BUCKETS,
    registers,
  });
  const tableBuild = new Histogram({
    name: `${METRIC_PREFIX}table_rebuild_duration_seconds`,
    help: 'Time to build an ownership table after a membership change, by where it was built (inline, worker).',
    labelNames: ['where'],
    buckets: TABLE_BUILD_BUCKETS,
    registers,
  });
  const grpcRequests = new Counter({
    name: `${METRIC_PREFIX}grpc_requests_total`,
    help: 'Unary control-plane calls this member answered, by rpc and status code.',
    labelNames: ['rpc', 'code'],
    registers,
  });
  const grpcDuration = new Histogram({
    name: `${METRIC_PREFIX}grpc_request_duration_seconds`,
    help: 'Time this member took to answer a unary control-plane call, by rpc.',
    labelNames: ['rpc'],
    buckets: GRPC_CALL_BUCKETS,
    registers,
  });
  const ownedShards = new Gauge({
    name: `${METRIC_PREFIX}owned_shards`,
    help: "Shards each member owns in this member's ownership table, by member.",
    labelNames: ['member'],
    registers,
  });
  const tableInfo = new Gauge({
    name: `${METRIC_PREFIX}table_info`,
    help: "Always 1; the version label is this member's ownership table version (members agree when they show one version).",
    labelNames: ['version'],
    registers,
  });
  metrics.onScrape(() => {
    const table = sources.table();
    ownedShards.reset();
    for (const [member, shards] of Object.entries(table.shardsPerMember)) ownedShards.set({ member }, shards);
    tableInfo.reset();
    tableInfo.set({ version: table.version }, 1);
  });
  return {
    probeRoundTrip: (seconds) => probeRtt.observe(seconds),
    tableBuilt: (seconds, where) => tableBuild.observe({ where }, seconds),
    grpcCall: (rpc, code, seconds) => {
      grpcRequests.inc({ rpc, code });
      grpcDuration.observe({ rpc }, seconds);
    },
    loopLag: (ms) => metrics.recordLoopLag(ms),
  };
}
