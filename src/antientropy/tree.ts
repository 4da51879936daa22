// A Merkle tree over a keyed set of entries, kept current one entry at a time. Leaves are fixed buckets
// (the top bits of XXH64 of the entry key); a leaf's hash is the sum mod 2^64 of XXH64 of its entries'
// canonical bytes, so adding, replacing or removing one entry costs O(1) and the result does not depend
// on insertion order. Inner nodes hash their children's hashes (XXH64 of the concatenated 8-byte big-endian
// values) and are recomputed lazily, only above buckets that changed since the last look.
import { hashKeyInto, hashOut } from '../placement/key-hash.js';
import { xxh64Into } from '../placement/xxh64-fast.js';

/** Children per inner node. Both sides of an exchange must agree (ExchangeRoots carries it). */
export const DIGEST_FANOUT = 16;
const FANOUT_BITS = 4;

/** A 64-bit hash as uint32 halves. */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

interface EntryDigest {
  readonly hi: number;
  readonly lo: number;
  readonly bucket: number;
}

export class DigestTree {
  /** Number of leaves: a power of DIGEST_FANOUT. */
  readonly leaves: number;
  /** Levels below the root: the leaves are level `depth`, the root level 0. */
  readonly depth: number;
  private readonly leafBits: number;
  /** levels[l] holds 2 uint32 words (hi, lo) per node of level l. */
  private readonly levels: Uint32Array[];
  private readonly entries = new Map<string, EntryDigest>();
  private readonly bucketKeys: (Set<string> | undefined)[];
  private readonly dirtyLeaves = new Set<number>();
  private readonly scratch = new Uint8Array(DIGEST_FANOUT * 8);

  constructor(leaves: number) {
    let depth = 0;
    for (let n = 1; n < leaves; n *= DIGEST_FANOUT) depth++;
    if (!Number.isInteger(leaves) || leaves < DIGEST_FANOUT || DIGEST_FANOUT ** depth !== leaves || depth > 7) {
      throw new RangeError(`digest tree leaves must be a power of ${DIGEST_FANOUT} from ${DIGEST_FANOUT} to ${DIGEST_FANOUT ** 7}, got ${leaves}`);
    }
    this.leaves = leaves;
    this.depth = depth;
    this.leafBits = depth * FANOUT_BITS;
    this.levels = Array.from({ length: depth + 1 }, (_, l) => new Uint32Array(2 * DIGEST_FANOUT ** l));
    this.bucketKeys = new Array<Set<string> | undefined>(leaves);
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The bucket (leaf index) of a key. */
  bucketOf(key: string): number {
    hashKeyInto(key);
    return (hashOut[0]! >>> 0) >>> (32 - this.leafBits);
  }

  /**
   * Sets the canonical bytes of `key` (null removes it). Returns true when the tree changed. The bytes are
   * hashed, not kept.
   */
  set(key: string, bytes: Uint8Array | null): boolean {
    const old = this.entries.get(key);
    if (bytes === null) {
      if (old === undefined) return false;
      this.entries.delete(key);
      this.bucketKeys[old.bucket]?.delete(key);
      this.addToLeaf(old.bucket, -1, old);
      return true;
    }
    xxh64Into(bytes, bytes.length);
    const hi = hashOut[0]! >>> 0;
    const lo = hashOut[1]! >>> 0;
    if (old !== undefined) {
      if (old.hi === hi && old.lo === lo) return false;
      this.addToLeaf(old.bucket, -1, old);
      const next = { hi, lo, bucket: old.bucket };
      this.entries.set(key, next);
      this.addToLeaf(old.bucket, 1, next);
      return true;
    }
    const bucket = this.bucketOf(key);
    const next = { hi, lo, bucket };
    this.entries.set(key, next);
    let keys = this.bucketKeys[bucket];
    if (keys === undefined) this.bucketKeys[bucket] = keys = new Set();
    keys.add(key);
    this.addToLeaf(bucket, 1, next);
    return true;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Keys held in one bucket. */
  keysIn(bucket: number): string[] {
    const keys = this.bucketKeys[bucket];
    return keys === undefined ? [] : [...keys];
  }

  /** Every key held (for reconciling the tree with a source that cannot report removals). */
  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  root(): Hash64 {
    this.refresh();
    const root = this.levels[0]!;
    return { hi: root[0]!, lo: root[1]! };
  }

  /** The hash of node `index` at `level` (0 = root, depth = leaves). */
  node(level: number, index: number): Hash64 {
    this.refresh();
    const words = this.levels[level];
    if (words === undefined || index < 0 || 2 * index >= words.length) throw new RangeError(`no node ${index} at level ${level}`);
    return { hi: words[2 * index]!, lo: words[2 * index + 1]! };
  }

  /** Node hashes of `level` for the given indexes, 8 bytes each, big-endian, concatenated. */
  hashesAt(level: number, indexes: readonly number[]): Uint8Array {
    this.refresh();
    const words = this.levels[level];
    if (words === undefined) throw new RangeError(`no level ${level}`);
    const out = new Uint8Array(indexes.length * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i]!;
      if (!Number.isInteger(index) || index < 0 || 2 * index >= words.length) throw new RangeError(`no node ${index} at level ${level}`);
      view.setUint32(8 * i, words[2 * index]!);
      view.setUint32(8 * i + 4, words[2 * index + 1]!);
    }
    return out;
  }

  private addToLeaf(bucket: number, sign: 1 | -1, h: Hash64): void {
    const leaf = this.levels[this.depth]!;
    const i = 2 * bucket;
    // Sum (or difference) mod 2^64 on uint32 halves.
    const lo = sign === 1 ? leaf[i + 1]! + h.lo : leaf[i + 1]! - h.lo;
    const borrowOrCarry = sign === 1 ? (lo > 0xffffffff ? 1 : 0) : lo < 0 ? -1 : 0;
    leaf[i + 1] = lo >>> 0;
    leaf[i] = (sign === 1 ? leaf[i]! + h.hi : leaf[i]! - h.hi) + borrowOrCarry;
    this.dirtyLeaves.add(bucket);
  }

  /** Recomputes the inner nodes above changed leaves, bottom up. */
  private refresh(): void {
    if (this.dirtyLeaves.size === 0) return;
    let dirty: Set<number> = this.dirtyLeaves;
    for (let level = this.depth - 1; level >= 0; level--) {
      const parents = new Set<number>();
      for (const child of dirty) parents.add(child >>> FANOUT_BITS);
      for (const parent of parents) this.hashChildren(level, parent);
      dirty = parents;
    }
    this.dirtyLeaves.clear();
  }

  private hashChildren(level: number, parent: number): void {
    const children = this.levels[level + 1]!;
    const out = this.levels[level]!;
    const first = 2 * parent * DIGEST_FANOUT;
    let any = 0;
    for (let w = 0; w < 2 * DIGEST_FANOUT; w++) any |= children[first + w]!;
    if (any === 0) {
      // An empty subtree hashes to zero, so an empty tree's root is zero on every member.
      out[2 * parent] = 0;
      out[2 * parent + 1] = 0;
      return;
    }
    const b = this.scratch;
    for (let w = 0; w < 2 * DIGEST_FANOUT; w++) {
      const v = children[first + w]!;
      b[4 * w] = v >>> 24;
      b[4 * w + 1] = v >>> 16;
      b[4 * w + 2] = v >>> 8;
      b[4 * w + 3] = v;
    }
    xxh64Into(b, b.length);
    out[2 * parent] = hashOut[0]! >>> 0;
    out[2 * parent + 1] = hashOut[1]! >>> 0;
  }
}

/** A hash as 8 big-endian bytes (the wire form). */
export function hashBytes(h: Hash64): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.hi);
  view.setUint32(4, h.lo);
  return out;
}

export function hashFromBytes(bytes: Uint8Array, offset = 0): Hash64 | null {
  if (bytes.length < offset + 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  return { hi: view.getUint32(0), lo: view.getUint32(4) };
}

export function sameHash(a: Hash64, b: Hash64): boolean {
  return a.hi === b.hi && a.lo === b.lo;
}

export function hashHex(h: Hash64): string {
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}
