// Each live member's own Lifeguard health score and table version, asked over gRPC Ping (for the status
// page, GET /v1/members/health): only a member knows its own score. Bounded in members and in time.
import type { ControlPlaneClient } from '../grpc/client.js';
import type { MemberRecord } from '../core/types.js';
import type { PeerHealth } from './view.js';

/** Members asked at once at most; the rest are answered null. */
export const MAX_PEERS_PINGED = 64;

export async function pingPeers(client: Pick<ControlPlaneClient, 'ping'>, records: readonly MemberRecord[], self: string, timeoutMs: number): Promise<Record<string, PeerHealth | null>> {
  const out: Record<string, PeerHealth | null> = {};
  const live = records.filter((r) => r.name !== self && (r.state === 'alive' || r.state === 'suspect')).sort((a, b) => a.name.localeCompare(b.name));
  await Promise.all(
    live.map(async (r, i) => {
      out[r.name] = null;
      if (i >= MAX_PEERS_PINGED) return;
      try {
        const reply = await client.ping(r.grpcAddr, timeoutMs);
        if (reply.name === r.name) out[r.name] = { healthScore: reply.healthScore, tableVersion: reply.tableVersion };
      } catch {
        // Unreachable or refusing: no score to show.
      }
    }),
  );
  return out;
}
