// Bearer-token check for the app API when it listens beyond loopback. Loopback clients (the co-located
// app) never need the token; anyone else must send "Authorization: Bearer <token>".
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isLoopbackHost } from '../config/address.js';
import type { Metrics } from '../metrics.js';
import { sendError } from './errors.js';

export function requireTokenOffLoopback(app: FastifyInstance, token: string, metrics: Metrics): void {
  const expected = Buffer.from(`Bearer ${token}`, 'utf8');
  app.addHook('onRequest', (request, reply, next) => {
    if (isLoopbackHost(request.socket.remoteAddress ?? '')) return next();
    const given = Buffer.from(request.headers.authorization ?? '', 'utf8');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    reply.header('www-authenticate', 'Bearer');
    void sendError(metrics, request, reply, 'unauthorized', 'this client is not on loopback: send Authorization: Bearer <token>');
  });
}
