// Deserializers that cannot throw. grpc-js answers INTERNAL when a deserializer throws, and a
// decoder given a huge repeated field builds all of it before anyone can count; these wrap the
// generated decoders so that bad bytes become a Rejection the handler answers with the right code.
import { status } from '@grpc/grpc-js';
import { reject, type Rejection } from './errors.js';
import { tooManyMembers } from './convert.js';
import { scanRepeatedField } from './wire-scan.js';

/** Field numbers start at 1: scanning for 0 only checks the framing. */
const NO_FIELD = 0;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

/** A repeated message field counted (and each entry's size checked) before decoding. */
export interface MemberListBound {
  /** Field number of the repeated MemberRecord field. */
  readonly fieldNumber: number;
  /** Its name in messages ("members"). */
  readonly field: string;
  readonly maxCount: number;
  readonly maxEntryBytes: number;
}

export function boundedDeserializer<T>(
  messageName: string,
  decode: (bytes: Buffer) => T,
  bound?: MemberListBound,
): (bytes: Buffer) => Decoded<T> {
  return (bytes) => {
    try {
      // The decoder is lenient (a string whose length runs past the end is cut short, not refused):
      // the scan holds the top level to well-formed framing first.
      const scan = scanRepeatedField(bytes, bound?.fieldNumber ?? NO_FIELD);
      if (typeof scan === 'string') return malformed(messageName, scan);
      if (bound) {
        if (scan.count > bound.maxCount) {
          return { ok: false, rejection: tooManyMembers(bound.field, scan.count, bound.maxCount) };
        }
        if (scan.largestBytes > bound.maxEntryBytes) {
          return {
            ok: false,
            rejection: reject(
              status.INVALID_ARGUMENT,
              'invalid',
              `${bound.field}[${scan.largestIndex}]: record of ${scan.largestBytes} bytes, limit ${bound.maxEntryBytes}`,
            ),
          };
        }
      }
      return { ok: true, value: decode(bytes) };
    } catch {
      // The framing was sound, so the decoder failed inside a field: typically the bytes of another
      // RPC's message, whose field of the same number holds something else. The decoder's own text
      // ("invalid wire type 7 at offset 15") means nothing to a client, so say what was expected.
      return malformed(messageName, `the bytes do not decode as one (a message of another type, or a field of the wrong type)`);
    }
  };
}

function malformed(messageName: string, why: string): Decoded<never> {
  return {
    ok: false,
    rejection: reject(status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${why}`),
  };
}
