// The Apply payloads (proto AppMessage / AppAnswer) as the bytes of a google.protobuf.Any. Two tiny
// messages, so they are written and read here by hand: the reader walks the fields with explicit
// bounds and returns a reason instead of throwing, and unknown fields are skipped (added later).
import { MAX_TRACE_HEADER_BYTES, NO_TRACE, TRACE_HEADER_NAMES, validTraceHeader, type TraceHeaders } from './trace-context.js';
import type { AppAnswer, AppMessage } from './types.js';
import { newWireField, readField, WIRE_LEN, WIRE_VARINT } from '../grpc/wire-scan.js';

export const APP_MESSAGE_TYPE_URL = 'type.googleapis.com/swimring.v1.AppMessage';
export const APP_ANSWER_TYPE_URL = 'type.googleapis.com/swimring.v1.AppAnswer';

/** Content types longer than this are refused: a header value, not a payload. */
export const MAX_CONTENT_TYPE_BYTES = 255;


export function encodeAppMessage(m: AppMessage): Buffer {
  const fields = [lenField(1, m.body), lenField(2, Buffer.from(m.contentType, 'latin1'))];
  // Empty trace fields are left out: a message without trace context is byte for byte what it was before.
  TRACE_HEADER_NAMES.forEach((name, i) => {
    if (m.trace[name] !== '') fields.push(lenField(TRACE_FIELD_BASE + i, Buffer.from(m.trace[name], 'latin1')));
  });
  return Buffer.concat(fields);
}

/** AppMessage fields 3, 4, 5: traceparent, tracestate, baggage. */
const TRACE_FIELD_BASE = 3;

export function encodeAppAnswer(a: AppAnswer): Buffer {
  return Buffer.concat([varintField(1, a.status), lenField(2, a.body), lenField(3, Buffer.from(a.contentType, 'latin1'))]);
}

export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function decodeAppMessage(bytes: Uint8Array, maxBodyBytes: number): Read<AppMessage> {
  let body: Buffer = Buffer.alloc(0);
  let contentType = '';
  const trace: Record<keyof TraceHeaders, string> = { ...NO_TRACE };
  const walked = walk(bytes, (field, wire, value) => {
    const traceName = TRACE_HEADER_NAMES[field - TRACE_FIELD_BASE];
    if (field === 1 && wire === WIRE_LEN) {
      if (value.length > maxBodyBytes) return `body: ${value.length} bytes, limit ${maxBodyBytes}`;
      body = Buffer.from(value);
    } else if (field === 2 && wire === WIRE_LEN) {
      const ct = checkContentType(value);
      if (!ct.ok) return `content_type: ${ct.reason}`;
      contentType = ct.value;
    } else if (traceName !== undefined && wire === WIRE_LEN) {
      const text = Buffer.from(value).toString('latin1');
      if (!validTraceHeader(traceName, text)) return `${traceName}: not a valid value of at most ${MAX_TRACE_HEADER_BYTES[traceName]} printable bytes`;
      trace[traceName] = text;
    }
    return null;
  });
  return walked === null ? { ok: true, value: { body, contentType, trace } } : { ok: false, reason: walked };
}

export function decodeAppAnswer(bytes: Uint8Array, maxBodyBytes: number): Read<AppAnswer> {
  let status = 0;
  let body: Buffer = Buffer.alloc(0);
  let contentType = '';
  const walked = walk(bytes, (field, wire, value, number) => {
    if (field === 1 && wire === WIRE_VARINT) status = number;
    else if (field === 2 && wire === WIRE_LEN) {
      if (value.length > maxBodyBytes) return `body: ${value.length} bytes, limit ${maxBodyBytes}`;
      body = Buffer.from(value);
    } else if (field === 3 && wire === WIRE_LEN) {
      const ct = checkContentType(value);
      if (!ct.ok) return `content_type: ${ct.reason}`;
      contentType = ct.value;
    }
    return null;
  });
  if (walked !== null) return { ok: false, reason: walked };
  if (!Number.isInteger(status) || status < 100 || status > 599) return { ok: false, reason: `status: ${status} is not an HTTP status` };
  return { ok: true, value: { status, body, contentType } };
}

/** Printable ASCII only: it becomes an HTTP header value. */
function checkContentType(value: Uint8Array): Read<string> {
  if (value.length > MAX_CONTENT_TYPE_BYTES) return { ok: false, reason: `${value.length} bytes, limit ${MAX_CONTENT_TYPE_BYTES}` };
  for (const b of value) if (b < 0x20 || b > 0x7e) return { ok: false, reason: 'not printable ASCII' };
  return { ok: true, value: Buffer.from(value).toString('latin1') };
}

/** Content types from HTTP, held to the same rule as on the wire. */
export function validContentType(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text) && text.length <= MAX_CONTENT_TYPE_BYTES;
}

type Visit = (field: number, wire: number, value: Uint8Array, number: number) => string | null;

/** Calls visit for every top-level varint or length-delimited field; a reason when the bytes are malformed or visit refuses. */
function walk(bytes: Uint8Array, visit: Visit): string | null {
  const current = newWireField();
  let pos = 0;
  while (pos < bytes.length) {
    const malformed = readField(bytes, pos, current);
    if (malformed !== null) return malformed;
    pos = current.next;
    if (current.wireType === WIRE_VARINT || current.wireType === WIRE_LEN) {
      const refused = visit(current.field, current.wireType, bytes.subarray(current.start, current.end), current.varint);
      if (refused !== null) return refused;
    }
  }
  return null;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

function varintField(field: number, n: number): Buffer {
  return n === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field * 8 + WIRE_VARINT), varint(n)]);
}

function lenField(field: number, value: Uint8Array): Buffer {
  return value.length === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field * 8 + WIRE_LEN), varint(value.length), value]);
}
