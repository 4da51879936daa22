// GET /v1/watch: Server-Sent Events of membership and ownership changes. The first event is a snapshot
// of the view; it is taken and the subscription made in one synchronous step, so no event falls between.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView, WatchEvent } from '../../runtime/view.js';
import { sendError } from '../errors.js';
import type { HttpLimits } from '../limits.js';
import { watchQuerySchema } from '../schemas.js';
import { SSE_CONTENT_TYPE, SseStream } from '../sse.js';

export interface WatchPluginOptions {
  readonly view: AgentView;
  readonly metrics: Metrics;
  readonly limits: HttpLimits;
}

export const watchPlugin: FastifyPluginCallbackZod<WatchPluginOptions> = (app, { view, metrics, limits }, done) => {
  const open = new Set<SseStream>();

  app.head('/v1/watch', (_request, reply) => reply.code(200).header('content-type', SSE_CONTENT_TYPE).header('cache-control', 'no-cache, no-transform').send());

  app.get('/v1/watch', { exposeHeadRoute: false, schema: { querystring: watchQuerySchema } }, (request, reply) => {
    if (open.size >= limits.maxWatchers) {
      return sendError(metrics, request, reply, 'too_many_watchers', `at most ${limits.maxWatchers} watch streams at once`);
    }
    // The snapshot is taken before the response is hijacked, so a failing view still gets a JSON 500;
    // from here to subscribe() nothing yields to the event loop, so no event can fall in between.
    const { version, members } = view.members();
    reply.hijack();
    let unsubscribe: () => void = () => {};
    const stream = new SseStream(reply.raw, {
      maxBufferedBytes: limits.watchBufferBytes,
      drainMs: limits.watchDrainMs,
      heartbeatMs: limits.heartbeatMs,
      closeGraceMs: limits.watchCloseGraceMs,
      onEnd: (reason) => {
        unsubscribe();
        open.delete(stream);
        metrics.watchers.dec();
        if (reason !== 'client_closed') metrics.watchDisconnects.inc({ reason });
      },
    });
    open.add(stream);
    metrics.watchers.inc();
    const snapshot: WatchEvent = { type: 'snapshot', version, members };
    stream.send('snapshot', JSON.stringify(snapshot));
    if (!stream.open) return reply;
    try {
      const offEvents = view.subscribe((event) => stream.send(event.type, JSON.stringify(event)));
      // Claim changes only for those who ask: most watchers (apps reacting to their own claims) do not.
      const offClaims =
        request.query.claims === 'all' && view.claims?.subscribeOwners
          ? view.claims.subscribeOwners((changes) => stream.send('claims', JSON.stringify({ type: 'claims', version: view.routeEncoder?.().version ?? version, changes })))
          : () => {};
      unsubscribe = () => {
        offEvents();
        offClaims();
      };
    } catch (err) {
      request.log.error({ err }, 'watch subscription failed');
      stream.close('internal', 'the agent could not subscribe this stream; reconnect');
    }
    return reply;
  });

  app.addHook('preClose', (finished) => {
    for (const stream of open) stream.close('shutting_down', 'the agent is shutting down');
    finished();
  });
  done();
};
