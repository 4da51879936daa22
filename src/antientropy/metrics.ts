// Prometheus series of the digest anti-entropy and the gRPC watch, read from their plain counters at
// scrape time (docs/metrics.md lists them).
import { Counter, Gauge } from 'prom-client';
import type { WatchServer } from '../grpc/watch.js';
import { METRIC_PREFIX, type Metrics } from '../metrics.js';
import type { AntiEntropyStats } from './runtime.js';

export interface DigestWatchSources {
  /** undefined until the agent has started. */
  readonly antiEntropy: () => AntiEntropyStats | undefined;
  readonly watch: () => WatchServer | undefined;
}

export function registerDigestWatchMetrics(metrics: Metrics, sources: DigestWatchSources): void {
  const registers = [metrics.registry];
  new Counter({
    name: `${METRIC_PREFIX}antientropy_rounds_total`,
    help: 'Periodic digest anti-entropy rounds this member started, by result: in_sync (roots equal), repaired (buckets swapped), failed, fallback (peer without digest RPCs: Negotiate).',
    labelNames: ['result'],
    registers,
    collect() {
      const s = sources.antiEntropy();
      if (!s) return;
      const done = s.rounds - s.failures - s.fallbacks;
      metrics.advance(this, s.inSync, { result: 'in_sync' });
      metrics.advance(this, Math.max(0, done - s.inSync), { result: 'repaired' });
      metrics.advance(this, s.failures, { result: 'failed' });
      metrics.advance(this, s.fallbacks, { result: 'fallback' });
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}antientropy_buckets_total`,
    help: 'Digest buckets whose entries were swapped with a peer (rounds this member started).',
    registers,
    collect() {
      const s = sources.antiEntropy();
      if (s) metrics.advance(this, s.bucketsSwapped);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}antientropy_entries_received_total`,
    help: 'Entries received from peers in digest rounds this member started, by tree (members, claims).',
    labelNames: ['tree'],
    registers,
    collect() {
      const s = sources.antiEntropy();
      if (!s) return;
      metrics.advance(this, s.membersReceived, { tree: 'members' });
      metrics.advance(this, s.claimsReceived, { tree: 'claims' });
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}antientropy_bytes_total`,
    help: 'Serialized bytes of the digest RPCs this member called, by direction (sent, received).',
    labelNames: ['direction'],
    registers,
    collect() {
      const s = sources.antiEntropy();
      if (!s) return;
      metrics.advance(this, s.wire.sent, { direction: 'sent' });
      metrics.advance(this, s.wire.received, { direction: 'received' });
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}grpc_watchers`,
    help: 'Open gRPC WatchMembership streams.',
    registers,
    collect() {
      this.set(sources.watch()?.open() ?? 0);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}grpc_watch_disconnects_total`,
    help: 'gRPC WatchMembership streams ended by the server, by reason (slow_consumer, shutting_down).',
    labelNames: ['reason'],
    registers,
    collect() {
      const w = sources.watch();
      if (!w) return;
      for (const [reason, n] of w.endings) if (reason !== 'client_closed') metrics.advance(this, n, { reason });
    },
  });
}
