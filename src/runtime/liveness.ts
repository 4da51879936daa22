// The liveness rule (/livez): whether this process should be restarted. Pure: the agent hands in its state.
import type { ReceiveHealth } from '../transport/udp.js';
import type { HealthView } from './view.js';

export interface LivenessInputs {
  readonly now: number;
  readonly stopped: boolean;
  readonly loopLagMs: number;
  /** The gossip socket's receive path; null before it is bound. */
  readonly udp: ReceiveHealth | null;
  /** How long the socket may be down (reopening) before only a restart helps. */
  readonly receiveDownLimitMs: number;
}

export function livenessOf(s: LivenessInputs): HealthView {
  const reasons: string[] = [];
  if (s.stopped) reasons.push('stopped');
  if (s.loopLagMs > 5000) reasons.push(`event loop lagging ${Math.round(s.loopLagMs)} ms`);
  const udp = s.udp;
  if (udp && !udp.receiving && udp.downSince !== null && s.now - udp.downSince > s.receiveDownLimitMs) {
    reasons.push(`gossip socket not receiving for ${Math.round(s.now - udp.downSince)} ms (reopen failing: ${udp.lastError ?? 'unknown'})`);
  }
  return { ok: reasons.length === 0, reasons };
}
