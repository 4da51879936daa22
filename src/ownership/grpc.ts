// The ownership RPCs over gRPC: GetLocalActorIds, AnnounceOwnership, AnnounceExpiry. Served through
// the server's extraMethods hook and called through ControlPlaneClient.unary, so src/grpc keeps its
// channels, limits and error handling. Every request is counted and sized before it is decoded, and
// each claim is decoded with explicit bounds (canonical.ts); a refusal names the field.
import * as grpc from '@grpc/grpc-js';
import { guardedUnary, type UnaryGuard } from '../grpc/guarded-unary.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { checkIncarnation, checkName, checkText, type CallContext } from '../grpc/convert.js';
import type { Decoded } from '../grpc/decode.js';
import { ControlPlaneCallError, isRejection, reject, type RejectReason, type Rejection } from '../grpc/errors.js';
import type { ErrorDetail } from '../grpc/generated/swimring/v1/ErrorDetail.js';
import type { ExpiryAnnouncement, ExpiryAnnouncement__Output } from '../grpc/generated/swimring/v1/ExpiryAnnouncement.js';
import type { GetLocalActorIdsReply, GetLocalActorIdsReply__Output } from '../grpc/generated/swimring/v1/GetLocalActorIdsReply.js';
import type { GetLocalActorIdsRequest, GetLocalActorIdsRequest__Output } from '../grpc/generated/swimring/v1/GetLocalActorIdsRequest.js';
import type { OwnershipAck, OwnershipAck__Output } from '../grpc/generated/swimring/v1/OwnershipAck.js';
import type { OwnershipAnnouncement, OwnershipAnnouncement__Output } from '../grpc/generated/swimring/v1/OwnershipAnnouncement.js';
import { MAX_LIFE_ID_BYTES, MAX_NAME_BYTES, MAX_SHORT_STRING_BYTES } from '../grpc/limits.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import type { BoundedMethod, ExtraMethods } from '../grpc/service.js';
import { scanRepeatedField } from '../grpc/wire-scan.js';
import { decodeClaimRecord, encodeClaimRecord, MAX_ENCODED_CLAIM_BYTES } from './canonical.js';
import { decodePageToken, encodePageToken, resolvePageSize } from './paging.js';
import { PeerRecordVersions, recordVersionForCaller } from './record-versions.js';
import { MAX_RELAY_TARGETS } from './relay.js';
import { MAX_CLAIMS_PER_ANNOUNCEMENT, type AnnounceAck, type ClaimService, type ClaimTransport, type Peer, type RelayPart, type Self } from './service.js';
import type { ClaimRecord, MergeOutcome } from './types.js';

/** Field numbers of the repeated claim fields (proto/swimring/v1/control_plane.proto). */
const ANNOUNCEMENT_CLAIMS_FIELD = 7;
const ANNOUNCEMENT_RELAY_TO_FIELD = 9;
const ANNOUNCEMENT_RELAYED_FIELD = 10;
const EXPIRY_RELEASES_FIELD = 6;
const EXPIRY_RELAY_TO_FIELD = 8;
const ACK_CONFLICTS_FIELD = 2;
const GET_IDS_REPLY_IDS_FIELD = 1;
/** One OwnershipConflict: id, owner name and an encoded winner, with their tags and lengths. */
const MAX_CONFLICT_BYTES = MAX_ENCODED_CLAIM_BYTES + 600;
/**
 * An announcement at its bounds: every claim at its largest encoding with its tag and length, plus the
 * header and the other fields. Sized by the claim bounds, not by the cluster.
 */
export const MAX_ANNOUNCEMENT_BYTES =
  2 * MAX_CLAIMS_PER_ANNOUNCEMENT * (MAX_ENCODED_CLAIM_BYTES + 4) + MAX_RELAY_TARGETS * (MAX_NAME_BYTES + 3) + 16 * 1024;
/** Most ids a GetLocalActorIds page may carry. */
export const MAX_PAGE_IDS = 10_000;

interface RepeatedBound {
  readonly fieldNumber: number;
  readonly field: string;
  readonly maxCount: number;
  readonly maxEntryBytes: number;
}

/** Counts and sizes the repeated fields before decoding; never throws. */
function claimDeserializer<T>(messageName: string, decode: (bytes: Buffer) => T, bounds: readonly RepeatedBound[]): (bytes: Buffer) => Decoded<T> {
  return (bytes) => {
    try {
      for (const bound of bounds) {
        const scan = scanRepeatedField(bytes, bound.fieldNumber);
        if (typeof scan === 'string') return refused(reject(grpc.status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${scan}`));
        if (scan.count > bound.maxCount) {
          return refused(reject(grpc.status.RESOURCE_EXHAUSTED, 'invalid', `${bound.field}: ${scan.count} entries, limit ${bound.maxCount}`));
        }
        if (scan.largestBytes > bound.maxEntryBytes) {
          return refused(
            reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${bound.field}[${scan.largestIndex}]: ${scan.largestBytes} bytes, limit ${bound.maxEntryBytes}`),
          );
        }
      }
      return { ok: true, value: decode(bytes) };
    } catch (err) {
      return refused(reject(grpc.status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${err instanceof Error ? err.message : String(err)}`));
    }
  };
}

function refused(rejection: Rejection): Decoded<never> {
  return { ok: false, rejection };
}

export interface OwnershipMethods {
  readonly GetLocalActorIds: BoundedMethod<GetLocalActorIdsRequest, GetLocalActorIdsRequest__Output, GetLocalActorIdsReply, GetLocalActorIdsReply__Output>;
  readonly AnnounceOwnership: BoundedMethod<OwnershipAnnouncement, OwnershipAnnouncement__Output, OwnershipAck, OwnershipAck__Output>;
  readonly AnnounceExpiry: BoundedMethod<ExpiryAnnouncement, ExpiryAnnouncement__Output, OwnershipAck, OwnershipAck__Output>;
}

let cachedMethods: OwnershipMethods | undefined;

export function ownershipMethods(): OwnershipMethods {
  if (cachedMethods) return cachedMethods;
  const def = controlPlaneDefinition();
  const claimsBound = (fieldNumber: number, field: string): RepeatedBound => ({
    fieldNumber,
    field,
    maxCount: MAX_CLAIMS_PER_ANNOUNCEMENT,
    maxEntryBytes: MAX_ENCODED_CLAIM_BYTES,
  });
  const ackBound: RepeatedBound = { fieldNumber: ACK_CONFLICTS_FIELD, field: 'conflicts', maxCount: MAX_CLAIMS_PER_ANNOUNCEMENT, maxEntryBytes: MAX_CONFLICT_BYTES };
  const relayToBound = (fieldNumber: number): RepeatedBound => ({ fieldNumber, field: 'relay_to', maxCount: MAX_RELAY_TARGETS, maxEntryBytes: MAX_NAME_BYTES });
  const m = <ReqIn, ReqOut, ResIn, ResOut>(
    name: string,
    d: { path: string; requestSerialize: (v: ReqIn) => Buffer; requestDeserialize: (b: Buffer) => ReqOut; responseSerialize: (v: ResIn) => Buffer; responseDeserialize: (b: Buffer) => ResOut },
    requestBounds: readonly RepeatedBound[],
    responseBound: RepeatedBound,
    maxRequestBytes?: number,
  ): BoundedMethod<ReqIn, ReqOut, ResIn, ResOut> => ({
    ...(maxRequestBytes ? { maxRequestBytes } : {}),
    name,
    path: d.path,
    requestSerialize: d.requestSerialize,
    requestDeserialize: claimDeserializer(`swimring.v1.${name} request`, d.requestDeserialize, requestBounds),
    responseSerialize: d.responseSerialize,
    responseDeserialize: claimDeserializer(`swimring.v1.${name} reply`, d.responseDeserialize, [responseBound]),
  });
  cachedMethods = {
    GetLocalActorIds: m('GetLocalActorIds', def.GetLocalActorIds, [], {
      fieldNumber: GET_IDS_REPLY_IDS_FIELD,
      field: 'ids',
      maxCount: MAX_PAGE_IDS,
      maxEntryBytes: 255,
    }),
    AnnounceOwnership: m(
      'AnnounceOwnership',
      def.AnnounceOwnership,
      [claimsBound(ANNOUNCEMENT_CLAIMS_FIELD, 'claims'), claimsBound(ANNOUNCEMENT_RELAYED_FIELD, 'relayed'), relayToBound(ANNOUNCEMENT_RELAY_TO_FIELD)],
      ackBound,
      MAX_ANNOUNCEMENT_BYTES,
    ),
    AnnounceExpiry: m(
      'AnnounceExpiry',
      def.AnnounceExpiry,
      [claimsBound(EXPIRY_RELEASES_FIELD, 'releases'), relayToBound(EXPIRY_RELAY_TO_FIELD)],
      ackBound,
      MAX_ANNOUNCEMENT_BYTES,
    ),
  };
  return cachedMethods;
}

// ---------------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------------

export interface OwnershipServerDeps {
  readonly service: ClaimService;
  /** Throws a ControlPlaneError (label mismatch, missing key proof) to refuse the call. */
  readonly checkContext: (context: CallContext) => void;
  readonly tableVersion: () => string;
  readonly defaultPageSize: number;
  readonly onReject?: (rpc: string, reason: RejectReason, detail: string) => void;
  /** Runs an announcement's merge as an input of the member that runs the claims; default: directly. */
  readonly step?: <T>(op: (service: ClaimService) => T) => T;
}

export function ownershipExtraMethods(deps: OwnershipServerDeps): ExtraMethods {
  const methods = ownershipMethods();
  const step = deps.step ?? (<T>(op: (service: ClaimService) => T): T => op(deps.service));
  const guard: UnaryGuard = {
    checkContext: deps.checkContext,
    onReject: (rpc, rejection) => deps.onReject?.(rpc, rejection.reason, rejection.message),
  };
  return {
    GetLocalActorIds: {
      requestDeserialize: methods.GetLocalActorIds.requestDeserialize,
      handler: guardedUnary<GetLocalActorIdsRequest__Output, GetLocalActorIdsReply>('GetLocalActorIds', guard, (req) => {
        const after = decodePageToken(req.pageToken);
        if (after === null) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', 'page_token: not a token this member issued');
        const limit = resolvePageSize(req.limit, deps.defaultPageSize, MAX_PAGE_IDS);
        const page = deps.service.localIds(limit, after);
        const last = page.ids[page.ids.length - 1];
        return { ids: page.ids, nextPageToken: page.more && last !== undefined ? encodePageToken(last) : '', tableVersion: deps.tableVersion() };
      }),
    },
    AnnounceOwnership: {
      requestDeserialize: methods.AnnounceOwnership.requestDeserialize,
      maxRequestBytes: MAX_ANNOUNCEMENT_BYTES,
      handler: guardedUnary<OwnershipAnnouncement__Output, OwnershipAck>('AnnounceOwnership', guard, (req) => {
        const relayed = relayedRecords(req.relayed);
        if (isRejection(relayed)) return relayed;
        const records = announcedRecords(req, req.claims, 'claims', false, relayed.length > 0);
        if (isRejection(records)) return records;
        const relayTo = relayTargets(req.relayTo);
        if (isRejection(relayTo)) return relayTo;
        const { outcome, winners } = step((service) => {
          const received = service.receiveClaims(records, wallMsOf(req.sentAtMs));
          service.receiveRelay(req.owner, relayTo, records, relayed);
          return received;
        });
        return ackOf(outcome, winners, deps.service, recordVersionForCaller(req.header?.claimRecordVersion ?? 0));
      }),
    },
    AnnounceExpiry: {
      requestDeserialize: methods.AnnounceExpiry.requestDeserialize,
      maxRequestBytes: MAX_ANNOUNCEMENT_BYTES,
      handler: guardedUnary<ExpiryAnnouncement__Output, OwnershipAck>('AnnounceExpiry', guard, (req) => {
        const records = announcedRecords(req, req.releases, 'releases', true);
        if (isRejection(records)) return records;
        const relayTo = relayTargets(req.relayTo);
        if (isRejection(relayTo)) return relayTo;
        const outcome = step((service) => {
          const received = service.receiveReleases(records, wallMsOf(req.sentAtMs));
          service.receiveRelay(req.owner, relayTo, records, []);
          return received;
        });
        return ackOf(outcome, [], deps.service, recordVersionForCaller(req.header?.claimRecordVersion ?? 0));
      }),
    },
  };
}

interface Announced {
  readonly owner: string;
  readonly ownerIncarnation: string;
  readonly ownerLifeId: string;
  readonly ids: readonly string[];
}

/** Other owners' records a relay forwarded, each decoded within bounds (whoever their owner). */
function relayedRecords(encoded: readonly Buffer[]): ClaimRecord[] | Rejection {
  const out: ClaimRecord[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const decoded = decodeClaimRecord(encoded[i] ?? Buffer.alloc(0));
    if (!decoded.ok) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `relayed[${i}]: ${decoded.reason}`);
    out.push(decoded.record);
  }
  return out;
}

/** The member names an announcement asks to be forwarded to. */
function relayTargets(names: readonly string[]): string[] | Rejection {
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = checkName(names[i] ?? '', `relay_to[${i}]`);
    if (isRejection(name)) return name;
    out.push(name);
  }
  return out;
}

/**
 * The claims of one announcement, every one decoded, bounded and made by the announcing owner. Empty
 * only when the call carries relayed records (`mayBeEmpty`).
 */
function announcedRecords(req: Announced, encoded: readonly Buffer[], field: string, released: boolean, mayBeEmpty = false): ClaimRecord[] | Rejection {
  if (req.ids.length > 0) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `ids: unused since claims carry their times; send ${field}`);
  const owner = checkName(req.owner, 'owner');
  if (isRejection(owner)) return owner;
  const incarnation = checkIncarnation(req.ownerIncarnation, 'ownerIncarnation');
  if (isRejection(incarnation)) return incarnation;
  const lifeId = checkText(req.ownerLifeId, 'owner_life_id', 1, MAX_LIFE_ID_BYTES);
  if (isRejection(lifeId)) return lifeId;
  if (encoded.length === 0 && !mayBeEmpty) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${field}: empty`);
  const out: ClaimRecord[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const decoded = decodeClaimRecord(encoded[i] ?? Buffer.alloc(0));
    if (!decoded.ok) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${field}[${i}]: ${decoded.reason}`);
    const r = decoded.record;
    if (r.owner !== owner || r.ownerLifeId !== lifeId) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${field}[${i}]: not a claim of ${owner} (life ${lifeId})`);
    if (r.released !== released) return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${field}[${i}]: released must be ${released}`);
    out.push(r);
  }
  return out;
}

/** A uint64 wall clock field: undefined when absent (0) or not a safe integer. */
function wallMsOf(field: string): number | undefined {
  const ms = Number(field);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

function ackOf(outcome: MergeOutcome, winners: readonly ClaimRecord[], service: ClaimService, recordVersion: number): OwnershipAck {
  const clocks = service.clockGuard;
  const conflicts = winners.map((w) => ({ id: w.id, owner: w.owner, winner: Buffer.from(encodeClaimRecord(w, recordVersion)) }));
  const limit = outcome.rejected.find((r) => r.reason === 'limit');
  const gone = outcome.rejected.find((r) => r.reason === 'owner-gone');
  const skewed = outcome.rejected.find((r) => r.reason === 'clock-skew');
  const receiverWallMs = String(clocks.wallNow());
  let error: ErrorDetail | null = null;
  if (skewed !== undefined) {
    const offset = clocks.offsetOf(skewed.record.owner);
    error = {
      code: 'ERROR_CODE_CLOCK_SKEW',
      message:
        `claims of ${skewed.record.owner} refused: its clock is ${offset === undefined ? 'ahead' : `off by ${offset} ms`} ` +
        `from this member's, beyond the ${clocks.maxSkewMs} ms tolerance`,
      retriable: true,
      retryAfterMs: 1000,
    };
  } else if (limit !== undefined) {
    error = {
      code: 'ERROR_CODE_TOO_LARGE',
      message: `claim ${JSON.stringify(limit.record.id)} refused: ${limit.detail ?? 'claim limit reached on this member'}`,
      retriable: false,
      field: 'claims',
    };
  } else if (gone !== undefined) {
    error = {
      code: 'ERROR_CODE_UNAVAILABLE',
      message: `${gone.record.owner} (life ${gone.record.ownerLifeId}) is dead, left or restarted in this member's view`,
      retriable: true,
      retryAfterMs: 1000,
    };
  }
  const accepted = outcome.rejected.length === 0 && conflicts.length === 0;
  return { accepted, conflicts, receiverWallMs, relays: service.announcer.relays.enabled(), ...(error ? { error } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------------

/**
 * Announcements over the agent's control-plane client. Records go in the version each peer reads
 * (record-versions.ts): a member of an earlier release gets version 1 rather than a refusal.
 */
export function grpcClaimTransport(client: ControlPlaneClient, versions: PeerRecordVersions = new PeerRecordVersions()): ClaimTransport {
  const methods = ownershipMethods();
  // Both announcements carry the owner's identity and the encoded records; only the field that holds
  // the records differs (claims for an announcement, releases for an expiry).
  // The relay fields go only to a peer whose ack said it relays (announcer.ts, relay.ts).
  const announcement = (self: Self, records: readonly ClaimRecord[], sentAtMs: number, version: number, relay: RelayPart | undefined) => ({
    owner: self.name,
    ownerIncarnation: String(self.incarnation),
    ownerLifeId: self.lifeId,
    encoded: records.map((r) => Buffer.from(encodeClaimRecord(r, version))),
    sentAtMs: String(sentAtMs),
    relayTo: [...(relay?.relayTo ?? [])],
  });
  return {
    async announce(peer, self, records, timeoutMs, sentAtMs, relay): Promise<AnnounceAck> {
      const reply = await versions.send(peer.grpcAddr, (version) => {
        const { encoded, ...fields } = announcement(self, records, sentAtMs, version, relay);
        const relayed = (relay?.relayed ?? []).map((r) => Buffer.from(encodeClaimRecord(r, version)));
        return client.unary(methods.AnnounceOwnership, peer.grpcAddr, (header) => ({ header, ...fields, claims: encoded, relayed }), timeoutMs);
      });
      return ackFromReply('AnnounceOwnership', peer.grpcAddr, reply);
    },
    async expire(peer, self, records, timeoutMs, sentAtMs, relay): Promise<AnnounceAck> {
      const reply = await versions.send(peer.grpcAddr, (version) => {
        const { encoded, ...fields } = announcement(self, records, sentAtMs, version, relay);
        return client.unary(methods.AnnounceExpiry, peer.grpcAddr, (header) => ({ header, ...fields, releases: encoded }), timeoutMs);
      });
      return ackFromReply('AnnounceExpiry', peer.grpcAddr, reply);
    },
  };
}

/** The winners a peer sent back, each decoded within bounds; a malformed one fails the call. */
function ackFromReply(rpc: string, addr: string, reply: OwnershipAck__Output): AnnounceAck {
  const winners: ClaimRecord[] = [];
  for (let i = 0; i < reply.conflicts.length; i++) {
    const c = reply.conflicts[i];
    const decoded = c === undefined ? null : decodeClaimRecord(c.winner);
    if (decoded === null || !decoded.ok) {
      throw new ControlPlaneCallError(rpc, addr, grpc.status.INVALID_ARGUMENT, `${rpc} reply from ${addr} refused: conflicts[${i}].winner: ${decoded?.reason ?? 'missing'}`);
    }
    winners.push(decoded.record);
  }
  const receiverWallMs = wallMsOf(reply.receiverWallMs);
  return { accepted: reply.accepted, winners, relays: reply.relays, ...(receiverWallMs === undefined ? {} : { receiverWallMs }) };
}

/** GetLocalActorIds against a peer (CLI, tests): one page. */
export async function getLocalActorIds(
  client: ControlPlaneClient,
  addr: string,
  limit: number,
  pageToken: string,
  timeoutMs: number,
): Promise<{ ids: string[]; nextPageToken: string; tableVersion: string }> {
  const reply = await client.unary(ownershipMethods().GetLocalActorIds, addr, (header) => ({ header, limit, pageToken }), timeoutMs);
  const token = checkText(reply.nextPageToken, 'next_page_token', 0, 2048);
  if (isRejection(token)) throw new ControlPlaneCallError('GetLocalActorIds', addr, grpc.status.INVALID_ARGUMENT, token.message);
  const version = checkText(reply.tableVersion, 'table_version', 0, MAX_SHORT_STRING_BYTES);
  if (isRejection(version)) throw new ControlPlaneCallError('GetLocalActorIds', addr, grpc.status.INVALID_ARGUMENT, version.message);
  return { ids: reply.ids, nextPageToken: token, tableVersion: version };
}
