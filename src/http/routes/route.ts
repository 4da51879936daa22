// GET /v1/route/:key and POST /v1/route: the hot path. Handlers stay lean: validate, look up, write the
// JSON by hand (./serialize.ts), count. Latency covers lookup and serialization, not HTTP parsing.
//
// Validation: the zod schemas stay the routes' contract (OpenAPI, error issues), but running zod on every
// request cost more than the lookup (a batch: ~1 ms per 10,000 keys). A request passes a plain bounded
// check of the same rules; only one that fails it goes through zod, which names the problems exactly as
// before. The plain check accepts a subset of what zod accepts, so no bad request gets through.
import { performance } from 'node:perf_hooks';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler, type FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView } from '../../runtime/view.js';
import { checkKey } from '../keys.js';
import type { HttpLimits } from '../limits.js';
import { routeBatchBodySchema, routeBatchQuerySchema, routeParamsSchema } from '../schemas.js';
import { serializeEncodedBatch, serializeRouteAnswerBytes, serializeRouteBatch } from '../serialize.js';
import { serializeCompactBatch, serializeCompactEncodedBatch } from '../serialize-compact.js';
import { claimedRouteAnswerBytes, hasClaimedAnswer, routeBatchWithClaimsBytes } from '../../ownership/route-json.js';
import { BatchBufferPool } from '../batch-buffers.js';
import { contextFromHeaders, SpanKind, startSpan, tracingActive } from '../../tracing.js';

export interface RoutePluginOptions {
  readonly view: AgentView;
  readonly metrics: Metrics;
  readonly limits: HttpLimits;
}

const JSON_TYPE = 'application/json; charset=utf-8';

type PlainChecks = Partial<Record<'params' | 'body' | 'querystring', (data: unknown) => boolean>>;

/** zod's validator, behind a cheap check per request part that lets the common, valid request through untouched. */
function checkedFirst(plain: PlainChecks): FastifySchemaCompiler<unknown> {
  return (route) => {
    const zod = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);
    const plainOk = plain[route.httpPart as keyof PlainChecks];
    if (plainOk === undefined) return zod;
    return (data: unknown) => (plainOk(data) ? { value: data } : zod(data));
  };
}

export function plainParamsOk(limits: HttpLimits): (data: unknown) => boolean {
  return (data) => {
    if (typeof data !== 'object' || data === null) return false;
    const key = (data as { key?: unknown }).key;
    return typeof key === 'string' && checkKey(key, limits.maxKeyBytes) === null;
  };
}

export function plainBatchOk(limits: HttpLimits): (data: unknown) => boolean {
  return (data) => {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
    const keys = (data as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length > limits.maxBatchKeys) return false;
    for (let i = 0; i < keys.length; i++) {
      const key: unknown = keys[i];
      if (typeof key !== 'string' || checkKey(key, limits.maxKeyBytes) !== null) return false;
    }
    return true;
  };
}

/** A query with nothing but a string `claim` and a known `format` (what routeBatchQuerySchema accepts). */
export function plainBatchQueryOk(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const { claim, format } = data as { claim?: unknown; format?: unknown };
  return (claim === undefined || typeof claim === 'string') && (format === undefined || format === 'full' || format === 'compact');
}

/** `?claim=true` (or 1): claim unclaimed keys for this member on the way (docs/ownership.md). */
function wantsClaim(query: unknown): boolean {
  const claim = typeof query === 'object' && query !== null ? (query as { claim?: unknown }).claim : undefined;
  return claim === 'true' || claim === '1';
}

export const routePlugin: FastifyPluginCallbackZod<RoutePluginOptions> = (app, { view, metrics, limits }, done) => {
  // Plain-number tallies: no label hashing per request (see RouteTally).
  const single = metrics.routes.single;
  const batch = metrics.routes.batch;
  // Batch answers are written into reused buffers (../batch-buffers.ts); one pool per app instance.
  const batchBuffers = new BatchBufferPool();
  app.addHook('onClose', (_instance, next) => {
    batchBuffers.clear();
    next();
  });

  app.get(
    '/v1/route/:key',
    { schema: { params: routeParamsSchema(limits) }, validatorCompiler: checkedFirst({ params: plainParamsOk(limits) }) },
    (request, reply) => {
      const started = performance.now();
      const key = request.params.key;
      // --- claims: ?claim=true claims an unclaimed key here (first touch); a claimed key names its claimant.
      const claims = view.claims;
      const claimed = claims === undefined ? undefined : wantsClaim(request.query) ? claims.routeClaiming(key) : claims.claimedRoute(key);
      const encoder = claimed === undefined ? view.routeEncoder?.() : undefined;
      let body: Buffer | string;
      if (claimed !== undefined) {
        body = claimed.claimed === true ? claimedRouteAnswerBytes(claimed) : serializeRouteAnswerBytes(claimed);
      } else if (encoder) {
        body = encoder.answerText(key);
      } else {
        body = serializeRouteAnswerBytes(view.route(key));
      }
      single.record(1, (performance.now() - started) / 1000);
      if (tracingActive()) routeSpan(request.headers, started, 1);
      return reply.type(JSON_TYPE).send(body);
    },
  );

  app.post(
    '/v1/route',
    {
      schema: { body: routeBatchBodySchema(limits), querystring: routeBatchQuerySchema },
      bodyLimit: limits.maxBodyBytes,
      validatorCompiler: checkedFirst({ body: plainBatchOk(limits), querystring: plainBatchQueryOk }),
    },
    (request, reply) => {
      const started = performance.now();
      const keys = request.body.keys;
      // --- claims: with claims held, answers go through view.routeMany, which names claimants.
      const claims = view.claims;
      const claiming = claims !== undefined && wantsClaim(request.query);
      const compact = request.query.format === 'compact';
      const encoder = claims?.hasClaims() === true || claiming ? undefined : view.routeEncoder?.();
      let body: Buffer;
      if (claiming) {
        const answers = keys.map((k) => claims.routeClaiming(k));
        const version = answers[0]?.version ?? view.table(false).version;
        body = compact ? serializeCompactBatch(version, answers, view.routeEncoder?.()) : routeBatchWithClaimsBytes(version, answers);
      } else if (encoder) {
        const encoded = compact ? serializeCompactEncodedBatch(encoder, keys, batchBuffers) : serializeEncodedBatch(encoder, keys, batchBuffers);
        body = encoded.body;
        // 'close' comes once the answer is written to the kernel or the connection is gone: not before.
        reply.raw.once('close', () => batchBuffers.release(encoded.backing));
      } else {
        const answers = view.routeMany(keys);
        const version = answers[0]?.version ?? view.table(false).version;
        if (compact) body = serializeCompactBatch(version, answers, view.routeEncoder?.());
        else body = hasClaimedAnswer(answers) ? routeBatchWithClaimsBytes(version, answers) : serializeRouteBatch(version, answers);
      }
      batch.record(keys.length, (performance.now() - started) / 1000);
      if (tracingActive()) routeSpan(request.headers, started, keys.length);
      return reply.type(JSON_TYPE).send(body);
    },
  );
  done();
};

/**
 * A route request's span, recorded after the fact from its start time (only when an SDK is registered):
 * the handler is synchronous, so nothing can run inside it.
 */
function routeSpan(headers: Readonly<Record<string, string | string[] | undefined>>, startedMs: number, keys: number): void {
  const span = startSpan('swimring.route', SpanKind.SERVER, contextFromHeaders(headers), { 'swimring.keys': keys }, performance.timeOrigin + startedMs);
  span.end();
}
