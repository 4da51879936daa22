// GET /v1/info: this member at a glance, for the status page (/ui) and `swimring info`: readiness and
// its reasons, health score, member counts by state, the table's version and shares, claims, listeners.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { MemberState } from '../../core/types.js';
import type { AgentInfo, AgentView } from '../../runtime/view.js';

export interface InfoPluginOptions {
  readonly view: AgentView;
  /** Listener addresses known outside the view (the HTTP listeners are bound after the API is built). */
  readonly listeners?: () => Readonly<Record<string, string>>;
}

export function agentInfo(view: AgentView, listeners: Readonly<Record<string, string>> = {}): AgentInfo {
  const { version, members } = view.members();
  const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const m of members) counts[m.state]++;
  const table = view.table(false);
  return {
    name: view.name,
    version,
    ready: view.readiness(),
    live: view.liveness(),
    healthScore: view.healthScore?.() ?? null,
    members: { ...counts, total: members.length },
    table: { shards: table.shards, replicas: table.replicas, members: table.members, shardsPerMember: table.shardsPerMember },
    claims: view.claimCount?.() ?? null,
    listeners,
  };
}

export const infoPlugin: FastifyPluginCallbackZod<InfoPluginOptions> = (app, { view, listeners }, done) => {
  app.get('/v1/info', () => agentInfo(view, listeners?.() ?? {}));
  // Each live member's own health score and table version, asked over gRPC (a second at most).
  app.get('/v1/members/health', async () => ({ members: view.peerHealth ? await view.peerHealth() : {} }));
  done();
};
