// The readiness rule (/readyz): whether *this member* can serve. Pure: the agent hands in its state and
// the time, so the rule is tested without sockets or clocks.
//
// Before the first readiness the member must have joined (or bootstrapped), have a current ownership
// table, an app that is ready, not be leaving, and have seen its view quiet for the settle window, so a
// new pod does not enter its Service while its own join is still spreading. The quiet window is
// bounded: under continuous churn (a rolling update of a large Deployment) the member is ready at the
// latest SETTLE_CAP_WINDOWS settle windows after it joined. A member alone in its view (it bootstrapped
// a cluster of one) has no join to spread and waits for no window: a new cluster's first pod, or an
// agent started on its own, is ready as soon as its table is.
//
// After the first readiness only this member's own state takes readiness away: stopped, leaving or
// draining, its app not ready, no table; and being cut off, i.e. holding at least CUT_OFF_MIN_PEERS
// peers of which none is alive (every one suspect or dead; left members do not count). Another member's join, leave, suspicion or
// death never does: a readiness that followed cluster churn would take every pod of a Deployment out of
// its Service at once during a rolling update. Being cut off is the one exception, on purpose: a member
// that can reach none of its peers is either isolated (its view, in which it owns every key, is wrong)
// or the last survivor of a crash of all the others; the view cannot tell the two apart. It ends when a
// peer is alive again, or once the unreachable records are reaped (dead retention), from when the
// member serves as a cluster of one, as a bootstrapped member would. With a single peer the rule would
// turn the crash of one pod of two into an outage of both (the survivor unready until the record is
// reaped), and one lost peer says nothing about isolation, so a member of two keeps serving.
import type { HealthView } from './view.js';

/** The settle window is waited for at most this many times over, counted from the join. */
export const SETTLE_CAP_WINDOWS = 5;

/** Being cut off needs at least this many unreachable peers (and none alive). */
export const CUT_OFF_MIN_PEERS = 2;

export interface ReadinessInputs {
  readonly now: number;
  readonly stopped: boolean;
  /** A leave or drain has started. */
  readonly leaving: boolean;
  /** When the member joined (or bootstrapped); null before. */
  readonly joinedAt: number | null;
  readonly tableCurrent: boolean;
  readonly appReady: boolean;
  readonly appReason: string;
  readonly lastViewChangeAt: number;
  /** Other members held alive; and held suspect or dead (not left). */
  readonly peersAlive: number;
  readonly peersUnreachable: number;
}

export class ReadinessRule {
  private everReady = false;

  constructor(private readonly settleMs: number) {}

  /** The longest a joined member waits for a quiet view before its first readiness. */
  get settleCapMs(): number {
    return this.settleMs * SETTLE_CAP_WINDOWS;
  }

  /** Whether /readyz has answered 200 once (the first readiness). */
  get readyOnce(): boolean {
    return this.everReady;
  }

  check(s: ReadinessInputs): HealthView {
    const reasons: string[] = [];
    if (s.stopped) reasons.push('stopped');
    if (s.leaving) reasons.push('leaving the cluster');
    if (!s.tableCurrent) reasons.push('ownership table not built yet');
    if (!s.appReady) reasons.push(`app not ready: ${s.appReason}`);
    if (s.joinedAt === null) reasons.push('not joined yet: no seed has answered');
    if (this.everReady) {
      if (s.peersAlive === 0 && s.peersUnreachable >= CUT_OFF_MIN_PEERS) reasons.push(`cut off: none of this member's ${s.peersUnreachable} peers is alive (all suspect or dead)`);
    } else if (s.joinedAt !== null && s.peersAlive + s.peersUnreachable > 0) {
      const quietFor = s.now - s.lastViewChangeAt;
      const sinceJoin = s.now - s.joinedAt;
      if (quietFor < this.settleMs && sinceJoin < this.settleCapMs) {
        reasons.push(
          `member view changed ${Math.round(quietFor)} ms ago (settle window ${this.settleMs} ms; ready without it ${Math.round(this.settleCapMs - sinceJoin)} ms from now)`,
        );
      }
    }
    const ok = reasons.length === 0;
    if (ok) this.everReady = true;
    return { ok, reasons };
  }
}
