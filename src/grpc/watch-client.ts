// A WatchMembership client: opens the stream to one member and hands each event, decoded into the same
// WatchEvent the SSE watch sends, to a callback. The stream is not read faster than the callback takes
// events when the caller pauses it (pause/resume), which is how tests play a slow consumer.
import * as grpc from '@grpc/grpc-js';
import type { WatchEvent } from '../runtime/view.js';
import type { CallProofs } from '../security/key-proof.js';
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
  /** Proofs of holding the gossip key (src/security/key-proof.ts): members with a keyring demand one. */
  readonly keyProof?: CallProofs;
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
  const legacy = opts.keyProof?.legacyProof() ?? null;
  // Serialized here: the key proof is made for exactly the bytes that are sent.
  const body = def.requestSerialize({
    header: { protocolVersion: PROTOCOL_VERSION, label: opts.label ?? '', sender: opts.sender ?? '', ...(legacy ? { keyProof: Buffer.from(legacy) } : {}) },
  });
  const proofs = opts.keyProof ? { v2: opts.keyProof.prove(def.path, body), v1: legacy } : null;
  const call = client.makeServerStreamRequest<Buffer, WatchEvent__Output>(def.path, (bytes) => bytes, def.responseDeserialize, body, credentialMetadata(opts.label ?? '', proofs));
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

