// GET /v1/route/:key and POST /v1/route: the hot path. Handlers stay lean: validate, look up, write the
// JSON by hand (./serialize.ts), count. Latency covers lookup and serialization, not HTTP parsing.
import { performance } from 'node:perf_hooks';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView } from '../../runtime/view.js';
import type { HttpLimits } from '../limits.js';
import { routeBatchBodySchema, routeParamsSchema } from '../schemas.js';
import { serializeRouteAnswerBytes, serializeRouteBatch } from '../serialize.js';

export interface RoutePluginOptions {
  readonly view: AgentView;
  readonly metrics: Metrics;
  readonly limits: HttpLimits;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export const routePlugin: FastifyPluginCallbackZod<RoutePluginOptions> = (app, { view, metrics, limits }, done) => {
  // Plain-number tallies: no label hashing per request (see RouteTally).
  const single = metrics.routes.single;
  const batch = metrics.routes.batch;

  app.get('/v1/route/:key', { schema: { params: routeParamsSchema(limits) } }, (request, reply) => {
    const started = performance.now();
    const body = serializeRouteAnswerBytes(view.route(request.params.key));
    single.record(1, (performance.now() - started) / 1000);
    return reply.type(JSON_TYPE).send(body);
  });

  app.post(
    '/v1/route',
    { schema: { body: routeBatchBodySchema(limits) }, bodyLimit: limits.maxBodyBytes },
    (request, reply) => {
      const started = performance.now();
      const keys = request.body.keys;
      const answers = view.routeMany(keys);
      const version = answers[0]?.version ?? view.table(false).version;
      const body = serializeRouteBatch(version, answers);
      batch.record(keys.length, (performance.now() - started) / 1000);
      return reply.type(JSON_TYPE).send(body);
    },
  );
  done();
};
