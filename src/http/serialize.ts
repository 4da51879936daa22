// Route answers written as JSON by hand: the batch endpoint returns up to 10,000 of them per request,
// and generic serialization of the nested owner objects dominated its cost. The runtime's RouteEncoder
// hands over each answer's tail (owner, replicas, version) already encoded, so an answer costs its key,
// its shard number and one copy. Views without an encoder (tests, tools) go through RouteAnswer objects:
// owners are few and shared between answers, so the JSON after each answer's shard number is cached per
// (owner, replicas) combination.
import { jsonString, ownerJson } from '../runtime/route-json.js';
import type { RouteAnswer, RouteEncoder, RouteOwner } from '../runtime/view.js';
import {
  ALLOCATE,
  KEY_OPEN,
  MAX_KEY_BYTES_PER_UNIT,
  SHARD_FIELD,
  closeBatch,
  isPlainKey,
  openAnswer,
  openBatch,
  putAnswerHead,
  shardDigits,
  writeAnswers,
  type BatchBufferSource,
  type EncodedBatch,
} from './json-bytes.js';

export { jsonString };

const ownerJsons = new WeakMap<RouteOwner, string>();

function serializeOwner(owner: RouteOwner | null): string {
  if (owner === null) return 'null';
  let json = ownerJsons.get(owner);
  if (json === undefined) {
    json = ownerJson(owner);
    ownerJsons.set(owner, json);
  }
  return json;
}

function serializeReplicas(replicas: readonly RouteOwner[]): string {
  return `[${replicas.map(serializeOwner).join(',')}]`;
}

/** Remembers the JSON of the last version seen: it changes only when the table does. */
class VersionJson {
  private version = '';
  private json = '""';

  of(version: string): string {
    if (version !== this.version) {
      this.version = version;
      this.json = jsonString(version);
    }
    return this.json;
  }
}

const versions = new VersionJson();

/**
 * The JSON after an answer's shard number: owner, replicas, version and the closing brace, as text
 * (single answers) and bytes (batches). Found by the answer's replicas array (the runtime keeps one
 * per shard and table version); owner and version are checked too, so an array shared by several
 * shards stays correct. Arrays with the same content share one Tail: a cluster has few distinct
 * (owner, replicas) combinations but up to a million shards, so this keeps the cache small and its
 * bytes hot. (A trie keyed by the owner objects measured slower than this one WeakMap lookup.)
 */
interface Tail {
  readonly owner: RouteOwner | null;
  readonly version: string;
  readonly json: string;
  readonly bytes: Buffer;
}

const tails = new WeakMap<readonly RouteOwner[], Tail>();
/** Tails by their JSON, for the current version only (replaced when it changes, so it stays small). */
let tailsByJson = new Map<string, Tail>();
let tailsVersion = '';

function tailOf(a: RouteAnswer): Tail {
  const cached = tails.get(a.replicas);
  if (cached !== undefined && cached.owner === a.owner && cached.version === a.version) return cached;
  if (a.version !== tailsVersion) {
    tailsVersion = a.version;
    tailsByJson = new Map();
  }
  const json = `,"owner":${serializeOwner(a.owner)},"replicas":${serializeReplicas(a.replicas)},"version":${versions.of(a.version)}}`;
  let tail = tailsByJson.get(json);
  if (tail === undefined || tail.owner !== a.owner) {
    tail = { owner: a.owner, version: a.version, json, bytes: Buffer.from(json, 'utf8') };
    tailsByJson.set(json, tail);
  }
  tails.set(a.replicas, tail);
  return tail;
}

export function serializeRouteAnswer(a: RouteAnswer): string {
  return `{"key":${jsonString(a.key)},"shard":${a.shard}${tailOf(a).json}`;
}

const CLOSE = Buffer.from(']}');

/** Room one answer may need besides its key and tail: field names, punctuation, up to 10 digits. */
const FIXED_ANSWER_BYTES = KEY_OPEN.length + SHARD_FIELD.length + 10 + 1;

/** Room one answer may take in a batch: its separator, key, digits and tail, and the closing bytes. */
function answerRoom(key: string, tail: Uint8Array): number {
  return FIXED_ANSWER_BYTES + 2 + MAX_KEY_BYTES_PER_UNIT * key.length + tail.length + CLOSE.length;
}

/** One answer, {"key":…,"shard":N + tail, at `at`; returns the end. `out` must have answerRoom() left. */
function putAnswer(out: Buffer, at: number, key: string, shard: number, tail: Uint8Array): number {
  at = putAnswerHead(out, at, key, shard);
  out.set(tail, at);
  return at + tail.length;
}

/**
 * One answer as bytes, the same JSON as serializeRouteAnswer, for views without a RouteEncoder and for
 * claimed keys; the cached tail is copied as bytes into a buffer of the exact size.
 */
export function serializeRouteAnswerBytes(a: RouteAnswer): Buffer {
  const key = a.key;
  if (!isPlainKey(key)) return Buffer.from(serializeRouteAnswer(a), 'utf8');
  const tail = tailOf(a).bytes;
  const out = Buffer.allocUnsafe(KEY_OPEN.length + key.length + 2 + SHARD_FIELD.length + shardDigits(a.shard) + tail.length);
  putAnswer(out, 0, key, a.shard, tail);
  return out;
}

/**
 * {"version", "routes": [...]} as one Buffer, in one pass: the cached tails are copied as bytes, never
 * re-encoded, and the buffer grows (rarely: its first size is a fair estimate) when it runs short.
 * Same JSON, element by element, as serializeRouteAnswer.
 */
export function serializeRouteBatch(version: string, answers: readonly RouteAnswer[]): Buffer {
  const n = answers.length;
  const first = answers[0];
  const cursor = openBatch(version, CLOSE.length + (first === undefined ? 0 : n * answerRoom(first.key, tailOf(first).bytes)), ALLOCATE);
  for (let i = 0; i < n; i++) {
    const a = answers[i] as RouteAnswer;
    const tail = tailOf(a).bytes;
    const at = openAnswer(cursor, i, answerRoom(a.key, tail), ALLOCATE);
    cursor.at = putAnswer(cursor.out, at, a.key, a.shard, tail);
  }
  return closeBatch(cursor, CLOSE, ALLOCATE).body;
}

/**
 * {"version", "routes": [...]} for `keys`, straight from the encoder: per key a hash, a typed-array read,
 * the key's bytes, the shard's digits and one copy of the shard's encoded tail; no answer objects. The
 * encoder's answer writer (writeAnswerRun: wasm) writes what it can, this loop the rest. The same
 * JSON as serializeRouteBatch over encoder answers. The output buffer comes from `buffers`, so a batch
 * after the first writes into memory that is already mapped.
 */
export function serializeEncodedBatch(encoder: RouteEncoder, keys: readonly string[], buffers: BatchBufferSource = ALLOCATE): EncodedBatch {
  // The first answer sizes the buffer for all (answers of one table are about the same length).
  const first = keys[0];
  const firstRoom = first === undefined ? 0 : answerRoom(first, encoder.tailOf(first, encoder.shardOf(first)));
  const cursor = openBatch(encoder.version, CLOSE.length + keys.length * firstRoom, buffers);
  writeAnswers(encoder, 'full', keys, cursor, (key, i) => {
    const shard = encoder.shardOf(key);
    const tail = encoder.tailOf(key, shard);
    const at = openAnswer(cursor, i, answerRoom(key, tail), buffers);
    cursor.at = putAnswer(cursor.out, at, key, shard, tail);
  });
  return closeBatch(cursor, CLOSE, buffers);
}
