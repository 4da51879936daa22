// POST /v1/leave: starts a graceful leave and answers at once; /readyz turns 503 and the watch stream
// reports the member leaving while the news spreads. POST /v1/members/:name/force-leave: an operator marks
// a member this agent holds dead as left at once, here and then on every other live member (gRPC
// ForceLeave), answered per member; both are admin actions.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import type { AgentView } from '../../runtime/view.js';
import { requireAdminToken } from '../auth.js';
import { sendError } from '../errors.js';
import { memberNameParams } from '../schemas.js';

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

  app.post('/v1/members/:name/force-leave', { schema: { params: memberNameParams } }, async (request, reply) => {
    const name = request.params.name;
    if (view.forceLeave === undefined) return sendError(metrics, request, reply, 'internal', 'this agent cannot force members out');
    const result = view.forceLeave(name);
    switch (result.refused) {
      case null: {
        const summary = (await view.forceLeaveEverywhere?.(name, result)) ?? { name, members: 1, left: 1, results: [{ member: view.name, state: result.state }] };
        return reply.send({ state: result.state, ...summary });
      }
      case 'unknown':
        return sendError(metrics, request, reply, 'not_found', `no member named ${JSON.stringify(name)} in this view`);
      case 'self':
        return sendError(metrics, request, reply, 'member_live', 'that is this agent itself; use POST /v1/leave (swimring leave)');
      default:
        return sendError(metrics, request, reply, 'member_live', `${name} is ${result.refused}: only a dead member can be forced out`);
    }
  });
  done();
};
