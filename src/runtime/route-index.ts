// Route answers for one ownership table, as objects (route) and as pre-encoded JSON (RouteEncoder, the
// HTTP hot path). Building an index is O(members), not O(shards): the table has up to hundreds of
// thousands of shards and the index is renewed on every change of the member view. A lookup is hash +
// jump + typed-array reads.
//
// The JSON after an answer's shard number (owner, replicas, version) depends only on the shard's
// (owner, replicas) combination, and a cluster has far fewer combinations than shards: it is encoded
// once per combination, on first use, and found again through a per-shard id in a Uint16Array (no
// pointer array for the garbage collector to walk, allocated only once something is routed).
import type { MemberRecord } from '../core/types.js';
import type { PlacementTable } from '../placement/index.js';
import { answerWriter, jsTailStore, type AnswerWriter } from './answer-writer.js';
import { jsonString, ownerJson, tailJson } from './route-json.js';
import type { TailStore } from './tail-store.js';
import type { AnswerLayout, RouteAnswer, RouteEncoder, RouteOwner } from './view.js';

interface Tail {
  readonly owner: RouteOwner | null;
  readonly replicas: readonly RouteOwner[];
  readonly json: string;
  /** The compact layout's tail: member indexes instead of member objects, no version. */
  readonly compactJson: string;
}

/**
 * Combinations kept encoded per index. Ten members with two replicas have at most 720; at a thousand
 * members nearly every shard is its own combination, and past this bound tails are encoded per request
 * (correct, slower) rather than letting the cache grow to the shard count (~420 bytes each).
 */
export const MAX_CACHED_TAILS = 8192; // below 2^16: tail ids are stored in a Uint16Array

export class RouteIndex implements RouteEncoder {
  /** RouteOwner per member index of the table. */
  private readonly owners: readonly RouteOwner[];
  private readonly ownerJsons: readonly string[];
  private readonly versionJson: string;
  /**
   * Per shard: 1 + index into `tails`, 0 when not encoded yet (16 bits suffice: MAX_CACHED_TAILS; half the
   * bytes of an Int32Array keep more of this randomly read array in cache, 512 KB at 2^18 shards), and every
   * cached tail's bytes per layout: a batch answer then costs one read of the ids and a copy from an arena
   * (the compact one is small enough to stay in cache), instead of following a Tail object to its bytes.
   * Where the answer writer reads them (./tail-store.ts); allocated on the first answer (an index nobody
   * asks costs no 2-byte-per-shard array).
   */
  private store: TailStore | null = null;
  private readonly tails: Tail[] = [];
  private readonly tailIds = new Map<number | string, number>();
  /** Where the last writeAnswerRun stopped writing. */
  runEnd = 0;
  private readonly runCursor = { at: 0 };
  /** The last tail cachedTailId encoded, read only when it was not cached (id 0). */
  private uncachedTail: Tail | null = null;

  /** `writer`: the answer writer of the tables' fast path unless a test picks one (null: JS only). */
  constructor(
    private readonly table: PlacementTable,
    records: ReadonlyMap<string, MemberRecord>,
    private readonly writer: AnswerWriter | null = answerWriter,
  ) {
    this.owners = table.members.map((name) => toOwner(name, records.get(name)));
    this.ownerJsons = this.owners.map(ownerJson);
    this.versionJson = jsonString(table.version);
  }

  /**
   * The index for `table` and `records`: this one when nothing its answers show has changed (same table,
   * same owners' addresses and serving flags), so its encoded answers are kept.
   */
  next(table: PlacementTable, records: ReadonlyMap<string, MemberRecord>): RouteIndex {
    if (table === this.table) {
      let same = true;
      for (let m = 0; m < this.owners.length && same; m++) same = ownerJson(toOwner(table.members[m]!, records.get(table.members[m]!))) === this.ownerJsons[m];
      if (same) return this;
    }
    return new RouteIndex(table, records, this.writer);
  }

  get version(): string {
    return this.table.version;
  }

  shardOf(key: string): number {
    return this.table.shardOf(key);
  }

  route(key: string): RouteAnswer {
    const shard = this.table.shardOf(key);
    const tail = this.tailAt(shard);
    return { key, shard, owner: tail.owner, replicas: tail.replicas, version: this.table.version };
  }

  tailOf(_key: string, shard: number): Uint8Array {
    const id = this.cachedTailId(shard);
    if (id === 0) return Buffer.from(this.uncachedTail!.json, 'utf8'); // past MAX_CACHED_TAILS
    return this.tailStore().fullTail(id);
  }

  answerText(key: string): string {
    if (this.writer !== null) {
      const text = this.writer.answerText(this.tailStore(), key);
      if (text !== undefined) return text;
    }
    // Keys to escape, past the writer's bound, or a shard whose tail is not cached yet (cached now).
    const shard = this.table.shardOf(key);
    return `{"key":${jsonString(key)},"shard":${shard}${this.tailAt(shard).json}`;
  }

  get memberCount(): number {
    return this.owners.length;
  }

  /** The table member's answer object (shared: do not modify). */
  owner(member: number): RouteOwner {
    return this.owners[member]!;
  }

  memberJson(member: number): string {
    return this.ownerJsons[member]!;
  }

  get compactTailRoom(): number {
    // ,"owner": + up to 10 digits + ,"replicas":[ + (up to 10 digits and a comma) per replica + ]}
    return 9 + 10 + 13 + 11 * this.table.replicaCount + 2;
  }

  writeCompactTail(shard: number, out: Uint8Array, at: number): number {
    const id = this.cachedTailId(shard);
    if (id === 0) {
      // Past MAX_CACHED_TAILS: encoded for this request only.
      const bytes = Buffer.from(this.uncachedTail!.compactJson, 'latin1');
      out.set(bytes, at);
      return at + bytes.length;
    }
    const { bytes: arena, offsets } = this.tailStore().arena('compact');
    for (let i = offsets[id - 1]!, end = offsets[id]!; i < end; i++) out[at++] = arena[i]!;
    return at;
  }

  /**
   * Writes the answers of keys[from], keys[from + 1], … in `layout` into `out` from `at` with the answer
   * writer (wasm), for as long as it can: returns the index of the first key it did not write
   * (keys.length when it wrote them all; `from` without a writer) and leaves the end of what it wrote in runEnd. The caller
   * writes that key in JS (it may be a key to escape, a shard whose tail is not cached yet, or `out` may be
   * full) and calls again from the next. Every answer but the batch's first (index 0) starts with a comma.
   */
  writeAnswerRun(layout: AnswerLayout, keys: readonly string[], from: number, out: Uint8Array, at: number): number {
    this.runEnd = at;
    if (this.writer === null || from >= keys.length) return from;
    const next = this.writer.run(this.tailStore(), layout, keys, from, out, at, this.runCursor);
    this.runEnd = this.runCursor.at;
    return next;
  }

  /**
   * The shard's tail id, encoding and caching its tail first if needed; 0 past MAX_CACHED_TAILS, and then
   * the tail encoded for this one use is in uncachedTail.
   */
  private cachedTailId(shard: number): number {
    const ids = this.tailIdsByShard();
    const id = ids[shard]!;
    if (id !== 0) return id;
    this.uncachedTail = this.encodeShard(ids, shard);
    return this.tailIdsByShard()[shard]!; // ids may have moved (a WasmTailStore's memory grows)
  }


  private tailAt(shard: number): Tail {
    const id = this.cachedTailId(shard);
    return id > 0 ? this.tails[id - 1]! : this.uncachedTail!;
  }

  private tailStore(): TailStore {
    return (this.store ??= this.writer === null ? jsTailStore(this.table.shards) : this.writer.newStore(this.table.shards, this));
  }

  /** Tail id per shard: a view, taken again after anything that may move it (caching a tail). */
  private tailIdsByShard(): Uint16Array {
    return this.tailStore().ids();
  }

  private encodeShard(ids: Uint16Array, shard: number): Tail {
    const t = this.table;
    const width = t.replicaCount;
    const m = t.ownerIndex[shard]!;
    // Member indexes + 1 in base n + 1: exact while it stays below 2^53, a string beyond.
    const base = t.members.length + 1;
    let combo: number | string = m + 1;
    for (let r = 0; r < width; r++) combo = combo * base + t.replicaIndex[shard * width + r]! + 1;
    if (combo > Number.MAX_SAFE_INTEGER) {
      combo = String(m);
      for (let r = 0; r < width; r++) combo += `,${t.replicaIndex[shard * width + r]!}`;
    }
    const known = this.tailIds.get(combo);
    if (known !== undefined) {
      ids[shard] = known;
      return this.tails[known - 1]!;
    }
    const [owner = -1, ...replicaIndexes] = this.servingRanking(m, t.replicaIndex, shard * width, width);
    const replicas = replicaIndexes.map((i) => this.owners[i]!);
    const json = tailJson(owner < 0 ? 'null' : this.ownerJsons[owner]!, replicaIndexes.map((i) => this.ownerJsons[i]!), this.versionJson);
    const compactJson = `,"owner":${owner < 0 ? 'null' : owner},"replicas":[${replicaIndexes.join(',')}]}`;
    const tail: Tail = { owner: owner < 0 ? null : this.owners[owner]!, replicas: Object.freeze(replicas), json, compactJson };
    if (this.tails.length >= MAX_CACHED_TAILS) return tail;
    this.tails.push(tail);
    this.tailStore().append(this.tails.length, Buffer.from(json, 'utf8'), Buffer.from(compactJson, 'utf8'));
    this.tailIds.set(combo, this.tails.length);
    this.tailIdsByShard()[shard] = this.tails.length;
    return tail;
  }

  /**
   * The shard's ranking in the table (owner, then replicas), without the members that no longer serve.
   * The table only counts serving members, but its rebuild runs after the view changed: until it is done
   * a member that has just stopped serving (draining, app unready) is still in it. Its shards go to the
   * next member of each ranking (a leaver is removed from every ranking, docs/placement.md), so that
   * member is answered at once rather than an owner that says it does not serve. Unchanged when none
   * of them serves.
   */
  private servingRanking(owner: number, replicaIndex: ArrayLike<number>, from: number, width: number): number[] {
    const ranking = owner < 0 ? [] : [owner];
    for (let r = 0; r < width && owner >= 0; r++) ranking.push(replicaIndex[from + r]!);
    const serving = ranking.filter((i) => this.owners[i]!.serving);
    return serving.length > 0 ? serving : ranking;
  }
}

function toOwner(name: string, r: MemberRecord | undefined): RouteOwner {
  return {
    name,
    addresses: { gossip: r?.gossipAddr ?? '', grpc: r?.grpcAddr ?? '', app: r?.meta.appAddr ?? '' },
    serving: r?.meta.serving ?? false,
  };
}
