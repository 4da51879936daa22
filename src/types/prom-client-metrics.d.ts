// prom-client's per-metric modules (lib/metrics/*.js), which its collectDefaultMetrics calls one by one;
// src/node-metrics.ts calls them itself to leave one out. Each registers its series on the registry.
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';
  const registerMetric: (registry: Registry, config: { readonly prefix?: string; readonly labels?: Readonly<Record<string, string>>; readonly gcDurationBuckets?: readonly number[] }) => void;
  export default registerMetric;
}
