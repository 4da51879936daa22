// grpc.health.v1.Health (Check, Watch, List) served with the three tiny messages written out by hand:
// HealthCheckRequest { string service = 1 }, HealthCheckResponse { ServingStatus status = 1 } and
// HealthListResponse { map<string, HealthCheckResponse> statuses = 1 }. It behaves as the grpc-health-check
// package does (test/grpc/server.test.ts talks to it with that package's client), without loading the
// health .proto and a second protobuf runtime when the agent starts.
import * as grpc from '@grpc/grpc-js';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
const STATUS_NUMBER: Readonly<Record<ServingStatus, number>> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

/** List answers RESOURCE_EXHAUSTED past this many services, as grpc-health-check does. */
const LIST_LIMIT = 100;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** A varint of at most 32 significant bits (tags and lengths); throws on a truncated or longer one. */
function readVarint32(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) throw new Error('health request: truncated varint');
    const b = bytes[at + i]!;
    if (i < 5) value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) throw new Error('health request: varint out of range');
      return [value, at + i + 1];
    }
  }
  throw new Error('health request: varint longer than 10 bytes');
}

/** HealthCheckRequest: the service name; unknown fields skipped, the last `service` wins (protobuf rules). */
export function decodeHealthCheckRequest(bytes: Uint8Array): { service: string } {
  let service = '';
  let at = 0;
  while (at < bytes.length) {
    const [tag, afterTag] = readVarint32(bytes, at);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new Error('health request: field number 0');
    if (wire === WIRE_VARINT) at = readVarint64End(bytes, afterTag);
    else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) at = afterTag + (wire === WIRE_FIXED64 ? 8 : 4);
    else if (wire === WIRE_LEN) {
      const [length, start] = readVarint32(bytes, afterTag);
      if (length > bytes.length - start) throw new Error('health request: field longer than the message');
      if (field === 1) service = utf8.decode(bytes.subarray(start, start + length));
      at = start + length;
    } else throw new Error(`health request: unsupported wire type ${wire}`);
    if (at > bytes.length) throw new Error('health request: truncated field');
  }
  return { service };
}

function readVarint64End(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) throw new Error('health request: truncated varint');
    if ((bytes[at + i]! & 0x80) === 0) return at + i + 1;
  }
  throw new Error('health request: varint longer than 10 bytes');
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** HealthCheckResponse; UNKNOWN (0) is the proto3 default and so is not written. */
export function encodeHealthCheckResponse(status: ServingStatus): Buffer {
  const n = STATUS_NUMBER[status];
  return n === 0 ? Buffer.alloc(0) : Buffer.from([0x08, n]);
}

/** HealthListResponse: one map entry (key 1, value 2) per service. */
export function encodeHealthListResponse(statuses: ReadonlyMap<string, ServingStatus>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, status] of statuses) {
    const key = utf8Encoder.encode(name);
    const value = encodeHealthCheckResponse(status);
    const entry = Buffer.concat([Buffer.from([0x0a, ...varint(key.length)]), key, Buffer.from([0x12, ...varint(value.length)]), value]);
    parts.push(Buffer.from([0x0a, ...varint(entry.length)]), entry);
  }
  return Buffer.concat(parts);
}

const serializeStatus = (r: { status: ServingStatus }): Buffer => encodeHealthCheckResponse(r.status);
const noDecode = (): never => {
  throw new Error('the health service does not decode responses');
};
const method = <Req, Res>(name: string, responseStream: boolean, requestDeserialize: (b: Buffer) => Req, responseSerialize: (r: Res) => Buffer): grpc.MethodDefinition<Req, Res> => ({
  path: `/grpc.health.v1.Health/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: () => Buffer.alloc(0),
  requestDeserialize,
  responseSerialize,
  responseDeserialize: noDecode,
});

const HEALTH_SERVICE = {
  Check: method('Check', false, decodeHealthCheckRequest, serializeStatus),
  Watch: method('Watch', true, decodeHealthCheckRequest, serializeStatus),
  List: method('List', false, () => ({}), (r: { statuses: ReadonlyMap<string, ServingStatus> }) => encodeHealthListResponse(r.statuses)),
} satisfies grpc.ServiceDefinition;

/** The health statuses of this server's services and the Watch streams following them. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<(status: ServingStatus) => void>>();

  constructor(initial: Readonly<Record<string, ServingStatus>>) {
    for (const [name, status] of Object.entries(initial)) this.statuses.set(name, status);
  }

  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const watcher of this.watchers.get(service) ?? []) watcher(status);
  }

  addToServer(server: grpc.Server): void {
    server.addService(HEALTH_SERVICE, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: grpc.status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` });
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>) => {
        const name = call.request.service;
        const watcher = (status: ServingStatus): void => void call.write({ status });
        let set = this.watchers.get(name);
        if (!set) this.watchers.set(name, (set = new Set()));
        set.add(watcher);
        call.on('cancelled', () => {
          set.delete(watcher);
          if (set.size === 0 && this.watchers.get(name) === set) this.watchers.delete(name);
        });
        watcher(this.statuses.get(name) ?? 'SERVICE_UNKNOWN');
      },
      List: (_call: grpc.ServerUnaryCall<object, unknown>, callback: grpc.sendUnaryData<{ statuses: ReadonlyMap<string, ServingStatus> }>) => {
        if (this.statuses.size > LIST_LIMIT) callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'Too many services to list.' });
        else callback(null, { statuses: this.statuses });
      },
    });
  }
}
