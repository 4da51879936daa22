// GET /v1/members, GET /v1/table and GET /v1/table/compact: the membership view and the ownership
// table, as the agent has them.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { AgentView } from '../../runtime/view.js';
import { tableQuerySchema } from '../schemas.js';
import { compactTableJson } from '../serialize-table.js';

export interface ViewPluginOptions {
  readonly view: AgentView;
}

export const membersPlugin: FastifyPluginCallbackZod<ViewPluginOptions> = (app, { view }, done) => {
  app.get('/v1/members', () => {
    const { version, members } = view.members();
    return { version, members };
  });
  done();
};

export const tablePlugin: FastifyPluginCallbackZod<ViewPluginOptions> = (app, { view }, done) => {
  app.get('/v1/table', { schema: { querystring: tableQuerySchema } }, (request) => {
    const owners = request.query.owners === 'true' || request.query.owners === '1';
    return view.table(owners);
  });
  const compact = view.compactTable?.bind(view);
  if (compact) {
    app.get('/v1/table/compact', (_request, reply) => reply.type('application/json; charset=utf-8').send(compactTableJson(compact())));
  }
  done();
};
