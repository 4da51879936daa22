// The claim store as digest entries: key = the record's slot (owner, id), bytes = its canonical
// encoding. Kept current from the store's change feed, one record at a time, so a round never rehashes
// the whole store.
import { encodeClaimRecord } from '../ownership/canonical.js';
import { claimSlotKey, type ClaimChange, type ClaimRecord, type ClaimStoreView } from '../ownership/types.js';
import type { DigestTree } from './tree.js';

export class ClaimDigest {
  private readonly records = new Map<string, ClaimRecord>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly tree: DigestTree,
    store: ClaimStoreView,
  ) {
    for (const r of store.entries()) this.put(r);
    this.unsubscribe = store.onChange((change) => this.onChange(change));
  }

  close(): void {
    this.unsubscribe();
  }

  /** The records held in some buckets. */
  recordsIn(buckets: readonly number[]): ClaimRecord[] {
    const out: ClaimRecord[] = [];
    for (const b of buckets) for (const key of this.tree.keysIn(b)) {
      const r = this.records.get(key);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  private onChange(change: ClaimChange): void {
    if (change.kind === 'set') {
      this.put(change.record);
    } else {
      const key = claimSlotKey(change.record.id, change.record.owner);
      this.records.delete(key);
      this.tree.set(key, null);
    }
  }

  private put(record: ClaimRecord): void {
    const key = claimSlotKey(record.id, record.owner);
    this.records.set(key, record);
    this.tree.set(key, encodeClaimRecord(record));
  }
}
