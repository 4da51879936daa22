// Member names as small dense numbers, so per-member state can sit in arrays indexed by member number
// instead of a Map entry per name. One core owns private indexes (numbers are recycled as names are
// forgotten, so a peer cannot grow them without bound); a simulator running thousands of cores in one
// process shares one index among all of them, so each name is interned once, not once per core.

export interface MemberIndex {
  /** The number `name` holds here, or -1. A lookup never assigns one (names from packets are untrusted). */
  find(name: string): number;
  /** The number of `name`, assigning one when it has none. Acquiring a held name returns its number. */
  acquire(name: string): number;
  /** The holder is done with `id` (a private index may hand it to another name). */
  release(id: number): void;
  /**
   * The numbers of every record's name, in list order, assigning as acquire does. A shared index answers
   * the same (unchanged, readonly) list from one lookup per name however many holders ask.
   */
  acquireAll(records: readonly { readonly name: string }[]): Int32Array;
  /** Every number handed out is below this: how long to make arrays indexed by member number. */
  readonly span: number;
}

/**
 * An index for one structure: it acquires a name once while it keeps it and releases it when it drops
 * it. Released numbers are reused, so the span stays at the most names held at once.
 */
export class PrivateMemberIndex implements MemberIndex {
  private readonly ids = new Map<string, number>();
  private readonly names: (string | undefined)[] = [];
  private readonly free: number[] = [];

  get span(): number {
    return this.names.length;
  }

  find(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  acquire(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.free.pop() ?? this.names.length;
    this.ids.set(name, id);
    this.names[id] = name;
    return id;
  }

  acquireAll(records: readonly { readonly name: string }[]): Int32Array {
    return acquireEach(this, records);
  }

  release(id: number): void {
    const name = this.names[id];
    if (name === undefined) return;
    this.ids.delete(name);
    this.names[id] = undefined;
    this.free.push(id);
  }
}

/**
 * One index shared by many structures (every core of a simulation): a name keeps its number for the
 * life of the index and release does nothing, so the numbers of the names known are what the
 * structures' arrays are sized by. Bounded by the distinct names the owner registers or its cores learn.
 */
export class SharedMemberIndex implements MemberIndex {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private count = 0;
  /** The last list acquireAll was asked about and its answer: thousands of cores seed from one list. */
  private lastList: { records: readonly { readonly name: string }[]; ids: Int32Array } | null = null;

  get span(): number {
    return this.count;
  }

  find(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  acquire(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.count++;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** The name holding `id` (numbers here are never reused, so it is the name for good). */
  nameOf(id: number): string {
    return this.names[id] as string;
  }

  acquireAll(records: readonly { readonly name: string }[]): Int32Array {
    // A name keeps its number for the life of this index, so the answer for the same list stays true.
    if (this.lastList?.records !== records || this.lastList.ids.length !== records.length) this.lastList = { records, ids: acquireEach(this, records) };
    return this.lastList.ids;
  }

  release(): void {}
}

function acquireEach(index: MemberIndex, records: readonly { readonly name: string }[]): Int32Array {
  const ids = new Int32Array(records.length);
  for (let i = 0; i < records.length; i++) ids[i] = index.acquire((records[i] as { readonly name: string }).name);
  return ids;
}

/** A new length for arrays indexed by member number that must hold `id`: room to grow, or the index's span. */
export function grownLength(current: number, id: number, span: number): number {
  return Math.max(id + 1, span, current + (current >> 1), 8);
}

/** `array` copied into a longer one of the same kind, the new tail filled with `fill`. */
export function grownInt32(array: Int32Array<ArrayBuffer>, length: number, fill: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(length);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}
