// The ControlPlane methods with bounded deserializers on both sides (see decode.ts). Server and
// client share these so a request and a reply are held to the same limits.
import type * as grpc from '@grpc/grpc-js';
import { boundedDeserializer, type Decoded } from './decode.js';
import type { ClosingReply, ClosingReply__Output } from './generated/swimring/v1/ClosingReply.js';
import type { ClosingRequest, ClosingRequest__Output } from './generated/swimring/v1/ClosingRequest.js';
import type { NegotiateReply, NegotiateReply__Output } from './generated/swimring/v1/NegotiateReply.js';
import type { NegotiateRequest, NegotiateRequest__Output } from './generated/swimring/v1/NegotiateRequest.js';
import type { PingReply, PingReply__Output } from './generated/swimring/v1/PingReply.js';
import type { PingRequest, PingRequest__Output } from './generated/swimring/v1/PingRequest.js';
import { MAX_MEMBER_RECORD_BYTES, type ControlPlaneLimits } from './limits.js';
import { CONTROL_PLANE_SERVICE, controlPlaneDefinition, type CodecMethod } from './proto.js';

/** Field numbers of the member lists (proto/swimring/v1/control_plane.proto). */
const NEGOTIATE_REQUEST_MEMBERS_FIELD = 2;
const NEGOTIATE_REPLY_MEMBERS_FIELD = 1;

/** One unary method: the generated serializers, with deserializers that return Decoded<T>. */
export interface BoundedMethod<ReqIn, ReqOut, ResIn, ResOut> {
  readonly name: string;
  readonly path: string;
  readonly requestSerialize: (value: ReqIn) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Decoded<ReqOut>;
  readonly responseSerialize: (value: ResIn) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Decoded<ResOut>;
  /** Largest request of this RPC, sent or received; default the limits' maxMessageBytes (requestBound). */
  readonly maxRequestBytes?: number;
}

export interface BoundedMethods {
  readonly Ping: BoundedMethod<PingRequest, PingRequest__Output, PingReply, PingReply__Output>;
  readonly Negotiate: BoundedMethod<NegotiateRequest, NegotiateRequest__Output, NegotiateReply, NegotiateReply__Output>;
  readonly Closing: BoundedMethod<ClosingRequest, ClosingRequest__Output, ClosingReply, ClosingReply__Output>;
}

/** Methods defined in the proto but not implemented yet: answered UNIMPLEMENTED without decoding. */
export const UNIMPLEMENTED_METHODS = ['GetLocalActorIds', 'AnnounceOwnership', 'AnnounceExpiry', 'Apply'] as const;

export function boundedMethods(limits: ControlPlaneLimits): BoundedMethods {
  const def = controlPlaneDefinition();
  const memberBound = (fieldNumber: number) => ({
    fieldNumber,
    field: 'members',
    maxCount: limits.maxMembers,
    maxEntryBytes: MAX_MEMBER_RECORD_BYTES,
  });
  return {
    Ping: bounded('Ping', def.Ping, ['PingRequest', 'PingReply']),
    Negotiate: bounded(
      'Negotiate',
      def.Negotiate,
      ['NegotiateRequest', 'NegotiateReply'],
      memberBound(NEGOTIATE_REQUEST_MEMBERS_FIELD),
      memberBound(NEGOTIATE_REPLY_MEMBERS_FIELD),
    ),
    Closing: bounded('Closing', def.Closing, ['ClosingRequest', 'ClosingReply']),
  };
}

/** A proto method with decoders that refuse (rather than throw on) bytes out of bounds. */
export function bounded<ReqIn, ResIn, ReqOut, ResOut>(
  name: string,
  m: CodecMethod<ReqIn, ResIn, ReqOut, ResOut>,
  [requestType, responseType]: readonly [string, string],
  requestBound?: Parameters<typeof boundedDeserializer>[2],
  responseBound?: Parameters<typeof boundedDeserializer>[2],
): BoundedMethod<ReqIn, ReqOut, ResIn, ResOut> {
  return {
    name,
    path: m.path,
    requestSerialize: m.requestSerialize,
    requestDeserialize: boundedDeserializer(`swimring.v1.${requestType}`, m.requestDeserialize, requestBound),
    responseSerialize: m.responseSerialize,
    responseDeserialize: boundedDeserializer(`swimring.v1.${responseType}`, m.responseDeserialize, responseBound),
  };
}

/**
 * An RPC of the proto implemented outside src/grpc (Apply: src/apply/grpc-apply.ts). It replaces the
 * UNIMPLEMENTED answer. The deserializer must not throw (return a refusal for the handler to answer, as
 * decode.ts does); the handler answers every call itself.
 */
export interface ExtraMethod {
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly handler: grpc.UntypedHandleCall;
  /**
   * Largest request this RPC takes, when its need does not scale with the cluster (an app body, a
   * claims announcement). Default: requestBound in src/grpc/limits.ts.
   */
  readonly maxRequestBytes?: number;
}

/** Keyed by the proto's method name ("Apply"). */
export type ExtraMethods = Readonly<Record<string, ExtraMethod>>;

/** Wraps each RPC's request deserializer (receive bounds, body digests: src/grpc/server.ts). */
export type DeserializerWrap = (rpc: string, deserialize: (bytes: Buffer) => unknown) => (bytes: Buffer) => unknown;

/** The service as grpc-js's Server wants it: our deserializers in place of the generated ones. */
export function serverServiceDefinition(methods: BoundedMethods, extra: ExtraMethods = {}, wrap?: DeserializerWrap): grpc.ServiceDefinition {
  const def = controlPlaneDefinition();
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of [methods.Ping, methods.Negotiate, methods.Closing]) {
    const generated = def[m.name as keyof typeof def];
    service[m.name] = {
      ...(generated as grpc.MethodDefinition<unknown, unknown>),
      requestDeserialize: m.requestDeserialize,
    };
  }
  for (const name of UNIMPLEMENTED_METHODS) {
    service[name] = {
      ...(def[name] as grpc.MethodDefinition<unknown, unknown>),
      requestDeserialize: () => ({}),
    };
  }
  for (const [name, m] of Object.entries(extra)) {
    const generated = def[name as keyof typeof def] as grpc.MethodDefinition<unknown, unknown> | undefined;
    if (generated === undefined) throw new Error(`${name} is not a method of ${CONTROL_PLANE_SERVICE}`);
    service[name] = { ...generated, requestDeserialize: m.requestDeserialize };
  }
  if (wrap) {
    for (const [name, m] of Object.entries(service)) service[name] = { ...m, requestDeserialize: wrap(name, m.requestDeserialize) };
  }
  return service;
}

export function methodPath(name: string): string {
  return `/${CONTROL_PLANE_SERVICE}/${name}`;
}
