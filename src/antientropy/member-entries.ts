// The member table as digest entries: key = member name, bytes = a canonical encoding of the record
// (every field that a merge looks at, tags in key order), so two members holding the same record
// produce the same bytes.
import type { MemberRecord } from '../core/types.js';
import type { DigestTree } from './tree.js';

const encoder = new TextEncoder();
const STATE_CODE = { alive: 1, suspect: 2, dead: 3, left: 4 } as const;

export function memberBytes(r: MemberRecord): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const text = (s: string): void => {
    const b = encoder.encode(s);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    parts.push(len, b);
    size += 4 + b.length;
  };
  text(r.name);
  text(r.lifeId);
  const fixed = new Uint8Array(10);
  const view = new DataView(fixed.buffer);
  view.setFloat64(0, r.incarnation);
  fixed[8] = STATE_CODE[r.state];
  fixed[9] = r.meta.serving ? 1 : 0;
  parts.push(fixed);
  size += fixed.length;
  text(r.gossipAddr);
  text(r.grpcAddr);
  text(r.meta.appAddr);
  for (const key of Object.keys(r.meta.tags).sort()) {
    text(key);
    text(r.meta.tags[key] ?? '');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Keeps a tree equal to a member list (the core's full state, tombstones included). Records are
 * immutable and replaced on change, so a record seen before is skipped without re-encoding.
 */
export class MemberDigest {
  private readonly seen = new Map<string, MemberRecord>();

  constructor(readonly tree: DigestTree) {}

  /** Brings the tree in step with `records`; returns how many entries changed. */
  sync(records: readonly MemberRecord[]): number {
    let changed = 0;
    const present = new Set<string>();
    for (const r of records) {
      present.add(r.name);
      if (this.seen.get(r.name) === r) continue;
      this.seen.set(r.name, r);
      if (this.tree.set(r.name, memberBytes(r))) changed++;
    }
    if (present.size !== this.seen.size) {
      for (const name of [...this.seen.keys()]) {
        if (present.has(name)) continue;
        this.seen.delete(name);
        if (this.tree.set(name, null)) changed++;
      }
    }
    return changed;
  }

  /** The records held in some buckets, as last synced. */
  recordsIn(buckets: readonly number[]): MemberRecord[] {
    const out: MemberRecord[] = [];
    for (const b of buckets) for (const name of this.tree.keysIn(b)) {
      const r = this.seen.get(name);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
