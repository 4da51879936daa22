// A WatchMembership client: opens the stream to one member and hands each event, decoded into the same
// WatchEvent the SSE watch sends, to a callback. The stream is not read faster than the callback takes
// events when the caller pauses it (pause/resume), which is how tests play a slow consumer.
import * as grpc from '@grpc/grpc-js';
import type { WatchEvent } from '../runtime/view.js';
import { credentialMetadata } from './auth-gate.js';
import { statusName } from './errors.js';
import type { WatchEvent__Output } from './generated/swimring/v1/WatchEvent.js';
import { PROTOCOL_VERSION, controlPlaneDefinition } from './proto.js';
import { watchEventFromProto } from './watch-convert.js';

export interface WatchClientOptions {
  readonly label?: string;
  readonly sender?: string;
  /** Largest message accepted. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Proof of holding the gossip key (src/security/key-proof.ts): members with a keyring demand it. */
  readonly keyProof?: Uint8Array;
}

export interface WatchStream {
  /** Resolves when the stream ends: with the status the server (or transport) ended it with. */
  readonly ended: Promise<{ readonly code: grpc.status; readonly codeName: string; readonly details: string }>;
  pause(): void;
  resume(): void;
  close(): void;
}

export function watchMembership(addr: string, onEvent: (event: WatchEvent) => void, opts: WatchClientOptions = {}): WatchStream {
  const def = controlPlaneDefinition().WatchMembership;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? 16 * 1024 * 1024,
  });
  const call = client.makeServerStreamRequest<unknown, WatchEvent__Output>(
    def.path,
    def.requestSerialize as (v: unknown) => Buffer,
    def.responseDeserialize,
    {
      header: {
        protocolVersion: PROTOCOL_VERSION,
        label: opts.label ?? '',
        sender: opts.sender ?? '',
        ...(opts.keyProof ? { keyProof: Buffer.from(opts.keyProof) } : {}),
      },
    },
    credentialMetadata(opts.label ?? '', opts.keyProof ?? null),
  );
  call.on('data', (message: WatchEvent__Output) => {
    const event = watchEventFromProto(message);
    if (event) onEvent(event);
  });
  const ended = new Promise<{ code: grpc.status; codeName: string; details: string }>((resolve) => {
    let settled = false;
    const settle = (code: grpc.status, details: string): void => {
      if (settled) return;
      settled = true;
      client.close();
      resolve({ code, codeName: statusName(code), details });
    };
    call.on('status', (s: grpc.StatusObject) => settle(s.code, s.details));
    call.on('error', (err: grpc.ServiceError) => settle(err.code, err.details));
  });
  return {
    ended,
    pause: () => call.pause(),
    resume: () => call.resume(),
    close: () => call.cancel(),
  };
}

