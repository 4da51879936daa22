// Per-shard member indexes (owner, replicas) are most of a table's memory: shards x (1 + replicas) of
// them, kept by every sidecar and copied from the build worker. They are stored in the narrowest signed
// array that holds every index and the -1 of "no owner": one byte each up to 127 members, so a table of
// 2^18 shards and two replicas takes 0.75 MB instead of 3 MB.

export type MemberIndexArray = Int8Array | Int16Array | Int32Array;

/** A zeroed array of `length` member indexes for a table of `members` members. */
export function memberIndexArray(members: number, length: number): MemberIndexArray {
  if (members <= 0x7f) return new Int8Array(length);
  if (members <= 0x7fff) return new Int16Array(length);
  return new Int32Array(length);
}
