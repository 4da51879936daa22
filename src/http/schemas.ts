// Request schemas (zod 4). One schema validates a request and types its handler through the zod type
// provider. Responses are typed by src/runtime/view.ts and written without a schema to keep them fast.
import { z } from 'zod';
import { checkKey } from './keys.js';
import type { HttpLimits } from './limits.js';

export function routeParamsSchema(limits: HttpLimits) {
  return z.object({
    key: z.string().check((ctx) => {
      const problem = checkKey(ctx.value, limits.maxKeyBytes);
      if (problem !== null) {
        ctx.issues.push({ code: 'custom', input: ctx.value, message: problem.message, params: { errorCode: problem.code } });
      }
    }),
  });
}

export function routeBatchBodySchema(limits: HttpLimits) {
  const bodyError = { error: 'body must be a JSON object {"keys": [...]}' };
  const keysError = { error: 'keys must be an array of strings' };
  // The size is checked first, on its own: a body of millions of tiny keys is refused before any
  // per-key work. (errors.ts answers an array's too_big issue as batch_too_large.)
  const bounded = z.object(
    { keys: z.array(z.unknown(), keysError).max(limits.maxBatchKeys, { error: `at most ${limits.maxBatchKeys} keys per request` }) },
    bodyError,
  );
  const keys = z
    .array(z.string({ error: 'each key must be a string' }), keysError)
    .check((ctx) => {
      // One pass over the keys; stop listing after a few, the client needs examples, not 10,000.
      let reported = 0;
      const list = ctx.value;
      for (let i = 0; i < list.length && reported < limits.maxIssues; i++) {
        const problem = checkKey(list[i] ?? '', limits.maxKeyBytes);
        if (problem === null) continue;
        reported++;
        ctx.issues.push({ code: 'custom', input: list[i], path: [i], message: problem.message, params: { errorCode: problem.code } });
      }
    });
  return bounded.pipe(z.object({ keys }, bodyError));
}

/** POST /v1/route's query: `claim` as on GET /v1/route/:key, and the answer's layout. */
export const routeBatchQuerySchema = z.object({
  claim: z.string().optional().meta({ description: 'true or 1: claim unclaimed keys for this member on the way (docs/ownership.md)' }),
  format: z
    .enum(['full', 'compact'], { error: 'format must be full or compact' })
    .optional()
    .meta({ description: 'full (default): every answer names its owner and replicas in full; compact: members listed once, answers refer to them by index' }),
});

export const tableQuerySchema = z.object({
  owners: z.enum(['true', 'false', '1', '0'], { error: 'owners must be true or false' }).optional(),
});

export const watchQuerySchema = z.object({
  claims: z
    .enum(['all'], { error: 'claims must be all' })
    .optional()
    .meta({ description: 'all: also send a `claims` event for every id whose claimant route answers name changed (docs/http.md)' }),
});

/** A member name in a path: the limits of --name (no spaces or control characters, at most 253 bytes). */
export const memberNameParams = z.object({
  name: z.string().min(1).max(253).regex(/^[^\s\p{Cc}]+$/u, 'a member name has no spaces or control characters'),
});
