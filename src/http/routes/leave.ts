// POST /v1/leave: starts a graceful leave and answers at once; /readyz turns 503 and the watch stream
// reports the member leaving while the news spreads.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView } from '../../runtime/view.js';
import { requireAdminToken } from '../auth.js';

export interface LeavePluginOptions {
  readonly view: AgentView;
  readonly metrics: Metrics;
  /** An admin action: every client must send this token (null refuses all). */
  readonly adminToken: string | null;
}

export const leavePlugin: FastifyPluginCallbackZod<LeavePluginOptions> = (app, { view, metrics, adminToken }, done) => {
  requireAdminToken(app, adminToken, metrics);
  // The request body means nothing here; accept any (small) one rather than fail a client that sends {}.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_request, _body, parsed) => parsed(null, undefined));

  app.post('/v1/leave', (request, reply) => {
    view.leave().catch((err: unknown) => request.log.error({ err }, 'leave failed'));
    return reply.code(202).send({ leaving: true });
  });
  done();
};
