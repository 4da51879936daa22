// The records this member holds about everyone (itself included) and every lookup the other parts make:
// the live count, round-robin probe targets, random relays and gossip targets, what we hold against a
// member. Each record's side state (a suspicion, a reap time, a tombstone) is kept in step with its
// state by setRecord; Membership and OwnRecord decide what changes.
import type { CoreContext } from './context.js';
import type { GossipPeers } from './dissemination.js';
import { SharedMemberIndex, type MemberIndex } from './member-index.js';
import { MemberTable } from './member-table.js';
import { ProbeOrder } from './probe-order.js';
import { aliveUpdateOf } from './records.js';
import { Retention } from './retention.js';
import { Suspicions } from './suspicions.js';
import type { Effect, MemberRecord, MemberState, MembershipEvent, Millis, Update } from './types.js';

function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}

/** A `member` event: `record` is now held, in place of a record in state `from` (null: a new member). */
export function emitMemberChange(out: Effect[], from: MemberState | null, record: MemberRecord, reason: string): void {
  const event: MembershipEvent = { type: 'member', name: record.name, from, to: record.state, incarnation: record.incarnation, reason, member: record };
  out.push({ type: 'event', event });
}

const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];

/** A list's names and its count of records per state, worked out once for every table that takes it. */
interface ListSummary {
  names: string[];
  inState: Record<MemberState, number>;
}
const summaries = new WeakMap<readonly MemberRecord[], ListSummary>();

function summaryOf(records: readonly MemberRecord[]): ListSummary {
  let summary = summaries.get(records);
  if (summary !== undefined && summary.names.length === records.length) return summary;
  summary = { names: records.map((r) => r.name), inState: { alive: 0, suspect: 0, dead: 0, left: 0 } };
  for (const r of records) summary.inState[r.state]++;
  summaries.set(records, summary);
  return summary;
}

export class Roster implements GossipPeers {
  // Only (shared, immutable) records, in arrays by member number: a table slot is the whole cost of an
  // alive member, which matters when a simulation holds 10,000 tables of 10,000. Per-state extras live
  // in side tables keyed by name.
  private readonly table: MemberTable;
  private selfRecord: MemberRecord;
  readonly selfName: string;
  readonly suspicions: Suspicions;
  readonly retention: Retention;
  private readonly order: ProbeOrder;
  /** alive + suspect including self: the n in every formula. */
  private live = 1;
  /** Records held about other members, by state: readiness asks on every probe, at any cluster size. */
  private readonly peersIn: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  private readonly othersNames = (): Iterable<string> => this.namesExceptSelf();
  /** The index when its numbers are never reused: a probe order may then hold numbers instead of names. */
  private readonly sharedIndex: SharedMemberIndex | null;

  constructor(
    self: MemberRecord,
    private readonly ctx: CoreContext,
    maxMembers: number,
    index?: MemberIndex,
  ) {
    this.table = new MemberTable(index);
    this.sharedIndex = index instanceof SharedMemberIndex ? index : null;
    this.selfRecord = self;
    this.selfName = self.name;
    this.table.set(self.name, self);
    this.order = new ProbeOrder(ctx.random);
    this.suspicions = new Suspicions(ctx);
    this.retention = new Retention(ctx, maxMembers);
  }

  get self(): MemberRecord {
    return this.selfRecord;
  }

  get size(): number {
    return this.table.size;
  }

  get(name: string): MemberRecord | undefined {
    return this.table.get(name);
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  stateOf(name: string): MemberState | undefined {
    return this.table.get(name)?.state;
  }

  records(): MemberRecord[] {
    return this.table.toArray();
  }

  /**
   * What a full-state exchange carries: every record, plus reaped members as they were last seen. The
   * tombstones let the other side of a healed partition learn we hold it dead, so it refutes.
   */
  fullState(): MemberRecord[] {
    const state = this.records();
    for (const record of this.retention.buried()) state.push(record);
    return state;
  }

  liveCount(): number {
    return this.live;
  }

  hasOthers(): boolean {
    return this.table.size > 1;
  }

  /** Our current alive record as an update, to answer a stale accusation. */
  selfAlive(): Update {
    return aliveUpdateOf(this.selfRecord);
  }

  // --- choosing members ---------------------------------------------------------------------

  /** The next member to probe (alive or suspect), round-robin. */
  nextProbeTarget(): MemberRecord | undefined {
    const name = this.order.next(this.othersNames, (n) => {
      const state = this.stateOf(n);
      return state === 'alive' || state === 'suspect';
    });
    return name === undefined ? undefined : this.table.get(name);
  }

  /** Up to `count` random alive members other than `except`. */
  pickAlive(count: number, except = ''): MemberRecord[] {
    return this.order.pick(count, (n) => n === except || this.stateOf(n) !== 'alive').map((n) => this.table.get(n) as MemberRecord);
  }

  gossipTargets(count: number): MemberRecord[] {
    // Dead members are still in the table only during retention: gossiping to them lets them refute.
    return this.order
      .pick(count, (n) => {
        const state = this.stateOf(n);
        return state === undefined || state === 'left';
      })
      .map((n) => this.table.get(n) as MemberRecord);
  }

  /**
   * A member we hold dead (or reaped as dead) to try a full-state exchange with now and then: after a
   * partition heals nothing else crosses, since probes and push-pull only go to the living. O(n), once per
   * push-pull period.
   */
  reconnectCandidate(): MemberRecord | undefined {
    const candidates: MemberRecord[] = [];
    for (const record of this.table.values()) if (record.state === 'dead') candidates.push(record);
    for (const record of this.retention.buried()) if (record.state === 'dead') candidates.push(record);
    return candidates.length === 0 ? undefined : candidates[this.ctx.random.int(candidates.length)];
  }

  // --- what we hold against a member --------------------------------------------------------

  /** The 'left' news about a member we hold as left gracefully, else null. */
  leftNewsAbout(name: string): Update | null {
    const record = this.table.get(name);
    return record !== undefined && record.state === 'left' ? { kind: 'left', name, incarnation: record.incarnation } : null;
  }

  accusationAgainst(target: MemberRecord): Update | null {
    const record = this.table.get(target.name);
    if (record === undefined) return null;
    if (record.state === 'suspect') return { kind: 'suspect', name: record.name, incarnation: record.incarnation, from: this.selfName };
    if (record.state === 'dead') return { kind: 'dead', name: record.name, incarnation: record.incarnation, from: this.selfName };
    return null;
  }

  /**
   * A packet came from `addr`. If it is a member we suspect, that is proof it runs and reaches us now,
   * and the suspicion may be stale (raised while a cut separated us, then confirmed by members who only
   * heard it from us): the first such packet restarts the suspicion from now, so the member has a
   * whole timeout to refute. Once per suspicion: a member that can send but never refutes (deaf) is
   * still declared dead. Returns the suspect, if any. O(suspects), a short list.
   */
  heardFromSuspect(addr: string, now: Millis): MemberRecord | undefined {
    for (const name of this.suspicions.names()) {
      const record = this.table.get(name);
      if (record === undefined || record.state !== 'suspect' || record.gossipAddr !== addr) continue;
      if (!this.suspicions.wasHeardFrom(name)) this.suspicions.start({ kind: 'suspect', name, incarnation: record.incarnation, from: this.selfName }, this.live, now, true);
      return record;
    }
    return undefined;
  }

  // --- changes ------------------------------------------------------------------------------

  /** A member not in the table, alive: placed among the members not yet probed this round. */
  add(record: MemberRecord): void {
    this.retention.unbury(record.name);
    this.table.set(record.name, record);
    this.live++;
    this.peersIn[record.state]++;
    this.order.add(record.name, this.table.size, this.othersNames);
  }

  /**
   * Every one of `records` as add() would take them one by one, into a table that holds only self (a
   * converged start seeds thousands of cores from one list: the table looks the names up once per list).
   */
  addAll(records: readonly MemberRecord[]): void {
    if (this.table.size !== 1) throw new Error('addAll is for a table that holds only its own record');
    const ids = this.table.appendAll(records);
    const selfId = this.table.idOf(this.selfName);
    const list = summaryOf(records);
    const skip = ids.indexOf(selfId);
    // The probe order is empty (its last reshuffle saw no one else): it takes the names as add() would.
    const index = this.sharedIndex;
    this.order.addEach(list.names, skip, index === null ? undefined : { ids, nameOf: (id) => index.nameOf(id) });
    const selfState = skip < 0 ? null : (records[skip] as MemberRecord).state;
    for (const state of MEMBER_STATES) {
      const count = list.inState[state] - (state === selfState ? 1 : 0);
      this.live += count;
      this.peersIn[state] += count;
    }
    if (this.retention.anyBuried()) for (const name of list.names) this.retention.unbury(name);
  }

  /** Installs a new record, keeping the live count, suspicion and retention timers in step with its state. */
  setRecord(before: MemberRecord, record: MemberRecord, now: Millis): void {
    const name = record.name;
    this.table.set(name, record);
    if (name === this.selfName) this.selfRecord = record;
    if (before.state === record.state) return;
    if (name !== this.selfName) {
      this.peersIn[before.state]--;
      this.peersIn[record.state]++;
    }
    const wasLive = isLive(before.state);
    const nowLive = isLive(record.state);
    if (wasLive !== nowLive) this.live += nowLive ? 1 : -1;
    if (before.state === 'suspect') this.suspicions.end(name);
    if (name === this.selfName) return;
    this.retention.stateChanged(name, wasLive, nowLive, now);
  }

  /** Retention is over: the record leaves the table and becomes a tombstone. */
  reap(record: MemberRecord, now: Millis): void {
    const held = this.table.get(record.name);
    if (held !== undefined && this.table.delete(record.name) && record.name !== this.selfName) this.peersIn[held.state]--;
    this.retention.bury(record, now);
  }

  /** How many other members are held in `state` (self never counted). */
  peersInState(state: MemberState): number {
    return this.peersIn[state];
  }

  private *namesExceptSelf(): Iterable<string> {
    for (const name of this.table.keys()) if (name !== this.selfName) yield name;
  }
}
