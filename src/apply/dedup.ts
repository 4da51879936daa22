// The owner's memory of the request ids it delivered, with the answer it got: a retry with the same id
// is answered from here instead of reaching the app again, and a retry that arrives while the first is
// still with the app waits for it. Bounded three ways: entries, bytes of stored answers, and time (TTL).
// An entry pushed out by the count or byte bound before its TTL is counted (evictedEarly): the
// guarantee holds for ids this member still remembers, and docs/apply.md says so.

export interface DedupOptions {
  /** Most remembered (settled) ids. */
  readonly maxEntries: number;
  /** Most bytes of remembered values, as sizeOf measures them. */
  readonly maxBytes: number;
  /** How long a settled id is remembered, ms. */
  readonly ttlMs: number;
  /** Most ids with a delivery under way; a new one beyond is refused ('busy'). */
  readonly maxInFlight: number;
  readonly now: () => number;
}

export type DedupBegin<T> =
  /** This call delivers; it must settle exactly once. */
  | { readonly kind: 'first'; settle(value: T, remember: boolean): void }
  /** Delivered before: the stored value. */
  | { readonly kind: 'done'; readonly value: T }
  /** Being delivered right now: resolves with the first call's value. */
  | { readonly kind: 'pending'; readonly wait: Promise<T> }
  | { readonly kind: 'busy' };

interface Remembered<T> {
  readonly value: T;
  readonly bytes: number;
  readonly expiresAt: number;
}

export class DedupCache<T> {
  /** Map order is settle order, which with one TTL for all is also expiry order. */
  private readonly remembered = new Map<string, Remembered<T>>();
  private readonly inFlight = new Map<string, Promise<T>>();
  private storedBytes = 0;
  /** Ids forgotten before their TTL because of the count or byte bound. */
  evictedEarly = 0;

  constructor(
    private readonly opts: DedupOptions,
    private readonly sizeOf: (value: T) => number,
  ) {
    for (const [name, v] of Object.entries({ maxEntries: opts.maxEntries, maxBytes: opts.maxBytes, ttlMs: opts.ttlMs, maxInFlight: opts.maxInFlight })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`dedup cache: ${name} must be a positive integer, got ${v}`);
    }
  }

  begin(id: string): DedupBegin<T> {
    this.expire();
    const known = this.remembered.get(id);
    if (known !== undefined) return { kind: 'done', value: known.value };
    const pending = this.inFlight.get(id);
    if (pending !== undefined) return { kind: 'pending', wait: pending };
    if (this.inFlight.size >= this.opts.maxInFlight) return { kind: 'busy' };
    let resolve!: (value: T) => void;
    this.inFlight.set(id, new Promise<T>((r) => (resolve = r)));
    let settled = false;
    return {
      kind: 'first',
      settle: (value, remember) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(id);
        if (remember) this.store(id, value);
        resolve(value);
      },
    };
  }

  /** Settled ids remembered now. */
  get size(): number {
    return this.remembered.size;
  }

  get bytes(): number {
    return this.storedBytes;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private store(id: string, value: T): void {
    const bytes = this.sizeOf(value);
    // A value larger than the whole byte budget would flush everything else for nothing.
    if (bytes > this.opts.maxBytes) {
      this.evictedEarly++;
      return;
    }
    this.remembered.set(id, { value, bytes, expiresAt: this.opts.now() + this.opts.ttlMs });
    this.storedBytes += bytes;
    while (this.remembered.size > this.opts.maxEntries || this.storedBytes > this.opts.maxBytes) {
      if (!this.dropOldest()) break;
      this.evictedEarly++;
    }
  }

  private expire(): void {
    const now = this.opts.now();
    for (const entry of this.remembered.values()) {
      if (entry.expiresAt > now) break;
      this.dropOldest();
    }
  }

  private dropOldest(): boolean {
    const first = this.remembered.entries().next();
    if (first.done === true) return false;
    const [id, entry] = first.value;
    this.remembered.delete(id);
    this.storedBytes -= entry.bytes;
    return true;
  }
}
