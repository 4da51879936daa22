// The member table: name -> record, iterated in insertion order like a Map (full-state exchanges and
// probe rounds walk it, so its order is part of what a seed replays). Records sit in an array indexed by
// member number (MemberSlots) with the order apart (MemberOrder): 16 bytes per member a table holds,
// against about 50 for a Map entry, and nothing per member for the tables that read a shared list,
// which is what lets one process simulate 10,000 tables of 10,000.
import { PrivateMemberIndex, type MemberIndex } from './member-index.js';
import { MemberOrder } from './member-order.js';
import { MemberSlots } from './member-slots.js';
import type { MemberRecord } from './types.js';

/**
 * Per index, the last list appendAll took, as records by member number. The tables seeded from one list
 * (a converged start's thousands of cores) share that array until one of them changes a record, so the
 * seeding writes no record slot per pair and the V8 heap holds the pairs once.
 */
const listsByIndex = new WeakMap<MemberIndex, { list: readonly MemberRecord[]; byId: (MemberRecord | undefined)[] }>();

function recordsById(index: MemberIndex, list: readonly MemberRecord[], ids: Int32Array, top: number): (MemberRecord | undefined)[] | null {
  const last = listsByIndex.get(index);
  if (last?.list === list && last.byId.length > top) return last.byId;
  // Grown by push, as grow() does: a large preallocated array may be made a slow dictionary by V8.
  const byId: (MemberRecord | undefined)[] = [];
  for (let i = Math.max(top + 1, index.span); i > 0; i--) byId.push(undefined);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (byId[id] !== undefined) return null; // a name twice: the tables take the list one by one
    byId[id] = list[i];
  }
  listsByIndex.set(index, { list, byId });
  return byId;
}

export class MemberTable {
  private readonly slots = new MemberSlots();
  private readonly order = new MemberOrder();
  private count = 0;

  constructor(private readonly index: MemberIndex = new PrivateMemberIndex()) {}

  get size(): number {
    return this.count;
  }

  get(name: string): MemberRecord | undefined {
    const id = this.index.find(name);
    return id < 0 ? undefined : this.slots.get(id);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces the record in place, or appends a new member at the end of the order (as Map.set). */
  set(name: string, record: MemberRecord): void {
    // One lookup: acquiring a held name returns its number, and a name set is held either way.
    const id = this.index.acquire(name);
    const held = this.slots.get(id) !== undefined;
    this.slots.put(id, record);
    if (held) return;
    this.order.append(id, this.index.span);
    this.count++;
  }

  /**
   * Appends each of `records` whose name is not held, in list order, as set would one by one (a
   * converged start): the names' numbers come from the index's acquireAll, one lookup per name per list.
   * Returns those numbers, in list order (shared: read them, never write).
   */
  appendAll(records: readonly MemberRecord[]): Int32Array {
    const ids = this.index.acquireAll(records);
    let top = -1;
    for (let i = 0; i < ids.length; i++) top = Math.max(top, ids[i] as number);
    // Holding one record, the very one the list holds under its number: the list's array and order
    // stand for ours.
    const only = this.count === 1 ? this.order.firstId : -1;
    const byId = only < 0 ? null : recordsById(this.index, records, ids, top);
    if (byId !== null && byId[only] === this.slots.get(only)) {
      this.slots.share(byId);
      this.order.appendShared(ids, only);
      this.count = ids.length;
      return ids;
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (this.slots.get(id) !== undefined) continue;
      this.slots.put(id, records[i] as MemberRecord);
      this.order.append(id, this.index.span);
      this.count++;
    }
    return ids;
  }

  /** The member number `name` has in this table's index, or -1. */
  idOf(name: string): number {
    return this.index.find(name);
  }

  delete(name: string): boolean {
    const id = this.index.find(name);
    if (id < 0 || this.slots.get(id) === undefined) return false;
    this.order.remove(id, this.index.span);
    this.slots.put(id, null);
    this.count--;
    this.index.release(id);
    return true;
  }

  /** Records in insertion order. */
  *values(): IterableIterator<MemberRecord> {
    for (const id of this.order.ids()) yield this.slots.get(id) as MemberRecord;
  }

  /** Names in insertion order. */
  *keys(): IterableIterator<string> {
    for (const record of this.values()) yield record.name;
  }

  /** Every record, in insertion order, as a new array. */
  toArray(): MemberRecord[] {
    const out = new Array<MemberRecord>(this.count);
    let i = 0;
    for (const id of this.order.ids()) out[i++] = this.slots.get(id) as MemberRecord;
    return out;
  }
}
