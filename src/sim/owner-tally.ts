// The owners a simulated member's table is for (members it holds alive or suspect that serve), kept
// from its member events as they come rather than by a walk of its records at every view change: in a
// mass join the view changes once per packet, and a walk of 10,000 records each time was most of the
// run. Every change of a record's state or metadata comes with a member event, so the tally after a
// step's events is the set a walk would find.
import type { MemberIndex } from '../core/member-index.js';
import type { MemberRecord, MembershipEvent } from '../core/types.js';

export class OwnerTally {
  /** Per member number: 1 while that member is an owner. */
  private held = new Uint8Array(0);
  /** How many owners. */
  count = 0;
  /** The sum of the owners' name hashes, modulo 2^32 (what a table version is derived from). */
  hashSum = 0;

  constructor(
    private readonly index: MemberIndex,
    private readonly hashOf: (name: string) => number,
  ) {}

  /** `record` is now held about its member. */
  note(record: MemberRecord): void {
    this.set(record.name, (record.state === 'alive' || record.state === 'suspect') && record.meta.serving);
  }

  /** Becomes a copy of `other` (same index and hash): what noting the same records would make it. */
  copyFrom(other: OwnerTally): void {
    this.held = other.held.slice();
    this.count = other.count;
    this.hashSum = other.hashSum;
  }

  /** A copy that later changes to this one do not reach. */
  clone(): OwnerTally {
    const copy = new OwnerTally(this.index, this.hashOf);
    copy.copyFrom(this);
    return copy;
  }

  /** Whether `other` numbers names as this one does (copyFrom needs that, and the same name hashes). */
  sameIndex(other: OwnerTally): boolean {
    return this.index === other.index;
  }

  onEvent(event: MembershipEvent): void {
    if (event.type === 'member') this.note(event.member);
    else if (event.type === 'reaped') this.set(event.name, false);
  }

  private set(name: string, owner: boolean): void {
    const id = this.index.acquire(name);
    if (id >= this.held.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.index.span, this.held.length * 2, 8));
      grown.set(this.held);
      this.held = grown;
    }
    const was = this.held[id] === 1;
    if (was === owner) return;
    this.held[id] = owner ? 1 : 0;
    const h = this.hashOf(name);
    this.count += owner ? 1 : -1;
    this.hashSum = (owner ? this.hashSum + h : this.hashSum - h) >>> 0;
  }
}
