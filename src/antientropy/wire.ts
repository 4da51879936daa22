// The digest RPCs on the wire: bounded (de)serializers for ExchangeRoots, GetLeaves and FetchEntries,
// and the conversions between their messages and the exchange's own types. Repeated fields are counted
// on the raw bytes before anything is decoded.
import { status } from '@grpc/grpc-js';
import type { Decoded } from '../grpc/decode.js';
import { reject } from '../grpc/errors.js';
import type { DigestRoot, DigestRoot__Output } from '../grpc/generated/swimring/v1/DigestRoot.js';
import type { DigestTree__Output } from '../grpc/generated/swimring/v1/DigestTree.js';
import type { ExchangeRootsReply, ExchangeRootsReply__Output } from '../grpc/generated/swimring/v1/ExchangeRootsReply.js';
import type { ExchangeRootsRequest, ExchangeRootsRequest__Output } from '../grpc/generated/swimring/v1/ExchangeRootsRequest.js';
import type { FetchEntriesReply, FetchEntriesReply__Output } from '../grpc/generated/swimring/v1/FetchEntriesReply.js';
import type { FetchEntriesRequest, FetchEntriesRequest__Output } from '../grpc/generated/swimring/v1/FetchEntriesRequest.js';
import type { GetLeavesReply, GetLeavesReply__Output } from '../grpc/generated/swimring/v1/GetLeavesReply.js';
import type { GetLeavesRequest, GetLeavesRequest__Output } from '../grpc/generated/swimring/v1/GetLeavesRequest.js';
import { MAX_MEMBER_RECORD_BYTES, type ControlPlaneLimits } from '../grpc/limits.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import type { BoundedMethod } from '../grpc/service.js';
import { scanRepeatedField } from '../grpc/wire-scan.js';
import { decodeClaimRecord, encodeClaimRecord, MAX_ENCODED_CLAIM_BYTES } from '../ownership/canonical.js';
import type { ClaimRecord } from '../ownership/types.js';
import { MAX_FETCH_BUCKETS, MAX_FETCH_CLAIMS, MAX_GETLEAVES_PARENTS, MAX_ROOTS } from './limits.js';
import { hashBytes, hashFromBytes } from './tree.js';
import type { RootInfo, TreeName } from './types.js';

/** A repeated field counted before decoding: its number, name, most entries, largest entry. */
interface FieldBound {
  readonly number: number;
  readonly name: string;
  readonly maxCount: number;
  readonly maxEntryBytes: number;
}

/** Packed repeated uint32 (buckets, parents) cannot be counted by entry; their bytes are bounded instead. */
interface PackedBound {
  readonly number: number;
  readonly name: string;
  readonly maxCount: number;
}

function deserializer<T>(messageName: string, decode: (b: Buffer) => T, bounds: readonly FieldBound[], packed: readonly PackedBound[] = []): (b: Buffer) => Decoded<T> {
  return (bytes) => {
    try {
      for (const bound of [...bounds, ...packed.map((p) => ({ number: p.number, name: p.name, maxCount: MAX_PACKED_CHUNKS, maxEntryBytes: p.maxCount * 5 }))]) {
        const scan = scanRepeatedField(bytes, bound.number);
        if (typeof scan === 'string') return { ok: false, rejection: reject(status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${scan}`) };
        if (scan.count > bound.maxCount) {
          return { ok: false, rejection: reject(status.RESOURCE_EXHAUSTED, 'invalid', `${bound.name}: ${scan.count} entries, at most ${bound.maxCount}`) };
        }
        if (scan.largestBytes > bound.maxEntryBytes) {
          return { ok: false, rejection: reject(status.INVALID_ARGUMENT, 'invalid', `${bound.name}[${scan.largestIndex}]: ${scan.largestBytes} bytes, limit ${bound.maxEntryBytes}`) };
        }
      }
      return { ok: true, value: decode(bytes) };
    } catch (err) {
      return { ok: false, rejection: reject(status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${err instanceof Error ? err.message : String(err)}`) };
    }
  };
}

export interface DigestMethods {
  readonly ExchangeRoots: BoundedMethod<ExchangeRootsRequest, ExchangeRootsRequest__Output, ExchangeRootsReply, ExchangeRootsReply__Output>;
  readonly GetLeaves: BoundedMethod<GetLeavesRequest, GetLeavesRequest__Output, GetLeavesReply, GetLeavesReply__Output>;
  readonly FetchEntries: BoundedMethod<FetchEntriesRequest, FetchEntriesRequest__Output, FetchEntriesReply, FetchEntriesReply__Output>;
}

const ROOT_BYTES = 64;
/** A packed field is one length-delimited chunk when protobuf encoders write it; a few are tolerated. */
const MAX_PACKED_CHUNKS = 4;

export function digestMethods(limits: ControlPlaneLimits): DigestMethods {
  const def = controlPlaneDefinition();
  const roots = (number: number): FieldBound => ({ number, name: 'roots', maxCount: MAX_ROOTS, maxEntryBytes: ROOT_BYTES });
  const members = (number: number): FieldBound => ({ number, name: 'members', maxCount: limits.maxMembers, maxEntryBytes: MAX_MEMBER_RECORD_BYTES });
  const claims = (number: number): FieldBound => ({ number, name: 'claims', maxCount: MAX_FETCH_CLAIMS, maxEntryBytes: MAX_ENCODED_CLAIM_BYTES });
  return {
    ExchangeRoots: {
      name: 'ExchangeRoots',
      path: def.ExchangeRoots.path,
      requestSerialize: def.ExchangeRoots.requestSerialize,
      requestDeserialize: deserializer('swimring.v1.ExchangeRootsRequest', def.ExchangeRoots.requestDeserialize, [roots(2)]),
      responseSerialize: def.ExchangeRoots.responseSerialize,
      responseDeserialize: deserializer('swimring.v1.ExchangeRootsReply', def.ExchangeRoots.responseDeserialize, [roots(1)]),
    },
    GetLeaves: {
      name: 'GetLeaves',
      path: def.GetLeaves.path,
      requestSerialize: def.GetLeaves.requestSerialize,
      requestDeserialize: deserializer('swimring.v1.GetLeavesRequest', def.GetLeaves.requestDeserialize, [], [{ number: 4, name: 'parents', maxCount: MAX_GETLEAVES_PARENTS }]),
      responseSerialize: def.GetLeaves.responseSerialize,
      responseDeserialize: deserializer('swimring.v1.GetLeavesReply', def.GetLeaves.responseDeserialize, [
        { number: 1, name: 'hashes', maxCount: 1, maxEntryBytes: MAX_GETLEAVES_PARENTS * 16 * 8 },
      ]),
    },
    FetchEntries: {
      name: 'FetchEntries',
      path: def.FetchEntries.path,
      requestSerialize: def.FetchEntries.requestSerialize,
      requestDeserialize: deserializer('swimring.v1.FetchEntriesRequest', def.FetchEntries.requestDeserialize, [members(4), claims(5)], [
        { number: 3, name: 'buckets', maxCount: MAX_FETCH_BUCKETS },
      ]),
      responseSerialize: def.FetchEntries.responseSerialize,
      responseDeserialize: deserializer('swimring.v1.FetchEntriesReply', def.FetchEntries.responseDeserialize, [members(1), claims(2)]),
    },
  };
}

export function treeToProto(tree: TreeName): 'DIGEST_TREE_MEMBERS' | 'DIGEST_TREE_CLAIMS' {
  return tree === 'members' ? 'DIGEST_TREE_MEMBERS' : 'DIGEST_TREE_CLAIMS';
}

export function treeFromProto(tree: DigestTree__Output): TreeName | null {
  if (tree === 'DIGEST_TREE_MEMBERS') return 'members';
  if (tree === 'DIGEST_TREE_CLAIMS') return 'claims';
  return null;
}

export function rootsToProto(roots: readonly RootInfo[]): DigestRoot[] {
  return roots.map((r) => ({ tree: treeToProto(r.tree), root: Buffer.from(hashBytes(r.root)), entries: r.entries, leaves: r.leaves }));
}

/** Roots of known trees; unknown tree kinds (a newer peer) are skipped, bad hashes refused. */
export function rootsFromProto(list: readonly DigestRoot__Output[]): RootInfo[] | string {
  const out: RootInfo[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    const tree = treeFromProto(r.tree);
    if (tree === null) continue;
    if (r.root.length !== 8) return `roots[${i}].root: ${r.root.length} bytes, expected 8`;
    const root = hashFromBytes(r.root);
    if (root === null) return `roots[${i}].root: unreadable`;
    if (out.some((o) => o.tree === tree)) return `roots[${i}]: tree ${tree} repeated`;
    out.push({ tree, root, entries: r.entries, leaves: r.leaves });
  }
  return out;
}

/** Records in claim record `version` (default the current one: ../ownership/record-versions.ts). */
export function claimsToProto(records: readonly ClaimRecord[], version?: number): Buffer[] {
  return records.map((r) => Buffer.from(encodeClaimRecord(r, version)));
}

export function claimsFromProto(list: readonly Buffer[], field: string): ClaimRecord[] | string {
  const out: ClaimRecord[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = decodeClaimRecord(list[i]!);
    if (!d.ok) return `${field}[${i}]: ${d.reason}`;
    out.push(d.record);
  }
  return out;
}
