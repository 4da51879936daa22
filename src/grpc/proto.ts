// The ControlPlane service as grpc-js wants it, from code generated at build time (npm run gen,
// scripts/gen-proto.mjs): the message codecs protobufjs would otherwise build at start from the parsed
// .proto, and the method table. The generated types in ./generated/ come from the same files with the
// same options (GEN_OPTIONS; test/grpc/codegen.test.ts holds the two in step, and
// test/grpc/codec-golden.test.ts checks every message byte for byte against @grpc/proto-loader).
import { fileURLToPath } from 'node:url';
import type { MethodDefinition, Options } from '@grpc/proto-loader';
import * as codecModule from './generated/control_plane_codec.js';
import { PROTO_METHODS } from './generated/control_plane_methods.js';
import type { ControlPlaneDefinition as GeneratedDefinition } from './generated/swimring/v1/ControlPlane.js';

/**
 * The version tools that are not members (the watch client) put in
 * RequestHeader.protocol_version: version 1 with no range, which every build accepts. Members talk
 * at the highest version they share with the callee (src/codec/protocol-version.ts).
 */
export const PROTOCOL_VERSION = 1;

/** Fully qualified service name: the gRPC path prefix and the health-check service name. */
export const CONTROL_PLANE_SERVICE = 'swimring.v1.ControlPlane';

/**
 * proto/ at the repository root. This module sits at src/grpc/ (run through tsx) or dist/grpc/
 * (after tsc), both two levels below the root, so one relative URL serves both.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const CONTROL_PLANE_PROTO = 'swimring/v1/control_plane.proto';

/**
 * How messages look in JavaScript: must mean the same as GEN_OPTIONS in scripts/gen-proto.mjs, or the
 * generated types lie. keepCase applies at generation (camelCase field names); the rest at every
 * conversion, exactly as @grpc/proto-loader passes them to toObject.
 */
export const LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: false,
  // Exact decimal strings: an incarnation above 2^53 is seen (and refused), not silently rounded.
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** What grpc-js uses of a method: the generated definition without proto-loader's descriptors. */
export type CodecMethod<Req, Res, ReqOut, ResOut> = Omit<
  MethodDefinition<Req, Res, ReqOut, ResOut>,
  'requestType' | 'responseType' | 'options'
>;

type CodecMethodOf<M> = M extends MethodDefinition<infer Req, infer Res, infer ReqOut, infer ResOut>
  ? CodecMethod<Req, Res, ReqOut, ResOut>
  : never;

/** The proto's methods by name (the generated type's string index signature, from grpc-js, left out). */
export type ControlPlaneDefinition = {
  readonly [K in keyof GeneratedDefinition as string extends K ? never : K]: CodecMethodOf<GeneratedDefinition[K]>;
};

/** The part of a pbjs static message class the (de)serializers call. */
interface MessageCodec {
  fromObject(value: unknown): object;
  encode(message: object): { finish(): Uint8Array };
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: Readonly<Options>): object;
}

/** The generated codec of a message, by its fully qualified name ("swimring.v1.PingRequest"). */
export function messageCodec(fullName: string): MessageCodec {
  let node: unknown = codecModule;
  for (const part of fullName.split('.')) {
    node = typeof node === 'object' || typeof node === 'function' ? (node as Record<string, unknown> | null)?.[part] : undefined;
  }
  const codec = node as Partial<MessageCodec> | undefined;
  if (typeof codec?.decode !== 'function' || typeof codec.toObject !== 'function') {
    throw new Error(`no generated codec for ${fullName}: run npm run gen`);
  }
  return codec as MessageCodec;
}

/** As @grpc/proto-loader serializes: fromObject (accepts strings for longs, names for enums), encode. */
function serializer(codec: MessageCodec): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error('Failed to serialize message: expected an object, got an array');
    const bytes = codec.encode(codec.fromObject(value)).finish();
    // protobufjs' writer gives a Buffer under node; a view, not a copy, otherwise.
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(codec: MessageCodec): (bytes: Buffer) => object {
  return (bytes) => codec.toObject(codec.decode(bytes), LOADER_OPTIONS);
}

/** proto-loader's originalName: the method name in lowerCamelCase, the alias grpc-js' clients add. */
function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

let cached: ControlPlaneDefinition | undefined;

/** The ControlPlane service with its (de)serializers; built once per process. */
export function controlPlaneDefinition(): ControlPlaneDefinition {
  if (cached) return cached;
  const service: Record<string, CodecMethod<object, object, object, object>> = {};
  for (const m of PROTO_METHODS) {
    if (m.service !== CONTROL_PLANE_SERVICE) continue;
    const request = messageCodec(m.requestType);
    const response = messageCodec(m.responseType);
    service[m.name] = {
      path: `/${m.service}/${m.name}`,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: lowerCamel(m.name),
    };
  }
  if (!('Ping' in service)) throw new Error(`${CONTROL_PLANE_SERVICE} not found in the generated method table`);
  // The generated table holds exactly the proto's methods; the types say which message each one carries.
  cached = service as unknown as ControlPlaneDefinition;
  return cached;
}
