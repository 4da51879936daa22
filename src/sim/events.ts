// What sits in the simulator's event queue. One class for every kind keeps the queue monomorphic and
// avoids a closure per packet; only scenario actions (rare) carry a function.
import type { MemberRecord, Packet } from '../core/types.js';

export const EventKind = {
  /** A node's core is due: tick it. `num` = the wake generation (stale generations are skipped). */
  Wake: 0,
  /** A UDP packet reaches `node` at `addr`, sent from `fromAddr`; `num` = its encoded size. */
  Packet: 1,
  /** A Negotiate request reaches `node` at `addr`; `num` = the RPC token. */
  NegotiateRequest: 2,
  /** The Negotiate reply reaches the caller `node`; `num` = the RPC token. */
  NegotiateReply: 3,
  /** The caller's RPC deadline passed; `num` = the RPC token. */
  NegotiateTimeout: 4,
  /** A Closing notice reaches `node` at `addr`; `fromAddr` holds the leaving name, `num` its incarnation. */
  Closing: 5,
  /** A paused node wakes; `num` = its pause generation. */
  Resume: 6,
  /** A scenario step. */
  Action: 7,
  /** A periodic digest anti-entropy round reaches `node` at `addr`; `num` = the RPC token. */
  DigestRequest: 8,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export class SimEvent {
  constructor(
    readonly time: number,
    readonly seq: number,
    readonly kind: EventKind,
    readonly node: number,
    readonly num: number,
    readonly addr: string,
    readonly fromAddr: string,
    readonly packet: Packet | null,
    readonly records: readonly MemberRecord[] | null,
    readonly flag: boolean,
    readonly action: (() => void) | null,
  ) {}
}

/** Queues an event (the engine's one way in, handed to the parts that schedule their own). */
export type EventPusher = (
  time: number,
  kind: EventKind,
  node: number,
  num: number,
  addr: string,
  fromAddr: string,
  packet: Packet | null,
  records: readonly MemberRecord[] | null,
  flag: boolean,
  action: (() => void) | null,
) => void;
