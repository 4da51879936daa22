// Ownership claims over HTTP (docs/ownership.md): claim or renew ids for this member, release one,
// look one up, and list the ids this member owns (GetLocalActorIds). First touch through the route
// endpoints (?claim=true) lives in ./route.ts.
import { z } from 'zod';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { ClaimsView } from '../../ownership/api.js';
import { MAX_CLAIM_ID_BYTES } from '../../ownership/types.js';
import { sendError } from '../errors.js';
import { checkKey } from '../keys.js';

/** Stands in when the view keeps no claims: only its bounds are read (for the schemas); the hook answers first. */
const NO_CLAIMS: ClaimsView = {
  maxIdsPerRequest: 1000,
  maxTtlMs: 86_400_000,
  claim: () => ({ ok: false, code: 'not_serving', message: 'no claims' }),
  release: () => ({ ok: false, code: 'not_claimed', message: 'no claims' }),
  lookup: () => undefined,
  localPage: () => null,
  hasClaims: () => false,
  claimedRoute: () => undefined,
  routeClaiming: () => {
    throw new Error('no claims');
  },
};

export interface ClaimsPluginOptions {
  /** null: every claim route answers 501 claims_not_configured. */
  readonly claims: ClaimsView | null;
  readonly metrics: Metrics;
}

function idSchema() {
  return z.string().check((ctx) => {
    const problem = checkKey(ctx.value, MAX_CLAIM_ID_BYTES);
    if (problem !== null) {
      const message = problem.message.replace(/^key/, 'id');
      ctx.issues.push({ code: 'custom', input: ctx.value, message, params: { errorCode: problem.code } });
    }
  });
}

export const claimsPlugin: FastifyPluginCallbackZod<ClaimsPluginOptions> = (app, { claims: maybeClaims, metrics }, done) => {
  const claims: ClaimsView = maybeClaims ?? NO_CLAIMS;
  if (maybeClaims === null) {
    app.addHook('preHandler', (request, reply, next) => {
      if (request.url.startsWith('/v1/claims')) return void sendError(metrics, request, reply, 'claims_not_configured', 'this agent keeps no ownership claims');
      next();
    });
  }
  const claimBody = z.object(
    {
      ids: z.array(idSchema(), { error: 'ids must be an array of strings' }).min(1, { error: 'ids must not be empty' }).max(claims.maxIdsPerRequest, {
        error: `at most ${claims.maxIdsPerRequest} ids per request`,
      }),
      ttl_ms: z
        .number({ error: 'ttl_ms must be a number of milliseconds or null' })
        .int({ error: 'ttl_ms must be an integer' })
        .min(1, { error: 'ttl_ms must be at least 1' })
        .max(claims.maxTtlMs, { error: `ttl_ms must be at most ${claims.maxTtlMs}` })
        .nullable()
        .optional(),
    },
    { error: 'body must be a JSON object {"ids": [...], "ttl_ms"?: number | null}' },
  );
  const idParams = z.object({ id: idSchema() });
  const pageQuery = z.object({
    limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1).max(10_000).optional(),
    page_token: z.string().max(1024).optional(),
  });

  app.post('/v1/claims', { schema: { body: claimBody } }, (request, reply) => {
    const result = claims.claim(request.body.ids, request.body.ttl_ms);
    if (!result.ok) return sendError(metrics, request, reply, result.code, result.message);
    return { version: result.version, results: result.results };
  });

  app.get('/v1/claims/local', { schema: { querystring: pageQuery } }, (request, reply) => {
    const page = claims.localPage(request.query.limit ?? 0, request.query.page_token ?? '');
    if (page === null) return sendError(metrics, request, reply, 'invalid_request', 'page_token is not a token this member issued');
    return { ids: page.ids, next_page_token: page.nextPageToken, version: page.version };
  });

  app.get('/v1/claims/:id', { schema: { params: idParams } }, (request, reply) => {
    const claim = claims.lookup(request.params.id);
    if (claim === undefined) return sendError(metrics, request, reply, 'not_found', `${JSON.stringify(request.params.id)} is not claimed`);
    return claim;
  });

  app.delete('/v1/claims/:id', { schema: { params: idParams } }, (request, reply) => {
    const result = claims.release(request.params.id);
    if (result.ok) return { released: true };
    if (result.code === 'not_claimed') return sendError(metrics, request, reply, 'not_found', result.message);
    return sendError(metrics, request, reply, 'claimed_elsewhere', result.message);
  });
  done();
};
