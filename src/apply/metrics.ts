// Apply's series, on the agent's own registry (docs/metrics.md lists them). The caller side counts as it
// goes; the owner side's plain counters are copied in at scrape time.
import { Counter, Gauge, Histogram } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from '../metrics.js';
import type { Deliverer } from './deliverer.js';

/** An Apply takes an app round trip, maybe a peer's too: milliseconds to seconds. */
export const APPLY_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ApplyPath = 'local' | 'forwarded' | 'none';

export interface ApplyMetrics {
  /** One per POST /v1/apply answered: outcome "ok", "duplicate", an error code, or "rejected" (refused before routing). */
  readonly requests: Counter<'outcome' | 'path'>;
  readonly retries: Counter<'reason'>;
  readonly duration: Histogram<'path'>;
  /** Copies the owner side's counters in (called on scrape). */
  syncOwner(deliverer: Deliverer): void;
  /** Copies the forwarding side's channel pool in (called on scrape). */
  syncChannels(channels: { readonly opened: number; readonly open: number }): void;
}

export function createApplyMetrics(metrics: Metrics): ApplyMetrics {
  const registers = [metrics.registry];
  const requests = new Counter({
    name: `${METRIC_PREFIX}apply_requests_total`,
    help: 'POST /v1/apply answers, by outcome (ok, duplicate, an error code, rejected) and path (local, forwarded, none).',
    labelNames: ['outcome', 'path'] as const,
    registers,
  });
  const retries = new Counter({
    name: `${METRIC_PREFIX}apply_retries_total`,
    help: 'Apply attempts retried by this member, by the error that caused the retry.',
    labelNames: ['reason'] as const,
    registers,
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}apply_duration_seconds`,
    help: 'Time from a POST /v1/apply arriving to its answer, retries included, by path.',
    labelNames: ['path'] as const,
    buckets: APPLY_LATENCY_BUCKETS,
    registers,
  });
  const deliveries = new Counter({
    name: `${METRIC_PREFIX}apply_deliveries_total`,
    help: "Applies this member handed to its app as the owner (its own app's and other members'), by result: answered, not_delivered, unknown.",
    labelNames: ['result'] as const,
    registers,
  });
  const duplicates = new Counter({
    name: `${METRIC_PREFIX}apply_duplicates_suppressed_total`,
    help: 'Applies with a request id this member had already delivered, answered from its record instead of reaching the app again.',
    registers,
  });
  const evicted = new Counter({
    name: `${METRIC_PREFIX}apply_records_evicted_early_total`,
    help: 'Delivered request ids forgotten before --apply-dedup-ttl-ms because of --apply-dedup-entries or the byte bound.',
    registers,
  });
  const records = new Gauge({ name: `${METRIC_PREFIX}apply_records`, help: 'Delivered request ids remembered for deduplication.', registers });
  const recordBytes = new Gauge({ name: `${METRIC_PREFIX}apply_record_bytes`, help: 'Approximate bytes of the stored answers of remembered request ids.', registers });
  const channelsOpened = new Counter({
    name: `${METRIC_PREFIX}apply_channels_opened_total`,
    help: 'gRPC connections opened to owners for forwarding Applies; growing with the Applies rather than with the members means the pool is smaller than the cluster (--apply-max-channels).',
    registers,
  });
  const channelsOpen = new Gauge({ name: `${METRIC_PREFIX}apply_channels`, help: 'gRPC connections to owners open for forwarding Applies.', registers });
  channelsOpened.inc(0);
  for (const result of ['answered', 'not_delivered', 'unknown']) deliveries.inc({ result }, 0);
  for (const path of ['local', 'forwarded', 'none']) requests.inc({ outcome: 'ok', path }, 0);
  duplicates.inc(0);
  evicted.inc(0);
  return {
    requests,
    retries,
    duration,
    syncOwner(deliverer) {
      for (const [result, n] of deliverer.counters.delivered) metrics.advance(deliveries, n, { result });
      metrics.advance(duplicates, deliverer.counters.duplicatesSuppressed);
      const stats = deliverer.recordStats();
      metrics.advance(evicted, stats.evictedEarly);
      records.set(stats.size);
      recordBytes.set(stats.bytes);
    },
    syncChannels(channels) {
      metrics.advance(channelsOpened, channels.opened);
      channelsOpen.set(channels.open);
    },
  };
}
