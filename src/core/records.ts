// Conversions between alive updates and member records, memoised per object. In the simulator thousands
// of cores receive the very same update object; sharing the record built from it (and the update built
// from a record) keeps 10,000 member tables from holding 10^8 copies. Both types are immutable, so
// sharing is safe, and the caches are weak, so nothing outlives its last user.
import { MAX_INCARNATION } from './limits.js';
import type { Address, MemberRecord, MemberState, Update } from './types.js';

export type AliveUpdate = Extract<Update, { kind: 'alive' }>;
export type SuspectUpdate = Extract<Update, { kind: 'suspect' }>;
export type DeadUpdate = Extract<Update, { kind: 'dead' }>;
export type LeftUpdate = Extract<Update, { kind: 'left' }>;

const recordByUpdate = new WeakMap<AliveUpdate, MemberRecord>();
const updateByRecord = new WeakMap<MemberRecord, AliveUpdate>();

/** The alive record an alive update describes (shared). */
export function aliveRecordOf(u: AliveUpdate): MemberRecord {
  let record = recordByUpdate.get(u);
  if (record === undefined) {
    record = { name: u.name, lifeId: u.lifeId, incarnation: u.incarnation, state: 'alive', gossipAddr: u.gossipAddr, grpcAddr: u.grpcAddr, meta: u.meta };
    recordByUpdate.set(u, record);
    updateByRecord.set(record, u);
  }
  return record;
}

/** The alive update announcing a record (shared); the record's own state is ignored. */
export function aliveUpdateOf(r: MemberRecord): AliveUpdate {
  let update = updateByRecord.get(r);
  if (update === undefined) {
    update = { kind: 'alive', name: r.name, lifeId: r.lifeId, incarnation: r.incarnation, gossipAddr: r.gossipAddr, grpcAddr: r.grpcAddr, meta: r.meta };
    updateByRecord.set(r, update);
    if (r.state === 'alive') recordByUpdate.set(update, r);
  }
  return update;
}

/** `r` moved to `state` at `incarnation`. */
export function withState(r: MemberRecord, state: MemberState, incarnation: number): MemberRecord {
  return { ...r, state, incarnation };
}

/** Whether two records advertise the same addresses and metadata. */
export function sameAdvertisement(a: MemberRecord, b: MemberRecord): boolean {
  if (a.gossipAddr !== b.gossipAddr || a.grpcAddr !== b.grpcAddr) return false;
  if (a.meta === b.meta) return true;
  if (a.meta.appAddr !== b.meta.appAddr || a.meta.serving !== b.meta.serving) return false;
  const aKeys = Object.keys(a.meta.tags);
  if (aKeys.length !== Object.keys(b.meta.tags).length) return false;
  for (const key of aKeys) if (a.meta.tags[key] !== b.meta.tags[key]) return false;
  return true;
}

/** One above `n`, saturating at the incarnation ceiling (only a forged record can bring us near it). */
export function nextIncarnation(n: number): number {
  return Math.min(n + 1, MAX_INCARNATION);
}

/**
 * At the ceiling no refutation can outbid an accusation, so there the member's own alive wins the tie:
 * an alive at MAX_INCARNATION replaces a record (or tombstone) at MAX_INCARNATION that is not alive
 * when it has the held life id, or when the member sent it itself (`sentFrom`, the packet's source, is
 * the gossip address it names: a first-hand refutation). The second case covers a held life that was a
 * forger's claim just below the ceiling, pushed to it by a forged accusation before the member's
 * refutation of the claim arrived. Honest members never get here; without it, one forged accusation
 * at the ceiling would be final.
 */
export function refutesAtCeiling(u: AliveUpdate, held: MemberRecord, sentFrom: Address | null = null): boolean {
  if (u.incarnation !== MAX_INCARNATION || held.incarnation !== MAX_INCARNATION || held.state === 'alive') return false;
  return u.lifeId === held.lifeId || sentFrom === u.gossipAddr;
}
