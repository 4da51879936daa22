// WatchMembership: the SSE watch's events as a gRPC server stream. The first message is a snapshot of
// the view, taken in the same synchronous step as the subscription so no event falls in between. Each
// stream has a bounded queue of events written but not yet taken by the transport: a consumer that lets
// it fill is ended with RESOURCE_EXHAUSTED ("consumer too slow, N events behind") and unsubscribed,
// so a stuck reader costs at most the queue, never memory without bound.
import * as grpc from '@grpc/grpc-js';
import type { AgentView, WatchEvent } from '../runtime/view.js';
import { contextFromHeader, type CallContext } from './convert.js';
import { boundedDeserializer, type Decoded } from './decode.js';
import { ControlPlaneError, isRejection, reject, type Rejection } from './errors.js';
import type { WatchEvent as ProtoEvent } from './generated/swimring/v1/WatchEvent.js';
import type { WatchMembershipRequest__Output } from './generated/swimring/v1/WatchMembershipRequest.js';
import { controlPlaneDefinition } from './proto.js';
import type { ExtraMethods } from './service.js';
import { watchEventToProto } from './watch-convert.js';

export type WatchEndReason = 'client_closed' | 'slow_consumer' | 'shutting_down' | 'refused';

export interface WatchServerOptions {
  readonly view: Pick<AgentView, 'members' | 'subscribe'>;
  /** Events queued for one stream beyond which it is ended as too slow. */
  readonly maxQueuedEvents: number;
  /** Streams open at once; more are refused RESOURCE_EXHAUSTED. */
  readonly maxStreams: number;
  /** Throws ControlPlaneError to refuse (label mismatch). */
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
  /** Called once per stream that was opened, however it ends. */
  readonly onEnd?: (reason: WatchEndReason) => void;
}

export interface WatchServer {
  readonly methods: ExtraMethods;
  /** Streams open now. */
  open(): number;
  /** Streams ended so far, by reason. */
  readonly endings: ReadonlyMap<WatchEndReason, number>;
  /** Ends every stream with UNAVAILABLE (the member is shutting down). */
  closeAll(): void;
}

const RPC = 'WatchMembership';

export function watchServer(opts: WatchServerOptions): WatchServer {
  const def = controlPlaneDefinition().WatchMembership;
  const streams = new Set<(code: grpc.status, details: string, reason: WatchEndReason) => void>();
  const endings = new Map<WatchEndReason, number>();

  const handler: grpc.handleServerStreamingCall<Decoded<WatchMembershipRequest__Output>, ProtoEvent> = (call) => {
    const refuse = (rejection: Rejection): void => {
      opts.onReject(RPC, rejection);
      call.emit('error', { code: rejection.code, details: rejection.message });
    };
    const decoded = call.request;
    if (!decoded.ok) return refuse(decoded.rejection);
    const ctx = contextFromHeader(decoded.value.header, call.getPeer());
    if (isRejection(ctx)) return refuse(ctx);
    try {
      opts.checkContext(ctx);
    } catch (err) {
      if (err instanceof ControlPlaneError) return refuse(reject(err.code, 'refused', err.message));
      return refuse(reject(grpc.status.INTERNAL, 'internal', `${RPC} failed on this member`));
    }
    if (streams.size >= opts.maxStreams) {
      return refuse(reject(grpc.status.RESOURCE_EXHAUSTED, 'refused', `at most ${opts.maxStreams} watch streams at once`));
    }

    let ended = false;
    let queued = 0;
    let unsubscribe: () => void = () => {};
    const end = (code: grpc.status, details: string, reason: WatchEndReason): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      streams.delete(end);
      endings.set(reason, (endings.get(reason) ?? 0) + 1);
      opts.onEnd?.(reason);
      if (reason !== 'client_closed') call.emit('error', { code, details });
    };
    const send = (event: WatchEvent): void => {
      if (ended) return;
      if (queued >= opts.maxQueuedEvents) {
        // `queued` counts writes the transport has not taken: the reader is that far behind.
        end(grpc.status.RESOURCE_EXHAUSTED, `consumer too slow, ${queued + 1} events behind (queue limit ${opts.maxQueuedEvents}); reconnect for a fresh snapshot`, 'slow_consumer');
        return;
      }
      queued++;
      call.write(watchEventToProto(event), () => {
        queued--;
      });
    };
    streams.add(end);
    call.on('cancelled', () => end(grpc.status.CANCELLED, 'cancelled by the client', 'client_closed'));
    const { version, members } = opts.view.members();
    send({ type: 'snapshot', version, members });
    if (ended) return;
    unsubscribe = opts.view.subscribe(send);
  };

  return {
    methods: {
      [RPC]: {
        requestDeserialize: boundedDeserializer('swimring.v1.WatchMembershipRequest', def.requestDeserialize),
        handler: handler as grpc.UntypedHandleCall,
      },
    },
    open: () => streams.size,
    endings,
    closeAll: () => {
      for (const end of [...streams]) end(grpc.status.UNAVAILABLE, 'the member is shutting down; reconnect to another member', 'shutting_down');
    },
  };
}
