// Compact batch answers (POST /v1/route?format=compact, docs/http.md): the members are listed once, in
// "members", and each answer names its owner and replicas by their index there. A full answer repeats its
// owner and replicas with all their addresses (~440 bytes per key with two replicas); a compact one is its
// key, shard and three small numbers (~60 bytes), so a 10,000-key batch is ~7x fewer bytes to write, send
// and parse.
//
// Layout: {"version":V,"routes":[{"key":K,"shard":N,"owner":I,"replicas":[I,...]},...],"members":[M,...]}
// "members" is the table's member list in table order (so an answer's tail depends only on its shard and
// is encoded once per owner/replicas combination, as for full answers), then any claimant that is not in
// it. A claimed key's answer carries "claimed":true and its "fence", as in full answers.
import { jsonString, ownerJson } from '../runtime/route-json.js';
import type { RouteAnswer, RouteEncoder } from '../runtime/view.js';
import {
  ALLOCATE,
  KEY_OPEN,
  MAX_KEY_BYTES_PER_UNIT,
  SHARD_FIELD,
  closeBatch,
  openAnswer,
  openBatch,
  putAnswerHead,
  writeAnswers,
  type BatchBufferSource,
  type EncodedBatch,
} from './json-bytes.js';

/** Room one answer may take: separator, key, shard field and digits, and its tail. */
function answerRoom(key: string, tailRoom: number): number {
  return 1 + KEY_OPEN.length + 2 + MAX_KEY_BYTES_PER_UNIT * key.length + SHARD_FIELD.length + 10 + tailRoom;
}

/** The table's members' JSON, in table order, comma-separated. */
function tableMembersJson(encoder: RouteEncoder): string {
  let json = '';
  for (let m = 0; m < encoder.memberCount; m++) json += (m > 0 ? ',' : '') + encoder.memberJson(m);
  return json;
}

/**
 * The compact batch for `keys`, straight from the encoder (no answer objects): per key a lookup, the key,
 * the shard's digits and one copy of the shard's cached compact tail (RouteEncoder.writeCompactTail), by
 * the encoder's answer writer (wasm) where it has one (writeAnswerRun), here otherwise. The same JSON as
 * serializeCompactBatch over the encoder's RouteAnswers. The output buffer comes from `buffers`.
 */
export function serializeCompactEncodedBatch(encoder: RouteEncoder, keys: readonly string[], buffers: BatchBufferSource = ALLOCATE): EncodedBatch {
  const trailer = Buffer.from(`],"members":[${tableMembersJson(encoder)}]}`, 'utf8');
  const first = keys[0];
  const tailRoom = encoder.compactTailRoom;
  const firstRoom = first === undefined ? 0 : answerRoom(first, tailRoom);
  const cursor = openBatch(encoder.version, keys.length * firstRoom + trailer.length, buffers);
  writeAnswers(encoder, 'compact', keys, cursor, (key, i) => {
    const shard = encoder.shardOf(key);
    const at = openAnswer(cursor, i, answerRoom(key, tailRoom), buffers);
    cursor.at = encoder.writeCompactTail(shard, cursor.out, putAnswerHead(cursor.out, at, key, shard));
  });
  return closeBatch(cursor, trailer, buffers);
}

/**
 * The compact batch from answer objects: for claimed keys (whose owner is the claimant, not the ring's)
 * and views without an encoder. `tableMembers` (the encoder's members, when there is one) come first, in
 * their order; members the answers name besides are appended in order of first mention. Members are told
 * apart by their JSON: a claimant's record may be newer or older than the table's copy of the same member,
 * and each answer keeps what it said.
 */
export function serializeCompactBatch(version: string, answers: readonly RouteAnswer[], encoder?: RouteEncoder): Buffer {
  const slots = new Map<string, number>();
  const members: string[] = [];
  const slotOfJson = (json: string): number => {
    let slot = slots.get(json);
    if (slot === undefined) {
      slot = members.push(json) - 1;
      slots.set(json, slot);
    }
    return slot;
  };
  if (encoder !== undefined) for (let m = 0; m < encoder.memberCount; m++) slotOfJson(encoder.memberJson(m));
  const routes = answers.map((a) => {
    const owner = a.owner === null ? 'null' : String(slotOfJson(ownerJson(a.owner)));
    const replicas = a.replicas.map((r) => slotOfJson(ownerJson(r))).join(',');
    const claimed = a.claimed === true ? `,"claimed":true${a.fence === undefined ? '' : `,"fence":${JSON.stringify(a.fence)}`}` : '';
    return `{"key":${JSON.stringify(a.key)},"shard":${a.shard},"owner":${owner},"replicas":[${replicas}]${claimed}}`;
  });
  return Buffer.from(`{"version":${jsonString(version)},"routes":[${routes.join(',')}],"members":[${members.join(',')}]}`, 'utf8');
}
