// Bearer-token check for the app API when it listens beyond loopback. Loopback clients (the co-located
// app) never need the token; anyone else must send "Authorization: Bearer <token>". Admin routes demand
// their token from every client (requireAdminToken).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isLoopbackHost } from '../net/address.js';
import type { Metrics } from '../metrics.js';
import { sendError } from './errors.js';

/** `trustLoopback` false: loopback clients need the token too (a mesh's inbound proxy connects from there). */
export function requireTokenOffLoopback(app: FastifyInstance, token: string, metrics: Metrics, trustLoopback = true): void {
  app.addHook('onRequest', (request, reply, next) => {
    if (trustLoopback && isLoopbackHost(request.socket.remoteAddress ?? '')) return next();
    if (bearerMatches(request.headers.authorization, token)) return next();
    reply.header('www-authenticate', 'Bearer');
    const why = trustLoopback ? 'this client is not on loopback' : 'loopback clients are not trusted here (--http-trust-loopback=false)';
    void sendError(metrics, request, reply, 'unauthorized', `${why}: send Authorization: Bearer <token>`);
  });
}

/** True when the Authorization header carries exactly "Bearer <token>" (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`, 'utf8');
  const given = Buffer.from(header ?? '', 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Admin actions (leave, key rotation) demand the admin token from every client, loopback included:
 * anything that can reach 127.0.0.1 (another container in the pod, a local user) could otherwise make
 * the member leave or swap its keys. Call it inside the plugin that registers the admin routes, so
 * fastify's encapsulation limits the hook to them. A missing token (null) refuses every request.
 */
export function requireAdminToken(app: FastifyInstance, token: string | null, metrics: Metrics): void {
  app.addHook('onRequest', (request, reply, next) => {
    if (token !== null && bearerMatches(request.headers.authorization, token)) return next();
    reply.header('www-authenticate', 'Bearer');
    void sendError(
      metrics,
      request,
      reply,
      'unauthorized',
      token === null
        ? 'admin actions are disabled: this agent has no admin token (set SWIMRING_ADMIN_TOKEN, or give --admin-token-file a writable path, and restart it)'
        : 'admin action: send Authorization: Bearer <admin token> (the token in --admin-token-file, or SWIMRING_ADMIN_TOKEN when set)',
    );
  });
}
