// The process and Node.js metrics (process_*, nodejs_*): prom-client's default set, registered from its
// own per-metric modules, all but its event-loop monitor. That monitor is a native timer that fires
// every 10 ms for the life of the process to sample the loop's delay: a hundred wake-ups a second,
// most of what an otherwise idle sidecar does. The nodejs_eventloop_lag_* series keep their names and
// help; their values come from how late the agent's own timers fired (LoopLagSamples, fed by the
// runtime), so measuring the loop costs no wake-up of its own.
import { performance } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';
import gc from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

/** prom-client's default set in its own order, without eventLoopLag (see above). */
const PROM_CLIENT_DEFAULTS = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
  gc,
];

/** Samples kept for the percentiles between two scrapes; older ones are overwritten (min, max, mean stay exact). */
export const LOOP_LAG_SAMPLES = 1024;

/**
 * How late timers fired (ms, 0 = on time), since the previous read: count, min, max, sum and sum of
 * squares exactly, percentiles over the last LOOP_LAG_SAMPLES.
 */
export class LoopLagSamples {
  private readonly ring = new Float64Array(LOOP_LAG_SAMPLES);
  private count = 0;
  private min = Infinity;
  private max = 0;
  private sum = 0;
  private sumSquares = 0;

  record(ms: number): void {
    if (!(ms >= 0)) return;
    this.ring[this.count % LOOP_LAG_SAMPLES] = ms;
    this.count++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.sum += ms;
    this.sumSquares += ms * ms;
  }

  /** The summary in seconds since the previous take (all 0 when no timer fired), and a fresh start. */
  take(): LoopLagSummary {
    const n = this.count;
    const kept = this.ring.slice(0, Math.min(n, LOOP_LAG_SAMPLES)).sort();
    const at = (p: number): number => (kept.length === 0 ? 0 : (kept[Math.min(kept.length - 1, Math.ceil((p / 100) * kept.length) - 1)] ?? 0));
    const mean = n === 0 ? 0 : this.sum / n;
    const summary: LoopLagSummary = {
      samples: n,
      min: n === 0 ? 0 : this.min / 1000,
      max: this.max / 1000,
      mean: mean / 1000,
      stddev: n === 0 ? 0 : Math.sqrt(Math.max(0, this.sumSquares / n - mean * mean)) / 1000,
      p50: at(50) / 1000,
      p90: at(90) / 1000,
      p99: at(99) / 1000,
    };
    this.count = 0;
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
    this.sumSquares = 0;
    return summary;
  }
}

export interface LoopLagSummary {
  readonly samples: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** Registers the process and Node.js metrics on `registry`, the loop's lag read from `lag` at each scrape. */
export function registerNodeMetrics(registry: Registry, lag: LoopLagSamples): void {
  for (const register of PROM_CLIENT_DEFAULTS) register(registry, {});
  const registers = [registry];
  let summary: LoopLagSummary = lag.take();
  // Registered before the summary gauges: a scrape reads the metrics in registration order, so this
  // collect takes the samples since the previous scrape before the summary gauges are read. As in
  // prom-client, each scrape also starts a measurement of the loop (one setImmediate) that the next reports.
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    collect() {
      const started = performance.now();
      setImmediate(() => this.set((performance.now() - started) / 1000));
      summary = lag.take();
    },
  });
  const summaryGauge = (field: Exclude<keyof LoopLagSummary, 'samples'>, help: string): void =>
    void new Gauge({
      name: `nodejs_eventloop_lag_${field}_seconds`,
      help: `${help} (how late the agent's own timers fired, since the previous scrape).`,
      registers,
      collect() {
        this.set(summary[field]);
      },
    });
  summaryGauge('min', 'The minimum recorded event loop delay');
  summaryGauge('max', 'The maximum recorded event loop delay');
  summaryGauge('mean', 'The mean of the recorded event loop delays');
  summaryGauge('stddev', 'The standard deviation of the recorded event loop delays');
  summaryGauge('p50', 'The 50th percentile of the recorded event loop delays');
  summaryGauge('p90', 'The 90th percentile of the recorded event loop delays');
  summaryGauge('p99', 'The 99th percentile of the recorded event loop delays');
}
