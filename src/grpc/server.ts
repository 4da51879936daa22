// The control-plane gRPC server: ControlPlane (Ping, Negotiate, Closing; the ownership RPCs answer
// UNIMPLEMENTED) and grpc.health.v1.Health on one port. Every request is decoded within limits and
// validated before a handler sees it; a refusal is answered with a status naming the field and
// reported through onReject, never thrown.
import * as grpc from '@grpc/grpc-js';
import type { MemberRecord } from '../core/types.js';
import { parseHostPort } from '../net/address.js';
import { HealthService } from './health.js';
import {
  checkIncarnation,
  checkName,
  contextFromHeader,
  membersFromProto,
  membersToProto,
  type CallContext,
} from './convert.js';
import { callTimer, type CallObserver } from './call-timer.js';
import type { ControlPlaneListener } from './listener.js';
import { connectionLimitsFor, limitConnections, type ConnectionLimits } from './connection-limit.js';
import { authGate, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_UNLABELLED_IN_FLIGHT, digestingDeserializer, isKeyProven, type AuthGateOptions } from './auth-gate.js';
import { boundedBody, receiveBounds } from './receive-bound.js';
import type { Decoded } from './decode.js';
import { ControlPlaneError, isRejection, reject, RETRY_AFTER_METADATA, type RejectReason, type Rejection } from './errors.js';
import type { ClosingReply } from './generated/swimring/v1/ClosingReply.js';
import type { ClosingRequest__Output } from './generated/swimring/v1/ClosingRequest.js';
import type { NegotiateReply } from './generated/swimring/v1/NegotiateReply.js';
import type { NegotiateRequest__Output } from './generated/swimring/v1/NegotiateRequest.js';
import type { PingReply } from './generated/swimring/v1/PingReply.js';
import type { PingRequest__Output } from './generated/swimring/v1/PingRequest.js';
import { requestBound, resolveLimits, type ControlPlaneLimits } from './limits.js';
import { NegotiateRateLimiter, peerHost } from './rate-limit.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
import { CONTROL_PLANE_SERVICE } from './proto.js';
import { boundedMethods, serverServiceDefinition, UNIMPLEMENTED_METHODS, type ExtraMethods } from './service.js';

export { ControlPlaneError } from './errors.js';
export type { RejectReason } from './errors.js';
export type { ExtraMethod, ExtraMethods } from './service.js';
export type { CallContext } from './convert.js';
export { DEFAULT_LIMITS, type ControlPlaneLimits } from './limits.js';

/**
 * What the runtime does with each call. Synchronous: the core answers from memory. Throw a
 * ControlPlaneError to answer with a given status (anything else thrown is answered INTERNAL).
 * `context` (label, sender, peer) may be ignored by implementations that do not need it.
 */
export interface ControlPlaneHandlers {
  /** Merge the caller's view; return this member's full view after the merge, itself included. */
  negotiate(remote: MemberRecord[], join: boolean, context: CallContext): MemberRecord[];
  /** A member announced it is leaving with this incarnation. */
  closing(name: string, incarnation: number, context: CallContext): void;
  ping(context: CallContext): { name: string; members: number; healthScore: number; tableVersion: string; claims?: number; liveMembers?: number };
}

export interface ControlPlaneServerOptions {
  /** "host:port" to listen on, "[v6]:port" for IPv6; port 0 picks a free port. */
  readonly bind: string;
  readonly handlers: ControlPlaneHandlers;
  readonly limits?: Partial<ControlPlaneLimits>;
  /**
   * Called once per refused call with the RPC ("Negotiate"), a short stable reason (a metrics label)
   * and a human-readable detail naming the field. Must not throw (an exception is swallowed).
   */
  readonly onReject?: (rpc: string, reason: RejectReason, detail: string) => void;
  /** Health status at start; the runtime flips it with setServing. Default true. */
  readonly serving?: boolean;
  /** How long close() lets calls in flight finish before cutting them off. Default 2000 ms. */
  readonly closeGraceMs?: number;
  /** Transport security (src/grpc/tls.ts serverCredentials). Default: plaintext. */
  readonly credentials?: grpc.ServerCredentials;
  /** Negotiates beyond these rates are refused RESOURCE_EXHAUSTED with a retry-after. Default: always on. */
  readonly negotiateRate?: NegotiateRateLimiter;
  /** RPCs implemented elsewhere, replacing their UNIMPLEMENTED answer (see ExtraMethod). */
  readonly extraMethods?: ExtraMethods;
  /** Told of every answered unary call (rpc, status code name, seconds), for metrics. */
  readonly onCall?: CallObserver;
  /**
   * Who may call: the authorizer's check (src/grpc/authorizer.ts CallAuthorizer.check), run for every
   * ControlPlane RPC on the call metadata before the body is read and on the request before any handler
   * (and so before the Negotiate rate limit); and the in-flight bounds (src/grpc/auth-gate.ts).
   * Default: every caller is let in, the default bounds.
   */
  readonly gate?: {
    readonly check?: AuthGateOptions['check'];
    readonly maxInFlight?: number;
    readonly maxUnlabelledInFlight?: number;
    /** Digest every request body, for key proofs made for one body (with a keyring). Default false. */
    readonly digestBodies?: boolean;
  };
  /** Open connections per caller address and in all; default connectionLimitsFor(limits.maxMembers). */
  readonly connections?: ConnectionLimits;
  /**
   * A port already bound (listenForControlPlane): the server takes its connections, those that waited
   * first, instead of binding `bind` itself; close() closes it. Plaintext only (refused with TLS credentials).
   */
  readonly listener?: ControlPlaneListener;
}

export interface ControlPlaneServer {
  /** The bound port (the chosen one when bind asked for port 0). */
  readonly port: number;
  /** Stops accepting calls, lets calls in flight finish (bounded), then closes. Idempotent. */
  close(): Promise<void>;
  /** Health status for both "" (the whole server) and "swimring.v1.ControlPlane". */
  setServing(serving: boolean): void;
}

const DEFAULT_CLOSE_GRACE_MS = 2000;
/**
 * HTTP/2 streams one peer connection may have open at once. A member has at most a few calls to one
 * peer in flight (a Negotiate, a digest round, claims); more on one connection is a flood.
 */
const MAX_CONCURRENT_STREAMS = 16;

export async function startControlPlaneServer(opts: ControlPlaneServerOptions): Promise<ControlPlaneServer> {
  const limits = resolveLimits(opts.limits);
  const parsedBind = parseHostPort(opts.bind, { allowPortZero: true, hosts: 'shape' });
  if (!parsedBind.ok) throw new Error(`control plane bind address: ${parsedBind.reason}`);

  const report = reporter(opts.onReject);
  const methods = boundedMethods(limits);
  const extra = opts.extraMethods ?? {};
  // A feature's own bound where its need does not scale with the cluster (Apply, claims).
  const bound = (rpc: string): number => extra[rpc]?.maxRequestBytes ?? requestBound(rpc, limits);
  const largestBound = Math.max(limits.maxMessageBytes, ...Object.keys(extra).map(bound));
  const server = new grpc.Server({
    'grpc.max_receive_message_length': largestBound,
    'grpc.max_send_message_length': limits.maxMessageBytes,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    // The last interceptor is the outermost: the gate answers before the watcher, the timer or the handler
    // run. The first gets the call grpc-js made, which holds the receive bound (src/grpc/receive-bound.ts).
    interceptors: [
      receiveBounds(bound),
      unreadRequestWatcher(report, bound),
      ...(opts.onCall ? [callTimer(opts.onCall)] : []),
      authGate({
        check: opts.gate?.check ?? (() => null),
        maxInFlight: opts.gate?.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
        maxUnlabelledInFlight: opts.gate?.maxUnlabelledInFlight ?? DEFAULT_MAX_UNLABELLED_IN_FLIGHT,
        report,
      }),
    ],
  });
  const digest = opts.gate?.digestBodies === true;
  const wrap = (rpc: string, deserialize: (bytes: Buffer) => unknown): ((bytes: Buffer) => unknown) =>
    boundedBody(rpc, bound(rpc), digest ? digestingDeserializer(deserialize) : deserialize);
  server.addService(serverServiceDefinition(methods, extra, wrap), {
    ...implementation(opts.handlers, limits, report, opts.negotiateRate ?? new NegotiateRateLimiter()),
    ...Object.fromEntries(Object.entries(extra).map(([name, m]) => [name, m.handler])),
  });

  const initial = opts.serving === false ? 'NOT_SERVING' : 'SERVING';
  const health = new HealthService({ '': initial, [CONTROL_PLANE_SERVICE]: initial });
  health.addToServer(server);

  const credentials = opts.credentials ?? grpc.ServerCredentials.createInsecure();
  const { listener } = opts;
  // TLS is left to grpc-js's own listener: a TLS connection held paused in ours did not complete its
  // handshake once handed over, and with TLS grpc-js is loaded at start for the credentials anyway.
  if (listener && credentials._isSecure()) throw new Error('control plane: a listener bound in advance serves plaintext only; with TLS, bind through grpc-js');
  const injector = listener ? server.createConnectionInjector(credentials) : null;
  const port = listener
    ? listener.port
    : await new Promise<number>((resolve, rejectBind) => {
        server.bindAsync(opts.bind, credentials, (err, boundPort) => {
          if (err) {
            server.forceShutdown();
            rejectBind(new Error(`control plane cannot listen on ${opts.bind}: ${err.message}`));
          } else resolve(boundPort);
        });
      });
  const connections = opts.connections ?? connectionLimitsFor(limits.maxMembers);
  const bounded = limitConnections(server, connections, (reason, host) => {
    report('connection', reject(grpc.status.RESOURCE_EXHAUSTED, 'busy', `connection from ${host} closed: over ${reason === 'total' ? `${connections.total} open connections` : `${connections.perHost} open connections from one address`}`));
  });
  if (!bounded) report('connection', reject(grpc.status.UNKNOWN, 'internal', 'grpc-js no longer exposes its HTTP/2 servers: connections are not bounded'));
  // After the bound is in place: the connections that waited are counted like any other.
  // The listener hands sockets over paused (nothing read before HTTP/2 has them); HTTP/2 takes the
  // socket's handle as it is and must be told to read.
  if (listener && injector)
    listener.attach((socket) => {
      injector.injectConnection(socket);
      if (!socket.destroyed) socket.resume();
    });

  const setServing = (serving: boolean): void => {
    const s = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    health.setStatus(CONTROL_PLANE_SERVICE, s);
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    setServing(false);
    closing ??= Promise.all([
      listener?.close(),
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
    ]).then(() => undefined);
    return closing;
  };

  return { port, close, setServing };
}

type Report = (rpc: string, rejection: Rejection) => void;

function reporter(onReject: ControlPlaneServerOptions['onReject']): Report {
  return (rpc, rejection) => {
    if (!onReject) return;
    try {
      onReject(rpc, rejection.reason, rejection.message);
    } catch {
      // A metrics callback must not turn a refusal into a crash.
    }
  };
}

function implementation(
  handlers: ControlPlaneHandlers,
  limits: ControlPlaneLimits,
  report: Report,
  negotiateRate: NegotiateRateLimiter,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {
    Ping: unary<PingRequest__Output, PingReply>('Ping', report, (req, peer) => {
      const ctx = contextFromHeader(req.header, peer);
      if (isRejection(ctx)) return ctx;
      const p = handlers.ping(ctx);
      return {
        name: p.name,
        unixTimeMs: Date.now(),
        members: p.members,
        healthScore: p.healthScore,
        tableVersion: p.tableVersion,
        protocolVersion: ctx.protocolVersion,
        minProtocolVersion: SPOKEN_RANGE.min,
        maxProtocolVersion: SPOKEN_RANGE.max,
        claims: String(p.claims ?? 0),
        liveMembers: p.liveMembers ?? 0,
      };
    }),

    Negotiate: unary<NegotiateRequest__Output, NegotiateReply>('Negotiate', report, (req, peer, keyProven) => {
      const ctx = withProof(contextFromHeader(req.header, peer), keyProven);
      if (isRejection(ctx)) return ctx;
      // By address and claimed name (members sharing an address are not one caller), by address (a
      // caller inventing names), and over all callers: src/grpc/rate-limit.ts.
      const rate = negotiateRate.take(peerHost(peer), performance.now(), ctx.sender);
      if (!rate.ok) {
        return {
          ...reject(grpc.status.RESOURCE_EXHAUSTED, 'rate-limited', `too many Negotiates (${rate.scope} limit): retry after ${rate.retryAfterMs} ms`),
          retryAfterMs: rate.retryAfterMs,
        };
      }
      const remote = membersFromProto(req.members, 'members', limits);
      if (isRejection(remote)) return remote;
      const local = handlers.negotiate(remote, req.join === true, ctx);
      return { members: membersToProto(local) };
    }),

    Closing: unary<ClosingRequest__Output, ClosingReply>('Closing', report, (req, peer, keyProven) => {
      const ctx = withProof(contextFromHeader(req.header, peer), keyProven);
      if (isRejection(ctx)) return ctx;
      const name = checkName(req.name, 'name');
      if (isRejection(name)) return name;
      const incarnation = checkIncarnation(req.incarnation, 'incarnation');
      if (isRejection(incarnation)) return incarnation;
      handlers.closing(name, incarnation, ctx);
      return {};
    }),
  };
  for (const name of UNIMPLEMENTED_METHODS) {
    impl[name] = (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      callback({ code: grpc.status.UNIMPLEMENTED, details: `${CONTROL_PLANE_SERVICE}/${name} is not implemented yet` });
    };
  }
  return impl;
}

/** Decoded request in, reply or Rejection out; exceptions from the handler become statuses. */
export function unary<Req, Res>(
  rpc: string,
  report: Report,
  handle: (request: Req, peer: string, keyProven: boolean) => Res | Rejection,
): grpc.handleUnaryCall<Decoded<Req>, Res> {
  return (call, callback) => {
    const refuse = (rejection: Rejection): void => {
      report(rpc, rejection);
      if (rejection.retryAfterMs === undefined) return callback({ code: rejection.code, details: rejection.message });
      const metadata = new grpc.Metadata();
      metadata.set(RETRY_AFTER_METADATA, String(rejection.retryAfterMs));
      callback({ code: rejection.code, details: rejection.message, metadata });
    };
    const decoded = call.request;
    if (!decoded.ok) return refuse(decoded.rejection);
    // A busy member may reach a call only after its caller gave up (cancelled, or past the deadline
    // it sent): the answer would be thrown away, and building it (a full member list for a Negotiate)
    // is the work that kept the member busy. Skipping it lets a starved seed catch up with the calls
    // still waited for, instead of spending itself on abandoned ones.
    if (callerGone(call, Date.now())) {
      return refuse(reject(grpc.status.DEADLINE_EXCEEDED, 'caller-gone', `${rpc} reached after its caller gave up: not handled`));
    }
    let result: Res | Rejection;
    try {
      result = handle(decoded.value, call.getPeer(), isKeyProven(decoded));
    } catch (err) {
      if (err instanceof ControlPlaneError) return refuse(reject(err.code, err.reason, err.message));
      const why = err instanceof Error ? err.message : String(err);
      report(rpc, reject(grpc.status.INTERNAL, 'internal', `${rpc} handler failed: ${why}`));
      // The handler's message may hold internals; the caller gets only the category.
      return callback({ code: grpc.status.INTERNAL, details: `${rpc} failed on this member` });
    }
    if (isRejection(result)) return refuse(result);
    callback(null, result);
  };
}

/** Whether the caller of `call` has stopped waiting: cancelled, or past the deadline it sent. */
export function callerGone(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>, nowMs: number): boolean {
  if (call.cancelled) return true;
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(deadlineMs) && deadlineMs <= nowMs;
}

/** The context a handler sees, with whether the gate checked a key proof against this request. */
function withProof(ctx: CallContext | Rejection, keyProven: boolean): CallContext | Rejection {
  return isRejection(ctx) || !keyProven ? ctx : { ...ctx, keyProven };
}

/**
 * grpc-js refuses a request larger than its RPC's bound (RESOURCE_EXHAUSTED) or not decompressible
 * before any handler runs. This interceptor sees such calls end without a request message having
 * been read and reports them, so they are counted like every other refusal.
 */
function unreadRequestWatcher(report: Report, bound: (rpc: string) => number): grpc.ServerInterceptor {
  const prefix = `/${CONTROL_PLANE_SERVICE}/`;
  return (method, call) => {
    if (!method.path.startsWith(prefix)) return new grpc.ServerInterceptingCall(call);
    const rpc = method.path.slice(prefix.length);
    let received = false;
    let answered = false;
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message, nextMessage) {
            received = true;
            nextMessage(message);
          },
          onCancel() {
            if (received || answered) return;
            report(
              rpc,
              reject(
                grpc.status.RESOURCE_EXHAUSTED,
                'no-request',
                `call ended before a request was accepted (over this RPC's bound of ${bound(rpc)} bytes, ` +
                  'not decompressible, or cancelled by the caller)',
              ),
            );
          },
        });
      },
      sendStatus(status, next) {
        answered = true;
        next(status);
      },
    });
  };
}
