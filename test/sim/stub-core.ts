// A scriptable stand-in for SwimCore, so the simulator engine is tested on its own: it records every
// call and returns whatever effects the test queued.
import type { Effect, MemberRecord, Packet } from '../../src/core/types.js';
import type { SimCore, SimCoreOptions } from '../../src/sim/core-port.js';
import { memberRecord } from '../support/member-record.js';

export type Call =
  | { kind: 'tick'; now: number }
  | { kind: 'receive'; now: number; from: string; packet: Packet }
  | { kind: 'join'; now: number; seeds: readonly string[] }
  | { kind: 'negotiate'; now: number; records: number; join: boolean }
  | { kind: 'reply'; now: number; requestId: number; records: number }
  | { kind: 'failed'; now: number; requestId: number }
  | { kind: 'closing'; now: number; name: string; incarnation: number };

export class StubCore implements SimCore {
  readonly calls: Call[] = [];
  /** Effects returned by the next call of any kind. */
  next: Effect[] = [];
  /** Deadlines to report, earliest first; tick(now) drops those <= now. */
  deadlines: number[] = [];

  constructor(readonly options: SimCoreOptions) {}

  private take(): Effect[] {
    const out = this.next;
    this.next = [];
    return out;
  }
  tick(now: number): Effect[] {
    this.calls.push({ kind: 'tick', now });
    this.deadlines = this.deadlines.filter((d) => d > now);
    return this.take();
  }
  receive(from: string, packet: Packet, now: number): Effect[] {
    this.calls.push({ kind: 'receive', now, from, packet });
    return this.take();
  }
  join(seeds: readonly string[], now: number): Effect[] {
    this.calls.push({ kind: 'join', now, seeds });
    return this.take();
  }
  onNegotiate(remote: readonly MemberRecord[], join: boolean, now: number): { reply: MemberRecord[]; effects: Effect[] } {
    this.calls.push({ kind: 'negotiate', now, records: remote.length, join });
    return { reply: [this.self()], effects: this.take() };
  }
  onNegotiateReply(requestId: number, remote: readonly MemberRecord[], now: number): Effect[] {
    this.calls.push({ kind: 'reply', now, requestId, records: remote.length });
    return this.take();
  }
  onNegotiateFailed(requestId: number, now: number): Effect[] {
    this.calls.push({ kind: 'failed', now, requestId });
    return this.take();
  }
  onClosing(name: string, incarnation: number, now: number): Effect[] {
    this.calls.push({ kind: 'closing', now, name, incarnation });
    return this.take();
  }
  leave(): Effect[] {
    return this.take();
  }
  nextDeadline(): number {
    return this.deadlines[0] ?? Number.POSITIVE_INFINITY;
  }
  members(): MemberRecord[] {
    return [this.self()];
  }
  member(name: string): MemberRecord | undefined {
    return name === this.options.name ? this.self() : undefined;
  }
  pendingBroadcasts(): number {
    return 0;
  }
  self(): MemberRecord {
    const o = this.options;
    return memberRecord(o.name, { lifeId: o.lifeId, incarnation: o.incarnation, gossipAddr: o.gossipAddr, grpcAddr: o.grpcAddr, meta: o.meta });
  }
}

export function ping(from: string, seq: number): Packet {
  return { message: { type: 'ping', seq, from, fromAddr: '', target: '' }, updates: [] };
}
