// GET /livez, GET /readyz and GET /metrics: what kubelet and Prometheus ask on the ops listener.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView, HealthView } from '../../runtime/view.js';

export interface OpsPluginOptions {
  readonly view: AgentView;
  readonly metrics: Metrics;
}

function healthBody(health: HealthView): { ok: true } | { ok: false; reasons: readonly string[] } {
  return health.ok ? { ok: true } : { ok: false, reasons: health.reasons };
}

export const healthPlugin: FastifyPluginCallbackZod<OpsPluginOptions> = (app, { view }, done) => {
  app.get('/livez', (_request, reply) => {
    const health = view.liveness();
    return reply.code(health.ok ? 200 : 503).send(healthBody(health));
  });
  app.get('/readyz', (_request, reply) => {
    const health = view.readiness();
    return reply.code(health.ok ? 200 : 503).send(healthBody(health));
  });
  done();
};

export const metricsPlugin: FastifyPluginCallbackZod<OpsPluginOptions> = (app, { metrics }, done) => {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
  done();
};
