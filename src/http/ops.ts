// The ops API: /livez, /readyz and /metrics only, on the pod IP for kubelet and Prometheus.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import type { AgentView } from '../runtime/view.js';
import { healthPlugin, metricsPlugin } from './routes/health.js';
import { createServer } from './server.js';

export interface OpsApiOptions {
  readonly logger?: FastifyBaseLogger;
}

export function buildOpsApi(view: AgentView, metrics: Metrics, opts: OpsApiOptions = {}): FastifyInstance {
  const app = createServer({ metrics, ...(opts.logger ? { logger: opts.logger } : {}), maxParamLength: 100, maxIssues: 5 });
  void app.register(healthPlugin, { view, metrics });
  void app.register(metricsPlugin, { view, metrics });
  return app;
}
