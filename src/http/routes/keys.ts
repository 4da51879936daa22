// GET /v1/keys and POST /v1/keys/{install,use,remove}: gossip key rotation across the running cluster
// (`swimring keys`). Admin routes: every client, loopback included, must send the admin token. The key
// in a body is never logged or echoed; answers name keys by id only.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Metrics } from '../../metrics.js';
import type { KeyOp, KeyOpSummary } from '../../security/key-ops.js';
import { decodeKey } from '../../security/keyring-file.js';
import { requireAdminToken } from '../auth.js';
import { sendError } from '../errors.js';

/** Runs one operation on every live member; null when this member has no keyring. */
export type KeyOpRunner = (op: KeyOp) => Promise<KeyOpSummary> | null;

export interface KeysPluginOptions {
  readonly keyOps: KeyOpRunner | null;
  readonly metrics: Metrics;
  readonly adminToken: string | null;
}

const KEY_ID = /^[0-9a-f]{16}$/;
const keyBody = z.object({ key: z.string({ error: 'key must be a string' }).min(1).max(200) }, { error: 'expected {"key": "..."}' });

export const keysPlugin: FastifyPluginCallbackZod<KeysPluginOptions> = (app, { keyOps, metrics, adminToken }, done) => {
  requireAdminToken(app, adminToken, metrics);
  const NO_KEYRING = 'this member was started without a gossip keyring (--keyring-file or SWIMRING_KEYRING); keys can only be rotated, not introduced, at run time';

  app.get('/v1/keys', { schema: { hide: true } }, async (request, reply) => {
    const running = keyOps?.({ op: 'list' }) ?? null;
    if (running === null) return sendError(metrics, request, reply, 'no_keyring', NO_KEYRING);
    return running;
  });

  for (const op of ['install', 'use', 'remove'] as const) {
    app.post(`/v1/keys/${op}`, { schema: { hide: true, body: keyBody } }, async (request, reply) => {
      const key = request.body.key.trim();
      if (op === 'install' || !KEY_ID.test(key)) {
        const decoded = decodeKey(key);
        if (typeof decoded === 'string') {
          return sendError(metrics, request, reply, 'invalid_request', `key: ${decoded}${op === 'install' ? '' : ' (give the base64 key or its 16-hex-digit id from GET /v1/keys)'}`);
        }
      }
      const running = keyOps?.({ op, key }) ?? null;
      if (running === null) return sendError(metrics, request, reply, 'no_keyring', NO_KEYRING);
      return running;
    });
  }
  done();
};
