// A member table's records by member number. A table seeded whole from a list that thousands of tables
// take (a simulation's converged start) reads that list's array, shared, and keeps the few records it
// changes since in a small map over it: copying the shared array on the first change would put a pair's
// worth of pointers per table back on the heap the moment news reaches every table at once (a crash).
import type { MemberRecord } from './types.js';

const NO_RECORDS: readonly (MemberRecord | undefined)[] = [];

/** Changes held over a shared array before the table takes its own copy: a map entry costs several slots. */
function changeLimit(sharedLength: number): number {
  return 64 + (sharedLength >> 3);
}

export class MemberSlots {
  /** Own when `shared` is false; otherwise another table's too and never written. */
  private records: (MemberRecord | undefined)[] | readonly (MemberRecord | undefined)[] = NO_RECORDS;
  private shared = true;
  /** Over a shared array: the records changed since, null where a member was removed. */
  private readonly changes = new Map<number, MemberRecord | null>();

  get(id: number): MemberRecord | undefined {
    if (this.changes.size !== 0) {
      const changed = this.changes.get(id);
      if (changed !== undefined) return changed ?? undefined;
    }
    return id < this.records.length ? this.records[id] : undefined;
  }

  /** Holds `record` under `id` (null: none). */
  put(id: number, record: MemberRecord | null): void {
    if (this.shared) {
      this.changes.set(id, record);
      if (this.changes.size > changeLimit(this.records.length)) this.own();
      return;
    }
    this.write(this.records as (MemberRecord | undefined)[], id, record);
  }

  /** Reads `byId` (shared with other tables, never written) in place of what this holds. */
  share(byId: readonly (MemberRecord | undefined)[]): void {
    this.records = byId;
    this.shared = true;
    this.changes.clear();
  }

  /** The shared array copied, with the changes over it written in. */
  private own(): void {
    const records = this.records.slice();
    for (const [id, record] of this.changes) this.write(records, id, record);
    this.records = records;
    this.changes.clear();
    this.shared = false;
  }

  private write(records: (MemberRecord | undefined)[], id: number, record: MemberRecord | null): void {
    // Grown by push: a large array preallocated with holes may be made a slow dictionary by V8.
    while (records.length <= id) records.push(undefined);
    records[id] = record ?? undefined;
  }
}
