// Compact batch answers (POST /v1/route?format=compact, docs/http.md): each member the answers name is
// written once, in "members", and the answers refer to it by its index there. A full answer repeats its
// owner and replicas with all their addresses (~440 bytes per key with two replicas); a compact one is its
// key, shard and three small numbers (~60 bytes), so a 10,000-key batch is ~7x fewer bytes to write, send
// and parse.
//
// Layout: {"version":V,"routes":[{"key":K,"shard":N,"owner":I,"replicas":[I,...]},...],"members":[M,...]}
// "members" comes last because it is known only once every answer is written; the indexes number members
// in order of first mention (an answer's owner, then its replicas), so the same answers always give the
// same bytes. A claimed key's answer carries "claimed":true, as in full answers.
import { jsonString, ownerJson } from '../runtime/route-json.js';
import type { RouteAnswer, RouteEncoder, RouteOwner } from '../runtime/view.js';
import {
  ALLOCATE,
  KEY_OPEN,
  MAX_KEY_BYTES_PER_UNIT,
  SHARD_FIELD,
  put,
  putDigits,
  putKey,
  withRoom,
  type BatchBufferSource,
  type EncodedBatch,
} from './json-bytes.js';

const OWNER_FIELD = Buffer.from(',"owner":');
const NULL = Buffer.from('null');
const REPLICAS_FIELD = Buffer.from(',"replicas":[');
const ANSWER_END = Buffer.from(']}');
const MEMBERS_FIELD = Buffer.from('],"members":[');

/** Room one answer may take besides its key: separator, field names, punctuation and 10 digits per number. */
function answerRoom(key: string, replicas: number): number {
  const numbers = 1 + replicas;
  return 1 + KEY_OPEN.length + 2 + MAX_KEY_BYTES_PER_UNIT * key.length + SHARD_FIELD.length + 10 + OWNER_FIELD.length + REPLICAS_FIELD.length + ANSWER_END.length + numbers * 11;
}

/**
 * The compact batch for `keys`, straight from the encoder (no answer objects): the same JSON as
 * serializeCompactBatch over the encoder's RouteAnswers. The output buffer comes from `buffers`.
 */
export function serializeCompactEncodedBatch(encoder: RouteEncoder, keys: readonly string[], buffers: BatchBufferSource = ALLOCATE): EncodedBatch {
  const head = Buffer.from(`{"version":${jsonString(encoder.version)},"routes":[`, 'utf8');
  const width = encoder.replicaCount;
  // slotOf[m]: member m's index in "members", -1 until an answer names it; named: "members", in order.
  const slotOf = new Int32Array(encoder.memberCount).fill(-1);
  const named: number[] = [];
  const n = keys.length;
  const first = keys[0];
  let out = buffers.acquire(head.length + (first === undefined ? 0 : n * answerRoom(first, width)) + 256);
  let at = put(out, 0, head);
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string;
    const shard = encoder.shardOf(key);
    out = withRoom(out, at, answerRoom(key, width), buffers);
    if (i > 0) out[at++] = 0x2c; // ,
    at = put(out, at, KEY_OPEN);
    at = putKey(out, at, key);
    at = put(out, at, SHARD_FIELD);
    at = putDigits(out, at, shard);
    at = put(out, at, OWNER_FIELD);
    const owner = encoder.ownerAt(shard);
    if (owner < 0) {
      at = put(out, at, NULL);
    } else {
      let slot = slotOf[owner]!;
      if (slot < 0) slot = slotOf[owner] = named.push(owner) - 1;
      at = putDigits(out, at, slot);
    }
    at = put(out, at, REPLICAS_FIELD);
    // A table without an owner has no replicas either (its replicaCount is then 0).
    for (let r = 0; r < width && owner >= 0; r++) {
      const member = encoder.replicaAt(shard, r);
      let slot = slotOf[member]!;
      if (slot < 0) slot = slotOf[member] = named.push(member) - 1;
      if (r > 0) out[at++] = 0x2c;
      at = putDigits(out, at, slot);
    }
    at = put(out, at, ANSWER_END);
  }
  const members = Buffer.from(`${membersJson(encoder, named)}]}`, 'utf8');
  out = withRoom(out, at, MEMBERS_FIELD.length + members.length, buffers);
  at = put(out, at, MEMBERS_FIELD);
  out.set(members, at);
  at += members.length;
  return { body: out.subarray(0, at), backing: out };
}

/** The named members' JSON, comma-separated. A loop, not a closure: V8 dropped the whole writer's optimized code on every call when it ended in named.map(m => encoder.memberJson(m)). */
function membersJson(encoder: RouteEncoder, named: readonly number[]): string {
  let json = '';
  for (let i = 0; i < named.length; i++) json += (i > 0 ? ',' : '') + encoder.memberJson(named[i]!);
  return json;
}

/**
 * The compact batch from answer objects: for claimed keys (whose owner is the claimant, not the ring's)
 * and views without an encoder. Members are told apart by their JSON, not only their name: a claimant's
 * record may be newer or older than the ring's copy of the same member, and each answer keeps what it said.
 */
export function serializeCompactBatch(version: string, answers: readonly RouteAnswer[]): Buffer {
  const slots = new Map<string, number>();
  const members: string[] = [];
  const slotOf = (owner: RouteOwner): number => {
    const json = ownerJson(owner);
    let slot = slots.get(json);
    if (slot === undefined) {
      slot = members.push(json) - 1;
      slots.set(json, slot);
    }
    return slot;
  };
  const routes = answers.map((a) => {
    const owner = a.owner === null ? 'null' : String(slotOf(a.owner));
    const replicas = a.replicas.map(slotOf).join(',');
    const claimed = a.claimed === true ? ',"claimed":true' : '';
    return `{"key":${JSON.stringify(a.key)},"shard":${a.shard},"owner":${owner},"replicas":[${replicas}]${claimed}}`;
  });
  return Buffer.from(`{"version":${jsonString(version)},"routes":[${routes.join(',')}],"members":[${members.join(',')}]}`, 'utf8');
}
