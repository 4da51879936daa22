// Byte-level pieces of the hand-written route JSON (./serialize.ts, ./serialize-compact.ts): answers are
// written straight into one buffer per batch, and these are the few writes every answer is made of.
import { jsonString } from '../runtime/route-json.js';
import type { AnswerLayout, RouteEncoder } from '../runtime/view.js';

export const KEY_OPEN = Buffer.from('{"key":');
export const SHARD_FIELD = Buffer.from(',"shard":');
/** Worst case per UTF-16 unit of a key: an escape such as \u001f. */
export const MAX_KEY_BYTES_PER_UNIT = 6;

/** A batch answer: `body` is a view of `backing`, which goes back to its pool once the response is over. */
export interface EncodedBatch {
  readonly body: Buffer;
  readonly backing: Buffer;
}

/** Where batch answers are written: a BatchBufferPool, or plain allocation. */
export interface BatchBufferSource {
  acquire(bytes: number): Buffer;
  release(buffer: Buffer): void;
}

export const ALLOCATE: BatchBufferSource = { acquire: (bytes) => Buffer.allocUnsafe(bytes), release: () => {} };

/** Small constant pieces are copied byte by byte: cheaper than Buffer#copy's call overhead at this size. */
export function put(out: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i] as number;
  return at + bytes.length;
}

/** True when `key` is printable ASCII without quote or backslash: its JSON is its bytes in quotes. */
export function isPlainKey(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function digitCount(n: number): number {
  let digits = 1;
  for (let m = (n / 10) | 0; m > 0; m = (m / 10) | 0) digits++;
  return digits;
}

/** Decimal digits of a shard number: comparisons for the usual sizes, a count beyond. */
export function shardDigits(n: number): number {
  if (n < 100000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 1000000 ? 6 : digitCount(n);
}

/** Shard numbers are below 2^31, so 32-bit integer arithmetic is exact (and much cheaper than floats). */
export function putDigits(out: Buffer, at: number, n: number): number {
  const digits = shardDigits(n);
  for (let i = at + digits - 1; i >= at; i--) {
    const q = (n / 10) | 0;
    out[i] = 48 + n - q * 10;
    n = q;
  }
  return at + digits;
}

/**
 * Writes `key` as a JSON string. Printable ASCII without quote or backslash (nearly every key) goes
 * straight in; anything else takes JSON.stringify and a UTF-8 write.
 */
export function putKey(out: Buffer, at: number, key: string): number {
  const start = at;
  out[at++] = 0x22;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return start + out.write(JSON.stringify(key), start, 'utf8');
    out[at++] = c;
  }
  out[at++] = 0x22;
  return at;
}

/** The start every answer shares, {"key":…,"shard":N, at `at`; returns the end. */
export function putAnswerHead(out: Buffer, at: number, key: string, shard: number): number {
  at = put(out, at, KEY_OPEN);
  at = putKey(out, at, key);
  at = put(out, at, SHARD_FIELD);
  return putDigits(out, at, shard);
}

/** `out` with at least `need` bytes after `at`: itself, or a larger copy of its first `at` bytes. */
export function withRoom(out: Buffer, at: number, need: number, buffers: BatchBufferSource): Buffer {
  if (at + need <= out.length) return out;
  const grown = buffers.acquire(Math.max(out.length * 2, at + need));
  out.copy(grown, 0, 0, at);
  buffers.release(out);
  return grown;
}

/** Where a batch is being written: its buffer (replaced when it grows) and the next free byte. */
export interface BatchCursor {
  out: Buffer;
  at: number;
}

/**
 * Starts a batch answer, {"version":V,"routes":[, in a buffer from `buffers` with `room` bytes to spare
 * after it (the caller's estimate for the answers and the closing bytes).
 */
export function openBatch(version: string, room: number, buffers: BatchBufferSource): BatchCursor {
  const head = Buffer.from(`{"version":${jsonString(version)},"routes":[`, 'utf8');
  const cursor: BatchCursor = { out: buffers.acquire(head.length + room), at: 0 };
  cursor.at = put(cursor.out, 0, head);
  return cursor;
}

/**
 * Readies the cursor for answer `i` of at most `room` bytes (its comma included): grows cursor.out if
 * it is short and writes the comma before every answer but the first. Returns where the answer goes;
 * the caller writes it into cursor.out and moves cursor.at past it. Nothing is allocated unless the
 * buffer grows, so the per-answer loops stay allocation-free.
 */
export function openAnswer(cursor: BatchCursor, i: number, room: number, buffers: BatchBufferSource): number {
  const out = (cursor.out = withRoom(cursor.out, cursor.at, room, buffers));
  let at = cursor.at;
  if (i > 0) out[at++] = 0x2c; // ,
  return at;
}

/** Ends a batch with `trailer` (growing the buffer if it is short): the body, and the buffer to release. */
export function closeBatch(cursor: BatchCursor, trailer: Buffer, buffers: BatchBufferSource): EncodedBatch {
  const out = withRoom(cursor.out, cursor.at, trailer.length, buffers);
  out.set(trailer, cursor.at);
  return { body: out.subarray(0, cursor.at + trailer.length), backing: out };
}

/**
 * Writes the answers of `keys` in `layout` at the cursor, separated by commas: runs of the encoder's answer
 * writer (RouteEncoder.writeAnswerRun) where it has one, and `writeInJs` for each key it leaves (escapes,
 * tails not cached yet, a full buffer), or for every key without it. writeInJs(key, i) writes the comma
 * itself when i > 0 and moves the cursor.
 */
export function writeAnswers(encoder: RouteEncoder, layout: AnswerLayout, keys: readonly string[], cursor: BatchCursor, writeInJs: (key: string, i: number) => void): void {
  const n = keys.length;
  for (let i = 0; i < n; i++) {
    if (encoder.writeAnswerRun !== undefined) {
      i = encoder.writeAnswerRun(layout, keys, i, cursor.out, cursor.at);
      cursor.at = encoder.runEnd ?? cursor.at;
      if (i >= n) break;
    }
    writeInJs(keys[i] as string, i);
  }
}
