// The Apply payloads (proto AppMessage / AppAnswer) as the bytes of a google.protobuf.Any. Two tiny
// messages, so they are written and read here by hand: the reader walks the fields with explicit
// bounds and returns a reason instead of throwing, and unknown fields are skipped (added later).
import { MAX_TRACE_HEADER_BYTES, NO_TRACE, TRACE_HEADER_NAMES, validTraceHeader, type TraceHeaders } from './trace-context.js';
import type { AppAnswer, AppMessage } from './types.js';

export const APP_MESSAGE_TYPE_URL = 'type.googleapis.com/swimring.v1.AppMessage';
export const APP_ANSWER_TYPE_URL = 'type.googleapis.com/swimring.v1.AppAnswer';

/** Content types longer than this are refused: a header value, not a payload. */
export const MAX_CONTENT_TYPE_BYTES = 255;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

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

/**
 * Calls visit for every top-level field; a reason when the bytes are malformed or visit refuses.
 * Not shared with src/grpc/wire-scan.ts: a visitor there cost the gRPC guard 31-41% more instructions per scan (measured).
 */
function walk(bytes: Uint8Array, visit: Visit): string | null {
  let pos = 0;
  const empty = new Uint8Array(0);
  while (pos < bytes.length) {
    const tag = readVarint(bytes, pos);
    if (tag === null) return `bad field tag at byte ${pos}`;
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 0) return 'field number 0';
    let refused: string | null = null;
    switch (wire) {
      case WIRE_VARINT: {
        const v = readVarint(bytes, pos);
        if (v === null) return `field ${field}: bad varint`;
        pos = v.next;
        refused = visit(field, wire, empty, v.value);
        break;
      }
      case WIRE_LEN: {
        const len = readVarint(bytes, pos);
        if (len === null) return `field ${field}: bad length`;
        if (len.value > bytes.length - len.next) return `field ${field}: length ${len.value} runs past the end`;
        const value = bytes.subarray(len.next, len.next + len.value);
        pos = len.next + len.value;
        refused = visit(field, wire, value, 0);
        break;
      }
      case WIRE_FIXED64:
        pos += 8;
        break;
      case WIRE_FIXED32:
        pos += 4;
        break;
      default:
        return `field ${field}: unsupported wire type ${wire}`;
    }
    if (pos > bytes.length) return `field ${field}: truncated`;
    if (refused !== null) return refused;
  }
  return null;
}

function readVarint(bytes: Uint8Array, start: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = bytes[start + i];
    if (b === undefined) return null;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return { value, next: start + i + 1 };
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
