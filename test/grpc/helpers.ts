// Fixtures for the control-plane tests: member records, a server with recording handlers, and a raw
// client that sends whatever bytes or objects a test wants (bypassing ControlPlaneClient's typing).
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { MemberRecord } from '../../src/core/types.js';
import { controlPlaneDefinition } from '../../src/grpc/proto.js';
import { memberRecord } from '../support/member-record.js';
import { NegotiateRateLimiter } from '../../src/grpc/rate-limit.js';
import {
  startControlPlaneServer,
  type CallContext,
  type ControlPlaneHandlers,
  type ControlPlaneLimits,
  type ControlPlaneServer,
  type ControlPlaneServerOptions,
  type RejectReason,
} from '../../src/grpc/server.js';

export const UNLIMITED_RATE = { perPeerPerSecond: 1e9, perPeerBurst: 1e9, globalPerSecond: 1e9, globalBurst: 1e9 };

export function member(i: number, overrides: Partial<MemberRecord> = {}): MemberRecord {
  const host = `10.0.${(i >> 8) & 255}.${i & 255}`;
  return memberRecord(`member-${i}`, {
    lifeId: `life-${i}`,
    incarnation: 1_700_000_000_000 + i,
    gossipAddr: `${host}:7946`,
    grpcAddr: `${host}:7947`,
    meta: { appAddr: `${host}:8080`, serving: true, tags: { zone: 'a' } },
    ...overrides,
  });
}

export interface Recorded {
  negotiations: { remote: MemberRecord[]; join: boolean; context: CallContext }[];
  closings: { name: string; incarnation: number; context: CallContext }[];
  rejections: { rpc: string; reason: RejectReason; detail: string }[];
}

export interface TestServer {
  readonly server: ControlPlaneServer;
  readonly addr: string;
  readonly recorded: Recorded;
}

/** A server on 127.0.0.1:0 whose Negotiate answers `local` and records everything it is given. */
export async function startTestServer(
  opts: {
    local?: MemberRecord[];
    limits?: Partial<ControlPlaneLimits>;
    bind?: string;
    handlers?: Partial<ControlPlaneHandlers>;
    negotiateRate?: NegotiateRateLimiter;
    gate?: ControlPlaneServerOptions['gate'];
    extraMethods?: ControlPlaneServerOptions['extraMethods'];
    connections?: ControlPlaneServerOptions['connections'];
  } = {},
): Promise<TestServer> {
  const recorded: Recorded = { negotiations: [], closings: [], rejections: [] };
  const local = opts.local ?? [member(0)];
  const handlers: ControlPlaneHandlers = {
    negotiate(remote, join, context) {
      recorded.negotiations.push({ remote, join, context });
      return local;
    },
    closing(name, incarnation, context) {
      recorded.closings.push({ name, incarnation, context });
    },
    ping() {
      return { name: 'member-0', members: local.length, healthScore: 2, tableVersion: 'v-abc123' };
    },
    ...opts.handlers,
  };
  const bind = opts.bind ?? '127.0.0.1:0';
  const server = await startControlPlaneServer({
    bind,
    handlers,
    limits: opts.limits,
    onReject: (rpc, reason, detail) => recorded.rejections.push({ rpc, reason, detail }),
    // These tests send many Negotiates from one address; the rate limit has its own tests.
    negotiateRate: opts.negotiateRate ?? new NegotiateRateLimiter(UNLIMITED_RATE),
    ...(opts.gate ? { gate: opts.gate } : {}),
    ...(opts.extraMethods ? { extraMethods: opts.extraMethods } : {}),
    ...(opts.connections ? { connections: opts.connections } : {}),
  });
  const host = bind.slice(0, bind.lastIndexOf(':'));
  return { server, addr: `${host}:${server.port}`, recorded };
}

export interface RawReply {
  readonly err: grpc.ServiceError | null;
  readonly reply: Buffer | undefined;
}

/** Sends pre-encoded bytes as the request of `method` and returns the raw outcome. */
export function rawCall(addr: string, method: string, body: Buffer, options: grpc.ChannelOptions = {}, metadata = new grpc.Metadata()): Promise<RawReply> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), options);
  return new Promise((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      `/swimring.v1.ControlPlane/${method}`,
      (b) => b,
      (b) => b,
      body,
      metadata,
      { deadline: Date.now() + 20_000 },
      (err, reply) => {
        client.close();
        resolve({ err, reply });
      },
    );
  });
}

type Methods = ReturnType<typeof controlPlaneDefinition>;

/** Encodes a request object with the generated serializer of `method` (no validation on our side). */
export function encodeRequest<K extends keyof Methods>(method: K, request: Parameters<Methods[K]['requestSerialize']>[0]): Buffer {
  const m = controlPlaneDefinition()[method];
  if (!m) throw new Error(`no method ${String(method)}`);
  return (m.requestSerialize as (value: typeof request) => Buffer)(request);
}

/** Asserts-friendly view of a rejected promise: the error, or a failure when it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: number }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/**
 * One unary call over HTTP/2 from a chosen local address (grpc-js cannot pick one): the same gRPC
 * framing and status trailers, so a server sees a caller at `localAddress`.
 */
export function rawCallFrom(localAddress: string, addr: string, method: string, body: Buffer): Promise<{ code: number; details: string }> {
  const at = addr.lastIndexOf(':');
  const host = addr.slice(0, at);
  const port = Number(addr.slice(at + 1));
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${addr}`, { createConnection: () => net.connect({ host, port, localAddress }) });
    session.on('error', reject);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    const stream = session.request({ ':method': 'POST', ':path': `/swimring.v1.ControlPlane/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
    let status: { code: number; details: string } | null = null;
    const read = (headers: http2.IncomingHttpHeaders): void => {
      const code = headers['grpc-status'];
      if (code !== undefined) status = { code: Number(code), details: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('data', () => undefined);
    stream.on('close', () => {
      session.close();
      if (status) resolve(status);
      else reject(new Error(`${method} from ${localAddress}: no grpc-status`));
    });
    stream.end(Buffer.concat([prefix, body]));
  });
}
