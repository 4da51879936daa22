// The part of SwimCore the simulator drives. Declared here (structurally identical to SwimCore's
// methods) so the engine can also run hand-written stub cores in its own tests.
import type { ByteMeasure } from '../core/measure.js';
import type { SwimConfig } from '../core/config.js';
import type { Address, Effect, MemberMeta, MemberRecord, Millis, Packet, Random } from '../core/types.js';

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
}

/** What a core is built from; the same fields as SwimCoreOptions. */
export interface SimCoreOptions {
  name: string;
  lifeId: string;
  incarnation: number;
  gossipAddr: Address;
  grpcAddr: Address;
  meta: MemberMeta;
  config: SwimConfig;
  random: Random;
  now: Millis;
  measure?: ByteMeasure;
}

export type CoreFactory = (options: SimCoreOptions) => SimCore;
