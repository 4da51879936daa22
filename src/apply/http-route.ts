// POST /v1/apply/:key: the app hands work for a key to its sidecar, which delivers it to the key's owner's
// app and returns that app's answer as is (status, body, Content-Type), or an error as JSON with what the
// app needs to react (docs/apply.md). Any body type is taken as bytes, up to --apply-max-body-bytes.
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../metrics.js';
import type { HttpLimits } from '../http/limits.js';
import { routeParamsSchema } from '../http/schemas.js';
import type { ApplyMetrics, ApplyPath } from './metrics.js';
import { validContentType } from './payload.js';
import { requestIdFromHeaders } from './request-id.js';
import { traceHeadersFrom } from './trace-context.js';
import type { Applier } from './service.js';
import type { ApplyError, ApplyErrorCode } from './types.js';

export const APPLY_ROUTE = '/v1/apply/:key';

/** HTTP status of each Apply error, and of the refusals made before routing. */
export const APPLY_HTTP_STATUS: Readonly<Record<ApplyErrorCode | ApplyRefusal, number>> = {
  not_owner: 421,
  owner_unavailable: 503,
  owner_changed: 503,
  no_owner: 503,
  busy: 503,
  timeout: 504,
  app_unreachable: 502,
  app_timeout: 504,
  app_answer_too_large: 502,
  refused: 502,
  no_app_handler: 501,
  outcome_unknown: 409,
  invalid: 400,
  too_large: 413,
  internal: 500,
  invalid_request_id: 400,
  invalid_content_type: 400,
  apply_not_configured: 501,
};

/** Refusals of the HTTP request itself, before any routing. */
export type ApplyRefusal = 'invalid_request_id' | 'invalid_content_type' | 'apply_not_configured';

/** Response headers (lower case). */
export const APPLY_RESPONSE_HEADERS = Object.freeze({
  requestId: 'x-request-id',
  /** Member whose app answered. */
  owner: 'x-swimring-owner',
  /** "true" when the answer is the stored one of an earlier delivery with this request id. */
  duplicate: 'x-swimring-duplicate',
  attempts: 'x-swimring-attempts',
  /** "local" or "forwarded": whether this member's app answered, or another's. */
  path: 'x-swimring-path',
});

export interface ApplyPluginOptions {
  /** null: no Apply service on this agent; every call is answered apply_not_configured. */
  readonly applier: Applier | null;
  readonly metrics: Metrics;
  readonly applyMetrics: ApplyMetrics | null;
  readonly limits: HttpLimits;
}

/** 16 KiB when unconfigured: enough to read and refuse a request. */
const UNCONFIGURED_BODY_LIMIT = 16 * 1024;

export const applyPlugin: FastifyPluginCallbackZod<ApplyPluginOptions> = (app, { applier, metrics, applyMetrics, limits }, done) => {
  // Bodies are opaque bytes for the owner's app, whatever their type (this plugin only: encapsulated).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) => parsed(null, body));
  const outcomes = new WeakMap<FastifyRequest, { outcome: string; path: ApplyPath; started: number }>();
  app.addHook('onRequest', (request, _reply, next) => {
    outcomes.set(request, { outcome: 'rejected', path: 'none', started: performance.now() });
    next();
  });
  app.addHook('onResponse', (request, _reply, next) => {
    const o = outcomes.get(request);
    if (o && applyMetrics) {
      applyMetrics.requests.inc({ outcome: o.outcome, path: o.path });
      applyMetrics.duration.observe({ path: o.path }, (performance.now() - o.started) / 1000);
    }
    next();
  });

  app.post(
    APPLY_ROUTE,
    { schema: { params: routeParamsSchema(limits) }, bodyLimit: applier?.maxBodyBytes ?? UNCONFIGURED_BODY_LIMIT },
    async (request, reply) => {
      const id = requestIdFromHeaders(request.headers);
      if ('problem' in id) return refuse(reply, 'invalid_request_id', id.problem, '');
      reply.header(APPLY_RESPONSE_HEADERS.requestId, id.id);
      if (applier === null) return refuse(reply, 'apply_not_configured', 'this sidecar has no Apply service', id.id);
      const contentType = request.headers['content-type'] ?? '';
      if (!validContentType(contentType)) return refuse(reply, 'invalid_content_type', 'Content-Type must be printable ASCII, at most 255 characters', id.id);
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const outcome = await applier.apply({ key: request.params.key, requestId: id.id, message: { body, contentType, trace: traceHeadersFrom(request.headers) } });
      const tally = outcomes.get(request);
      const result = outcome.result;
      if (result.ok) {
        if (tally) {
          tally.outcome = result.duplicate ? 'duplicate' : 'ok';
          tally.path = outcome.path;
        }
        reply
          .code(result.answer.status)
          .header(APPLY_RESPONSE_HEADERS.owner, result.owner)
          .header(APPLY_RESPONSE_HEADERS.duplicate, String(result.duplicate))
          .header(APPLY_RESPONSE_HEADERS.attempts, String(outcome.attempts))
          .header(APPLY_RESPONSE_HEADERS.path, outcome.path);
        if (result.answer.contentType !== '') reply.type(result.answer.contentType);
        // Statuses that forbid a body (204, 304) get none, whatever the app sent.
        return result.answer.status === 204 || result.answer.status === 304 ? reply.send() : reply.send(result.answer.body);
      }
      if (tally) tally.outcome = result.error.code;
      return sendApplyError(reply, result.error, id.id, outcome.attempts);
    },
  );

  function refuse(reply: FastifyReply, code: ApplyRefusal, message: string, requestId: string): FastifyReply {
    metrics.httpRejections.inc({ route: APPLY_ROUTE, code });
    const body = { error: { code, message, requestId, retriable: false } };
    return reply.code(APPLY_HTTP_STATUS[code]).type('application/json; charset=utf-8').send(body);
  }

  function sendApplyError(reply: FastifyReply, e: ApplyError, requestId: string, attempts: number): FastifyReply {
    metrics.httpRejections.inc({ route: APPLY_ROUTE, code: e.code });
    if (e.retriable) reply.header('retry-after', String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))));
    const body = {
      error: {
        code: e.code,
        message: e.message,
        requestId,
        retriable: e.retriable,
        retryAfterMs: e.retryAfterMs,
        owner: e.ownerHint,
        ownerAddr: e.ownerAddrHint,
        tableVersion: e.tableVersion,
        mayHaveBeenDelivered: e.mayHaveBeenDelivered,
        attempts,
      },
    };
    return reply.code(APPLY_HTTP_STATUS[e.code]).type('application/json; charset=utf-8').send(body);
  }
  done();
};
