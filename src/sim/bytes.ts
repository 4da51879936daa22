// How the simulator counts bytes. UDP packets are counted at their exact encoded size; negotiate and
// closing RPCs (gRPC in the runtime) are counted with an estimate of their payload, kept apart.
import { PACKET_OVERHEAD, messageSize, updateSize } from '../codec/index.js';
import type { MemberRecord, Packet, Update } from '../core/types.js';

// A core sends the same Update object many times (piggybacked up to its retransmit limit, to several
// members), so its size is computed once. Updates are immutable, so a cached size cannot go stale.
const updateSizes = new WeakMap<Update, number>();

/** Exact encoded size of a UDP packet, as the codec would write it (= packetSize from src/codec). */
export function packetBytes(packet: Packet): number {
  let size = PACKET_OVERHEAD;
  if (packet.message !== null) size += messageSize(packet.message);
  for (const u of packet.updates) {
    let n = updateSizes.get(u);
    if (n === undefined) {
      n = updateSize(u);
      updateSizes.set(u, n);
    }
    size += n;
  }
  return size;
}

/** Estimated protobuf size of one member record in a Negotiate request or reply. */
export function recordBytes(r: MemberRecord): number {
  let tags = 0;
  for (const key in r.meta.tags) tags += 4 + key.length + (r.meta.tags[key] ?? '').length;
  // Field tags and length prefixes: about 2 bytes per field, 9 fields.
  return 18 + r.name.length + r.lifeId.length + 8 + 1 + r.gossipAddr.length + r.grpcAddr.length + r.meta.appAddr.length + 1 + tags;
}

// A full-state exchange carries every record a member holds, and thousands of members hold the very
// same record objects: each record's estimate is worked out once (records are immutable).
const recordSizes = new WeakMap<MemberRecord, number>();

export function recordsBytes(records: readonly MemberRecord[]): number {
  let total = 0;
  for (const r of records) {
    let n = recordSizes.get(r);
    if (n === undefined) {
      n = recordBytes(r);
      recordSizes.set(r, n);
    }
    total += n;
  }
  return total;
}
