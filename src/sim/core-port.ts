// The part of SwimCore the simulator drives. Declared here (structurally identical to SwimCore's
// methods) so the engine can also run hand-written stub cores in its own tests.
import type { SwimCoreOptions } from '../core/swim.js';
import type { Address, Effect, MemberRecord, Millis, Packet } from '../core/types.js';

export interface SimCore {
  tick(now: Millis): Effect[];
  receive(from: Address, packet: Packet, now: Millis): Effect[];
  join(seeds: readonly Address[], now: Millis): Effect[];
  onNegotiate(remote: readonly MemberRecord[], join: boolean, now: Millis): { reply: MemberRecord[]; effects: Effect[] };
  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: Millis): Effect[];
  onNegotiateFailed(requestId: number, now: Millis): Effect[];
  onClosing(name: string, incarnation: number, now: Millis): Effect[];
  leave(now: Millis): Effect[];
  nextDeadline(): Millis;
  members(): MemberRecord[];
  member(name: string): MemberRecord | undefined;
  pendingBroadcasts(): number;
  /** Starts joined to a converged cluster of `records` (joining through `seeds` after, as join does); cores without it can only cold-start. */
  startConverged?(seeds: readonly Address[], records: readonly MemberRecord[], now: Millis): Effect[];
  /** What a full-state exchange carries (tombstones too); without it the periodic exchange stays Negotiate. */
  fullState?(): MemberRecord[];
}

/** What a core is built from: SwimCoreOptions without the member-table bound (the simulator keeps the default). */
export type SimCoreOptions = Omit<SwimCoreOptions, 'maxMembers'>;

export type CoreFactory = (options: SimCoreOptions) => SimCore;
